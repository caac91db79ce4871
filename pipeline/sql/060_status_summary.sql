-- Activities per status for the whole plan, each axis and each commitment (zeros included).
CREATE VIEW status_summary AS
WITH scopes AS (
    SELECT report_id, 'plan' AS scope, 0::BIGINT AS scope_no FROM reports
    UNION ALL
    SELECT report_id, 'axis', axis_no FROM axes
    UNION ALL
    SELECT report_id, 'commitment', commitment_no FROM commitments
),
activity_scopes AS (
    SELECT report_id, 'plan' AS scope, 0::BIGINT AS scope_no, status FROM activity_progress
    UNION ALL
    SELECT report_id, 'axis', axis_no, status FROM activity_progress WHERE axis_no IS NOT NULL
    UNION ALL
    SELECT report_id, 'commitment', commitment_no, status FROM activity_progress
)
SELECT
    s.report_id,
    s.scope,
    s.scope_no,
    b.status,
    count(a.status) AS activity_count
FROM scopes AS s
CROSS JOIN status_bands AS b
LEFT JOIN activity_scopes AS a
    ON a.report_id = s.report_id AND a.scope = s.scope AND a.scope_no = s.scope_no AND a.status = b.status
GROUP BY s.report_id, s.scope, s.scope_no, b.status
ORDER BY
    s.report_id,
    list_position(['plan', 'axis', 'commitment'], s.scope),
    s.scope_no,
    list_position(['not_started', 'limited', 'substantial', 'complete', 'unknown'], b.status);
