-- Each commitment's rate and interval (the published columns of commitment_rates).
CREATE VIEW commitment_progress AS
WITH
commitment_rates AS (
    SELECT * FROM commitment_rates
)

SELECT
    report_id,
    commitment_no,
    axis_no,
    activity_count,
    unknown_activity_count,
    rate_pct,
    rate_min_pct,
    rate_max_pct
FROM commitment_rates;
