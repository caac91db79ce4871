"""The data dictionary: ``docs/data-dictionary.md``, generated from :mod:`schemas`.

What belongs here: assembling the document (:func:`render_data_dictionary`; each
table's section is :meth:`schemas.classes.Resource.to_markdown`, the validation codes
:func:`pipeline.validate.validation_checks`) and writing it (:func:`main`,
``python -m pipeline docs``). Nothing here defines a column: a change to a table is
made in ``schemas/`` and the dictionary regenerated; a test checks that the committed
file is current.

The one part not from ``schemas/``: what the committed reports' published figures say
of the aggregation method (their global rate, the range it implies for an unpublished
commitment rate, the method that gives none). It is not written by hand: ``docs``
builds a database from ``raw/*.txt`` in a temporary folder and reads it
(:func:`report_rates_from_raw`), so a change of report or of parser that changes these
figures makes the committed dictionary out of date, and its test fail.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline import exitcodes
from schemas import COMPUTED_TABLES, STATUS_BANDS, TABLES, get_resource
from schemas.classes import constraints_text

log = logging.getLogger("pipeline.dictionary")

DEFAULT_OUTPUT = Path("docs/data-dictionary.md")
#: The committed reports whose published figures the rates section describes.
DEFAULT_RAW = Path("raw")

_INTRO = """\
# Dictionnaire des données

<!-- Généré par `python -m pipeline docs` depuis schemas/ et, pour ce qu'en disent les rapports,
     depuis raw/*.txt : ne pas modifier à la main. -->

Chaque table est définie une seule fois, dans `schemas/` (`fields.py` : type, titre, description,
unité et contraintes de chaque colonne ; `resources.py` : colonnes, clés et description de chaque
table). Les fichiers Parquet de `curated/`, les contrôles de validation, la base DuckDB
`curated/computed/pgo.duckdb` et les paquets de données publiés en sont tous tirés.

- **Tables de données** : extraites des rapports par l'ingestion (`curated/ingested/<report_id>/<table>.parquet`,
  un dossier par rapport), puis validées (`curated/validated/<table>.parquet` ; les lignes refusées
  vont dans `curated/validated/quarantine/<table>.parquet`) ; tables de la base DuckDB.
- **Tables calculées** : taux d'avancement calculés dans DuckDB à partir des tables de données
  validées (vues de la base DuckDB, `curated/computed/<table>.parquet`).

Une colonne « obligatoire » n'est jamais vide. Les taux sont en pourcentage (0 à 100).
"""

#: How the aggregations are named in the rates section.
_AGGREGATION_TEXT = {
    "commitment_mean": "la moyenne simple de ses {n} taux d'engagement",
    "activity_weighted": "la moyenne de ses taux d'engagement pondérée par le poids de leurs activités",
}


def _rates_method(config: dict) -> str:
    """The method, with the default values of ``pipeline/config/rates.toml`` (read, not restated)."""
    values = ", ".join(f"`{status}` {_number(pct)}" for status, pct in config["progress_pct"].items())
    return f"""\
## Calcul des taux

- **Activité** : l'avancement retenu pour son statut (`pipeline/config/rates.toml`, par défaut
  {values}) ;
  son intervalle est la tranche du statut. Une activité de statut `unknown` est laissée hors de
  l'estimation et comptée 0 % dans le minimum, 100 % dans le maximum.
- **Engagement** : moyenne des activités pondérée par leur poids (1 par défaut, ou
  `raw/<report_id>.weights.csv`, colonnes `commitment_no,activity_no,weight`) ; bornes : même
  moyenne des bornes des activités. Sans activité : pas de taux, intervalle 0-100 %.
- **Axe et plan** : selon `aggregation` dans la configuration (par défaut `{config["aggregation"]}`) :
  `commitment_mean`, la moyenne simple des taux des engagements (bornes : moyenne des bornes), ou
  `activity_weighted`, la moyenne pondérée de toutes les activités. La table `missing_rate_range`
  dit laquelle suit un rapport qui publie son taux global et tous ses taux d'engagement sauf un
  ([ce qu'en disent les rapports de `raw/`](#rapports-raw)).
- **Rapprochement** : `within_bounds` dit si le taux publié est dans l'intervalle calculé ;
  un écart hors de l'intervalle ne peut pas venir des seuls statuts cochés (les poids des
  activités fixés sur la plateforme nationale ne sont pas dans le rapport).
"""


@dataclass(frozen=True)
class MissingRate:
    """One row of ``missing_rate_range``: the values of an unpublished commitment rate that
    give back the published global rate under one aggregation (None, None: no value does)."""

    commitment_no: int
    aggregation: str
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ReportRates:
    """What the dictionary says about one report of ``raw/``, read from a database built from it."""

    report_id: str
    source_file: str
    source_sha256: str
    commitment_count: int
    published_commitment_count: int
    published_plan_rate: float | None
    missing: tuple[MissingRate, ...] = ()


def read_report_rates(database: Path) -> list[ReportRates]:
    """Per report of ``database`` (a ``pgo.duckdb``): its published rates and ``missing_rate_range``."""
    import duckdb

    con = duckdb.connect(str(database), read_only=True)
    try:
        reports = con.execute(
            """
            SELECT r.report_id, r.source_file, r.source_sha256,
                   (SELECT count(*) FROM commitments AS c WHERE c.report_id = r.report_id),
                   (SELECT count(*) FROM published_rates AS p
                    WHERE p.report_id = r.report_id AND p.scope = 'commitment'),
                   (SELECT max(p.rate_pct) FROM published_rates AS p
                    WHERE p.report_id = r.report_id AND p.scope = 'plan')
            FROM reports AS r ORDER BY r.report_id
            """
        ).fetchall()
        ranges = con.execute(
            """
            SELECT report_id, commitment_no, aggregation, implied_rate_min_pct, implied_rate_max_pct
            FROM missing_rate_range
            ORDER BY report_id, commitment_no, list_position(['commitment_mean', 'activity_weighted'], aggregation)
            """
        ).fetchall()
    finally:
        con.close()
    out = []
    for report_id, source_file, sha, commitments, published, plan in reports:
        missing = tuple(
            MissingRate(int(no), str(agg), None if low is None else float(low), None if high is None else float(high))
            for rid, no, agg, low, high in ranges
            if rid == report_id
        )
        out.append(
            ReportRates(
                str(report_id),
                str(source_file),
                str(sha),
                int(commitments),
                int(published),
                None if plan is None else float(plan),
                missing,
            )
        )
    return out


def build_database_from_raw(raw_dir: Path, work_dir: Path) -> Path:
    """Ingest, validate and compute every report of ``raw_dir`` into ``work_dir/curated``
    (default rates configuration, the weights files of ``raw_dir``); return the database.

    Raises:
        RuntimeError: when ``raw_dir`` holds no usable report or no database was built.
    """
    from pipeline.compute import compute_database
    from pipeline.ingest import ingest_reports
    from pipeline.layers import layout
    from pipeline.validate import validate_curated

    curated = Path(work_dir) / "curated"
    code = ingest_reports(raw_dir, curated)
    if code >= exitcodes.USAGE and not list(layout(curated).partitions.glob("*")):
        raise RuntimeError(f"no report of {raw_dir} could be ingested (exit code {code})")
    validate_curated(curated)
    compute_database(curated, None, raw_dir)
    database = layout(curated).database
    if not database.is_file():
        raise RuntimeError(f"no database could be built from {raw_dir}")
    return database


def report_rates_from_raw(raw_dir: Path = DEFAULT_RAW) -> list[ReportRates]:
    """:func:`read_report_rates` of a database built, in a temporary folder, from ``raw_dir``."""
    with tempfile.TemporaryDirectory(prefix="pgo-docs-") as work:
        return read_report_rates(build_database_from_raw(Path(raw_dir), Path(work)))


def _pct(value: float) -> str:
    """``82.0`` -> ``"82"``, ``85.25`` -> ``"85,3"`` (French decimal comma)."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def render_report_rates(report: ReportRates) -> str:
    """One report's item: its published global rate and the aggregation it implies."""
    head = (
        f"- `{report.report_id}` (`raw/{report.source_file}`, SHA-256 `{report.source_sha256[:16]}…`) : "
        f"{report.commitment_count} engagements, {report.published_commitment_count} taux d'engagement publiés"
    )
    if report.published_plan_rate is None:
        return head + ", pas de taux global publié.\n"
    head += f", taux global publié {_pct(report.published_plan_rate)} %."
    if not report.missing:
        return (
            head
            + " La table `missing_rate_range` ne s'applique pas (elle suppose un seul taux d'engagement manquant).\n"
        )
    sentences = []
    for no in sorted({m.commitment_no for m in report.missing}):
        rows = [m for m in report.missing if m.commitment_no == no]
        fits = [m for m in rows if m.low is not None and m.high is not None]
        parts = [
            f"ce taux est {_AGGREGATION_TEXT.get(m.aggregation, m.aggregation).format(n=report.commitment_count)} "
            f"(`{m.aggregation}`) si le taux non publié de l'engagement {no} "
            f"est entre {_pct(m.low)} et {_pct(m.high)} %"
            for m in fits
        ]
        parts += [
            f"avec `{m.aggregation}`, aucune valeur du taux de l'engagement {no} ne le redonne"
            for m in rows
            if m not in fits
        ]
        sentence = " ; ".join(parts)
        sentence = sentence[:1].upper() + sentence[1:] + "."
        if len(fits) == 1 and len(rows) > 1:
            sentence += f" Ses chiffres publiés suivent donc `{fits[0].aggregation}`."
        elif not fits:
            sentence += " Aucune des deux méthodes ne redonne le taux global publié."
        sentences.append(sentence)
    return head + " " + " ".join(sentences) + "\n"


def render_raw_reports(reports: list[ReportRates]) -> str:
    """What the reports of ``raw/`` say of the aggregation, from a database built from them."""
    lines = [
        '<a id="rapports-raw"></a>',
        "### Ce qu'en disent les rapports de `raw/`",
        "",
        "Tiré, à chaque génération de ce document, d'une base construite depuis `raw/*.txt` (configuration par "
        "défaut ; tables `published_rates` et `missing_rate_range`).",
        "",
        "",
    ]
    if not reports:
        return "\n".join(lines) + "Aucun rapport dans `raw/`.\n"
    return "\n".join(lines) + "".join(render_report_rates(r) for r in reports)


_DATABASE = """\
## Base DuckDB `curated/computed/pgo.duckdb`

Construite par `python -m pipeline compute`, dans un fichier temporaire renommé une fois complet.
Elle contient les tables de données validées (chargées, avec clés primaires et commentaires ;
`findings` réunit les constats de toutes les étapes), les tables calculées sous forme de vues, et :

- `status_bands` : avancement retenu pour chaque statut (`rate_pct`) et bornes de sa tranche ;
- `activity_weights` : poids des activités lus dans `raw/<report_id>.weights.csv` (une activité
  absente pèse 1) ;
- `run_config` : configuration du calcul (`key`, `value`) : fichier de configuration et son
  empreinte, méthode d'agrégation, avancement par statut, source des poids de chaque rapport ;
- `commitment_rates` : vue de travail, taux des engagements avec le poids total de leurs activités.

La même configuration est écrite dans `curated/computed/rates_config.json`.
"""


def _number(value: float) -> str:
    return f"{value:g}"


def render_constraints(constraints: dict) -> str:
    """A field's constraints in words: ``≥ 0``, ``≤ 100``, allowed values, pattern, length."""
    return constraints_text(constraints)


def table_files(table: str) -> str:
    """The line naming the Parquet file(s) a table is written to (see :mod:`pipeline.layers`)."""
    if table in COMPUTED_TABLES:
        return f"- Fichier : `curated/computed/{table}.parquet`"
    if table == "findings":
        return (
            "- Fichiers : `curated/validated/findings.parquet` (ingestion et validation), "
            "`curated/computed/findings.parquet` (calcul) ; tous dans la table `findings` de la base"
        )
    return f"- Fichier : `curated/validated/{table}.parquet`"


def render_table(table: str) -> str:
    """One table's section: title, description, keys, file and field table
    (:meth:`schemas.classes.Resource.to_markdown`)."""
    return get_resource(table).to_markdown(table_files(table))


def render_status_bands() -> str:
    lines = [
        "## Tranches d'avancement des statuts",
        "",
        "Tranche imprimée à côté de chaque case de la grille d'avancement du rapport ; un statut inconnu "
        "(coche perdue, double ou illisible) peut être n'importe où. Les bornes des taux calculés en "
        "sont tirées ; la valeur retenue pour chaque statut est fixée par `pipeline/config/rates.toml`.",
        "",
        "| Statut | Borne basse (%) | Borne haute (%) |",
        "|---|---|---|",
    ]
    lines += [f"| `{s}` | {_number(low)} | {_number(high)} |" for s, (low, high) in STATUS_BANDS.items()]
    return "\n".join(lines) + "\n"


def _contents(tables: list[str]) -> str:
    return "\n".join(f"- [`{t}`](#{t}) : {get_resource(t).title}" for t in tables)


def render_finding_codes() -> str:
    """The catalogue of finding codes: ingestion and computation, then validation checks."""
    from pipeline.validate import validation_checks
    from schemas.findings import FINDING_CODES

    lines = [
        "## Codes des constats (`findings.code`)\n",
        "| code | étape | gravité | signification |",
        "|---|---|---|---|",
    ]
    for code, (stage, severity, description) in sorted(
        FINDING_CODES.items(), key=lambda kv: (kv[1][0] != "ingest", kv[0])
    ):
        lines.append(f"| `{code}` | {stage} | {severity} | {description} |")
    checks = validation_checks()
    for name, (severity, message) in sorted(checks.items()):
        lines.append(f"| `{name}` | validate | {severity} | {message} |")
    return "\n".join(lines) + "\n"


def render_data_dictionary(reports: list[ReportRates], rates_config: dict | None = None) -> str:
    """The whole data dictionary as Markdown.

    Args:
        reports: what the reports of ``raw/`` say (:func:`report_rates_from_raw`); the
            only part of the document that is not from :mod:`schemas`.
        rates_config: the rates configuration whose defaults the document states
            (default: ``pipeline/config/rates.toml``).
    """
    if rates_config is None:
        from pipeline.compute import load_rates_config

        rates_config = load_rates_config(None)
    parts = [
        _INTRO,
        "## Tables de données\n\n" + _contents(TABLES) + "\n",
        "## Tables calculées\n\n" + _contents(COMPUTED_TABLES) + "\n",
        render_status_bands(),
        _rates_method(rates_config) + "\n" + render_raw_reports(reports),
        _DATABASE,
        "## Colonnes des tables de données\n",
        *(render_table(t) for t in TABLES),
        "## Colonnes des tables calculées\n",
        *(render_table(t) for t in COMPUTED_TABLES),
        render_finding_codes(),
    ]
    return "\n".join(parts)


def write_data_dictionary(output: Path, raw: Path) -> int:
    """``pgo docs``: write the data dictionary to ``output``, its figures from the reports of ``raw``."""
    from pipeline.io import write_text_atomic

    try:
        reports = report_rates_from_raw(raw)
    except RuntimeError as exc:
        log.error("data dictionary not written: %s", exc)
        return exitcodes.USAGE
    write_text_atomic(output, render_data_dictionary(reports))
    return exitcodes.OK
