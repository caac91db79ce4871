-- The plan's global rate from the rates of all its commitments, under the configured aggregation.
CREATE VIEW plan_progress AS
WITH
reports AS (
    SELECT * FROM reports
),

commitment_rates AS (
    SELECT * FROM commitment_rates
),

run_config AS (
    SELECT * FROM run_config
),

aggregation AS (
    SELECT value AS aggregation
    FROM run_config
    WHERE key = 'aggregation'
)

SELECT
    reports.report_id,
    count(commitment_rates.commitment_no) AS commitment_count,
    coalesce(sum(commitment_rates.activity_count), 0)::BIGINT AS activity_count,
    aggregate_rate(
        commitment_rates.rate_pct, commitment_rates.known_weight, commitment_rates.commitment_no
    ) AS rate_pct,
    aggregate_rate(
        commitment_rates.rate_min_pct, commitment_rates.total_weight, commitment_rates.commitment_no
    ) AS rate_min_pct,
    aggregate_rate(
        commitment_rates.rate_max_pct, commitment_rates.total_weight, commitment_rates.commitment_no
    ) AS rate_max_pct,
    (SELECT aggregation.aggregation FROM aggregation) AS aggregation
FROM reports
LEFT JOIN commitment_rates ON reports.report_id = commitment_rates.report_id
GROUP BY reports.report_id;
