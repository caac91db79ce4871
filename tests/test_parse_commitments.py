"""Commitment sections (pipeline.parse.commitments): headings in the forms other exports write."""

from __future__ import annotations

from pipeline.parse import parse_report

TEXT = """\
{c1}RENFORCEMENT DE LA
TRANSPARENCE

Organisme responsable de la mise en œuvre\tMinistère

{a1}Publication du budget

- ✓ Non entamée

{c2}PORTAIL NATIONAL

Organisme responsable de la mise en œuvre\tAgence

{a2}Mise en ligne

- ✓ Complétée (90-100%)
"""


def parse(c1: str, a1: str, c2: str, a2: str):
    text = TEXT.format(c1=c1, a1=a1, c2=c2, a2=a2)
    return parse_report(text, "r", source_file="r.txt", source_sha256="0" * 64)


def test_headings_in_other_forms_are_read_with_one_finding_per_form():
    tables = parse("ENGAGEMENT N°1 : ", "Activité 1. ", "Engagement 2 - ", "ACTIVITÉ 1 – ")
    c = tables["commitments"]
    assert c[["commitment_no", "title", "responsible_body"]].values.tolist() == [
        [1, "RENFORCEMENT DE LA TRANSPARENCE", "Ministère"],
        [2, "PORTAIL NATIONAL", "Agence"],
    ]
    a = tables["activities"]
    assert a[["commitment_no", "activity_no", "title", "status"]].values.tolist() == [
        [1, 1, "Publication du budget", "not_started"],
        [2, 1, "Mise en ligne", "complete"],
    ]
    f = tables["findings"]
    found = f[f.code == "heading_form_variant"]
    assert found[["table_name", "source_line"]].values.tolist() == [
        ["commitments", 1],
        ["activities", 6],
        ["commitments", 10],
        ["activities", 14],
    ]
    assert "« ENGAGEMENT N°N : » au lieu de « ENGAGEMENT N : » (lignes 1)" in found["message"].iloc[0]


def test_two_headings_in_the_same_other_form_make_one_finding_naming_both_lines():
    f = parse("Engagement 1 - ", "Activité 1 : ", "Engagement 2 - ", "Activité 1 : ")["findings"]
    assert f[f.code == "heading_form_variant"]["message"].tolist() == [
        "2 en-tête(s) d'engagement écrit(s) « Engagement N - » au lieu de « ENGAGEMENT N : » (lignes 1, 10) : "
        "lus comme tels"
    ]


def test_the_templates_own_forms_give_no_finding():
    f = parse("ENGAGEMENT 1 : ", "Activité 1 : ", "ENGAGEMENT 2: ", "Activité 1: ")["findings"]
    assert "heading_form_variant" not in set(f["code"])
