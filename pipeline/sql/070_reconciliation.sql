-- Every published rate beside the computed rate and interval of the same scope.
CREATE VIEW reconciliation AS
WITH computed AS (
    SELECT report_id, 'plan' AS scope, 0::BIGINT AS scope_no, rate_pct, rate_min_pct, rate_max_pct
    FROM plan_progress
    UNION ALL
    SELECT report_id, 'axis', axis_no, rate_pct, rate_min_pct, rate_max_pct FROM axis_progress
    UNION ALL
    SELECT report_id, 'commitment', commitment_no, rate_pct, rate_min_pct, rate_max_pct FROM commitment_progress
)
SELECT
    p.report_id,
    p.scope,
    p.scope_no,
    p.rate_pct AS published_rate_pct,
    c.rate_pct,
    c.rate_min_pct,
    c.rate_max_pct,
    p.rate_pct BETWEEN c.rate_min_pct AND c.rate_max_pct AS within_bounds,
    p.rate_pct - c.rate_pct AS gap_pct_points
FROM published_rates AS p
LEFT JOIN computed AS c
    ON c.report_id = p.report_id AND c.scope = p.scope AND c.scope_no = p.scope_no
ORDER BY
    p.report_id,
    list_position(['plan', 'axis', 'commitment'], p.scope),
    p.scope_no;
