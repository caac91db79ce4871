-- Working view: each commitment's weighted rates and the weights behind them, which the
-- axis and plan aggregations need. The point estimate leaves unknown statuses out; the
-- bounds take every activity at its band edge (unknown: 0 and 100). A commitment with
-- no activity has no point estimate and the unknown band as its interval. Sums run in
-- activity order (floating-point sums depend on the order of their terms; see aggregate_rate).
CREATE VIEW commitment_rates AS
WITH
commitments AS (
    SELECT * FROM commitments
),

activity_progress AS (
    SELECT * FROM activity_progress
),

status_bands AS (
    SELECT * FROM status_bands
),

unknown_band AS (
    SELECT
        rate_min_pct,
        rate_max_pct
    FROM status_bands
    WHERE status = 'unknown'
)

SELECT
    commitments.report_id,
    commitments.commitment_no,
    commitments.axis_no,
    count(activity_progress.activity_no) AS activity_count,
    count(activity_progress.activity_no) FILTER (WHERE activity_progress.status = 'unknown') AS unknown_activity_count,
    coalesce(
        sum(activity_progress.weight ORDER BY activity_progress.activity_no)
        FILTER (WHERE activity_progress.rate_pct IS NOT NULL),
        0.0
    ) AS known_weight,
    coalesce(sum(activity_progress.weight ORDER BY activity_progress.activity_no), 0.0) AS total_weight,
    sum(activity_progress.weight * activity_progress.rate_pct ORDER BY activity_progress.activity_no)
    / nullif(
        sum(activity_progress.weight ORDER BY activity_progress.activity_no)
        FILTER (WHERE activity_progress.rate_pct IS NOT NULL),
        0
    ) AS rate_pct,
    coalesce(
        sum(activity_progress.weight * activity_progress.rate_min_pct ORDER BY activity_progress.activity_no)
        / nullif(sum(activity_progress.weight ORDER BY activity_progress.activity_no), 0),
        (SELECT unknown_band.rate_min_pct FROM unknown_band)
    ) AS rate_min_pct,
    coalesce(
        sum(activity_progress.weight * activity_progress.rate_max_pct ORDER BY activity_progress.activity_no)
        / nullif(sum(activity_progress.weight ORDER BY activity_progress.activity_no), 0),
        (SELECT unknown_band.rate_max_pct FROM unknown_band)
    ) AS rate_max_pct
FROM commitments
LEFT JOIN activity_progress
    ON
        commitments.report_id = activity_progress.report_id
        AND commitments.commitment_no = activity_progress.commitment_no
GROUP BY commitments.report_id, commitments.commitment_no, commitments.axis_no;

COMMENT ON VIEW commitment_rates IS
'Vue de travail : taux de chaque engagement avec le poids total de ses activités '
'(known_weight : activités de statut connu ; total_weight : toutes).';
