-- What moved: successive reports of one plan, and plans with each other.
--
-- Two reports belong to the same plan when reports.plan_period is equal; they are
-- ordered by as_of (then report_id). A report without plan_period or as_of is left out:
-- nothing is guessed. Each report is compared with the one just before it.
--
-- Pairs are made on numbers only, and kept only where the titles agree:
--   TITLE_MATCH_THRESHOLD = 0.85 (pipeline.compute.TITLE_MATCH_THRESHOLD; a test keeps
--   the two equal): jaro_winkler_similarity of the lower-cased, trimmed titles. An
--   activity pair is matched when its commitments' titles and its own titles both reach
--   the threshold; otherwise it is listed in activity_pairs with is_matched false (and
--   a compute finding activity_pair_unmatched on the later report).
--
-- Status order for the movement: not_started < limited < substantial < complete. An
-- unknown status on either side gives the movement 'unknown' (neither advanced, stalled
-- nor went back).

CREATE VIEW report_pairs AS
WITH
reports_input AS (
    SELECT report_id, plan_period, as_of FROM reports
    WHERE plan_period IS NOT NULL AND as_of IS NOT NULL
),

ordered AS (
    SELECT
        plan_period,
        report_id,
        as_of,
        lag(report_id) OVER (PARTITION BY plan_period ORDER BY as_of, report_id) AS earlier_report_id,
        lag(as_of) OVER (PARTITION BY plan_period ORDER BY as_of, report_id) AS earlier_as_of
    FROM reports_input
)

SELECT
    plan_period,
    earlier_report_id,
    earlier_as_of,
    report_id AS later_report_id,
    as_of AS later_as_of
FROM ordered
WHERE earlier_report_id IS NOT NULL
ORDER BY plan_period, later_as_of, later_report_id;

COMMENT ON VIEW report_pairs IS
    'Rapports successifs d''un même plan (même période, ordonnés par mois d''arrêté) : '
    'chaque rapport et celui qui le précède. Les rapports sans période ou sans mois sont écartés.';
COMMENT ON COLUMN report_pairs.plan_period IS 'Période du plan commune aux deux rapports (AAAA-AAAA).';
COMMENT ON COLUMN report_pairs.earlier_report_id IS 'Identifiant du rapport antérieur.';
COMMENT ON COLUMN report_pairs.earlier_as_of IS 'Mois d''arrêté des chiffres du rapport antérieur (AAAA-MM).';
COMMENT ON COLUMN report_pairs.later_report_id IS 'Identifiant du rapport ultérieur.';
COMMENT ON COLUMN report_pairs.later_as_of IS 'Mois d''arrêté des chiffres du rapport ultérieur (AAAA-MM).';


CREATE VIEW activity_pairs AS
WITH
report_pairs_input AS (
    SELECT plan_period, earlier_report_id, later_report_id FROM report_pairs
),

commitments_input AS (
    SELECT report_id, commitment_no, title FROM commitments
),

activities_input AS (
    SELECT report_id, commitment_no, activity_no, title, status, source_line FROM activities
),

paired AS (
    SELECT
        report_pairs_input.plan_period,
        report_pairs_input.earlier_report_id,
        report_pairs_input.later_report_id,
        later_activities.commitment_no,
        later_activities.activity_no,
        earlier_commitments.title AS earlier_commitment_title,
        later_commitments.title AS later_commitment_title,
        earlier_activities.title AS earlier_title,
        later_activities.title AS later_title,
        earlier_activities.status AS status_before,
        later_activities.status AS status_after,
        later_activities.source_line,
        jaro_winkler_similarity(
            lower(trim(earlier_commitments.title)), lower(trim(later_commitments.title))
        ) AS commitment_title_score,
        jaro_winkler_similarity(
            lower(trim(earlier_activities.title)), lower(trim(later_activities.title))
        ) AS title_score
    FROM report_pairs_input
    INNER JOIN activities_input AS later_activities
        ON later_activities.report_id = report_pairs_input.later_report_id
    INNER JOIN activities_input AS earlier_activities
        ON earlier_activities.report_id = report_pairs_input.earlier_report_id
        AND earlier_activities.commitment_no = later_activities.commitment_no
        AND earlier_activities.activity_no = later_activities.activity_no
    LEFT JOIN commitments_input AS earlier_commitments
        ON earlier_commitments.report_id = earlier_activities.report_id
        AND earlier_commitments.commitment_no = earlier_activities.commitment_no
    LEFT JOIN commitments_input AS later_commitments
        ON later_commitments.report_id = later_activities.report_id
        AND later_commitments.commitment_no = later_activities.commitment_no
)

SELECT
    *,
    coalesce(commitment_title_score >= 0.85 AND title_score >= 0.85, FALSE) AS is_matched
FROM paired
ORDER BY plan_period, later_report_id, commitment_no, activity_no;

COMMENT ON VIEW activity_pairs IS
    'Chaque paire d''activités de même numéro (engagement, activité) de deux rapports successifs '
    'd''un même plan, avec la similarité de leurs intitulés (Jaro-Winkler, en minuscules) ; '
    'appariée seulement si les intitulés des engagements et des activités atteignent le seuil 0,85.';
COMMENT ON COLUMN activity_pairs.plan_period IS 'Période du plan commune aux deux rapports (AAAA-AAAA).';
COMMENT ON COLUMN activity_pairs.earlier_report_id IS 'Identifiant du rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_report_id IS 'Identifiant du rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.commitment_no IS 'Numéro de l''engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_pairs.activity_no IS 'Numéro de l''activité dans son engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_pairs.earlier_commitment_title IS 'Intitulé de l''engagement dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_commitment_title IS 'Intitulé de l''engagement dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.earlier_title IS 'Intitulé de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_title IS 'Intitulé de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.status_before IS 'Statut de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.status_after IS 'Statut de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.source_line IS 'Ligne (à partir de 1) de l''en-tête de l''activité dans le fichier du rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.commitment_title_score IS 'Similarité Jaro-Winkler (0 à 1) des intitulés des deux engagements, en minuscules.';
COMMENT ON COLUMN activity_pairs.title_score IS 'Similarité Jaro-Winkler (0 à 1) des intitulés des deux activités, en minuscules.';
COMMENT ON COLUMN activity_pairs.is_matched IS 'Vrai si les deux similarités atteignent le seuil 0,85 : la paire est comparée.';


CREATE VIEW activity_transitions AS
WITH
matched_pairs AS (
    SELECT
        plan_period, earlier_report_id, later_report_id, commitment_no, activity_no,
        status_before, status_after, title_score, source_line
    FROM activity_pairs
    WHERE is_matched
),

ranked AS (
    SELECT
        *,
        list_position(['not_started', 'limited', 'substantial', 'complete'], status_before) AS rank_before,
        list_position(['not_started', 'limited', 'substantial', 'complete'], status_after) AS rank_after
    FROM matched_pairs
)

SELECT
    plan_period,
    earlier_report_id,
    later_report_id,
    commitment_no,
    activity_no,
    status_before,
    status_after,
    CASE
        WHEN rank_before IS NULL OR rank_after IS NULL THEN 'unknown'
        WHEN rank_after > rank_before THEN 'advanced'
        WHEN rank_after = rank_before THEN 'stalled'
        ELSE 'went_back'
    END AS movement,
    title_score,
    source_line
FROM ranked
ORDER BY plan_period, later_report_id, commitment_no, activity_no;

COMMENT ON VIEW activity_transitions IS
    'Évolution du statut de chaque activité appariée entre deux rapports successifs d''un même plan '
    '(ordre : non démarrée < limitée < substantielle < complétée ; statut inconnu d''un côté : « unknown »).';
COMMENT ON COLUMN activity_transitions.plan_period IS 'Période du plan commune aux deux rapports (AAAA-AAAA).';
COMMENT ON COLUMN activity_transitions.earlier_report_id IS 'Identifiant du rapport antérieur.';
COMMENT ON COLUMN activity_transitions.later_report_id IS 'Identifiant du rapport ultérieur.';
COMMENT ON COLUMN activity_transitions.commitment_no IS 'Numéro de l''engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_transitions.activity_no IS 'Numéro de l''activité dans son engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_transitions.status_before IS 'Statut de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_transitions.status_after IS 'Statut de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_transitions.movement IS
    'Mouvement : advanced (a progressé), stalled (inchangé), went_back (a reculé), unknown (statut inconnu d''un côté).';
COMMENT ON COLUMN activity_transitions.title_score IS 'Similarité Jaro-Winkler (0 à 1) des intitulés des deux activités, en minuscules.';
COMMENT ON COLUMN activity_transitions.source_line IS 'Ligne (à partir de 1) de l''en-tête de l''activité dans le fichier du rapport ultérieur.';


CREATE VIEW commitment_trend AS
WITH
plans_with_several_reports AS (
    SELECT DISTINCT plan_period FROM report_pairs
),

reports_input AS (
    SELECT reports.report_id, reports.plan_period, reports.as_of
    FROM reports
    INNER JOIN plans_with_several_reports ON plans_with_several_reports.plan_period = reports.plan_period
    WHERE reports.as_of IS NOT NULL
),

published_commitment_rates AS (
    SELECT report_id, scope_no AS commitment_no, rate_pct AS published_rate_pct
    FROM published_rates
    WHERE scope = 'commitment'
)

SELECT
    reports_input.plan_period,
    reports_input.as_of,
    commitment_progress.report_id,
    commitment_progress.commitment_no,
    commitments.title,
    commitment_progress.rate_pct,
    commitment_progress.rate_min_pct,
    commitment_progress.rate_max_pct,
    published_commitment_rates.published_rate_pct
FROM commitment_progress
INNER JOIN reports_input ON reports_input.report_id = commitment_progress.report_id
LEFT JOIN commitments
    ON commitments.report_id = commitment_progress.report_id
    AND commitments.commitment_no = commitment_progress.commitment_no
LEFT JOIN published_commitment_rates
    ON published_commitment_rates.report_id = commitment_progress.report_id
    AND published_commitment_rates.commitment_no = commitment_progress.commitment_no
ORDER BY reports_input.plan_period, commitment_progress.commitment_no, reports_input.as_of, commitment_progress.report_id;

COMMENT ON VIEW commitment_trend IS
    'Taux de chaque engagement rapport après rapport, pour les plans évalués plus d''une fois : '
    'taux calculé et son intervalle, taux publié.';
COMMENT ON COLUMN commitment_trend.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN commitment_trend.as_of IS 'Mois d''arrêté des chiffres du rapport (AAAA-MM).';
COMMENT ON COLUMN commitment_trend.rate_pct IS 'Taux d''avancement calculé de l''engagement (%), statuts inconnus exclus.';
COMMENT ON COLUMN commitment_trend.rate_min_pct IS 'Borne basse du taux calculé (%) : chaque activité au bas de sa bande.';
COMMENT ON COLUMN commitment_trend.rate_max_pct IS 'Borne haute du taux calculé (%) : chaque activité en haut de sa bande.';
COMMENT ON COLUMN commitment_trend.published_rate_pct IS 'Taux de réalisation publié dans le rapport (%), vide s''il manque.';


CREATE VIEW plan_trend AS
WITH
plans_with_several_reports AS (
    SELECT DISTINCT plan_period FROM report_pairs
),

reports_input AS (
    SELECT reports.report_id, reports.plan_period, reports.as_of
    FROM reports
    INNER JOIN plans_with_several_reports ON plans_with_several_reports.plan_period = reports.plan_period
    WHERE reports.as_of IS NOT NULL
),

published_plan_rates AS (
    SELECT report_id, rate_pct AS published_rate_pct FROM published_rates WHERE scope = 'plan'
)

SELECT
    reports_input.plan_period,
    reports_input.as_of,
    reports_input.report_id,
    row_number() OVER (PARTITION BY reports_input.plan_period ORDER BY reports_input.as_of, reports_input.report_id)
        AS report_order,
    plan_progress.rate_pct,
    plan_progress.rate_min_pct,
    plan_progress.rate_max_pct,
    published_plan_rates.published_rate_pct
FROM reports_input
LEFT JOIN plan_progress ON plan_progress.report_id = reports_input.report_id
LEFT JOIN published_plan_rates ON published_plan_rates.report_id = reports_input.report_id
ORDER BY reports_input.plan_period, reports_input.as_of, reports_input.report_id;

COMMENT ON VIEW plan_trend IS
    'Taux global du plan rapport après rapport, pour les plans évalués plus d''une fois : '
    'taux calculé et son intervalle, taux global publié.';
COMMENT ON COLUMN plan_trend.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN plan_trend.as_of IS 'Mois d''arrêté des chiffres du rapport (AAAA-MM).';
COMMENT ON COLUMN plan_trend.report_order IS 'Rang du rapport dans son plan (1 : le plus ancien).';
COMMENT ON COLUMN plan_trend.rate_pct IS 'Taux global calculé du plan (%), statuts inconnus exclus.';
COMMENT ON COLUMN plan_trend.rate_min_pct IS 'Borne basse du taux global calculé (%).';
COMMENT ON COLUMN plan_trend.rate_max_pct IS 'Borne haute du taux global calculé (%).';
COMMENT ON COLUMN plan_trend.published_rate_pct IS 'Taux d''avancement global publié dans le rapport (%), vide s''il manque.';


CREATE VIEW carried_over AS
WITH
reports_input AS (
    SELECT report_id, plan_period FROM reports WHERE plan_period IS NOT NULL
),

commitments_input AS (
    SELECT
        commitments.report_id, reports_input.plan_period, commitments.commitment_no, commitments.title
    FROM commitments
    INNER JOIN reports_input ON reports_input.report_id = commitments.report_id
),

scored AS (
    SELECT
        earlier.plan_period AS earlier_plan_period,
        earlier.report_id AS earlier_report_id,
        earlier.commitment_no AS earlier_commitment_no,
        earlier.title AS earlier_title,
        later.plan_period AS later_plan_period,
        later.report_id AS later_report_id,
        later.commitment_no AS later_commitment_no,
        later.title AS later_title,
        jaro_winkler_similarity(lower(trim(earlier.title)), lower(trim(later.title))) AS title_score
    FROM commitments_input AS later
    INNER JOIN commitments_input AS earlier ON earlier.plan_period < later.plan_period
)

SELECT *
FROM scored
WHERE title_score >= 0.85
ORDER BY later_plan_period, later_report_id, later_commitment_no, title_score DESC, earlier_report_id, earlier_commitment_no;

COMMENT ON VIEW carried_over IS
    'Engagements d''un plan ultérieur dont l''intitulé ressemble à celui d''un engagement d''un plan '
    'antérieur (similarité Jaro-Winkler en minuscules d''au moins 0,85) : reconductions possibles, '
    'à confirmer par l''analyste.';
COMMENT ON COLUMN carried_over.earlier_plan_period IS 'Période du plan antérieur (AAAA-AAAA).';
COMMENT ON COLUMN carried_over.earlier_report_id IS 'Identifiant du rapport du plan antérieur.';
COMMENT ON COLUMN carried_over.earlier_commitment_no IS 'Numéro de l''engagement dans le plan antérieur.';
COMMENT ON COLUMN carried_over.earlier_title IS 'Intitulé de l''engagement dans le plan antérieur.';
COMMENT ON COLUMN carried_over.later_plan_period IS 'Période du plan ultérieur (AAAA-AAAA).';
COMMENT ON COLUMN carried_over.later_report_id IS 'Identifiant du rapport du plan ultérieur.';
COMMENT ON COLUMN carried_over.later_commitment_no IS 'Numéro de l''engagement dans le plan ultérieur.';
COMMENT ON COLUMN carried_over.later_title IS 'Intitulé de l''engagement dans le plan ultérieur.';
COMMENT ON COLUMN carried_over.title_score IS 'Similarité Jaro-Winkler (0 à 1) des deux intitulés, en minuscules.';

-- Activities of two successive reports of a plan that have no activity of the same numbers
-- in the other report (dropped, added or renumbered): they are not compared, and a finding
-- of the later report says so.
CREATE VIEW unpaired_activities AS
WITH
report_pairs_input AS (
    SELECT plan_period, earlier_report_id, later_report_id FROM report_pairs
),

activities_input AS (
    SELECT report_id, commitment_no, activity_no, title, source_line FROM activities
),

sides AS (
    SELECT
        report_pairs_input.plan_period,
        report_pairs_input.earlier_report_id,
        report_pairs_input.later_report_id,
        'earlier' AS side,
        report_pairs_input.earlier_report_id AS report_id,
        report_pairs_input.later_report_id AS other_report_id
    FROM report_pairs_input
    UNION ALL
    SELECT
        report_pairs_input.plan_period,
        report_pairs_input.earlier_report_id,
        report_pairs_input.later_report_id,
        'later' AS side,
        report_pairs_input.later_report_id AS report_id,
        report_pairs_input.earlier_report_id AS other_report_id
    FROM report_pairs_input
)

SELECT
    sides.plan_period,
    sides.earlier_report_id,
    sides.later_report_id,
    sides.side,
    activities_input.commitment_no,
    activities_input.activity_no,
    activities_input.title,
    activities_input.source_line
FROM sides
INNER JOIN activities_input ON activities_input.report_id = sides.report_id
WHERE NOT EXISTS (
    SELECT 1
    FROM activities_input AS other_activities
    WHERE other_activities.report_id = sides.other_report_id
        AND other_activities.commitment_no = activities_input.commitment_no
        AND other_activities.activity_no = activities_input.activity_no
);

COMMENT ON VIEW unpaired_activities IS
    'Activités de deux rapports successifs d''un même plan sans activité de mêmes numéros dans l''autre '
    'rapport (supprimée, ajoutée ou renumérotée) : elles ne sont pas comparées.';
COMMENT ON COLUMN unpaired_activities.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN unpaired_activities.earlier_report_id IS 'Rapport antérieur de la paire.';
COMMENT ON COLUMN unpaired_activities.later_report_id IS 'Rapport postérieur de la paire.';
COMMENT ON COLUMN unpaired_activities.side IS 'Rapport où figure l''activité : earlier (antérieur) ou later (postérieur).';
COMMENT ON COLUMN unpaired_activities.title IS 'Intitulé de l''activité dans le rapport où elle figure.';
COMMENT ON COLUMN unpaired_activities.source_line IS 'Ligne de l''en-tête de l''activité dans le rapport où elle figure.';
