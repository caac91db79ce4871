"""Tests of the synthetic report generator (pipeline.synth) and of the ingestion round trip.

The generator's truth is checked against its own text (every line number it gives
holds what it says); the round trip checks that ingestion reads back exactly that truth.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter

import pytest

from pipeline import synth
from pipeline.cli import main as pgo
from pipeline.ingest import ingest_reports
from pipeline.synth import (
    STATUS_DAMAGE,
    STATUS_LINES,
    _Gap,
    _Mark,
    fold,
    format_number,
    garble,
    generate_report,
    is_status_recognisable,
    render,
    with_de,
    wrap_text,
    write_reports,
)
from pipeline.validate import read_partitions
from schemas.fields import REPORT_ID_PATTERN

REPORT_ID_RE = re.compile(REPORT_ID_PATTERN)
MARKUP_RE = re.compile(r"</?u>|/>")


def generate_many(n: int, seed: int, rate: float) -> list[tuple[str, dict]]:
    out = []
    for index in range(1, n + 1):
        rng = synth.report_rng(seed, index)
        out.append(generate_report(rng, synth.report_id_for(rng, index), rate))
    return out


def text_lines(text: str) -> list[str]:
    return text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")[:-1]


def unmarked(line: str) -> str:
    return MARKUP_RE.sub("", line).replace("\\'", "'")


# --- small pure helpers, values worked out by hand -----------------------------------


def test_fold_removes_accents_and_ligatures():
    assert fold("Complétée (90-100%)") == "completee (90-100%)"
    assert fold("MISE EN ŒUVRE") == "mise en oeuvre"


def test_with_de_contracts_articles():
    assert with_de("le budget citoyen") == "du budget citoyen"
    assert with_de("les marchés publics") == "des marchés publics"
    assert with_de("un portail national") == "d'un portail national"
    assert with_de("la jurisprudence") == "de la jurisprudence"
    assert with_de("l'accès à l'information") == "de l'accès à l'information"


def test_format_number_is_french():
    assert format_number(1250.0, decimals=False) == "1 250"
    assert format_number(45.0, decimals=True) == "45"
    assert format_number(12.5, decimals=True) == "12,5"
    assert format_number(999.0, decimals=False) == "999"


def test_wrap_text_keeps_words_and_joins_short_tail():
    assert wrap_text("aa bb cc dd ee", 5) == ["aa bb", "cc dd ee"]
    assert wrap_text("aa bb cc dd ee ff", 8) == ["aa bb cc", "dd ee ff"]
    assert wrap_text("aaa bbb ccc ddd eee fff", 7) == ["aaa bbb", "ccc ddd eee fff"]


def test_render_numbers_lines_and_page_breaks():
    items = [
        "Titre",
        _Gap(1),
        _Mark("Activité 1 : X", ("a", 1, 1)),
        _Gap(3),
        "- Non entamée",
        _Gap(0, "/>"),
        _Mark("fin", ("z",)),
    ]
    lines, where = render(items)
    assert lines == ["Titre", "", "Activité 1 : X", "", "", "", "- Non entamée", "/>", "fin"]
    assert where == {("a", 1, 1): 3, ("z",): 9}


def test_status_lines_are_recognisable_and_garbled_ones_are_not():
    rng = random.Random(4)
    for label in STATUS_LINES.values():
        assert is_status_recognisable(label)
        garbled = garble(rng, label)
        assert garbled != label
        assert not is_status_recognisable(garbled)


# --- determinism and the files --------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path):
    a = write_reports(tmp_path / "a", 6, 11, 0.2)
    b = write_reports(tmp_path / "b", 6, 11, 0.2)
    c = write_reports(tmp_path / "c", 6, 12, 0.2)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert len(names) == 12
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert [p.name for p in a] == [p.name for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_file_names_truth_and_encodings(tmp_path):
    paths = write_reports(tmp_path, 25, 3, 0.1)
    seen = Counter()
    for path in paths:
        report_id = path.name[: -len(".txt")]
        assert REPORT_ID_RE.fullmatch(report_id)
        assert re.fullmatch(r"synth-\d{4}-pan-\d{4}-\d{4}", report_id)
        truth = json.loads((tmp_path / f"{report_id}.truth.json").read_text(encoding="utf-8"))
        assert truth["report_id"] == report_id
        assert report_id.endswith(truth["plan_period"])
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") == (truth["encoding"] == "utf-8-sig")
        text = data.decode(truth["encoding"])
        if truth["line_ending"] == "crlf":
            assert text.count("\n") == text.count("\r\n") > 0
        else:
            assert "\r" not in text
        assert len(text.replace("\r\n", "\n").split("\n")) - 1 == truth["line_count"]
        seen[truth["encoding"], truth["line_ending"]] += 1
    assert len(seen) >= 3  # BOM and CRLF variants both occur


def test_cli_writes_reports_and_truth(tmp_path):
    assert pgo(["synth", "--reports", "2", "--seed", "9", "--out", str(tmp_path / "out"), "--damage-rate", "0.3"]) == 0
    assert len(list((tmp_path / "out").glob("*.txt"))) == 2
    assert len(list((tmp_path / "out").glob("*.truth.json"))) == 2
    assert pgo(["synth", "--reports", "2", "--seed", "9", "--out", str(tmp_path / "x"), "--damage-rate", "1.5"]) == 2
    assert not (tmp_path / "x").exists()


# --- the truth agrees with the text -------------------------------------------------------


@pytest.fixture(scope="module")
def damaged_reports():
    return generate_many(40, 21, 0.2)


def activity_regions(lines: list[str], commitment: dict) -> dict[int, list[str]]:
    """Lines of each activity, from its heading to the next heading (activity, indicators or end)."""
    starts = [a["heading_line"] for a in commitment["activities"]]
    regions = {}
    for k, a in enumerate(commitment["activities"]):
        end = starts[k + 1] - 1 if k + 1 < len(starts) else len(lines)
        region = lines[a["heading_line"] : end]
        cut = next(
            (
                i
                for i, line in enumerate(region)
                if "Indicateurs relatifs" in line or line.startswith(("ENGAGEMENT", "<u>ENGAGEMENT"))
            ),
            None,
        )
        regions[a["activity_no"]] = region[:cut]
    return regions


def test_truth_line_numbers_hold_their_headings(damaged_reports):
    for text, truth in damaged_reports:
        lines = text_lines(text)
        for c in truth["commitments"]:
            heading = unmarked(lines[c["heading_line"] - 1])
            m = re.match(r"^ENGAGEMENT (\d+) ?: (.*)$", heading)
            assert m, (truth["report_id"], c["heading_line"], heading)
            assert int(m.group(1)) == c["commitment_no"]
            assert c["title"].startswith(m.group(2))
            assert c["title"] == c["title"].upper()
            for a in c["activities"]:
                line = unmarked(lines[a["heading_line"] - 1])
                m = re.match(r"^Activité (\d+) ?: (.*)$", line)
                assert m, (truth["report_id"], a["heading_line"], line)
                assert int(m.group(1)) == a["activity_no"]
                assert a["title"].startswith(m.group(2))
            for ind in c["indicators"]:
                line = lines[ind["line"] - 1]
                assert line.startswith(("- ", "• "))
                assert ind["label"].startswith(line[2:].split(":")[0].strip())


def test_truth_statuses_match_the_check_marks(damaged_reports):
    for text, truth in damaged_reports:
        lines = text_lines(text)
        mark = truth["layout"]["check_mark"]
        damage = {(d["commitment_no"], d["activity_no"]): d for d in truth["damage"] if d["kind"] in STATUS_DAMAGE}
        for c in truth["commitments"]:
            for no, region in activity_regions(lines, c).items():
                checked = [unmarked(line) for line in region[1:] if mark in line]
                status = next(a["status"] for a in c["activities"] if a["activity_no"] == no)
                d = damage.get((c["commitment_no"], no))
                where = (truth["report_id"], c["commitment_no"], no)
                if d is None or (d["kind"] == "status_line_garbled" and d["detail"] != "checked line"):
                    assert len(checked) == 1, where
                    assert checked[0].endswith(STATUS_LINES[status]), where
                elif d["kind"] == "check_mark_lost":
                    assert checked == [] and status == "unknown", where
                elif d["kind"] == "two_check_marks":
                    assert len(checked) == 2 and status == "unknown", where
                else:
                    assert len(checked) == 1 and status == "unknown", where
                    assert not is_status_recognisable(checked[0].replace(mark, "")), where


def test_truth_front_matter_matches_the_text(damaged_reports):
    months = synth.MONTHS
    for text, truth in damaged_reports:
        lines = text_lines(text)
        year, month = truth["as_of"].split("-")
        rate = format_number(truth["global_rate_pct"], decimals=True)
        sentence = [line for line in lines if line.startswith("Le taux d'avancement global")]
        assert len(sentence) == 1
        assert sentence[0].endswith(f"{months[int(month) - 1]} {year} est de {rate}%.")
        assert truth["plan_period"] in sentence[0]
        assert f"{months[int(month) - 1].capitalize()} {year}" in lines
        for axis in truth["axes"]:
            assert axis["name"] in lines
        rows = {int(line.split("\t")[0]): line for line in lines if re.match(r"^\d+\t", line)}
        for c in truth["commitments"]:
            if truth["layout"]["rate_table"]:
                cell = rows[c["commitment_no"]].split("\t")[-1]
                expected = "" if c["published_rate_pct"] is None else str(c["published_rate_pct"])
                assert cell.replace("%", "").strip() == expected
            else:
                assert c["published_rate_pct"] is None
            assert (c["axis_no"] is None) == (not truth["layout"]["axes_section"])


def test_truth_responsible_body_matches_the_table(damaged_reports):
    for text, truth in damaged_reports:
        lines = text_lines(text)
        starts = [c["heading_line"] for c in truth["commitments"]] + [len(lines) + 1]
        for k, c in enumerate(truth["commitments"]):
            section = lines[c["heading_line"] : c["activities"][0]["heading_line"] - 1]
            body_lines = [line for line in section if line.startswith("Organisme responsable")]
            assert starts[k] < c["activities"][0]["heading_line"] < starts[k + 1]
            if c["responsible_body"] is None:
                assert body_lines == []
            else:
                assert len(body_lines) == 1
                assert unmarked(body_lines[0]).split("\t")[1].strip() == c["responsible_body"]


# --- damage rates ------------------------------------------------------------------------


def test_no_damage_at_rate_zero():
    for _text, truth in generate_many(30, 5, 0.0):
        assert truth["damage"] == []
        assert all(a["status"] != "unknown" for c in truth["commitments"] for a in c["activities"])
        assert all(c["responsible_body"] is not None for c in truth["commitments"])


@pytest.mark.parametrize("rate", [0.05, 0.2])
def test_damage_counts_near_the_requested_rate(rate):
    reports = generate_many(120, 8, rate)
    n_activities = sum(len(c["activities"]) for _t, tr in reports for c in tr["commitments"])
    n_commitments = sum(len(tr["commitments"]) for _t, tr in reports)
    n_rated = sum(len(tr["commitments"]) for _t, tr in reports if tr["layout"]["rate_table"])
    counts = Counter()
    for _text, truth in reports:
        keys = [(d["kind"], d["commitment_no"], d["activity_no"]) for d in truth["damage"]]
        assert len(keys) == len(set(keys)), truth["report_id"]
        for kind, _c, a in keys:
            counts[kind, "activity" if a is not None else "commitment"] += 1
    units = {
        ("check_mark_lost", "activity"): n_activities,
        ("two_check_marks", "activity"): n_activities,
        ("status_line_garbled", "activity"): n_activities,
        ("status_lines_out_of_order", "activity"): n_activities,
        ("activity_heading_duplicated", "activity"): n_activities,
        ("page_break", "activity"): n_activities,
        ("stray_markup", "activity"): n_activities,
        ("responsible_body_missing", "commitment"): n_commitments,
        ("published_rate_missing", "commitment"): n_rated,
        ("page_break", "commitment"): n_commitments,
        ("stray_markup", "commitment"): n_commitments,
    }
    assert set(counts) == set(units)
    assert {k for k, scope in units if scope == "activity"} == set(synth.ACTIVITY_DAMAGE)
    assert {k for k, scope in units if scope == "commitment"} == set(synth.COMMITMENT_DAMAGE)
    for key, n in units.items():
        observed = counts[key] / n
        tolerance = 4 * math.sqrt(rate * (1 - rate) / n) + 0.005
        assert abs(observed - rate) <= tolerance, (key, counts[key], n, observed)


# --- round trip through the ingestion stage ---------------------------------------------------


def value_or_none(v):
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v.item() if hasattr(v, "item") else v


#: (seed, index, damage rate) of reports added to the round trip because they once showed
#: a parser problem: synth-0026-pan-2023-2025 has a bare "/>" line before "Organisme
#: responsable", which gave a spurious field_text_unlabelled warning (fixed in 3797310).
KNOWN_CASES = [(103, 26, 0.05)]


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    base = tmp_path_factory.mktemp("synth_round_trip")
    raw = base / "raw"
    write_reports(raw, 20, 2024, 0.15)
    for seed, index, rate in KNOWN_CASES:
        rng = synth.report_rng(seed, index)
        text, truth = generate_report(rng, synth.report_id_for(rng, index), rate)
        (raw / f"{truth['report_id']}.txt").write_bytes(text.encode("utf-8"))
        (raw / f"{truth['report_id']}.truth.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    code = ingest_reports(raw, base / "curated")
    truths = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(raw.glob("*.truth.json"))]
    return code, truths, read_partitions(base / "curated")[0], raw


def mismatches(expected: dict, got: dict, fields: list[str], what: str) -> list[str]:
    """Readable differences between truth rows and curated rows, keyed alike."""
    out = [f"{what} {key}: missing from curated" for key in expected.keys() - got.keys()]
    out += [f"{what} {key}: not in the truth" for key in got.keys() - expected.keys()]
    for key in sorted(expected.keys() & got.keys(), key=str):
        for f in fields:
            e, g = expected[key][f], value_or_none(got[key][f])
            if e != g:
                out.append(f"{what} {key} {f}: expected {e!r}, got {g!r}")
    return out


def rows_by(df, keys: list[str]) -> dict:
    return {tuple(value_or_none(r[k]) for k in keys): r for r in df.to_dict("records")}


def test_round_trip_ingests_every_report(round_trip):
    code, truths, tables, _raw = round_trip
    assert code == 0
    expected = {(t["report_id"],): {"plan_period": t["plan_period"], "as_of": t["as_of"],
                                    "source_encoding": t["encoding"], "line_count": t["line_count"],
                                    "commitment_count": len(t["commitments"])} for t in truths}  # fmt: skip
    got = rows_by(tables["reports"], ["report_id"])
    found = mismatches(expected, got, list(next(iter(expected.values()))), "report")
    assert not found, "\n".join(found)


def test_round_trip_commitments(round_trip):
    _code, truths, tables, _raw = round_trip
    expected = {
        (t["report_id"], c["commitment_no"]): {
            "title": c["title"],
            "responsible_body": c["responsible_body"],
            "axis_no": c["axis_no"],
            "source_line_start": c["heading_line"],
        }
        for t in truths
        for c in t["commitments"]
    }
    got = rows_by(tables["commitments"], ["report_id", "commitment_no"])
    found = mismatches(expected, got, ["title", "responsible_body", "axis_no", "source_line_start"], "commitment")
    assert not found, "\n".join(found)


def test_round_trip_activities(round_trip):
    _code, truths, tables, _raw = round_trip
    expected = {
        (t["report_id"], c["commitment_no"], a["activity_no"]): {
            "status": a["status"],
            "title": a["title"],
            "source_line": a["heading_line"],
        }
        for t in truths
        for c in t["commitments"]
        for a in c["activities"]
    }
    got = rows_by(tables["activities"], ["report_id", "commitment_no", "activity_no"])
    assert len(expected) > 200
    found = mismatches(expected, got, ["status", "title", "source_line"], "activity")
    assert not found, "\n".join(found)


def test_round_trip_indicators(round_trip):
    _code, truths, tables, _raw = round_trip
    expected = {
        (t["report_id"], c["commitment_no"], i["indicator_no"]): {**i, "source_line": i["line"]}
        for t in truths
        for c in t["commitments"]
        for i in c["indicators"]
    }
    got = rows_by(tables["indicators"], ["report_id", "commitment_no", "indicator_no"])
    fields = ["label", "raw_value", "value", "unit", "kind", "source_line"]
    found = mismatches(expected, got, fields, "indicator")
    assert not found, "\n".join(found)


def test_round_trip_published_rates_and_axes(round_trip):
    _code, truths, tables, _raw = round_trip
    expected = {(t["report_id"], "plan", 0): {"rate_pct": t["global_rate_pct"]} for t in truths}
    expected |= {
        (t["report_id"], "commitment", c["commitment_no"]): {"rate_pct": c["published_rate_pct"]}
        for t in truths
        for c in t["commitments"]
        if c["published_rate_pct"] is not None
    }
    got = rows_by(tables["published_rates"], ["report_id", "scope", "scope_no"])
    found = mismatches(expected, got, ["rate_pct"], "published rate")
    assert not found, "\n".join(found)
    expected_axes = {(t["report_id"], a["axis_no"]): {"name": a["name"]} for t in truths for a in t["axes"]}
    found = mismatches(expected_axes, rows_by(tables["axes"], ["report_id", "axis_no"]), ["name"], "axis")
    assert not found, "\n".join(found)


def test_round_trip_damaged_statuses_are_unknown_with_a_finding(round_trip):
    _code, truths, tables, _raw = round_trip
    findings = tables["findings"]
    activities = rows_by(tables["activities"], ["report_id", "commitment_no", "activity_no"])
    damaged = [
        (t["report_id"], d["commitment_no"], d["activity_no"])
        for t in truths
        for d in t["damage"]
        if d["kind"] in STATUS_DAMAGE and (d["kind"] != "status_line_garbled" or d["detail"] == "checked line")
    ]
    assert len(damaged) > 20
    keyed = {(r.report_id, r.record_key) for r in findings.itertuples() if r.table_name == "activities"}
    problems = []
    for report_id, c, a in damaged:
        if activities[(report_id, c, a)]["status"] != "unknown":
            problems.append(f"{report_id} c{c} a{a}: status {activities[(report_id, c, a)]['status']}")
        if (report_id, f"commitment_no={c},activity_no={a}") not in keyed:
            problems.append(f"{report_id} c{c} a{a}: no finding")
    assert not problems, "\n".join(problems)
    assert not any(a["is_status_checked"] for key, a in activities.items() if key in set(damaged))


def test_round_trip_other_damage_is_recorded(round_trip):
    _code, truths, tables, _raw = round_trip
    codes = {(r.report_id, r.code, r.record_key) for r in tables["findings"].itertuples()}
    problems = []
    for t in truths:
        for d in t["damage"]:
            c, a = d["commitment_no"], d["activity_no"]
            if d["kind"] == "responsible_body_missing":
                want = ("responsible_body_missing", f"commitment_no={c}")
            elif d["kind"] == "published_rate_missing":
                want = ("published_rate_missing", f"scope=commitment,scope_no={c}")
            elif d["kind"] == "activity_heading_duplicated":
                want = ("activity_heading_duplicated", f"commitment_no={c},activity_no={a}")
            else:
                continue
            if (t["report_id"], *want) not in codes:
                problems.append(f"{t['report_id']}: {d} without finding {want}")
    assert not problems, "\n".join(problems)


#: Finding codes the generator's damage and template variants may cause, by damage kind
#: (None: template variants present in clean reports too).
EXPECTED_FINDINGS = {
    "check_mark_lost": {"check_mark_missing"},
    "two_check_marks": {"multiple_check_marks"},
    "status_line_garbled": {
        "status_line_unrecognised",
        "checked_status_unreadable",
        "checklist_incomplete",
        "check_mark_missing",
    },
    "activity_heading_duplicated": {"activity_heading_duplicated"},
    "responsible_body_missing": {"responsible_body_missing"},
    "published_rate_missing": {"published_rate_missing"},
    "stray_markup": {"stray_markup"},
    None: {"indicator_value_not_numeric", "published_axis_rates_missing", "axes_section_missing"},
}


def test_round_trip_findings_only_where_damaged(round_trip):
    """No finding the truth does not explain: activity findings only on activities damaged that way."""
    _code, truths, _tables, _raw = round_trip
    allowed = {None: EXPECTED_FINDINGS[None]}
    for t in truths:
        for d in t["damage"]:
            c, a = d["commitment_no"], d["activity_no"]
            key = f"commitment_no={c},activity_no={a}" if a is not None else f"commitment_no={c}"
            codes = EXPECTED_FINDINGS.get(d["kind"], set())
            allowed.setdefault((t["report_id"], key), set()).update(codes)
            if d["kind"] == "published_rate_missing":
                allowed.setdefault((t["report_id"], f"scope=commitment,scope_no={c}"), set()).update(codes)
            if d["kind"] == "stray_markup":
                allowed.setdefault((t["report_id"], f"commitment_no={c}"), set()).add("stray_markup")
    problems = unexplained_findings(round_trip, allowed)
    assert not problems, "\n".join(f"{p[0]}.txt:{p[1]} {p[2]}: {p[3]}" for p in problems)


def unexplained_findings(round_trip, allowed: dict) -> list[tuple]:
    """(report_id, source_line, code, message) of findings no damage of the truth explains."""
    findings = round_trip[2]["findings"]
    problems = []
    for r in findings.itertuples():
        if r.code in allowed[None]:
            continue
        if r.code not in allowed.get((r.report_id, r.record_key), set()):
            line = None if r.source_line is None or r.source_line != r.source_line else int(r.source_line)
            problems.append((r.report_id, line, r.code, r.message))
    return problems


# --- layout drift ------------------------------------------------------------------------------


def generate(index: int, rate: float, **drift):
    rng = synth.report_rng(41, index)
    return generate_report(rng, synth.report_id_for(rng, index), rate, **drift)


def without_lines(truth: dict) -> list:
    """The truth's commitments with their line numbers left out (drift moves lines, not content)."""
    line_keys = {"heading_line", "line"}
    return [
        {
            k: ([{kk: vv for kk, vv in x.items() if kk not in line_keys} for x in v] if isinstance(v, list) else v)
            for k, v in c.items()
            if k not in line_keys
        }
        for c in truth["commitments"]
    ]


def test_no_drift_is_the_default_and_leaves_no_trace():
    text, truth = generate(1, 0.1)
    assert (text, truth) == generate(1, 0.1, drift=())
    assert "drift" not in truth and "drift" not in truth["layout"]


def test_drift_changes_the_layout_not_the_content():
    _, plain = generate(2, 0.1)
    text, drifted = generate(2, 0.1, drift=synth.DRIFT_KINDS)
    assert without_lines(drifted) == without_lines(plain)
    assert drifted["damage"] == plain["damage"]
    assert drifted["layout"]["drift"] == sorted(synth.DRIFT_KINDS)
    assert (text, drifted) == generate(2, 0.1, drift=synth.DRIFT_KINDS)  # deterministic


def test_unknown_drift_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown drift kind"):
        generate(1, 0.0, drift=["sideways"])
    assert pgo(["synth", "--reports", "1", "--seed", "1", "--out", "/tmp/never", "--drift", "sideways"]) == 2


def test_each_drift_shows_in_the_text_where_the_truth_says():
    for index in range(1, 6):
        text, truth = generate(index, 0.0, drift=synth.DRIFT_KINDS, drift_rate=0.5)
        lines = text_lines(text)
        headings = {(c["commitment_no"], None): c["heading_line"] for c in truth["commitments"]}
        headings |= {
            (c["commitment_no"], a["activity_no"]): a["heading_line"]
            for c in truth["commitments"]
            for a in c["activities"]
        }
        for d in truth["drift"]:
            if d["kind"] == "heading_variants":
                assert unmarked(lines[headings[d["commitment_no"], d["activity_no"]] - 1]).startswith(d["detail"]), d
            elif d["kind"] == "status_in_words":
                assert d["detail"] in lines, d
            elif d["kind"] == "hyphenation":
                assert any(
                    line.rstrip().removesuffix("</u>").endswith(d["detail"].split("-")[0] + "-") for line in lines
                ), d
            elif d["kind"] == "interleaved_cell":
                assert all(f in lines for f in d["fragments"]), d
            else:
                breaks = int(d["detail"].split(": ")[1].split(" ")[0])
                assert (
                    sum("\f" in line or re.match(r"^(?:Page \d+ sur \d+|- \d+ -)$", line) is not None for line in lines)
                    >= breaks
                )


def test_cli_writes_drifted_reports(tmp_path):
    assert (
        pgo(
            [
                "synth",
                "--reports",
                "2",
                "--seed",
                "9",
                "--out",
                str(tmp_path),
                "--drift",
                "page_furniture",
                "hyphenation",
            ]
        )
        == 0
    )
    truths = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(tmp_path.glob("*.truth.json"))]
    assert [t["layout"]["drift"] for t in truths] == [["hyphenation", "page_furniture"]] * 2
