-- Every published rate beside the computed rate and interval of the same scope.
CREATE VIEW reconciliation AS
WITH
published_rates AS (
    SELECT * FROM published_rates
),

plan_progress AS (
    SELECT * FROM plan_progress
),

axis_progress AS (
    SELECT * FROM axis_progress
),

commitment_progress AS (
    SELECT * FROM commitment_progress
),

computed AS (
    SELECT
        report_id,
        'plan' AS scope,
        0::BIGINT AS scope_no,
        rate_pct,
        rate_min_pct,
        rate_max_pct
    FROM plan_progress
    UNION ALL
    SELECT
        report_id,
        'axis' AS scope,
        axis_no AS scope_no,
        rate_pct,
        rate_min_pct,
        rate_max_pct
    FROM axis_progress
    UNION ALL
    SELECT
        report_id,
        'commitment' AS scope,
        commitment_no AS scope_no,
        rate_pct,
        rate_min_pct,
        rate_max_pct
    FROM commitment_progress
)

SELECT
    published_rates.report_id,
    published_rates.scope,
    published_rates.scope_no,
    published_rates.rate_pct AS published_rate_pct,
    computed.rate_pct,
    computed.rate_min_pct,
    computed.rate_max_pct,
    published_rates.rate_pct BETWEEN computed.rate_min_pct AND computed.rate_max_pct AS within_bounds,
    published_rates.rate_pct - computed.rate_pct AS gap_pct_points
FROM published_rates
LEFT JOIN computed
    ON
        published_rates.report_id = computed.report_id
        AND published_rates.scope = computed.scope
        AND published_rates.scope_no = computed.scope_no;
