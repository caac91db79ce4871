"""The field dictionary: every column of every table, defined once.

Each entry gives the column's type (a Table Schema type: ``string``, ``integer``,
``number``, ``boolean``), its French title and description for the portal and
their Arabic versions (``title_ar``, ``description_ar``: data.gov.ma is bilingual), an
optional unit, and optional constraints (``enum``, ``minimum``, ``maximum``,
``pattern``). Whether a column may be null is a property of the table that holds it
and lives in :mod:`schemas.resources`. Names carry their unit or role as a suffix
(``_pct``, ``_no``, ``_line``, ``is_``/``has_``). Each entry becomes a
:class:`schemas.classes.Field`, which checks its type and constraint names.
"""

from __future__ import annotations

REPORT_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
#: CKAN's limit for a dataset name, which a report id becomes on the portal.
REPORT_ID_MAX_LENGTH = 100

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
        "title_ar": "معرّف التقرير",
        "description": "Identifiant du rapport : nom du fichier source sans l'extension "
        "(lettres minuscules, chiffres et tirets, 100 caractères au plus).",
        "description_ar": "معرّف التقرير: اسم الملف المصدر دون الامتداد (حروف لاتينية صغيرة وأرقام وشرطات، 100 حرف على "
        "الأكثر).",
        "constraints": {"pattern": REPORT_ID_PATTERN, "maxLength": REPORT_ID_MAX_LENGTH},
    },
    "title": {
        "type": "string",
        "title": "Titre",
        "title_ar": "العنوان",
        "description": "Titre tel qu'imprimé dans le rapport, lignes jointes.",
        "description_ar": "العنوان كما ورد في التقرير، بعد ضمّ أسطره.",
    },
    "plan_period": {
        "type": "string",
        "title": "Période du plan",
        "title_ar": "فترة الخطة",
        "description": "Période couverte par le plan d'action national, sous la forme AAAA-AAAA.",
        "description_ar": "الفترة التي تغطيها خطة العمل الوطنية، على شكل سنتين تفصل بينهما شرطة (مثلًا 2021-2023).",
        "constraints": {"pattern": r"^\d{4}-\d{4}$"},
    },
    "as_of": {
        "type": "string",
        "title": "Date d'arrêté des chiffres",
        "title_ar": "تاريخ حصر الأرقام",
        "description": "Mois auquel les chiffres du rapport sont arrêtés, sous la forme AAAA-MM.",
        "description_ar": "الشهر الذي حُصرت فيه أرقام التقرير، على شكل السنة ثم الشهر (مثلًا 2023-07).",
        "constraints": {"pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
    },
    "language": {
        "type": "string",
        "title": "Langue",
        "title_ar": "اللغة",
        "description": "Langue du rapport (code ISO 639-1), déduite du texte.",
        "description_ar": "لغة التقرير (رمز ISO 639-1)، مستنتجة من النص.",
        "constraints": {"pattern": r"^[a-z]{2,3}$"},
    },
    "source_file": {
        "type": "string",
        "title": "Fichier source",
        "title_ar": "الملف المصدر",
        "description": "Nom du fichier texte d'où proviennent les données.",
        "description_ar": "اسم الملف النصي الذي استُخرجت منه البيانات.",
    },
    "source_sha256": {
        "type": "string",
        "title": "Empreinte SHA-256 de la source",
        "title_ar": "بصمة SHA-256 للمصدر",
        "description": "Empreinte SHA-256 (hexadécimale) des octets du fichier source.",
        "description_ar": "بصمة SHA-256 (بالنظام الست عشري) لبايتات الملف المصدر.",
        "constraints": {"pattern": r"^[0-9a-f]{64}$"},
    },
    "source_encoding": {
        "type": "string",
        "title": "Encodage de la source",
        "title_ar": "ترميز المصدر",
        "description": "Encodage dans lequel le fichier source a été lu (utf-8, utf-8-sig, cp1252).",
        "description_ar": "الترميز الذي قُرئ به الملف المصدر (utf-8 أو utf-8-sig أو cp1252).",
    },
    "line_count": {
        "type": "integer",
        "title": "Nombre de lignes",
        "title_ar": "عدد الأسطر",
        "description": "Nombre de lignes du fichier source.",
        "description_ar": "عدد أسطر الملف المصدر.",
        "constraints": {"minimum": 0},
    },
    "commitment_count": {
        "type": "integer",
        "title": "Nombre d'engagements",
        "title_ar": "عدد الالتزامات",
        "description": "Nombre d'engagements trouvés dans le corps du rapport.",
        "description_ar": "عدد الالتزامات الواردة في متن التقرير.",
        "constraints": {"minimum": 0},
    },
    "activity_count": {
        "type": "integer",
        "title": "Nombre d'activités",
        "title_ar": "عدد الأنشطة",
        "description": "Nombre d'activités trouvées dans le corps du rapport.",
        "description_ar": "عدد الأنشطة الواردة في متن التقرير.",
        "constraints": {"minimum": 0},
    },
    "axis_no": {
        "type": "integer",
        "title": "Numéro de l'axe",
        "title_ar": "رقم المحور",
        "description": "Rang de l'axe dans la présentation du plan d'action (à partir de 1).",
        "description_ar": "ترتيب المحور في عرض خطة العمل (ابتداءً من 1).",
        "constraints": {"minimum": 1},
    },
    "name": {
        "type": "string",
        "title": "Nom",
        "title_ar": "الاسم",
        "description": "Nom tel qu'imprimé dans le rapport.",
        "description_ar": "الاسم كما ورد في التقرير.",
    },
    "commitment_no": {
        "type": "integer",
        "title": "Numéro de l'engagement",
        "title_ar": "رقم الالتزام",
        "description": "Numéro de l'engagement dans le plan d'action (ENGAGEMENT N).",
        "description_ar": "رقم الالتزام في خطة العمل (العنوان «ENGAGEMENT N» في التقرير).",
        "constraints": {"minimum": 1},
    },
    "responsible_body": {
        "type": "string",
        "title": "Organisme responsable",
        "title_ar": "الجهة المسؤولة",
        "description": "Organisme responsable de la mise en œuvre de l'engagement ; "
        "vide si le rapport ne le donne pas.",
        "description_ar": "الجهة المسؤولة عن تنفيذ الالتزام؛ يبقى الحقل فارغًا إذا لم يذكرها التقرير.",
    },
    "problem": {
        "type": "string",
        "title": "Problématique",
        "title_ar": "الإشكالية",
        "description": "Texte de la rubrique « Problématique » de l'engagement.",
        "description_ar": "نص خانة «الإشكالية» (Problématique) في بطاقة الالتزام.",
    },
    "solution": {
        "type": "string",
        "title": "Solution proposée",
        "title_ar": "الحل المقترح",
        "description": "Texte de la rubrique « Solution proposée » de l'engagement.",
        "description_ar": "نص خانة «الحل المقترح» (Solution proposée) في بطاقة الالتزام.",
    },
    "expected_result": {
        "type": "string",
        "title": "Résultat attendu",
        "title_ar": "النتيجة المنتظرة",
        "description": "Texte de la rubrique « Résultat attendu » de l'engagement.",
        "description_ar": "نص خانة «النتيجة المنتظرة» (Résultat attendu) في بطاقة الالتزام.",
    },
    "activity_no": {
        "type": "integer",
        "title": "Numéro de l'activité",
        "title_ar": "رقم النشاط",
        "description": "Numéro de l'activité dans son engagement (Activité K).",
        "description_ar": "رقم النشاط داخل الالتزام الذي ينتمي إليه (العنوان «Activité K» في التقرير).",
        "constraints": {"minimum": 1},
    },
    "status": {
        "type": "string",
        "title": "Statut",
        "title_ar": "الحالة",
        "description": "État d'avancement coché dans le rapport : not_started (non entamée), "
        "limited (progression limitée), substantial (progression significative), "
        "complete (complétée) ou unknown (coche perdue, double ou illisible).",
        "description_ar": "حالة التقدم المؤشَّر عليها في التقرير: not_started (لم يبدأ)، limited (تقدم محدود)، "
        "substantial (تقدم ملموس)، complete (مكتمل) أو unknown (علامة مفقودة أو مزدوجة أو غير مقروءة).",
        "constraints": {"enum": STATUS_VALUES},
    },
    "band_min_pct": {
        "type": "number",
        "title": "Borne basse de la tranche (%)",
        "title_ar": "الحد الأدنى للشريحة (%)",
        "description": "Borne basse de la tranche d'avancement correspondant au statut.",
        "description_ar": "الحد الأدنى لشريحة التقدم المقابلة للحالة.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "band_max_pct": {
        "type": "number",
        "title": "Borne haute de la tranche (%)",
        "title_ar": "الحد الأعلى للشريحة (%)",
        "description": "Borne haute de la tranche d'avancement correspondant au statut.",
        "description_ar": "الحد الأعلى لشريحة التقدم المقابلة للحالة.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "is_status_checked": {
        "type": "boolean",
        "title": "Statut coché",
        "title_ar": "الحالة مؤشَّر عليها",
        "description": "Vrai si une et une seule case du statut est cochée dans le rapport.",
        "description_ar": "صحيح إذا أُشِّر في التقرير على خانة واحدة فقط من خانات الحالة.",
    },
    "actions_text": {
        "type": "string",
        "title": "Actions réalisées",
        "title_ar": "الإجراءات المنجزة",
        "description": "Texte des actions réalisées rattachées à l'activité, un élément par ligne, sans puces.",
        "description_ar": "نص الإجراءات المنجزة المرتبطة بالنشاط، عنصر واحد في كل سطر، دون علامات التعداد.",
    },
    "source_line": {
        "type": "integer",
        "title": "Ligne source",
        "title_ar": "سطر المصدر",
        "description": "Numéro (à partir de 1) de la ligne du fichier source d'où vient l'enregistrement.",
        "description_ar": "رقم السطر (ابتداءً من 1) في الملف المصدر الذي جاء منه السجل.",
        "constraints": {"minimum": 1},
    },
    "source_line_start": {
        "type": "integer",
        "title": "Première ligne source",
        "title_ar": "أول سطر في المصدر",
        "description": "Numéro (à partir de 1) de la première ligne de la section dans le fichier source.",
        "description_ar": "رقم أول سطر من القسم في الملف المصدر (ابتداءً من 1).",
        "constraints": {"minimum": 1},
    },
    "source_line_end": {
        "type": "integer",
        "title": "Dernière ligne source",
        "title_ar": "آخر سطر في المصدر",
        "description": "Numéro (à partir de 1) de la dernière ligne de la section dans le fichier source.",
        "description_ar": "رقم آخر سطر من القسم في الملف المصدر (ابتداءً من 1).",
        "constraints": {"minimum": 1},
    },
    "indicator_no": {
        "type": "integer",
        "title": "Numéro de l'indicateur",
        "title_ar": "رقم المؤشر",
        "description": "Rang de l'indicateur dans la liste de son engagement (à partir de 1).",
        "description_ar": "ترتيب المؤشر في قائمة مؤشرات الالتزام (ابتداءً من 1).",
        "constraints": {"minimum": 1},
    },
    "label": {
        "type": "string",
        "title": "Libellé",
        "title_ar": "التسمية",
        "description": "Libellé de l'indicateur tel qu'imprimé, lignes jointes.",
        "description_ar": "تسمية المؤشر كما وردت في التقرير، بعد ضمّ أسطرها.",
    },
    "raw_value": {
        "type": "string",
        "title": "Valeur brute",
        "title_ar": "القيمة الخام",
        "description": "Valeur de l'indicateur telle qu'imprimée dans le rapport.",
        "description_ar": "قيمة المؤشر كما وردت في التقرير.",
    },
    "value": {
        "type": "number",
        "title": "Valeur",
        "title_ar": "القيمة",
        "description": "Valeur numérique de l'indicateur ; vide si la valeur imprimée n'est pas un nombre.",
        "description_ar": "القيمة العددية للمؤشر؛ تبقى فارغة إذا لم تكن القيمة الواردة في التقرير عددًا.",
    },
    "unit": {
        "type": "string",
        "title": "Unité",
        "title_ar": "الوحدة",
        "description": "Unité de la valeur : percent si un signe % est imprimé, vide sinon.",
        "description_ar": "وحدة القيمة: percent إذا وردت علامة %، وتبقى فارغة في غير ذلك.",
        "constraints": {"enum": UNIT_VALUES},
    },
    "kind": {
        "type": "string",
        "title": "Nature de l'indicateur",
        "title_ar": "نوع المؤشر",
        "description": "Nature déduite du libellé : count (« Nombre… »), rate (« Taux… », « Pourcentage… ») ou other.",
        "description_ar": "النوع المستنتج من التسمية: count (عدد، «Nombre…»)، rate (نسبة، «Taux…» أو «Pourcentage…») "
        "أو other (غير ذلك).",
        "constraints": {"enum": KIND_VALUES},
    },
    "scope": {
        "type": "string",
        "title": "Portée",
        "title_ar": "النطاق",
        "description": "Ce que mesure le taux : plan (le plan entier), axis (un axe) ou commitment (un engagement).",
        "description_ar": "ما تقيسه النسبة: plan (الخطة بأكملها)، axis (محور) أو commitment (التزام).",
        "constraints": {"enum": SCOPE_VALUES},
    },
    "scope_no": {
        "type": "integer",
        "title": "Numéro dans la portée",
        "title_ar": "الرقم داخل النطاق",
        "description": "Numéro de l'axe ou de l'engagement ; 0 pour le plan entier.",
        "description_ar": "رقم المحور أو الالتزام؛ 0 للخطة بأكملها.",
        "constraints": {"minimum": 0},
    },
    "rate_pct": {
        "type": "number",
        "title": "Taux (%)",
        "title_ar": "النسبة (%)",
        "description": "Taux d'avancement en pourcentage.",
        "description_ar": "نسبة الإنجاز، بالنسبة المئوية.",
        "unit": "%",
    },
    "finding_no": {
        "type": "integer",
        "title": "Numéro du constat",
        "title_ar": "رقم الملاحظة",
        "description": "Rang du constat dans le rapport et l'étape qui l'ont produit (à partir de 1).",
        "description_ar": "ترتيب الملاحظة ضمن التقرير والمرحلة اللذين أنتجاها (ابتداءً من 1).",
        "constraints": {"minimum": 1},
    },
    "stage": {
        "type": "string",
        "title": "Étape",
        "title_ar": "المرحلة",
        "description": "Étape de la chaîne de traitement qui a fait le constat.",
        "description_ar": "مرحلة سلسلة المعالجة التي سجّلت الملاحظة.",
        "constraints": {"enum": STAGE_VALUES},
    },
    "severity": {
        "type": "string",
        "title": "Gravité",
        "title_ar": "درجة الخطورة",
        "description": "Gravité du constat : error, warning ou info.",
        "description_ar": "درجة خطورة الملاحظة: error (خطأ)، warning (تنبيه) أو info (معلومة).",
        "constraints": {"enum": SEVERITY_VALUES},
    },
    "code": {
        "type": "string",
        "title": "Code du constat",
        "title_ar": "رمز الملاحظة",
        "description": "Code stable du type de constat (voir docs/data-dictionary.md).",
        "description_ar": "رمز ثابت لنوع الملاحظة (انظر docs/data-dictionary.md).",
        "constraints": {"pattern": r"^[a-z][a-z0-9_]*$"},
    },
    "message": {
        "type": "string",
        "title": "Message",
        "title_ar": "الرسالة",
        "description": "Description lisible du constat.",
        "description_ar": "وصف مقروء للملاحظة (بالفرنسية).",
    },
    "table_name": {
        "type": "string",
        "title": "Table concernée",
        "title_ar": "الجدول المعني",
        "description": "Table dont un enregistrement est concerné par le constat, s'il y en a une.",
        "description_ar": "الجدول الذي يوجد فيه السجل المعني بالملاحظة، إن وُجد.",
    },
    "record_key": {
        "type": "string",
        "title": "Clé de l'enregistrement",
        "title_ar": "مفتاح السجل",
        "description": "Clé de l'enregistrement concerné, sous la forme colonne=valeur séparées par des virgules.",
        "description_ar": "مفتاح السجل المعني، على شكل عمود=قيمة تفصل بينها فواصل.",
    },
    "rate_min_pct": {
        "type": "number",
        "title": "Taux minimal (%)",
        "title_ar": "النسبة الدنيا (%)",
        "description": "Borne basse du taux calculé : chaque activité au bas de la tranche de son statut, "
        "une activité de statut inconnu comptée à 0 %.",
        "description_ar": "الحد الأدنى للنسبة المحسوبة: كل نشاط في أدنى شريحة حالته، ويُحتسب النشاط ذو الحالة غير "
        "المعروفة بـ 0 %.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "rate_max_pct": {
        "type": "number",
        "title": "Taux maximal (%)",
        "title_ar": "النسبة القصوى (%)",
        "description": "Borne haute du taux calculé : chaque activité au haut de la tranche de son statut, "
        "une activité de statut inconnu comptée à 100 %.",
        "description_ar": "الحد الأعلى للنسبة المحسوبة: كل نشاط في أعلى شريحة حالته، ويُحتسب النشاط ذو الحالة غير "
        "المعروفة بـ 100 %.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "published_rate_pct": {
        "type": "number",
        "title": "Taux publié (%)",
        "title_ar": "النسبة المنشورة (%)",
        "description": "Taux d'avancement publié par le rapport.",
        "description_ar": "نسبة الإنجاز التي نشرها التقرير.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "within_bounds": {
        "type": "boolean",
        "title": "Dans l'intervalle calculé",
        "title_ar": "داخل المجال المحسوب",
        "description": "Vrai si le taux publié est compris entre le taux minimal et le taux maximal calculés.",
        "description_ar": "صحيح إذا كانت النسبة المنشورة بين النسبة الدنيا والنسبة القصوى المحسوبتين.",
    },
    "gap_pct_points": {
        "type": "number",
        "title": "Écart (points de pourcentage)",
        "title_ar": "الفارق (نقاط مئوية)",
        "description": "Taux publié moins taux calculé, en points de pourcentage.",
        "description_ar": "النسبة المنشورة ناقص النسبة المحسوبة، بالنقاط المئوية.",
        "unit": "points de %",
    },
    "unknown_activity_count": {
        "type": "integer",
        "title": "Activités de statut inconnu",
        "title_ar": "الأنشطة المجهولة الحالة",
        "description": "Nombre d'activités dont le statut n'a pas pu être lu.",
        "description_ar": "عدد الأنشطة التي تعذّرت قراءة حالتها.",
        "constraints": {"minimum": 0},
    },
    "aggregation": {
        "type": "string",
        "title": "Méthode d'agrégation",
        "title_ar": "طريقة التجميع",
        "description": "Méthode d'agrégation des taux des engagements vers l'axe et le plan.",
        "description_ar": "طريقة تجميع نسب الالتزامات على مستوى المحور والخطة.",
    },
    "weight": {
        "type": "number",
        "title": "Poids de l'activité",
        "title_ar": "وزن النشاط",
        "description": "Poids de l'activité dans la moyenne pondérée de son engagement (strictement positif) : "
        "1 par défaut, ou la valeur du fichier raw/<report_id>.weights.csv.",
        "description_ar": "وزن النشاط في المتوسط المرجّح لالتزامه (موجب قطعًا): 1 افتراضيًا، أو القيمة الواردة في الملف "
        "raw/<report_id>.weights.csv.",
        "constraints": {"minimum": 0},
    },
    "implied_rate_min_pct": {
        "type": "number",
        "title": "Taux minimal compatible (%)",
        "title_ar": "أدنى نسبة متوافقة (%)",
        "description": "Plus petite valeur du taux manquant qui, avec les autres taux publiés et la méthode "
        "d'agrégation, redonne le taux global publié arrondi à l'unité ; vide si aucune valeur ne le fait.",
        "description_ar": "أصغر قيمة للنسبة غير المنشورة تُعيد، مع النسب المنشورة الأخرى وطريقة التجميع، النسبةَ "
        "الإجمالية المنشورة مقرَّبةً إلى الوحدة؛ تبقى فارغة إذا لم تُعِدها أي قيمة.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "implied_rate_max_pct": {
        "type": "number",
        "title": "Taux maximal compatible (%)",
        "title_ar": "أعلى نسبة متوافقة (%)",
        "description": "Plus grande valeur du taux manquant qui, avec les autres taux publiés et la méthode "
        "d'agrégation, redonne le taux global publié arrondi à l'unité ; vide si aucune valeur ne le fait.",
        "description_ar": "أكبر قيمة للنسبة غير المنشورة تُعيد، مع النسب المنشورة الأخرى وطريقة التجميع، النسبةَ "
        "الإجمالية المنشورة مقرَّبةً إلى الوحدة؛ تبقى فارغة إذا لم تُعِدها أي قيمة.",
        "unit": "%",
        "constraints": {"minimum": 0, "maximum": 100},
    },
    "is_consistent": {
        "type": "boolean",
        "title": "Compatible avec le taux publié",
        "title_ar": "متوافق مع النسبة المنشورة",
        "description": "Vrai si une valeur entre 0 et 100 % du taux manquant rend les taux publiés "
        "compatibles avec la méthode d'agrégation.",
        "description_ar": "صحيح إذا وُجدت قيمة بين 0 و100 % للنسبة غير المنشورة تجعل النسب المنشورة متوافقة مع طريقة "
        "التجميع.",
    },
}
