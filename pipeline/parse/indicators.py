"""A commitment's indicators: ``- label : value`` lines under ``Indicateurs relatifs à l'engagement N :``.

What belongs here: the indicator list closing a commitment's section
(``docs/report-format.md``, part 5): one item per bullet, a value wrapping onto the
next line, the value's number and unit, and the indicator's kind from its label
(``Nombre`` a count, ``Taux`` or ``Pourcentage`` a rate). The report is not consistent
(counts in %, rates without): that is validation's concern, not corrected here.
"""

from __future__ import annotations

import re

from pipeline.findings import record_key
from pipeline.parse.lines import BULLET_START_RE, Context, is_residue
from pipeline.text import clean_text, fold, strip_markup

#: In the pattern an optional part takes its trailing spaces inside it, so that no two « \s* »
#: share a run of spaces (quadratic, or worse, on a long line).
NUMBER_RE = re.compile(r"^\s*(?:[~≈]\s*)?(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?\s*(?:%\s*)?(?:[.;]\s*)?$")
#: Longest text after an indicator's last colon that is its value: longer, the colon is the label's.
MAX_VALUE_CHARS = 40
#: Characters of a label quoted in a finding.
QUOTED_CHARS = 60


def parse_indicator_value(raw: str | None) -> tuple[float | None, str | None]:
    """``"1 428 574"`` -> ``(1428574.0, None)``; ``"60%"`` -> ``(60.0, "percent")``; text -> ``(None, …)``."""
    if raw is None:
        return None, None
    unit = "percent" if "%" in raw else None
    m = NUMBER_RE.match(raw)
    if not m:
        return None, unit
    whole = re.sub(r"\D", "", m.group(1))
    value = float(f"{whole}.{m.group(2)}" if m.group(2) else whole)
    return value, unit


def indicator_kind(label: str) -> str:
    """``count`` (« Nombre … »), ``rate`` (« Taux … », « Pourcentage … ») or ``other``."""
    folded = fold(label)
    if folded.startswith("nombre"):
        return "count"
    if folded.startswith(("taux", "pourcentage")):
        return "rate"
    return "other"


def parse_indicators(ctx: Context, commitment_no: int, start: int, stop: int) -> list[dict]:
    """Rows of the indicators table for one commitment, from the lines ``[start, stop)``."""
    rows = []
    for no, (j, text) in enumerate(_items(ctx, start, stop), start=1):
        label, raw_value = split_indicator(text)
        key = record_key(commitment_no=commitment_no, indicator_no=no)
        if not raw_value:
            ctx.add(
                "warning",
                "indicator_value_missing",
                f"engagement {commitment_no} : l'indicateur « {label[:QUOTED_CHARS]} » n'a pas de valeur",
                "indicators",
                key,
                j,
            )
            raw_value = None
        value, unit = parse_indicator_value(raw_value)
        if raw_value is not None and value is None:
            ctx.add(
                "info",
                "indicator_value_not_numeric",
                f"engagement {commitment_no} : valeur non numérique « {raw_value} »",
                "indicators",
                key,
                j,
            )
        rows.append(
            {
                "commitment_no": commitment_no,
                "indicator_no": no,
                "label": label,
                "raw_value": raw_value,
                "value": value,
                "unit": unit,
                "kind": indicator_kind(label),
                "source_line": j + 1,
            }
        )
    return rows


def _items(ctx: Context, start: int, stop: int) -> list[list]:
    """``[first line, text]`` of each indicator: a bullet starts one, a line continues it
    unless the item already has its value and the line starts a new sentence."""
    items: list[list] = []
    for j in range(start, stop):
        raw = ctx.lines[j]
        awaiting_value = bool(items) and not split_indicator(items[-1][1])[1]
        if not raw.strip() or (is_residue(raw) and not awaiting_value):
            continue
        text = clean_text(raw)
        if not text:
            continue
        is_bullet = bool(BULLET_START_RE.match(strip_markup(raw).strip()))
        current_done = bool(items) and split_indicator(items[-1][1])[1] not in (None, "")
        if is_bullet or not items or (current_done and text[:1].isupper()):
            items.append([j, text])
        else:
            items[-1][1] = f"{items[-1][1]} {text}"
    return items


def split_indicator(text: str) -> tuple[str, str | None]:
    """``"Nombre de jeux : 12"`` -> ``("Nombre de jeux", "12")``; no colon -> ``(text, None)``."""
    if ":" not in text:
        return text.strip(), None
    label, _, value = text.rpartition(":")
    if len(value.strip()) > MAX_VALUE_CHARS:
        return text.strip(), None
    return label.strip(" .:"), value.strip()
