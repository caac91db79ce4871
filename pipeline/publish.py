"""Publish stage: one validated frictionless data package per report, for data.gov.ma.

For every report, ``exports/<report_id>/`` holds ``datapackage.json``, ``ckan.json``
and, under ``data/``, each table of the report as CSV and as JSON;
``exports/<report_id>.zip`` holds the same files. What belongs here:

* pure builders that turn a report's DataFrames into the package's files (bytes
  keyed by relative path), with no disk access: :func:`build_package` and the
  helpers it calls;
* the release at the edge: write the files into a staging directory, validate it
  with frictionless (the check ``frictionless validate datapackage.json`` runs),
  then swap it into place and replace the zip; an invalid package is refused and
  the previous release stays (:func:`release_package`, :func:`publish_packages`).

Everything is derived from the input (no wall clock), so publishing the same
curated tables twice gives byte-identical files and zips.
"""

from __future__ import annotations

import copy
import ctypes
import csv
import errno
import hashlib
import io
import json
import logging
import math
import multiprocessing
import os
import shutil
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import frictionless
import pandas as pd

from pipeline import exitcodes
from pipeline.io import read_table, write_bytes_atomic
from schemas import ALL_RESOURCES, COMPUTED_TABLES, TABLES, table_fields
from schemas.descriptors import resource_descriptor

log = logging.getLogger("pipeline.publish")

DEFAULT_PUBLISHER = "Plateforme nationale du gouvernement ouvert (Maroc)"
LICENCE = {
    "name": "ODbL-1.0",
    "path": "https://opendatacommons.org/licenses/odbl/1-0/",
    "title": "Open Data Commons Open Database License 1.0",
}
CKAN_LICENCE_ID = "odc-odbl"
KEYWORDS = [
    "gouvernement ouvert",
    "PGO",
    "Open Government Partnership",
    "plan national",
    "auto-évaluation",
    "engagements",
    "redevabilité",
    "Maroc",
]
#: A text cell starting with one of these is read as a formula by spreadsheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
RATES_CONFIG_FILE = "rates_config.json"
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

NEUTRALISATION_NOTE = (
    "Pour éviter qu'un tableur n'interprète une cellule comme une formule, toute valeur "
    "textuelle commençant par =, +, -, @, une tabulation ou un retour chariot est précédée "
    "d'une apostrophe (') dans les fichiers CSV et JSON publiés ; les nombres ne sont pas modifiés."
)


# Pure helpers: DataFrames in, bytes and dicts out.


def neutralise_formula(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``=1+1`` -> ``'=1+1``)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def select_report_rows(df: pd.DataFrame, table: str, report_id: str) -> pd.DataFrame:
    """Rows of ``report_id`` in ``table``, columns in schema order, sorted by primary key."""
    columns = [f["name"] for f in table_fields(table)]
    rows = df.loc[df["report_id"] == report_id, columns]
    return rows.sort_values(ALL_RESOURCES[table]["primary_key"], kind="mergesort").reset_index(drop=True)


def _cell(value: object, field_type: str) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if field_type == "integer":
        return int(value)
    if field_type == "number":
        return float(value)
    if field_type == "boolean":
        return bool(value)
    text = str(value)
    return neutralise_formula(text) if text else None


def table_records(rows: pd.DataFrame, table: str) -> list[dict]:
    """Rows as dicts of Python values typed by the schema, keys in schema order.

    Missing values become ``None``, and so does an empty string (an empty CSV cell
    means missing); text is neutralised with :func:`neutralise_formula`.
    """
    fields = table_fields(table)
    columns = {f["name"]: [_cell(v, f["type"]) for v in rows[f["name"]].tolist()] for f in fields}
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def _csv_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_csv(records: list[dict], table: str) -> bytes:
    """UTF-8 CSV: one header row (the field names), then one line per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f["name"] for f in table_fields(table)])
    writer.writerows([_csv_text(v) for v in record.values()] for record in records)
    return buffer.getvalue().encode("utf-8")


def render_json(data: object) -> bytes:
    """UTF-8 JSON, indented, keys in the order given; NaN or infinity is an error."""
    return (json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rates_method(rates_config: dict | None, plan_rows: pd.DataFrame | None, report_id: str) -> dict:
    """How the computed rates of ``report_id`` were obtained, for the package metadata.

    The compute stage's configuration (``curated/rates_config.json``: status to
    progress mapping, status bands, aggregation...) is recorded as it is, except that
    its per-report ``weights`` entry is narrowed to this report, so that a package
    does not change when another report is added. Without a configuration, only the
    aggregation named by the report's ``plan_progress`` rows is known.
    """
    if rates_config is None:
        aggregations = [] if plan_rows is None else sorted(set(plan_rows["aggregation"].dropna()))
        return {"aggregation": aggregations[0] if len(aggregations) == 1 else None}
    method = copy.deepcopy(rates_config)
    if isinstance(method.get("weights"), dict):
        method["weights"] = {k: v for k, v in method["weights"].items() if k == report_id}
    return method


def _package_description(report: dict, tables: list[str], method: dict | None) -> str:
    parts = [
        f"Données ouvertes extraites du rapport d'auto-évaluation « {report['title']} » "
        f"(fichier {report['source_file']}, empreinte SHA-256 {report['source_sha256']})"
        + (f", plan d'action national {report['plan_period']}" if report.get("plan_period") else "")
        + (f", chiffres arrêtés à {report['as_of']}" if report.get("as_of") else "")
        + ".",
        "Tables : " + ", ".join(f"{t} ({ALL_RESOURCES[t]['title']})" for t in tables) + ", "
        "chacune en CSV (UTF-8, virgule, une ligne d'en-tête, cellule vide = valeur manquante) "
        "et en JSON (tableau d'objets, null = valeur manquante).",
        NEUTRALISATION_NOTE,
    ]
    computed = [t for t in tables if t in COMPUTED_TABLES]
    if method is not None and computed:
        parts.append(
            f"Les tables {', '.join(computed)} sont calculées à partir des statuts des activités ; "
            "la correspondance statut → avancement et la méthode d'agrégation utilisées sont données "
            "dans la propriété rates_method du descripteur."
        )
    return "\n\n".join(parts)


def _version(report: dict, data_files: dict[str, bytes]) -> str:
    """``<year>.<month>.0+<12 hex of the data's SHA-256>``: the report's as_of and the content."""
    digest = hashlib.sha256()
    for path in sorted(data_files):
        digest.update(path.encode("utf-8") + b"\0" + data_files[path] + b"\0")
    as_of = report.get("as_of") or ""
    year, _, month = as_of.partition("-")
    release = f"{int(year)}.{int(month)}.0" if year.isdigit() and month.isdigit() else "0.0.0"
    return f"{release}+{digest.hexdigest()[:12]}"


def package_descriptor(
    report: dict, resources: list[dict], version: str, method: dict | None, publisher: str
) -> dict:
    """``datapackage.json`` of one report: French metadata and the resources given."""
    tables = [r["name"] for r in resources if r["format"] == "csv"]
    keywords = KEYWORDS + ([report["plan_period"]] if report.get("plan_period") else [])
    descriptor = {
        "name": report["report_id"],
        "title": report["title"],
        "description": _package_description(report, tables, method),
        "version": version,
        "licenses": [dict(LICENCE)],
        "sources": [
            {
                "title": f"Rapport d'auto-évaluation : {report['title']}",
                "path": report["source_file"],
                "hash": f"sha256:{report['source_sha256']}",
            }
        ],
        "contributors": [{"title": publisher, "role": "publisher"}],
        "publisher": publisher,
        "keywords": keywords,
        "languages": [report["language"]],
    }
    if method is not None:
        descriptor["rates_method"] = method
    descriptor["resources"] = resources
    return descriptor


def ckan_dataset(descriptor: dict) -> dict:
    """The dataset as CKAN's ``package_create`` takes it, resources by relative URL.

    ``owner_org`` is left to the portal team (``ckanapi action package_create
    owner_org=<org> -I ckan.json``); resource URLs are relative to the package folder.
    """
    source = descriptor["sources"][0]
    extras = [
        {"key": "source_file", "value": source["path"]},
        {"key": "source_sha256", "value": source["hash"].removeprefix("sha256:")},
        {"key": "language", "value": ",".join(descriptor["languages"])},
    ]
    if "rates_method" in descriptor:
        extras.append({"key": "rates_method", "value": json.dumps(descriptor["rates_method"], ensure_ascii=False)})
    resources = [
        {
            "name": r["title"] if r["format"] == "json" else f"{r['title']} (CSV)",
            "description": r["description"],
            "format": r["format"].upper(),
            "mimetype": r["mediatype"],
            "url": r["path"],
            "size": r["bytes"],
            "hash": r["hash"],
        }
        for r in descriptor["resources"]
    ]
    resources.append(
        {
            "name": "Descripteur du paquet de données (datapackage.json)",
            "description": "Descripteur Frictionless Data Package : schémas des tables, clés, licence, sources.",
            "format": "JSON",
            "mimetype": "application/json",
            "url": "datapackage.json",
        }
    )
    return {
        "name": descriptor["name"],
        "title": descriptor["title"],
        "notes": descriptor["description"],
        "license_id": CKAN_LICENCE_ID,
        "version": descriptor["version"],
        "author": descriptor["publisher"],
        "tags": [{"name": k} for k in descriptor["keywords"]],
        "extras": extras,
        "resources": resources,
    }


def split_foreign_keys(
    rows: pd.DataFrame, foreign_keys: list[dict], referenced: dict[str, pd.DataFrame]
) -> tuple[list[dict], list[tuple[dict, int]]]:
    """Foreign keys to declare for ``rows``, and those left out with their partly filled row count.

    frictionless reports a row whose composite key is filled only in part (a commitment
    whose axis is unknown: ``report_id`` set, ``axis_no`` null) as a violation, whereas
    SQL's default (MATCH SIMPLE) and the nullability in :mod:`schemas` accept it. Such a
    key is left out when every fully filled row finds its match, so that the package
    validates; if one does not, the key is kept and frictionless reports the violation.
    """
    kept, left_out = [], []
    for fk in foreign_keys:
        filled = rows[fk["fields"]].notna()
        partial = int((filled.any(axis=1) & ~filled.all(axis=1)).sum())
        if partial == 0:
            kept.append(fk)
            continue
        target = referenced[fk["reference"]["resource"]][fk["reference"]["fields"]]
        known = set(target.itertuples(index=False, name=None))
        complete = rows.loc[filled.all(axis=1), fk["fields"]]
        if all(key in known for key in complete.itertuples(index=False, name=None)):
            left_out.append((fk, partial))
        else:
            kept.append(fk)
    return kept, left_out


def build_package(
    report_id: str,
    frames: dict[str, pd.DataFrame],
    rates_config: dict | None = None,
    publisher: str = DEFAULT_PUBLISHER,
) -> dict[str, bytes]:
    """Every file of ``report_id``'s package, keyed by path relative to the package folder.

    Args:
        report_id: the report to package; ``frames["reports"]`` must hold exactly one row for it.
        frames: curated and computed tables by name (all reports); a table absent from
            it is left out of the package, and so are foreign keys pointing at it.
        rates_config: the compute stage's rates configuration, recorded in the metadata.
        publisher: who publishes the dataset.

    Raises:
        ValueError: if ``frames["reports"]`` does not hold exactly one row for ``report_id``.
    """
    report_rows = select_report_rows(frames["reports"], "reports", report_id)
    if len(report_rows) != 1:
        raise ValueError(f"{len(report_rows)} rows for report {report_id!r} in the reports table, expected 1")
    report = {k: None if pd.isna(v) else v for k, v in report_rows.iloc[0].items()}
    tables = [t for t in ALL_RESOURCES if t in frames]

    selected = {t: select_report_rows(frames[t], t, report_id) for t in tables}
    data_files: dict[str, bytes] = {}
    for table in tables:
        records = table_records(selected[table], table)
        data_files[f"data/{table}.csv"] = render_csv(records, table)
        data_files[f"data/{table}.json"] = render_json(records)

    resources = []
    for fmt in ("csv", "json"):
        for table in tables:
            path = f"data/{table}.{fmt}"
            resource = resource_descriptor(table, path, fmt)
            schema = resource["schema"]
            present = [fk for fk in schema["foreignKeys"] if fk["reference"]["resource"] in tables]
            schema["foreignKeys"], left_out = split_foreign_keys(selected[table], present, selected)
            for fk, count in left_out:
                resource["description"] += (
                    f" La clé étrangère ({', '.join(fk['fields'])}) vers {fk['reference']['resource']} n'est pas "
                    f"déclarée dans ce paquet : {count} enregistrement(s) ne la renseignent qu'en partie."
                )
                if fmt == "csv":
                    log.warning(
                        "%s: foreign key (%s) -> %s left out of the package: %d row(s) fill it in part",
                        report_id, ", ".join(fk["fields"]), fk["reference"]["resource"], count,
                    )
            resource["bytes"] = len(data_files[path])
            resource["hash"] = f"sha256:{sha256_hex(data_files[path])}"
            resources.append(resource)

    plan_rows = frames["plan_progress"].loc[frames["plan_progress"]["report_id"] == report_id] if "plan_progress" in frames else None
    method = rates_method(rates_config, plan_rows, report_id) if any(t in frames for t in COMPUTED_TABLES) else None
    descriptor = package_descriptor(report, resources, _version(report, data_files), method, publisher)
    return {
        "datapackage.json": render_json(descriptor),
        "ckan.json": render_json(ckan_dataset(descriptor)),
        **data_files,
    }


def zip_package(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` with sorted entries and fixed timestamps: same files, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


# Validation.


def _error_row(error: frictionless.Error, resource: str | None) -> dict:
    d = error.to_descriptor()
    return {
        "resource": resource,
        "type": d.get("type"),
        "row": d.get("rowNumber"),
        "field": d.get("fieldName"),
        "message": d.get("message"),
    }


def validate_package_dir(package_dir: Path) -> list[dict]:
    """Errors of the package in ``package_dir`` (empty list: valid).

    First the check ``frictionless validate <package_dir>/datapackage.json`` runs
    (metadata, CSV types, constraints, primary and foreign keys, hashes and sizes),
    then the JSON copies: each must hold the same field names and row count as its
    CSV, and its values must pass the same schema (foreign keys included), checked by
    frictionless as inline data.
    """
    report = frictionless.validate(str(Path(package_dir) / "datapackage.json"))
    errors = [_error_row(e, None) for e in report.errors]
    errors += [_error_row(e, task.name) for task in report.tasks for e in task.errors]
    if errors:
        return errors
    rows_checked = {task.name: task.stats.get("rows", 0) for task in report.tasks if task.type == "table"}
    return check_json_copies(package_dir, rows_checked)


def check_json_copies(package_dir: Path, csv_rows: dict[str, int]) -> list[dict]:
    """Errors of the JSON resources: each must hold exactly the rows of its CSV.

    The CSV resources have just passed frictionless (types, constraints, keys), so a
    JSON copy whose every value renders to the same cell as its CSV is valid too; this
    costs a fraction of validating it again as a second table.
    """
    package_dir = Path(package_dir)
    descriptor = json.loads((package_dir / "datapackage.json").read_text(encoding="utf-8"))
    csv_paths = {r["name"]: r["path"] for r in descriptor["resources"] if r.get("format") == "csv"}
    errors: list[dict] = []
    for resource in descriptor["resources"]:
        if resource["format"] != "json":
            continue
        table = resource["name"].removesuffix("-json")
        names = [f["name"] for f in resource["schema"]["fields"]]
        records = json.loads((package_dir / resource["path"]).read_text(encoding="utf-8"))
        if not isinstance(records, list) or any(not isinstance(r, dict) or list(r) != names for r in records):
            message = "not an array of objects keyed by the schema's field names, in order"
            errors.append({"resource": resource["name"], "type": "json-shape", "row": None, "field": None, "message": message})
            continue
        if len(records) != csv_rows.get(table):
            message = f"{len(records)} rows in JSON, {csv_rows.get(table)} in CSV"
            errors.append({"resource": resource["name"], "type": "json-row-count", "row": None, "field": None, "message": message})
            continue
        with (package_dir / csv_paths[table]).open(encoding="utf-8", newline="") as fh:
            csv_cells = list(csv.reader(fh))[1:]
        for row_number, (record, cells) in enumerate(zip(records, csv_cells), start=2):
            rendered = [_csv_text(record[n]) for n in names]
            if rendered != cells:
                field = next(n for n, a, b in zip(names, rendered, cells) if a != b)
                message = f"value {record[field]!r} differs from the CSV's {cells[names.index(field)]!r}"
                errors.append({"resource": resource["name"], "type": "json-differs-from-csv", "row": row_number, "field": field, "message": message})
                break
    return errors


# Release: the edge that touches exports/.


def write_package_files(files: dict[str, bytes], package_dir: Path) -> None:
    for path, data in files.items():
        target = Path(package_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _make_readable(path: Path, directory: bool) -> None:
    """Give ``path`` the umask's default mode (temporary files and directories are private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)


def _staging_prefix(kind: str, report_id: str) -> str:
    # A report id has no dot, so ".tmp-a." cannot match the staging folders of report "a-b".
    return f".{kind}-{report_id}."


def recover_interrupted_release(exports_dir: Path, report_id: str) -> None:
    """Tidy what a killed publish of ``report_id`` left in ``exports_dir``.

    Staging folders are removed. A backup of the previous release is put back if the
    run died between moving it aside and renaming the new package into place, and
    removed otherwise.
    """
    target = Path(exports_dir) / report_id
    for staging in sorted(Path(exports_dir).glob(_staging_prefix("tmp", report_id) + "*")):
        shutil.rmtree(staging, ignore_errors=True)
    for backup in sorted(Path(exports_dir).glob(_staging_prefix("old", report_id) + "*")):
        if target.exists():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            log.warning("restoring the previous release of %s from %s", report_id, backup)
            os.replace(backup, target)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system or the file system cannot do it.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_directory(new_dir: Path, target: Path) -> None:
    """Put ``new_dir`` in place of ``target``.

    Where the system allows, the two are exchanged atomically, so ``target`` is never
    missing; otherwise the previous ``target`` is moved aside and kept until the
    rename succeeds (a run killed in between is mended by
    :func:`recover_interrupted_release`).
    """
    if target.exists() and exchange_paths(new_dir, target):
        shutil.rmtree(new_dir)  # now the previous release
        return
    backup = None
    if target.exists():
        backup = Path(tempfile.mkdtemp(prefix=_staging_prefix("old", target.name), dir=target.parent))
        os.replace(target, backup)
    try:
        os.replace(new_dir, target)
    except BaseException:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup)


def release_package(files: dict[str, bytes], exports_dir: Path, report_id: str) -> list[dict]:
    """Write, validate and release one package; return the validation errors (empty: released).

    The files go to ``exports/.tmp-<report_id>.*/``; only a valid package is renamed
    to ``exports/<report_id>/`` and zipped to ``exports/<report_id>.zip`` (atomic
    replace). An invalid one is deleted and the previous release left as it was.
    """
    exports_dir = Path(exports_dir)
    exports_dir.mkdir(parents=True, exist_ok=True)
    recover_interrupted_release(exports_dir, report_id)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix("tmp", report_id), dir=exports_dir))
    try:
        write_package_files(files, staging)
        errors = validate_package_dir(staging)
        if errors:
            return errors
        _make_readable(staging, directory=True)
        swap_directory(staging, exports_dir / report_id)
        zip_path = exports_dir / f"{report_id}.zip"
        write_bytes_atomic(zip_path, zip_package(files))
        _make_readable(zip_path, directory=False)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return []


def errors_path(exports_dir: Path, report_id: str) -> Path:
    return Path(exports_dir) / f"{report_id}.errors.json"


def record_refusal(exports_dir: Path, report_id: str, errors: list[dict]) -> None:
    """Log the errors of a refused package and write them to ``exports/<report_id>.errors.json``."""
    log.error(
        "package %s refused: %d validation error(s); the previous release is kept",
        report_id,
        len(errors),
        extra={"fields": {"report_id": report_id, "error_count": len(errors)}},
    )
    for e in errors:
        log.error(
            "  %s: row %s, field %s: [%s] %s", e["resource"], e["row"], e["field"], e["type"], e["message"]
        )
    payload = {"report_id": report_id, "released": False, "errors": errors}
    write_bytes_atomic(errors_path(exports_dir, report_id), render_json(payload))


def read_publishable_tables(curated_dir: Path) -> dict[str, pd.DataFrame]:
    """Curated tables (a missing file reads as empty) and the computed tables whose file exists."""
    curated_dir = Path(curated_dir)
    frames = {t: read_table(curated_dir / f"{t}.parquet", t) for t in TABLES}
    missing = []
    for table in COMPUTED_TABLES:
        path = curated_dir / f"{table}.parquet"
        if path.exists():
            frames[table] = read_table(path, table)
        else:
            missing.append(table)
    if missing:
        log.warning(
            "computed table(s) %s not found in %s: packages are published without them",
            ", ".join(missing),
            curated_dir,
        )
    return frames


def read_rates_config(curated_dir: Path) -> dict | None:
    """``curated/rates_config.json`` written by the compute stage, or ``None`` if absent."""
    path = Path(curated_dir) / RATES_CONFIG_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


#: Below this many packages, publishing in one process is faster than starting workers.
PARALLEL_FROM = 4


def split_by_report(frames: dict[str, pd.DataFrame], report_ids: list[str]) -> dict[str, dict[str, pd.DataFrame]]:
    """Each report's rows of every table, splitting each table once (not once per report)."""
    out: dict[str, dict[str, pd.DataFrame]] = {r: {} for r in report_ids}
    for table, df in frames.items():
        groups = dict(tuple(df.groupby("report_id", sort=False))) if len(df) else {}
        for report_id in report_ids:
            out[report_id][table] = groups.get(report_id, df.iloc[0:0])
    return out


def _publish_one(job: tuple) -> tuple[str, list[dict], int, float]:
    """Build, validate and release one report's package (in a worker process when parallel).

    Returns the report, its validation errors (empty: released), its number of tables
    and the seconds it took.
    """
    report_id, frames, rates_config, publisher, exports_dir = job
    started = time.perf_counter()
    try:
        files = build_package(report_id, frames, rates_config, publisher)
    except ValueError as exc:
        errors = [{"resource": None, "type": "build-error", "row": None, "field": None, "message": str(exc)}]
        return report_id, errors, 0, time.perf_counter() - started
    errors = release_package(files, exports_dir, report_id)
    return report_id, errors, sum(1 for p in files if p.endswith(".csv")), time.perf_counter() - started


def publish_packages(
    curated_dir: Path,
    exports_dir: Path,
    rates_config: dict | None = None,
    *,
    report_ids: set[str] | None = None,
    publisher: str = DEFAULT_PUBLISHER,
    record: dict | None = None,
) -> int:
    """Build, validate and release the data package of every report (or of ``report_ids``).

    ``record``, when given, receives per report what happened, for the run manifest.

    Returns:
        :data:`pipeline.exitcodes.OK`, or :data:`~pipeline.exitcodes.RELEASE_REFUSED`
        if at least one package was invalid (its previous release stays; its errors
        are logged and written to ``exports/<report_id>.errors.json``).
    """
    curated_dir, exports_dir = Path(curated_dir), Path(exports_dir)
    frames = read_publishable_tables(curated_dir)
    if rates_config is None:
        rates_config = read_rates_config(curated_dir)
        if rates_config is None and any(t in frames for t in COMPUTED_TABLES):
            log.warning("%s not found: the metadata give only the aggregation of the computed rates", curated_dir / RATES_CONFIG_FILE)
    known = sorted(set(frames["reports"]["report_id"].dropna()))
    orphans = sorted(set(frames["findings"]["report_id"].dropna()) - set(known))
    if orphans:
        log.info("findings of %d file(s) with no report row are not published: %s", len(orphans), ", ".join(orphans))
    wanted = known if report_ids is None else [r for r in known if r in report_ids]
    findings = frames["findings"]
    blocked = set(findings.loc[(findings["stage"] == "compute") & (findings["severity"] == "error"), "report_id"])
    for report_id in sorted(blocked & set(wanted)):
        log.error("report %s is not released: its rates could not be computed (see its compute findings)", report_id)
    blocked_code = exitcodes.INPUT_ERROR if blocked & set(wanted) else exitcodes.OK
    wanted = [r for r in wanted if r not in blocked]
    for report_id in sorted(set(report_ids or ()) - set(known)):
        log.warning("report %s is not in %s/reports.parquet: nothing to publish", report_id, curated_dir)
    if not wanted:
        (log.info if report_ids is not None else log.warning)("no report to publish")
        return blocked_code

    refused = []
    rows = split_by_report(frames, wanted)
    jobs = [(report_id, rows[report_id], rates_config, publisher, exports_dir) for report_id in wanted]
    workers = min(os.cpu_count() or 1, len(jobs)) if len(jobs) >= PARALLEL_FROM else 1
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            results = list(pool.map(_publish_one, jobs, chunksize=max(1, len(jobs) // (workers * 8))))
    else:
        results = [_publish_one(job) for job in jobs]
    for report_id, errors, files, seconds in results:
        if record is not None:
            record[report_id] = {"status": "refused" if errors else "released", "duration_s": round(seconds, 4), "errors": len(errors)}
        if errors:
            record_refusal(exports_dir, report_id, errors)
            refused.append(report_id)
            continue
        errors_path(exports_dir, report_id).unlink(missing_ok=True)
        log.info(
            "released %s: %d tables as CSV and JSON, %s",
            report_id,
            files,
            exports_dir / f"{report_id}.zip",
            extra={"fields": {"report_id": report_id}},
        )
    if refused:
        log.error("%d of %d package(s) refused: %s", len(refused), len(wanted), ", ".join(refused))
        return exitcodes.RELEASE_REFUSED
    return blocked_code
