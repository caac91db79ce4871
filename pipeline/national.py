"""The national package: every released report's rows in one data package.

``exports/<national name>/`` (default :data:`pipeline.settings.DEFAULT_NATIONAL_NAME`)
holds one resource per table, as CSV and JSON, with the rows of every report
released, its ``datapackage.json`` (French and Arabic metadata, one source per
report), ``ckan.json``, ``data-dictionary.csv``, its zip and ``release.json``. Its
CSV files are the header followed by each report's rows, byte for byte the rows of
the reports' own files (:mod:`pipeline.render`); its record lists, per report, the
SHA-256 of the rows it was validated with, so that the next run validates only
reports whose rows changed (:mod:`pipeline.gate`).

What belongs here: the national package's metadata and files, pure. Writing it is
the publish stage's (:func:`pipeline.publish.release_folder`).
"""

from __future__ import annotations

import hashlib

from pipeline.render import RenderedTable, neutralise_formula
from schemas.descriptors import resource_descriptor

NATIONAL_KIND = "national"
TITLE = "Plans d'action nationaux du Maroc pour un gouvernement ouvert : tous les rapports d'auto-évaluation"
TITLE_AR = "خطط العمل الوطنية للمغرب من أجل حكومة منفتحة: جميع تقارير التقييم الذاتي"


def describe(report_count: int, periods: list[str]) -> tuple[str, str]:
    """French and Arabic descriptions of the national package."""
    span = f" (plans {', '.join(periods)})" if periods else ""
    span_ar = f" (الخطط {'، '.join(periods)})" if periods else ""
    french = (
        f"Les données de {report_count} rapport(s) d'auto-évaluation des plans d'action nationaux du Maroc "
        f"pour un gouvernement ouvert{span}, réunies en un seul jeu : une ressource par table (rapports, axes, "
        "engagements, activités, indicateurs, taux publiés et calculés, constats), chaque ligne portant "
        "l'identifiant de son rapport. Les lignes de chaque rapport sont identiques, octet pour octet, à celles "
        "du paquet de ce rapport."
    )
    arabic = (
        f"بيانات {report_count} تقرير (تقارير) للتقييم الذاتي لخطط العمل الوطنية للمغرب من أجل حكومة منفتحة{span_ar}، "
        "مجمّعة في مجموعة واحدة: مورد لكل جدول (التقارير، المحاور، الالتزامات، الأنشطة، المؤشرات، النسب "
        "المنشورة والمحسوبة، الملاحظات)، ويحمل كل سطر معرّف تقريره. وأسطر كل تقرير مطابقة، بايتًا ببايت، "
        "لأسطر حزمة ذلك التقرير."
    )
    return french, arabic


def national_resources(
    rendered: dict[str, RenderedTable], kept_keys: dict[str, list[dict]], data_files: dict[str, tuple[int, str]]
) -> list[dict]:
    """CSV then JSON resource descriptors, with the foreign keys the rows allow, sizes and hashes."""
    resources = []
    for fmt in ("csv", "json"):
        for table in rendered:
            path = f"data/{table}.{fmt}"
            resource = resource_descriptor(table, path, fmt)
            resource["schema"]["foreignKeys"] = [
                fk
                for fk in resource["schema"]["foreignKeys"]
                if any(fk["fields"] == k["fields"] and fk["reference"] == k["reference"] for k in kept_keys[table])
            ]
            resource["bytes"], sha256 = data_files[path]
            resource["hash"] = f"sha256:{sha256}"
            resources.append(resource)
    return resources


def national_version(data_files: dict[str, tuple[int, str]]) -> str:
    """``1.0.0+<12 hex>`` of the data files' paths and SHA-256 (``data_files``: path -> (size, SHA-256))."""
    digest = hashlib.sha256()
    for path in sorted(data_files):
        digest.update(f"{path}\0{data_files[path][1]}\0".encode())
    return f"1.0.0+{digest.hexdigest()[:12]}"


def national_descriptor(name: str, reports: list[dict], resources: list[dict], version: str, publisher: str) -> dict:
    """``datapackage.json`` of the national package (``reports``: the reports' rows, as dicts)."""
    from pipeline.publish import KEYWORDS, KEYWORDS_AR, LICENCE, METADATA_LANGUAGES

    periods = sorted({r["plan_period"] for r in reports if r.get("plan_period")})
    description, description_ar = describe(len(reports), periods)
    return {
        "name": name,
        "title": TITLE,
        "title_ar": TITLE_AR,
        "description": description,
        "description_ar": description_ar,
        "version": version,
        "licenses": [dict(LICENCE)],
        "sources": [
            {
                "title": f"Rapport d'auto-évaluation : {neutralise_formula(r['title'] or r['report_id'])}",
                "path": r["source_file"],
                "hash": f"sha256:{r['source_sha256']}",
            }
            for r in reports
        ],
        "contributors": [{"title": neutralise_formula(publisher), "role": "publisher"}],
        "publisher": neutralise_formula(publisher),
        "keywords": KEYWORDS + KEYWORDS_AR + periods,
        "languages": list(METADATA_LANGUAGES),
        "reports": [r["report_id"] for r in reports],
        "resources": resources,
    }


def national_ckan_dataset(descriptor: dict) -> dict:
    """The national dataset as CKAN takes it: the reports' extras replaced by the list of reports."""
    from pipeline.publish import ckan_dataset

    dataset = ckan_dataset(descriptor)
    extras = [e for e in dataset["extras"] if e["key"] not in ("source_file", "source_sha256")]
    extras.append({"key": "reports", "value": ",".join(descriptor["reports"])})
    return {**dataset, "extras": extras}
