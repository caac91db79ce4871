-- Which aggregation do the published figures follow? For a report that publishes its
-- global rate P and every commitment rate but one, each aggregation gives the values x
-- of the missing rate for which the aggregate of the published rates and x lies in
-- [P - 0.5, P + 0.5] (P is rounded to the unit), kept within [0, 100]:
--   commitment_mean:   n (P -+ 0.5) - sum of the n - 1 published rates
--   activity_weighted: (W (P -+ 0.5) - sum of w_c r_c over the published ones) / w_missing,
-- w_c being the total activity weight of commitment c and W the sum of all w_c.
-- A missing commitment without activities weighs nothing under activity_weighted: any
-- value fits if the others already give P, none otherwise. The published commitment
-- rates are taken as printed. No compatible value: the report did not aggregate that
-- way (implied bounds empty, is_consistent false).
CREATE VIEW missing_rate_range AS
WITH published AS (
    SELECT c.report_id, c.commitment_no, c.total_weight, p.rate_pct
    FROM commitment_rates AS c
    LEFT JOIN published_rates AS p
        ON p.report_id = c.report_id AND p.scope = 'commitment' AND p.scope_no = c.commitment_no
),
per_report AS (
    SELECT
        report_id,
        count(*) AS commitment_count,
        count(rate_pct) AS published_count,
        sum(rate_pct) AS published_sum,
        sum(total_weight) AS weight_sum,
        sum(total_weight * rate_pct) AS published_weighted_sum
    FROM published
    GROUP BY report_id
),
missing AS (
    SELECT
        m.report_id, m.commitment_no, m.total_weight, r.commitment_count, r.published_sum,
        r.weight_sum, r.published_weighted_sum, g.rate_pct AS plan_rate_pct
    FROM published AS m
    JOIN per_report AS r ON r.report_id = m.report_id
    JOIN published_rates AS g ON g.report_id = m.report_id AND g.scope = 'plan'
    WHERE m.rate_pct IS NULL AND r.commitment_count - r.published_count = 1
),
solved AS (
    SELECT
        report_id, commitment_no, 'commitment_mean' AS aggregation, plan_rate_pct,
        (plan_rate_pct - 0.5) * commitment_count - published_sum AS lo,
        (plan_rate_pct + 0.5) * commitment_count - published_sum AS hi
    FROM missing
    UNION ALL
    SELECT
        report_id, commitment_no, 'activity_weighted', plan_rate_pct,
        CASE
            WHEN total_weight > 0 THEN ((plan_rate_pct - 0.5) * weight_sum - published_weighted_sum) / total_weight
            WHEN weight_sum > 0 AND published_weighted_sum
                BETWEEN (plan_rate_pct - 0.5) * weight_sum AND (plan_rate_pct + 0.5) * weight_sum THEN 0.0
            ELSE 'infinity'::DOUBLE
        END,
        CASE
            WHEN total_weight > 0 THEN ((plan_rate_pct + 0.5) * weight_sum - published_weighted_sum) / total_weight
            WHEN weight_sum > 0 AND published_weighted_sum
                BETWEEN (plan_rate_pct - 0.5) * weight_sum AND (plan_rate_pct + 0.5) * weight_sum THEN 100.0
            ELSE '-infinity'::DOUBLE
        END
    FROM missing
),
clipped AS (
    SELECT *, greatest(lo, 0.0) AS lo_clipped, least(hi, 100.0) AS hi_clipped FROM solved
)
SELECT
    report_id,
    commitment_no,
    aggregation,
    plan_rate_pct AS published_rate_pct,
    CASE WHEN lo_clipped <= hi_clipped THEN lo_clipped END AS implied_rate_min_pct,
    CASE WHEN lo_clipped <= hi_clipped THEN hi_clipped END AS implied_rate_max_pct,
    lo_clipped <= hi_clipped AS is_consistent
FROM clipped
ORDER BY report_id, commitment_no, list_position(['commitment_mean', 'activity_weighted'], aggregation);
