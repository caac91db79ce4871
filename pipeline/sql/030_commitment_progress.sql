CREATE VIEW commitment_progress AS
SELECT
    report_id,
    commitment_no,
    axis_no,
    activity_count,
    unknown_activity_count,
    rate_pct,
    rate_min_pct,
    rate_max_pct
FROM commitment_rates
ORDER BY report_id, commitment_no;
