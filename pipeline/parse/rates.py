"""The published figures: the plan's global rate, the per-axis rates, the per-commitment table.

What belongs here: part 4 of the template (``docs/report-format.md``): the sentence
« Le taux d'avancement global … est de 82% », the chart « Taux d'avancement par axe »
(whose figures may not survive the PDF's extraction: a finding says so), and the table
``Numéro de l'engagement / Titre de l'engagement / Taux de réalisation``, split by page
breaks (the header row repeats), titles wrapping over rows, a rate sometimes missing.
"""

from __future__ import annotations

import re

from pipeline.findings import record_key
from pipeline.parse.lines import Context, jaccard, title_tokens
from pipeline.parse.vocabulary import COMMITMENT_HEADING_RE
from pipeline.text import clean_text, fold, join_fragments

_GLOBAL_RATE_RE = re.compile(
    r"taux d.avancement global.*?(?:est|etait|s.eleve a|atteint)\s*(?:de\s*)?(\d{1,3}(?:[.,]\d+)?)\s*%"
)
RATE_CELL_RE = re.compile(r"^\s*(\d{1,3}(?:[.,]\d+)?)\s*(?:%\s*)?$")
#: « Transparence : 75 % »: the label is every non-digit before the figure (its separator
#: is stripped after), not a lazy group beside optional spaces, which backtracks cubically.
AXIS_RATE_RE = re.compile(r"^(\D{3,})(\d{1,3}(?:[.,]\d+)?)\s*%\s*$")
_TABLE_NUMBER_RE = re.compile(r"\d{1,3}")
_DIGIT_RE = re.compile(r"\d")

#: The per-axis chart's heading, folded.
AXIS_RATES_HEADING = "taux d'avancement par axe"
#: Longest line that can be that heading (with stray markup around it): longer lines are not folded.
MAX_HEADING_LINE_CHARS = 3 * len(AXIS_RATES_HEADING)
#: Lines below « Taux d'avancement par axe » where its figures may stand.
AXIS_RATES_REACH = 40
#: Share of significant words an axis rate's label must share with an axis name.
MIN_AXIS_MATCH = 0.5
#: Cells of a table row with its rate (number, title, rate); a row with fewer has no rate.
ROW_CELLS = 3
#: Longest line that can end the rate table (a section title such as « Bilan des réalisations »).
MAX_TABLE_END_CHARS = 60
#: Characters of a line quoted in a finding.
QUOTED_CHARS = 70


def parse_published_rates(ctx: Context, stop: int, axes: list[dict]) -> tuple[list[dict], dict[int, str]]:
    """The global rate sentence, the per-axis figures (if any) and the per-commitment table.

    Returns the published_rates rows and the titles printed in the rate table by number.
    """
    rows = _global_rate(ctx, stop)
    for i in range(stop):
        line = ctx.lines[i]
        if len(line) <= MAX_HEADING_LINE_CHARS and fold(clean_text(line)) == AXIS_RATES_HEADING:
            rows.extend(_axis_rates(ctx, i, stop, axes))
            break
    table_rows, titles = _rate_table(ctx, stop)
    return rows + table_rows, titles


def _global_rate(ctx: Context, stop: int) -> list[dict]:
    for i in range(stop):
        if "lobal" not in ctx.lines[i]:
            continue
        m = _GLOBAL_RATE_RE.search(fold(ctx.lines[i]))
        if m:
            return [
                {"scope": "plan", "scope_no": 0, "rate_pct": float(m.group(1).replace(",", ".")), "source_line": i + 1}
            ]
    ctx.add(
        "warning",
        "published_plan_rate_missing",
        "le taux d'avancement global publié est introuvable",
        "published_rates",
    )
    return []


def _axis_rates(ctx: Context, heading: int, stop: int, axes: list[dict]) -> list[dict]:
    """Rates printed under « Taux d'avancement par axe », matched to the axes by name.

    In the seed the chart's figures did not survive the PDF's extraction: a finding
    says so. A figure whose label matches no axis is reported, never dropped quietly.
    """
    rows, figures = [], 0
    names = [(n, title_tokens(a["name"])) for n, a in enumerate(axes, start=1)]
    for j in range(heading + 1, min(stop, heading + AXIS_RATES_REACH)):
        text = clean_text(ctx.lines[j])
        folded = fold(text)
        if folded.startswith("taux d'avancement par engagement") or "numero de l'engagement" in folded:
            break
        m = AXIS_RATE_RE.match(text)
        if not m:
            continue
        figures += 1
        label, rate = m.group(1).strip(" :\t-"), float(m.group(2).replace(",", "."))
        scores = sorted(((jaccard(title_tokens(label), tokens), n) for n, tokens in names), reverse=True)
        if not scores or scores[0][0] < MIN_AXIS_MATCH or (len(scores) > 1 and scores[1][0] == scores[0][0]):
            ctx.add(
                "warning",
                "axis_rate_unmatched",
                f"le taux « {text[:QUOTED_CHARS]} » ne correspond à aucun axe",
                "published_rates",
                None,
                j,
            )
            continue
        rows.append({"scope": "axis", "scope_no": scores[0][1], "rate_pct": rate, "source_line": j + 1})
    if not figures:
        ctx.add(
            "warning",
            "published_axis_rates_missing",
            "les taux par axe annoncés (graphique) n'ont pas survécu à l'extraction du texte",
            "published_rates",
            None,
            heading,
        )
    return rows


def _rate_table(ctx: Context, stop: int) -> tuple[list[dict], dict[int, str]]:
    """The rows of the per-commitment rate table and the titles it prints, by number."""
    rows: list[dict] = []
    titles: dict[int, str] = {}
    seen: dict[int, int] = {}
    in_table = False
    for i in range(stop):
        raw = ctx.lines[i]
        if "\t" in raw and _is_table_header(raw):
            in_table = True
            continue
        if not in_table or not raw.strip():
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if not _TABLE_NUMBER_RE.fullmatch(cells[0]):
            in_table = not _ends_table(raw, cells)
            continue
        number = int(cells[0])
        titles[number] = join_fragments(cells[1:-1] if len(cells) >= ROW_CELLS else cells[1:])
        row = _rate_row(ctx, number, cells, i, seen)
        if row is not None:
            rows.append(row)
    return rows, titles


def _is_table_header(raw: str) -> bool:
    """Whether a line is the table's header row (« Numéro de l'engagement <TAB> … »)."""
    folded = fold(raw)
    return "numero de l" in folded and "engagement" in folded


def _ends_table(raw: str, cells: list[str]) -> bool:
    """Whether a line that is no row closes the table: a short title line (« Bilan … », a heading)."""
    if len(cells) != 1 or _DIGIT_RE.search(raw) or len(raw.strip()) >= MAX_TABLE_END_CHARS or raw.startswith(" "):
        return False
    return "bilan" in fold(raw) or bool(COMMITMENT_HEADING_RE.match(raw))


def _rate_row(ctx: Context, number: int, cells: list[str], i: int, seen: dict[int, int]) -> dict | None:
    """The published_rates row of one table row, or None (a repeated number, no rate) with a finding."""
    key = record_key(scope="commitment", scope_no=number)
    if number in seen:
        ctx.add(
            "warning",
            "published_rate_duplicated",
            f"engagement {number} figure deux fois dans le tableau des taux (lignes {seen[number] + 1} et {i + 1})",
            "published_rates",
            key,
            i,
        )
        return None
    seen[number] = i
    m = RATE_CELL_RE.match(cells[-1] if len(cells) >= ROW_CELLS else "")
    if not m:
        ctx.add(
            "warning",
            "published_rate_missing",
            f"engagement {number} : taux de réalisation absent du tableau",
            "published_rates",
            key,
            i,
        )
        return None
    return {
        "scope": "commitment",
        "scope_no": number,
        "rate_pct": float(m.group(1).replace(",", ".")),
        "source_line": i + 1,
    }
