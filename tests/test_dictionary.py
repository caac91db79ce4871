"""Tests for pipeline.dictionary: the committed data dictionary is current and complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import exitcodes
from pipeline.dictionary import (
    MissingRate,
    ReportRates,
    read_report_rates,
    render_constraints,
    render_data_dictionary,
    render_raw_reports,
    render_report_rates,
    render_table,
    report_rates_from_raw,
    write_data_dictionary,
)
from schemas import ALL_RESOURCES, table_fields

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def raw_reports() -> list[ReportRates]:
    """What the committed reports (raw/*.txt) say, read from a database built from them."""
    return report_rates_from_raw(REPO / "raw")


def test_committed_data_dictionary_is_current(raw_reports):
    """Current with schemas/ and with the figures of the committed reports: a change of
    report, parser or computation that changes them makes this fail."""
    committed = (REPO / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed == render_data_dictionary(raw_reports), (
        "run `python -m pipeline docs` and commit docs/data-dictionary.md"
    )


def test_seed_figures_come_from_the_database_built_from_raw(raw_reports, seed_computed):
    """The seed's published global rate, commitment count and the implied range of its one
    unpublished rate are read from the database, as ``missing_rate_range`` gives them."""
    [seed] = [r for r in raw_reports if r.report_id == "ma-pan-2021-2023-autoevaluation-2023-07"]
    assert read_report_rates(seed_computed / "computed" / "pgo.duckdb") == [seed]
    assert (seed.commitment_count, seed.published_commitment_count, seed.published_plan_rate) == (22, 21, 82.0)
    assert seed.missing == (
        MissingRate(22, "commitment_mean", 85.0, 100.0),
        MissingRate(22, "activity_weighted", None, None),
    )
    text = render_raw_reports(raw_reports)
    assert "taux global publié 82 %." in text
    assert (
        "la moyenne simple de ses 22 taux d'engagement (`commitment_mean`) "
        "si le taux non publié de l'engagement 22 est entre 85 et 100 %" in text
    )
    assert "avec `activity_weighted`, aucune valeur du taux de l'engagement 22 ne le redonne" in text
    assert "Ses chiffres publiés suivent donc `commitment_mean`." in text
    assert seed.source_sha256[:16] in text


def test_no_report_figure_is_written_by_hand():
    """Without reports, the document states no report's figures (they were hand-written once)."""
    text = render_data_dictionary([])
    for figure in ("82 %", "22 taux", "entre 85 et 100", "engagement 22"):
        assert figure not in text, figure
    assert "Aucun rapport dans `raw/`." in text


def test_report_rates_are_rendered_from_their_values():
    weighted = ReportRates(
        "r-1",
        "r-1.txt",
        "ab" * 32,
        5,
        4,
        70.0,
        (MissingRate(3, "commitment_mean", None, None), MissingRate(3, "activity_weighted", 61.375, 80.0)),
    )
    text = render_report_rates(weighted)
    assert text.startswith(
        "- `r-1` (`raw/r-1.txt`, SHA-256 `abababababababab…`) : "
        "5 engagements, 4 taux d'engagement publiés, taux global publié 70 %."
    )
    assert "(`activity_weighted`) si le taux non publié de l'engagement 3 est entre 61,4 et 80 %" in text
    assert "avec `commitment_mean`, aucune valeur du taux de l'engagement 3 ne le redonne" in text
    assert text.endswith("Ses chiffres publiés suivent donc `activity_weighted`.\n")
    neither = ReportRates(
        "r-2",
        "r-2.txt",
        "cd" * 32,
        5,
        4,
        70.0,
        (MissingRate(3, "commitment_mean", None, None), MissingRate(3, "activity_weighted", None, None)),
    )
    assert render_report_rates(neither).endswith("Aucune des deux méthodes ne redonne le taux global publié.\n")
    assert render_report_rates(ReportRates("r-3", "r-3.txt", "ef" * 32, 5, 5, 64.5)).endswith(
        "taux global publié 64,5 %. La table `missing_rate_range` ne s'applique pas "
        "(elle suppose un seul taux d'engagement manquant).\n"
    )
    assert render_report_rates(ReportRates("r-4", "r-4.txt", "01" * 32, 5, 5, None)).endswith(
        ", pas de taux global publié.\n"
    )


def test_rates_method_states_the_configuration_it_is_given():
    config = {
        "aggregation": "activity_weighted",
        "progress_pct": {"not_started": 0.0, "limited": 40.0, "substantial": 70.0, "complete": 100.0},
    }
    text = render_data_dictionary([], config)
    assert "par défaut\n  `not_started` 0, `limited` 40, `substantial` 70, `complete` 100) ;" in text
    assert "(par défaut `activity_weighted`)" in text
    assert "(par défaut `commitment_mean`)" in render_data_dictionary([])


def test_indicators_are_said_to_carry_one_printed_value_and_no_target():
    section = render_table("indicators")
    assert "Chaque indicateur porte une seule valeur, telle qu'imprimée dans le rapport" in section
    assert "raw_value la donne toujours telle quelle" in section
    assert "value en donne le nombre et unit son unité" in section
    assert "Le rapport ne fixe aucune cible : aucun indicateur n'a de valeur cible" in section
    assert "قيمة واحدة" in ALL_RESOURCES["indicators"]["description_ar"]
    assert "قيمة مستهدفة" in ALL_RESOURCES["indicators"]["description_ar"]


def test_every_table_and_field_is_in_the_dictionary():
    text = render_data_dictionary([])
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
    text = render_data_dictionary([])
    assert "## Base DuckDB `curated/computed/pgo.duckdb`" in text
    assert "`curated/computed/rates_config.json`" in text
    for table in ALL_RESOURCES:
        assert f"`curated/{table}.parquet`" not in text, table
    assert "`curated/pgo.duckdb`" not in text and "`curated/rates_config.json`" not in text


def test_angle_brackets_in_descriptions_are_escaped():
    section = render_table("activity_progress")
    assert "raw/&lt;report_id&gt;.weights.csv" in section


def test_main_writes_the_dictionary(tmp_path, raw_reports):
    out = tmp_path / "dd.md"
    assert write_data_dictionary(out, REPO / "raw") == exitcodes.OK
    assert out.read_text(encoding="utf-8") == render_data_dictionary(raw_reports)


def test_main_without_reports_folder_writes_nothing(tmp_path):
    out = tmp_path / "dd.md"
    assert write_data_dictionary(out, tmp_path / "missing") == exitcodes.USAGE
    assert not out.exists()
