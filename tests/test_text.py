"""Text clean-up helpers."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text import (
    _LIST_MARKER_RE,
    INVISIBLE_RE,
    MAX_REPORT_LINES,
    DecodedText,
    ReportInputError,
    clean_text,
    collapse_spaces,
    count_lines,
    decode_report,
    describe_code_points,
    has_invisible,
    has_markup_chars,
    join_fragments,
    looks_like_mojibake,
    remove_invisible,
    split_lines,
    strip_list_marker,
    strip_markup,
    strip_markup_keep_tabs,
)


@pytest.mark.parametrize(
    "fragments, expected",
    [
        (["Formation des f", "formateurs chargés"], "Formation des formateurs chargés"),
        (["Progression limitée", "ée (1-59%)"], "Progression limitée (1-59%)"),
        (["Titre de", "l'engagement"], "Titre de l'engagement"),
    ],
)
def test_join_fragments(fragments, expected):
    assert join_fragments(fragments) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("<u>Indicateurs relatifs</u>", "Indicateurs relatifs"),
        ("relatif à l\\'obligation", "relatif à l'obligation"),
        ("$\\underline{https://x.ma/a\\%C3}$", "https://x.ma/a%C3"),
        ("texte />", "texte "),
    ],
)
def test_strip_markup(raw, expected):
    assert strip_markup(raw) == expected


def test_clean_text_removes_list_markers_and_joins_cells():
    assert clean_text("\t- → L'Agence a organisé\tun atelier") == "L'Agence a organisé un atelier"


def test_split_lines_counts_like_an_editor():
    assert split_lines("a\r\nb\rc\nd\x0ce") == ["a", "b", "c", "d\x0ce"]


def test_decode_report_variants():
    assert decode_report("é".encode()) == DecodedText("é", "utf-8")
    assert decode_report(b"\xef\xbb\xbf" + "é".encode()) == DecodedText("é", "utf-8-sig")
    assert decode_report("é".encode("cp1252")) == DecodedText("é", "cp1252")


def test_a_stray_byte_in_utf8_is_replaced_and_its_line_named():
    data = "Activité 1 : état\nligne\xa0deux\r\ntrois".encode().replace(b"deux", b"d\xe9ux")
    assert decode_report(data) == DecodedText("Activité 1 : état\nligne\xa0d\ufffdux\r\ntrois", "utf-8", (2,))


def test_a_stray_byte_after_a_bom_keeps_utf8_sig():
    assert decode_report(b"\xef\xbb\xbfnum\xe9ro\n\xc3\xa9t\xc3\xa9") == DecodedText(
        "num\ufffdro\nété", "utf-8-sig", (1,)
    )


def test_french_windows_1252_is_read_as_such():
    text = "Activité 1 : Réalisation d’une étude « pilote » – 2ème phase, Œuvre\n"
    assert decode_report(text.encode("cp1252")) == DecodedText(text, "cp1252")


def test_an_ascii_file_with_one_byte_windows_1252_leaves_undefined_is_utf8_with_that_line_named():
    data = b"ligne\n" * 199 + b"fin \x81\n"
    assert decode_report(data) == DecodedText("ligne\n" * 199 + "fin \ufffd\n", "utf-8", (200,))


def test_mojibake_looking_windows_1252_is_refused_with_the_line_of_the_first_bad_byte():
    data = b"Titre\n" + "Activité 1 : été à côté\n".encode("cp1252").replace(b"Activit\xe9", b"Activit\xc3\xa9") * 3
    with pytest.raises(ReportInputError) as err:
        decode_report(data, "raw/x.txt")
    assert (err.value.code, err.value.line) == ("file_undecodable", 2)


def test_too_many_lines_is_refused_naming_the_limit():
    with pytest.raises(ReportInputError) as err:
        decode_report(b"x\n" * (MAX_REPORT_LINES + 1), "raw/x.txt")
    assert err.value.code == "file_too_large"
    assert "200000" in err.value.problem and "MAX_REPORT_LINES" in err.value.problem


def test_as_many_lines_as_the_limit_is_accepted():
    assert decode_report(b"x\n" * MAX_REPORT_LINES).text.count("\n") == MAX_REPORT_LINES


@pytest.mark.parametrize("data, lines", [(b"a", 1), (b"a\n", 1), (b"a\r\nb", 2), (b"a\rb\r", 2), (b"a\n\nb", 3)])
def test_count_lines_like_an_editor(data, lines):
    assert count_lines(data) == lines


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ActivitÃ© 1", True),
        ("lâ€™Ã‰tat", True),
        ("Â« citation Â»", True),
        ("Å“uvre", True),
        ("ï»¿Rapport", True),
        ("texte\x85suite", True),
        ("Ø§Ù„Ø¨ÙˆØ§Ø¨Ø©", True),
        ("L’État « ouvert » – œuvre, 2ème, OÙ\xa0?", False),
        ("البوابة الوطنية", False),
        ("octet perdu \ufffd ici", False),
    ],
)
def test_looks_like_mojibake(text, expected):
    assert looks_like_mojibake(text) is expected


def test_remove_invisible_keeps_letters_and_lists_what_it_removed():
    assert remove_invisible("Acti\u00advité\u200b 1") == ("Activité 1", "\u00ad\u200b")
    assert remove_invisible("\u202eالبوابة\u202c") == ("البوابة", "\u202e\u202c")
    assert remove_invisible("rien à retirer") == ("rien à retirer", "")


def test_the_invisible_characters_are_exactly_the_format_characters():
    codes = range(0x110000)
    removed = {c for c in codes if INVISIBLE_RE.fullmatch(chr(c))}
    assert {c for c in codes if unicodedata.category(chr(c)) == "Cf"} <= removed
    assert {unicodedata.category(chr(c)) for c in removed} <= {"Cf", "Cn"}


def test_describe_code_points_names_each_once():
    assert describe_code_points("\u00ad\u200b\u00ad") == "U+00AD (SOFT HYPHEN), U+200B (ZERO WIDTH SPACE)"


def test_strip_markup_removes_invisible_characters_too():
    assert strip_markup("Acti\u00advit\u200dé\u2066") == "Activité"


@pytest.mark.parametrize(
    "data, code",
    [
        (b"", "file_empty"),
        (b" \n\r\n", "file_empty"),
        (b"abc\x00def", "file_binary"),
        (bytes(range(1, 32)) * 10, "file_binary"),
        (b"ok\n\x81\x8d", "file_undecodable"),
    ],
)
def test_decode_report_errors(data, code):
    with pytest.raises(ReportInputError) as err:
        decode_report(data, "raw/x.txt")
    assert err.value.code == code
    assert "raw/x.txt" in str(err.value)


# join_fragments and strip_list_marker were rewritten to take time linear in the line
# (a line of 200,000 dashes or tab-separated cells took seconds); they must still give
# what the former versions gave.
def former_join_fragments(fragments: list[str]) -> str:
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
            out = out + frag[len(first) :]
        else:
            out = f"{out} {frag}"
    return collapse_spaces(out)


def former_strip_list_marker(text: str) -> str:
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _LIST_MARKER_RE.sub("", text, count=1).strip()
    return text


PIECES = st.sampled_from(
    ["a", "b", "ab", "f", "for", " ", "  ", "é", "1", "-", "–", "O", "\u3000", "•", "→", "\uf0b7", "\t", "(1-59%)"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.lists(PIECES, max_size=6).map("".join), max_size=6))
def test_join_fragments_gives_what_the_former_version_gave(fragments):
    assert join_fragments(fragments) == former_join_fragments(fragments)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
def test_strip_list_marker_gives_what_the_former_version_gave(text):
    assert strip_list_marker(text) == former_strip_list_marker(text)


def test_long_lines_of_markers_and_cells():
    assert strip_list_marker("- " * 100_000 + "fin") == "fin"
    assert join_fragments(["a"] * 100_000) == " ".join(["a"] * 100_000)


# The clean-up was made faster (a whole text checked for invisible characters at once, lines
# without tabs or markup cleaned without splitting them, single spaces left alone); it must
# still say what the slower forms said.
FORMER_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f]+")
TEXT_PIECES = st.sampled_from(
    [
        "a",
        "é",
        " ",
        "  ",
        "\t",
        "\u00a0",
        "\u2009",
        "\u3000",
        "- ",
        "• ",
        "<u>",
        "</u>",
        "/>",
        "\\'",
        "$",
        "\u200b",
        "x\u00ady",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(TEXT_PIECES, max_size=12).map("".join))
def test_faster_clean_up_gives_what_the_former_form_gave(text):
    assert collapse_spaces(text) == FORMER_SPACE_RE.sub(" ", text).strip()
    assert clean_text(text) == strip_list_marker(join_fragments(strip_markup_keep_tabs(text).split("\t")))
    assert strip_markup_keep_tabs(text) == "\t".join(strip_markup(part) for part in text.split("\t"))
    assert has_invisible(text) == bool(INVISIBLE_RE.search(text))
    if not has_markup_chars(text):  # then there is nothing for strip_markup to remove
        assert strip_markup(text) == text.replace("\t", " ")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("texte ordinaire", False),
        ("soft\u00adhyphen", True),
        ("étiquette \U000e0041 de langue", True),
        ("emoji 😀 seul", False),
    ],
)
def test_has_invisible_sees_format_characters_beyond_u_ffff_too(text, expected):
    assert has_invisible(text) is expected
