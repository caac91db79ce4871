"""Text clean-up for report lines: decoding, markup and list-marker removal, folding.

Everything here is a pure function of strings or bytes. The parser
(:mod:`pipeline.parse`) uses it to turn PDF-extracted lines into clean field values.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

#: Largest report file accepted, in bytes (the seed is 0.25 MiB): protects memory and
#: time from a runaway export or a file that is not a report.
MAX_REPORT_BYTES = 20 * 1024 * 1024
#: Most lines a report may have (the seed has 3,529): protects the parser's time.
MAX_REPORT_LINES = 200_000
#: Share of lines that may hold bytes invalid in UTF-8 for a file with no better reading
#: to be read as UTF-8 with those bytes replaced: more damage than this is another
#: encoding, and reading it as UTF-8 would publish replacement characters throughout.
MAX_DAMAGED_LINE_SHARE = 0.01

_BOM = b"\xef\xbb\xbf"
#: Control bytes no text file holds (tab, line feed, form feed and carriage return excepted).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_BYTE_LINE_BREAK_RE = re.compile(rb"\r\n|\r|\n")
_ASCII_BYTES = bytes(range(0x80))
#: A well-formed multi-byte UTF-8 sequence (RFC 3629): how much of a file is UTF-8.
_UTF8_SEQUENCE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)

#: UTF-8 continuation bytes (0x80-0xBF) as Windows-1252 or Latin-1 show them.
_CONTINUATION_CHARS = re.escape(
    bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore") + bytes(range(0x80, 0xA0)).decode("latin-1")
)
#: UTF-8 read one byte at a time: « Ã© » for é, « Â« » for «, « Å“ » for œ, « Ø§ » for
#: Arabic, « â€™ » for ’, « ï»¿ » for the BOM; and C1 controls, which no French text has.
#: (Not « Ù », which French writes before a no-break space: « OÙ ? ».)
MOJIBAKE_RE = re.compile(f"[ÂÃÅØ][{_CONTINUATION_CHARS}]|â[{_CONTINUATION_CHARS}]{{2}}|ï»¿|[\x80-\x9f]")

#: Format characters (Unicode category Cf; the unassigned rest of U+13430-U+1343F too):
#: invisible, yet a soft hyphen or zero-width space inside « Activité » or « ENGAGEMENT »
#: hides the heading from the parser, and they must never reach published text. Those
#: beyond U+FFFF are kept apart: in a character class they make every search three
#: times slower, so only :data:`INVISIBLE_RE`, run once per line, has them.
_FORMAT_CHARS_BMP = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
)
_FORMAT_CHARS_ASTRAL = (
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
INVISIBLE_RE = re.compile(f"[{_FORMAT_CHARS_BMP}{_FORMAT_CHARS_ASTRAL}]")
_INVISIBLE_BMP_RE = re.compile(f"[{_FORMAT_CHARS_BMP}]")
#: Bidirectional controls (all format characters): they can reorder what a reader sees
#: of a line, so their removal is reported under a code of its own.
BIDI_CONTROL_RE = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

#: A dash before a digit is a minus sign (« -2+3 »), not a list marker.
_LIST_MARKER_RE = re.compile(r"^(?:[-–—](?!\d)|[•●○◦▪▫■►➢→*·]|[\uf000-\uf8ff]|O(?=\s))\s*")
#: Every leading list marker in one match: removing them one at a time copies the line
#: once per marker, quadratic on a line of dashes.
_LIST_MARKERS_RE = re.compile(f"(?:{_LIST_MARKER_RE.pattern.removeprefix('^')})*")
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_LATEX_CMD_RE = re.compile(r"\\(?:underline|textbf|textit|emph|url|href)\{([^{}]*)\}")
_LATEX_ESCAPE_RE = re.compile(r"\\([%'_&#$])")
_CONTROL_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_CONTROL_RE = re.compile(f"[{_CONTROL_CHARS}{_FORMAT_CHARS_BMP}]")
_PRIVATE_USE_RE = re.compile(r"[\ue000-\uf8ff]")
_MARKUP_TRIGGER_RE = re.compile(f"[<>/\\\\$\ue000-\uf8ff{_CONTROL_CHARS}{_FORMAT_CHARS_BMP}]")
#: What :func:`clean_text` may change in a line besides tabs, single spaces and list markers:
#: markup triggers and spaces other than the plain one (« two spaces » are looked for apart:
#: a pattern of one set of characters is searched three times faster than any other).
UNUSUAL_RE = re.compile(f"[<>/\\\\$\ue000-\uf8ff{_CONTROL_CHARS}{_FORMAT_CHARS_BMP}\u00a0\u2000-\u200a\u202f]")
#: A run of spaces that is not already one plain space (a single « » is left as it is: most
#: spaces are, and replacing each by itself makes collapsing spaces five times slower).
_SPACE_RE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f][ \t\u00a0\u2000-\u200a\u202f]*| [ \t\u00a0\u2000-\u200a\u202f]+")
#: The spaces :data:`_SPACE_RE` replaces even alone. A text with none of them and no « two
#: spaces » has nothing to collapse: one search for a set of characters tells it, three times
#: faster than :data:`_SPACE_RE` finding nothing.
_ODD_SPACE_RE = re.compile(r"[\t\u00a0\u2000-\u200a\u202f]")
#: First characters of a list marker (:data:`_LIST_MARKER_RE`, the symbol-font range apart): a
#: text starting otherwise has none to remove.
_MARKER_STARTS = frozenset("-–—•●○◦▪▫■►➢→*·O")


class ReportInputError(Exception):
    """A report file that cannot be read as a report: binary, empty, undecodable, …

    Attributes:
        path: the file.
        line: 1-based line of the problem, or None when it concerns the whole file.
        code: stable finding code (``file_empty``, ``file_binary``, …).
        problem: readable description.
    """

    def __init__(self, path: str, code: str, problem: str, line: int | None = None):
        self.path, self.code, self.problem, self.line = str(path), code, problem, line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class DecodedText:
    """A report's bytes as text, and how they were read.

    Attributes:
        text: the text, without the BOM.
        encoding: ``utf-8``, ``utf-8-sig`` (UTF-8 with a BOM) or ``cp1252``.
        replaced_lines: 1-based lines holding bytes invalid in UTF-8, each replaced by
            U+FFFD; the caller records one finding per line.
    """

    text: str
    encoding: str
    replaced_lines: tuple[int, ...] = ()


def decode_report(data: bytes, path: str = "<bytes>") -> DecodedText:
    """Decode report bytes.

    Valid UTF-8, with or without BOM, is read as it is. A file that is mostly UTF-8 (its
    valid multi-byte sequences outnumber its stray bytes, or at most
    :data:`MAX_DAMAGED_LINE_SHARE` of its lines are damaged) is read as UTF-8 with the
    stray bytes replaced by U+FFFD, the damaged lines listed. Windows-1252 is read only
    when the file is not mostly UTF-8 and reads as clean text (no byte Windows-1252
    leaves undefined, no mojibake); the caller records a finding.

    Raises:
        ReportInputError: ``file_too_large``, ``file_empty``, ``file_binary`` or
            ``file_undecodable`` (naming the line of the first bad byte).
    """
    check_report_size(len(data), path)
    if not data.strip(b" \t\r\n\x0c" + _BOM):
        raise ReportInputError(path, "file_empty", "the file is empty (no text at all)")
    sample = data[:65536]
    if b"\x00" in sample:
        raise ReportInputError(path, "file_binary", "the file is binary (it contains NUL bytes), not report text")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(sample) // 100):
        raise ReportInputError(
            path, "file_binary", f"the file is binary ({controls} control bytes in its first {len(sample)} bytes)"
        )
    line_count = count_lines(data)
    if line_count > MAX_REPORT_LINES:
        raise ReportInputError(
            path,
            "file_too_large",
            f"the file has {line_count} lines, over the limit of {MAX_REPORT_LINES} (MAX_REPORT_LINES)",
        )
    has_bom = data.startswith(_BOM)
    body, encoding = (data[len(_BOM) :], "utf-8-sig") if has_bom else (data, "utf-8")
    try:
        return DecodedText(body.decode("utf-8"), encoding)
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    damaged = damaged_utf8_lines(body)
    if is_mostly_utf8(body):
        return DecodedText(body.decode("utf-8", errors="replace"), encoding, damaged)
    cp1252 = None if has_bom else clean_cp1252(body)
    if cp1252 is not None:
        return DecodedText(cp1252, "cp1252")
    if len(damaged) <= MAX_DAMAGED_LINE_SHARE * line_count:
        return DecodedText(body.decode("utf-8", errors="replace"), encoding, damaged)
    raise ReportInputError(
        path,
        "file_undecodable",
        f"the file is neither UTF-8 nor clean Windows-1252 (byte 0x{body[first_bad]:02x}; "
        f"{len(damaged)} of {line_count} lines are not UTF-8)",
        damaged[0],
    )


def check_report_size(byte_count: int, path: str = "<bytes>") -> None:
    """Refuse a report of more than :data:`MAX_REPORT_BYTES` bytes (``file_too_large``)."""
    if byte_count > MAX_REPORT_BYTES:
        raise ReportInputError(
            path,
            "file_too_large",
            f"the file has {byte_count} bytes, over the limit of {MAX_REPORT_BYTES} bytes "
            f"({MAX_REPORT_BYTES / 2**20:g} MiB, MAX_REPORT_BYTES)",
        )


def count_lines(data: bytes) -> int:
    """Lines of a file as an editor counts them (LF, CRLF or CR; a final break opens no line)."""
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") if b"\r" in data else data.count(b"\n")
    return breaks if data.endswith((b"\n", b"\r")) else breaks + 1


def damaged_utf8_lines(data: bytes) -> tuple[int, ...]:
    """1-based numbers of the lines holding bytes that are not valid UTF-8."""
    damaged = []
    for number, line in enumerate(_BYTE_LINE_BREAK_RE.split(data), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            damaged.append(number)
    return tuple(damaged)


def is_mostly_utf8(data: bytes) -> bool:
    """Whether the file's valid multi-byte UTF-8 sequences are at least as many as its stray non-ASCII bytes."""
    rest, sequences = _UTF8_SEQUENCE_RE.subn(b"", data)
    stray = len(rest.translate(None, _ASCII_BYTES))
    return sequences > 0 and sequences >= stray


def clean_cp1252(data: bytes) -> str | None:
    """The bytes as Windows-1252, or None when they hold a byte it leaves undefined or read as mojibake."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    return None if looks_like_mojibake(text) else text


def looks_like_mojibake(text: str) -> bool:
    """Whether ``text`` shows UTF-8 read as Windows-1252 or Latin-1 (« ActivitÃ© »,
    « lâ€™État »), or C1 control characters.

    U+FFFD is not mojibake: :func:`decode_report` reports the lines it put it on.
    """
    return bool(MOJIBAKE_RE.search(text))


def has_invisible(text: str) -> bool:
    """Whether ``text`` holds a format character: one search without the characters beyond
    U+FFFF (which make a search three times slower), then those only when the text has any
    character beyond U+FFFF (its UTF-16 form is then longer than two bytes a character)."""
    if _INVISIBLE_BMP_RE.search(text):
        return True
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text) and bool(INVISIBLE_RE.search(text))


def remove_invisible(text: str) -> tuple[str, str]:
    """``text`` without its format characters (category Cf), and the characters removed, in order."""
    removed = INVISIBLE_RE.findall(text)
    return (INVISIBLE_RE.sub("", text), "".join(removed)) if removed else (text, "")


def describe_code_points(chars: str) -> str:
    r"""``"\u00ad\u200b\u00ad"`` -> ``"U+00AD (SOFT HYPHEN), U+200B (ZERO WIDTH SPACE)"``: each once, in order."""
    return ", ".join(f"U+{ord(c):04X} ({unicodedata.name(c, 'sans nom')})" for c in dict.fromkeys(chars))


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR only, so line numbers match what an editor shows."""
    if "\r" not in text:
        return text.split("\n")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _fold_table() -> dict[int, str]:
    table = {ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae", ord("Æ"): "AE"}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
        if base and base != char and base.isascii():
            table[code] = base
    return table


_FOLD_TABLE = _fold_table()
#: :data:`_FOLD_TABLE` by character, and its characters in one pattern: replacing only the
#: accented letters is four times faster than ``str.translate``, which looks every character up.
FOLD_CHARS = {chr(code): base for code, base in _FOLD_TABLE.items()}
_FOLD_RE = re.compile("[" + "".join(re.escape(c) for c in sorted(FOLD_CHARS)) + "]")
#: Most characters :func:`fold` makes of one (« œ » -> « oe »; lowercasing adds none once the
#: table has replaced « İ », the one letter whose lowercase is two characters).
MAX_FOLD_EXPANSION = max(len(base) for base in FOLD_CHARS.values())


def _fold_char(m: re.Match) -> str:
    return FOLD_CHARS[m.group()]


def fold(text: str) -> str:
    """Lowercase, accents and ligatures removed, whitespace collapsed: for comparisons."""
    if not text.isascii():  # an ASCII text has no letter of the table (isascii is a flag, not a scan)
        text = _FOLD_RE.sub(_fold_char, text)
    return collapse_spaces(text.lower())


def similarity(a: str, b: str, at_least: float = 0.0) -> float:
    """Similarity ratio (0-1) of two folded strings; 0 when cheap bounds show it is below ``at_least``."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if at_least and (matcher.real_quick_ratio() < at_least or matcher.quick_ratio() < at_least):
        return 0.0
    return matcher.ratio()


def strip_markup(text: str) -> str:
    """Remove stray HTML tags, ``/>``, LaTeX commands and escapes, control characters."""
    if not _MARKUP_TRIGGER_RE.search(text):
        return text.replace("\t", " ")
    text = _LATEX_CMD_RE.sub(r"\1", text)
    text = _LATEX_ESCAPE_RE.sub(r"\1", text)
    text = text.replace("$", "") if "\\" in text or text.count("$") >= 2 else text
    text = _TAG_RE.sub("", text)
    text = text.replace("/>", "")
    text = _PRIVATE_USE_RE.sub(" ", text)
    return _CONTROL_RE.sub("", text.replace("\t", " "))


def has_markup(text: str) -> bool:
    return bool(_TAG_RE.search(text) or "/>" in text or _LATEX_CMD_RE.search(text) or _LATEX_ESCAPE_RE.search(text))


def strip_list_marker(text: str) -> str:
    """Remove leading list markers (``-``, ``•``, ``→``, symbol-font bullets), repeatedly."""
    text = text.strip()
    first = text[:1]
    if first not in _MARKER_STARTS and not "\uf000" <= first <= "\uf8ff":
        return text
    return text[_LIST_MARKERS_RE.match(text).end() :].strip()


def join_fragments(fragments: list[str]) -> str:
    """Join tab-separated cell fragments, mending words the PDF split across cells.

    ``["Formation des f", "formateurs chargés"]`` -> ``"Formation des formateurs chargés"``;
    ``["Progression limitée", "ée (1-59%)"]`` -> ``"Progression limitée (1-59%)"``.
    """
    if len(fragments) == 1:
        return collapse_spaces(fragments[0].strip())
    head: list[str] = []  # the text up to its last space, in pieces
    last = ""  # the text's last word: what follows its last space
    for frag in (f.strip() for f in fragments):
        if not frag:
            continue
        first = frag.split(" ", 1)[0]
        if not head and not last:
            piece = frag
        elif len(last) < len(first) and first.startswith(last) and last.isalpha():
            last, piece = "", frag
        elif 1 < len(first) < len(last) and last.endswith(first) and first.isalpha():
            piece = frag[len(first) :]
        else:
            piece = f" {frag}"
        space = piece.rfind(" ")
        if space < 0:
            last += piece
        else:
            head.extend((last, piece[: space + 1]))
            last = piece[space + 1 :]
    return collapse_spaces("".join(head) + last)


def collapse_spaces(text: str) -> str:
    """Every run of spaces, tabs and no-break spaces as one space; the ends stripped."""
    if "  " not in text and ((text.isascii() and "\t" not in text) or not _ODD_SPACE_RE.search(text)):
        return text.strip()  # nothing to collapse
    return _SPACE_RE.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """A line as a field value: markup and list markers removed, fragments joined."""
    if "\t" not in text and not _MARKUP_TRIGGER_RE.search(text):
        return strip_list_marker(collapse_spaces(text))  # one fragment, nothing to strip
    return strip_list_marker(join_fragments(strip_markup_keep_tabs(text).split("\t")))


def strip_markup_keep_tabs(text: str) -> str:
    """:func:`strip_markup` that keeps tabs (cell separators) in place."""
    if not _MARKUP_TRIGGER_RE.search(text):
        return text
    return "\t".join(strip_markup(part) for part in text.split("\t"))


def has_markup_chars(text: str) -> bool:
    """Whether ``text`` holds a character :func:`strip_markup` may remove (a cheap test first)."""
    return bool(_MARKUP_TRIGGER_RE.search(text))


def uppercase_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if c.isupper()) / len(letters)
