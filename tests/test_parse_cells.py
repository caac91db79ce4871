"""Interleaved cells (pipeline.parse.cells): rebuilt where the text proves the order, kept otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ingest import ingest_file
from pipeline.parse.cells import repair_cell

SEED = Path(__file__).resolve().parents[1] / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"

#: The text « La maquette … » cut in three, as the seed's commitment 1, activity 3 prints it:
#: the middle first, then the start, then the end repeating the middle's last eight words.
MIDDLE = (
    "Budgétaire et de Cadrage Triennal » a été réalisée avec les experts "
    "de la situation récente de l'économie mondiale, des projections macroéconomiques"
)
START = "La maquette du rapport intitulé « Rapport d'Exécution"
END = "situation récente de l'économie mondiale, des projections macroéconomiques actualisées pour l'année en cours."
WHOLE = (
    "La maquette du rapport intitulé « Rapport d'Exécution Budgétaire et de Cadrage Triennal » "
    "a été réalisée avec les experts de la situation récente de l'économie mondiale, "
    "des projections macroéconomiques actualisées pour l'année en cours."
)


def test_the_seeds_interleaving_is_rebuilt_and_the_repeat_dropped():
    repair = repair_cell([MIDDLE, START, END])
    assert repair.proven and repair.texts == [WHOLE]
    assert repair.repeats == ["situation récente de l'économie mondiale, des projections macroéconomiques"]
    assert repair.moved == [0, 1, 2]


def test_a_fragment_the_text_cannot_place_leaves_the_cell_as_it_is():
    start = "La maquette du rapport a été publiée."  # a whole sentence: before or after the rest?
    middle = "Le rapport porte sur la situation récente de l'économie mondiale, des projections macroéconomiques"
    repair = repair_cell([middle, start, END])
    assert not repair.proven and repair.texts == [middle, start, END] and repair.moved == [0, 1, 2]


def test_a_repeat_between_neighbours_is_dropped_without_moving_anything():
    first = "Une réunion s'est tenue avec les partenaires afin de définir le calendrier de la mise en œuvre"
    second = "afin de définir le calendrier de la mise en œuvre du portail national."
    repair = repair_cell(["Point précédent.", first, second])
    assert repair.proven
    assert repair.texts == [
        "Point précédent.",
        "Une réunion s'est tenue avec les partenaires afin de définir le calendrier de la mise en œuvre "
        "du portail national.",
    ]


@pytest.mark.parametrize(
    "fragments",
    [
        ["Organisation de trois ateliers.", "Publication du guide."],  # nothing repeated
        # A finished sentence repeated at the next paragraph's start may be the text's own.
        ["Suivi du projet. Plusieurs réunions ont été tenues avec les partenaires techniques du projet.",
         "Plusieurs réunions ont été tenues avec les partenaires techniques du projet. Suite."],
        # A phrase the cell writes elsewhere too (a ministry's name) proves nothing.
        ["Rencontre avec le Ministère de la Transition Energétique et du Développement Durable",
         "Ministère de la Transition Energétique et du Développement Durable sur la thématique",
         "Appui du Ministère de la Transition Energétique et du Développement Durable à la conférence."],
    ],
)  # fmt: skip
def test_no_proof_of_interleaving_no_change(fragments):
    assert repair_cell(fragments) is None


def test_two_fragments_continuing_the_same_one_are_ambiguous():
    tail = "des projections macroéconomiques actualisées pour l'année"
    repair = repair_cell([f"Le rapport présente {tail}", f"{tail} en cours.", f"{tail} prochaine."])
    assert repair is not None and not repair.proven and repair.moved == [0, 1, 2]


def test_the_seeds_commitment_1_activity_3_reads_in_order_with_a_finding():
    tables = ingest_file(SEED)
    a = tables["activities"].set_index(["commitment_no", "activity_no"]).loc[(1, 3)]
    text = a["actions_text"]
    assert text.startswith(
        "La maquette du rapport fusionné produit par le Maroc intitulé « Rapport d'Exécution Budgétaire et de Cadrage"
    )
    assert text.count("situation récente de l'économie mondiale, des projections macroéconomiques") == 1
    assert "macroéconomiques actualisées pour l'année en cours" in text
    assert text.endswith("des perspectives budgétaires sur une période triennale.")
    f = tables["findings"]
    found = f[f.code == "actions_text_reordered"]
    assert found[["severity", "record_key", "source_line"]].values.tolist() == [
        ["info", "commitment_no=1,activity_no=3", 316]
    ]
    assert "lignes 316, 318, 322" in found["message"].iloc[0]
    assert "actions_text_order_unproven" not in set(f["code"])
