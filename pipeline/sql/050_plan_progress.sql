-- The plan's global rate from the rates of all its commitments, under the configured aggregation.
CREATE VIEW plan_progress AS
SELECT
    p.report_id,
    count(r.commitment_no) AS commitment_count,
    coalesce(sum(r.activity_count), 0)::BIGINT AS activity_count,
    aggregate_rate(r.rate_pct, r.known_weight) AS rate_pct,
    aggregate_rate(r.rate_min_pct, r.total_weight) AS rate_min_pct,
    aggregate_rate(r.rate_max_pct, r.total_weight) AS rate_max_pct,
    (SELECT value FROM run_config WHERE key = 'aggregation') AS aggregation
FROM reports AS p
LEFT JOIN commitment_rates AS r ON r.report_id = p.report_id
GROUP BY p.report_id
ORDER BY p.report_id;
