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
--
-- No view orders its rows: the query that reads one does (pipeline.compute.VIEW_ORDER for
-- the findings and the report page).

CREATE VIEW report_pairs AS
WITH
reports AS (
    SELECT * FROM reports
),

dated_reports AS (
    SELECT
        report_id,
        plan_period,
        as_of
    FROM reports
    WHERE plan_period IS NOT NULL AND as_of IS NOT NULL
),

ordered AS (
    SELECT
        plan_period,
        report_id,
        as_of,
        lag(report_id) OVER (PARTITION BY plan_period ORDER BY as_of, report_id) AS earlier_report_id,
        lag(as_of) OVER (PARTITION BY plan_period ORDER BY as_of, report_id) AS earlier_as_of
    FROM dated_reports
)

SELECT
    plan_period,
    earlier_report_id,
    earlier_as_of,
    report_id AS later_report_id,
    as_of AS later_as_of
FROM ordered
WHERE earlier_report_id IS NOT NULL;

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
report_pairs AS (
    SELECT * FROM report_pairs
),

commitments AS (
    SELECT * FROM commitments
),

activities AS (
    SELECT * FROM activities
),

paired AS (
    SELECT
        report_pairs.plan_period,
        report_pairs.earlier_report_id,
        report_pairs.later_report_id,
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
    FROM report_pairs
    INNER JOIN activities AS later_activities
        ON report_pairs.later_report_id = later_activities.report_id
    INNER JOIN activities AS earlier_activities
        ON
            report_pairs.earlier_report_id = earlier_activities.report_id
            AND later_activities.commitment_no = earlier_activities.commitment_no
            AND later_activities.activity_no = earlier_activities.activity_no
    LEFT JOIN commitments AS earlier_commitments
        ON
            earlier_activities.report_id = earlier_commitments.report_id
            AND earlier_activities.commitment_no = earlier_commitments.commitment_no
    LEFT JOIN commitments AS later_commitments
        ON
            later_activities.report_id = later_commitments.report_id
            AND later_activities.commitment_no = later_commitments.commitment_no
)

SELECT
    plan_period,
    earlier_report_id,
    later_report_id,
    commitment_no,
    activity_no,
    earlier_commitment_title,
    later_commitment_title,
    earlier_title,
    later_title,
    status_before,
    status_after,
    source_line,
    commitment_title_score,
    title_score,
    coalesce(commitment_title_score >= 0.85 AND title_score >= 0.85, FALSE) AS is_matched
FROM paired;

COMMENT ON VIEW activity_pairs IS
'Chaque paire d''activités de même numéro (engagement, activité) de deux rapports successifs '
'd''un même plan, avec la similarité de leurs intitulés (Jaro-Winkler, en minuscules) ; '
'appariée seulement si les intitulés des engagements et des activités atteignent le seuil 0,85.';
COMMENT ON COLUMN activity_pairs.plan_period IS 'Période du plan commune aux deux rapports (AAAA-AAAA).';
COMMENT ON COLUMN activity_pairs.earlier_report_id IS 'Identifiant du rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_report_id IS 'Identifiant du rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.commitment_no IS 'Numéro de l''engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_pairs.activity_no IS
'Numéro de l''activité dans son engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_pairs.earlier_commitment_title IS 'Intitulé de l''engagement dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_commitment_title IS 'Intitulé de l''engagement dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.earlier_title IS 'Intitulé de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.later_title IS 'Intitulé de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.status_before IS 'Statut de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_pairs.status_after IS 'Statut de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.source_line IS
'Ligne (à partir de 1) de l''en-tête de l''activité dans le fichier du rapport ultérieur.';
COMMENT ON COLUMN activity_pairs.commitment_title_score IS
'Similarité Jaro-Winkler (0 à 1) des intitulés des deux engagements, en minuscules.';
COMMENT ON COLUMN activity_pairs.title_score IS
'Similarité Jaro-Winkler (0 à 1) des intitulés des deux activités, en minuscules.';
COMMENT ON COLUMN activity_pairs.is_matched IS
'Vrai si les deux similarités atteignent le seuil 0,85 : la paire est comparée.';


CREATE VIEW activity_transitions AS
WITH
activity_pairs AS (
    SELECT * FROM activity_pairs
),

matched_pairs AS (
    SELECT
        plan_period,
        earlier_report_id,
        later_report_id,
        commitment_no,
        activity_no,
        status_before,
        status_after,
        title_score,
        source_line
    FROM activity_pairs
    WHERE is_matched
),

ranked AS (
    SELECT
        plan_period,
        earlier_report_id,
        later_report_id,
        commitment_no,
        activity_no,
        status_before,
        status_after,
        title_score,
        source_line,
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
FROM ranked;

COMMENT ON VIEW activity_transitions IS
'Évolution du statut de chaque activité appariée entre deux rapports successifs d''un même plan '
'(ordre : non démarrée < limitée < substantielle < complétée ; statut inconnu d''un côté : « unknown »).';
COMMENT ON COLUMN activity_transitions.plan_period IS 'Période du plan commune aux deux rapports (AAAA-AAAA).';
COMMENT ON COLUMN activity_transitions.earlier_report_id IS 'Identifiant du rapport antérieur.';
COMMENT ON COLUMN activity_transitions.later_report_id IS 'Identifiant du rapport ultérieur.';
COMMENT ON COLUMN activity_transitions.commitment_no IS 'Numéro de l''engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_transitions.activity_no IS
'Numéro de l''activité dans son engagement, le même dans les deux rapports.';
COMMENT ON COLUMN activity_transitions.status_before IS 'Statut de l''activité dans le rapport antérieur.';
COMMENT ON COLUMN activity_transitions.status_after IS 'Statut de l''activité dans le rapport ultérieur.';
COMMENT ON COLUMN activity_transitions.movement IS
'Mouvement : advanced (a progressé), stalled (inchangé), went_back (a reculé), unknown (statut inconnu d''un côté).';
COMMENT ON COLUMN activity_transitions.title_score IS
'Similarité Jaro-Winkler (0 à 1) des intitulés des deux activités, en minuscules.';
COMMENT ON COLUMN activity_transitions.source_line IS
'Ligne (à partir de 1) de l''en-tête de l''activité dans le fichier du rapport ultérieur.';


-- Intermediate view: the plans assessed more than once (those of report_pairs), one row
-- per report with its month (read by commitment_trend and plan_trend).
CREATE VIEW int_plans_with_several_reports AS
WITH
reports AS (
    SELECT * FROM reports
),

report_pairs AS (
    SELECT * FROM report_pairs
),

plans_with_several_reports AS (
    SELECT DISTINCT plan_period
    FROM report_pairs
)

SELECT
    reports.report_id,
    reports.plan_period,
    reports.as_of
FROM reports
INNER JOIN plans_with_several_reports ON reports.plan_period = plans_with_several_reports.plan_period
WHERE reports.as_of IS NOT NULL;

COMMENT ON VIEW int_plans_with_several_reports IS
'Vue intermédiaire : les rapports des plans évalués plus d''une fois (ceux de report_pairs), avec leur mois d''arrêté.';
COMMENT ON COLUMN int_plans_with_several_reports.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN int_plans_with_several_reports.as_of IS 'Mois d''arrêté des chiffres du rapport (AAAA-MM).';


CREATE VIEW commitment_trend AS
WITH
int_plans_with_several_reports AS (
    SELECT * FROM int_plans_with_several_reports
),

commitments AS (
    SELECT * FROM commitments
),

commitment_progress AS (
    SELECT * FROM commitment_progress
),

int_published_commitment_rates AS (
    SELECT * FROM int_published_commitment_rates
)

SELECT
    int_plans_with_several_reports.plan_period,
    int_plans_with_several_reports.as_of,
    commitment_progress.report_id,
    commitment_progress.commitment_no,
    commitments.title,
    commitment_progress.rate_pct,
    commitment_progress.rate_min_pct,
    commitment_progress.rate_max_pct,
    int_published_commitment_rates.published_rate_pct
FROM commitment_progress
INNER JOIN int_plans_with_several_reports
    ON commitment_progress.report_id = int_plans_with_several_reports.report_id
LEFT JOIN commitments
    ON
        commitment_progress.report_id = commitments.report_id
        AND commitment_progress.commitment_no = commitments.commitment_no
LEFT JOIN int_published_commitment_rates
    ON
        commitment_progress.report_id = int_published_commitment_rates.report_id
        AND commitment_progress.commitment_no = int_published_commitment_rates.commitment_no;

COMMENT ON VIEW commitment_trend IS
'Taux de chaque engagement rapport après rapport, pour les plans évalués plus d''une fois : '
'taux calculé et son intervalle, taux publié.';
COMMENT ON COLUMN commitment_trend.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN commitment_trend.as_of IS 'Mois d''arrêté des chiffres du rapport (AAAA-MM).';
COMMENT ON COLUMN commitment_trend.rate_pct IS
'Taux d''avancement calculé de l''engagement (%), statuts inconnus exclus.';
COMMENT ON COLUMN commitment_trend.rate_min_pct IS
'Borne basse du taux calculé (%) : chaque activité au bas de sa bande.';
COMMENT ON COLUMN commitment_trend.rate_max_pct IS
'Borne haute du taux calculé (%) : chaque activité en haut de sa bande.';
COMMENT ON COLUMN commitment_trend.published_rate_pct IS
'Taux de réalisation publié dans le rapport (%), vide s''il manque.';


CREATE VIEW plan_trend AS
WITH
int_plans_with_several_reports AS (
    SELECT * FROM int_plans_with_several_reports
),

plan_progress AS (
    SELECT * FROM plan_progress
),

published_rates AS (
    SELECT * FROM published_rates
),

published_plan_rates AS (
    SELECT
        report_id,
        rate_pct AS published_rate_pct
    FROM published_rates
    WHERE scope = 'plan'
)

SELECT
    int_plans_with_several_reports.plan_period,
    int_plans_with_several_reports.as_of,
    int_plans_with_several_reports.report_id,
    row_number() OVER (
        PARTITION BY int_plans_with_several_reports.plan_period
        ORDER BY int_plans_with_several_reports.as_of, int_plans_with_several_reports.report_id
    ) AS report_order,
    plan_progress.rate_pct,
    plan_progress.rate_min_pct,
    plan_progress.rate_max_pct,
    published_plan_rates.published_rate_pct
FROM int_plans_with_several_reports
LEFT JOIN plan_progress ON int_plans_with_several_reports.report_id = plan_progress.report_id
LEFT JOIN published_plan_rates ON int_plans_with_several_reports.report_id = published_plan_rates.report_id;

COMMENT ON VIEW plan_trend IS
'Taux global du plan rapport après rapport, pour les plans évalués plus d''une fois : '
'taux calculé et son intervalle, taux global publié.';
COMMENT ON COLUMN plan_trend.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN plan_trend.as_of IS 'Mois d''arrêté des chiffres du rapport (AAAA-MM).';
COMMENT ON COLUMN plan_trend.report_order IS 'Rang du rapport dans son plan (1 : le plus ancien).';
COMMENT ON COLUMN plan_trend.rate_pct IS 'Taux global calculé du plan (%), statuts inconnus exclus.';
COMMENT ON COLUMN plan_trend.rate_min_pct IS 'Borne basse du taux global calculé (%).';
COMMENT ON COLUMN plan_trend.rate_max_pct IS 'Borne haute du taux global calculé (%).';
COMMENT ON COLUMN plan_trend.published_rate_pct IS
'Taux d''avancement global publié dans le rapport (%), vide s''il manque.';


CREATE VIEW carried_over AS
WITH
reports AS (
    SELECT * FROM reports
),

commitments AS (
    SELECT * FROM commitments
),

plan_commitments AS (
    SELECT
        commitments.report_id,
        reports.plan_period,
        commitments.commitment_no,
        commitments.title
    FROM commitments
    INNER JOIN reports ON commitments.report_id = reports.report_id
    WHERE reports.plan_period IS NOT NULL
),

earlier_commitments AS (
    SELECT
        report_id,
        plan_period,
        commitment_no,
        title
    FROM plan_commitments
),

later_commitments AS (
    SELECT
        report_id,
        plan_period,
        commitment_no,
        title
    FROM plan_commitments
),

scored AS (
    SELECT
        earlier_commitments.plan_period AS earlier_plan_period,
        earlier_commitments.report_id AS earlier_report_id,
        earlier_commitments.commitment_no AS earlier_commitment_no,
        earlier_commitments.title AS earlier_title,
        later_commitments.plan_period AS later_plan_period,
        later_commitments.report_id AS later_report_id,
        later_commitments.commitment_no AS later_commitment_no,
        later_commitments.title AS later_title,
        jaro_winkler_similarity(
            lower(trim(earlier_commitments.title)), lower(trim(later_commitments.title))
        ) AS title_score
    FROM later_commitments
    INNER JOIN earlier_commitments ON later_commitments.plan_period > earlier_commitments.plan_period
)

SELECT
    earlier_plan_period,
    earlier_report_id,
    earlier_commitment_no,
    earlier_title,
    later_plan_period,
    later_report_id,
    later_commitment_no,
    later_title,
    title_score
FROM scored
WHERE title_score >= 0.85;

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
report_pairs AS (
    SELECT * FROM report_pairs
),

activities AS (
    SELECT * FROM activities
),

sides AS (
    SELECT
        plan_period,
        earlier_report_id,
        later_report_id,
        'earlier' AS side,
        earlier_report_id AS report_id,
        later_report_id AS other_report_id
    FROM report_pairs
    UNION ALL
    SELECT
        plan_period,
        earlier_report_id,
        later_report_id,
        'later' AS side,
        later_report_id AS report_id,
        earlier_report_id AS other_report_id
    FROM report_pairs
),

side_activities AS (
    SELECT
        sides.plan_period,
        sides.earlier_report_id,
        sides.later_report_id,
        sides.side,
        sides.other_report_id,
        activities.commitment_no,
        activities.activity_no,
        activities.title,
        activities.source_line
    FROM sides
    INNER JOIN activities ON sides.report_id = activities.report_id
)

SELECT
    side_activities.plan_period,
    side_activities.earlier_report_id,
    side_activities.later_report_id,
    side_activities.side,
    side_activities.commitment_no,
    side_activities.activity_no,
    side_activities.title,
    side_activities.source_line
FROM side_activities
WHERE NOT EXISTS (
    SELECT 1
    FROM activities
    WHERE
        activities.report_id = side_activities.other_report_id
        AND activities.commitment_no = side_activities.commitment_no
        AND activities.activity_no = side_activities.activity_no
);

COMMENT ON VIEW unpaired_activities IS
'Activités de deux rapports successifs d''un même plan sans activité de mêmes numéros dans l''autre '
'rapport (supprimée, ajoutée ou renumérotée) : elles ne sont pas comparées.';
COMMENT ON COLUMN unpaired_activities.plan_period IS 'Période du plan (AAAA-AAAA).';
COMMENT ON COLUMN unpaired_activities.earlier_report_id IS 'Rapport antérieur de la paire.';
COMMENT ON COLUMN unpaired_activities.later_report_id IS 'Rapport postérieur de la paire.';
COMMENT ON COLUMN unpaired_activities.side IS
'Rapport où figure l''activité : earlier (antérieur) ou later (postérieur).';
COMMENT ON COLUMN unpaired_activities.title IS 'Intitulé de l''activité dans le rapport où elle figure.';
COMMENT ON COLUMN unpaired_activities.source_line IS
'Ligne de l''en-tête de l''activité dans le rapport où elle figure.';
