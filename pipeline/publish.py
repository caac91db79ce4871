"""Publish stage: one validated frictionless data package per report, for data.gov.ma.

For every report, ``exports/<report_id>/`` holds ``datapackage.json``, ``ckan.json``,
under ``data/`` each table of the report as CSV and as JSON, ``<report_id>.zip`` with
the same files, and ``release.json`` (what the release was built from, and every
file's size and SHA-256). What belongs here:

* pure builders that turn a report's DataFrames into the package's files (bytes
  keyed by relative path), with no disk access: :func:`build_package` and the
  helpers it calls;
* the release at the edge: write the files into a staging directory, validate it
  with frictionless (the check ``frictionless validate datapackage.json`` runs),
  then add its zip and record and swap the whole folder into place; an invalid
  package is refused and the previous release stays (:func:`release_package`,
  :func:`publish_packages`).

Everything is derived from the input (no wall clock), so publishing the same
curated tables twice gives byte-identical files and zips.
"""

from __future__ import annotations

import copy
import csv
import ctypes
import dataclasses
import errno
import functools
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import frictionless
import numpy as np
import orjson
import pandas as pd

from pipeline import exitcodes
from pipeline.atomic import make_readable
from pipeline.faults import fault_point
from pipeline.fingerprint import file_sha256, sha256_hex, stage_code_fingerprint
from pipeline.gate import (
    check_package_descriptor,
    count_key_rows,
    error_row,
    split_keys,
    split_totals,
    validate_rows_in_parallel,
)
from pipeline.io import read_table, write_bytes_atomic
from pipeline.layers import RELEASE_FILE, Layout, built_from, canonical_json, layout, read_release, release_inputs
from pipeline.national import (
    NATIONAL_KIND,
    national_ckan_dataset,
    national_descriptor,
    national_resources,
    national_version,
)
from pipeline.render import (  # noqa: F401 (re-exported: the page, workbook and push read them here)
    FORMULA_PREFIXES,
    JSON_SEPARATOR,
    PUBLISHED_DECIMALS,
    RenderedTable,
    neutralise_formula,
    render_table,
    render_tables,
    round_half_up,
    typed_value,
)
from pipeline.settings import DEFAULT_NATIONAL_NAME, DEFAULT_PUBLISHER
from pipeline.splice import Range, Recorded, SourceChanged, SplicedFile, ZipEntry, deflate_piece, write_zip
from pipeline.workers import Started, map_jobs, start_call
from schemas import ALL_RESOURCES, COMPUTED_TABLES, TABLES, table_fields
from schemas.descriptors import resource_descriptor

log = logging.getLogger("pipeline.publish")

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
#: The same keywords in Arabic: data.gov.ma is bilingual, and so are its tags.
KEYWORDS_AR = [
    "الحكومة المنفتحة",
    "شراكة الحكومة المنفتحة",
    "خطة العمل الوطنية",
    "التقييم الذاتي",
    "الالتزامات",
    "المساءلة",
    "المغرب",
]
#: The languages of every package's metadata: French, and Arabic beside it.
METADATA_LANGUAGES = ["fr", "ar"]
#: A period as a report cover prints it (``2021 – 2022``): what :func:`package_title` replaces.
PERIOD_IN_TITLE_RE = re.compile(r"(\d{4})\s*[-–—]\s*(\d{4})")
#: The file, beside the package's files, that ``ckan.json`` names for the data dictionary.
DATA_DICTIONARY_PATH = "data-dictionary.csv"
#: A text cell starting with one of these is read as a formula by spreadsheets (CSV
#: injection): the ASCII signs, tab and carriage return, and the full-width and small
#: forms of the signs (＝ U+FF1D, ﹦ U+FE66, ＋ U+FF0B, － U+FF0D, ＠ U+FF20), which a
#: spreadsheet may fold to ASCII (Unicode compatibility forms) before reading a cell.
RATES_CONFIG_FILE = "rates_config.json"
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)

NEUTRALISATION_NOTE = (
    "Pour éviter qu'un tableur n'interprète une cellule comme une formule, toute valeur "
    "textuelle commençant par =, +, -, @ (ou leurs formes pleine chasse ou petites : ＝, ﹦, ＋, －, ＠), "
    "une tabulation ou un retour chariot est précédée d'une apostrophe (') dans les fichiers CSV "
    "et JSON publiés, comme le titre et la description du paquet ; le reste du texte n'est pas "
    "modifié (« -2+3 » est publié « '-2+3 ») et les nombres ne le sont pas."
)


# Pure helpers: DataFrames in, bytes and dicts out.


def select_report_rows(df: pd.DataFrame, table: str, report_id: str) -> pd.DataFrame:
    """Rows of ``report_id`` in ``table``, columns in schema order, sorted by primary key."""
    columns = [f["name"] for f in table_fields(table)]
    rows = df.loc[df["report_id"] == report_id, columns]
    return rows.sort_values(ALL_RESOURCES[table]["primary_key"], kind="mergesort").reset_index(drop=True)


def table_records(rows: pd.DataFrame, table: str) -> list[dict]:
    """Rows as dicts of Python values typed by the schema, keys in schema order.

    Missing values become ``None``, and so does an empty string (an empty CSV cell
    means missing); text is neutralised with :func:`neutralise_formula`; the numbers of
    computed tables are rounded to :data:`PUBLISHED_DECIMALS`.
    """
    fields = table_fields(table)
    decimals = PUBLISHED_DECIMALS if table in COMPUTED_TABLES else None
    columns = {f["name"]: [typed_value(v, f["type"], decimals) for v in rows[f["name"]].tolist()] for f in fields}
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
    """UTF-8 JSON, indented by two spaces, keys in the order given; NaN or infinity is an error.

    The bytes are those of ``json.dumps(data, ensure_ascii=False, indent=2)`` plus a
    newline, written by orjson (the standard library's encoder is pure Python once it
    indents: forty times slower on a package descriptor); the standard library's C
    encoder checks first that no number is NaN or infinite, which orjson would write as null.
    """
    json.dumps(data, ensure_ascii=False, allow_nan=False, check_circular=False)
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


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
    weights = rates_config.get("weights")
    if isinstance(weights, dict):  # narrowed before copying: it has an entry per report
        rates_config = {**rates_config, "weights": {k: v for k, v in weights.items() if k == report_id}}
    return copy.deepcopy(rates_config)


def _version(report: dict, data_files: dict[str, bytes]) -> str:
    """``<year>.<month>.0+<12 hex of the data's SHA-256>``: the report's as_of and the content."""
    digest = hashlib.sha256()
    for path in sorted(data_files):
        digest.update(path.encode("utf-8") + b"\0" + data_files[path] + b"\0")
    as_of = report.get("as_of") or ""
    year, _, month = as_of.partition("-")
    release = f"{int(year)}.{int(month)}.0" if year.isdigit() and month.isdigit() else "0.0.0"
    return f"{release}+{digest.hexdigest()[:12]}"


NEUTRALISATION_NOTE_AR = (
    "لتفادي أن يفسّر برنامج الجداول خانةً ما على أنها صيغة حسابية، تُسبَق كل قيمة نصية تبدأ "
    "بـ = أو + أو - أو @ (أو بأشكالها كاملة العرض أو الصغيرة: ＝، ﹦، ＋، －، ＠)، أو بعلامة جدولة "
    "أو بعلامة رجوع إلى بداية السطر، بفاصلة عليا (') في ملفات CSV وJSON المنشورة، وكذلك عنوان "
    "الحزمة ووصفها؛ ولا يُغيَّر باقي النص (تُنشر «-2+3» على شكل «'-2+3») ولا تُغيَّر الأعداد."
)


def cover_period(report: dict) -> str | None:
    """The plan period printed in the report's title (its cover), as ``YYYY-YYYY``, or None."""
    match = PERIOD_IN_TITLE_RE.search(report.get("title") or "")
    return f"{match.group(1)}-{match.group(2)}" if match else None


def package_title(report: dict) -> str:
    """The dataset's French title: the cover's title with the plan period the pipeline retains.

    The cover of the 2023 report prints « 2021 – 2022 » where its text, its file name
    and its rate tables say 2021-2023 (finding ``plan_period_inconsistent``): the
    period printed in the title is replaced by ``plan_period``. The cover's wording
    stays in the report's own metadata (``reports.title``, the package's ``report``
    property and source title, the CKAN extra ``report_title``).
    """
    title = report["title"]
    period = report.get("plan_period")
    if not period:
        return title
    return PERIOD_IN_TITLE_RE.sub(period, title, count=1)


def package_title_ar(report: dict) -> str:
    """The dataset's Arabic title, built from the report's metadata (the reports are in French)."""
    title = "تقرير التقييم الذاتي لخطة العمل الوطنية للحكومة المنفتحة"
    return f"{title} {report['plan_period']}" if report.get("plan_period") else title


def _period_note(report: dict) -> tuple[str, str] | None:
    """French and Arabic sentences saying the cover's period is not the one retained, if so."""
    printed, period = cover_period(report), report.get("plan_period")
    if not printed or not period or printed == period:
        return None
    match = PERIOD_IN_TITLE_RE.search(report["title"])
    return (
        f"La couverture du rapport indique la période « {match.group(0)} » ; le texte du plan d'action "
        f"donne {period}, période retenue dans ce jeu de données (constat plan_period_inconsistent).",
        f"يذكر غلاف التقرير الفترة «{match.group(0)}»، بينما يذكر نص خطة العمل الفترة {period}، "
        "وهي الفترة المعتمدة في مجموعة البيانات هذه (الملاحظة plan_period_inconsistent).",
    )


def _package_description(report: dict, tables: list[str], method: dict | None) -> str:
    parts = [
        f"Données ouvertes extraites du rapport d'auto-évaluation « {report['title']} » "
        f"(fichier {report['source_file']}, empreinte SHA-256 {report['source_sha256']})"
        + (f", plan d'action national {report['plan_period']}" if report.get("plan_period") else "")
        + (f", chiffres arrêtés à {report['as_of']}" if report.get("as_of") else "")
        + ".",
    ]
    note = _period_note(report)
    if note:
        parts.append(note[0])
    parts += [
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


def _package_description_ar(report: dict, tables: list[str], method: dict | None) -> str:
    """The Arabic description: the same paragraphs as :func:`_package_description`."""
    parts = [
        f"بيانات مفتوحة مستخرجة من تقرير التقييم الذاتي «{report['title']}» "
        f"(الملف {report['source_file']}، بصمة SHA-256: {report['source_sha256']})"
        + (f"، خطة العمل الوطنية للحكومة المنفتحة {report['plan_period']}" if report.get("plan_period") else "")
        + (f"، والأرقام محصورة إلى غاية {report['as_of']}" if report.get("as_of") else "")
        + ".",
    ]
    note = _period_note(report)
    if note:
        parts.append(note[1])
    parts += [
        "الجداول: " + "، ".join(f"{t} ({ALL_RESOURCES[t]['title_ar']})" for t in tables) + "، "
        "وكل منها بصيغة CSV (ترميز UTF-8، والفاصلة فاصلًا بين الخانات، وسطر عناوين واحد، والخانة "
        "الفارغة قيمة ناقصة) وبصيغة JSON (مصفوفة من الكائنات، وnull قيمة ناقصة).",
        NEUTRALISATION_NOTE_AR,
    ]
    computed = [t for t in tables if t in COMPUTED_TABLES]
    if method is not None and computed:
        parts.append(
            f"الجداول {'، '.join(computed)} محسوبة انطلاقًا من حالات الأنشطة؛ وترد المطابقة بين الحالة "
            "والتقدم وطريقة التجميع المستعملتان في الخاصية rates_method من واصف الحزمة."
        )
    return "\n\n".join(parts)


def _left_out_keys_ar(resources: list[dict]) -> list[dict]:
    """Copies of ``resources`` whose Arabic description names the foreign keys left out.

    :func:`build_package` leaves out a foreign key that some rows fill in part and says
    so in the French description; the Arabic one says it too: a key that the table's
    definition declares towards a table of the package but that the schema lacks.
    """
    present = {r["name"] for r in resources if r.get("format") == "csv"}
    out = []
    for resource in resources:
        resource = dict(resource)
        table = resource["name"].removesuffix("-json")
        if table in ALL_RESOURCES and "description_ar" in resource:
            declared = resource.get("schema", {}).get("foreignKeys", [])
            for fk in ALL_RESOURCES[table]["foreign_keys"]:
                target = fk["reference"]["resource"]
                if target in present and not any(
                    d["fields"] == fk["fields"] and d["reference"]["resource"] == target for d in declared
                ):
                    resource["description_ar"] += (
                        f" لم يُصرَّح في هذه الحزمة بالمفتاح الخارجي ({', '.join(fk['fields'])}) نحو {target}: "
                        "بعض السجلات لا تملؤه إلا جزئيًا."
                    )
        out.append(resource)
    return out


def package_descriptor(report: dict, resources: list[dict], version: str, method: dict | None, publisher: str) -> dict:
    """``datapackage.json`` of one report: French and Arabic metadata and the resources given.

    The title is the cover's with the plan period the pipeline retains
    (:func:`package_title`); ``title_ar`` and ``description_ar`` carry the Arabic
    (frictionless keeps extra properties), and ``report`` the report's own metadata
    as printed (its cover title, plan period, month of the figures). Titles and
    descriptions taken from the report or given (the publisher) are neutralised like
    the data (:func:`neutralise_formula`): portals and spreadsheets show them too.
    """
    tables = [r["name"] for r in resources if r["format"] == "csv"]
    keywords = KEYWORDS + KEYWORDS_AR + ([report["plan_period"]] if report.get("plan_period") else [])
    languages = list(dict.fromkeys([report["language"], *METADATA_LANGUAGES]))
    descriptor = {
        "name": report["report_id"],
        "title": neutralise_formula(package_title(report)),
        "title_ar": neutralise_formula(package_title_ar(report)),
        "description": neutralise_formula(_package_description(report, tables, method)),
        "description_ar": neutralise_formula(_package_description_ar(report, tables, method)),
        "version": version,
        "licenses": [dict(LICENCE)],
        "sources": [
            {
                "title": f"Rapport d'auto-évaluation : {report['title']}",
                "path": report["source_file"],
                "hash": f"sha256:{report['source_sha256']}",
            }
        ],
        "contributors": [{"title": neutralise_formula(publisher), "role": "publisher"}],
        "publisher": neutralise_formula(publisher),
        "keywords": keywords,
        "languages": languages,
        "report": {
            "title": neutralise_formula(report["title"]),
            "plan_period": report.get("plan_period"),
            "as_of": report.get("as_of"),
        },
    }
    if method is not None:
        descriptor["rates_method"] = method
    descriptor["resources"] = _left_out_keys_ar(resources)
    return descriptor


#: Columns of the data dictionary published beside the tables (``data-dictionary.csv``).
DATA_DICTIONARY_COLUMNS = [
    "table",
    "table_title",
    "table_title_ar",
    "field",
    "type",
    "required",
    "unit",
    "title",
    "title_ar",
    "description",
    "description_ar",
    "constraints",
]


def render_data_dictionary_csv(descriptor: dict) -> bytes:
    """The package's data dictionary as CSV, from its ``datapackage.json`` alone.

    One row per column of each table (the CSV resources): type, whether it is
    required, unit, French and Arabic title and description, and the other
    constraints as JSON. Same descriptor, same bytes: ``pgo push`` renders it again
    from the released descriptor and checks it against the SHA-256 in ``ckan.json``.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DATA_DICTIONARY_COLUMNS)
    for resource in descriptor.get("resources", []):
        if resource.get("format") != "csv":
            continue
        for field in resource.get("schema", {}).get("fields", []):
            constraints = dict(field.get("constraints", {}))
            required = constraints.pop("required", False)
            cells = [
                resource["name"],
                resource.get("title", ""),
                resource.get("title_ar", ""),
                field["name"],
                field["type"],
                "true" if required else "false",
                field.get("unit", ""),
                field.get("title", ""),
                field.get("title_ar", ""),
                field.get("description", ""),
                field.get("description_ar", ""),
                json.dumps(constraints, ensure_ascii=False, sort_keys=True) if constraints else "",
            ]
            writer.writerow([neutralise_formula(str(c)) for c in cells])
    return buffer.getvalue().encode("utf-8")


def _ckan_resource(
    name: str, name_ar: str, description: str, description_ar: str, fmt: str, mimetype: str, path: str
) -> dict:
    return {
        "name": name,
        "name_ar": name_ar,
        "description": description,
        "description_ar": description_ar,
        "format": fmt,
        "mimetype": mimetype,
        "url": path,
    }


def ckan_companion_resources(report_id: str) -> list[dict]:
    """Files released beside the package that ``pgo push`` uploads when the release holds them.

    The workbook and the report page are written after ``ckan.json`` (they are not part
    of the data package), so ``ckan.json`` cannot list them: ``pgo push`` adds these
    entries, after the data dictionary, for those that ``release.json`` lists.
    """
    return [
        _ckan_resource(
            "Classeur Excel (XLSX)",
            "مصنف Excel (XLSX)",
            "Les tables du paquet dans un classeur : une feuille par table, chaque cellule typée (nombres, "
            "entiers, booléens, texte), titres des colonnes en français ; une première feuille décrit le paquet.",
            "جداول الحزمة في مصنف واحد: ورقة لكل جدول، وكل خانة بنوعها (أعداد، أعداد صحيحة، قيم منطقية، نصوص)، "
            "وعناوين الأعمدة بالفرنسية؛ وتصف الورقة الأولى الحزمة.",
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{report_id}.xlsx",
        ),
        _ckan_resource(
            "Page de synthèse du rapport (HTML)",
            "صفحة ملخص التقرير (HTML)",
            "Page autonome, sans script ni ressource externe : taux d'avancement calculés et publiés du plan, "
            "des axes et des engagements, statuts des activités, points d'attention.",
            "صفحة مستقلة، دون نصوص برمجية أو موارد خارجية: نسب الإنجاز المحسوبة والمنشورة للخطة والمحاور "
            "والالتزامات، وحالات الأنشطة، والنقاط التي تستدعي الانتباه.",
            "HTML",
            "text/html",
            "index.html",
        ),
    ]


def ckan_dataset(descriptor: dict) -> dict:
    """The dataset as CKAN's ``package_create`` takes it, less ``owner_org``: what ``pgo push`` sends.

    Titles and notes in French (``title``, ``notes``), in both languages as the
    multilingual fields of ckanext-scheming/fluent portals (``title_translated``,
    ``notes_translated``), and in Arabic as extras (``title_ar``, ``notes_ar``) that
    a CKAN without those extensions keeps; each resource has ``name_ar`` and
    ``description_ar``. The resources are the files portal users want: each table as
    CSV, the data dictionary (:func:`render_data_dictionary_csv`), the zip of the
    whole package and ``datapackage.json``; the JSON copies are in the zip, not
    listed. A resource's ``url`` is the file's path relative to the release folder:
    ``pgo push`` uploads that file, its SHA-256 kept in ``hash`` (the zip's, written
    after this, is taken from ``release.json``). The title, notes and author are
    neutralised (:func:`neutralise_formula`) even if ``descriptor`` was not built by
    :func:`package_descriptor`.
    """
    source = descriptor["sources"][0]
    title = neutralise_formula(descriptor["title"])
    notes = neutralise_formula(descriptor["description"])
    title_ar = neutralise_formula(descriptor.get("title_ar") or "")
    notes_ar = neutralise_formula(descriptor.get("description_ar") or "")
    report = descriptor.get("report") or {}
    extras = [
        {"key": "source_file", "value": source["path"]},
        {"key": "source_sha256", "value": source["hash"].removeprefix("sha256:")},
        {"key": "language", "value": ",".join(descriptor["languages"])},
    ]
    if title_ar:
        extras.append({"key": "title_ar", "value": title_ar})
    if notes_ar:
        extras.append({"key": "notes_ar", "value": notes_ar})
    if report.get("title"):
        extras.append({"key": "report_title", "value": neutralise_formula(report["title"])})
    for key in ("plan_period", "as_of"):
        if report.get(key):
            extras.append({"key": key, "value": report[key]})
    if "rates_method" in descriptor:
        extras.append({"key": "rates_method", "value": json.dumps(descriptor["rates_method"], ensure_ascii=False)})
    resources = []
    for r in descriptor["resources"]:
        if r["format"] != "csv":
            continue
        resource = _ckan_resource(
            f"{r['title']} (CSV)",
            f"{r.get('title_ar', '')} (CSV)",
            r["description"],
            r.get("description_ar", ""),
            "CSV",
            r["mediatype"],
            r["path"],
        )
        resources.append({**resource, "size": r["bytes"], "hash": r["hash"]})
    dictionary = render_data_dictionary_csv(descriptor)
    resources.append(
        {
            **_ckan_resource(
                "Dictionnaire des données (CSV)",
                "قاموس البيانات (CSV)",
                "Une ligne par colonne de chaque table : type, caractère obligatoire, unité, titre et "
                "description en français et en arabe, contraintes.",
                "سطر واحد لكل عمود من أعمدة كل جدول: النوع، والإلزامية، والوحدة، والعنوان والوصف "
                "بالفرنسية والعربية، والقيود.",
                "CSV",
                "text/csv",
                DATA_DICTIONARY_PATH,
            ),
            "size": len(dictionary),
            "hash": f"sha256:{sha256_hex(dictionary)}",
        }
    )
    resources.append(
        _ckan_resource(
            "Paquet de données complet (zip)",
            "حزمة البيانات كاملة (zip)",
            "Tous les fichiers du paquet de données dans une archive zip : datapackage.json et chaque "
            "table en CSV et en JSON.",
            "جميع ملفات حزمة البيانات في أرشيف zip واحد: الملف datapackage.json وكل جدول بصيغتي CSV وJSON.",
            "ZIP",
            "application/zip",
            f"{descriptor['name']}.zip",
        )
    )
    resources.append(
        _ckan_resource(
            "Descripteur du paquet de données (datapackage.json)",
            "واصف حزمة البيانات (datapackage.json)",
            "Descripteur Frictionless Data Package : schémas des tables, clés, licence, sources.",
            "واصف حزمة البيانات وفق معيار Frictionless Data Package: مخططات الجداول، والمفاتيح، والترخيص، والمصادر.",
            "JSON",
            "application/json",
            "datapackage.json",
        )
    )
    dataset = {
        "name": descriptor["name"],
        "title": title,
        "notes": notes,
    }
    if title_ar:
        dataset["title_translated"] = {"fr": title, "ar": title_ar}
    if notes_ar:
        dataset["notes_translated"] = {"fr": notes, "ar": notes_ar}
    dataset.update(
        {
            "license_id": CKAN_LICENCE_ID,
            "version": descriptor["version"],
            "author": neutralise_formula(descriptor["publisher"]),
            "tags": [{"name": k} for k in descriptor["keywords"]],
            "extras": extras,
            "resources": resources,
        }
    )
    return dataset


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
    rendered = render_tables({t: frames[t] for t in ALL_RESOURCES if t in frames})
    return report_files(report_id, rendered, count_key_rows(rendered), rates_config, publisher)


@functools.cache
def _resource_descriptor(table: str, fmt: str) -> dict:
    return resource_descriptor(table, f"data/{table}.{fmt}", fmt)


def resource_template(table: str, fmt: str) -> dict:
    """A copy of ``table``'s resource descriptor in ``fmt`` to fill in: its top level and
    its schema's top level are new dicts; fields and constraints are shared, not to be changed."""
    template = _resource_descriptor(table, fmt)
    return {**template, "schema": {**template["schema"], "foreignKeys": list(template["schema"]["foreignKeys"])}}


def report_row(rendered: dict[str, RenderedTable], report_id: str) -> dict:
    """The report's row of the ``reports`` table as a dict (missing values None).

    Raises:
        ValueError: if the table does not hold exactly one row for ``report_id``.
    """
    start, stop = rendered["reports"].span(report_id)
    if stop - start != 1:
        raise ValueError(f"{stop - start} rows for report {report_id!r} in the reports table, expected 1")
    row = rendered["reports"].rows.iloc[start]
    return {k: None if pd.isna(v) else v for k, v in row.items()}


def report_files(
    report_id: str,
    rendered: dict[str, RenderedTable],
    counts: dict,
    rates_config: dict | None,
    publisher: str,
) -> dict[str, bytes]:
    """The package files of ``report_id``: its slices of the rendered tables and their metadata."""
    report = report_row(rendered, report_id)
    data_files: dict[str, bytes] = {}
    for table, r in rendered.items():
        data_files[f"data/{table}.csv"] = r.csv_bytes([report_id])
        data_files[f"data/{table}.json"] = r.json_bytes([report_id])
    resources = []
    for fmt in ("csv", "json"):
        for table, r in rendered.items():
            path = f"data/{table}.{fmt}"
            resource = resource_template(table, fmt)
            kept, left_out = split_keys(counts[table], [r.span(report_id)])
            resource["schema"]["foreignKeys"] = [
                fk
                for fk in resource["schema"]["foreignKeys"]
                if any(fk["fields"] == k["fields"] and fk["reference"] == k["reference"] for k in kept)
            ]
            for fk, count in left_out:
                resource["description"] += (
                    f" La clé étrangère ({', '.join(fk['fields'])}) vers {fk['reference']['resource']} n'est pas "
                    f"déclarée dans ce paquet : {count} enregistrement(s) ne la renseignent qu'en partie."
                )
                if fmt == "csv":
                    log.warning(
                        "%s: foreign key (%s) -> %s left out of the package: %d row(s) fill it in part",
                        report_id,
                        ", ".join(fk["fields"]),
                        fk["reference"]["resource"],
                        count,
                    )
            resource["bytes"] = len(data_files[path])
            resource["hash"] = f"sha256:{sha256_hex(data_files[path])}"
            resources.append(resource)
    method = None
    if any(t in rendered for t in COMPUTED_TABLES):
        plan_rows = None
        if "plan_progress" in rendered:
            start, stop = rendered["plan_progress"].span(report_id)
            plan_rows = rendered["plan_progress"].rows.iloc[start:stop]
        method = rates_method(rates_config, plan_rows, report_id)
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


def validate_package_dir(package_dir: Path) -> list[dict]:
    """Errors of the package in ``package_dir`` (empty list: valid).

    First the check ``frictionless validate <package_dir>/datapackage.json`` runs
    (metadata, CSV types, constraints, primary and foreign keys, hashes and sizes),
    then the JSON copies: each must hold the same field names and row count as its
    CSV, and its values must pass the same schema (foreign keys included), checked by
    frictionless as inline data.
    """
    report = frictionless.validate(str(Path(package_dir) / "datapackage.json"))
    errors = [error_row(e, None) for e in report.errors]
    errors += [error_row(e, task.name) for task in report.tasks for e in task.errors]
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
            errors.append(
                {"resource": resource["name"], "type": "json-shape", "row": None, "field": None, "message": message}
            )
            continue
        if len(records) != csv_rows.get(table):
            message = f"{len(records)} rows in JSON, {csv_rows.get(table)} in CSV"
            errors.append(
                {"resource": resource["name"], "type": "json-row-count", "row": None, "field": None, "message": message}
            )
            continue
        with (package_dir / csv_paths[table]).open(encoding="utf-8", newline="") as fh:
            csv_cells = list(csv.reader(fh))[1:]
        for row_number, (record, cells) in enumerate(zip(records, csv_cells), start=2):
            rendered = [_csv_text(record[n]) for n in names]
            if rendered != cells:
                field = next(n for n, a, b in zip(names, rendered, cells) if a != b)
                message = f"value {record[field]!r} differs from the CSV's {cells[names.index(field)]!r}"
                errors.append(
                    {
                        "resource": resource["name"],
                        "type": "json-differs-from-csv",
                        "row": row_number,
                        "field": field,
                        "message": message,
                    }
                )
                break
    return errors


# Release: the edge that touches exports/.


def write_package_files(files: dict[str, bytes], package_dir: Path) -> None:
    for path, data in files.items():
        target = Path(package_dir) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _staging_prefix(kind: str, report_id: str) -> str:
    # A report id has no dot, so ".tmp-a." cannot match the staging folders of report "a-b".
    return f".{kind}-{report_id}."


def recover_interrupted_release(exports_dir: Path, report_id: str) -> None:
    """Tidy what a killed publish of ``report_id`` left in ``exports_dir``.

    Staging folders (which, after an exchange, hold the previous release) are removed.
    A backup of the previous release is put back if the run died between moving it
    aside and renaming the new package into place, and removed otherwise.
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
        fault_point("publish.after_exchange")
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
    fault_point("publish.after_exchange")
    if backup is not None:
        shutil.rmtree(backup)


def release_record(report_id: str, inputs: dict, files: dict[str, bytes], **extra) -> dict:
    """The content of ``release.json``: what the release was built from, and its files."""
    return {
        "report_id": report_id,
        "built_from": inputs,
        **extra,
        "files": {path: {"bytes": len(data), "sha256": sha256_hex(data)} for path, data in sorted(files.items())},
    }


def rows_digest(files: dict[str, bytes]) -> str:
    """SHA-256 of a package's rows: each CSV file's lines after its header, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.startswith("data/") and p.endswith(".csv")):
        digest.update(path.encode("utf-8") + b"\0" + files[path].partition(b"\n")[2] + b"\0")
    return digest.hexdigest()


def read_descriptor(package_dir: Path) -> dict:
    return orjson.loads((Path(package_dir) / "datapackage.json").read_bytes())


def check_file_hashes(package_dir: Path, descriptor: dict) -> list[dict]:
    """Each resource's file in ``package_dir`` against the size and SHA-256 ``descriptor`` gives."""
    return _check_files(package_dir, descriptor, with_hash=True)


def check_file_sizes(package_dir: Path, descriptor: dict) -> list[dict]:
    """Each resource's file in ``package_dir`` against the size ``descriptor`` gives.

    For the national data files, whose SHA-256 is not read back from the disk: it was
    computed over the very buffers written (:class:`pipeline.splice.SplicedFile`), and
    the bytes taken from the previous package were verified against its record in
    those same buffers; reading the file again would hash what was just written.
    """
    return _check_files(package_dir, descriptor, with_hash=False)


def _check_files(package_dir: Path, descriptor: dict, *, with_hash: bool) -> list[dict]:
    what = "size and SHA-256" if with_hash else "size"
    errors = []
    for resource in descriptor.get("resources", []):
        path = Path(package_dir) / resource["path"]
        if path.stat().st_size != resource.get("bytes") or (
            with_hash and f"sha256:{file_sha256(path)}" != resource.get("hash")
        ):
            message = f"{resource['path']} does not have the {what} its descriptor gives"
            errors.append(
                {"resource": resource["name"], "type": "hash-count", "row": None, "field": None, "message": message}
            )
    return errors


def check_staged_files(package_dir: Path) -> list[dict]:
    """Errors of a staged package whose rows were validated already (:func:`pipeline.gate.validate_rows`).

    Its descriptor is checked (:func:`pipeline.gate.check_package_descriptor`) and each
    resource's file against the size and SHA-256 the descriptor gives.
    """
    descriptor = read_descriptor(package_dir)
    return check_package_descriptor(descriptor) + check_file_hashes(package_dir, descriptor)


def release_package(
    files: dict[str, bytes],
    exports_dir: Path,
    report_id: str,
    inputs: dict | None = None,
    *,
    frames: dict[str, pd.DataFrame] | None = None,
    publisher: str = DEFAULT_PUBLISHER,
    check=validate_package_dir,
    record_extra: dict | None = None,
    extra_files: dict[str, bytes] | None = None,
    plan_frames: dict[str, pd.DataFrame] | None = None,
    paired: dict[str, pd.DataFrame] | None = None,
    kept: dict[str, bytes] | None = None,
) -> list[dict]:
    """Write, check and release one package; return the errors (empty: released).

    The files go to ``exports/.tmp-<report_id>.*/`` and are checked there by ``check``
    (default: frictionless validates the whole package; the batch passes
    :func:`check_staged_files` for rows the gate validated already); only a valid
    package gets its zip (``<report_id>.zip``, inside the folder), ``extra_files``,
    given ``frames`` (the report's tables) its report page ``index.html`` and workbook
    ``<report_id>.xlsx`` (beside the package: not in ``datapackage.json`` nor in the
    zip), and its ``release.json`` (``inputs``: what it was built from, ``record_extra``,
    and every file's size and SHA-256), and only then is the whole folder swapped into
    place as ``exports/<report_id>/``: the package, its zip, page, workbook and record
    change together. An invalid one is deleted and the previous release left as it was.
    The page may be given its plan's rows (``plan_frames``, for « Depuis le rapport
    précédent ») and the pairing of its reports (``paired``) computed already.
    ``kept``: the zip and workbook of the current release, verified
    (:func:`kept_package`), released again instead of being built again.
    """
    exports_dir = Path(exports_dir)
    exports_dir.mkdir(parents=True, exist_ok=True)
    recover_interrupted_release(exports_dir, report_id)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix("tmp", report_id), dir=exports_dir))
    try:
        write_package_files(files, staging)
        fault_point("publish.after_staging")
        errors = check(staging)
        if errors:
            return errors
        fault_point("publish.after_package_validation")
        released = {**files, **(extra_files or {}), **(kept or {})}
        if zip_name(report_id) not in released:
            released[zip_name(report_id)] = zip_package(files)
        if frames is not None:
            from pipeline.report_page import build_report_page  # matplotlib: loaded only to release
            from pipeline.workbook import build_workbook

            released[PAGE_FILE] = build_report_page(report_id, frames, publisher, paired, plan_frames)
            if workbook_name(report_id) not in released:
                released[workbook_name(report_id)] = build_workbook(report_id, frames, publisher)
        write_package_files({path: data for path, data in released.items() if path not in files}, staging)
        record = release_record(report_id, inputs or {}, released, **(record_extra or {}))
        write_package_files({RELEASE_FILE: canonical_json(record).encode("utf-8")}, staging)
        for path in staging.rglob("*"):
            make_readable(path, directory=path.is_dir())
        make_readable(staging, directory=True)
        swap_directory(staging, exports_dir / report_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return []


#: A report's page, beside its package.
PAGE_FILE = "index.html"


def workbook_name(report_id: str) -> str:
    return f"{report_id}.xlsx"


def zip_name(report_id: str) -> str:
    return f"{report_id}.zip"


def kept_package(release_dir: Path, inputs: dict, rows_sha256: str) -> dict[str, bytes] | None:
    """The files of a report's current release but its page (``index.html``), when a
    release of the same rows from the same inputs would write them again: it was built
    from ``inputs`` (same code, configuration and publisher) with rows ``rows_sha256``,
    and each file has the size and SHA-256 its record lists (read and hashed in the
    buffer kept). None otherwise: the package is built again."""
    record = read_release(release_dir)
    if record is None or record.get("built_from") != inputs or record.get("rows_sha256") != rows_sha256:
        return None
    files = {}
    for name, entry in record.get("files", {}).items():
        if name == PAGE_FILE:
            continue
        try:
            data = (Path(release_dir) / name).read_bytes()
        except OSError:
            return None
        if len(data) != entry.get("bytes") or sha256_hex(data) != entry.get("sha256"):
            return None
        files[name] = data
    return files


def _release_page_again(job: tuple, kept: dict[str, bytes], digest: str) -> list[dict]:
    """Release a report whose rows are those of its current release, of SHA-256
    ``digest`` (only its page, which shows the other reports of its plan, changed): its
    package, zip and workbook kept as released (:func:`kept_package`, which checked the
    record's digest and every file), checked like a new package."""
    outside = {zip_name(job[0]), workbook_name(job[0])}
    files = {name: data for name, data in kept.items() if name not in outside}
    return _release_files(job, files, digest, {name: data for name, data in kept.items() if name in outside})


def _release_files(
    job: tuple, files: dict[str, bytes], digest: str, kept: dict[str, bytes] | None = None
) -> list[dict]:
    """:func:`release_package` of a report's package ``files`` (rows SHA-256 ``digest``),
    with its page's frames; ``kept``: its zip and workbook as released, if kept."""
    report_id, _, publisher, exports_dir, inputs, members, plan_digest = job
    rendered, paired = _SHARED["rendered"], _SHARED.get("paired")
    return release_package(
        files,
        exports_dir,
        report_id,
        inputs,
        frames=_report_frames(rendered, [report_id]),
        publisher=publisher,
        check=check_staged_files,
        record_extra={"rows_sha256": digest, "plan_rows_sha256": plan_digest},
        plan_frames=plan_frames_of(rendered, members),
        paired=None if paired is None else paired.of(report_id, report_row(rendered, report_id).get("plan_period")),
        kept=kept,
    )


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
        log.error("  %s: row %s, field %s: [%s] %s", e["resource"], e["row"], e["field"], e["type"], e["message"])
    payload = {"report_id": report_id, "released": False, "errors": errors}
    write_bytes_atomic(errors_path(exports_dir, report_id), render_json(payload))


def combine_findings(validated: pd.DataFrame, computed: pd.DataFrame) -> pd.DataFrame:
    """One ``findings`` table from the validated layer's and the compute stage's."""
    frames = [f for f in (validated, computed) if len(f)]
    if not frames:
        return validated.iloc[0:0]
    merged = pd.concat(frames, ignore_index=True)
    return merged.sort_values(ALL_RESOURCES["findings"]["primary_key"], kind="stable").reset_index(drop=True)


def read_publishable_tables(lay: Layout, report_ids: set[str] | None = None) -> dict[str, pd.DataFrame]:
    """The validated tables, the computed tables, and the findings of both layers
    combined (only the rows of ``report_ids`` when given)."""
    frames = {t: read_table(lay.validated / f"{t}.parquet", t, report_ids) for t in TABLES}
    computed_findings = read_table(lay.computed / "findings.parquet", "findings", report_ids)
    frames["findings"] = combine_findings(frames["findings"], computed_findings)
    for table in COMPUTED_TABLES:
        frames[table] = read_table(lay.computed / f"{table}.parquet", table, report_ids)
    return frames


def publishable_files(lay: Layout) -> list[Path]:
    """The Parquet files :func:`read_publishable_tables` reads."""
    validated = [lay.validated / f"{t}.parquet" for t in TABLES]
    return validated + [lay.computed / f"{t}.parquet" for t in ("findings", *COMPUTED_TABLES)]


def source_digests(lay: Layout) -> dict[str, str]:
    """Per report, a digest of its rows in every file publish reads: a report whose
    digest is unchanged renders to the same lines (DuckDB's row hash summed per report
    with the row count, file by file; the sum does not depend on the rows' order). The
    files are read by one query (DuckDB plans it once and reads the files in parallel)."""
    import duckdb

    files = [path for path in publishable_files(lay) if path.is_file()]
    if not files:
        return {}
    query = " UNION ALL ".join(
        f"SELECT {i} AS file_no, report_id, count(*), sum(hash(t)::HUGEINT) "
        "FROM read_parquet(?) AS t GROUP BY report_id"
        for i in range(len(files))
    )
    with duckdb.connect(":memory:") as con:
        rows = con.execute(query, [str(path) for path in files]).fetchall()
    parts: dict[str, list[str]] = {}
    for file_no, report_id, count, total in sorted(rows, key=lambda row: row[0]):
        path = files[file_no]
        parts.setdefault(str(report_id), []).append(f"{path.parent.name}/{path.name}:{count}:{total}")
    return {r: sha256_hex("\n".join(p).encode("utf-8")) for r, p in parts.items()}


def read_rates_config(computed_dir: Path) -> dict | None:
    """``curated/computed/rates_config.json`` written by the compute stage, or ``None`` if absent."""
    path = Path(computed_dir) / RATES_CONFIG_FILE
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def retract_removed(lay: Layout, report_ids: set[str], keep: set[str] = frozenset()) -> list[str]:
    """Move the releases of reports no longer in the computed layer to ``exports/_retracted/``.

    A release is recognised by its ``release.json``; folders named in ``keep`` (the
    national package) stay; the retracted copy replaces an earlier retracted one of the
    same report. Returns the reports retracted.
    """
    if not lay.exports.is_dir():
        return []
    retracted = []
    for folder in sorted(lay.exports.iterdir()):
        if folder.name in report_ids or folder.name in keep or not (folder / RELEASE_FILE).is_file():
            continue
        if folder.name.startswith((".", "_")):
            continue
        lay.retracted.mkdir(parents=True, exist_ok=True)
        target = lay.retracted / folder.name
        if target.exists():
            shutil.rmtree(target)
        os.replace(folder, target)
        errors_path(lay.exports, folder.name).unlink(missing_ok=True)
        log.warning("report %s is no longer in raw/: its release is retracted to %s", folder.name, target)
        retracted.append(folder.name)
    return retracted


#: Below this many packages, publishing in one process is faster than starting workers.
PARALLEL_FROM = 4
#: What the workers of :func:`release_reports` read (inherited by fork, not pickled).
_SHARED: dict = {}


def _report_frames(rendered: dict[str, RenderedTable], report_ids: list[str]) -> dict[str, pd.DataFrame]:
    """The rendered rows of ``report_ids`` (in the tables' order), as DataFrames; one
    report's are marked as such (:data:`pipeline.workbook.ROWS_OF_REPORT`)."""
    from pipeline.workbook import ROWS_OF_REPORT

    out = {}
    for table, r in rendered.items():
        spans = sorted(r.span(x) for x in report_ids)
        if len(spans) > 1:
            out[table] = r.rows.iloc[np.concatenate([np.arange(*span) for span in spans])]
        else:
            out[table] = r.rows.iloc[slice(*spans[0])]
            out[table].attrs[ROWS_OF_REPORT] = report_ids[0]
    return out


def plan_members(reports: pd.DataFrame) -> dict[str, list[str]]:
    """The reports of each report's plan its page shows: those of the same ``plan_period``
    up to it by ``as_of``, the last :data:`pipeline.report_page.TREND_REPORTS_SHOWN`
    (itself alone when its period is unknown). Its release depends on their rows."""
    from pipeline.report_page import TREND_REPORTS_SHOWN

    by_period: dict[str, list[tuple[str, str]]] = {}
    columns = (reports[c].tolist() for c in ("report_id", "plan_period", "as_of"))
    for report_id, period, as_of in zip(*columns):
        if isinstance(period, str) and period:
            by_period.setdefault(period, []).append((as_of if isinstance(as_of, str) else "", report_id))
    members = {report_id: [report_id] for report_id in reports["report_id"].tolist()}
    for ordered in by_period.values():
        ids = [report_id for _, report_id in sorted(ordered)]
        for i, report_id in enumerate(ids):
            members[report_id] = sorted(ids[max(0, i + 1 - TREND_REPORTS_SHOWN) : i + 1])
    return members


#: What a report's page reads of the other reports of its plan (the plan's rates, report by report).
PLAN_TABLES = ("reports", "plan_progress", "published_rates")


class PlanPairing:
    """The pairing views (:func:`pipeline.compute.pairing_tables`) of every report, computed
    once and grouped, so that each report's page gets its rows without filtering them all."""

    def __init__(self, paired: dict[str, pd.DataFrame]):
        pairs = paired["report_pairs"]
        self.empty = {view: df.iloc[0:0] for view, df in paired.items()}
        self.pairs_by_plan = dict(tuple(pairs.groupby("plan_period", sort=False))) if len(pairs) else {}
        self.by_later = {
            view: dict(tuple(df.groupby("later_report_id", sort=False))) if len(df) else {}
            for view, df in paired.items()
            if view != "report_pairs"
        }

    def of(self, report_id: str, plan_period: str | None) -> dict[str, pd.DataFrame]:
        out = {"report_pairs": self.pairs_by_plan.get(plan_period, self.empty["report_pairs"])}
        for view, groups in self.by_later.items():
            out[view] = groups.get(report_id, self.empty[view])
        return out


def plan_frames_of(rendered: dict[str, RenderedTable], members: list[str]) -> dict[str, pd.DataFrame] | None:
    """What a report's page reads of its plan: the rows of :data:`PLAN_TABLES` of its reports."""
    if len(members) < 2:
        return None
    return _report_frames({t: rendered[t] for t in PLAN_TABLES if t in rendered}, members)


def plan_rows_digest(rows: dict[str, str], members: list[str], report_id: str) -> str:
    """SHA-256 of the rows of the other reports of ``report_id``'s plan (its page shows them)."""
    return sha256_hex(canonical_json({r: rows.get(r) for r in members if r != report_id}).encode("utf-8"))


def _release_one(job: tuple) -> tuple[str, list[dict], int, float, str | None]:
    """Build, check and release one report's package (in a worker process when parallel).

    Returns the report, its errors (empty: released), its number of tables, the
    seconds it took and the digest of its rows.
    """
    report_id, rates_config, publisher, exports_dir, inputs, _, _ = job
    rendered, counts = _SHARED["rendered"], _SHARED["counts"]
    started = time.perf_counter()
    rows = _SHARED["rows"].get(report_id)
    kept = None if rows is None else kept_package(Path(exports_dir) / report_id, inputs, rows)
    if kept is not None:
        tables = sum(1 for p in kept if p.endswith(".csv"))
        return report_id, _release_page_again(job, kept, rows), tables, time.perf_counter() - started, rows
    try:
        files = report_files(report_id, rendered, counts, rates_config, publisher)
    except ValueError as exc:
        errors = [{"resource": None, "type": "build-error", "row": None, "field": None, "message": str(exc)}]
        return report_id, errors, 0, time.perf_counter() - started, None
    digest = rows_digest(files)
    errors = _release_files(job, files, digest)
    return report_id, errors, sum(1 for p in files if p.endswith(".csv")), time.perf_counter() - started, digest


def release_reports(build: NationalBuild, jobs: list[tuple], paired: PlanPairing | None) -> list[tuple]:
    """:func:`_release_one` for every job, on every core from :data:`PARALLEL_FROM` jobs."""
    _SHARED.update(rendered=build.rendered, counts=build.counts, paired=paired, rows=build.rows)
    try:
        return map_jobs(_release_one, jobs, parallel_from=PARALLEL_FROM, desc="publish")
    finally:
        _SHARED.clear()


def start_national_staging(lay: Layout, build: NationalBuild) -> Started | None:
    """:func:`stage_national_data` for the reports expected in the national package
    (``build.included``), started in a process of its own (from :data:`PARALLEL_FROM`
    reports) while this one validates and releases the reports;
    :func:`release_national` writes the files again if a report is refused."""
    if not build.included:
        return None
    return start_call(stage_national_data, lay, build, parallel=len(build.included) >= PARALLEL_FROM)


def plan_pairing(
    rendered: dict[str, RenderedTable], members: dict[str, list[str]], jobs: list[tuple]
) -> PlanPairing | None:
    """The pairing views of every report, when a page to release shows other reports of its plan."""
    if not any(len(members[job[0]]) > 1 for job in jobs):
        return None
    from pipeline.compute import pairing_tables

    return PlanPairing(pairing_tables({t: r.rows for t, r in rendered.items()}))


def blocked_reports(findings: pd.DataFrame) -> set[str]:
    """Reports that must not be released: the compute stage met an error for them."""
    return set(findings.loc[(findings["stage"] == "compute") & (findings["severity"] == "error"), "report_id"])


def schema_fingerprint() -> str:
    """SHA-256 of the resource descriptors rows are validated against."""
    descriptors = [resource_descriptor(t, f"data/{t}.csv", "csv") for t in ALL_RESOURCES]
    return sha256_hex(canonical_json(descriptors).encode("utf-8"))


def _log_blocked(findings: pd.DataFrame, blocked: set[str], record: dict | None) -> None:
    for report_id in sorted(blocked):
        errors = findings[
            (findings["report_id"] == report_id) & (findings["stage"] == "compute") & (findings["severity"] == "error")
        ]
        log.error("report %s is not released: %s", report_id, "; ".join(errors["message"]))
        if record is not None:
            record[report_id] = {"status": "blocked", "duration_s": 0.0, "errors": 0}


def _released_rows(lay: Layout, report_ids: list[str]) -> dict[str, tuple | None]:
    """The rows digests each report's current release records (None: no complete release)."""
    out = {}
    for report_id in report_ids:
        release = read_release(lay.release(report_id))
        out[report_id] = None if release is None else (release.get("rows_sha256"), release.get("plan_rows_sha256"))
    return out


def publish_packages(
    curated_dir: Path,
    exports_dir: Path,
    rates_config: dict | None = None,
    *,
    report_ids: set[str] | None = None,
    publisher: str = DEFAULT_PUBLISHER,
    national_name: str = DEFAULT_NATIONAL_NAME,
    record: dict | None = None,
    retract: bool | None = None,
) -> int:
    """Release the data package of every report (or of ``report_ids``), then the national package.

    Reads ``curated/validated/`` and ``curated/computed/`` (which must be complete),
    writes only ``exports/``. Every table is rendered once for the reports whose rows
    changed since the national package's last release (all, without one:
    :func:`affected_reports`), and the reports their pages show (:mod:`pipeline.render`);
    the rows of the reports the national package's record does not list as validated
    are validated by frictionless (:mod:`pipeline.gate`); then each report's package is
    released (a report whose rows changed because another report of its plan changed is
    released again too), and the national package (:mod:`pipeline.national`) with the
    rows of every report released, those of the other reports copied from its previous
    files (:func:`splice_data_file`). Each
    release records what it was built from: the computed layer's record for the
    report, this stage's code and the publisher. With ``retract`` (default: when
    every report is published), the releases of reports no longer in the computed
    layer are retracted. ``record``, when given, receives per report what happened.

    Returns:
        :data:`pipeline.exitcodes.OK`; :data:`~pipeline.exitcodes.INPUT_ERROR` if a
        report could not be released because its rates could not be computed;
        :data:`~pipeline.exitcodes.RELEASE_REFUSED` if at least one package was
        invalid (its previous release stays; its errors are logged and written to
        ``exports/<report_id>.errors.json``); :data:`~pipeline.exitcodes.USAGE` when
        the computed layer is missing or incomplete.

    The previous national package's files are verified as its rows are copied
    (:mod:`pipeline.splice`); one found not as recorded is not used: the stage is run
    again without it, every report rendered (the releases made meanwhile are kept: they
    do not depend on it).
    """
    options = {
        "rates_config": rates_config,
        "report_ids": report_ids,
        "publisher": publisher,
        "national_name": national_name,
        "record": record,
        "retract": retract,
    }
    try:
        return _publish(curated_dir, exports_dir, reuse_national=True, **options)
    except SourceChanged as exc:
        folder = Path(exports_dir) / national_name
        name = exc.path.relative_to(folder) if exc.path.is_relative_to(folder) else exc.path
        log_not_as_recorded(folder, name)
        return _publish(curated_dir, exports_dir, reuse_national=False, **options)


def _publish(
    curated_dir: Path,
    exports_dir: Path,
    *,
    rates_config: dict | None,
    report_ids: set[str] | None,
    publisher: str,
    national_name: str,
    record: dict | None,
    retract: bool | None,
    reuse_national: bool,
) -> int:
    """:func:`publish_packages`, taking the rows of unchanged reports from the previous
    national package when ``reuse_national``."""
    lay = layout(curated_dir, exports_dir)
    computed = built_from(lay.computed)
    if computed is None:
        log.error("%s has no complete computed layer: run `pgo compute` (or `pgo run`) first", lay.computed)
        return exitcodes.USAGE
    reports = read_table(lay.validated / "reports.parquet", "reports")
    compute_findings = read_table(lay.computed / "findings.parquet", "findings")
    if rates_config is None:
        rates_config = read_rates_config(lay.computed)
    if retract or (retract is None and report_ids is None):
        retract_removed(lay, set(computed.get("reports", {})), keep={national_name})
    known = sorted(set(reports["report_id"].dropna()))
    wanted = known if report_ids is None else [r for r in known if r in report_ids]
    blocked = blocked_reports(compute_findings) & set(known)
    _log_blocked(compute_findings, blocked & set(wanted), record)
    blocked_code = exitcodes.INPUT_ERROR if blocked & set(wanted) else exitcodes.OK
    for report_id in sorted(set(report_ids or ()) - set(known)):
        log.warning("report %s has no validated report row: nothing to publish", report_id)
    candidates = [r for r in known if r not in blocked]
    if not candidates:
        (log.info if report_ids is not None else log.warning)("no report to publish")
        return blocked_code

    national = read_release(lay.exports / national_name) or {}
    validated_with = {"schema_sha256": schema_fingerprint(), "publish_code": stage_code_fingerprint("publish")}
    members = plan_members(reports)
    digests = source_digests(lay)
    previous = previous_national(lay.exports / national_name, national, validated_with) if reuse_national else None
    affected = affected_reports(candidates, set(wanted), digests, members, previous)
    shown = {m for r in affected for m in members[r]} - affected
    if previous is not None:
        log.info(
            "publish: %d report(s) rendered, %d more for the pages that show them, %d taken from the national package",
            len(affected),
            len(shown),
            len(candidates) - len(affected),
        )
    rendered = render_tables(read_publishable_tables(lay, None if previous is None else affected | shown), consume=True)
    counts = count_key_rows(rendered)
    fresh = [r for r in candidates if r in affected]
    rows = {r: rendered_rows_digest(rendered, r) for r in candidates if r in affected or r in shown}
    current = {r: (rows[r], plan_rows_digest(rows, members[r], r)) for r in fresh}
    released_rows = _released_rows(lay, fresh)
    to_release = [r for r in fresh if r in set(wanted) or released_rows[r] not in (None, current[r])]
    for report_id in sorted(set(to_release) - set(wanted)):
        log.info("report %s: its rows changed with another report of its plan: released again", report_id)

    validated_before = national.get("validated_rows", {}) if national.get("validated_with") == validated_with else {}
    to_validate = [r for r in fresh if validated_before.get(r) != rows[r]]
    kept = [r for r in candidates if r not in affected]
    rows.update({r: previous.record["validated_rows"][r] for r in kept})
    expected = [r for r in fresh if r in to_release or released_rows[r] == current[r]]
    build = NationalBuild(
        national_name,
        rendered,
        counts,
        sorted(kept + expected),
        rows,
        computed,
        publisher,
        validated_with,
        {},
        fresh=set(fresh),
        previous=previous,
        digests=digests,
        members=members,
        report_rows={},
    )
    staging = start_national_staging(lay, build)
    try:
        errors = validate_rows_in_parallel(rendered, counts, to_validate)
        publish_code = stage_code_fingerprint("publish")
        jobs = [
            (
                r,
                rates_config,
                publisher,
                lay.exports,
                release_inputs(computed, r, publish_code, publisher),
                members[r],
                current[r][1],
            )
            for r in to_release
            if r not in errors
        ]
        results = [(r, errors[r], 0, 0.0, None) for r in to_release if r in errors]
        results += release_reports(build, jobs, plan_pairing(rendered, members, jobs))
        staged = staging.result() if staging is not None else None
    except BaseException:
        if staging is not None:
            staging.cancel()
        raise
    refused = _record_results(lay, results, record)
    released_now = {r: digest for r, errs, _, _, digest in results if not errs}
    included = sorted(
        kept
        + [
            r
            for r in fresh
            if r in released_now or (r not in to_release and r not in errors and released_rows[r] == current[r])
        ]
    )
    fault_point("publish.before_national")
    left_out = {
        r: "refused" if r in errors or r in refused else "not released" for r in candidates if r not in included
    }
    left_out.update(dict.fromkeys(blocked, "blocked"))
    build = dataclasses.replace(build, included=included, left_out=left_out, report_rows=report_rows(reports, included))
    national_errors = release_national(lay, build, staged)
    if national_errors:
        record_refusal(lay.exports, national_name, national_errors)
        refused.append(national_name)
    if refused:
        log.error("%d package(s) refused: %s", len(refused), ", ".join(refused))
        return exitcodes.RELEASE_REFUSED
    return blocked_code


def log_not_as_recorded(folder: Path, name: Path) -> None:
    """The warning that a file of the previous national package is not as its record says."""
    log.warning("national package %s: %s is not as recorded: every report is rendered again", folder, name)


def previous_national(folder: Path, record: dict, validated_with: dict) -> PreviousNational | None:
    """The national package's last release, when a run may take rows from it: it
    records, with the same schema and code, where each report's rows are in its data
    files and zip, and those files have the sizes it records. Their bytes are verified
    against its SHA-256 as they are copied (:attr:`PreviousNational.recorded`)."""
    needed = ("validated_rows", "source_digests", "members", "spans", "zip_spans", "key_counts", "files")
    if record.get("validated_with") != validated_with or any(k not in record for k in needed):
        return None
    previous = PreviousNational(folder, record)
    for path, (size, _) in previous.recorded.items():
        if not path.is_file() or path.stat().st_size != size:
            name = path.relative_to(folder)
            log_not_as_recorded(folder, name)
            return None
    return previous


@dataclass
class PreviousNational:
    """The national package's last release (:func:`previous_national`) and its record."""

    folder: Path
    record: dict

    @property
    def zip_path(self) -> Path:
        return self.folder / f"{self.folder.name}.zip"

    @functools.cached_property
    def recorded(self) -> Recorded:
        """The size and SHA-256 its record gives each file rows are taken from (data files, zip)."""
        return {
            self.folder / name: (entry["bytes"], entry["sha256"])
            for name, entry in self.record["files"].items()
            if name.startswith("data/") or name.endswith(".zip")
        }


def affected_reports(
    candidates: list[str],
    wanted: set[str],
    digests: dict[str, str],
    members: dict[str, list[str]],
    previous: PreviousNational | None,
) -> set[str]:
    """The reports rendered and considered for release this run: all without a
    previous national package; else those wanted, those not in it, those whose rows
    changed (:func:`source_digests`), and those whose page shows a report that changed
    or other reports than before (:func:`plan_members`). The reports their pages show
    are rendered too, for those pages only."""
    if previous is None:
        return set(candidates)
    record = previous.record
    changed = {
        r
        for r in candidates
        if r in wanted or r not in record["validated_rows"] or record["source_digests"].get(r) != digests.get(r)
    }
    affected = {
        r
        for r in candidates
        if r in changed or record["members"].get(r) != members[r] or any(m in changed for m in members[r])
    }
    return affected


def rendered_rows_digest(rendered: dict[str, RenderedTable], report_id: str) -> str:
    """:func:`rows_digest` of a report's package, from the rendered lines (no file built)."""
    digest = hashlib.sha256()
    for table in sorted(rendered):
        start, stop = rendered[table].span(report_id)
        digest.update(f"data/{table}.csv".encode() + b"\0")
        digest.update(rendered[table].csv_slice(start, stop) + b"\0")
    return digest.hexdigest()


def _record_results(lay: Layout, results: list[tuple], record: dict | None) -> list[str]:
    refused = []
    for report_id, errors, files, seconds, _ in results:
        if record is not None:
            record[report_id] = {
                "status": "refused" if errors else "released",
                "duration_s": round(seconds, 4),
                "errors": len(errors),
            }
        if errors:
            record_refusal(lay.exports, report_id, errors)
            refused.append(report_id)
            continue
        errors_path(lay.exports, report_id).unlink(missing_ok=True)
        log.info(
            "released %s: %d tables as CSV and JSON, %s",
            report_id,
            files,
            lay.release_zip(report_id),
            extra={"fields": {"report_id": report_id}},
        )
    return refused


def report_rows(reports: pd.DataFrame, report_ids: list[str]) -> dict[str, dict]:
    """:func:`report_row` of each of ``report_ids``, from the whole ``reports`` table."""
    if not report_ids:
        return {}
    table = {"reports": render_table(reports, "reports")}
    return {r: report_row(table, r) for r in report_ids}


@dataclass
class NationalBuild:
    """What the national package is built from: the rendered rows (of the reports in
    ``fresh``; the others' are taken from ``previous``), the reports it holds and their records."""

    name: str
    rendered: dict[str, RenderedTable]
    counts: dict
    included: list[str]
    rows: dict[str, str]
    computed: dict
    publisher: str
    validated_with: dict
    left_out: dict[str, str]
    fresh: set[str]
    previous: PreviousNational | None
    digests: dict[str, str]
    members: dict[str, list[str]]
    report_rows: dict[str, dict]


def release_national(lay: Layout, build: NationalBuild, staged: StagedData | None = None) -> list[dict]:
    """Release ``exports/<name>/``: the rows of ``included``, checked against each report's release.

    Its data files are written straight to a staging folder, piece by piece (the
    national files are the size of every report together): the lines rendered this run,
    and for the other reports the bytes of the previous national package
    (:func:`stage_national_data`, which may have run already: ``staged``); then checked
    on disk against their sizes and hashes, zipped (each report's rows deflated apart,
    so the next release copies them), recorded and swapped in like a report's.
    ``left_out`` (report -> why: refused, blocked, not released) is recorded in its
    ``release.json`` and logged: a report whose rows could not be released is not in
    the national package, even if an earlier release of it stays in ``exports/``.
    """
    name, included = build.name, build.included
    if staged is not None and staged.included != included:
        shutil.rmtree(staged.staging, ignore_errors=True)
        staged = None
    if not included:
        log.warning("no report released: the national package %s is left as it is", name)
        return []
    for report_id in included:
        if report_id not in build.fresh:
            continue
        recorded = (read_release(lay.release(report_id)) or {}).get("rows_sha256")
        if recorded != build.rows[report_id]:
            raise AssertionError(f"{report_id}: its release's rows are not the rows going into the national package")
    for report_id, why in sorted(build.left_out.items()):
        log.warning("the national package %s leaves out report %s (%s)", name, report_id, why)
    staged = staged or stage_national_data(lay, build)
    try:
        errors = _stage_national(staged.staging, build, staged.data)
        if errors:
            return errors
        swap_directory(staged.staging, lay.exports / name)
    finally:
        shutil.rmtree(staged.staging, ignore_errors=True)
    errors_path(lay.exports, name).unlink(missing_ok=True)
    log.info("released the national package %s: %d report(s)", name, len(included))
    return []


@dataclass
class StagedData:
    """The national package's data files written in ``staging`` for ``included``."""

    staging: Path
    included: list[str]
    data: dict[str, SplicedData]


def stage_national_data(lay: Layout, build: NationalBuild) -> StagedData:
    """A new staging folder holding the national data files of ``build.included``
    (:func:`splice_data_file`), the leftovers of a killed release tidied first."""
    lay.exports.mkdir(parents=True, exist_ok=True)
    recover_interrupted_release(lay.exports, build.name)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix("tmp", build.name), dir=lay.exports))
    try:
        (staging / "data").mkdir()
        data = {
            f"data/{table}.{fmt}": splice_data_file(staging, f"data/{table}.{fmt}", r, build)
            for table, r in build.rendered.items()
            for fmt in ("csv", "json")
        }
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StagedData(staging, list(build.included), data)


@dataclass
class SplicedData:
    """A national data file written: its size and SHA-256, its zip entry, and where
    each report's rows are in it."""

    size_sha: tuple[int, str]
    entry: ZipEntry
    spans: dict[str, tuple[int, int]]


@dataclass
class KeptRun:
    """Consecutive reports whose rows are taken from the previous national package: one
    range of its data file and one of its zip entry (the separators between them
    included), and each report's part of both."""

    data: Range
    deflated: Range
    data_parts: list[tuple[str, int, int]]
    deflated_parts: list[tuple[str, int, int]]

    def extend(self, report_id: str, data: tuple[int, int], deflated: tuple[int, int]) -> None:
        self.data_parts.append((report_id, data[0] - self.data.start, data[1] - self.data.start))
        self.deflated_parts.append((report_id, deflated[0] - self.deflated.start, deflated[1] - self.deflated.start))
        self.data = Range(self.data.path, self.data.start, data[1])
        self.deflated = Range(self.deflated.path, self.deflated.start, deflated[1])


def _report_chunks(path: str, table: RenderedTable, build: NationalBuild) -> list[tuple[str, bytes] | KeptRun]:
    """The included reports' rows in the data file ``path``, in order: the lines
    rendered this run, or :class:`KeptRun` of reports that were next to each other in
    the previous national file (only a separator between them) and are again."""
    is_json = path.endswith(".json")
    gaps = (len(JSON_SEPARATOR), len(_deflated_separator())) if is_json else (0, 0)
    chunks: list[tuple[str, bytes] | KeptRun] = []
    for report_id in build.included:
        if report_id in build.fresh:
            start, stop = table.span(report_id)
            if start < stop:
                chunks.append((report_id, table.json_slice(start, stop) if is_json else table.csv_slice(start, stop)))
            continue
        span = build.previous.record["spans"][report_id].get(path)
        if not span:
            continue
        deflated = build.previous.record["zip_spans"][report_id][path]
        last = chunks[-1] if chunks else None
        if (
            isinstance(last, KeptRun)
            and span[0] == last.data.stop + gaps[0]
            and deflated[0] == last.deflated.stop + gaps[1]
        ):
            last.extend(report_id, span, deflated)
            continue
        run = KeptRun(Range(build.previous.folder / path, *span), Range(build.previous.zip_path, *deflated), [], [])
        run.data_parts.append((report_id, 0, span[1] - span[0]))
        run.deflated_parts.append((report_id, 0, deflated[1] - deflated[0]))
        chunks.append(run)
    return chunks


def splice_data_file(staging: Path, path: str, table: RenderedTable, build: NationalBuild) -> SplicedData:
    """Write ``staging/path`` (a table as CSV or JSON, the bytes
    :meth:`~pipeline.render.RenderedTable.csv_bytes` or ``json_bytes`` gives)
    from :func:`_report_chunks`; deflate each new chunk apart for the zip, and take
    the kept reports' deflated bytes from the previous zip."""
    is_json = path.endswith(".json")
    chunks = _report_chunks(path, table, build)
    out = SplicedFile(staging / path, build.previous.recorded if build.previous is not None else None)
    entry_pieces: list[tuple[bytes | Range, list]] = []

    def write(data: bytes) -> None:
        out.write(data)
        entry_pieces.append((deflate_piece(data), []))

    write((table.header if not is_json else "[\n" if chunks else "[]\n").encode("utf-8"))
    for i, chunk in enumerate(chunks):
        if is_json and i:
            out.write(JSON_SEPARATOR)
            entry_pieces.append((_deflated_separator(), []))
        if isinstance(chunk, KeptRun):
            out.copy(chunk.data, chunk.data_parts)
            entry_pieces.append((chunk.deflated, chunk.deflated_parts))
        else:
            report_id, data = chunk
            out.write(data, [(report_id, 0, len(data))])
            deflated = deflate_piece(data)
            entry_pieces.append((deflated, [(report_id, 0, len(deflated))]))
    if is_json and chunks:
        write(b"\n]\n")
    size_sha = out.close()
    entry = ZipEntry(path, out.size, out.crc)
    for piece, parts in entry_pieces:
        entry.add(piece, parts)
    return SplicedData(size_sha, entry, out.spans)


@functools.cache
def _deflated_separator() -> bytes:
    return deflate_piece(JSON_SEPARATOR)


def national_key_counts(build: NationalBuild) -> dict[str, dict[str, list[list[int]]]]:
    """Per included report and table, the (partly filled, unmatched) row counts of each
    foreign key (:class:`pipeline.gate.KeyCounts`): counted now, or as recorded."""
    out = {}
    for report_id in build.included:
        if report_id in build.fresh:
            out[report_id] = {
                t: [list(c.over([build.rendered[t].span(report_id)])) for c in build.counts[t]] for t in build.counts
            }
        else:
            out[report_id] = build.previous.record["key_counts"][report_id]
    return out


def national_kept_keys(build: NationalBuild, key_counts: dict) -> dict[str, list[dict]]:
    """Per table, the foreign keys the national rows allow (:func:`pipeline.gate.split_totals`)."""
    kept = {}
    for table, counts in build.counts.items():
        totals = [
            tuple(sum(key_counts[r][table][i][k] for r in build.included) for k in (0, 1)) for i in range(len(counts))
        ]
        kept[table], _ = split_totals([c.fk for c in counts], totals)
    return kept


def _stage_national(staging: Path, build: NationalBuild, data: dict[str, SplicedData]) -> list[dict]:
    """Complete and check the national package in ``staging``, whose data files are
    written (``data``); its errors (empty: ready to swap in)."""
    name, rendered, included, publisher = build.name, build.rendered, build.included, build.publisher
    data_files = {path: d.size_sha for path, d in data.items()}
    key_counts = national_key_counts(build)
    resources = national_resources(rendered, national_kept_keys(build, key_counts), data_files)
    reports = [build.report_rows[r] for r in included]
    descriptor = national_descriptor(name, reports, resources, national_version(data_files), publisher)
    errors = check_package_descriptor(descriptor)
    if errors:
        return errors
    small = {
        "datapackage.json": render_json(descriptor),
        "ckan.json": render_json(national_ckan_dataset(descriptor)),
        DATA_DICTIONARY_PATH: render_data_dictionary_csv(descriptor),
    }
    write_package_files(small, staging)
    fault_point("publish.after_staging")
    errors = check_file_sizes(staging, descriptor)
    if errors:
        return errors
    zip_path = staging / f"{name}.zip"
    entries = {path: d.entry for path, d in data.items()}
    for path in ("datapackage.json", "ckan.json"):
        entries[path] = ZipEntry(path, len(small[path]), zlib.crc32(small[path]), [deflate_piece(small[path])], [()])
    recorded = build.previous.recorded if build.previous is not None else None
    zip_spans = write_zip(zip_path, [entries[p] for p in sorted(entries)], ZIP_DATE_TIME, recorded)
    listed = {**data_files, **{p: (len(d), sha256_hex(d)) for p, d in small.items()}}
    listed[zip_path.name] = (zip_path.stat().st_size, file_sha256(zip_path))
    publish_code = stage_code_fingerprint("publish")
    inputs = {
        "kind": NATIONAL_KIND,
        "reports": {r: release_inputs(build.computed, r, publish_code, publisher) for r in included},
        "publish_code": publish_code,
        "publisher": publisher,
    }
    record = {
        "report_id": name,
        "built_from": inputs,
        "validated_with": build.validated_with,
        "validated_rows": {r: build.rows[r] for r in included},
        "left_out": build.left_out,
        "files": {p: {"bytes": size, "sha256": sha} for p, (size, sha) in sorted(listed.items())},
        "source_digests": {r: build.digests.get(r) for r in included},
        "members": {r: build.members[r] for r in included},
        "spans": spans_by_report({p: d.spans for p, d in data.items()}, included),
        "zip_spans": spans_by_report(zip_spans, included),
        "key_counts": key_counts,
    }
    write_package_files({RELEASE_FILE: canonical_json(record).encode("utf-8")}, staging)
    for path in staging.rglob("*"):
        make_readable(path, directory=path.is_dir())
    make_readable(staging, directory=True)
    return []


def spans_by_report(spans: dict[str, dict[str, tuple[int, int]]], included: list[str]) -> dict[str, dict]:
    """Per included report, the span of its rows in each file (``spans``: per file, per report)."""
    out: dict[str, dict[str, list[int]]] = {r: {} for r in included}
    for path, of_file in spans.items():
        for report_id, span in of_file.items():
            if report_id in out:
                out[report_id][path] = list(span)
    return out
