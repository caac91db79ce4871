"""The resource dictionary: every table, defined once.

A resource lists its fields (by name, from :data:`schemas.fields.FIELDS`), which of
them must be present (``required``; primary-key fields always are), its primary
key, its foreign keys, and its title and description in French and in Arabic
(``title_ar``, ``description_ar``). Resource-specific refinements of a field (a
different description, looser constraints) go in ``field_overrides``; an override
of ``description`` gives its ``description_ar`` too (an override replaces a key whole).

The Arrow schemas of the curated Parquet files, the pandera checks, the DuckDB
tables, the frictionless descriptors and the data dictionary are all generated from this
and :mod:`schemas.fields`, by the classes of :mod:`schemas.classes` (loaded once as
:data:`schemas.PACKAGE`, which refuses a key, a required field, an override or a foreign
key naming a field or a resource that does not exist): there is no second list of columns.
"""

from __future__ import annotations

RESOURCES: dict[str, dict] = {
    "reports": {
        "title": "Rapports",
        "title_ar": "التقارير",
        "description": "Un enregistrement par rapport d'auto-évaluation ingéré, avec sa provenance.",
        "description_ar": "سجل واحد لكل تقرير تقييم ذاتي تمت معالجته، مع بيانات مصدره.",
        "fields": [
            "report_id",
            "title",
            "plan_period",
            "as_of",
            "language",
            "source_file",
            "source_sha256",
            "source_encoding",
            "line_count",
            "commitment_count",
            "activity_count",
        ],
        "required": ["title", "source_file", "source_sha256", "line_count", "language"],
        "primary_key": ["report_id"],
        "foreign_keys": [],
        "field_overrides": {
            "title": {
                "description": "Titre du rapport : première ligne non vide du document.",
                "description_ar": "عنوان التقرير: أول سطر غير فارغ في الوثيقة.",
            },
        },
    },
    "axes": {
        "title": "Axes du plan d'action",
        "title_ar": "محاور خطة العمل",
        "description": "Axes thématiques du plan d'action, dans l'ordre de leur présentation.",
        "description_ar": "المحاور الموضوعاتية لخطة العمل، بترتيب عرضها.",
        "fields": ["report_id", "axis_no", "name", "source_line"],
        "required": ["name", "source_line"],
        "primary_key": ["report_id", "axis_no"],
        "foreign_keys": [
            {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
        ],
        "field_overrides": {
            "name": {"description": "Nom de l'axe tel qu'imprimé.", "description_ar": "اسم المحور كما ورد في التقرير."}
        },
    },
    "commitments": {
        "title": "Engagements",
        "title_ar": "الالتزامات",
        "description": "Engagements du plan d'action, avec leur axe, l'organisme responsable "
        "et les rubriques de leur fiche.",
        "description_ar": "التزامات خطة العمل، مع محورها والجهة المسؤولة عنها وخانات بطاقتها.",
        "fields": [
            "report_id",
            "commitment_no",
            "title",
            "axis_no",
            "responsible_body",
            "problem",
            "solution",
            "expected_result",
            "source_line_start",
            "source_line_end",
        ],
        "required": ["title", "source_line_start", "source_line_end"],
        "primary_key": ["report_id", "commitment_no"],
        "foreign_keys": [
            {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
            {
                "fields": ["report_id", "axis_no"],
                "reference": {"resource": "axes", "fields": ["report_id", "axis_no"]},
            },
        ],
        "field_overrides": {
            "title": {
                "description": "Titre de l'engagement tel qu'imprimé dans son en-tête, lignes jointes.",
                "description_ar": "عنوان الالتزام كما ورد في رأس بطاقته، بعد ضمّ أسطره.",
            },
        },
    },
    "activities": {
        "title": "Activités",
        "title_ar": "الأنشطة",
        "description": "Activités des engagements, avec le statut coché et sa tranche d'avancement.",
        "description_ar": "أنشطة الالتزامات، مع الحالة المؤشَّر عليها وشريحة التقدم المقابلة لها.",
        "fields": [
            "report_id",
            "commitment_no",
            "activity_no",
            "title",
            "status",
            "band_min_pct",
            "band_max_pct",
            "is_status_checked",
            "actions_text",
            "source_line",
        ],
        "required": ["title", "status", "band_min_pct", "band_max_pct", "is_status_checked", "source_line"],
        "primary_key": ["report_id", "commitment_no", "activity_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "commitment_no"],
                "reference": {"resource": "commitments", "fields": ["report_id", "commitment_no"]},
            },
        ],
        "field_overrides": {
            "title": {
                "description": "Intitulé de l'activité, lignes jointes.",
                "description_ar": "عنوان النشاط، بعد ضمّ أسطره.",
            },
            "source_line": {
                "description": "Ligne (à partir de 1) de l'en-tête « Activité K » dans le fichier source.",
                "description_ar": "رقم السطر (ابتداءً من 1) الذي يوجد فيه رأس «Activité K» في الملف المصدر.",
            },
        },
    },
    "indicators": {
        "title": "Indicateurs",
        "title_ar": "المؤشرات",
        "description": "Indicateurs publiés pour chaque engagement. Chaque indicateur porte une seule valeur, "
        "telle qu'imprimée dans le rapport : raw_value la donne toujours telle quelle (vide seulement si le "
        "rapport n'en imprime aucune) ; quand elle est numérique, value en donne le nombre et unit son unité "
        "(percent si un signe % est imprimé, vide sinon). Le rapport ne fixe aucune cible : aucun indicateur "
        "n'a de valeur cible, et sa valeur seule ne dit pas s'il est atteint.",
        "description_ar": "المؤشرات المنشورة لكل التزام. يحمل كل مؤشر قيمة واحدة كما وردت في التقرير: "
        "يوردها الحقل raw_value دائمًا كما هي (ولا يبقى فارغًا إلا إذا لم يورد التقرير أي قيمة)؛ وإذا كانت "
        "القيمة عددية، أعطى الحقل value قيمتها العددية والحقل unit وحدتها (percent إذا وردت علامة %، "
        "وتبقى فارغة في غير ذلك). ولا يحدد التقرير أي هدف: فليس لأي مؤشر قيمة مستهدفة، ولا تكفي قيمته "
        "وحدها لمعرفة ما إذا كان قد تحقق.",
        "fields": [
            "report_id",
            "commitment_no",
            "indicator_no",
            "label",
            "raw_value",
            "value",
            "unit",
            "kind",
            "source_line",
        ],
        "required": ["label", "kind", "source_line"],
        "primary_key": ["report_id", "commitment_no", "indicator_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "commitment_no"],
                "reference": {"resource": "commitments", "fields": ["report_id", "commitment_no"]},
            },
        ],
        "field_overrides": {},
    },
    "published_rates": {
        "title": "Taux publiés",
        "title_ar": "النسب المنشورة",
        "description": "Taux d'avancement publiés par le rapport lui-même : global, par axe, par engagement.",
        "description_ar": "نسب الإنجاز التي نشرها التقرير نفسه: النسبة الإجمالية، والنسبة حسب المحور، والنسبة حسب "
        "الالتزام.",
        "fields": ["report_id", "scope", "scope_no", "rate_pct", "source_line"],
        "required": ["rate_pct", "source_line"],
        "primary_key": ["report_id", "scope", "scope_no"],
        "foreign_keys": [
            {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Taux d'avancement publié, en pourcentage.",
                "description_ar": "نسبة الإنجاز المنشورة، بالنسبة المئوية.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
        },
    },
    "findings": {
        "title": "Constats de qualité des données",
        "title_ar": "ملاحظات جودة البيانات",
        "description": "Un enregistrement par endroit endommagé, manquant ou incohérent rencontré "
        "par une étape de la chaîne.",
        "description_ar": "سجل واحد لكل موضع تالف أو ناقص أو غير متّسق صادفته إحدى مراحل سلسلة المعالجة.",
        "fields": [
            "report_id",
            "stage",
            "finding_no",
            "severity",
            "code",
            "message",
            "table_name",
            "record_key",
            "source_line",
        ],
        "required": ["severity", "code", "message"],
        "primary_key": ["report_id", "stage", "finding_no"],
        "foreign_keys": [],
        "field_overrides": {
            "report_id": {
                "description": "Identifiant du rapport concerné ; pour un fichier au nom invalide, "
                "le nom du fichier sans extension.",
                "description_ar": "معرّف التقرير المعني؛ وبالنسبة لملف اسمه غير صالح، اسم الملف دون امتداده.",
                "constraints": {},
            },
        },
    },
}

#: Tables computed in DuckDB from the curated ones (see pipeline/sql/), published
#: beside them. Defined here so that their descriptors come from the same place.
COMPUTED_RESOURCES: dict[str, dict] = {
    "activity_progress": {
        "title": "Avancement retenu par activité",
        "title_ar": "التقدم المعتمد لكل نشاط",
        "description": "Avancement attribué à chaque activité d'après son statut (correspondance déclarée "
        "dans la configuration des taux), son intervalle (la tranche du statut) et son poids.",
        "description_ar": "التقدم المسند إلى كل نشاط بحسب حالته (وفق المطابقة المحددة في إعدادات النسب)، ومجاله (شريحة "
        "الحالة) ووزنه.",
        "fields": [
            "report_id",
            "commitment_no",
            "activity_no",
            "axis_no",
            "status",
            "weight",
            "rate_pct",
            "rate_min_pct",
            "rate_max_pct",
        ],
        "required": ["status", "weight", "rate_min_pct", "rate_max_pct"],
        "primary_key": ["report_id", "commitment_no", "activity_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "commitment_no", "activity_no"],
                "reference": {"resource": "activities", "fields": ["report_id", "commitment_no", "activity_no"]},
            },
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Avancement retenu pour le statut de l'activité (par défaut le milieu de sa "
                "tranche) ; vide pour un statut inconnu, qui est laissé hors de l'estimation.",
                "description_ar": "التقدم المعتمد لحالة النشاط (افتراضيًا منتصف شريحتها)؛ يبقى فارغًا للحالة غير "
                "المعروفة، التي تُستبعد من التقدير.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
            "rate_min_pct": {
                "description": "Borne basse de la tranche du statut ; 0 % pour un statut inconnu.",
                "description_ar": "الحد الأدنى لشريحة الحالة؛ 0 % للحالة غير المعروفة.",
            },
            "rate_max_pct": {
                "description": "Borne haute de la tranche du statut ; 100 % pour un statut inconnu.",
                "description_ar": "الحد الأعلى لشريحة الحالة؛ 100 % للحالة غير المعروفة.",
            },
        },
    },
    "commitment_progress": {
        "title": "Avancement calculé par engagement",
        "title_ar": "التقدم المحسوب لكل التزام",
        "description": "Taux d'avancement de chaque engagement calculé à partir des statuts de ses "
        "activités (moyenne pondérée), avec ses bornes tirées des tranches de statut.",
        "description_ar": "نسبة إنجاز كل التزام محسوبة من حالات أنشطته (متوسط مرجّح)، مع حدَّيها المستخرجين من شرائح "
        "الحالات.",
        "fields": [
            "report_id",
            "commitment_no",
            "axis_no",
            "activity_count",
            "unknown_activity_count",
            "rate_pct",
            "rate_min_pct",
            "rate_max_pct",
        ],
        "required": ["activity_count", "unknown_activity_count"],
        "primary_key": ["report_id", "commitment_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "commitment_no"],
                "reference": {"resource": "commitments", "fields": ["report_id", "commitment_no"]},
            },
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Taux calculé : moyenne pondérée des avancements des activités de statut connu ; "
                "vide si aucune ne l'est.",
                "description_ar": "النسبة المحسوبة: المتوسط المرجّح لتقدم الأنشطة المعروفة الحالة؛ تبقى فارغة إذا لم "
                "تكن حالة أي منها معروفة.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
        },
    },
    "axis_progress": {
        "title": "Avancement calculé par axe",
        "title_ar": "التقدم المحسوب لكل محور",
        "description": "Taux d'avancement de chaque axe calculé à partir de ses engagements.",
        "description_ar": "نسبة إنجاز كل محور محسوبة من التزاماته.",
        "fields": ["report_id", "axis_no", "commitment_count", "rate_pct", "rate_min_pct", "rate_max_pct"],
        "required": ["commitment_count"],
        "primary_key": ["report_id", "axis_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "axis_no"],
                "reference": {"resource": "axes", "fields": ["report_id", "axis_no"]},
            },
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Taux calculé de l'axe.",
                "description_ar": "النسبة المحسوبة للمحور.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
            "commitment_count": {
                "description": "Nombre d'engagements de l'axe.",
                "description_ar": "عدد التزامات المحور.",
            },
        },
    },
    "plan_progress": {
        "title": "Avancement calculé du plan",
        "title_ar": "التقدم المحسوب للخطة",
        "description": "Taux d'avancement global du plan calculé à partir de ses engagements.",
        "description_ar": "نسبة الإنجاز الإجمالية للخطة محسوبة من التزاماتها.",
        "fields": [
            "report_id",
            "commitment_count",
            "activity_count",
            "rate_pct",
            "rate_min_pct",
            "rate_max_pct",
            "aggregation",
        ],
        "required": ["commitment_count", "activity_count", "aggregation"],
        "primary_key": ["report_id"],
        "foreign_keys": [
            {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Taux global calculé du plan.",
                "description_ar": "النسبة الإجمالية المحسوبة للخطة.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
        },
    },
    "reconciliation": {
        "title": "Rapprochement des taux publiés et calculés",
        "title_ar": "مقارنة النسب المنشورة بالنسب المحسوبة",
        "description": "Chaque taux publié par le rapport à côté du taux calculé et de son intervalle.",
        "description_ar": "كل نسبة نشرها التقرير إلى جانب النسبة المحسوبة المقابلة لها ومجالها.",
        "fields": [
            "report_id",
            "scope",
            "scope_no",
            "published_rate_pct",
            "rate_pct",
            "rate_min_pct",
            "rate_max_pct",
            "within_bounds",
            "gap_pct_points",
        ],
        "required": ["published_rate_pct"],
        "primary_key": ["report_id", "scope", "scope_no"],
        "foreign_keys": [
            {
                "fields": ["report_id", "scope", "scope_no"],
                "reference": {"resource": "published_rates", "fields": ["report_id", "scope", "scope_no"]},
            },
        ],
        "field_overrides": {
            "rate_pct": {
                "description": "Taux calculé correspondant.",
                "description_ar": "النسبة المحسوبة المقابلة.",
                "constraints": {"minimum": 0, "maximum": 100},
            },
        },
    },
    "status_summary": {
        "title": "Répartition des activités par statut",
        "title_ar": "توزيع الأنشطة حسب الحالة",
        "description": "Nombre d'activités de chaque statut, pour le plan entier, pour chaque axe et pour "
        "chaque engagement (une ligne par statut, zéros compris).",
        "description_ar": "عدد الأنشطة في كل حالة، للخطة بأكملها ولكل محور ولكل التزام (سطر لكل حالة، بما في ذلك "
        "الأعداد المنعدمة).",
        "fields": ["report_id", "scope", "scope_no", "status", "activity_count"],
        "required": ["activity_count"],
        "primary_key": ["report_id", "scope", "scope_no", "status"],
        "foreign_keys": [
            {"fields": ["report_id"], "reference": {"resource": "reports", "fields": ["report_id"]}},
        ],
        "field_overrides": {
            "scope": {
                "description": "Ce que couvre le décompte : plan (le plan entier), axis (un axe) "
                "ou commitment (un engagement).",
                "description_ar": "ما يشمله العدّ: plan (الخطة بأكملها)، axis (محور) أو commitment (التزام).",
            },
            "activity_count": {
                "description": "Nombre d'activités de ce statut dans la portée.",
                "description_ar": "عدد الأنشطة التي لها هذه الحالة ضمن النطاق.",
            },
        },
    },
    "missing_rate_range": {
        "title": "Taux publiés manquants compatibles avec le taux global",
        "title_ar": "النسب غير المنشورة المتوافقة مع النسبة الإجمالية",
        "description": "Pour un engagement dont le taux n'est pas publié alors que le taux global et tous les "
        "autres taux d'engagement le sont : les valeurs de ce taux qui redonnent le taux global publié "
        "(arrondi à l'unité), selon chaque méthode d'agrégation. Une méthode sans valeur compatible "
        "n'est pas celle qu'a suivie le rapport.",
        "description_ar": "بالنسبة لالتزام لم تُنشر نسبته في حين نُشرت النسبة الإجمالية وجميع نسب الالتزامات الأخرى: "
        "قيم هذه النسبة التي تُعيد النسبة الإجمالية المنشورة (مقرَّبةً إلى الوحدة)، حسب كل طريقة تجميع. الطريقة التي "
        "لا تقبل أي قيمة متوافقة ليست هي التي اتبعها التقرير.",
        "fields": [
            "report_id",
            "commitment_no",
            "aggregation",
            "published_rate_pct",
            "implied_rate_min_pct",
            "implied_rate_max_pct",
            "is_consistent",
        ],
        "required": ["published_rate_pct"],
        "primary_key": ["report_id", "commitment_no", "aggregation"],
        "foreign_keys": [
            {
                "fields": ["report_id", "commitment_no"],
                "reference": {"resource": "commitments", "fields": ["report_id", "commitment_no"]},
            },
        ],
        "field_overrides": {
            "commitment_no": {
                "description": "Numéro de l'engagement dont le taux n'est pas publié.",
                "description_ar": "رقم الالتزام الذي لم تُنشر نسبته.",
            },
            "aggregation": {
                "description": "Méthode d'agrégation supposée : commitment_mean (moyenne simple des taux des "
                "engagements) ou activity_weighted (moyenne pondérée par le poids total des activités "
                "de chaque engagement).",
                "description_ar": "طريقة التجميع المفترضة: commitment_mean (المتوسط البسيط لنسب الالتزامات) أو "
                "activity_weighted (المتوسط المرجّح بالوزن الإجمالي لأنشطة كل التزام).",
                "constraints": {"enum": ["commitment_mean", "activity_weighted"]},
            },
            "published_rate_pct": {
                "description": "Taux global publié par le rapport.",
                "description_ar": "النسبة الإجمالية التي نشرها التقرير.",
            },
        },
    },
}

#: Curated tables, written by ingestion, in dependency order.
TABLES: list[str] = list(RESOURCES)
#: Tables computed from them.
COMPUTED_TABLES: list[str] = list(COMPUTED_RESOURCES)
