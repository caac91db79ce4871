"""Tests for pipeline.dictionary: the committed data dictionary is current and complete."""

from __future__ import annotations

from pathlib import Path

from pipeline.dictionary import main, render_constraints, render_data_dictionary, render_table
from schemas import ALL_RESOURCES, table_fields

REPO = Path(__file__).resolve().parents[1]


def test_committed_data_dictionary_is_current():
    committed = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_data_dictionary(), "run `python -m pipeline docs` and commit docs/data-dictionary.md"


def test_every_table_and_field_is_in_the_dictionary():
    text = render_data_dictionary()
    for table, resource in ALL_RESOURCES.items():
        assert f"### `{table}` : {resource['title']}" in text
        section = render_table(table)
        for field in table_fields(table):
            assert f"| `{field['name']}` |" in section


def test_render_table_gives_keys_and_one_row_per_field():
    assert render_table("axes") == (
        '<a id="axes"></a>\n'
        "### `axes` : Axes du plan d'action\n"
        "\n"
        "Axes thématiques du plan d'action, dans l'ordre de leur présentation.\n"
        "\n"
        "- Clé primaire : `report_id`, `axis_no`\n"
        "- Clés étrangères : (`report_id`) → [`reports`](#reports) (`report_id`)\n"
        "- Fichier : `curated/validated/axes.parquet`\n"
        "\n"
        "| Colonne | Type | Obligatoire | Unité | Contraintes | Titre | Description |\n"
        "|---|---|---|---|---|---|---|\n"
        "| `report_id` | texte | oui |  | motif : `^[a-z0-9]+(?:-[a-z0-9]+)*$` ; 100 caractères au plus | "
        "Identifiant du rapport | Identifiant du rapport : nom du fichier source sans l'extension "
        "(lettres minuscules, chiffres et tirets, 100 caractères au plus). |\n"
        "| `axis_no` | entier | oui |  | ≥ 1 | Numéro de l'axe | "
        "Rang de l'axe dans la présentation du plan d'action (à partir de 1). |\n"
        "| `name` | texte | oui |  |  | Nom | Nom de l'axe tel qu'imprimé. |\n"
        "| `source_line` | entier | oui |  | ≥ 1 | Ligne source | "
        "Numéro (à partir de 1) de la ligne du fichier source d'où vient l'enregistrement. |\n"
    )


def test_constraints_are_rendered_in_words_with_pipes_escaped():
    assert render_constraints({"minimum": 0, "maximum": 100}) == "≥ 0 ; ≤ 100"
    assert render_constraints({"enum": ["plan", "axis"]}) == "valeurs : `plan`, `axis`"
    assert render_constraints({"pattern": r"^(0[1-9]|1[0-2])$"}) == r"motif : `^(0[1-9]\|1[0-2])$`"
    assert render_constraints({"pattern": "^a$", "maxLength": 100}) == "motif : `^a$` ; 100 caractères au plus"
    assert render_constraints({}) == ""


def test_each_table_names_the_file_of_its_layer():
    """Data tables come from curated/validated/, computed ones from curated/computed/,
    findings from both; the database is the computed layer's."""
    assert "- Fichier : `curated/validated/activities.parquet`\n" in render_table("activities")
    assert "- Fichier : `curated/computed/plan_progress.parquet`\n" in render_table("plan_progress")
    findings = render_table("findings")
    assert "`curated/validated/findings.parquet` (ingestion et validation)" in findings
    assert "`curated/computed/findings.parquet` (calcul)" in findings
    text = render_data_dictionary()
    assert "## Base DuckDB `curated/computed/pgo.duckdb`" in text
    assert "`curated/computed/rates_config.json`" in text
    for table in ALL_RESOURCES:
        assert f"`curated/{table}.parquet`" not in text, table
    assert "`curated/pgo.duckdb`" not in text and "`curated/rates_config.json`" not in text


def test_angle_brackets_in_descriptions_are_escaped():
    section = render_table("activity_progress")
    assert "raw/&lt;report_id&gt;.weights.csv" in section


def test_main_writes_the_dictionary(tmp_path):
    out = tmp_path / "dd.md"
    assert main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_data_dictionary()
