-- Working view: each commitment's weighted rates and the weights behind them, which the
-- axis and plan aggregations need. The point estimate leaves unknown statuses out; the
-- bounds take every activity at its band edge (unknown: 0 and 100). A commitment with
-- no activity has no point estimate and the unknown band as its interval.
CREATE VIEW commitment_rates AS
SELECT
    c.report_id,
    c.commitment_no,
    c.axis_no,
    count(a.activity_no) AS activity_count,
    count(a.activity_no) FILTER (WHERE a.status = 'unknown') AS unknown_activity_count,
    coalesce(sum(a.weight) FILTER (WHERE a.rate_pct IS NOT NULL), 0.0) AS known_weight,
    coalesce(sum(a.weight), 0.0) AS total_weight,
    sum(a.weight * a.rate_pct) / nullif(sum(a.weight) FILTER (WHERE a.rate_pct IS NOT NULL), 0) AS rate_pct,
    coalesce(
        sum(a.weight * a.rate_min_pct) / nullif(sum(a.weight), 0),
        (SELECT rate_min_pct FROM status_bands WHERE status = 'unknown')
    ) AS rate_min_pct,
    coalesce(
        sum(a.weight * a.rate_max_pct) / nullif(sum(a.weight), 0),
        (SELECT rate_max_pct FROM status_bands WHERE status = 'unknown')
    ) AS rate_max_pct
FROM commitments AS c
LEFT JOIN activity_progress AS a
    ON a.report_id = c.report_id AND a.commitment_no = c.commitment_no
GROUP BY c.report_id, c.commitment_no, c.axis_no
ORDER BY c.report_id, c.commitment_no;
COMMENT ON VIEW commitment_rates IS
    'Vue de travail : taux de chaque engagement avec le poids total de ses activités '
    '(known_weight : activités de statut connu ; total_weight : toutes).';
