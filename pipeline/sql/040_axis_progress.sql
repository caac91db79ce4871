-- Axis rates from the rates of the axis's commitments, under the configured aggregation.
CREATE VIEW axis_progress AS
SELECT
    x.report_id,
    x.axis_no,
    count(r.commitment_no) AS commitment_count,
    aggregate_rate(r.rate_pct, r.known_weight) AS rate_pct,
    aggregate_rate(r.rate_min_pct, r.total_weight) AS rate_min_pct,
    aggregate_rate(r.rate_max_pct, r.total_weight) AS rate_max_pct
FROM axes AS x
LEFT JOIN commitment_rates AS r
    ON r.report_id = x.report_id AND r.axis_no = x.axis_no
GROUP BY x.report_id, x.axis_no
ORDER BY x.report_id, x.axis_no;
