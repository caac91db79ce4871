"""Text clean-up for report lines: decoding, markup and list-marker removal, folding.

Everything here is a pure function of strings or bytes. The parser
(:mod:`pipeline.parse`) uses it to turn PDF-extracted lines into clean field values.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

#: Check marks the template's exports put in front of the checked status line.
CHECK_MARK_RE = re.compile(r"[✓✔√☑✅]|\[\s*[xX]\s*\]")
UNCHECKED_BOX_RE = re.compile(r"\[\s*\]|[☐□]")

_LIST_MARKER_RE = re.compile(r"^(?:[-–—•●○◦▪▫■►➢→*·]|[\uf000-\uf8ff]|O(?=\s))\s*")
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_LATEX_CMD_RE = re.compile(r"\\(?:underline|textbf|textit|emph|url|href)\{([^{}]*)\}")
_LATEX_ESCAPE_RE = re.compile(r"\\([%'_&#$])")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\ufeff]")
_PRIVATE_USE_RE = re.compile(r"[\ue000-\uf8ff]")
_MARKUP_TRIGGER_RE = re.compile(r"[<>/\\$\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\ufeff\ue000-\uf8ff]")
_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f]+")


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


def decode_report(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode report bytes; return ``(text, encoding)``.

    UTF-8 with or without BOM is the norm; Windows-1252 is accepted as a fallback (the
    caller records a finding). Raises :class:`ReportInputError` for empty, binary or
    undecodable input.
    """
    if not data.strip(b" \t\r\n\x0c\xef\xbb\xbf"):
        raise ReportInputError(path, "file_empty", "the file is empty (no text at all)")
    sample = data[:65536]
    if b"\x00" in sample:
        raise ReportInputError(path, "file_binary", "the file is binary (it contains NUL bytes), not report text")
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if controls > max(8, len(sample) // 100):
        raise ReportInputError(path, "file_binary", f"the file is binary ({controls} control bytes in its first {len(sample)} bytes)")
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(data, "utf-8-sig", path), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        line = data[: utf8_error.start].count(b"\n") + 1
        raise ReportInputError(
            path, "file_undecodable", f"the file is neither UTF-8 nor Windows-1252 (byte 0x{data[utf8_error.start]:02x})", line
        ) from None


def _decode(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ReportInputError(path, "file_undecodable", f"invalid {encoding} byte 0x{data[exc.start]:02x}", line) from None


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF or CR only, so line numbers match what an editor shows."""
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


def fold(text: str) -> str:
    """Lowercase, accents and ligatures removed, whitespace collapsed: for comparisons."""
    return _SPACE_RE.sub(" ", text.translate(_FOLD_TABLE).lower()).strip()


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
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _LIST_MARKER_RE.sub("", text, count=1).strip()
    return text


def join_fragments(fragments: list[str]) -> str:
    """Join tab-separated cell fragments, mending words the PDF split across cells.

    ``["Formation des f", "formateurs chargés"]`` -> ``"Formation des formateurs chargés"``;
    ``["Progression limitée", "ée (1-59%)"]`` -> ``"Progression limitée (1-59%)"``.
    """
    out = ""
    for frag in (f.strip() for f in fragments):
        if not frag:
            continue
        if not out:
            out = frag
            continue
        last = out.rsplit(" ", 1)[-1]
        first = frag.split(" ", 1)[0]
        if len(last) < len(first) and first.startswith(last) and last.isalpha():
            out = out[: len(out) - len(last)] + frag
        elif 1 < len(first) < len(last) and last.endswith(first) and first.isalpha():
            out = out + frag[len(first):]
        else:
            out = f"{out} {frag}"
    return collapse_spaces(out)


def collapse_spaces(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """A line as a field value: markup and list markers removed, fragments joined."""
    return strip_list_marker(join_fragments(strip_markup_keep_tabs(text).split("\t")))


def strip_markup_keep_tabs(text: str) -> str:
    """:func:`strip_markup` that keeps tabs (cell separators) in place."""
    return "\t".join(strip_markup(part) for part in text.split("\t"))


def uppercase_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if c.isupper()) / len(letters)
