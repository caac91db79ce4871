"""Activities (pipeline.parse.activities): the status given in words on one line, as other exports write it."""

from __future__ import annotations

import pytest

from pipeline.parse import parse_report
from pipeline.parse.activities import status_in_words

SECTION = """\
ENGAGEMENT 1 : UN ENGAGEMENT

Organisme responsable de la mise en œuvre\tAgence

Activité 1 : Une activité

{status}

Actions réalisées

Un atelier a été organisé.
"""


def parse(text: str):
    return parse_report(text, "r", source_file="r.txt", source_sha256="0" * 64)


@pytest.mark.parametrize(
    "line, status",
    [
        ("Statut : Non entamée", "not_started"),
        ("Statut : Progression limitée", "limited"),
        ("Statut : Progression significative (60-90%)", "substantial"),
        ("- État d'avancement – Complétée", "complete"),
        ("Etat d'avancement : 1-59%", "limited"),
        ("Niveau d'avancement - 60-90%", "substantial"),
        ("Statut de l'activité : 90-100%", "complete"),
        ("Statut : 0%", "not_started"),
        ("Statut : en cours", None),
    ],
)
def test_status_in_words(line, status):
    assert status_in_words(line) == status


def test_a_status_in_words_replaces_the_checklist_with_a_finding():
    tables = parse(SECTION.format(status="Statut : Progression limitée"))
    a = tables["activities"]
    assert a[["status", "band_min_pct", "band_max_pct", "is_status_checked"]].values.tolist() == [
        ["limited", 1.0, 59.0, True]
    ]
    assert a["actions_text"].tolist() == ["Un atelier a été organisé."]
    f = tables["findings"]
    found = f[f.code == "status_stated_in_words"]
    assert found[["severity", "source_line"]].values.tolist() == [["info", 7]]
    assert not {"checklist_missing", "checklist_incomplete", "check_mark_missing"} & set(f["code"])


def test_an_unreadable_status_in_words_is_unknown_with_a_finding():
    tables = parse(SECTION.format(status="Statut : en cours de réalisation"))
    assert tables["activities"]["status"].tolist() == ["unknown"]
    f = tables["findings"].set_index("code")
    assert f.loc["checked_status_unreadable", "source_line"] == 7


def test_a_status_in_words_and_a_checklist_that_agree():
    status = "Statut : Complétée\n- Non entamée\n- ✓ Complétée (90-100%)"
    assert parse(SECTION.format(status=status))["activities"]["status"].tolist() == ["complete"]


def test_a_status_in_words_and_a_checklist_that_disagree_are_unknown():
    status = "Statut : Non entamée\n- Non entamée\n- ✓ Complétée (90-100%)"
    tables = parse(SECTION.format(status=status))
    assert tables["activities"]["status"].tolist() == ["unknown"]
    assert "multiple_check_marks" in set(tables["findings"]["code"])
