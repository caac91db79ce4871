"""The catalogue of finding codes (schemas/findings.py) against the codes the pipeline emits.

The stages run in-process, as ``pgo run`` chains them, on one ``raw/`` folder holding:
the committed reports (``raw/*.txt``); generated reports with every damage kind at rate
1.0 (:func:`pipeline.synth.write_reports`), with and without every drift kind; a clean
generated report and its follow-up (what moved between two reports of a plan); and a few
hostile files (empty, binary, Windows-1252, undecodable, unreadable, without commitment,
a copy of the seed with invisible characters, a stray byte and an invalid weights file,
another with structural damage: :data:`STRUCTURAL_EDITS`). Compute runs with each aggregation.

Every code of the resulting ``findings`` table (ingest, validate and compute stages) and
every quarantine check must be catalogued with its stage and severity; every catalogued
code must be emitted here or listed in :data:`NOT_REACHED` with the reason it is not.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import synth
from pipeline.compute import load_rates_config, load_weights_by_report, populate
from pipeline.dictionary import render_finding_codes
from pipeline.ingest import combine, ingest_file
from pipeline.inputs import list_inputs
from pipeline.validate import CHECK_COLUMN, validate_tables, validation_checks
from schemas import check_computed_table
from schemas.findings import FINDING_CODES

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "raw" / "ma-pan-2021-2023-autoevaluation-2023-07.txt"

#: Edits of a copy of the seed (text, replacement; each text found once) for codes the
#: generator does not produce: a duplicated commitment, activity and rate row, indicator
#: headings repeated or misnumbered, an indicator without value, an axis item and a rate
#: row naming no commitment of the body, a commitment in no axis, no explicit as-of month.
STRUCTURAL_EDITS = [
    (
        "ENGAGEMENT 2 : PROMOTION DE LA MISE EN ŒUVRE DU DROIT D'ACCÈS À L'INFORMATION AU\n",
        "ENGAGEMENT 1 : PROMOTION DE LA MISE EN ŒUVRE DU DROIT D'ACCÈS À L'INFORMATION AU\n",
    ),
    (
        "Activité 2 : Effectuer une analyse comparative avec d'autres pays ayant de bonnes pratiques concernant",
        "Activité 1 : Effectuer une analyse comparative avec d'autres pays ayant de bonnes pratiques concernant",
    ),
    ("Indicateurs relatifs à l'engagement 8:", "Indicateurs relatifs à l'engagement 9:"),
    (
        "Indicateurs relatifs à l'engagement 10:\n",
        "Indicateurs relatifs à l'engagement 10:\n\nIndicateurs relatifs à l'engagement 10:\n",
    ),
    ("administrations publiques : 1100\n", "administrations publiques\n"),
    (
        "2\tPromotion de la mise en œuvre du droit d'accès à l'information au niveau\t100 %\n",
        "2\tPromotion de la mise en œuvre du droit d'accès à l'information au niveau\t100 %\n" * 2,
    ),
    (
        "17\tLancement d'un portail national pour la formation à distance des associations\t57 %\n",
        (
            "17\tLancement d'un portail national pour la formation à distance des associations\t57 %\n"
            "23\tEngagement sans fiche\t50 %\n"
        ),
    ),
    ("Justice ouverte\n", "Justice ouverte\n- Construction d'un observatoire lunaire des tribunaux\n"),
    ("- Lancement d'un portail national pour la formation à distance des associations\n", ""),
    ("jusqu'à fin du mois de juillet 2023 est de 82%", "à ce jour est de 82%"),
]

#: Catalogued codes this run does not reach, and why.
NOT_REACHED: dict[str, str] = {
    "file_too_large": "needs a file over 20 MiB or 200 000 lines; tests/test_text.py and test_hostile_text.py",
    "invalid_report_id": "the batch refuses such a file by name before ingesting it (pipeline.inputs.list_inputs: "
    "logged, no findings row); ingest_file emits it for a file given directly: tests/test_ingest.py",
    "actions_text_order_unproven": "an interleaved narrative whose text does not prove its order: the generated "
    "ones here happen to be proven; tests/test_parse_cells.py, test_parse_report.py",
    "axis_rate_unmatched": "a per-axis rate whose label names no axis; tests/test_parse.py",
    "axis_without_commitment": "an axis with no commitment, which neither the seed nor the generator has; "
    "tests/test_compute.py",
    "checklist_missing": "an activity without any status line, which the generator never writes; "
    "tests/test_parse_activities.py",
    "axes_section_unreadable": "an axes section with no readable axis; no test names this code",
    "field_labels_missing": "a commitment sheet with text but no label at all (removing the seed's three labels "
    "of one sheet gives field_label_missing instead); no test names this code",
}


def write_inputs(raw: Path) -> None:
    """The committed reports, generated damaged and drifted ones, and hostile files."""
    raw.mkdir(parents=True)
    for path in sorted((ROOT / "raw").glob("*.txt")):
        shutil.copy(path, raw / path.name)
    for prefix, drift in (("damaged", ()), ("drifted", synth.DRIFT_KINDS)):
        for path in synth.write_reports(raw.parent / prefix, 3, 16, 1.0, drift=drift):
            shutil.copy(path, raw / f"{prefix}-{path.name}")
    # Undamaged, drifted, and alone in its plan (2019-2021) with its follow-up: what moved.
    [plain] = synth.write_reports(raw, 1, 15, 0.0, drift=synth.DRIFT_KINDS)
    synth.write_followup(raw, plain.with_name(f"{plain.stem}.truth.json"), 15)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "binary.txt").write_bytes(b"\x00\x01\x02 pas du texte")
    (raw / "windows.txt").write_bytes("Rapport d'évaluation\nENGAGEMENT 1 : Réforme\n".encode("cp1252"))
    (raw / "undecodable.txt").write_bytes(b"Rapport \x81\x8d\x8f\x90\x9d\n" * 3)
    (raw / "no-commitment.txt").write_text("Rapport d'auto-évaluation\nAucun engagement ici.\n", encoding="utf-8")
    (raw / "unreadable.txt").symlink_to("/proc/self/mem")  # a regular file whose read fails
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("Activité", "Acti\u00advité").replace("ENGAGEMENT 3: ", "ENGAGEMENT 3: \u202e", 1)
    data = text.encode("utf-8").replace("préparation du budget".encode(), "préparation du budget".encode("latin-1"), 1)
    (raw / "hostile-seed.txt").write_bytes(data)
    (raw / "hostile-seed.weights.csv").write_text("commitment_no,activity_no,weight\n1,1,-1\n", encoding="utf-8")
    text = SEED.read_text(encoding="utf-8")
    for old, new in STRUCTURAL_EDITS:
        assert text.count(old) == 1, f"the seed changed: {old!r} is not found once"
        text = text.replace(old, new)
    (raw / "structural-seed.txt").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict:
    """Ingest, validate and compute the inputs of :func:`write_inputs` in-process:
    ``findings`` (every stage's), ``quarantine_checks`` and ``computed`` (the tables)."""
    raw = tmp_path_factory.mktemp("catalogue") / "raw"
    write_inputs(raw)
    reports, _refused = list_inputs(raw)
    result = validate_tables(combine([ingest_file(r.path) for r in reports]))
    tables = {**result.clean, "findings": result.findings_table()}
    weights, invalid = load_weights_by_report(raw, tables["activities"])
    config = load_rates_config(None)
    with duckdb.connect(":memory:", config={"threads": 1}) as con:
        computed = populate(con, tables, config, weights, None, invalid)
    other = {"commitment_mean": "activity_weighted", "activity_weighted": "commitment_mean"}[config["aggregation"]]
    with duckdb.connect(":memory:", config={"threads": 1}) as con:  # the other aggregation's findings
        also = populate(con, tables, {**config, "aggregation": other}, weights, None, invalid)["stage_findings"]
    checks = {c for q in result.quarantined.values() for cell in q[CHECK_COLUMN] for c in cell.split("; ")}
    findings = pd.concat([computed["findings"], also], ignore_index=True)
    return {"findings": findings, "quarantine_checks": checks, "computed": computed}


def emitted(findings: pd.DataFrame) -> dict[str, set[tuple[str, str]]]:
    """code -> the (stage, severity) pairs it was emitted with."""
    out: dict[str, set[tuple[str, str]]] = {}
    for code, stage, severity in findings[["code", "stage", "severity"]].itertuples(index=False):
        out.setdefault(code, set()).add((stage, severity))
    return out


def test_the_run_reaches_every_stage(run):
    stages = set(run["findings"]["stage"])
    assert stages == {"ingest", "validate", "compute"}
    assert len(emitted(run["findings"])) > 30


def test_every_ingest_and_compute_code_emitted_is_catalogued_with_its_stage_and_severity(run):
    findings = run["findings"]
    found = emitted(findings[findings["stage"] != "validate"])
    assert found == {c: {FINDING_CODES[c][:2]} if c in FINDING_CODES else "not catalogued" for c in found}


def test_every_validate_code_emitted_is_a_check_of_the_stage_with_its_severity(run):
    findings, checks = run["findings"], validation_checks()
    found = emitted(findings[findings["stage"] == "validate"])
    found |= {c: {("validate", "error")} for c in run["quarantine_checks"]}
    assert found == {c: {("validate", checks[c][0])} if c in checks else "not a check" for c in found}


def test_a_computed_table_breaking_its_definition_emits_a_catalogued_code(run):
    plan = run["computed"]["plan_progress"].copy()
    assert check_computed_table("plan_progress", plan) == []
    plan.loc[0, "rate_pct"] = 120.0
    [(report_id, finding)] = check_computed_table("plan_progress", plan)
    assert (report_id, finding.code, finding.severity) == (plan.loc[0, "report_id"], "computed_table_invalid", "error")
    assert FINDING_CODES[finding.code][:2] == ("compute", "error")


def test_every_catalogued_code_is_emitted_or_said_why_not(run):
    reached = set(emitted(run["findings"])) | {"computed_table_invalid"}
    missing = sorted(set(FINDING_CODES) - reached - set(NOT_REACHED))
    assert missing == [], "emitted nowhere in this run: reach it or say why in NOT_REACHED"
    assert sorted(set(NOT_REACHED) & reached) == [], "reached now: remove it from NOT_REACHED"
    assert sorted(set(NOT_REACHED) - set(FINDING_CODES)) == []


def test_every_emitted_code_is_in_the_data_dictionary(run):
    rendered = render_finding_codes()
    codes = set(emitted(run["findings"])) | run["quarantine_checks"] | {"computed_table_invalid"}
    assert [c for c in sorted(codes) if f"| `{c}` |" not in rendered] == []
