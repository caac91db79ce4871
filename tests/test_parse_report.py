"""The whole parser (pipeline.parse.report) on generated reports with layout drift: each kind of
drift alone and all mixed, the tables come back as the generator's truth says, with a finding
wherever the parser had to adapt and none elsewhere."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import synth
from pipeline.io import to_arrow
from pipeline.parse import parse_report, read_report

#: The finding each drift kind must leave (interleaved cells: by whether the text proves the order).
DRIFT_FINDINGS = {
    "heading_variants": "heading_form_variant",
    "status_in_words": "status_stated_in_words",
    "page_furniture": "page_furniture_removed",
    "hyphenation": "hyphenation_joined",
    "interleaved_cell": {"proven": "actions_text_reordered", "unproven": "actions_text_order_unproven"},
}
#: Truth field -> table column compared, per table.
COMMITMENT_FIELDS = {
    "title": "title",
    "responsible_body": "responsible_body",
    "axis_no": "axis_no",
    "heading_line": "source_line_start",
}
ACTIVITY_FIELDS = {"title": "title", "status": "status", "heading_line": "source_line"}
INDICATOR_FIELDS = {
    "label": "label",
    "raw_value": "raw_value",
    "value": "value",
    "unit": "unit",
    "kind": "kind",
    "line": "source_line",
}
#: Findings a clean generated report may have (template variants, not damage).
TEMPLATE_FINDINGS = {"indicator_value_not_numeric", "published_axis_rates_missing", "axes_section_missing"}


def generated(kinds: list[str], n: int, damage_rate: float, seed: int) -> list[tuple[dict, dict[str, pd.DataFrame]]]:
    """``n`` generated reports with the given drift, each with its truth and its parsed tables."""
    out = []
    for index in range(1, n + 1):
        rng = synth.report_rng(seed, index)
        text, truth = synth.generate_report(
            rng, synth.report_id_for(rng, index), damage_rate, drift=kinds, drift_rate=0.5
        )
        out.append(
            (
                truth,
                parse_report(
                    text.removeprefix("\ufeff"), truth["report_id"], source_file="x.txt", source_sha256="0" * 64
                ),
            )
        )
    return out


def value(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def mismatches(truth: dict, tables: dict[str, pd.DataFrame]) -> list[str]:
    """Every difference between the truth and the tables, readably."""
    out = []
    got = {r["commitment_no"]: r for r in tables["commitments"].to_dict("records")}
    acts = {(r["commitment_no"], r["activity_no"]): r for r in tables["activities"].to_dict("records")}
    inds = {(r["commitment_no"], r["indicator_no"]): r for r in tables["indicators"].to_dict("records")}
    expected = [
        (("c", c["commitment_no"]), got.get(c["commitment_no"]), c, COMMITMENT_FIELDS) for c in truth["commitments"]
    ]
    for c in truth["commitments"]:
        no = c["commitment_no"]
        expected += [
            (("a", no, a["activity_no"]), acts.get((no, a["activity_no"])), a, ACTIVITY_FIELDS) for a in c["activities"]
        ]
        expected += [
            (("i", no, i["indicator_no"]), inds.get((no, i["indicator_no"])), i, INDICATOR_FIELDS)
            for i in c["indicators"]
        ]
    for key, row, want, fields in expected:
        if row is None:
            out.append(f"{truth['report_id']} {key}: missing")
            continue
        out += [
            f"{truth['report_id']} {key} {f}: {want[f]!r} != {value(row[g])!r}"
            for f, g in fields.items()
            if want[f] != value(row[g])
        ]
    if len(got) != len(truth["commitments"]) or len(acts) != sum(len(c["activities"]) for c in truth["commitments"]):
        out.append(f"{truth['report_id']}: {len(got)} commitments, {len(acts)} activities read")
    return out + interleaving_mismatches(truth, acts)


def interleaving_mismatches(truth: dict, acts: dict) -> list[str]:
    """An interleaved narrative reads as its paragraph where the text proves the order, as printed
    otherwise (activities whose checklist is damaged are left out: a garbled line joins the text)."""
    damaged = {(d["commitment_no"], d["activity_no"]) for d in truth["damage"]}
    out = []
    for d in truth.get("drift", []):
        where = (d["commitment_no"], d["activity_no"])
        if d["kind"] != "interleaved_cell" or where in damaged:
            continue
        text = acts[where]["actions_text"]
        if d["detail"] == "proven" and text != d["text"]:
            out.append(f"{truth['report_id']} {where}: not rebuilt: {text!r}")
        if d["detail"] == "unproven" and text.split() != " ".join(d["fragments"]).split():
            out.append(f"{truth['report_id']} {where}: not kept as printed: {text!r}")
    return out


def missing_findings(truth: dict, findings: pd.DataFrame) -> list[str]:
    """Drift the parser adapted to without saying so."""
    codes = set(findings["code"])
    keyed = {(r.code, r.record_key) for r in findings.itertuples()}
    out = []
    for d in truth["drift"]:
        code = DRIFT_FINDINGS[d["kind"]]
        if isinstance(code, dict):
            key = f"commitment_no={d['commitment_no']},activity_no={d['activity_no']}"
            if (code[d["detail"]], key) not in keyed:
                out.append(f"{truth['report_id']} {d}: no {code[d['detail']]} finding")
        elif code not in codes:
            out.append(f"{truth['report_id']} {d['kind']}: no {code} finding")
    return out


@pytest.mark.parametrize("kind", synth.DRIFT_KINDS)
def test_each_kind_of_drift_alone_comes_back_as_the_truth_says(kind):
    reports = generated([kind], 8, 0.0, seed=31)
    assert sum(d["kind"] == kind for truth, _ in reports for d in truth["drift"]) >= 3  # the drift is there
    problems = [
        p for truth, tables in reports for p in mismatches(truth, tables) + missing_findings(truth, tables["findings"])
    ]
    assert not problems, "\n".join(problems)
    allowed = TEMPLATE_FINDINGS | {
        c for code in DRIFT_FINDINGS.values() for c in (code.values() if isinstance(code, dict) else [code])
    }
    unexplained = {code for _, tables in reports for code in tables["findings"]["code"]} - allowed
    assert not unexplained


def test_every_kind_of_drift_mixed_with_damage_comes_back_as_the_truth_says():
    reports = generated(list(synth.DRIFT_KINDS), 10, 0.1, seed=32)
    assert {d["kind"] for truth, _ in reports for d in truth["drift"]} == set(synth.DRIFT_KINDS)
    problems = [
        p for truth, tables in reports for p in mismatches(truth, tables) + missing_findings(truth, tables["findings"])
    ]
    assert not problems, "\n".join(problems)


def test_a_report_without_drift_has_no_layout_finding():
    layout_codes = {
        c for code in DRIFT_FINDINGS.values() for c in (code.values() if isinstance(code, dict) else [code])
    }
    for truth, tables in generated([], 6, 0.1, seed=33):
        assert "drift" not in truth
        assert not layout_codes & set(tables["findings"]["code"])


@pytest.mark.parametrize("drift", [(), synth.DRIFT_KINDS], ids=["plain", "every-drift"])
def test_the_arrow_tables_ingest_writes_hold_what_the_dataframes_hold(drift):
    """The ingest stage writes :meth:`ParsedReport.arrow_tables`; readers of the parser get
    :meth:`ParsedReport.frames`: the same values, nulls and types (damage and drift give
    nulls, NaN-free floats, findings with and without lines)."""
    text, _ = synth.generate_report(synth.report_rng(5, 1), "pan-a", 0.3, drift=drift)
    parsed = read_report(text, "pan-a", source_file="pan-a.txt", source_sha256="0" * 64)
    frames, tables = parsed.frames(), parsed.arrow_tables()
    assert list(tables) == list(frames)
    assert all(len(tables[t]) for t in ("activities", "findings"))
    for table, df in frames.items():
        assert tables[table].equals(to_arrow(df, table), check_metadata=True), table
