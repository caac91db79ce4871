-- Axis rates from the rates of the axis's commitments, under the configured aggregation.
CREATE VIEW axis_progress AS
WITH
axes AS (
    SELECT * FROM axes
),

commitment_rates AS (
    SELECT * FROM commitment_rates
)

SELECT
    axes.report_id,
    axes.axis_no,
    count(commitment_rates.commitment_no) AS commitment_count,
    aggregate_rate(
        commitment_rates.rate_pct, commitment_rates.known_weight, commitment_rates.commitment_no
    ) AS rate_pct,
    aggregate_rate(
        commitment_rates.rate_min_pct, commitment_rates.total_weight, commitment_rates.commitment_no
    ) AS rate_min_pct,
    aggregate_rate(
        commitment_rates.rate_max_pct, commitment_rates.total_weight, commitment_rates.commitment_no
    ) AS rate_max_pct
FROM axes
LEFT JOIN commitment_rates
    ON
        axes.report_id = commitment_rates.report_id
        AND axes.axis_no = commitment_rates.axis_no
GROUP BY axes.report_id, axes.axis_no;
