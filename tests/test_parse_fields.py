"""The two-column table (pipeline.parse.fields) read through the layout's drift: page furniture
between its rows, a word hyphenated across two of its lines."""

from __future__ import annotations

from pipeline.parse import parse_report

TABLE = """\
ENGAGEMENT 1 : UN ENGAGEMENT

Organisme responsable de la mise en œuvre\tMinistère de la Justice
Problématique\tLes données sont dispersées et peu réutili-
\tsables par les citoyens.
{furniture}Solution proposée\tUn portail unifié.
Résultat attendu\tDes données ouvertes.

Activité 1 : Une activité
- ✓ Non entamée
"""
#: Three pages' furniture: the first between two rows of the table.
FURNITURE = [
    "Rapport PGO\n12\n\fROYAUME DU MAROC\n",
    "\n\nRapport PGO\n13\n\fROYAUME DU MAROC\n",
    "\n\nRapport PGO\n14\n\fROYAUME DU MAROC\n",
]


def test_the_table_reads_the_same_through_furniture_and_hyphenation():
    text = TABLE.format(furniture=FURNITURE[0]) + "Un texte.\n" + FURNITURE[1] + "Un autre.\n" + FURNITURE[2] + "Fin.\n"
    tables = parse_report(text, "r", source_file="r.txt", source_sha256="0" * 64)
    c = tables["commitments"].iloc[0]
    assert (c["responsible_body"], c["problem"], c["solution"], c["expected_result"]) == (
        "Ministère de la Justice",
        "Les données sont dispersées et peu réutilisables par les citoyens.",
        "Un portail unifié.",
        "Des données ouvertes.",
    )
    assert {"page_furniture_removed", "hyphenation_joined"} <= set(tables["findings"]["code"])
    assert not {"field_label_missing", "field_text_unlabelled"} & set(tables["findings"]["code"])
