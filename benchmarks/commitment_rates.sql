-- The commitment-rate aggregation of pipeline/sql/020_commitment_rates.sql, reduced to
-- what the benchmark measures: activities joined to their status band, weighted means
-- per commitment (equal weights), unknown statuses out of the point estimate.
WITH
activities AS (
    SELECT * FROM activities
),

status_bands AS (
    SELECT * FROM status_bands
)

SELECT
    activities.report_id,
    activities.commitment_no,
    sum(status_bands.rate_pct) / nullif(count(status_bands.rate_pct), 0) AS rate_pct,
    avg(status_bands.rate_min_pct) AS rate_min_pct,
    avg(status_bands.rate_max_pct) AS rate_max_pct
FROM activities
INNER JOIN status_bands ON activities.status = status_bands.status
GROUP BY activities.report_id, activities.commitment_no
