"""A commitment's activities: their headings, status checklists and narratives.

What belongs here: ``Activité K : title`` (its title wrapping onto the next line), the
four-line status checklist with its check mark (or the status given in words on one
line, ``Statut : Progression limitée``, as other exports write it), and the ``Actions
réalisées`` narrative before or after the checklist (``docs/report-format.md``, part 5).
A status the text does not give beyond doubt is ``unknown`` with a finding; a
narrative the PDF interleaved is rebuilt by :mod:`pipeline.parse.cells` where the text
proves its order.
"""

from __future__ import annotations

import re

from pipeline.findings import record_key
from pipeline.parse.cells import repair_cell
from pipeline.parse.layout import quote_lines
from pipeline.parse.lines import (
    ACTIONS_CHOICES,
    ITEM_END,
    MAX_LABEL_FRAGMENT_CHARS,
    MAX_STATUS_LINE_CHARS,
    STATUS_WORDS,
    Context,
    is_bullet,
    is_long_text,
    is_residue,
    join_items,
    status_of_phrase,
)
from pipeline.parse.vocabulary import (
    ACTIONS_INLINE_RE,
    CHECK_MARK_RE,
    FOLDED_STATUS_LINES,
    STATUS_IN_WORDS_RE,
)
from pipeline.text import clean_text, fold, strip_list_marker, strip_markup
from schemas import STATUS_BANDS

#: Blank lines between an activity heading and the rest of its wrapped title.
MAX_BLANKS_IN_TITLE = 3
#: Characters of a damaged line quoted in a finding.
QUOTED_CHARS = 60
#: Words of a status line kept to classify it (a one-line status is a few words).
MAX_STATUS_PHRASE_CHARS = 70
#: « Statut : 0% »: the not-started band, which the checklist never prints.
_NOT_STARTED_BAND_RE = re.compile(r"^\(?\s*0\s*%\s*\)?$")

Head = tuple[int, int, str]  # (line, activity number, title)


def parse_activities(ctx: Context, commitment_no: int, heads: list[Head], stop: int) -> list[dict]:
    """Rows of the activities table for one commitment.

    Args:
        heads: (line index, activity number, title) of each ``Activité K`` heading.
        stop: the line where the last activity's region ends.
    """
    regions = [
        (line, number, title, heads[k + 1][0] if k + 1 < len(heads) else stop)
        for k, (line, number, title) in enumerate(heads)
    ]
    rows = []
    seen: set[int] = set()
    for line, number, title, end in _drop_duplicated_headings(ctx, commitment_no, regions):
        if number in seen:
            key = record_key(commitment_no=commitment_no, activity_no=number)
            ctx.add(
                "error",
                "activity_number_duplicated",
                f"engagement {commitment_no} : deux activités portent le numéro {number}",
                "activities",
                key,
                line,
            )
        seen.add(number)
        rows.append(_read_activity(ctx, commitment_no, number, line, title, end))
    return rows


def _drop_duplicated_headings(
    ctx: Context, commitment_no: int, regions: list[tuple[int, int, str, int]]
) -> list[tuple[int, int, str, int]]:
    """Regions without the first copies of a repeated heading that have no status of their own."""
    kept = []
    next_same = _next_same_number_line(regions)
    for k, (line, number, title, end) in enumerate(regions):
        if next_same[k] is not None and not _has_status(ctx, line + 1, end):
            ctx.add(
                "warning",
                "activity_heading_duplicated",
                f"engagement {commitment_no} : l'en-tête « Activité {number} » est répété (ligne {next_same[k] + 1}) ; "
                "la première occurrence, sans liste de statuts, est ignorée",
                "activities",
                record_key(commitment_no=commitment_no, activity_no=number),
                line,
            )
            continue
        kept.append((line, number, title, end))
    return kept


def _has_status(ctx: Context, start: int, stop: int) -> bool:
    """Whether a line of ``[start, stop)`` gives a status: a checklist line or a one-line status."""
    kinds, stripped = ctx.kinds, ctx.facts.stripped
    return any(kinds[j] == STATUS_WORDS or ctx.status_at(j)[2] for j in range(start, stop) if stripped[j])


def _next_same_number_line(regions: list[tuple[int, int, str, int]]) -> list[int | None]:
    """For each activity region, the line of the next region with its number, or None (one backward pass)."""
    next_line: dict[int, int] = {}
    out: list[int | None] = [None] * len(regions)
    for k in range(len(regions) - 1, -1, -1):
        line, number = regions[k][0], regions[k][1]
        out[k] = next_line.get(number)
        next_line[number] = line
    return out


def _read_activity(ctx: Context, commitment_no: int, number: int, line: int, title: str, end: int) -> dict:
    """One activity's row: its title, status and narrative."""
    title, body_start = _complete_title(ctx, line, title, end)
    status_lines: list[tuple[int, str | None, bool]] = []
    word_lines: list[tuple[int, str | None]] = []
    action_lines: list[tuple[int, str, str]] = []  # (line, text without labels, that text cleaned)
    lines, kinds, facts = ctx.lines, ctx.kinds, ctx.facts
    stripped, unusual = facts.stripped, facts.unusual
    for j in range(body_start, end):
        if not stripped[j]:
            continue
        raw = lines[j]
        if kinds[j] == STATUS_WORDS:
            word_lines.append((j, status_in_words(raw)))
            continue
        if len(stripped[j]) <= MAX_STATUS_LINE_CHARS or j in unusual:  # else too long (Context.status_at)
            status, checked, is_status = ctx.status_of_text(raw)
            if is_status:
                status_lines.append((j, status, checked))
                continue
        text = _action_text(ctx, raw)
        if text is not None:
            action_lines.append((j, text, ctx.clean_at(j) if text is raw else ctx.clean(text)))
    status = decide_status(ctx, commitment_no, number, line, status_lines, word_lines)
    band_min, band_max = STATUS_BANDS[status]
    actions = _read_actions(ctx, commitment_no, number, action_lines)
    return {
        "commitment_no": commitment_no,
        "activity_no": number,
        "title": clean_text(title),
        "status": status,
        "band_min_pct": band_min,
        "band_max_pct": band_max,
        "is_status_checked": status != "unknown",
        "actions_text": "\n".join(actions) or None,
        "source_line": line + 1,
    }


def _complete_title(ctx: Context, line: int, title: str, end: int) -> tuple[str, int]:
    """The title with its lowercase continuation line, and where the activity's body starts."""
    nxt = ctx.next_nonempty(line + 1, end, max_blank=MAX_BLANKS_IN_TITLE)
    if nxt is None:
        return title, line + 1
    raw = ctx.lines[nxt]
    cont = clean_text(raw)
    if not cont[:1].islower() or ctx.kinds[nxt] == STATUS_WORDS or ctx.status_of(nxt)[2]:
        return title, line + 1
    if ctx.label_of(raw.split("\t")[0], ACTIONS_CHOICES):
        return title, line + 1
    return f"{title} {cont}", nxt + 1


def _action_text(ctx: Context, raw: str) -> str | None:
    """A narrative line without its ``Actions réalisées`` labels (alone in a cell, or before the
    cell's text, or inline), or None when nothing is left."""
    if "\t" in raw:
        frags = []
        for f in raw.split("\t"):
            if not f or f.isspace():
                frags.append(f)  # an empty cell: no label, nothing to strip
            elif len(f) > MAX_LABEL_FRAGMENT_CHARS or not ctx.label_of(f, ACTIONS_CHOICES):
                frags.append(_strip_actions_label(ctx, f))
        if not any(f.strip() for f in frags):
            return None
        text = "\t".join(frags)
    elif len(raw) <= MAX_LABEL_FRAGMENT_CHARS and ctx.label_of(raw, ACTIONS_CHOICES):
        return None
    else:
        text = _strip_actions_label(ctx, raw)
        if not text.strip():
            return None
    return ACTIONS_INLINE_RE.sub(" ", text) if "ctions r" in text else text


def _strip_actions_label(ctx: Context, fragment: str) -> str:
    """Remove an ``Actions réalisées`` label that shares its cell with text."""
    text = fragment.strip()
    second = text.find(" ", text.find(" ") + 1)  # the space after the first two words, or -1
    if second >= 0 and ctx.label_of(text[:second], ACTIONS_CHOICES):
        return text[second + 1 :]
    return fragment


def _read_actions(
    ctx: Context, commitment_no: int, activity_no: int, action_lines: list[tuple[int, str, str]]
) -> list[str]:
    """The narrative's items; fragments the PDF interleaved are put back in order where the text proves it."""
    raws = [raw for _, raw, _ in action_lines]
    texts = [text for _, _, text in action_lines]
    repair = repair_cell(texts) if len(texts) > 1 else None
    if repair is None:
        return _join_action_items(ctx, action_lines)
    key = record_key(commitment_no=commitment_no, activity_no=activity_no)
    where = f"engagement {commitment_no}, activité {activity_no}"
    lines = [action_lines[i][0] for i in repair.moved]
    if not repair.proven:
        ctx.add(
            "warning",
            "actions_text_order_unproven",
            f"{where} : le texte des actions réalisées semble entrelacé (lignes {quote_lines(lines)}) "
            "mais son ordre n'est pas établi ; gardé tel quel",
            "activities",
            key,
            lines[0] if lines else action_lines[0][0],
        )
        return join_items(raws, texts)
    repeated = " ; ".join(f"« {r[:QUOTED_CHARS]} »" for r in repair.repeats) or "aucune"
    ctx.add(
        "info",
        "actions_text_reordered",
        f"{where} : texte des actions réalisées entrelacé par l'extraction (lignes {quote_lines(lines)}) ; "
        f"ordre de lecture rétabli, répétition retirée : {repeated}",
        "activities",
        key,
        lines[0],
    )
    return join_items(repair.texts)


def _join_action_items(ctx: Context, action_lines: list[tuple[int, str, str]]) -> list[str]:
    """:func:`~pipeline.parse.lines.join_items` of the narrative's lines, a line kept whole
    read from the report's line facts."""
    items: list[str] = []
    lines, stripped, unusual = ctx.lines, ctx.facts.stripped, ctx.facts.unusual
    for j, raw, text in action_lines:
        if not text:
            continue
        if raw is not lines[j]:
            if is_residue(raw):
                continue
        elif (j in unusual or not is_long_text(stripped[j])) and is_residue(raw):
            continue  # (a plain line of long text is no residue: Context.residue_at)
        if not items or is_bullet(raw) or items[-1].endswith(ITEM_END):
            items.append(text)
        else:
            items[-1] = f"{items[-1]} {text}"
    return items


# --- the status ------------------------------------------------------------------------------------


def status_in_words(raw: str) -> str | None:
    """The status a one-line status gives (« Statut : Progression limitée », « Statut : 60-90% »), or None."""
    m = STATUS_IN_WORDS_RE.match(strip_markup(raw))
    if not m:
        return None
    folded = fold(strip_list_marker(CHECK_MARK_RE.sub("", m.group("phrase"))))
    if not folded or len(folded) > MAX_STATUS_PHRASE_CHARS:
        return None
    if _NOT_STARTED_BAND_RE.match(folded):
        return "not_started"
    return status_of_phrase(folded)


def decide_status(
    ctx: Context,
    commitment_no: int,
    activity_no: int,
    line: int,
    status_lines: list[tuple[int, str | None, bool]],
    word_lines: list[tuple[int, str | None]] = (),
) -> str:
    """The activity's status from its checklist lines ``(line, status, checked)`` and its
    one-line statuses ``(line, status)``; ``unknown`` with a finding when they do not say it."""
    key = record_key(commitment_no=commitment_no, activity_no=activity_no)
    where = f"engagement {commitment_no}, activité {activity_no}"
    if word_lines:
        ctx.status_word_lines.extend(j for j, _ in word_lines)
        if not status_lines:
            return _status_from_words(ctx, where, key, word_lines)
        status_lines = sorted(status_lines + [(j, s, True) for j, s in word_lines])
    for j, status, _checked in status_lines:
        if status is None:
            ctx.add(
                "warning",
                "status_line_unrecognised",
                f"{where} : ligne de statut illisible « {clean_text(ctx.lines[j])[:QUOTED_CHARS]} »",
                "activities",
                key,
                j,
            )
    if not status_lines:
        ctx.add(
            "warning",
            "checklist_missing",
            f"{where} : aucune ligne de statut ; statut inconnu",
            "activities",
            key,
            line,
        )
        return "unknown"
    recognised = {s for _, s, _ in status_lines if s}
    missing = [s for s in FOLDED_STATUS_LINES if s not in recognised]
    if missing:
        ctx.add(
            "info",
            "checklist_incomplete",
            f"{where} : lignes de statut absentes ou illisibles : {', '.join(missing)}",
            "activities",
            key,
            status_lines[0][0],
        )
    return _checked_status(ctx, where, key, status_lines)


def _checked_status(ctx: Context, where: str, key: str, status_lines: list[tuple[int, str | None, bool]]) -> str:
    """The one status checked, or ``unknown`` with a finding (none, several, or unreadable)."""
    checked = [(j, s) for j, s, c in status_lines if c]
    checked_statuses = {s for _, s in checked}
    if not checked:
        ctx.add(
            "warning",
            "check_mark_missing",
            f"{where} : aucune case cochée (coche perdue) ; statut inconnu",
            "activities",
            key,
            status_lines[0][0],
        )
        return "unknown"
    if len(checked_statuses) > 1:
        names = ", ".join(sorted(s or "illisible" for s in checked_statuses))
        ctx.add(
            "warning",
            "multiple_check_marks",
            f"{where} : plusieurs cases cochées ({names}) ; statut inconnu",
            "activities",
            key,
            checked[1][0],
        )
        return "unknown"
    (only,) = checked_statuses
    if only is None:
        ctx.add(
            "warning",
            "checked_status_unreadable",
            f"{where} : la ligne cochée est illisible ; statut inconnu",
            "activities",
            key,
            checked[0][0],
        )
        return "unknown"
    return only


def _status_from_words(ctx: Context, where: str, key: str, word_lines: list[tuple[int, str | None]]) -> str:
    """The status given in words on one line, or ``unknown`` with a finding (unreadable, or two that differ)."""
    statuses = {s for _, s in word_lines}
    if None in statuses:
        j = next(j for j, s in word_lines if s is None)
        ctx.add(
            "warning",
            "checked_status_unreadable",
            f"{where} : statut en une ligne illisible « {clean_text(ctx.lines[j])[:QUOTED_CHARS]} » ; statut inconnu",
            "activities",
            key,
            j,
        )
        return "unknown"
    if len(statuses) > 1:
        names = ", ".join(sorted(statuses))
        ctx.add(
            "warning",
            "multiple_check_marks",
            f"{where} : plusieurs statuts donnés en une ligne ({names}) ; statut inconnu",
            "activities",
            key,
            word_lines[1][0],
        )
        return "unknown"
    return statuses.pop()


def report_status_words(ctx: Context) -> None:
    """One finding naming the activities whose status is given in words on one line."""
    found = ctx.status_word_lines
    if found:
        ctx.add(
            "info",
            "status_stated_in_words",
            f"{len(found)} statut(s) donné(s) en une ligne (« Statut : … ») au lieu de la liste à cocher "
            f"(lignes {quote_lines(found)}) : lus comme tels",
            "activities",
            None,
            found[0],
        )
