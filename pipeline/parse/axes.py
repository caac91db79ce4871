"""The axes section: the plan's axes and the commitments listed under each.

What belongs here: part 3 of the template (``docs/report-format.md``): under « Plan
d'action national 2021 - 2023 », each axis name followed by a bulleted list of its
commitments' titles, and the matching of those titles with the commitment headings
(titles differ slightly: accents, wording), which gives each commitment its axis.
"""

from __future__ import annotations

import re

from pipeline.findings import record_key
from pipeline.parse.front_matter import has_page_number
from pipeline.parse.lines import BULLET_START_RE, Context, is_residue, jaccard, title_tokens
from pipeline.text import clean_text, fold

#: The section's heading, folded: « Plan d'action national », its period optional.
AXES_HEADING_RE = re.compile(r"^plan d.action national\s*(?:\d{4}\s*[-–—]\s*\d{4}\s*)?$")
#: Blank lines between an axis name and its first bulleted title.
MAX_BLANKS_BEFORE_ITEMS = 5
#: Longest axis name: a longer line above a list is a paragraph.
MAX_AXIS_NAME_CHARS = 120
#: Title similarity (shared significant words, 0-1) below which a listed title matches no
#: heading: the seed's rewordings score 0.5 or more, two different commitments 0.3 or less.
MIN_TITLE_MATCH = 0.45
#: Characters of a listed title quoted in a finding.
QUOTED_CHARS = 70


def parse_axes(ctx: Context, stop: int) -> list[dict]:
    """Axis names and their bulleted commitment titles, from the plan's presentation."""
    lines = ctx.lines
    start = None
    for i in range(stop):
        if has_page_number(lines[i]):
            continue
        if AXES_HEADING_RE.match(fold(clean_text(lines[i]))):
            start = i + 1
            break
    if start is None:
        ctx.add(
            "info", "axes_section_missing", "pas de section des axes du plan : les engagements n'ont pas d'axe", "axes"
        )
        return []
    axes = _read_axes(ctx, start, stop)
    if not axes:
        ctx.add(
            "warning",
            "axes_section_unreadable",
            "la section des axes du plan ne contient aucun axe lisible",
            "axes",
            None,
            start - 1,
        )
    return axes


def _read_axes(ctx: Context, start: int, stop: int) -> list[dict]:
    """Each axis ``{"line", "name", "items": [[line, title], …]}`` from ``start`` until the list ends."""
    lines = ctx.lines
    axes: list[dict] = []
    for i in range(start, stop):
        raw = lines[i]
        if not raw.strip() or is_residue(raw):
            continue
        if BULLET_START_RE.match(raw.strip()):
            if axes:
                axes[-1]["items"].append([i, clean_text(raw)])
            continue
        text = clean_text(raw)
        nxt = ctx.next_nonempty(i + 1, stop, max_blank=MAX_BLANKS_BEFORE_ITEMS)
        if axes and axes[-1]["items"] and text[:1].islower():
            axes[-1]["items"][-1][1] += " " + text
        elif nxt is not None and BULLET_START_RE.match(lines[nxt].strip()) and len(text) <= MAX_AXIS_NAME_CHARS:
            axes.append({"line": i, "name": text, "items": []})
        elif axes:
            break
    return axes


def assign_axes(ctx: Context, axes: list[dict], commitments: list[dict]) -> None:
    """Set each commitment's axis_no by matching the axes' bulleted titles to headings, best pairs first."""
    if not axes:
        return
    pairs = []
    heading_tokens = [(c["commitment_no"], title_tokens(c["title"])) for c in commitments]
    for a_no, axis in enumerate(axes, start=1):
        for item_line, item in axis["items"]:
            item_tokens = title_tokens(item)
            for c_no, tokens in heading_tokens:
                pairs.append((jaccard(item_tokens, tokens), a_no, item_line, item, c_no))
    pairs.sort(key=lambda p: (-p[0], p[2], p[4]))
    used_items, used_commitments = set(), set()
    by_no = {c["commitment_no"]: c for c in commitments}
    for score, a_no, item_line, _item, c_no in pairs:
        if score < MIN_TITLE_MATCH or item_line in used_items or c_no in used_commitments:
            continue
        by_no[c_no]["axis_no"] = a_no
        used_items.add(item_line)
        used_commitments.add(c_no)
    for axis in axes:
        for item_line, item in axis["items"]:
            if item_line not in used_items:
                ctx.add(
                    "warning",
                    "axis_item_unmatched",
                    f"l'intitulé « {item[:QUOTED_CHARS]} » de l'axe « {axis['name']} » "
                    "ne correspond à aucun engagement du rapport",
                    "axes",
                    None,
                    item_line,
                )
    for c in commitments:
        if c["commitment_no"] not in used_commitments:
            key = record_key(commitment_no=c["commitment_no"])
            ctx.add(
                "warning",
                "commitment_without_axis",
                f"engagement {c['commitment_no']} : absent des listes des axes ; axe inconnu",
                "commitments",
                key,
                c["source_line_start"] - 1,
            )
