"""Parsing one report's text into the curated tables: text in, DataFrames out.

This module knows the report template (``shared/docs/report-format.md``): the table
of contents, the axes section, the published rates, and one section per commitment
with its two-column table, activities, status checklists and indicators. It reads no
file and keeps no state; :mod:`pipeline.ingest` does the I/O.

Where the source lost information, the row says ``unknown`` or null and a
:class:`~pipeline.findings.Finding` says why: the parser never guesses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from pipeline.findings import Finding, findings_frame, record_key
from pipeline.text import (
    BIDI_CONTROL_RE,
    CHECK_MARK_RE,
    UNCHECKED_BOX_RE,
    clean_text,
    collapse_spaces,
    describe_code_points,
    fold,
    has_markup,
    join_fragments,
    remove_invisible,
    similarity,
    split_lines,
    strip_list_marker,
    strip_markup,
    strip_markup_keep_tabs,
    uppercase_ratio,
)
from schemas import STATUS_BANDS, arrow_schema

# --- line patterns -------------------------------------------------------------------

#: The title is « (?:.*\S)? » rather than a lazy « .*? » before « \s*$ », which is quadratic
#: in a run of spaces or tabs (seconds for a line of 20,000 tabs).
_COMMITMENT_RE = re.compile(r"^\s*(?:[EÉ]|[Ee])?(?i:ngagement)\s*(\d{1,3})\s*:\s*((?:.*\S)?)\s*$")
#: « Activité K » also when decoding replaced its « é », a lone Windows-1252 byte, by U+FFFD.
_ACTIVITY_RE = re.compile(r"^\s*(?:[-•]\s*)?(?i:activit[ée\ufffd]s?)\s*(\d{1,3})\s*[:.]\s*((?:.*\S)?)\s*$")
_INDICATORS_RE = re.compile(r"^\s*(?:[-•]\s*)?indicateurs?\s+relatifs?\s+(?:a|au)\s+l.?\s*engagement\s*(\d{1,3})?\s*:?")
#: Page numbers, rules (« ----- »), running headers, stray « /> »; written so that no
#: quantifier can give back what another takes (« [-\s]*-{3,}[-\s]* » took minutes on a
#: line of 2,000 dashes).
_RESIDUE_RE = re.compile(r"^\s*+(?:(?:\d{1,4}|[A-Z][A-Z ]{4,40}[A-Z]|/>)\s*|(?=[-\s]*-{3})[-\s]+)$")
#: Digits a table-of-contents page number has at most.
_PAGE_NUMBER_DIGITS = 4
_BULLET_START_RE = re.compile(r"^\s*(?:[-–—•●○◦▪▫■►➢→*·]|[\uf000-\uf8ff])")
#: In the patterns below an optional part takes its trailing spaces inside it, so that no
#: two « \s* » share a run of spaces (quadratic, or worse, on a long line).
_NUMBER_RE = re.compile(r"^\s*(?:[~≈]\s*)?(\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](\d+))?\s*(?:%\s*)?(?:[.;]\s*)?$")
_RATE_CELL_RE = re.compile(r"^\s*(\d{1,3}(?:[.,]\d+)?)\s*(?:%\s*)?$")
#: « Transparence : 75 % »: the label is every non-digit before the figure (its separator
#: is stripped after), not a lazy group beside optional spaces, which backtracks cubically.
_AXIS_RATE_RE = re.compile(r"^(\D{3,})(\d{1,3}(?:[.,]\d+)?)\s*%\s*$")
_GLOBAL_RATE_RE = re.compile(r"taux d.avancement global.*?(?:est|etait|s.eleve a|atteint)\s*(?:de\s*)?(\d{1,3}(?:[.,]\d+)?)\s*%")
_PERIOD_RE = re.compile(r"plan d.action national[^0-9]{0,40}?(\d{4})\s*[-–—]\s*(\d{4})")
_ANY_PERIOD_RE = re.compile(r"(\d{4})\s*[-–—]\s*(\d{4})")
_MONTHS = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip
_MONTH_YEAR_RE = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{4})\b")
_AS_OF_RE = re.compile(r"(?:jusqu.?\s*a|a|au|fin)\s+(?:la\s+)?fin\s+(?:du\s+mois\s+)?(?:de\s+|d.)?(" + "|".join(_MONTHS) + r")\s+(\d{4})")
_AXES_HEADING_RE = re.compile(r"^plan d.action national\s*(?:\d{4}\s*[-–—]\s*\d{4}\s*)?$")

#: Canonical checklist lines, folded, and the status each one stands for.
_STATUS_LABELS = {
    "not_started": "non entamee",
    "limited": "progression limitee (1-59%)",
    "substantial": "progression significative (60-90%)",
    "complete": "completee (90-100%)",
}
_STATUS_KEYWORDS = [("entam", "not_started"), ("limit", "limited"), ("signific", "substantial"), ("complet", "complete")]
_STATUS_BANDS_RE = [
    (re.compile(r"\b90\D{0,3}100"), "complete"),
    (re.compile(r"\b60\D{0,3}90\b"), "substantial"),
    (re.compile(r"\b1\D{0,3}59\b"), "limited"),
]
_GARBLED_STATUS_RE = re.compile(r"\(\s*\d[\d\s]*(?:[-–]\s*\d+)?\s*[%°9]?")

#: Labels of the commitment's two-column table, folded.
_FIELD_LABELS = {
    "responsible_body": ["organisme responsable de la mise en oeuvre", "organisme responsable"],
    "problem": ["problematique"],
    "solution": ["solution proposee"],
    "expected_result": ["resultat attendu"],
}
_FIELD_NAMES_FR = {
    "responsible_body": "Organisme responsable de la mise en œuvre",
    "problem": "Problématique",
    "solution": "Solution proposée",
    "expected_result": "Résultat attendu",
}
_LABEL_TAIL = "de la mise en oeuvre"
_ACTIONS_LABELS = ["actions realisees"]
_ACTIONS_INLINE_RE = re.compile(r"\bActions r[ée]alis[ée]es\b")


@dataclass
class _Heading:
    number: int
    line: int  # 0-based index of the heading line
    title: str
    end_title: int  # 0-based index of the last line of the title
    is_toc: bool = False


@dataclass
class _Context:
    report_id: str
    lines: list[str]
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, code: str, message: str, table: str | None = None, key: str | None = None, line: int | None = None) -> None:
        self.findings.append(Finding(severity, code, message, table, key, None if line is None else line + 1))


# --- small helpers -------------------------------------------------------------------


def _next_nonempty(lines: list[str], start: int, stop: int, max_blank: int = 4) -> int | None:
    blanks = 0
    for j in range(start, min(stop, len(lines))):
        if lines[j].strip():
            return j
        blanks += 1
        if blanks > max_blank:
            return None
    return None


def _page_number_start(line: str) -> int | None:
    """Where the page number that ends a table-of-contents line starts: the first tab of the
    whitespace before 1-4 final digits; None when the line does not end so.

    Scanned from the end, so that a line of thousands of tabs costs no more than its length.
    """
    body = line.rstrip()
    if not body[-1:].isdecimal():
        return None
    start = len(body)
    while start > 0 and len(body) - start <= _PAGE_NUMBER_DIGITS and body[start - 1].isdecimal():
        start -= 1
    if not 1 <= len(body) - start <= _PAGE_NUMBER_DIGITS:
        return None
    before = body[:start]
    tab = before.find("\t", len(before.rstrip()))
    return None if tab < 0 else tab


def _has_page_number(line: str) -> bool:
    return _page_number_start(line) is not None


def _is_residue(line: str) -> bool:
    """Page numbers, rules, running headers, lines that are only stray markup."""
    stripped = strip_markup(line).strip()
    return not stripped or bool(_RESIDUE_RE.match(stripped))


def _token_set(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 2}


def _jaccard(ta: set[str], tb: set[str]) -> float:
    """Similarity of two titles' significant words."""
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _label_of(fragment: str, labels: dict[str, list[str]], threshold: float = 0.75) -> str | None:
    """The field whose label ``fragment`` is (OCR damage tolerated), or None."""
    if len(fragment) > 80 or not fragment.strip():
        return None
    return _label_of_folded(re.sub(r"[^a-z ]", "", fold(strip_markup(fragment))).strip(), tuple((k, tuple(v)) for k, v in labels.items()), threshold)


@functools.lru_cache(maxsize=4096)
def _label_of_folded(folded: str, labels: tuple, threshold: float) -> str | None:
    if not folded or len(folded) > 48:
        return None
    for name, variants in labels:
        for variant in variants:
            if folded == variant or similarity(folded, variant, threshold) >= threshold:
                return name
    return None


# --- commitments: headings and sections ----------------------------------------------


def _find_headings(lines: list[str]) -> list[_Heading]:
    headings = []
    for i, raw in enumerate(lines):
        if "ngagement" not in raw.lower():
            continue
        m = _COMMITMENT_RE.match(strip_markup(raw))
        if not m:
            continue
        headings.append(_Heading(int(m.group(1)), i, m.group(2), i))
    return headings


def _is_structure(line: str) -> bool:
    stripped = strip_markup(line)
    return bool(
        _COMMITMENT_RE.match(stripped)
        or _ACTIVITY_RE.match(stripped)
        or _INDICATORS_RE.match(fold(stripped))
        or any(_label_of(frag, _FIELD_LABELS) for frag in line.split("\t")[:2])
    )


def _classify_headings(lines: list[str], candidates: list[_Heading]) -> tuple[list[_Heading], list[_Heading]]:
    """Split heading candidates into table-of-contents entries and body headings.

    A table-of-contents entry ends, on its line or the next non-empty one, with a tab
    and a page number; an entry with no page number is one whose number comes back
    later with no structure (activity, label) between it and the next candidate.
    """
    toc, body = [], []
    comes_back = _number_comes_back(candidates)
    for k, h in enumerate(candidates):
        raw = lines[h.line]
        stop = candidates[k + 1].line if k + 1 < len(candidates) else len(lines)
        title_parts = [raw]
        end = h.line
        if not _has_page_number(raw):
            j = _next_nonempty(lines, h.line + 1, stop, max_blank=1)
            if j is not None and _has_page_number(lines[j]) and not _is_structure(lines[j]):
                title_parts.append(lines[j])
                end = j
        if _has_page_number(lines[end]):
            text = "\t".join(title_parts)
            text = text[: _page_number_start(text)]
            h.title = join_fragments(strip_markup_keep_tabs(text[text.find(":") + 1 :]).split("\t"))
            h.end_title, h.is_toc = end, True
            toc.append(h)
            continue
        if comes_back[k] and not any(_is_structure(lines[j]) for j in range(h.line + 1, stop) if lines[j].strip()):
            h.is_toc = True
            toc.append(h)
            continue
        _extend_title(lines, h, stop)
        body.append(h)
    return toc, body


def _number_comes_back(candidates: list[_Heading]) -> list[bool]:
    """For each candidate, whether a later candidate has its number (one backward pass)."""
    later: set[int] = set()
    out = [False] * len(candidates)
    for k in range(len(candidates) - 1, -1, -1):
        out[k] = candidates[k].number in later
        later.add(candidates[k].number)
    return out


def _extend_title(lines: list[str], h: _Heading, stop: int) -> None:
    """Join the uppercase lines that continue a commitment heading's title."""
    parts = [clean_text(h.title)]
    j = h.line + 1
    for _ in range(4):
        nxt = _next_nonempty(lines, j, stop, max_blank=3)
        if nxt is None:
            break
        text = clean_text(lines[nxt])
        if "\t" in lines[nxt].strip() or _is_structure(lines[nxt]) or len(text) < 2:
            break
        if uppercase_ratio(text) < 0.85 or sum(c.isalpha() for c in text) < 2:
            break
        parts.append(text)
        h.end_title = nxt
        j = nxt + 1
    h.title = collapse_spaces(" ".join(p for p in parts if p))


# --- the commitment's two-column table -------------------------------------------------


def _parse_fields(ctx: _Context, commitment_no: int, start: int, stop: int) -> dict[str, str | None]:
    """Read the labelled cells (responsible body, problem, solution, expected result).

    Labels stand beside the middle of their cell, so the unlabelled lines between two
    labels are split between them, at the item boundary nearest the midpoint.
    """
    anchors: list[tuple[int, str]] = []  # (line, field)
    texts: dict[int, str] = {}
    content: list[int] = []
    for i in range(start, stop):
        raw = ctx.lines[i]
        if not raw.strip() or _is_residue(raw):
            continue
        frags = raw.split("\t")
        label, rest = None, []
        for idx, frag in enumerate(frags):
            found = _label_of(frag, _FIELD_LABELS) if label is None and idx < 3 else None
            if found:
                label = found
                rest = frags[:idx] + frags[idx + 1 :]
                break
        if label is None:
            if fold(clean_text(raw)) == _LABEL_TAIL:
                continue
            content.append(i)
            texts[i] = raw
            continue
        rest_text = "\t".join(f for f in rest if fold(clean_text(f)) != _LABEL_TAIL and fold(clean_text(f)) not in (",", ", ,"))
        if anchors and anchors[-1][1] == label:
            if rest_text.strip():
                content.append(i)
                texts[i] = rest_text
            continue
        anchors.append((i, label))
        if rest_text.strip():
            texts[i] = rest_text

    key = record_key(commitment_no=commitment_no)
    values: dict[str, list[int]] = {name: [] for name in _FIELD_LABELS}
    if not anchors:
        if content:
            ctx.add("warning", "field_labels_missing", f"engagement {commitment_no} : aucune rubrique (Problématique, Solution proposée…) n'a d'étiquette lisible ; leur texte n'est pas attribué", "commitments", key, content[0])
    else:
        for line, name in anchors:
            if line in texts:
                values[name].append(line)
        before = [i for i in content if i < anchors[0][0]]
        if before:
            first_name = anchors[0][1]
            order = list(_FIELD_LABELS)
            lost = [n for n in order[1 : order.index(first_name)] if n not in {name for _, name in anchors}]
            if first_name == "responsible_body" or lost:
                # Text above the first label whose own label is lost: it may be the lost
                # field's or the first label's; saying which would be a guess.
                lost_names = ", ".join(f"« {_FIELD_NAMES_FR[n]} »" for n in lost) or "aucune"
                ctx.add(
                    "warning",
                    "field_text_unlabelled",
                    f"engagement {commitment_no} : lignes {before[0] + 1}-{before[-1] + 1} sans étiquette avant « {_FIELD_NAMES_FR[first_name]} » "
                    f"(rubrique perdue : {lost_names}) ; texte non attribué",
                    "commitments",
                    key,
                    before[0],
                )
            else:
                values[first_name].extend(before)
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
    out: dict[str, str | None] = {}
    for name, line_nos in values.items():
        items = _join_items([texts[i] for i in sorted(line_nos)])
        out[name] = "\n".join(items) if items else None
    found = {name for _, name in anchors}
    for name in _FIELD_LABELS:
        if name in found:
            continue
        if name == "responsible_body":
            ctx.add("warning", "responsible_body_missing", f"engagement {commitment_no} : pas d'organisme responsable dans le rapport", "commitments", key, start)
        else:
            ctx.add("warning", "field_label_missing", f"engagement {commitment_no} : rubrique « {_FIELD_NAMES_FR[name]} » introuvable", "commitments", key, start)
    if out["responsible_body"] is not None:
        out["responsible_body"] = out["responsible_body"].replace("\n", " ")
    return out


def _starts_cell(label_text: str, between: list[str]) -> bool:
    """Whether a label's own text opens its cell (then the lines above it are the previous cell's).

    A capitalised sentence beside the label, with no list item in the lines above,
    is the top of a cell whose label the PDF placed on its first line.
    """
    text = strip_markup(label_text).strip()
    if not text or _BULLET_START_RE.match(text) or not text[:1].isupper():
        return False
    return not any(_BULLET_START_RE.match(t.strip()) for t in between)


def _split_point(texts: list[str]) -> int:
    """Where to cut lines lying between two labels: the item start nearest the middle."""
    n = len(texts)
    candidates = {0, n}
    for k in range(1, n):
        prev = strip_markup(texts[k - 1]).strip()
        if _BULLET_START_RE.match(texts[k].strip()) or prev.endswith((".", ";", ":", "!", "?")):
            candidates.add(k)
    return min(candidates, key=lambda c: (abs(c - n / 2), -c))


def _join_items(raw_lines: list[str]) -> list[str]:
    """Group lines into list items (a bullet starts one) and clean them."""
    items: list[str] = []
    for raw in raw_lines:
        stripped = raw.strip()
        text = clean_text(raw)
        if not text or _is_residue(raw):
            continue
        starts_item = bool(_BULLET_START_RE.match(stripped)) or not items or items[-1].endswith((".", ";", ":", "!", "?"))
        if starts_item:
            items.append(text)
        else:
            items[-1] = f"{items[-1]} {text}"
    return items


# --- activities and their checklists -----------------------------------------------------


def _status_of_line(raw: str) -> tuple[str | None, bool, bool]:
    """Classify a line of an activity's region.

    Returns:
        ``(status, is_checked, is_status_line)``: the status the line stands for (None
        when it is not a recognisable checklist line), whether it carries a check mark,
        and whether it is a checklist line at all (recognised or garbled).
    """
    stripped = strip_markup(raw).strip()
    if not stripped or len(stripped) > 90:
        return None, False, False
    checked = bool(CHECK_MARK_RE.search(stripped))
    bare = UNCHECKED_BOX_RE.sub("", CHECK_MARK_RE.sub("", stripped))
    folded = fold(strip_list_marker(bare))
    if not folded or len(folded) > 70:
        return None, checked, False
    for keyword, status in _STATUS_KEYWORDS:
        if keyword in folded:
            canonical = _STATUS_LABELS[status]
            head = folded[: len(canonical) + 4]
            if folded.startswith(canonical[:8]) or len(folded) <= len(canonical) + 15 or similarity(head, canonical, 0.55) >= 0.55:
                return status, checked, True
    for pattern, status in _STATUS_BANDS_RE:
        if pattern.search(folded) and len(folded) <= 45:
            return status, checked, True
    if len(folded) <= 40 and _GARBLED_STATUS_RE.search(folded) and "%" in stripped + folded or (checked and len(folded) <= 40):
        return None, checked, True
    return None, checked, False


def _parse_activities(ctx: _Context, commitment_no: int, heads: list[tuple[int, int, str]], stop: int) -> list[dict]:
    """Rows of the activities table for one commitment.

    Args:
        heads: (line index, activity number, title) of each ``Activité K`` heading.
        stop: the line where the last activity's region ends.
    """
    lines = ctx.lines
    regions = []
    for k, (line, number, title) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else stop
        regions.append((line, number, title, end))

    kept = []
    next_same = _next_same_number_line(regions)
    for k, (line, number, title, end) in enumerate(regions):
        has_checklist = any(_status_of_line(lines[j])[2] for j in range(line + 1, end))
        if next_same[k] is not None and not has_checklist:
            ctx.add(
                "warning",
                "activity_heading_duplicated",
                f"engagement {commitment_no} : l'en-tête « Activité {number} » est répété (ligne {next_same[k] + 1}) ; la première occurrence, sans liste de statuts, est ignorée",
                "activities",
                record_key(commitment_no=commitment_no, activity_no=number),
                line,
            )
            continue
        kept.append((line, number, title, end))

    rows = []
    seen: set[int] = set()
    for line, number, title, end in kept:
        key = record_key(commitment_no=commitment_no, activity_no=number)
        if number in seen:
            ctx.add("error", "activity_number_duplicated", f"engagement {commitment_no} : deux activités portent le numéro {number}", "activities", key, line)
        seen.add(number)
        body_start = line + 1
        nxt = _next_nonempty(lines, line + 1, end, max_blank=3)
        if nxt is not None:
            cont = clean_text(lines[nxt])
            if cont[:1].islower() and not _status_of_line(lines[nxt])[2] and not _label_of(lines[nxt].split("\t")[0], {"a": _ACTIONS_LABELS}):
                title = f"{title} {cont}"
                body_start = nxt + 1
        status_lines: list[tuple[int, str | None, bool]] = []
        action_lines: list[str] = []
        for j in range(body_start, end):
            raw = lines[j]
            if not raw.strip():
                continue
            status, checked, is_status = _status_of_line(raw)
            if is_status:
                status_lines.append((j, status, checked))
                continue
            frags = [_strip_actions_label(f) for f in raw.split("\t") if not _label_of(f, {"actions": _ACTIONS_LABELS})]
            if frags and any(f.strip() for f in frags):
                action_lines.append(_ACTIONS_INLINE_RE.sub(" ", "\t".join(frags)))
        status = _decide_status(ctx, commitment_no, number, line, status_lines)
        band_min, band_max = STATUS_BANDS[status]
        rows.append(
            {
                "commitment_no": commitment_no,
                "activity_no": number,
                "title": clean_text(title),
                "status": status,
                "band_min_pct": band_min,
                "band_max_pct": band_max,
                "is_status_checked": status != "unknown",
                "actions_text": "\n".join(_join_items(action_lines)) or None,
                "source_line": line + 1,
            }
        )
    return rows


def _next_same_number_line(regions: list[tuple[int, int, str, int]]) -> list[int | None]:
    """For each activity region, the line of the next region with its number, or None (one backward pass)."""
    next_line: dict[int, int] = {}
    out: list[int | None] = [None] * len(regions)
    for k in range(len(regions) - 1, -1, -1):
        line, number = regions[k][0], regions[k][1]
        out[k] = next_line.get(number)
        next_line[number] = line
    return out


def _strip_actions_label(fragment: str) -> str:
    """Remove an ``Actions réalisées`` label that shares its cell with text."""
    words = fragment.strip().split(" ")
    if len(words) > 2 and _label_of(" ".join(words[:2]), {"actions": _ACTIONS_LABELS}):
        return " ".join(words[2:])
    return fragment


def _decide_status(ctx: _Context, commitment_no: int, activity_no: int, line: int, status_lines: list[tuple[int, str | None, bool]]) -> str:
    key = record_key(commitment_no=commitment_no, activity_no=activity_no)
    where = f"engagement {commitment_no}, activité {activity_no}"
    for j, status, _checked in status_lines:
        if status is None:
            ctx.add("warning", "status_line_unrecognised", f"{where} : ligne de statut illisible « {clean_text(ctx.lines[j])[:60]} »", "activities", key, j)
    if not status_lines:
        ctx.add("warning", "checklist_missing", f"{where} : aucune ligne de statut ; statut inconnu", "activities", key, line)
        return "unknown"
    recognised = {s for _, s, _ in status_lines if s}
    missing = [s for s in _STATUS_LABELS if s not in recognised]
    if missing:
        ctx.add("info", "checklist_incomplete", f"{where} : lignes de statut absentes ou illisibles : {', '.join(missing)}", "activities", key, status_lines[0][0])
    checked = [(j, s) for j, s, c in status_lines if c]
    checked_statuses = {s for _, s in checked}
    if not checked:
        ctx.add("warning", "check_mark_missing", f"{where} : aucune case cochée (coche perdue) ; statut inconnu", "activities", key, status_lines[0][0])
        return "unknown"
    if len(checked_statuses) > 1:
        names = ", ".join(sorted(s or "illisible" for s in checked_statuses))
        ctx.add("warning", "multiple_check_marks", f"{where} : plusieurs cases cochées ({names}) ; statut inconnu", "activities", key, checked[1][0])
        return "unknown"
    (only,) = checked_statuses
    if only is None:
        ctx.add("warning", "checked_status_unreadable", f"{where} : la ligne cochée est illisible ; statut inconnu", "activities", key, checked[0][0])
        return "unknown"
    return only


# --- indicators ---------------------------------------------------------------------------


def parse_indicator_value(raw: str | None) -> tuple[float | None, str | None]:
    """``"1 428 574"`` -> ``(1428574.0, None)``; ``"60%"`` -> ``(60.0, "percent")``; text -> ``(None, …)``."""
    if raw is None:
        return None, None
    unit = "percent" if "%" in raw else None
    m = _NUMBER_RE.match(raw)
    if not m:
        return None, unit
    whole = re.sub(r"\D", "", m.group(1))
    value = float(f"{whole}.{m.group(2)}" if m.group(2) else whole)
    return value, unit


def indicator_kind(label: str) -> str:
    folded = fold(label)
    if folded.startswith("nombre"):
        return "count"
    if folded.startswith(("taux", "pourcentage")):
        return "rate"
    return "other"


def _parse_indicators(ctx: _Context, commitment_no: int, start: int, stop: int) -> list[dict]:
    items: list[list] = []  # [first line, text, has_value]
    for j in range(start, stop):
        raw = ctx.lines[j]
        awaiting_value = bool(items) and not _split_indicator(items[-1][1])[1]
        if not raw.strip() or (_is_residue(raw) and not awaiting_value):
            continue
        text = clean_text(raw)
        if not text:
            continue
        is_bullet = bool(_BULLET_START_RE.match(strip_markup(raw).strip()))
        current_done = bool(items) and _split_indicator(items[-1][1])[1] not in (None, "")
        if is_bullet or not items or (current_done and text[:1].isupper()):
            items.append([j, text])
        else:
            items[-1][1] = f"{items[-1][1]} {text}"
    rows = []
    for no, (j, text) in enumerate(items, start=1):
        label, raw_value = _split_indicator(text)
        key = record_key(commitment_no=commitment_no, indicator_no=no)
        if not raw_value:
            ctx.add("warning", "indicator_value_missing", f"engagement {commitment_no} : l'indicateur « {label[:60]} » n'a pas de valeur", "indicators", key, j)
            raw_value = None
        value, unit = parse_indicator_value(raw_value)
        kind = indicator_kind(label)
        if raw_value is not None and value is None:
            ctx.add("info", "indicator_value_not_numeric", f"engagement {commitment_no} : valeur non numérique « {raw_value} »", "indicators", key, j)
        rows.append(
            {
                "commitment_no": commitment_no,
                "indicator_no": no,
                "label": label,
                "raw_value": raw_value,
                "value": value,
                "unit": unit,
                "kind": kind,
                "source_line": j + 1,
            }
        )
    return rows


def _split_indicator(text: str) -> tuple[str, str | None]:
    if ":" not in text:
        return text.strip(), None
    label, _, value = text.rpartition(":")
    if len(value.strip()) > 40:
        return text.strip(), None
    return label.strip(" .:"), value.strip()


# --- the front matter: metadata, axes, published rates ---------------------------------------


def _parse_front(ctx: _Context, stop: int) -> dict:
    lines = ctx.lines
    title_line = _next_nonempty(lines, 0, stop, max_blank=50)
    title = clean_text(lines[title_line]) if title_line is not None else None
    as_of = None
    for i in range(stop):
        if "fin" in lines[i]:
            m = _AS_OF_RE.search(fold(lines[i]))
            if m:
                as_of = f"{m.group(2)}-{_MONTHS[m.group(1)]:02d}"
                break
    if as_of is None:
        for i in range(min(stop, 40)):
            m = _MONTH_YEAR_RE.fullmatch(fold(clean_text(lines[i])))
            if m:
                as_of = f"{m.group(2)}-{_MONTHS[m.group(1)]:02d}"
                ctx.add("info", "as_of_from_date_line", f"mois d'arrêté des chiffres pris de la date du rapport « {lines[i].strip()} »", "reports", None, i)
                break
    if as_of is None:
        ctx.add("warning", "as_of_missing", "le mois auquel les chiffres sont arrêtés est introuvable", "reports")
    return {"title": title, "as_of": as_of}


def _parse_plan_period(ctx: _Context, title: str | None) -> str | None:
    counts: dict[str, int] = {}
    for line in ctx.lines:
        if "ction" not in line and "CTION" not in line:
            continue
        for m in _PERIOD_RE.finditer(fold(line)):
            period = f"{m.group(1)}-{m.group(2)}"
            counts[period] = counts.get(period, 0) + 1
    period = max(sorted(counts), key=counts.get) if counts else None
    title_match = _ANY_PERIOD_RE.search(title or "")
    title_period = f"{title_match.group(1)}-{title_match.group(2)}" if title_match else None
    if period is None:
        period = title_period
    elif title_period and title_period != period:
        ctx.add("warning", "plan_period_inconsistent", f"le titre donne la période {title_period}, le texte du plan {period} ; {period} est retenue", "reports", None, 0)
    if period is None:
        ctx.add("warning", "plan_period_missing", "période du plan introuvable", "reports")
    return period


def _parse_axes(ctx: _Context, stop: int) -> list[dict]:
    """Axis names and their bulleted commitment titles, from the plan's presentation."""
    lines = ctx.lines
    start = None
    for i in range(stop):
        if _has_page_number(lines[i]):
            continue
        if _AXES_HEADING_RE.match(fold(clean_text(lines[i]))):
            start = i + 1
            break
    if start is None:
        ctx.add("info", "axes_section_missing", "pas de section des axes du plan : les engagements n'ont pas d'axe", "axes")
        return []
    axes: list[dict] = []
    i = start
    while i < stop:
        raw = lines[i]
        if not raw.strip() or _is_residue(raw):
            i += 1
            continue
        if _BULLET_START_RE.match(raw.strip()):
            if axes:
                axes[-1]["items"].append([i, clean_text(raw)])
            i += 1
            continue
        text = clean_text(raw)
        nxt = _next_nonempty(lines, i + 1, stop, max_blank=5)
        if axes and axes[-1]["items"] and text[:1].islower():
            axes[-1]["items"][-1][1] += " " + text
        elif nxt is not None and _BULLET_START_RE.match(lines[nxt].strip()) and len(text) <= 120:
            axes.append({"line": i, "name": text, "items": []})
        elif axes:
            break
        i += 1
    if not axes:
        ctx.add("warning", "axes_section_unreadable", "la section des axes du plan ne contient aucun axe lisible", "axes", None, start - 1)
    return axes


def _assign_axes(ctx: _Context, axes: list[dict], commitments: list[dict]) -> None:
    """Set each commitment's axis_no by matching the axes' bulleted titles to headings."""
    if not axes:
        return
    pairs = []
    heading_tokens = [(c["commitment_no"], _token_set(c["title"])) for c in commitments]
    for a_no, axis in enumerate(axes, start=1):
        for item_line, item in axis["items"]:
            item_tokens = _token_set(item)
            for c_no, tokens in heading_tokens:
                pairs.append((_jaccard(item_tokens, tokens), a_no, item_line, item, c_no))
    pairs.sort(key=lambda p: (-p[0], p[2], p[4]))
    used_items, used_commitments = set(), set()
    by_no = {c["commitment_no"]: c for c in commitments}
    for score, a_no, item_line, _item, c_no in pairs:
        if score < 0.45 or item_line in used_items or c_no in used_commitments:
            continue
        by_no[c_no]["axis_no"] = a_no
        used_items.add(item_line)
        used_commitments.add(c_no)
    for axis in axes:
        for item_line, item in axis["items"]:
            if item_line not in used_items:
                ctx.add("warning", "axis_item_unmatched", f"l'intitulé « {item[:70]} » de l'axe « {axis['name']} » ne correspond à aucun engagement du rapport", "axes", None, item_line)
    for c in commitments:
        if c["commitment_no"] not in used_commitments:
            ctx.add("warning", "commitment_without_axis", f"engagement {c['commitment_no']} : absent des listes des axes ; axe inconnu", "commitments", record_key(commitment_no=c["commitment_no"]), c["source_line_start"] - 1)


def _parse_axis_rates(ctx: _Context, heading: int, stop: int, axes: list[dict]) -> list[dict]:
    """Rates printed under « Taux d'avancement par axe », matched to the axes by name.

    In the seed the chart's figures did not survive the PDF's extraction: a finding
    says so. A figure whose label matches no axis is reported, never dropped quietly.
    """
    lines = ctx.lines
    rows, figures = [], 0
    names = [(n, _token_set(a["name"])) for n, a in enumerate(axes, start=1)]
    for j in range(heading + 1, min(stop, heading + 40)):
        text = clean_text(lines[j])
        folded = fold(text)
        if folded.startswith("taux d'avancement par engagement") or "numero de l'engagement" in folded:
            break
        m = _AXIS_RATE_RE.match(text)
        if not m:
            continue
        figures += 1
        label, rate = m.group(1).strip(" :\t-"), float(m.group(2).replace(",", "."))
        scores = sorted(((_jaccard(_token_set(label), tokens), n) for n, tokens in names), reverse=True)
        if not scores or scores[0][0] < 0.5 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
            ctx.add("warning", "axis_rate_unmatched", f"le taux « {text[:70]} » ne correspond à aucun axe", "published_rates", None, j)
            continue
        rows.append({"scope": "axis", "scope_no": scores[0][1], "rate_pct": rate, "source_line": j + 1})
    if not figures:
        ctx.add("warning", "published_axis_rates_missing", "les taux par axe annoncés (graphique) n'ont pas survécu à l'extraction du texte", "published_rates", None, heading)
    return rows


def _parse_published_rates(ctx: _Context, stop: int, axes: list[dict]) -> tuple[list[dict], dict[int, str]]:
    """The global rate sentence, the per-axis figures (if any) and the per-commitment table.

    Returns the published_rates rows and the titles printed in the rate table by number.
    """
    lines = ctx.lines
    rows: list[dict] = []
    for i in range(stop):
        if "lobal" not in lines[i]:
            continue
        m = _GLOBAL_RATE_RE.search(fold(lines[i]))
        if m:
            rows.append({"scope": "plan", "scope_no": 0, "rate_pct": float(m.group(1).replace(",", ".")), "source_line": i + 1})
            break
    if not rows:
        ctx.add("warning", "published_plan_rate_missing", "le taux d'avancement global publié est introuvable", "published_rates")

    for i in range(stop):
        if fold(clean_text(lines[i])) == "taux d'avancement par axe":
            rows.extend(_parse_axis_rates(ctx, i, stop, axes))
            break

    titles: dict[int, str] = {}
    in_table = False
    seen: dict[int, int] = {}
    for i in range(stop):
        raw = lines[i]
        folded = fold(raw)
        if "numero de l" in folded and "engagement" in folded and "\t" in raw:
            in_table = True
            continue
        if not in_table or not raw.strip():
            continue
        cells = [c.strip() for c in raw.split("\t")]
        if not re.fullmatch(r"\d{1,3}", cells[0]):
            if len(cells) == 1 and not re.search(r"\d", raw) and len(raw.strip()) < 60 and not raw.startswith(" "):
                if "bilan" in folded or _COMMITMENT_RE.match(raw):
                    in_table = False
            continue
        number = int(cells[0])
        rate_cell = cells[-1] if len(cells) >= 3 else ""
        titles[number] = join_fragments(cells[1:-1] if len(cells) >= 3 else cells[1:])
        key = record_key(scope="commitment", scope_no=number)
        if number in seen:
            ctx.add("warning", "published_rate_duplicated", f"engagement {number} figure deux fois dans le tableau des taux (lignes {seen[number] + 1} et {i + 1})", "published_rates", key, i)
            continue
        seen[number] = i
        m = _RATE_CELL_RE.match(rate_cell)
        if not m:
            ctx.add("warning", "published_rate_missing", f"engagement {number} : taux de réalisation absent du tableau", "published_rates", key, i)
            continue
        rows.append({"scope": "commitment", "scope_no": number, "rate_pct": float(m.group(1).replace(",", ".")), "source_line": i + 1})
    return rows, titles


# --- the report -------------------------------------------------------------------------------

#: The byte-order mark that may open a text: a mark of the encoding, not an invisible
#: character of the report to remove with a finding.
_BOM = "\ufeff"
#: Findings about the file's bytes, kept when the file turns out not to be a report.
_FILE_FINDING_CODES = {"decoded_cp1252", "invalid_utf8_bytes"}
#: Characters of a damaged line quoted in its finding, around the first replaced byte.
_EXCERPT_CHARS = 80


def _report_replaced_bytes(ctx: _Context, replaced_lines: tuple[int, ...]) -> None:
    """One finding per line whose invalid UTF-8 bytes decoding replaced by U+FFFD."""
    for number in replaced_lines:
        line = collapse_spaces(strip_markup(ctx.lines[number - 1])) if number <= len(ctx.lines) else ""
        start = max(0, line.find("\ufffd") - _EXCERPT_CHARS // 2)
        excerpt = line[start : start + _EXCERPT_CHARS]
        ctx.add("warning", "invalid_utf8_bytes", f"ligne {number} : octets invalides en UTF-8 remplacés par « \ufffd » : « {excerpt} »", "reports", None, number - 1)


def _remove_invisible_characters(ctx: _Context) -> None:
    """Remove format characters from every line before any matching, one finding per line touched."""
    for i, raw in enumerate(ctx.lines):
        cleaned, removed = remove_invisible(raw)
        if not removed:
            continue
        ctx.lines[i] = cleaned
        names = describe_code_points(removed)
        if BIDI_CONTROL_RE.search(removed):
            ctx.add("warning", "bidi_controls_removed", f"ligne {i + 1} : contrôles de direction du texte retirés : {names}", "reports", None, i)
        else:
            ctx.add("info", "invisible_characters_removed", f"ligne {i + 1} : caractères invisibles retirés : {names}", "reports", None, i)


def _detect_language(lines: list[str]) -> str:
    sample = " ".join(lines[:400]).lower()
    arabic = sum(1 for c in sample if "\u0600" <= c <= "\u06ff")
    french = len(re.findall(r"\b(?:le|la|les|des|du|de|et|pour)\b", sample))
    english = len(re.findall(r"\b(?:the|and|of|to|for)\b", sample))
    if arabic > len(sample) / 4:
        return "ar"
    if english > french:
        return "en"
    return "fr"


def parse_report(
    text: str,
    report_id: str,
    *,
    source_file: str,
    source_sha256: str,
    encoding: str = "utf-8",
    replaced_lines: tuple[int, ...] = (),
) -> dict[str, pd.DataFrame]:
    """Parse one report's text into its rows of every curated table.

    Format characters (soft hyphens, zero-width spaces, bidirectional controls, …) are
    removed from every line before anything is read, with a finding per line.

    Args:
        text: the decoded report.
        report_id: the report's identifier (file name without ``.txt``).
        source_file, source_sha256, encoding: provenance, copied into ``reports``.
        replaced_lines: 1-based lines where decoding replaced invalid bytes by U+FFFD
            (:attr:`pipeline.text.DecodedText.replaced_lines`); a finding each.

    Returns:
        A DataFrame per curated table (``reports``, ``axes``, ``commitments``,
        ``activities``, ``indicators``, ``published_rates``, ``findings``), typed as
        the table's Arrow schema says. A report with no commitment gives an
        ``error`` finding ``no_commitment`` and no ``reports`` row.
    """
    text = text.removeprefix(_BOM)
    lines = split_lines(text)
    line_count = len(lines) - 1 if text.endswith(("\n", "\r")) else len(lines)
    ctx = _Context(report_id, lines)
    if encoding == "cp1252":
        ctx.add("warning", "decoded_cp1252", "le fichier n'est pas en UTF-8 ; il a été lu en Windows-1252", "reports")
    _remove_invisible_characters(ctx)
    _report_replaced_bytes(ctx, replaced_lines)

    toc, body = _classify_headings(lines, _find_headings(lines))
    front_stop = body[0].line if body else len(lines)
    front = _parse_front(ctx, front_stop)
    plan_period = _parse_plan_period(ctx, front["title"])
    axes = _parse_axes(ctx, front_stop)
    rates, rate_titles = _parse_published_rates(ctx, front_stop, axes)

    commitments, activities, indicators = [], [], []
    seen_numbers: dict[int, int] = {}
    for k, h in enumerate(body):
        stop = body[k + 1].line if k + 1 < len(body) else len(lines)
        key = record_key(commitment_no=h.number)
        if h.number in seen_numbers:
            ctx.add("error", "commitment_number_duplicated", f"deux sections portent le numéro d'engagement {h.number} (lignes {seen_numbers[h.number] + 1} et {h.line + 1})", "commitments", key, h.line)
        seen_numbers[h.number] = h.line
        if has_markup(lines[h.line]):
            ctx.add("info", "stray_markup", f"balisage parasite retiré de l'en-tête de l'engagement {h.number}", "commitments", key, h.line)
        act_heads, ind_line = [], None
        for j in range(h.end_title + 1, stop):
            raw = lines[j]
            if "ctivit" in raw or "CTIVIT" in raw:
                m = _ACTIVITY_RE.match(strip_markup_keep_tabs(raw))
                if m:
                    act_heads.append((j, int(m.group(1)), join_fragments(strip_markup_keep_tabs(m.group(2)).split("\t"))))
                    continue
            if "ndicateur" in raw and _INDICATORS_RE.match(fold(strip_markup(raw))):
                if ind_line is None:
                    ind_line = j
                    m = _INDICATORS_RE.match(fold(strip_markup(raw)))
                    if m.group(1) and int(m.group(1)) != h.number:
                        ctx.add("warning", "indicator_heading_mismatch", f"les indicateurs de l'engagement {h.number} sont titrés « engagement {m.group(1)} »", "indicators", key, j)
                    if has_markup(raw):
                        ctx.add("info", "stray_markup", f"balisage parasite retiré du titre des indicateurs de l'engagement {h.number}", "indicators", key, j)
                else:
                    ctx.add("warning", "indicator_heading_duplicated", f"engagement {h.number} : second titre d'indicateurs", "indicators", key, j)
        header_stop = min([a[0] for a in act_heads] + ([ind_line] if ind_line is not None else []) + [stop])
        fields = _parse_fields(ctx, h.number, h.end_title + 1, header_stop)
        act_stop = ind_line if ind_line is not None and (not act_heads or ind_line > act_heads[-1][0]) else stop
        act_rows = _parse_activities(ctx, h.number, act_heads, act_stop)
        if not act_rows:
            ctx.add("warning", "commitment_without_activities", f"engagement {h.number} : aucune activité", "commitments", key, h.line)
        ind_rows = _parse_indicators(ctx, h.number, ind_line + 1, stop) if ind_line is not None else []
        last = max((j for j in range(h.line, stop) if lines[j].strip()), default=h.line)
        commitments.append(
            {
                "commitment_no": h.number,
                "title": h.title,
                "axis_no": None,
                **fields,
                "source_line_start": h.line + 1,
                "source_line_end": last + 1,
            }
        )
        activities.extend(act_rows)
        indicators.extend(ind_rows)

    body_numbers = {c["commitment_no"] for c in commitments}
    for t in toc:
        if t.number not in body_numbers:
            ctx.add("warning", "commitment_missing_from_body", f"l'engagement {t.number} est annoncé dans la table des matières mais absent du corps du rapport", "commitments", record_key(commitment_no=t.number), t.line)
    for r in rates:
        if r["scope"] == "commitment" and r["scope_no"] not in body_numbers:
            ctx.add("warning", "commitment_missing_from_body", f"l'engagement {r['scope_no']} a un taux publié mais est absent du corps du rapport", "published_rates", record_key(scope="commitment", scope_no=r["scope_no"]), r["source_line"] - 1)
    if rate_titles:
        for c in commitments:
            if c["commitment_no"] not in rate_titles:
                ctx.add("warning", "published_rate_missing", f"engagement {c['commitment_no']} : absent du tableau des taux publiés", "published_rates", record_key(scope="commitment", scope_no=c["commitment_no"]), c["source_line_start"] - 1)
    _assign_axes(ctx, axes, commitments)

    if not commitments:
        # Without a commitment the file is not a report: the front-matter findings are noise.
        ctx.findings = [f for f in ctx.findings if f.code in _FILE_FINDING_CODES]
        ctx.add("error", "no_commitment", "aucun engagement (« ENGAGEMENT N : … ») dans le corps du rapport", "reports")

    reports = []
    if commitments:
        reports.append(
            {
                "title": front["title"] or report_id,
                "plan_period": plan_period,
                "as_of": front["as_of"],
                "language": _detect_language(lines),
                "source_file": source_file,
                "source_sha256": source_sha256,
                "source_encoding": encoding,
                "line_count": line_count,
                "commitment_count": len(commitments),
                "activity_count": len(activities),
            }
        )
    axes_rows = [{"axis_no": n, "name": a["name"], "source_line": a["line"] + 1} for n, a in enumerate(axes, start=1)] if commitments else []
    return {
        "reports": _frame("reports", report_id, reports),
        "axes": _frame("axes", report_id, axes_rows),
        "commitments": _frame("commitments", report_id, commitments if reports else []),
        "activities": _frame("activities", report_id, activities if reports else []),
        "indicators": _frame("indicators", report_id, indicators if reports else []),
        "published_rates": _frame("published_rates", report_id, rates if reports else []),
        "findings": findings_frame(report_id, "ingest", ctx.findings),
    }


def _frame(table: str, report_id: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's columns and Arrow-compatible dtypes."""
    schema = arrow_schema(table)
    data = [{"report_id": report_id, **row} for row in rows]
    return pa.Table.from_pylist(data, schema=schema).to_pandas() if data else schema.empty_table().to_pandas()
