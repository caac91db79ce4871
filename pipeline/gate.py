"""The release gate: every published byte validated, and each row validated once.

frictionless is the gate, but it validates rows, not files. Every data file released
is a header followed by slices of the rows :mod:`pipeline.render` rendered once, so:

* **rows** are validated once: the rows of every report that the national package's
  record does not list as validated with the same SHA-256 and schema are written as
  one CSV file per table and worker (the header, then those reports' slices) and
  validated with frictionless against the schema's resource descriptors: types,
  constraints, primary keys (:func:`validate_rows`; each table a resource of its own,
  one package when a foreign key must be looked up). Foreign keys are counted on the
  typed rows the files are rendered from (:func:`count_key_rows`); frictionless is
  given only the keys of which a value misses its match (:func:`unproven_keys`), and
  names the rows: it need not read every referenced table again to prove keys the
  count proved (≈40 % of its time on a report). The released descriptors declare
  every key the rows allow, and ``frictionless validate`` of a released package
  checks them all (tests, ``make bench``). A primary or foreign key always includes
  ``report_id`` (checked at import), so a key that holds within each report holds
  across reports, and a slice of valid rows is valid;
* **files** are checked on their bytes: each released CSV is the header followed by
  its reports' validated slices (:mod:`pipeline.render`), and each report's release
  records the digest of the very lines the national files are written from (checked);
* **descriptors**: in a report's and in the national one, the package-level metadata is
  validated by frictionless and each resource must be the schema's resource descriptor,
  only its description, size, hash and left-out foreign keys differing
  (:func:`check_package_descriptor`); the schema's resource descriptors are frictionless
  metadata (tests/test_gate.py validates every one of them), so the resources need not
  go through frictionless's metadata validation again at every release (≈60 ms a
  package of 28 resources).

What belongs here: the foreign keys a set of rows allows, row validation, and the
descriptor checks. What does not: rendering (pipeline.render), releasing (publish).
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.render import RenderedTable
from pipeline.workers import map_jobs, worker_count
from schemas import ALL_RESOURCES
from schemas.descriptors import resource_descriptor

REPORT_KEY = "report_id"
#: Resource keys allowed to differ between a package's resource and the schema's.
PACKAGE_RESOURCE_VARIABLE_KEYS = {"description", "description_ar", "bytes", "hash", "schema"}
#: Below this many reports to validate, one process is faster than starting workers.
PARALLEL_VALIDATION_FROM = 40


def check_keys_carry_report_id(resources: dict[str, dict]) -> None:
    """Raise unless every primary key and foreign key includes ``report_id`` (on both sides)."""
    for table, resource in resources.items():
        if REPORT_KEY not in resource["primary_key"]:
            raise ValueError(f"{table}: the primary key {resource['primary_key']} lacks {REPORT_KEY}")
        for fk in resource["foreign_keys"]:
            fields, ref = fk["fields"], fk["reference"]["fields"]
            if REPORT_KEY not in fields or ref[fields.index(REPORT_KEY)] != REPORT_KEY:
                raise ValueError(f"{table}: the foreign key {fields} -> {fk['reference']} does not pair {REPORT_KEY}")


check_keys_carry_report_id(ALL_RESOURCES)


@dataclass
class KeyCounts:
    """Per foreign key of a table, running counts of partly filled and unmatched complete rows."""

    fk: dict
    partial: np.ndarray
    unmatched: np.ndarray

    def over(self, spans: list[tuple[int, int]]) -> tuple[int, int]:
        partial = sum(int(self.partial[stop] - self.partial[start]) for start, stop in spans)
        unmatched = sum(int(self.unmatched[stop] - self.unmatched[start]) for start, stop in spans)
        return partial, unmatched


def _running(mask: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])


def key_codes(
    left: pd.DataFrame, left_columns: list[str], right: pd.DataFrame, right_columns: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's key (``left_columns`` of ``left``, ``right_columns`` of ``right``) as one
    integer, the same for equal keys on both sides: each column's values numbered over
    both tables together (a null numbered apart), the numbers combined column after
    column and numbered again, so that they stay small."""
    n = len(left)
    combined = np.zeros(n + len(right), np.int64)
    for a, b in zip(left_columns, right_columns):
        codes, uniques = pd.factorize(pd.concat([left[a], right[b]], ignore_index=True))
        combined, _ = pd.factorize(combined * (len(uniques) + 1) + (codes + 1))
    return combined[:n], combined[n:]


def count_key_rows(rendered: dict[str, RenderedTable]) -> dict[str, list[KeyCounts]]:
    """For each table, each foreign key to a table present: which rows fill it in part, which miss their match."""
    out: dict[str, list[KeyCounts]] = {}
    for table, r in rendered.items():
        out[table] = []
        for fk in ALL_RESOURCES[table]["foreign_keys"]:
            target = fk["reference"]["resource"]
            if target not in rendered:
                continue
            filled = np.column_stack([r.rows[c].notna().to_numpy() for c in fk["fields"]])
            complete = filled.all(axis=1)
            partial = filled.any(axis=1) & ~complete
            rows, known = key_codes(r.rows, fk["fields"], rendered[target].rows, fk["reference"]["fields"])
            matched = np.isin(rows, known)
            out[table].append(KeyCounts(fk, _running(partial), _running(complete & ~matched)))
    return out


def split_keys(counts: list[KeyCounts], spans: list[tuple[int, int]]) -> tuple[list[dict], list[tuple[dict, int]]]:
    """Foreign keys to declare for the rows in ``spans``, and those left out with their partly filled row count.

    frictionless reports a row whose composite key is filled only in part as a violation,
    whereas SQL's default (MATCH SIMPLE) and the nullability in :mod:`schemas` accept it.
    Such a key is left out when every complete key finds its match (checked here); if
    one does not, the key is kept and frictionless reports the violation.
    """
    return split_totals([c.fk for c in counts], [c.over(spans) for c in counts])


def split_totals(fks: list[dict], totals: list[tuple[int, int]]) -> tuple[list[dict], list[tuple[dict, int]]]:
    """:func:`split_keys` from each foreign key's (partly filled, unmatched) row counts."""
    kept, left_out = [], []
    for fk, (partial, unmatched) in zip(fks, totals):
        if partial and not unmatched:
            left_out.append((fk, partial))
        else:
            kept.append(fk)
    return kept, left_out


def spans_of(rendered: RenderedTable, report_ids: list[str]) -> list[tuple[int, int]]:
    return [rendered.span(r) for r in report_ids]


def unproven_keys(counts: list[KeyCounts], spans: list[tuple[int, int]]) -> list[dict]:
    """The foreign keys of which a complete value in ``spans`` misses its match: the ones
    frictionless must check (it then names each row that breaks one).

    A key whose every complete value finds its match holds: :func:`count_key_rows`
    matched them on the typed rows the files are rendered from (strings and integers,
    rendered the same way on both sides, so equal values are equal cells). Its values
    filled in part are left out as :func:`split_keys` says, in the gate as in the
    released descriptors.
    """
    return [c.fk for c in counts if c.over(spans)[1]]


def schema_resources(rendered: dict[str, RenderedTable], counts: dict, report_ids: list[str] | None) -> list[dict]:
    """The CSV resource descriptors (no size, no hash) for the rows of ``report_ids`` (all
    when None), with the foreign keys frictionless must check (:func:`unproven_keys`)."""
    resources = []
    for table, r in rendered.items():
        resource = resource_descriptor(table, f"data/{table}.csv", "csv")
        spans = [(0, r.row_count())] if report_ids is None else spans_of(r, report_ids)
        unproven = unproven_keys(counts[table], spans)
        resource["schema"]["foreignKeys"] = [
            fk for fk in resource["schema"]["foreignKeys"] if any(_same_key(fk, k) for k in unproven)
        ]
        resources.append(resource)
    return resources


def _same_key(declared: dict, fk: dict) -> bool:
    return declared["fields"] == fk["fields"] and declared["reference"]["resource"] == fk["reference"]["resource"]


def error_row(error, resource: str | None) -> dict:
    """A frictionless error as the row the publish stage logs and records."""
    d = error.to_descriptor()
    return {
        "resource": resource,
        "type": d.get("type"),
        "row": d.get("rowNumber"),
        "field": d.get("fieldName"),
        "message": d.get("message"),
    }


def _report_of_row(rendered: RenderedTable, report_ids: list[str], row_number: int | None) -> list[str]:
    """Reports a frictionless row number (header = 1) of the validated slices belongs to."""
    if row_number is None:
        return list(report_ids)
    index = row_number - 2
    for report_id in sorted(report_ids, key=rendered.span):
        start, stop = rendered.span(report_id)
        if index < stop - start:
            return [report_id]
        index -= stop - start
    return list(report_ids)


#: What a resource or field descriptor says to its reader only: row validation never reads it.
DESCRIPTIVE_KEYS = ("title", "title_ar", "description", "description_ar")


def rows_descriptor(resource: dict) -> dict:
    """A resource descriptor without its descriptive texts (:data:`DESCRIPTIVE_KEYS`, of the
    resource and of each field): what frictionless reads to validate its rows, and less
    metadata for it to validate and copy at each step (the released descriptors keep the
    texts: :func:`check_package_descriptor`)."""
    out = {k: v for k, v in resource.items() if k not in DESCRIPTIVE_KEYS}
    fields = [{k: v for k, v in f.items() if k not in DESCRIPTIVE_KEYS} for f in resource["schema"]["fields"]]
    out["schema"] = {**resource["schema"], "fields": fields}
    return out


@functools.cache
def _table_metadata(table: str):
    """``table``'s :func:`rows_descriptor` and the frictionless dialect and schema (no
    foreign key) built from it, once: frictionless validates metadata each time it
    builds it."""
    import frictionless

    descriptor = rows_descriptor(resource_descriptor(table, f"data/{table}.csv", "csv"))
    schema = frictionless.Schema.from_descriptor({**descriptor["schema"], "foreignKeys": []})
    return descriptor, frictionless.Dialect.from_descriptor(descriptor["dialect"]), schema


def _validate_table(folder: Path, table: str):
    """frictionless's report on ``folder/data/<table>.csv``, no foreign key declared."""
    import frictionless

    descriptor, dialect, schema = _table_metadata(table)
    resource = frictionless.Resource(
        name=table,
        path=descriptor["path"],
        basepath=str(folder),
        format=descriptor["format"],
        mediatype=descriptor["mediatype"],
        encoding=descriptor["encoding"],
        dialect=dialect,
        schema=schema,
    )
    return resource.validate()


def validate_rows(rendered: dict[str, RenderedTable], counts: dict, report_ids: list[str]) -> dict[str, list[dict]]:
    """frictionless errors of the rows of ``report_ids``, by report (a report absent: its rows are valid).

    Each table is validated as a resource of its own, from metadata built once
    (:func:`_table_metadata`), unless a foreign key must be checked: then as one package,
    which frictionless needs to look the references up.
    """
    import frictionless

    errors: dict[str, list[dict]] = {}
    resources = schema_resources(rendered, counts, report_ids)
    with tempfile.TemporaryDirectory(prefix="pgo-gate-") as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        for table, r in rendered.items():
            (folder / "data" / f"{table}.csv").write_bytes(r.csv_bytes(report_ids))
        if any(r["schema"]["foreignKeys"] for r in resources):
            descriptor = {"name": "rows-to-validate", "resources": [rows_descriptor(r) for r in resources]}
            reports = [frictionless.Package(descriptor, basepath=str(folder)).validate()]
        else:
            reports = [_validate_table(folder, r["name"]) for r in resources]
    for report in reports:
        for e in report.errors:
            for report_id in report_ids:
                errors.setdefault(report_id, []).append(error_row(e, None))
        for task in report.tasks:
            for e in task.errors:
                row = error_row(e, task.name)
                for report_id in _report_of_row(rendered[task.name], report_ids, row["row"]):
                    errors.setdefault(report_id, []).append(row)
    return errors


_SHARED: dict = {}


def _validate_chunk(report_ids: list[str]) -> dict[str, list[dict]]:
    return validate_rows(_SHARED["rendered"], _SHARED["counts"], report_ids)


def validate_rows_in_parallel(
    rendered: dict[str, RenderedTable], counts: dict, report_ids: list[str]
) -> dict[str, list[dict]]:
    """:func:`validate_rows`, the reports split between the cores (a forked worker per chunk)."""
    if not report_ids:
        return {}
    workers = min(worker_count(), len(report_ids)) if len(report_ids) >= PARALLEL_VALIDATION_FROM else 1
    chunks = [list(c) for c in np.array_split(np.array(report_ids, dtype=object), workers)]
    _SHARED.update(rendered=rendered, counts=counts)
    try:
        results = map_jobs(_validate_chunk, chunks, parallel_from=2, desc="validate rows", unit="chunk")
    finally:
        _SHARED.clear()
    return {k: v for result in results for k, v in result.items()}


def validate_descriptor_metadata(descriptor: dict) -> list[dict]:
    """frictionless metadata errors of a whole descriptor (resources included)."""
    import frictionless

    report = frictionless.Package.validate_descriptor(descriptor)
    return [error_row(e, None) for e in report.errors]


#: Stands for the resources when a package's package-level metadata is validated alone.
_STUB_RESOURCE = {"name": "stub", "path": "data/stub.csv"}


def check_package_descriptor(descriptor: dict) -> list[dict]:
    """Errors of a report's or the national package's descriptor: its package-level metadata
    (frictionless) and each resource against the schema's resource descriptor (only
    description, size, hash and left-out foreign keys may differ)."""
    errors = validate_descriptor_metadata({**descriptor, "resources": [_STUB_RESOURCE]})
    for resource in descriptor.get("resources", []):
        table, fmt = resource.get("name", "").removesuffix("-json"), resource.get("format")
        if table not in ALL_RESOURCES or fmt not in ("csv", "json"):
            errors.append(_descriptor_error(resource.get("name"), f"unknown resource {resource.get('name')!r}"))
            continue
        expected = _expected_resource(table, fmt)
        for key in set(expected) | set(resource):
            if key not in PACKAGE_RESOURCE_VARIABLE_KEYS and expected.get(key) != resource.get(key):
                errors.append(_descriptor_error(resource["name"], f"{key} differs from the schema's"))
        schema, expected_schema = resource.get("schema", {}), expected["schema"]
        if {**schema, "foreignKeys": []} != {**expected_schema, "foreignKeys": []}:
            errors.append(_descriptor_error(resource["name"], "schema differs from the schema's"))
        if any(fk not in expected_schema["foreignKeys"] for fk in schema.get("foreignKeys", [])):
            errors.append(_descriptor_error(resource["name"], "a foreign key the schema does not declare"))
    return errors


@functools.cache
def _expected_resource(table: str, fmt: str) -> dict:
    return resource_descriptor(table, f"data/{table}.{fmt}", fmt)


def _descriptor_error(resource: str | None, message: str) -> dict:
    return {"resource": resource, "type": "descriptor-error", "row": None, "field": None, "message": message}
