"""Text clean-up helpers."""

import pytest

from pipeline.text import ReportInputError, clean_text, decode_report, join_fragments, split_lines, strip_markup


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
    assert decode_report("é".encode("utf-8")) == ("é", "utf-8")
    assert decode_report(b"\xef\xbb\xbf" + "é".encode("utf-8")) == ("é", "utf-8-sig")
    assert decode_report("é".encode("cp1252")) == ("é", "cp1252")


@pytest.mark.parametrize(
    "data, code",
    [(b"", "file_empty"), (b" \n\r\n", "file_empty"), (b"abc\x00def", "file_binary"), (bytes(range(1, 32)) * 10, "file_binary"), (b"ok\n\x81\x8d", "file_undecodable")],
)
def test_decode_report_errors(data, code):
    with pytest.raises(ReportInputError) as err:
        decode_report(data, "raw/x.txt")
    assert err.value.code == code
    assert "raw/x.txt" in str(err.value)
