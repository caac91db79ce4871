"""The template's vocabulary (pipeline.parse.vocabulary): the words the parser reads and the generator writes."""

from __future__ import annotations

import pytest

from pipeline import synth
from pipeline.parse import vocabulary as v
from pipeline.text import fold


def test_the_generator_writes_with_the_parsers_vocabulary():
    assert synth.STATUS_LINES is v.STATUS_LINES
    assert synth.CHECK_MARKS is v.CHECK_MARKS
    assert synth.EMPTY_BOXES is v.EMPTY_BOXES
    assert synth.BULLETS is v.BULLETS
    assert synth.MONTHS is v.MONTHS


def test_the_folded_status_lines_are_the_status_lines_folded():
    assert {status: fold(line) for status, line in v.STATUS_LINES.items()} == v.FOLDED_STATUS_LINES


def test_every_check_mark_is_recognised_and_no_empty_box_is():
    assert [bool(v.CHECK_MARK_RE.fullmatch(mark)) for mark in v.CHECK_MARKS] == [True] * 6
    assert [bool(v.CHECK_MARK_RE.search(box)) for box in v.EMPTY_BOXES.values()] == [False, False]
    assert [bool(v.UNCHECKED_BOX_RE.fullmatch(box)) for box in v.EMPTY_BOXES.values()] == [True, True]


@pytest.mark.parametrize(
    "line, number, title",
    [
        ("ENGAGEMENT 3 : TITRE", "3", "TITRE"),
        ("ENGAGEMENT 3: TITRE", "3", "TITRE"),
        ("ENGAGEMENT N°3 : TITRE", "3", "TITRE"),
        ("Engagement 3 - Titre", "3", "Titre"),
        ("engagement nº 12 — TITRE", "12", "TITRE"),
        ("ENGAGEMENT № 4 : T", "4", "T"),
        ("ENGAGEMENT No 5. T", "5", "T"),
        ("ENGAGEMENT 6 ‑ T", "6", "T"),
        ("Engagement 7 –", "7", ""),
    ],
)
def test_commitment_headings_in_every_form(line, number, title):
    assert v.COMMITMENT_HEADING_RE.match(line).groups() == (number, title)


@pytest.mark.parametrize(
    "line, number, title",
    [
        ("Activité 2 : Titre", "2", "Titre"),
        ("Activité 2. Titre", "2", "Titre"),
        ("ACTIVITÉ 2 : TITRE", "2", "TITRE"),
        ("Activite n°4 - titre", "4", "titre"),
        ("- activité 5 — titre", "5", "titre"),
    ],
)
def test_activity_headings_in_every_form(line, number, title):
    assert v.ACTIVITY_HEADING_RE.match(line).groups() == (number, title)


@pytest.mark.parametrize(
    "line", ["Engagement 3 de la charte", "ENGAGEMENTS 1 ET 2", "Activités 1-3 : revues", "Activité 2-bis : x"]
)
def test_text_that_is_no_heading(line):
    assert v.COMMITMENT_HEADING_RE.match(line) is None and v.ACTIVITY_HEADING_RE.match(line) is None


def test_only_the_templates_own_forms_are_template_forms():
    forms = ["ENGAGEMENT 3 : X", "ENGAGEMENT 3: X", "Engagement 3 : X", "ENGAGEMENT N°3 : X", "ENGAGEMENT 3 - X"]
    assert [bool(v.TEMPLATE_COMMITMENT_RE.match(f)) for f in forms] == [True, True, False, False, False]
    forms = ["Activité 1 : X", "Activité 1: X", "Activité 1. X", "ACTIVITÉ 1 : X"]
    assert [bool(v.TEMPLATE_ACTIVITY_RE.match(f)) for f in forms] == [True, True, False, False]


@pytest.mark.parametrize(
    "line, phrase",
    [
        ("Statut : Progression limitée", "Progression limitée"),
        ("- État d'avancement – 60-90%", "60-90%"),
        ("Statut de l'activité: Complétée (90-100%)", "Complétée (90-100%)"),
        ("Niveau d'avancement - Non entamée", "Non entamée"),
    ],
)
def test_status_in_words(line, phrase):
    assert v.STATUS_IN_WORDS_RE.match(line).group("phrase") == phrase


@pytest.mark.parametrize(
    "line, is_page_number, worded",
    [("12", True, False), ("   - 12 -", True, False), ("12 / 40", True, False), ("Page 3 sur 40", True, True),
     ("p. 7", True, True), ("2021-2023", False, False), ("12 %", False, False), ("Page de garde", False, False),
     ("\t88", False, False)],
)  # fmt: skip
def test_page_number_shapes(line, is_page_number, worded):
    m = v.PAGE_NUMBER_RE.match(line)
    assert bool(m) == is_page_number
    assert bool(m and m.group("worded")) == worded
