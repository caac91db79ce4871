"""The field dictionary: every column of every table, defined once.

Each entry gives the column's type (a Table Schema type: ``string``, ``integer``,
``number``, ``boolean``), its French title and description for the portal, an
optional unit, and optional constraints (``enum``, ``minimum``, ``maximum``,
``pattern``). Whether a column may be null is a property of the table that holds it
and lives in :mod:`schemas.resources`. Names carry their unit or role as a suffix
(``_pct``, ``_no``, ``_line``, ``is_``/``has_``).
"""

from __future__ import annotations

REPORT_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

STATUS_VALUES = ["not_started", "limited", "substantial", "complete", "unknown"]
#: Progress band (min %, max %) printed beside each status in the checklist; an
#: unknown status can be anywhere. The bands overlap at 90 %, as the template does.
STATUS_BANDS: dict[str, tuple[float, float]] = {
    "not_started": (0.0, 0.0),
    "limited": (1.0, 59.0),
    "substantial": (60.0, 90.0),
    "complete": (90.0, 100.0),
    "unknown": (0.0, 100.0),
}
SEVERITY_VALUES = ["error", "warning", "info"]
SCOPE_VALUES = ["plan", "axis", "commitment"]
KIND_VALUES = ["count", "rate", "other"]
UNIT_VALUES = ["percent"]
STAGE_VALUES = ["ingest", "validate", "compute", "publish", "run"]

FIELDS: dict[str, dict] = {
    "report_id": {
        "type": "string",
        "title": "Identifiant du rapport",
        "description": "Identifiant du rapport : nom du fichier source sans l'extension "
        "(lettres minuscules, chiffres et tirets).",
        "constraints": {"pattern": REPORT_ID_PATTERN},
    },
    "title": {
        "type": "string",
        "title": "Titre",
        "description": "Titre tel qu'imprimé dans le rapport, lignes jointes.",
    },
    "plan_period": {
        "type": "string",
        "title": "Période du plan",
        "description": "Période couverte par le plan d'action national, sous la forme AAAA-AAAA.",
        "constraints": {"pattern": r"^\d{4}-\d{4}$"},
    },
    "as_of": {
        "type": "string",
        "title": "Date d'arrêté des chiffres",
        "description": "Mois auquel les chiffres du rapport sont arrêtés, sous la forme AAAA-MM.",
        "constraints": {"pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
    },
    "language": {
        "type": "string",
        "title": "Langue",
        "description": "Langue du rapport (code ISO 639-1), déduite du texte.",
        "constraints": {"pattern": r"^[a-z]{2,3}$"},
    },
    "source_file": {
        "type": "string",
        "title": "Fichier source",
        "description": "Nom du fichier texte d'où proviennent les données.",
    },
    "source_sha256": {
        "type": "string",
        "title": "Empreinte SHA-256 de la source",
        "description": "Empreinte SHA-256 (hexadécimale) des octets du fichier source.",
        "constraints": {"pattern": r"^[0-9a-f]{64}$"},
    },
    "source_encoding": {
        "type": "string",
        "title": "Encodage de la source",
        "description": "Encodage dans lequel le fichier source a été lu (utf-8, utf-8-sig, cp1252).",
    },
    "line_count": {
        "type": "integer",
        "title": "Nombre de lignes",
        "description": "Nombre de lignes du fichier source.",
        "constraints": {"minimum": 0},
    },
    "commitment_count": {
        "type": "integer",
        "title": "Nombre d'engagements",
        "description": "Nombre d'engagements trouvés dans le corps du rapport.",
        "constraints": {"minimum": 0},
    },
    "activity_count": {
        "type": "integer",
        "title": "Nombre d'activités",
        "description": "Nombre d'activités trouvées dans le corps du rapport.",
        "constraints": {"minimum": 0},
    },
    "axis_no": {
        "type": "integer",
        "title": "Numéro de l'axe",
        "description": "Rang de l'axe dans la présentation du plan d'action (à partir de 1).",
        "constraints": {"minimum": 1},
    },
    "name": {
        "type": "string",
        "title": "Nom",
        "description": "Nom tel qu'imprimé dans le rapport.",
    },
    "commitment_no": {
        "type": "integer",
        "title": "Numéro de l'engagement",
        "description": "Numéro de l'engagement dans le plan d'action (ENGAGEMENT N).",
        "constraints": {"minimum": 1},
    },
    "responsible_body": {
        "type": "string",
        "title": "Organisme responsable",
        "description": "Organisme responsable de la mise en œuvre de l'engagement ; "
        "vide si le rapport ne le donne pas.",
    },
    "problem": {
        "type": "string",
        "title": "Problématique",
        "description": "Texte de la rubrique « Problématique » de l'engagement.",
    },
    "solution": {
        "type": "string",
        "title": "Solution proposée",
        "description": "Texte de la rubrique « Solution proposée » de l'engagement.",
    },
    "expected_result": {
        "type": "string",
        "title": "Résultat attendu",
        "description": "Texte de la rubrique « Résultat attendu » de l'engagement.",
    },
    "activity_no": {
        "type": "integer",
        "title": "Numéro de l'activité",
        "description": "Numéro de l'activité dans son engagement (Activité K).",
        "constraints": {"minimum": 1},
    },
    "status": {
        "type": "string",
        "title": "Statut",
        "description": "État d'avancement coché dans le rapport : not_started (non entamée), "
        "limited (progression limitée), substantial (progression significative), "
        "complete (complétée) ou unknown (coche perdue, double ou illisible).",
        "constraints": {"enum": STATUS_VALUES},
    },
    "band_min_pct": {
        "type": "number",
        "title": "Borne basse de la tranche (%)",
        "description": "Borne basse de la tranche d'avancement correspondant au statut.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "band_max_pct": {
        "type": "number",
        "title": "Borne haute de la tranche (%)",
        "description": "Borne haute de la tranche d'avancement correspondant au statut.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "is_status_checked": {
        "type": "boolean",
        "title": "Statut coché",
        "description": "Vrai si une et une seule case du statut est cochée dans le rapport.",
    },
    "actions_text": {
        "type": "string",
        "title": "Actions réalisées",
        "description": "Texte des actions réalisées rattachées à l'activité, "
        "un élément par ligne, sans puces.",
    },
    "source_line": {
        "type": "integer",
        "title": "Ligne source",
        "description": "Numéro (à partir de 1) de la ligne du fichier source d'où vient l'enregistrement.",
        "constraints": {"minimum": 1},
    },
    "source_line_start": {
        "type": "integer",
        "title": "Première ligne source",
        "description": "Numéro (à partir de 1) de la première ligne de la section dans le fichier source.",
        "constraints": {"minimum": 1},
    },
    "source_line_end": {
        "type": "integer",
        "title": "Dernière ligne source",
        "description": "Numéro (à partir de 1) de la dernière ligne de la section dans le fichier source.",
        "constraints": {"minimum": 1},
    },
    "indicator_no": {
        "type": "integer",
        "title": "Numéro de l'indicateur",
        "description": "Rang de l'indicateur dans la liste de son engagement (à partir de 1).",
        "constraints": {"minimum": 1},
    },
    "label": {
        "type": "string",
        "title": "Libellé",
        "description": "Libellé de l'indicateur tel qu'imprimé, lignes jointes.",
    },
    "raw_value": {
        "type": "string",
        "title": "Valeur brute",
        "description": "Valeur de l'indicateur telle qu'imprimée dans le rapport.",
    },
    "value": {
        "type": "number",
        "title": "Valeur",
        "description": "Valeur numérique de l'indicateur ; vide si la valeur imprimée n'est pas un nombre.",
    },
    "unit": {
        "type": "string",
        "title": "Unité",
        "description": "Unité de la valeur : percent si un signe % est imprimé, vide sinon.",
        "constraints": {"enum": UNIT_VALUES},
    },
    "kind": {
        "type": "string",
        "title": "Nature de l'indicateur",
        "description": "Nature déduite du libellé : count (« Nombre… »), rate (« Taux… », "
        "« Pourcentage… ») ou other.",
        "constraints": {"enum": KIND_VALUES},
    },
    "scope": {
        "type": "string",
        "title": "Portée",
        "description": "Ce que mesure le taux : plan (le plan entier), axis (un axe) ou commitment (un engagement).",
        "constraints": {"enum": SCOPE_VALUES},
    },
    "scope_no": {
        "type": "integer",
        "title": "Numéro dans la portée",
        "description": "Numéro de l'axe ou de l'engagement ; 0 pour le plan entier.",
        "constraints": {"minimum": 0},
    },
    "rate_pct": {
        "type": "number",
        "title": "Taux (%)",
        "description": "Taux d'avancement en pourcentage.",
        "unit": "%",
    },
    "finding_no": {
        "type": "integer",
        "title": "Numéro du constat",
        "description": "Rang du constat dans le rapport et l'étape qui l'ont produit (à partir de 1).",
        "constraints": {"minimum": 1},
    },
    "stage": {
        "type": "string",
        "title": "Étape",
        "description": "Étape de la chaîne de traitement qui a fait le constat.",
        "constraints": {"enum": STAGE_VALUES},
    },
    "severity": {
        "type": "string",
        "title": "Gravité",
        "description": "Gravité du constat : error, warning ou info.",
        "constraints": {"enum": SEVERITY_VALUES},
    },
    "code": {
        "type": "string",
        "title": "Code du constat",
        "description": "Code stable du type de constat (voir docs/data-dictionary.md).",
        "constraints": {"pattern": r"^[a-z][a-z0-9_]*$"},
    },
    "message": {
        "type": "string",
        "title": "Message",
        "description": "Description lisible du constat.",
    },
    "table_name": {
        "type": "string",
        "title": "Table concernée",
        "description": "Table dont un enregistrement est concerné par le constat, s'il y en a une.",
    },
    "record_key": {
        "type": "string",
        "title": "Clé de l'enregistrement",
        "description": "Clé de l'enregistrement concerné, sous la forme colonne=valeur séparées par des virgules.",
    },
    "rate_min_pct": {
        "type": "number",
        "title": "Taux minimal (%)",
        "description": "Borne basse du taux calculé : chaque activité au bas de la tranche de son statut, "
        "une activité de statut inconnu comptée à 0 %.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "rate_max_pct": {
        "type": "number",
        "title": "Taux maximal (%)",
        "description": "Borne haute du taux calculé : chaque activité au haut de la tranche de son statut, "
        "une activité de statut inconnu comptée à 100 %.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "published_rate_pct": {
        "type": "number",
        "title": "Taux publié (%)",
        "description": "Taux d'avancement publié par le rapport.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "within_bounds": {
        "type": "boolean",
        "title": "Dans l'intervalle calculé",
        "description": "Vrai si le taux publié est compris entre le taux minimal et le taux maximal calculés.",
    },
    "gap_pct_points": {
        "type": "number",
        "title": "Écart (points de pourcentage)",
        "description": "Taux publié moins taux calculé, en points de pourcentage.",
        "unit": "points de %",
    },
    "unknown_activity_count": {
        "type": "integer",
        "title": "Activités de statut inconnu",
        "description": "Nombre d'activités dont le statut n'a pas pu être lu.",
        "constraints": {"minimum": 0},
    },
    "aggregation": {
        "type": "string",
        "title": "Méthode d'agrégation",
        "description": "Méthode d'agrégation des taux des engagements vers l'axe et le plan.",
    },
    "weight": {
        "type": "number",
        "title": "Poids de l'activité",
        "description": "Poids de l'activité dans la moyenne pondérée de son engagement (strictement positif) : "
        "1 par défaut, ou la valeur du fichier raw/<report_id>.weights.csv.",
        "constraints": {"minimum": 0},
    },
    "implied_rate_min_pct": {
        "type": "number",
        "title": "Taux minimal compatible (%)",
        "description": "Plus petite valeur du taux manquant qui, avec les autres taux publiés et la méthode "
        "d'agrégation, redonne le taux global publié arrondi à l'unité ; vide si aucune valeur ne le fait.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "implied_rate_max_pct": {
        "type": "number",
        "title": "Taux maximal compatible (%)",
        "description": "Plus grande valeur du taux manquant qui, avec les autres taux publiés et la méthode "
        "d'agrégation, redonne le taux global publié arrondi à l'unité ; vide si aucune valeur ne le fait.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "is_consistent": {
        "type": "boolean",
        "title": "Compatible avec le taux publié",
        "description": "Vrai si une valeur entre 0 et 100 % du taux manquant rend les taux publiés "
        "compatibles avec la méthode d'agrégation.",
    },
}
