-- The commitment-rate aggregation of pipeline/sql/020_commitment_rates.sql, reduced to
-- what the benchmark measures: activities joined to their status band, weighted means
-- per commitment (equal weights), unknown statuses out of the point estimate.
SELECT
    a.report_id,
    a.commitment_no,
    sum(b.rate_pct) / nullif(count(b.rate_pct), 0) AS rate_pct,
    avg(b.rate_min_pct) AS rate_min_pct,
    avg(b.rate_max_pct) AS rate_max_pct
FROM activities AS a
JOIN status_bands AS b ON b.status = a.status
GROUP BY a.report_id, a.commitment_no
