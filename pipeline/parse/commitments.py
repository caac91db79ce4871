"""The commitment sections: their headings, titles and what each section holds.

What belongs here: part 5 of the template (``docs/report-format.md``): the heading
``ENGAGEMENT N : TITLE`` (and the forms other exports write, with a finding), the
title's continuation lines, and the division of a section into its two-column table
(:mod:`pipeline.parse.fields`), its activities (:mod:`pipeline.parse.activities`) and
its indicators (:mod:`pipeline.parse.indicators`).
"""

from __future__ import annotations

import bisect

from pipeline.findings import record_key
from pipeline.parse.activities import parse_activities
from pipeline.parse.fields import parse_fields
from pipeline.parse.front_matter import Heading, classify_headings
from pipeline.parse.indicators import parse_indicators
from pipeline.parse.layout import quote_lines
from pipeline.parse.lines import ACTIVITY, COMMITMENT, INDICATORS, Context
from pipeline.parse.vocabulary import (
    ACTIVITY_HEADING_RE,
    COMMITMENT_HEADING_RE,
    INDICATORS_HEADING_RE,
    TEMPLATE_ACTIVITY_RE,
    TEMPLATE_COMMITMENT_RE,
)
from pipeline.text import (
    clean_text,
    collapse_spaces,
    fold,
    has_markup,
    join_fragments,
    strip_markup,
    strip_markup_keep_tabs,
    uppercase_ratio,
)

#: Lines after the heading that may continue a commitment's title.
MAX_TITLE_CONTINUATION_LINES = 4
#: Blank lines between a title's lines (a page break inside a wrapped title leaves three).
MAX_BLANKS_IN_TITLE = 3
#: Share of uppercase letters a line needs to continue a title: titles are in capitals, the
#: table's text below them is not.
MIN_TITLE_UPPERCASE = 0.85
#: Letters a title's continuation line needs at least (a lone « - » or digit is residue).
MIN_TITLE_LETTERS = 2


def find_body_headings(ctx: Context) -> tuple[list[Heading], list[Heading]]:
    """The table of contents' entries and the body's commitment headings (titles completed)."""
    candidates = []
    for i in ctx.positions(COMMITMENT):
        m = COMMITMENT_HEADING_RE.match(strip_markup(ctx.lines[i]))
        if m:
            candidates.append(Heading(int(m.group(1)), i, m.group(2), i))
    toc, body = classify_headings(ctx, candidates)
    for k, h in enumerate(body):
        stop = body[k + 1].line if k + 1 < len(body) else len(ctx.lines)
        extend_title(ctx, h, stop)
        note_heading_form(ctx, "commitment", h.line)
    return toc, body


def extend_title(ctx: Context, h: Heading, stop: int) -> None:
    """Join the uppercase lines that continue a commitment heading's title."""
    lines = ctx.lines
    parts = [clean_text(h.title)]
    j = h.line + 1
    for _ in range(MAX_TITLE_CONTINUATION_LINES):
        nxt = ctx.next_nonempty(j, stop, max_blank=MAX_BLANKS_IN_TITLE)
        if nxt is None:
            break
        text = clean_text(lines[nxt])
        if "\t" in lines[nxt].strip() or ctx.is_structure(nxt) or len(text) < MIN_TITLE_LETTERS:
            break
        if uppercase_ratio(text) < MIN_TITLE_UPPERCASE or sum(c.isalpha() for c in text) < MIN_TITLE_LETTERS:
            break
        parts.append(text)
        h.end_title = nxt
        j = nxt + 1
    h.title = collapse_spaces(" ".join(p for p in parts if p))


def note_heading_form(ctx: Context, kind: str, line: int) -> None:
    """Remember a body heading written otherwise than the template (« Engagement 3 - »)."""
    text = strip_markup(ctx.lines[line])
    template = TEMPLATE_COMMITMENT_RE if kind == "commitment" else TEMPLATE_ACTIVITY_RE
    if template.match(text):
        return
    pattern = COMMITMENT_HEADING_RE if kind == "commitment" else ACTIVITY_HEADING_RE
    m = pattern.match(text)
    form = collapse_spaces("".join("N" if c.isdigit() else c for c in text[: m.start(2)])) if m else text.strip()
    ctx.heading_forms.setdefault((kind, form), []).append(line)


def report_heading_forms(ctx: Context) -> None:
    """One finding per heading form read that the template does not use, naming its lines."""
    expected = {"commitment": "ENGAGEMENT N :", "activity": "Activité K :"}
    names = {"commitment": "d'engagement", "activity": "d'activité"}
    tables = {"commitment": "commitments", "activity": "activities"}
    for (kind, form), found in sorted(ctx.heading_forms.items(), key=lambda item: item[1][0]):
        ctx.add(
            "info",
            "heading_form_variant",
            f"{len(found)} en-tête(s) {names[kind]} écrit(s) « {form} » au lieu de « {expected[kind]} » "
            f"(lignes {quote_lines(found)}) : lus comme tels",
            tables[kind],
            None,
            found[0],
        )


def read_commitment(ctx: Context, h: Heading, stop: int) -> tuple[dict, list[dict], list[dict]]:
    """One commitment's row, its activities' rows and its indicators' rows."""
    key = record_key(commitment_no=h.number)
    if has_markup(ctx.lines[h.line]):
        ctx.add(
            "info",
            "stray_markup",
            f"balisage parasite retiré de l'en-tête de l'engagement {h.number}",
            "commitments",
            key,
            h.line,
        )
    act_heads, ind_line = _divide_section(ctx, h, stop)
    header_stop = min([a[0] for a in act_heads] + ([ind_line] if ind_line is not None else []) + [stop])
    fields = parse_fields(ctx, h.number, h.end_title + 1, header_stop)
    act_stop = ind_line if ind_line is not None and (not act_heads or ind_line > act_heads[-1][0]) else stop
    activities = parse_activities(ctx, h.number, act_heads, act_stop)
    if not activities:
        ctx.add(
            "warning",
            "commitment_without_activities",
            f"engagement {h.number} : aucune activité",
            "commitments",
            key,
            h.line,
        )
    indicators = parse_indicators(ctx, h.number, ind_line + 1, stop) if ind_line is not None else []
    stripped = ctx.facts.stripped
    last = next((j for j in range(stop - 1, h.line - 1, -1) if stripped[j]), h.line)  # the last non-blank line
    row = {
        "commitment_no": h.number,
        "title": h.title,
        "axis_no": None,
        **fields,
        "source_line_start": h.line + 1,
        "source_line_end": last + 1,
    }
    return row, activities, indicators


def _divide_section(ctx: Context, h: Heading, stop: int) -> tuple[list[tuple[int, int, str]], int | None]:
    """The section's activity headings ``(line, number, title)`` and its first indicators heading."""
    key = record_key(commitment_no=h.number)
    act_heads: list[tuple[int, int, str]] = []
    ind_line = None
    for j in _lines_of(ctx, (ACTIVITY, INDICATORS), h.end_title + 1, stop):
        kind = ctx.kinds[j]
        raw = ctx.lines[j]
        if kind == ACTIVITY:
            m = ACTIVITY_HEADING_RE.match(strip_markup_keep_tabs(raw))
            if m:
                act_heads.append((j, int(m.group(1)), join_fragments(strip_markup_keep_tabs(m.group(2)).split("\t"))))
                note_heading_form(ctx, "activity", j)
                continue
        if kind != INDICATORS:
            continue  # an activity heading the strict pattern does not read: text
        m = INDICATORS_HEADING_RE.match(fold(strip_markup(raw)))
        if not m:
            continue
        if ind_line is not None:
            ctx.add(
                "warning",
                "indicator_heading_duplicated",
                f"engagement {h.number} : second titre d'indicateurs",
                "indicators",
                key,
                j,
            )
            continue
        ind_line = j
        if m.group(1) and int(m.group(1)) != h.number:
            ctx.add(
                "warning",
                "indicator_heading_mismatch",
                f"les indicateurs de l'engagement {h.number} sont titrés « engagement {m.group(1)} »",
                "indicators",
                key,
                j,
            )
        if has_markup(raw):
            ctx.add(
                "info",
                "stray_markup",
                f"balisage parasite retiré du titre des indicateurs de l'engagement {h.number}",
                "indicators",
                key,
                j,
            )
    return act_heads, ind_line


def _lines_of(ctx: Context, kinds: tuple[str, ...], start: int, stop: int) -> list[int]:
    """The lines of the given kinds in ``[start, stop)``, in order (found by bisection in each kind's list)."""
    found = []
    for kind in kinds:
        positions = ctx.positions(kind)
        found.extend(positions[bisect.bisect_left(positions, start) : bisect.bisect_left(positions, stop)])
    return sorted(found)
