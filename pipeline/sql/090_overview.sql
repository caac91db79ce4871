-- The analysts' first stop: one row per commitment with everything a question about it
-- usually needs (its title, axis name, responsible body, activities per status, the
-- computed rate and interval beside the published rate), so that the common questions
-- need no join.
CREATE VIEW overview AS
WITH
commitments AS (
    SELECT * FROM commitments
),

axes AS (
    SELECT * FROM axes
),

activity_progress AS (
    SELECT * FROM activity_progress
),

commitment_progress AS (
    SELECT * FROM commitment_progress
),

int_published_commitment_rates AS (
    SELECT * FROM int_published_commitment_rates
),

activity_counts AS (
    SELECT
        report_id,
        commitment_no,
        count(*) FILTER (WHERE status = 'not_started') AS not_started_count,
        count(*) FILTER (WHERE status = 'limited') AS limited_count,
        count(*) FILTER (WHERE status = 'substantial') AS substantial_count,
        count(*) FILTER (WHERE status = 'complete') AS complete_count,
        count(*) FILTER (WHERE status = 'unknown') AS unknown_count
    FROM activity_progress
    GROUP BY report_id, commitment_no
)

SELECT
    commitments.report_id,
    commitments.commitment_no,
    commitments.title,
    commitments.axis_no,
    axes.name AS axis_name,
    commitments.responsible_body,
    commitment_progress.activity_count,
    coalesce(activity_counts.not_started_count, 0) AS not_started_count,
    coalesce(activity_counts.limited_count, 0) AS limited_count,
    coalesce(activity_counts.substantial_count, 0) AS substantial_count,
    coalesce(activity_counts.complete_count, 0) AS complete_count,
    coalesce(activity_counts.unknown_count, 0) AS unknown_count,
    commitment_progress.rate_pct,
    commitment_progress.rate_min_pct,
    commitment_progress.rate_max_pct,
    int_published_commitment_rates.published_rate_pct,
    int_published_commitment_rates.published_rate_pct
    BETWEEN commitment_progress.rate_min_pct AND commitment_progress.rate_max_pct AS is_within_bounds
FROM commitments
LEFT JOIN axes
    ON
        commitments.report_id = axes.report_id
        AND commitments.axis_no = axes.axis_no
LEFT JOIN commitment_progress
    ON
        commitments.report_id = commitment_progress.report_id
        AND commitments.commitment_no = commitment_progress.commitment_no
LEFT JOIN activity_counts
    ON
        commitments.report_id = activity_counts.report_id
        AND commitments.commitment_no = activity_counts.commitment_no
LEFT JOIN int_published_commitment_rates
    ON
        commitments.report_id = int_published_commitment_rates.report_id
        AND commitments.commitment_no = int_published_commitment_rates.commitment_no;

COMMENT ON VIEW overview IS
'Vue d''ensemble : une ligne par engagement avec son intitulé, le nom de son axe, '
'l''organisme responsable, le nombre d''activités par statut, le taux calculé et son '
'intervalle, le taux publié et s''il tient dans l''intervalle. Les questions courantes '
'n''ont besoin d''aucune jointure.';
COMMENT ON COLUMN overview.axis_name IS 'Nom de l''axe de l''engagement (vide : axe inconnu).';
COMMENT ON COLUMN overview.not_started_count IS 'Nombre d''activités « Non démarrée ».';
COMMENT ON COLUMN overview.limited_count IS 'Nombre d''activités « Progression limitée ».';
COMMENT ON COLUMN overview.substantial_count IS 'Nombre d''activités « Progression substantielle ».';
COMMENT ON COLUMN overview.complete_count IS 'Nombre d''activités « Complétée ».';
COMMENT ON COLUMN overview.unknown_count IS
'Nombre d''activités de statut inconnu (coche perdue, doublée ou illisible).';
COMMENT ON COLUMN overview.rate_pct IS 'Taux d''avancement calculé de l''engagement (%), statuts inconnus exclus.';
COMMENT ON COLUMN overview.rate_min_pct IS 'Borne basse du taux calculé (%) : chaque activité au bas de sa bande.';
COMMENT ON COLUMN overview.rate_max_pct IS 'Borne haute du taux calculé (%) : chaque activité en haut de sa bande.';
COMMENT ON COLUMN overview.published_rate_pct IS 'Taux de réalisation publié dans le rapport (%), vide s''il manque.';
COMMENT ON COLUMN overview.is_within_bounds IS 'Vrai si le taux publié tient dans l''intervalle calculé.';
