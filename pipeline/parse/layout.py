"""The layout clean-up done before any section is read: what the export put between the words.

What belongs here: invisible format characters (removed, one finding per line), page
furniture (form feeds, running headers and footers, page numbers: blanked, one
finding) and words hyphenated across lines (joined, one finding). Each pass rewrites
:attr:`Context.lines` in place, keeps every line where it was (line numbers never
change) and is linear in the size of the text. What is furniture is decided from the
text itself: a page number beside a form feed or in a run of increasing numbers, a
line repeated beside page boundaries; a lone number elsewhere is left to the sections.
"""

from __future__ import annotations

import bisect
import re

from pipeline.parse.lines import (
    ACTIONS_CHOICES,
    BULLET_START_RE,
    FIELD_LABEL_CHOICES,
    TEXT,
    Context,
    line_kind,
)
from pipeline.parse.vocabulary import FORM_FEED, PAGE_NUMBER_RE
from pipeline.text import BIDI_CONTROL_RE, describe_code_points, remove_invisible, strip_markup

#: Longest line that can be a page number (« Page 120 sur 140 » and its centring spaces).
MAX_PAGE_NUMBER_CHARS = 24
#: Increasing bare numbers needed to take them for page numbers without a form feed beside
#: them: one or two lone numbers are as likely a value wrapped onto its own line.
MIN_PAGE_RUN = 3
#: Largest step between two page numbers of a run (a page may have lost its number).
MAX_PAGE_STEP = 2
#: Non-blank lines on each side of a page boundary where its header and footer lie.
FURNITURE_REACH = 2
#: Lines (blank or not) a page boundary's header or footer may be from it: bounds the work per boundary.
FURNITURE_MAX_DISTANCE = 6
#: Longest running header or footer: a line of text is longer.
MAX_FURNITURE_CHARS = 100
#: Page boundaries a line must be found beside to be a running header or footer: twice may be
#: a coincidence of the text.
MIN_RUNNING_REPEATS = 3
#: Share of the page boundaries a running header or footer is found beside: a header is on
#: most pages, a line of text that wraps alike in several places beside a few.
MIN_RUNNING_SHARE = 0.5
#: Blank lines a hyphenated word's two halves may be apart (a wrapped title's layout).
MAX_HYPHEN_GAP_BLANKS = 3
#: Line numbers a layout finding quotes, at most.
MAX_QUOTED_LINES = 10
#: Hyphens that cut a word at a line's end (ASCII, Unicode hyphen, non-breaking hyphen).
HYPHENS = ("-", "\u2010", "\u2011")
#: Last characters of a line a word may be cut at: a hyphen, or a tag closing the line after one.
HYPHEN_CUT_ENDS = frozenset(HYPHENS + (">",))
#: Last characters of a page number (:data:`PAGE_NUMBER_RE`) besides digits.
PAGE_NUMBER_ENDS = frozenset("-–—")

_DIGITS_RE = re.compile(r"\d+")
_SPACES_RE = re.compile(r"\s+")
_TRAILING_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*>\s*$")
_HYPHENATED_WORD_RE = re.compile(r"[^\W\d_]+(?:[-\u2010\u2011][^\W\d_]+)+")


def quote_lines(numbers: list[int]) -> str:
    """``[3, 7]`` (0-based) -> ``"4, 8"``; at most :data:`MAX_QUOTED_LINES`, then ``"…"``."""
    shown = ", ".join(str(n + 1) for n in numbers[:MAX_QUOTED_LINES])
    return shown + (", …" if len(numbers) > MAX_QUOTED_LINES else "")


# --- invisible characters ---------------------------------------------------------------------


def remove_invisible_characters(ctx: Context) -> None:
    """Remove format characters from every line before any matching, one finding per line touched.

    Only the unusual lines (:class:`~pipeline.parse.lines.LineFacts`) may hold one, unless the
    text has characters beyond U+FFFF, which that search leaves out.
    """
    facts = ctx.facts
    candidates = range(len(ctx.lines)) if facts.astral else sorted(facts.unusual)
    for i in candidates:
        cleaned, removed = remove_invisible(ctx.lines[i])
        if not removed:
            continue
        ctx.set_line(i, cleaned)
        names = describe_code_points(removed)
        if BIDI_CONTROL_RE.search(removed):
            ctx.add(
                "warning",
                "bidi_controls_removed",
                f"ligne {i + 1} : contrôles de direction du texte retirés : {names}",
                "reports",
                None,
                i,
            )
        else:
            ctx.add(
                "info",
                "invisible_characters_removed",
                f"ligne {i + 1} : caractères invisibles retirés : {names}",
                "reports",
                None,
                i,
            )


# --- page furniture ------------------------------------------------------------------------------


def remove_page_furniture(ctx: Context) -> None:
    """Blank the page furniture (page numbers, running headers and footers) and remove form
    feeds; one finding names the lines. Content lines are never blanked (see the module)."""
    feeds = _remove_form_feeds(ctx)
    numbers = _page_number_lines(ctx, feeds)
    running = _running_lines(ctx, feeds, numbers)
    bare_feeds = {i for i in feeds if not ctx.lines[i].strip()}  # a form feed alone on its line
    furniture = sorted(numbers | running | bare_feeds)
    for i in furniture:
        ctx.set_line(i, "")
    ctx.furniture.update(furniture)
    if furniture or feeds:
        ctx.add(
            "info",
            "page_furniture_removed",
            f"mise en page retirée : {len(furniture)} ligne(s) d'en-tête, de pied ou de numéro de page "
            f"({quote_lines(furniture) or 'aucune'}) et {len(feeds)} saut(s) de page ({quote_lines(feeds) or 'aucun'})",
            "reports",
            None,
            (furniture or feeds)[0],
        )


def _remove_form_feeds(ctx: Context) -> list[int]:
    """Remove form feeds from every line; return the lines that held one (each opens a page).
    A form feed is a control character: only unusual lines may hold one."""
    feeds = []
    for i in sorted(ctx.facts.unusual):
        line = ctx.lines[i]
        if FORM_FEED in line:
            ctx.set_line(i, line.replace(FORM_FEED, ""))
            feeds.append(i)
    return feeds


def _page_number_lines(ctx: Context, feeds: list[int]) -> set[int]:
    """Lines that are page numbers: worded ones (« Page 12 »), bare ones beside a form feed
    (on the side of the feed where the document puts them) or in a run of
    :data:`MIN_PAGE_RUN` increasing numbers."""
    lines = ctx.lines
    shaped = {i: m for i in _page_number_candidates(ctx) if (m := _page_number_match(lines[i]))}
    found = {i for i, m in shaped.items() if m.group("worded")}
    found |= _numbers_beside_feeds(lines, feeds, shaped)
    run: list[tuple[int, int]] = []  # (line, number) of the current run of bare numbers
    for i in sorted(shaped):
        if i in found or _awaits_value(lines, i):
            continue
        number = int(_DIGITS_RE.search(lines[i]).group())
        if not (run and 1 <= number - run[-1][1] <= MAX_PAGE_STEP):
            found.update(j for j, _ in run if len(run) >= MIN_PAGE_RUN)
            run = []
        run.append((i, number))
    found.update(j for j, _ in run if len(run) >= MIN_PAGE_RUN)
    return found


def _page_number_candidates(ctx: Context) -> list[int]:
    """The lines that may be page numbers: short, ending with a digit or a dash (as every form
    of :data:`PAGE_NUMBER_RE` does), found without a call per line."""
    return [
        i
        for i, text in enumerate(ctx.facts.stripped)
        if text and len(text) <= MAX_PAGE_NUMBER_CHARS and (text[-1] in PAGE_NUMBER_ENDS or text[-1].isdecimal())
    ]


def _page_number_match(line: str) -> re.Match | None:
    if len(line) > MAX_PAGE_NUMBER_CHARS or "\t" in line or not line.strip():
        return None
    return PAGE_NUMBER_RE.match(line)


def _numbers_beside_feeds(lines: list[str], feeds: list[int], shaped: dict[int, re.Match]) -> set[int]:
    """The bare page number nearest each form feed, on the side (before or after the feed) where
    most feeds have one: a number on the other side is the text's own (a value on its line)."""
    sides: dict[int, list[int]] = {-1: [], 1: []}
    found = {f for f in feeds if f in shaped}
    for f in feeds:
        for side in sides:
            j = _nearest_shaped(lines, f, side, shaped)
            if j is not None:
                sides[side].append(j)
    before, after = sides[-1], sides[1]
    if len(before) != len(after):
        return found | set(before if len(before) > len(after) else after)
    return found | {j for j in before + after if not _awaits_value(lines, j)}


def _nearest_shaped(lines: list[str], feed: int, side: int, shaped: dict[int, re.Match]) -> int | None:
    """The first page-number-shaped line within :data:`FURNITURE_REACH` non-blank lines of ``feed``."""
    seen, j = 0, feed + side
    while 0 <= j < len(lines) and abs(j - feed) <= FURNITURE_MAX_DISTANCE and seen < FURNITURE_REACH:
        if j in shaped:
            return j
        if lines[j].strip():
            seen += 1
        j += side
    return None


def _awaits_value(lines: list[str], i: int) -> bool:
    """Whether the non-blank line before ``i`` ends with a colon (« Nombre de … : » then its value)."""
    for j in range(i - 1, max(-1, i - 1 - FURNITURE_MAX_DISTANCE), -1):
        if lines[j].strip():
            return lines[j].rstrip().endswith(":")
    return False


def _near(lines: list[str], anchor: int) -> list[int]:
    """The anchor and the lines within :data:`FURNITURE_REACH` non-blank lines of it, looking
    at most :data:`FURNITURE_MAX_DISTANCE` lines away."""
    out = [anchor]
    for step in (-1, 1):
        seen, j = 0, anchor + step
        while 0 <= j < len(lines) and abs(j - anchor) <= FURNITURE_MAX_DISTANCE and seen < FURNITURE_REACH:
            if lines[j].strip():
                out.append(j)
                seen += 1
            j += step
    return out


def _running_lines(ctx: Context, feeds: list[int], numbers: set[int]) -> set[int]:
    """Running headers and footers: short lines of text found beside most page boundaries
    (at least :data:`MIN_RUNNING_REPEATS`, and :data:`MIN_RUNNING_SHARE` of them), their
    numbers blurred. Each form feed is a page boundary, a page number belonging to the
    nearest; without form feeds, each page number is one."""
    lines = ctx.lines
    boundaries: dict[str, set[int]] = {}
    where: dict[str, set[int]] = {}
    for anchor, boundary in _boundaries(feeds, numbers):
        for i in _near(lines, anchor):
            shape = _furniture_shape(ctx, lines[i])
            if shape is not None:
                boundaries.setdefault(shape, set()).add(boundary)
                where.setdefault(shape, set()).add(i)
    count = len(feeds) or len(numbers)
    needed = max(MIN_RUNNING_REPEATS, MIN_RUNNING_SHARE * count)
    return {i for shape, found in boundaries.items() if len(found) >= needed for i in where[shape]}


def _boundaries(feeds: list[int], numbers: set[int]) -> list[tuple[int, int]]:
    """``(anchor line, page boundary)`` for every form feed and page number."""
    anchors = [(f, k) for k, f in enumerate(feeds)]
    for n in sorted(numbers):
        if not feeds:
            anchors.append((n, len(anchors)))
            continue
        k = bisect.bisect_left(feeds, n)
        nearest = min((c for c in (k - 1, k) if 0 <= c < len(feeds)), key=lambda c: abs(feeds[c] - n))
        anchors.append((n, nearest))
    return anchors


def _furniture_shape(ctx: Context, line: str) -> str | None:
    """What a running header or footer line looks like with its numbers blurred, or None when
    the line cannot be one (too long, a table cell, a list item, a heading, a status line)."""
    text = line.strip()
    if not text or len(text) > MAX_FURNITURE_CHARS or "\t" in text or BULLET_START_RE.match(text):
        return None
    if PAGE_NUMBER_RE.match(text) or line_kind(text) != TEXT or ctx.status_of_text(text)[2]:
        return None
    if ctx.label_of(text, FIELD_LABEL_CHOICES) or ctx.label_of(text, ACTIONS_CHOICES):
        return None
    return _SPACES_RE.sub(" ", _DIGITS_RE.sub("#", text))


# --- words hyphenated across lines ------------------------------------------------------------------


def join_hyphenated_words(ctx: Context) -> None:
    """Join a word the export cut at a line's end with a hyphen (« transpa- » / « rence »):
    the second half moves up to the first line, which keeps its hyphen only when the text
    writes that compound with one elsewhere (« auto-évaluation »). One finding names the lines."""
    lines = ctx.lines
    compounds: set[str] | None = None
    joined: list[tuple[int, str]] = []
    # A cut line ends with a hyphen, or with a tag after one; a line rewritten below keeps its end.
    ends = [i for i, text in enumerate(ctx.facts.stripped) if text[-1:] in HYPHEN_CUT_ENDS]
    for i in ends:
        line = lines[i]
        cut = _hyphen_cut(line)
        if cut is None:
            continue
        j = ctx.next_nonempty(i + 1, len(lines), MAX_HYPHEN_GAP_BLANKS)
        while j is not None and not strip_markup(lines[j]).strip():  # a line of stray markup (« /> »)
            j = ctx.next_nonempty(j + 1, len(lines), MAX_HYPHEN_GAP_BLANKS)
        if j is None:
            continue
        left = _word_before(line, cut)
        taken = _continuation(ctx, lines[j], left)
        if taken is None:
            continue
        head, rest = taken
        if compounds is None:
            compounds = {w.lower() for w in _HYPHENATED_WORD_RE.findall("\n".join(lines))}
        word = _leading_letters(head)
        keep = f"{left}-{word}".lower() in compounds
        ctx.set_line(i, line[:cut] + ("-" if keep else "") + head + line[cut + 1 :].rstrip())
        ctx.set_line(j, rest)
        joined.append((i, f"{left}-{word}"))
    if joined:
        quoted = ", ".join(f"« {w} » (ligne {i + 1})" for i, w in joined[:MAX_QUOTED_LINES])
        more = ", …" if len(joined) > MAX_QUOTED_LINES else ""
        ctx.add(
            "info",
            "hyphenation_joined",
            f"{len(joined)} mot(s) coupé(s) en fin de ligne rejoint(s) : {quoted}{more}",
            "reports",
            None,
            joined[0][0],
        )


def _hyphen_cut(line: str) -> int | None:
    """Where the hyphen that ends ``line`` (before any trailing tags) stands, when a letter precedes it."""
    end = len(line.rstrip())
    if end == 0:
        return None
    while line[end - 1] == ">":
        m = _TRAILING_TAG_RE.search(line, 0, end)
        if not m:
            return None
        end = len(line[: m.start()].rstrip())
        if end == 0:
            return None
    if line[end - 1] not in HYPHENS or end < 2 or not line[end - 2].isalpha():
        return None
    return end - 1


def _word_before(line: str, cut: int) -> str:
    """The letters just before position ``cut``."""
    start = cut
    while start > 0 and line[start - 1].isalpha():
        start -= 1
    return line[start:cut]


def _continuation(ctx: Context, line: str, left: str) -> tuple[str, str] | None:
    """``(token, rest)``: the first token of ``line`` (the word's second half) and the line
    without it, when that token continues ``left`` (lowercase, or uppercase after an
    uppercase half); None otherwise or when the line is a heading or a status line."""
    body = line.lstrip()
    lead = line[: len(line) - len(body)]
    token = body.split(None, 1)[0] if body else ""
    letters = _leading_letters(token)
    if not letters:
        return None
    if not (letters[0].islower() or (left.isupper() and len(left) > 1 and letters.isupper())):
        return None
    if line_kind(body) != TEXT or ctx.status_of_text(body)[2]:
        return None
    rest = body[len(token) :].lstrip(" ")
    return token, (lead + rest if rest.strip() else "")


def _leading_letters(token: str) -> str:
    n = 0
    while n < len(token) and token[n].isalpha():
        n += 1
    return token[:n]
