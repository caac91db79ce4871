"""The data dictionary: ``docs/data-dictionary.md``, generated from :mod:`schemas`.

What belongs here: turning the table and field definitions into Markdown
(:func:`render_data_dictionary`) and writing it (:func:`main`,
``python -m pipeline docs``). Nothing here defines a column: a change to a table is
made in ``schemas/`` and the dictionary regenerated; a test checks that the committed
file is current.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas import ALL_RESOURCES, COMPUTED_TABLES, STATUS_BANDS, TABLES, table_fields

DEFAULT_OUTPUT = Path("docs/data-dictionary.md")

_TYPES = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "booléen"}

_INTRO = """\
# Dictionnaire des données

<!-- Généré depuis schemas/ par `python -m pipeline docs` : ne pas modifier à la main. -->

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

_RATES = """\
## Calcul des taux

- **Activité** : l'avancement retenu pour son statut (`pipeline/config/rates.toml`, par défaut le
  milieu de la tranche : `not_started` 0, `limited` 30, `substantial` 75, `complete` 95) ; son
  intervalle est la tranche du statut. Une activité de statut `unknown` est laissée hors de
  l'estimation et comptée 0 % dans le minimum, 100 % dans le maximum.
- **Engagement** : moyenne des activités pondérée par leur poids (1 par défaut, ou
  `raw/<report_id>.weights.csv`, colonnes `commitment_no,activity_no,weight`) ; bornes : même
  moyenne des bornes des activités. Sans activité : pas de taux, intervalle 0-100 %.
- **Axe et plan** : selon `aggregation` dans la configuration. Par défaut `commitment_mean`, la
  moyenne simple des taux des engagements (bornes : moyenne des bornes) ; sinon `activity_weighted`,
  la moyenne pondérée de toutes les activités. Les chiffres publiés du rapport de 2023 suivent la
  moyenne simple : son taux global de 82 % est la moyenne de ses 22 taux d'engagement si le taux non
  publié de l'engagement 22 est entre 85 et 100 % ; pondérée par le nombre d'activités, aucune
  valeur possible ne le redonne (table `missing_rate_range`).
- **Rapprochement** : `within_bounds` dit si le taux publié est dans l'intervalle calculé ;
  un écart hors de l'intervalle ne peut pas venir des seuls statuts cochés (les poids des
  activités fixés sur la plateforme nationale ne sont pas dans le rapport).
"""

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


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return (
        str(text)
        .replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", " ")
    )


def _code(text: str) -> str:
    return "`" + str(text).replace("|", "\\|") + "`"


def _number(value: float) -> str:
    return f"{value:g}"


def render_constraints(constraints: dict) -> str:
    """A field's constraints in words: ``≥ 0``, ``≤ 100``, allowed values, pattern, length."""
    parts = []
    if "minimum" in constraints:
        parts.append(f"≥ {_number(constraints['minimum'])}")
    if "maximum" in constraints:
        parts.append(f"≤ {_number(constraints['maximum'])}")
    if "enum" in constraints:
        parts.append("valeurs : " + ", ".join(_code(v) for v in constraints["enum"]))
    if "pattern" in constraints:
        parts.append("motif : " + _code(constraints["pattern"]))
    if "maxLength" in constraints:
        parts.append(f"{constraints['maxLength']} caractères au plus")
    return " ; ".join(parts)


def render_foreign_key(fk: dict) -> str:
    fields = ", ".join(_code(f) for f in fk["fields"])
    ref = fk["reference"]
    target = ", ".join(_code(f) for f in ref["fields"])
    return f"({fields}) → [`{ref['resource']}`](#{ref['resource']}) ({target})"


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
    """One table's section: title, description, keys and field table."""
    resource = ALL_RESOURCES[table]
    lines = [
        f'<a id="{table}"></a>',
        f"### `{table}` : {resource['title']}",
        "",
        resource["description"],
        "",
        "- Clé primaire : " + ", ".join(_code(k) for k in resource["primary_key"]),
    ]
    fks = resource.get("foreign_keys", [])
    if fks:
        lines.append("- Clés étrangères : " + " ; ".join(render_foreign_key(fk) for fk in fks))
    lines += [
        table_files(table),
        "",
        "| Colonne | Type | Obligatoire | Unité | Contraintes | Titre | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in table_fields(table):
        lines.append(
            "| "
            + " | ".join(
                [
                    _code(f["name"]),
                    _TYPES[f["type"]],
                    "non" if f["nullable"] else "oui",
                    _cell(f.get("unit", "")),
                    render_constraints(f["constraints"]),
                    _cell(f["title"]),
                    _cell(f["description"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


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
    return "\n".join(f"- [`{t}`](#{t}) : {ALL_RESOURCES[t]['title']}" for t in tables)


def render_finding_codes() -> str:
    """The catalogue of finding codes: ingestion and computation, then validation checks."""
    from schemas.checks import build_schema
    from schemas.findings import FINDING_CODES

    lines = [
        "## Codes des constats (`findings.code`)\n",
        "| code | étape | gravité | signification |",
        "|---|---|---|---|",
    ]
    for code, (stage, severity, description) in sorted(FINDING_CODES.items(), key=lambda kv: (kv[1][0] != "ingest", kv[0])):
        lines.append(f"| `{code}` | {stage} | {severity} | {description} |")
    checks: dict[str, tuple[str, str]] = {}
    for table in TABLES:
        for name, meta in build_schema(table).metadata["checks"].items():
            checks.setdefault(name, (meta["severity"], meta["message"]))
    checks.setdefault("duplicate_primary_key", ("error", "plusieurs lignes partagent la même clé primaire"))
    checks.setdefault("report_counts_mismatch", ("warning", "le nombre d'engagements ou d'activités d'un rapport ne correspond pas à ses lignes"))
    checks.setdefault("numbering_gap", ("warning", "des numéros manquent dans une suite (engagements d'un rapport, activités d'un engagement)"))
    for table in TABLES:
        for fk in ALL_RESOURCES[table]["foreign_keys"]:
            parent = fk["reference"]["resource"]
            checks.setdefault(f"foreign_key_{parent}", ("error", f"la ligne renvoie à un enregistrement absent de « {parent} »"))
    for name, (severity, message) in sorted(checks.items()):
        lines.append(f"| `{name}` | validate | {severity} | {message} |")
    return "\n".join(lines) + "\n"


def render_data_dictionary() -> str:
    """The whole data dictionary as Markdown, from :mod:`schemas` alone."""
    parts = [
        _INTRO,
        "## Tables de données\n\n" + _contents(TABLES) + "\n",
        "## Tables calculées\n\n" + _contents(COMPUTED_TABLES) + "\n",
        render_status_bands(),
        _RATES,
        _DATABASE,
        "## Colonnes des tables de données\n",
        *(render_table(t) for t in TABLES),
        "## Colonnes des tables calculées\n",
        *(render_table(t) for t in COMPUTED_TABLES),
        render_finding_codes(),
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Write the data dictionary (default ``docs/data-dictionary.md``)."""
    from pipeline.io import write_text_atomic

    parser = argparse.ArgumentParser(prog="pipeline docs", description="write the data dictionary from schemas/")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to write")
    args = parser.parse_args(argv)
    write_text_atomic(args.output, render_data_dictionary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
