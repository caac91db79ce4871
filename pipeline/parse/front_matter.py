"""The front matter and the table of contents: the report's title, date, plan period, language.

What belongs here: the first part of the template (``docs/report-format.md``, parts 1
and 2): the title line, the month the figures are given at, the plan's period, the
report's language, and the table of contents, whose entries look like commitment
headings (``ENGAGEMENT 3 : … <TAB>22``) and must not be taken for them:
:func:`classify_headings` tells them from the body's headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.parse.lines import Context
from pipeline.parse.vocabulary import FOLDED_MONTHS
from pipeline.text import clean_text, fold, join_fragments, strip_markup_keep_tabs

_PERIOD_RE = re.compile(r"plan d.action national[^0-9]{0,40}?(\d{4})\s*[-–—]\s*(\d{4})")
#: The words of :data:`_PERIOD_RE` on the line as printed: the lines worth folding. One pattern
#: per case of the first letter (« p » has no other case form): a pattern starting with a letter
#: skips from one to the next, one starting with a set of letters is tried at every character.
_PLAN_WORDS_RES = tuple(
    re.compile(first + r"(?i:lan)[^\S\n]+(?i:d).(?i:action)[^\S\n]+(?i:national)") for first in "pP"
)
_ANY_PERIOD_RE = re.compile(r"(\d{4})\s*[-–—]\s*(\d{4})")
_MONTH_YEAR_RE = re.compile(r"\b(" + "|".join(FOLDED_MONTHS) + r")\s+(\d{4})\b")
_AS_OF_RE = re.compile(
    r"(?:jusqu.?\s*a|a|au|fin)\s+(?:la\s+)?fin\s+(?:du\s+mois\s+)?(?:de\s+|d.)?("
    + "|".join(FOLDED_MONTHS)
    + r")\s+(\d{4})"
)
#: « le », « la », « les », « des », « du », « de », « et », « pour » as whole words: one pattern
#: per first letter (the word's start and end checked around it), so that each search skips from
#: one such letter to the next (written ``\b(?:le|la|…)\b``, or starting with a set of letters, a
#: pattern is tried at every character). Whole words never overlap: the counts add up.
_FRENCH_WORDS_RES = tuple(
    re.compile(first + r"(?<!\w.)" + rest + r"(?!\w)")
    for first, rest in (("l", "(?:e|a|es)"), ("d", "(?:es|u|e)"), ("e", "t"), ("p", "our"))
)
#: « the », « and », « of », « to », « for » as whole words, written as :data:`_FRENCH_WORDS_RES`.
_ENGLISH_WORDS_RES = tuple(
    re.compile(first + r"(?<!\w.)" + rest + r"(?!\w)")
    for first, rest in (("t", "(?:he|o)"), ("a", "nd"), ("o", "f"), ("f", "or"))
)
_ARABIC_RE = re.compile("[\u0600-\u06ff]")

#: Digits a table-of-contents page number has at most.
PAGE_NUMBER_DIGITS = 4
#: Blank lines the title may be below the top of the file.
MAX_BLANKS_BEFORE_TITLE = 50
#: Lines at the top where a date line (« Juillet 2023 ») gives the month of the figures.
DATE_LINE_REACH = 40
#: Lines sampled to tell the report's language.
LANGUAGE_SAMPLE_LINES = 400
#: Share of Arabic letters above which the report is in Arabic.
ARABIC_SHARE = 1 / 4
#: Blank lines between a table-of-contents entry and the line carrying its page number.
MAX_BLANKS_BEFORE_PAGE_NUMBER = 1


@dataclass
class Heading:
    """A commitment heading candidate: of the body, or an entry of the table of contents."""

    number: int
    line: int  # 0-based index of the heading line
    title: str
    end_title: int  # 0-based index of the last line of the title
    is_toc: bool = False


def parse_front(ctx: Context, stop: int) -> dict:
    """The report's title (its first non-empty line) and the month its figures are given at."""
    lines = ctx.lines
    title_line = ctx.next_nonempty(0, stop, max_blank=MAX_BLANKS_BEFORE_TITLE)
    title = clean_text(lines[title_line]) if title_line is not None else None
    as_of = None
    for i in range(stop):
        if "fin" in lines[i]:
            m = _AS_OF_RE.search(fold(lines[i]))
            if m:
                as_of = f"{m.group(2)}-{FOLDED_MONTHS[m.group(1)]:02d}"
                break
    if as_of is None:
        for i in range(min(stop, DATE_LINE_REACH)):
            m = _MONTH_YEAR_RE.fullmatch(fold(clean_text(lines[i])))
            if m:
                as_of = f"{m.group(2)}-{FOLDED_MONTHS[m.group(1)]:02d}"
                ctx.add(
                    "info",
                    "as_of_from_date_line",
                    f"mois d'arrêté des chiffres pris de la date du rapport « {lines[i].strip()} »",
                    "reports",
                    None,
                    i,
                )
                break
    if as_of is None:
        ctx.add("warning", "as_of_missing", "le mois auquel les chiffres sont arrêtés est introuvable", "reports")
    return {"title": title, "as_of": as_of}


def parse_plan_period(ctx: Context, title: str | None) -> str | None:
    """The plan's period (« 2021-2023 »): the one the text gives most often, else the title's."""
    counts: dict[str, int] = {}
    for i in ctx.lines_matching(*_PLAN_WORDS_RES):
        for m in _PERIOD_RE.finditer(fold(ctx.lines[i])):
            period = f"{m.group(1)}-{m.group(2)}"
            counts[period] = counts.get(period, 0) + 1
    period = max(sorted(counts), key=counts.get) if counts else None
    title_match = _ANY_PERIOD_RE.search(title or "")
    title_period = f"{title_match.group(1)}-{title_match.group(2)}" if title_match else None
    if period is None:
        period = title_period
    elif title_period and title_period != period:
        ctx.add(
            "warning",
            "plan_period_inconsistent",
            f"le titre donne la période {title_period}, le texte du plan {period} ; {period} est retenue",
            "reports",
            None,
            0,
        )
    if period is None:
        ctx.add("warning", "plan_period_missing", "période du plan introuvable", "reports")
    return period


def detect_language(lines: list[str]) -> str:
    """``fr``, ``en`` or ``ar``, from the words of the first lines."""
    sample = " ".join(lines[:LANGUAGE_SAMPLE_LINES]).lower()
    arabic = len(_ARABIC_RE.findall(sample))
    french = sum(len(pattern.findall(sample)) for pattern in _FRENCH_WORDS_RES)
    english = sum(len(pattern.findall(sample)) for pattern in _ENGLISH_WORDS_RES)
    if arabic > len(sample) * ARABIC_SHARE:
        return "ar"
    if english > french:
        return "en"
    return "fr"


# --- the table of contents ------------------------------------------------------------------------


def page_number_start(line: str) -> int | None:
    """Where the page number that ends a table-of-contents line starts: the first tab of the
    whitespace before 1-4 final digits; None when the line does not end so.

    Scanned from the end, so that a line of thousands of tabs costs no more than its length.
    """
    body = line.rstrip()
    if not body[-1:].isdecimal():
        return None
    start = len(body)
    while start > 0 and len(body) - start <= PAGE_NUMBER_DIGITS and body[start - 1].isdecimal():
        start -= 1
    if not 1 <= len(body) - start <= PAGE_NUMBER_DIGITS:
        return None
    before = body[:start]
    tab = before.find("\t", len(before.rstrip()))
    return None if tab < 0 else tab


def has_page_number(line: str) -> bool:
    return page_number_start(line) is not None


def classify_headings(ctx: Context, candidates: list[Heading]) -> tuple[list[Heading], list[Heading]]:
    """Split heading candidates into table-of-contents entries and body headings.

    A table-of-contents entry ends, on its line or the next non-empty one, with a tab
    and a page number; an entry with no page number is one whose number comes back
    later with no structure (activity, label) between it and the next candidate. Each
    line is looked at once: the stretches between candidates do not overlap. The body
    headings' titles are completed by :func:`pipeline.parse.commitments.find_body_headings`.
    """
    toc, body = [], []
    comes_back = _number_comes_back(candidates)
    for k, h in enumerate(candidates):
        stop = candidates[k + 1].line if k + 1 < len(candidates) else len(ctx.lines)
        if _read_toc_entry(ctx, h, stop):
            toc.append(h)
        elif comes_back[k] and not any(ctx.is_structure(j) for j in range(h.line + 1, stop) if ctx.lines[j].strip()):
            h.is_toc = True
            toc.append(h)
        else:
            body.append(h)
    return toc, body


def _read_toc_entry(ctx: Context, h: Heading, stop: int) -> bool:
    """Whether ``h`` is a table-of-contents entry with its page number; if so, set its title."""
    lines = ctx.lines
    title_parts = [lines[h.line]]
    end = h.line
    if not has_page_number(lines[h.line]):
        j = ctx.next_nonempty(h.line + 1, stop, max_blank=MAX_BLANKS_BEFORE_PAGE_NUMBER)
        if j is not None and has_page_number(lines[j]) and not ctx.is_structure(j):
            title_parts.append(lines[j])
            end = j
    if not has_page_number(lines[end]):
        return False
    text = "\t".join(title_parts)
    text = text[: page_number_start(text)]
    h.title = join_fragments(strip_markup_keep_tabs(text[text.find(":") + 1 :]).split("\t"))
    h.end_title, h.is_toc = end, True
    return True


def _number_comes_back(candidates: list[Heading]) -> list[bool]:
    """For each candidate, whether a later candidate has its number (one backward pass)."""
    later: set[int] = set()
    out = [False] * len(candidates)
    for k in range(len(candidates) - 1, -1, -1):
        out[k] = candidates[k].number in later
        later.add(candidates[k].number)
    return out
