"""The catalogue of finding codes written by ingestion and computation.

Each code of the ``findings`` table has a stage, a severity and a French description
here, so that analysts can read ``docs/data-dictionary.md`` rather than the code. The
validation stage's codes are the names of its checks, listed from there
(:func:`pipeline.validate.validation_checks`). ``tests/test_findings_catalogue.py`` runs
the pipeline on the seed and on generated damaged reports and keeps this catalogue and
the codes emitted in step: every emitted code is catalogued, and every catalogued code is
emitted there or listed in that test with the reason it is not.
"""

from __future__ import annotations

# code: (stage, severity, description)
FINDING_CODES: dict[str, tuple[str, str, str]] = {
    # The file itself
    "file_unreadable": ("ingest", "error", "Le fichier ne peut pas être lu (droits, erreur d'entrée-sortie)."),
    "file_empty": ("ingest", "error", "Le fichier est vide : aucun rapport ingéré."),
    "file_binary": ("ingest", "error", "Le fichier est binaire (octets NUL ou de contrôle), pas du texte de rapport."),
    "file_undecodable": ("ingest", "error", "Le fichier n'est lisible ni en UTF-8 ni en Windows-1252."),
    "invalid_report_id": (
        "ingest",
        "error",
        "Le nom du fichier n'est pas un identifiant de rapport valide (minuscules, chiffres, tirets).",
    ),
    "no_commitment": (
        "ingest",
        "error",
        "Aucun engagement « ENGAGEMENT N : … » dans le corps du texte : ce n'est pas un rapport du modèle.",
    ),
    "decoded_cp1252": ("ingest", "warning", "Le fichier n'est pas en UTF-8 ; il a été lu en Windows-1252."),
    "file_too_large": (
        "ingest",
        "error",
        "Le fichier dépasse la taille maximale d'un rapport (20 Mio ou 200 000 lignes) : aucun rapport ingéré.",
    ),
    "invalid_utf8_bytes": (
        "ingest",
        "warning",
        "Une ligne d'un fichier en UTF-8 contient des octets invalides, remplacés par « \ufffd ».",
    ),
    "invisible_characters_removed": (
        "ingest",
        "info",
        "Des caractères invisibles (trait d'union conditionnel, espace sans chasse…) ont été retirés d'une ligne.",
    ),
    "bidi_controls_removed": (
        "ingest",
        "warning",
        "Des caractères de contrôle de la direction du texte ont été retirés d'une ligne.",
    ),
    "page_furniture_removed": (
        "ingest",
        "info",
        (
            "Des lignes de mise en page (en-têtes et pieds de page répétés, numéros de page, sauts de page) ont été "
            "retirées avant la lecture."
        ),
    ),
    "hyphenation_joined": ("ingest", "info", "Des mots coupés par un trait d'union en fin de ligne ont été rejoints."),
    # Front matter
    "as_of_from_date_line": (
        "ingest",
        "info",
        "Le mois d'arrêté des chiffres est pris de la date du rapport, faute de phrase explicite.",
    ),
    "as_of_missing": ("ingest", "warning", "Le mois auquel les chiffres sont arrêtés est introuvable."),
    "plan_period_inconsistent": (
        "ingest",
        "warning",
        "Le titre et le texte du plan donnent des périodes différentes ; celle du texte est retenue.",
    ),
    "plan_period_missing": ("ingest", "warning", "La période du plan est introuvable."),
    "axes_section_missing": ("ingest", "info", "Pas de section des axes : les engagements n'ont pas d'axe."),
    "axes_section_unreadable": ("ingest", "warning", "La section des axes ne contient aucun axe lisible."),
    "axis_item_unmatched": (
        "ingest",
        "warning",
        "Un intitulé listé sous un axe ne correspond à aucun engagement du rapport.",
    ),
    "commitment_without_axis": (
        "ingest",
        "warning",
        "Un engagement n'apparaît dans la liste d'aucun axe : son axe est inconnu.",
    ),
    "published_plan_rate_missing": ("ingest", "warning", "Le taux d'avancement global publié est introuvable."),
    "published_axis_rates_missing": (
        "ingest",
        "warning",
        "Les taux par axe annoncés (graphique) n'ont pas survécu à l'extraction du texte.",
    ),
    "axis_rate_unmatched": (
        "ingest",
        "warning",
        "Un taux publié sous « Taux d'avancement par axe » ne correspond à aucun axe.",
    ),
    "published_rate_missing": (
        "ingest",
        "warning",
        "Un engagement n'a pas de taux de réalisation dans le tableau publié.",
    ),
    "published_rate_duplicated": (
        "ingest",
        "warning",
        "Un engagement figure deux fois dans le tableau des taux ; la première ligne est retenue.",
    ),
    "commitment_missing_from_body": (
        "ingest",
        "warning",
        "Un engagement annoncé (table des matières, tableau des taux) est absent du corps du rapport.",
    ),
    # Commitments
    "commitment_number_duplicated": ("ingest", "error", "Deux sections portent le même numéro d'engagement."),
    "commitment_without_activities": ("ingest", "warning", "Un engagement n'a aucune activité."),
    "responsible_body_missing": ("ingest", "warning", "L'organisme responsable de l'engagement n'est pas donné."),
    "field_label_missing": (
        "ingest",
        "warning",
        "Une rubrique de la fiche (Problématique, Solution proposée, Résultat attendu) est introuvable.",
    ),
    "field_labels_missing": (
        "ingest",
        "warning",
        "Aucune rubrique de la fiche n'a d'étiquette lisible : leur texte n'est pas attribué.",
    ),
    "field_text_unlabelled": (
        "ingest",
        "warning",
        "Du texte de la fiche précède toute étiquette et n'est attribué à aucune rubrique.",
    ),
    "stray_markup": ("ingest", "info", "Du balisage parasite (HTML, LaTeX) a été retiré d'un titre."),
    "heading_form_variant": (
        "ingest",
        "info",
        (
            "Des en-têtes d'engagement ou d'activité sont écrits autrement que dans le modèle "
            "(« Engagement N°3 - », « Activité 2. ») ; ils ont été lus comme tels."
        ),
    ),
    # Activities
    "activity_heading_duplicated": (
        "ingest",
        "warning",
        "L'en-tête d'une activité est répété ; l'occurrence sans liste de statuts est ignorée.",
    ),
    "activity_number_duplicated": ("ingest", "error", "Deux activités d'un engagement portent le même numéro."),
    "checklist_missing": ("ingest", "warning", "Une activité n'a aucune ligne de statut : statut inconnu."),
    "checklist_incomplete": ("ingest", "info", "Des quatre lignes de statut, certaines sont absentes ou illisibles."),
    "status_line_unrecognised": ("ingest", "warning", "Une ligne de statut est illisible (OCR)."),
    "check_mark_missing": ("ingest", "warning", "Aucune case n'est cochée (coche perdue) : statut inconnu."),
    "multiple_check_marks": ("ingest", "warning", "Plusieurs cases sont cochées : statut inconnu."),
    "checked_status_unreadable": ("ingest", "warning", "La ligne cochée est illisible : statut inconnu."),
    "status_stated_in_words": (
        "ingest",
        "info",
        (
            "Des statuts sont donnés en une ligne (« Statut : Progression limitée ») au lieu de la liste à cocher ; "
            "ils ont été lus comme tels."
        ),
    ),
    "actions_text_reordered": (
        "ingest",
        "info",
        (
            "Le texte des actions réalisées était entrelacé par l'extraction (fragments dans le désordre, passage "
            "répété) ; l'ordre de lecture prouvé par le texte est rétabli et la répétition retirée."
        ),
    ),
    "actions_text_order_unproven": (
        "ingest",
        "warning",
        (
            "Le texte des actions réalisées semble entrelacé par l'extraction, mais le texte ne prouve pas son ordre : "
            "il est gardé tel quel."
        ),
    ),
    # Indicators
    "indicator_heading_mismatch": (
        "ingest",
        "warning",
        "Le titre des indicateurs renvoie à un autre numéro d'engagement.",
    ),
    "indicator_heading_duplicated": (
        "ingest",
        "warning",
        "Un engagement a deux titres d'indicateurs ; seul le premier est lu.",
    ),
    "indicator_value_missing": ("ingest", "warning", "Un indicateur n'a pas de valeur."),
    "indicator_value_not_numeric": ("ingest", "info", "La valeur d'un indicateur n'est pas un nombre."),
    # Computation
    "weights_file_invalid": (
        "compute",
        "error",
        "Le fichier de poids du rapport est inutilisable : le rapport n'est pas publié.",
    ),
    "commitment_without_activity": ("compute", "warning", "Un engagement sans activité n'a pas de taux calculé."),
    "commitment_status_unknown": (
        "compute",
        "warning",
        "Toutes les activités d'un engagement sont de statut inconnu : pas d'estimation ponctuelle.",
    ),
    "axis_without_commitment": ("compute", "warning", "Un axe sans engagement n'a pas de taux calculé."),
    "published_rate_outside_bounds": (
        "compute",
        "warning",
        "Un taux publié sort de l'intervalle que permettent les statuts cochés.",
    ),
    "published_rate_not_computed": ("compute", "warning", "Un taux publié n'a pas de taux calculé correspondant."),
    "missing_rate_range": (
        "compute",
        "info",
        "Les valeurs du taux manquant d'un engagement que permet le taux global publié.",
    ),
    "aggregation_inconsistent": (
        "compute",
        "warning",
        "Aucune valeur du taux manquant ne rend le taux global publié avec l'agrégation configurée.",
    ),
    "computed_table_invalid": (
        "compute",
        "error",
        (
            "Une table calculée enfreint sa définition (schemas/) : une valeur hors de son domaine, une colonne "
            "obligatoire vide, une clé en double. C'est une erreur du calcul, pas du rapport ; le message nomme "
            "le contrôle et la ligne."
        ),
    ),
    # Successive reports of a plan
    "activity_went_back": (
        "compute",
        "warning",
        (
            "Le statut d'une activité a reculé depuis le rapport précédent du même plan (complétée puis limitée, par "
            "exemple)."
        ),
    ),
    "activity_without_counterpart": (
        "compute",
        "info",
        (
            "Une activité de l'un de deux rapports successifs du même plan n'a pas d'activité de mêmes numéros dans "
            "l'autre (supprimée, ajoutée ou renumérotée) : elle n'est pas comparée."
        ),
    ),
    "activity_pair_unmatched": (
        "compute",
        "info",
        (
            "Deux activités de même numéro dans deux rapports successifs du même plan ne sont pas comparées : leurs "
            "intitulés (ou ceux de leurs engagements) sont trop différents (similarité Jaro-Winkler sous 0,85)."
        ),
    ),
}
