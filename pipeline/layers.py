"""Where each stage writes, and the provenance every output records.

The layers, in order, one writer each (dbt's model ownership):

=====================================  ===========  ====================================
folder                                 written by   holds
=====================================  ===========  ====================================
``raw/``                               people       the reports and their weights files
``curated/ingested/<report_id>/``      ingest       one report's parsed tables
``curated/validated/``                 validate     clean rows, quarantine, checks report
``curated/computed/``                  compute      computed tables, findings, pgo.duckdb
``exports/<report_id>/``               publish      the released data package and its zip
=====================================  ===========  ====================================

Every output folder records, in ``provenance.json`` (``release.json`` for a release),
what it was built from: its inputs' checksums and the code fingerprint of each stage
that made it, written last so that a folder whose record is missing or different is
out of date (owid/etl's ``checksum_input``). Nothing decides "up to date" but these
records compared with the inputs as they are now. Records are deterministic (no
clock), so a rebuild from the same inputs gives the same bytes. Standard library and
orjson (records are read on every plan: 1,000 releases at a time).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipeline.atomic import write_text_atomic

INGESTED = "ingested"
VALIDATED = "validated"
COMPUTED = "computed"
PROVENANCE_FILE = "provenance.json"
RELEASE_FILE = "release.json"
DATABASE_NAME = "pgo.duckdb"
STATE_FILE = "state.json"
RUNS_DIR = "runs"
LOCK_FILE = ".pgo.lock"
#: Releases of reports taken out of raw/ are moved here (not a valid report id: no clash).
RETRACTED_DIR = "_retracted"


@dataclass(frozen=True)
class Layout:
    """The paths of every layer, from the two output roots."""

    curated: Path
    exports: Path

    def partition(self, report_id: str) -> Path:
        return self.curated / INGESTED / report_id

    @property
    def partitions(self) -> Path:
        return self.curated / INGESTED

    @property
    def validated(self) -> Path:
        return self.curated / VALIDATED

    @property
    def computed(self) -> Path:
        return self.curated / COMPUTED

    @property
    def database(self) -> Path:
        return self.computed / DATABASE_NAME

    @property
    def state_file(self) -> Path:
        return self.curated / STATE_FILE

    @property
    def runs(self) -> Path:
        return self.curated / RUNS_DIR

    @property
    def lock_file(self) -> Path:
        return self.curated / LOCK_FILE

    def release(self, report_id: str) -> Path:
        return self.exports / report_id

    def release_zip(self, report_id: str) -> Path:
        return self.release(report_id) / f"{report_id}.zip"

    @property
    def retracted(self) -> Path:
        return self.exports / RETRACTED_DIR


def layout(curated: Path, exports: Path = Path("exports")) -> Layout:
    return Layout(Path(curated), Path(exports))


def canonical_json(record: object) -> str:
    """``record`` as JSON, keys sorted, indented by 2, UTF-8 text unescaped (what
    ``json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`` writes, by orjson: the
    national package's record lists every report's spans)."""
    return orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode("utf-8") + "\n"


def read_record(path: Path) -> dict | None:
    """A JSON record, or None when it is missing or unreadable (then: out of date)."""
    try:
        record = orjson.loads(Path(path).read_bytes())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def read_provenance(folder: Path) -> dict | None:
    """A layer's ``provenance.json``: ``built_from`` (the record compared) and what the
    stage noted of its outcome; None when missing (the layer is then out of date)."""
    record = read_record(Path(folder) / PROVENANCE_FILE)
    return record if record is not None and isinstance(record.get("built_from"), dict) else None


def built_from(folder: Path) -> dict | None:
    record = read_provenance(folder)
    return None if record is None else record["built_from"]


def write_provenance(folder: Path, record: dict, **outcome: object) -> None:
    """Write ``folder/provenance.json`` atomically: the last write of a stage's output."""
    write_text_atomic(Path(folder) / PROVENANCE_FILE, canonical_json({"built_from": record, **outcome}))


# --- the records -------------------------------------------------------------------------
#
# A report's inputs accumulate along the layers: each layer's per-report record is the
# one below it plus what the stage added. The plan builds the records it expects from
# raw/ and the code as they are now; a layer is up to date when its record is equal.


def partition_record(report_id: str, source_sha256: str | None, ingest_code: str) -> dict:
    return {"report_id": report_id, "source_sha256": source_sha256, "ingest_code": ingest_code}


def validated_entry(partition: dict) -> dict:
    """A report's entry in the validated layer's record, from its partition's record."""
    return {"source_sha256": partition.get("source_sha256"), "ingest_code": partition.get("ingest_code")}


def validated_record(entries: dict[str, dict], validate_code: str) -> dict:
    return {"reports": dict(sorted(entries.items())), "validate_code": validate_code}


def computed_record(
    validated: dict, weights_sha256: dict[str, str | None], config_sha256: str | None, compute_code: str
) -> dict:
    reports = {
        report_id: {
            **entry,
            "validate_code": validated.get("validate_code"),
            "weights_sha256": weights_sha256.get(report_id),
        }
        for report_id, entry in validated.get("reports", {}).items()
    }
    return {"reports": reports, "config_sha256": config_sha256, "compute_code": compute_code}


def release_inputs(computed: dict, report_id: str, publish_code: str, publisher: str) -> dict | None:
    """What a report's release is built from, per the computed layer's record (None: not in it)."""
    entry = computed.get("reports", {}).get(report_id)
    if entry is None:
        return None
    return {
        **entry,
        "config_sha256": computed.get("config_sha256"),
        "compute_code": computed.get("compute_code"),
        "publish_code": publish_code,
        "publisher": publisher,
    }


def read_release(release_dir: Path) -> dict | None:
    """A release's record, or None when it is missing or the release is incomplete.

    Complete: every file the record lists is present with the size it recorded (the
    folder is swapped into place whole, so this guards against hands, not crashes).
    """
    record = read_record(Path(release_dir) / RELEASE_FILE)
    if record is None:
        return None
    folder = str(release_dir)
    for name, entry in record.get("files", {}).items():
        try:
            if os.stat(os.path.join(folder, name)).st_size != entry.get("bytes"):
                return None
        except OSError:
            return None
    return record
