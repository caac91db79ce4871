"""The lines of one report and what each one is: the state the section modules share.

What belongs here: :class:`Context` (the report's lines once the layout is cleaned up,
the page furniture removed, the findings gathered so far), :class:`LineFacts`, what the
sections read of every line found once for all lines (stripped text, unusual lines, clean
text), :func:`classify_lines`, the one pass that classifies every line once with a single
compiled pattern, and the small line helpers every section uses (next non-empty line,
residue, label and status matching, title words), with the cheap exact tests that spare
most lines the full look. No section of the template is read here.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
from dataclasses import dataclass, field

from pipeline.findings import Finding
from pipeline.parse.vocabulary import (
    ACTIONS_LABELS,
    ACTIVITY_HEADING,
    CHECK_MARK_RE,
    COMMITMENT_HEADING,
    FIELD_LABELS,
    FOLDED_STATUS_LINES,
    GARBLED_STATUS_RE,
    INDICATORS_HEADING_RAW,
    STATUS_BAND_PATTERNS,
    STATUS_IN_WORDS,
    STATUS_KEYWORDS,
    UNCHECKED_BOX_RE,
)
from pipeline.text import (
    FOLD_CHARS,
    MAX_FOLD_EXPANSION,
    UNUSUAL_RE,
    clean_text,
    fold,
    has_markup_chars,
    similarity,
    strip_list_marker,
    strip_markup,
    strip_markup_keep_tabs,
)

# --- what a line is -----------------------------------------------------------------------

TEXT = "text"
COMMITMENT = "commitment"  # a commitment heading, of the body or of the table of contents
ACTIVITY = "activity"
INDICATORS = "indicators"
STATUS_WORDS = "status_words"  # « Statut : Progression limitée »
#: Kinds that open or divide a commitment's section.
STRUCTURE_KINDS = frozenset({COMMITMENT, ACTIVITY, INDICATORS, STATUS_WORDS})

#: Every heading kind in one pattern, after the line's leading spaces: a line is matched once,
#: and the group that matched names its kind. Written for one line at a time; :data:`TEXT_LINE_RE`
#: is the same for a whole text, whose spaces stop at line ends.
_KIND_PATTERNS = (
    (COMMITMENT, COMMITMENT_HEADING),
    (ACTIVITY, ACTIVITY_HEADING),
    (INDICATORS, INDICATORS_HEADING_RAW),
    (STATUS_WORDS, STATUS_IN_WORDS),
)
LINE_RE = re.compile(r"^\s*(?:" + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _KIND_PATTERNS) + ")")
TEXT_LINE_RE = re.compile(LINE_RE.pattern.replace(r"\s", r"[^\S\n]"), re.MULTILINE)

#: A cache's mark for a value not computed yet (None is a value).
_UNKNOWN = object()
#: :func:`status_of_line` of a line that is not a checklist line.
NOT_A_STATUS = (None, False, False)
_TWO_SPACES_RE = re.compile("  ")

# --- thresholds --------------------------------------------------------------------------------

#: Blank lines looked past for the next line of text, unless the caller says otherwise.
DEFAULT_MAX_BLANKS = 4
#: Longest fragment that can be a label: a label is a few words, a cell's text is longer.
MAX_LABEL_FRAGMENT_CHARS = 80
#: Longest folded label, letters and spaces only (« organisme responsable de la mise en oeuvre » is 42).
MAX_FOLDED_LABEL_CHARS = 48
#: Similarity (0-1) an OCR-damaged label needs to its template form: « Problérnatique » passes,
#: « Problème » does not.
LABEL_SIMILARITY = 0.75
#: Longest line that can be a checklist line (the longest template line is 34 characters;
#: bullets, marks, cell splits add some).
MAX_STATUS_LINE_CHARS = 90
#: Longest folded status line, marks and bullets removed.
MAX_FOLDED_STATUS_CHARS = 70
#: How much longer than its template form a status line may be and still count as one.
STATUS_LENGTH_SLACK = 15
#: A line starting with its template form's first characters (« progress », « complete ») is that line.
STATUS_PREFIX_CHARS = 8
#: Characters beyond its template form's length kept of a line compared with it.
STATUS_HEAD_SLACK = 4
#: Similarity a garbled status line's head needs to its template form.
STATUS_SIMILARITY = 0.55
#: Longest line read as a status by its band figures alone (« (60-90%) »).
MAX_BAND_ONLY_CHARS = 45
#: Longest line taken for an unreadable status line (a band's remains, or a lone check mark).
MAX_GARBLED_STATUS_CHARS = 40


@dataclass
class Context:
    """One report being parsed: its lines (0-based), the findings so far, what each line is.

    ``lines`` is rewritten in place by the layout clean-up (:mod:`pipeline.parse.layout`)
    before any section is read: line numbers never change.
    """

    report_id: str
    lines: list[str]
    findings: list[Finding] = field(default_factory=list)
    #: 0-based lines of page furniture, blanked: skipped, not counted as blank lines.
    furniture: set[int] = field(default_factory=set)
    #: Body headings written otherwise than the template, by (kind, form): their lines.
    heading_forms: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: Lines where an activity's status is given in words on one line.
    status_word_lines: list[int] = field(default_factory=list)
    _facts: LineFacts | None = field(default=None, repr=False)
    _positions: dict[str, list[int]] | None = field(default=None, repr=False)
    _statuses: dict[str, tuple[str | None, bool, bool]] = field(default_factory=dict, repr=False)
    #: :func:`label_of` by label set (its ``id``: hashing the set's tuples on every call costs
    #: more than the look-up) and fragment.
    _labels: dict[int, dict[str, str | None]] = field(default_factory=dict, repr=False)
    _clean: dict[str, str] = field(default_factory=dict, repr=False)

    def add(
        self,
        severity: str,
        code: str,
        message: str,
        table: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        """Record a finding; ``line`` is 0-based (the finding's is 1-based)."""
        self.findings.append(Finding(severity, code, message, table, key, None if line is None else line + 1))

    @property
    def facts(self) -> LineFacts:
        """What the sections read of every line, computed once (:meth:`set_line` keeps them)."""
        if self._facts is None:
            self._facts = LineFacts.of(self.lines)
        return self._facts

    def set_line(self, i: int, text: str) -> None:
        """Rewrite line ``i`` (the layout clean-up does, before any section is read)."""
        self.lines[i] = text
        if self._facts is not None:
            self._facts.refresh(self.lines, i)

    @property
    def kinds(self) -> list[str]:
        """What each line is (see :func:`classify_lines`), computed once, when the first section
        asks (the layout clean-up is done by then)."""
        facts = self.facts
        if facts.kinds is None:
            facts.kinds = classify_lines(self.lines, facts.unusual)
        return facts.kinds

    def is_blank(self, i: int) -> bool:
        """Whether line ``i`` is empty or only spaces."""
        return not self.facts.stripped[i]

    def clean_at(self, i: int) -> str:
        """:func:`~pipeline.text.clean_text` of line ``i``, computed once: a plain line (see
        :class:`LineFacts`) is only stripped, of its list markers too."""
        facts = self.facts
        found = facts.clean[i]
        if found is None:
            line = self.lines[i]
            plain = i not in facts.unusual and "\t" not in line
            found = facts.clean[i] = strip_list_marker(facts.stripped[i]) if plain else self.clean(line)
        return found

    def residue_at(self, i: int) -> bool:
        """:func:`is_residue` of line ``i``: a plain line too long for a residue, and not a
        rule of dashes, is none without being looked at."""
        facts = self.facts
        if i not in facts.unusual and is_long_text(facts.stripped[i]):
            return False
        return is_residue(self.lines[i])

    def status_at(self, i: int) -> tuple[str | None, bool, bool]:
        """:func:`status_of_line` of line ``i``: a plain line too long to be a checklist line
        is none without being looked at."""
        facts = self.facts
        if len(facts.stripped[i]) > MAX_STATUS_LINE_CHARS and i not in facts.unusual:
            return NOT_A_STATUS
        return self.status_of_text(self.lines[i])

    def positions(self, kind: str) -> list[int]:
        """The lines of one heading kind, in order (from :attr:`kinds`, indexed once)."""
        if self._positions is None:
            self._positions = {}
            for i, k in enumerate(self.kinds):
                if k != TEXT:
                    self._positions.setdefault(k, []).append(i)
        return self._positions.get(kind, [])

    def lines_matching(self, *patterns: re.Pattern) -> list[int]:
        """The lines where one of ``patterns`` (which must not cross a line end) matches, in order:
        one search over the whole text per pattern, its matches' offsets turned into line numbers
        as it goes."""
        text = "\n".join(self.lines)
        found: set[int] = set()
        for pattern in patterns:
            line, offset = 0, 0
            for m in pattern.finditer(text):
                line += text.count("\n", offset, m.start())
                offset = m.start()
                found.add(line)
        return sorted(found)

    def status_of(self, i: int) -> tuple[str | None, bool, bool]:
        """:func:`status_of_line` of line ``i``."""
        return self.status_at(i)

    def status_of_text(self, text: str) -> tuple[str | None, bool, bool]:
        """:func:`status_of_line`, computed once per text in this report (the checklist's lines
        recur hundreds of times)."""
        found = self._statuses.get(text)
        if found is None:
            found = self._statuses[text] = status_of_line(text)
        return found

    def label_of(self, fragment: str, labels: tuple) -> str | None:
        """:func:`label_of`, computed once per fragment in this report (labels recur)."""
        if len(fragment) > MAX_LABEL_FRAGMENT_CHARS:
            return None
        known = self._labels.get(id(labels))
        if known is None:
            known = self._labels[id(labels)] = {}
        found = known.get(fragment, _UNKNOWN)
        if found is _UNKNOWN:
            found = known[fragment] = label_of(fragment, labels)
        return found

    def clean(self, text: str) -> str:
        """:func:`~pipeline.text.clean_text`, computed once per text in this report (sections
        read the same line for several purposes)."""
        found = self._clean.get(text)
        if found is None:
            found = self._clean[text] = clean_text(text)
        return found

    def next_nonempty(self, start: int, stop: int, max_blank: int = DEFAULT_MAX_BLANKS) -> int | None:
        """The first non-empty line in ``[start, stop)`` after at most ``max_blank`` blank
        lines (page furniture is skipped without counting), or None."""
        blanks, lines = 0, self.lines
        for j in range(start, min(stop, len(lines))):
            line = lines[j]
            if line and not line.isspace():
                return j
            if j in self.furniture:
                continue
            blanks += 1
            if blanks > max_blank:
                return None
        return None

    def is_structure(self, i: int) -> bool:
        """Whether line ``i`` opens or divides a section: a heading, a one-line status, a field label."""
        return self.kinds[i] in STRUCTURE_KINDS or any(
            self.label_of(frag, FIELD_LABEL_CHOICES) for frag in self.lines[i].split("\t")[:2]
        )


def classify_lines(lines: list[str], unusual: set[int] | None = None) -> list[str]:
    """What each line is, in one pass: :data:`LINE_RE` tried once on every line (its markup
    stripped first when it has any); a line no heading kind matches is :data:`TEXT`.

    ``unusual`` (see :class:`LineFacts`) are the only lines that may hold markup, when known.
    """
    matches = list(map(LINE_RE.match, lines))  # the pattern's own loop: no Python call per line
    for i in range(len(lines)) if unusual is None else unusual:
        if has_markup_chars(lines[i]):
            matches[i] = LINE_RE.match(strip_markup_keep_tabs(lines[i]))
    return [TEXT if m is None else m.lastgroup for m in matches]


@dataclass
class LineFacts:
    """What the sections read of every line, found for all lines at once.

    Attributes:
        stripped: each line without its surrounding spaces (empty for a blank line).
        unusual: the lines holding a character :func:`~pipeline.text.clean_text` or
            :func:`~pipeline.text.strip_markup` acts on besides tabs and single spaces (markup,
            controls, format characters, other spaces, two spaces in a row). The other lines
            are *plain*: cleaning one without tabs is stripping it.
        clean: each line's clean text once computed (:meth:`Context.clean_at`), else None.
        astral: whether the text has characters beyond U+FFFF (which :data:`UNUSUAL_RE`
            leaves out: in a set of characters they make every search three times slower).
        kinds: what each line is (:func:`classify_lines`), once the layout is cleaned up.
    """

    stripped: list[str]
    unusual: set[int]
    clean: list[str | None]
    astral: bool = False
    kinds: list[str] | None = None

    @classmethod
    def of(cls, lines: list[str]) -> LineFacts:
        text = "\n".join(lines)
        astral = len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)
        return cls(list(map(str.strip, lines)), unusual_lines(lines, text), [None] * len(lines), astral)

    def refresh(self, lines: list[str], i: int) -> None:
        """Line ``i`` was rewritten: its facts again."""
        line = lines[i]
        self.stripped[i] = line.strip()
        self.clean[i] = None
        if UNUSUAL_RE.search(line) or "  " in line:
            self.unusual.add(i)
        else:
            self.unusual.discard(i)
        if self.kinds is not None:
            self.kinds[i] = line_kind(line)


def unusual_lines(lines: list[str], text: str | None = None) -> set[int]:
    """The lines holding a character of :data:`UNUSUAL_RE` or two spaces in a row: one search
    over the whole text (``text``: the lines joined, when the caller has it), resumed at the next
    line after each line found."""
    text = "\n".join(lines) if text is None else text
    found: set[int] = set()
    for pattern in (UNUSUAL_RE, _TWO_SPACES_RE):
        if not pattern.search(text):
            continue
        starts = list(itertools.accumulate(map((1).__add__, map(len, lines)), initial=0))  # with the line ends
        m = pattern.search(text)
        while m:
            i = bisect.bisect_right(starts, m.start()) - 1
            found.add(i)
            m = pattern.search(text, starts[i + 1]) if i + 1 < len(lines) else None
    return found


def line_kind(line: str) -> str:
    """The kind of one line: a heading kind of :data:`LINE_RE`, or :data:`TEXT`."""
    m = LINE_RE.match(strip_markup_keep_tabs(line))
    return m.lastgroup if m else TEXT


# --- line helpers -------------------------------------------------------------------------------

#: Page numbers, rules (« ----- »), running headers, stray « /> »; written so that no
#: quantifier can give back what another takes (« [-\s]*-{3,}[-\s]* » took minutes on a
#: line of 2,000 dashes).
RESIDUE_RE = re.compile(r"^\s*+(?:(?:\d{1,4}|[A-Z][A-Z ]{4,40}[A-Z]|/>)\s*|(?=[-\s]*-{3})[-\s]+)$")
_NOT_LABEL_CHARS_RE = re.compile(r"[^a-z ]")
BULLET_START_RE = re.compile(r"^\s*(?:[-–—•●○◦▪▫■►➢→*·]|[\uf000-\uf8ff])")
#: Punctuation that ends a list item or a sentence.
ITEM_END = (".", ";", ":", "!", "?")


#: Longest line :data:`RESIDUE_RE` takes that is not a rule of dashes (a running header of 42
#: capitals): a longer line of text, with no markup to shorten it, is no residue.
MAX_RESIDUE_CHARS = 42
#: The characters :data:`BULLET_START_RE` takes for a bullet (the symbol-font range apart).
BULLETS = frozenset("-–—•●○◦▪▫■►➢→*·")


def is_residue(line: str) -> bool:
    """Page numbers, rules, running headers, lines that are only stray markup."""
    if is_long_text(line.strip()) and not has_markup_chars(line):
        return False
    stripped = strip_markup(line).strip()
    return not stripped or bool(RESIDUE_RE.match(stripped))


def is_long_text(stripped: str) -> bool:
    """Whether a stripped line without markup is no residue (:data:`RESIDUE_RE`): too long for
    a page number or a running header, and holding more than dashes and spaces (a rule)."""
    if len(stripped) <= MAX_RESIDUE_CHARS:
        return False
    rest = stripped.lstrip("- \t")
    return bool(rest) and not rest[0].isspace()


def is_bullet(text: str) -> bool:
    """Whether ``text`` starts with a bullet after its spaces: ``BULLET_START_RE.match(text)``
    without the pattern (its first character decides)."""
    first = text.lstrip()[:1]
    return first in BULLETS or "\uf000" <= first <= "\uf8ff"


def join_items(raw_lines: list[str], texts: list[str] | None = None) -> list[str]:
    """Group lines into list items (a bullet, or a line after a finished item, starts one) and
    clean them; ``texts`` are the lines' :func:`~pipeline.text.clean_text`, when already known."""
    items: list[str] = []
    for k, raw in enumerate(raw_lines):
        text = clean_text(raw) if texts is None else texts[k]
        if text and not is_residue(raw):
            add_to_items(items, raw, text)
    return items


def add_to_items(items: list[str], raw: str, text: str) -> None:
    """Add the line ``raw`` (cleaned: ``text``) to ``items``: a new item when it is the
    first, a bullet, or follows a finished item; else the rest of the last one."""
    if not items or is_bullet(raw) or items[-1].endswith(ITEM_END):
        items.append(text)
    else:
        items[-1] = f"{items[-1]} {text}"


def title_tokens(text: str) -> set[str]:
    """A title's significant words: folded, longer than two characters."""
    return {w for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 2}


def jaccard(ta: set[str], tb: set[str]) -> float:
    """Similarity of two titles' significant words."""
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def label_choices(labels: dict[str, list[str]]) -> tuple:
    """Labels as :func:`label_of` takes them (hashable, for its cache)."""
    return tuple((name, tuple(variants)) for name, variants in labels.items())


@functools.lru_cache(maxsize=64)
def _fewest_label_chars(labels: tuple, threshold: float) -> int:
    """Fewest characters a folded fragment needs to reach ``threshold`` with one of the labels:
    a ratio of ``2 * min(n, m) / (n + m)`` at best (:meth:`difflib.SequenceMatcher.real_quick_ratio`),
    less one for rounding."""
    shortest = min(len(v) for _, variants in labels for v in variants)
    return max(0, math.floor(threshold * shortest / (2 - threshold)) - 1)


def label_of(fragment: str, labels: tuple, threshold: float = LABEL_SIMILARITY) -> str | None:
    """The name of the label ``fragment`` is (OCR damage tolerated), or None.

    Args:
        labels: :func:`label_choices` of a ``{name: [folded variants]}`` dictionary.
    """
    if len(fragment) > MAX_LABEL_FRAGMENT_CHARS or not fragment.strip():
        return None
    most_chars = len(fragment) if fragment.isascii() else len(fragment) * MAX_FOLD_EXPANSION
    if most_chars < _fewest_label_chars(labels, threshold):
        return None  # too short to be any label, even folded (ASCII only lowercases; « œ » -> « oe »)
    return _label_of_folded(_NOT_LABEL_CHARS_RE.sub("", fold(strip_markup(fragment))).strip(), labels, threshold)


@functools.lru_cache(maxsize=4096)
def _label_of_folded(folded: str, labels: tuple, threshold: float) -> str | None:
    if not folded or len(folded) > MAX_FOLDED_LABEL_CHARS:
        return None
    for name, variants in labels:
        for variant in variants:
            if folded == variant or similarity(folded, variant, threshold) >= threshold:
                return name
    return None


def status_of_line(raw: str) -> tuple[str | None, bool, bool]:
    """Classify a line of an activity's region as a checklist line.

    Returns:
        ``(status, is_checked, is_status_line)``: the status the line stands for (None
        when it is not a recognisable checklist line), whether it carries a check mark,
        and whether it is a checklist line at all (recognised or garbled).
    """
    if len(raw) > MAX_STATUS_LINE_CHARS and len(raw.strip()) > MAX_STATUS_LINE_CHARS and not has_markup_chars(raw):
        return NOT_A_STATUS  # too long to be a status line, and no markup to shorten it
    if not _STATUS_HINT_RE.search(raw) and not has_markup_chars(raw):
        return NOT_A_STATUS  # no mark, box, figure or status word, and no markup hiding one
    stripped = strip_markup(raw).strip()
    if not stripped or len(stripped) > MAX_STATUS_LINE_CHARS:
        return None, False, False
    checked = bool(CHECK_MARK_RE.search(stripped))
    bare = CHECK_MARK_RE.sub("", stripped) if checked else stripped
    bare = UNCHECKED_BOX_RE.sub("", bare) if UNCHECKED_BOX_RE.search(bare) else bare
    folded = fold(strip_list_marker(bare))
    if not folded or len(folded) > MAX_FOLDED_STATUS_CHARS:
        return None, checked, False
    status = status_of_phrase(folded)
    if status is not None:
        return status, checked, True
    band_remains = bool(GARBLED_STATUS_RE.search(folded)) and "%" in stripped + folded
    garbled = len(folded) <= MAX_GARBLED_STATUS_CHARS and (band_remains or checked)
    return None, checked, garbled


def status_of_phrase(folded: str) -> str | None:
    """The status a folded checklist line or status phrase names (by its words or its band), or None."""
    for keyword, status in STATUS_KEYWORDS:
        if keyword in folded:
            canonical = FOLDED_STATUS_LINES[status]
            head = folded[: len(canonical) + STATUS_HEAD_SLACK]
            if (
                folded.startswith(canonical[:STATUS_PREFIX_CHARS])
                or len(folded) <= len(canonical) + STATUS_LENGTH_SLACK
                or similarity(head, canonical, STATUS_SIMILARITY) >= STATUS_SIMILARITY
            ):
                return status
    for pattern, status in STATUS_BAND_PATTERNS:
        if pattern.search(folded) and len(folded) <= MAX_BAND_ONLY_CHARS:
            return status
    return None


def folding_classes(keyword: str) -> list[set[str]]:
    """For each letter of ``keyword``, the characters :func:`~pipeline.text.fold` turns into it:
    the letter in either case or accented, for the first one also a ligature ending with it
    (« œ » -> « oe »), for the last one a ligature starting with it. A ligature inside the
    keyword would need more: there is none."""
    if any(len(base) > 1 and base.lower() in keyword for base in FOLD_CHARS.values()):
        raise ValueError(f"« {keyword} » holds a ligature's letters: folding_classes does not cover it")
    classes = []
    for k, letter in enumerate(keyword):
        chars = {letter, letter.upper()}
        for char, base in FOLD_CHARS.items():
            base = base.lower()
            ends_with = k == 0 and base.endswith(letter)
            starts_with = k == len(keyword) - 1 and base.startswith(letter)
            if base == letter or ends_with or starts_with:
                chars.add(char)
        classes.append(chars)
    return classes


def char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def folding_to(keyword: str) -> str:
    """A pattern of the texts :func:`~pipeline.text.fold` may turn into ``keyword``."""
    return "".join(char_class(chars) for chars in folding_classes(keyword))


def _status_hint_pattern() -> str:
    """:data:`_STATUS_HINT_RE`: one set of characters first (a mark, a figure, or the letter of
    each status word that has the fewest forms: « m », « f »), the rest of the word looked at
    around it, so that the search skips from one such character to the next."""
    marks = r"\d✓✔√☑✅\[☐□"
    anchors, around = set(), []
    for keyword, _ in STATUS_KEYWORDS:
        classes = folding_classes(keyword)
        k = min(range(len(keyword)), key=lambda i: len(classes[i]))
        anchors |= classes[k]
        behind = "".join(char_class(c) for c in classes[: k + 1])
        ahead = "".join(char_class(c) for c in classes[k + 1 :])
        around.append(f"(?<={behind})" + (f"(?={ahead})" if ahead else ""))
    first = "[" + marks + char_class(anchors)[1:-1] + "]"
    return first + "(?:" + "|".join(around) + f"|(?<=[{marks}]))"


#: What a line needs, markup apart, to be a checklist line (:func:`status_of_line`): a check
#: mark or box, a figure (a band, or its remains), or a status word, folded.
_STATUS_HINT_RE = re.compile(_status_hint_pattern())

#: The two-column table's labels and the narrative's, as :func:`label_of` takes them.
FIELD_LABEL_CHOICES = label_choices(FIELD_LABELS)
ACTIONS_CHOICES = label_choices({"actions": ACTIONS_LABELS})
