"""Front matter and table of contents (pipeline.parse.front_matter): the table of contents is never
taken for the body, whatever form its entries and the body's headings take."""

from __future__ import annotations

from pipeline.parse import parse_report
from pipeline.parse.front_matter import Heading, classify_headings
from pipeline.parse.lines import Context

BODY = """\
Engagement 1 - PREMIER ENGAGEMENT

Activité 1. Une activité
- ✓ Non entamée

Engagement 2 - SECOND ENGAGEMENT

Activité 1. Une autre
- ✓ Complétée (90-100%)
"""


def parse(text: str):
    return parse_report(text, "r", source_file="r.txt", source_sha256="0" * 64)


def test_table_of_contents_entries_in_any_form_are_not_commitments():
    toc = "Table des matières\n\nENGAGEMENT N°1 : PREMIER ENGAGEMENT\t4\nEngagement 2 – SECOND\nENGAGEMENT\t7\n\n"
    tables = parse(toc + BODY)
    assert tables["commitments"][["commitment_no", "title", "source_line_start"]].values.tolist() == [
        [1, "PREMIER ENGAGEMENT", 7],
        [2, "SECOND ENGAGEMENT", 12],
    ]
    assert "commitment_missing_from_body" not in set(tables["findings"]["code"])


def test_an_entry_announced_but_absent_from_the_body_is_reported():
    tables = parse("ENGAGEMENT 3 : TROISIÈME\t9\n\n" + BODY)
    f = tables["findings"]
    assert f[f.code == "commitment_missing_from_body"][["record_key", "source_line"]].values.tolist() == [
        ["commitment_no=3", 1]
    ]


def test_a_heading_whose_number_comes_back_with_no_structure_between_is_an_entry():
    lines = [
        "ENGAGEMENT 1 : X",
        "ENGAGEMENT 2 : Y",
        "",
        "ENGAGEMENT 1 : X",
        "Activité 1 : a",
        "ENGAGEMENT 2 : Y",
        "Activité 1 : b",
    ]
    candidates = [Heading(n, i, t, i) for i, n, t in [(0, 1, "X"), (1, 2, "Y"), (3, 1, "X"), (5, 2, "Y")]]
    toc, body = classify_headings(Context("r", lines), candidates)
    assert ([h.line for h in toc], [h.line for h in body]) == ([0, 1], [3, 5])
