"""The commitment's two-column table: responsible body, problem, solution, expected result.

What belongs here: the table between a commitment's title and its first activity
(``docs/report-format.md``, part 5). Each row is a label (``Organisme responsable de
la mise en œuvre``, ``Problématique``, ``Solution proposée``, ``Résultat attendu``)
and its cell; the PDF's text puts the label beside the middle of its cell, splits it
over two lines, or leaves it in the middle of a tab-separated fragment. A field whose
label is lost is null with a finding: its text is never given to another field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.findings import record_key
from pipeline.parse.lines import FIELD_LABEL_CHOICES, ITEM_END, Context, add_to_items, folding_to, is_bullet, is_residue
from pipeline.parse.vocabulary import FIELD_LABEL_TAIL, FIELD_LABELS, FIELD_NAMES_FR
from pipeline.text import clean_text, fold, has_markup_chars, strip_markup

#: Tab-separated fragments of a line where a label may stand (it is in the first column,
#: or just after one or two cells the PDF put before it).
LABEL_FRAGMENTS = 3
#: Longest line that can be a label's second line (« de la mise en œuvre », with stray markup
#: or tabs around it): longer lines are not cleaned and folded to be compared with it.
MAX_LABEL_TAIL_CHARS = 4 * len(FIELD_LABEL_TAIL)
#: A word of :data:`FIELD_LABEL_TAIL` as the text may write it before folding.
_TAIL_HINT_RE = re.compile(folding_to("mise"))
#: Fragments a label leaves behind when it stands alone in its cell.
_EMPTY_FRAGMENTS = (",", ", ,")


@dataclass
class _Cells:
    """The table's lines: labelled ones (anchors) and the unlabelled lines between them."""

    anchors: list[tuple[int, str]] = field(default_factory=list)  # (line, field)
    texts: dict[int, str] = field(default_factory=dict)  # line -> its text without the label
    content: list[int] = field(default_factory=list)  # lines with no label


def parse_fields(ctx: Context, commitment_no: int, start: int, stop: int) -> dict[str, str | None]:
    """Read the labelled cells (responsible body, problem, solution, expected result).

    Labels stand beside the middle of their cell, so the unlabelled lines between two
    labels are split between them, at the item boundary nearest the midpoint.
    """
    cells = _collect_cells(ctx, start, stop)
    key = record_key(commitment_no=commitment_no)
    values: dict[str, list[int]] = {name: [] for name in FIELD_LABELS}
    if not cells.anchors:
        if cells.content:
            ctx.add(
                "warning",
                "field_labels_missing",
                f"engagement {commitment_no} : aucune rubrique (Problématique, Solution proposée…) "
                "n'a d'étiquette lisible ; leur texte n'est pas attribué",
                "commitments",
                key,
                cells.content[0],
            )
    else:
        _assign_lines(ctx, commitment_no, cells, values, stop)
    out: dict[str, str | None] = {}
    for name, line_nos in values.items():
        items = _join_cell_items(ctx, cells.texts, sorted(line_nos))
        out[name] = "\n".join(items) if items else None
    _report_missing_labels(ctx, commitment_no, {name for _, name in cells.anchors}, start)
    if out["responsible_body"] is not None:
        out["responsible_body"] = out["responsible_body"].replace("\n", " ")
    return out


def _join_cell_items(ctx: Context, texts: dict[int, str], line_nos: list[int]) -> list[str]:
    """:func:`~pipeline.parse.lines.join_items` of a cell's texts, those that are whole lines
    cleaned and checked from the report's line facts."""
    items: list[str] = []
    lines = ctx.lines
    for i in line_nos:
        raw = texts[i]
        whole = raw is lines[i]
        text = ctx.clean_at(i) if whole else clean_text(raw)
        if text and not (ctx.residue_at(i) if whole else is_residue(raw)):
            add_to_items(items, raw, text)
    return items


def _collect_cells(ctx: Context, start: int, stop: int) -> _Cells:
    """Find the labels of the lines ``[start, stop)`` and the text beside them."""
    cells = _Cells()
    stripped = ctx.facts.stripped
    for i in range(start, stop):
        if not stripped[i] or ctx.residue_at(i):
            continue
        raw = ctx.lines[i]
        label, rest = _split_label(ctx, raw)
        if label is None:
            if not _is_label_tail(raw):
                cells.content.append(i)
                cells.texts[i] = raw
            continue
        rest_text = "\t".join(f for f in rest if not _is_label_tail(f) and not _is_empty_fragment(f))
        if cells.anchors and cells.anchors[-1][1] == label:
            # The label repeated (a table split by a page break): its text continues the cell.
            if rest_text.strip():
                cells.content.append(i)
                cells.texts[i] = rest_text
            continue
        cells.anchors.append((i, label))
        if rest_text.strip():
            cells.texts[i] = rest_text
    return cells


def _is_empty_fragment(text: str) -> bool:
    """Whether ``text`` is what a label alone in its cell leaves behind (:data:`_EMPTY_FRAGMENTS`):
    cleaning and folding add no comma, so a text without one is not."""
    return "," in text and fold(clean_text(text)) in _EMPTY_FRAGMENTS


def _is_label_tail(text: str) -> bool:
    """Whether ``text`` is the second line of a label split over two (« de la mise en œuvre »)."""
    if len(text) > MAX_LABEL_TAIL_CHARS:
        return False
    if not _TAIL_HINT_RE.search(text) and not has_markup_chars(text):
        return False  # cleaning and folding keep the letters in their order: « mise » is not there
    return fold(clean_text(text)) == FIELD_LABEL_TAIL


def _split_label(ctx: Context, raw: str) -> tuple[str | None, list[str]]:
    """The label among a line's first fragments, and the other fragments; ``(None, [])`` if none."""
    frags = raw.split("\t")
    for idx, frag in enumerate(frags[:LABEL_FRAGMENTS]):
        found = ctx.label_of(frag, FIELD_LABEL_CHOICES)
        if found:
            return found, frags[:idx] + frags[idx + 1 :]
    return None, []


def _assign_lines(ctx: Context, commitment_no: int, cells: _Cells, values: dict[str, list[int]], stop: int) -> None:
    """Give each unlabelled line to the label above or below it (see :func:`parse_fields`)."""
    anchors, texts, content = cells.anchors, cells.texts, cells.content
    for line, name in anchors:
        if line in texts:
            values[name].append(line)
    before = [i for i in content if i < anchors[0][0]]
    if before:
        _assign_lines_above_first_label(ctx, commitment_no, anchors, before, values)
    for (a_line, a_name), (b_line, b_name) in zip(anchors, anchors[1:] + [(stop, None)]):
        between = [i for i in content if a_line < i < b_line]
        if not between:
            continue
        if b_name is None:
            values[a_name].extend(between)
            continue
        if a_name == "responsible_body" or _starts_cell(texts.get(b_line, ""), [texts[i] for i in between]):
            values[b_name if a_name == "responsible_body" else a_name].extend(between)
            continue
        cut = _split_point([texts[i] for i in between])
        values[a_name].extend(between[:cut])
        values[b_name].extend(between[cut:])


def _assign_lines_above_first_label(
    ctx: Context, commitment_no: int, anchors: list[tuple[int, str]], before: list[int], values: dict[str, list[int]]
) -> None:
    """Text above the first label is its cell's top, unless a field before that label is lost."""
    first_name = anchors[0][1]
    order = list(FIELD_LABELS)
    found = {name for _, name in anchors}
    lost = [n for n in order[1 : order.index(first_name)] if n not in found]
    if first_name != "responsible_body" and not lost:
        values[first_name].extend(before)
        return
    # Text above the first label whose own label is lost: it may be the lost field's or the
    # first label's; saying which would be a guess.
    lost_names = ", ".join(f"« {FIELD_NAMES_FR[n]} »" for n in lost) or "aucune"
    ctx.add(
        "warning",
        "field_text_unlabelled",
        f"engagement {commitment_no} : lignes {before[0] + 1}-{before[-1] + 1} "
        f"sans étiquette avant « {FIELD_NAMES_FR[first_name]} » "
        f"(rubrique perdue : {lost_names}) ; texte non attribué",
        "commitments",
        record_key(commitment_no=commitment_no),
        before[0],
    )


def _report_missing_labels(ctx: Context, commitment_no: int, found: set[str], start: int) -> None:
    key = record_key(commitment_no=commitment_no)
    for name in FIELD_LABELS:
        if name in found:
            continue
        if name == "responsible_body":
            ctx.add(
                "warning",
                "responsible_body_missing",
                f"engagement {commitment_no} : pas d'organisme responsable dans le rapport",
                "commitments",
                key,
                start,
            )
        else:
            ctx.add(
                "warning",
                "field_label_missing",
                f"engagement {commitment_no} : rubrique « {FIELD_NAMES_FR[name]} » introuvable",
                "commitments",
                key,
                start,
            )


def _starts_cell(label_text: str, between: list[str]) -> bool:
    """Whether a label's own text opens its cell (then the lines above it are the previous cell's).

    A capitalised sentence beside the label, with no list item in the lines above,
    is the top of a cell whose label the PDF placed on its first line.
    """
    text = strip_markup(label_text).strip()
    if not text or is_bullet(text) or not text[:1].isupper():
        return False
    return not any(is_bullet(t) for t in between)


def _split_point(texts: list[str]) -> int:
    """Where to cut lines lying between two labels: the item start nearest the middle."""
    n = len(texts)
    candidates = {0, n}
    for k in range(1, n):
        prev = strip_markup(texts[k - 1]).strip()
        if is_bullet(texts[k]) or prev.endswith(ITEM_END):
            candidates.add(k)
    return min(candidates, key=lambda c: (abs(c - n / 2), -c))
