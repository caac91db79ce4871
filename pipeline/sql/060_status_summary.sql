-- Activities per status for the whole plan, each axis and each commitment (zeros included).
CREATE VIEW status_summary AS
WITH
reports AS (
    SELECT * FROM reports
),

axes AS (
    SELECT * FROM axes
),

commitments AS (
    SELECT * FROM commitments
),

activity_progress AS (
    SELECT * FROM activity_progress
),

status_bands AS (
    SELECT * FROM status_bands
),

scopes AS (
    SELECT
        report_id,
        'plan' AS scope,
        0::BIGINT AS scope_no
    FROM reports
    UNION ALL
    SELECT
        report_id,
        'axis' AS scope,
        axis_no AS scope_no
    FROM axes
    UNION ALL
    SELECT
        report_id,
        'commitment' AS scope,
        commitment_no AS scope_no
    FROM commitments
),

activity_scopes AS (
    SELECT
        report_id,
        'plan' AS scope,
        0::BIGINT AS scope_no,
        status
    FROM activity_progress
    UNION ALL
    SELECT
        report_id,
        'axis' AS scope,
        axis_no AS scope_no,
        status
    FROM activity_progress
    WHERE axis_no IS NOT NULL
    UNION ALL
    SELECT
        report_id,
        'commitment' AS scope,
        commitment_no AS scope_no,
        status
    FROM activity_progress
)

SELECT
    scopes.report_id,
    scopes.scope,
    scopes.scope_no,
    status_bands.status,
    count(activity_scopes.status) AS activity_count
FROM scopes
CROSS JOIN status_bands
LEFT JOIN activity_scopes
    ON
        scopes.report_id = activity_scopes.report_id
        AND scopes.scope = activity_scopes.scope
        AND scopes.scope_no = activity_scopes.scope_no
        AND status_bands.status = activity_scopes.status
GROUP BY scopes.report_id, scopes.scope, scopes.scope_no, status_bands.status;
