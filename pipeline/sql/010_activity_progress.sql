-- Each activity's progress: the value configured for its status, the band edges as its
-- interval, and its weight (1 unless raw/<report_id>.weights.csv gives one).
CREATE VIEW activity_progress AS
WITH
activities AS (
    SELECT * FROM activities
),

commitments AS (
    SELECT * FROM commitments
),

status_bands AS (
    SELECT * FROM status_bands
),

activity_weights AS (
    SELECT * FROM activity_weights
)

SELECT
    activities.report_id,
    activities.commitment_no,
    activities.activity_no,
    commitments.axis_no,
    activities.status,
    coalesce(activity_weights.weight, 1.0) AS weight,
    status_bands.rate_pct,
    status_bands.rate_min_pct,
    status_bands.rate_max_pct
FROM activities
INNER JOIN status_bands ON activities.status = status_bands.status
LEFT JOIN commitments
    ON
        activities.report_id = commitments.report_id
        AND activities.commitment_no = commitments.commitment_no
LEFT JOIN activity_weights
    ON
        activities.report_id = activity_weights.report_id
        AND activities.commitment_no = activity_weights.commitment_no
        AND activities.activity_no = activity_weights.activity_no;
