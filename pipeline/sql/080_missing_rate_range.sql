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
-- way (implied bounds empty, is_consistent false). Sums run in commitment order (see
-- aggregate_rate).
CREATE VIEW missing_rate_range AS
WITH
commitment_rates AS (
    SELECT * FROM commitment_rates
),

published_rates AS (
    SELECT * FROM published_rates
),

int_published_commitment_rates AS (
    SELECT * FROM int_published_commitment_rates
),

published_plan_rates AS (
    SELECT
        report_id,
        rate_pct AS plan_rate_pct
    FROM published_rates
    WHERE scope = 'plan'
),

commitments_as_published AS (
    SELECT
        commitment_rates.report_id,
        commitment_rates.commitment_no,
        commitment_rates.total_weight,
        int_published_commitment_rates.published_rate_pct AS rate_pct
    FROM commitment_rates
    LEFT JOIN int_published_commitment_rates
        ON
            commitment_rates.report_id = int_published_commitment_rates.report_id
            AND commitment_rates.commitment_no = int_published_commitment_rates.commitment_no
),

per_report AS (
    SELECT
        report_id,
        count(*) AS commitment_count,
        count(rate_pct) AS published_count,
        sum(rate_pct ORDER BY commitment_no) AS published_sum,
        sum(total_weight ORDER BY commitment_no) AS weight_sum,
        sum(total_weight * rate_pct ORDER BY commitment_no) AS published_weighted_sum
    FROM commitments_as_published
    GROUP BY report_id
),

missing AS (
    SELECT
        commitments_as_published.report_id,
        commitments_as_published.commitment_no,
        commitments_as_published.total_weight,
        per_report.commitment_count,
        per_report.published_sum,
        per_report.weight_sum,
        per_report.published_weighted_sum,
        published_plan_rates.plan_rate_pct
    FROM commitments_as_published
    INNER JOIN per_report ON commitments_as_published.report_id = per_report.report_id
    INNER JOIN published_plan_rates ON commitments_as_published.report_id = published_plan_rates.report_id
    WHERE
        commitments_as_published.rate_pct IS NULL
        AND per_report.commitment_count - per_report.published_count = 1
),

solved AS (
    SELECT
        report_id,
        commitment_no,
        'commitment_mean' AS aggregation,
        plan_rate_pct,
        (plan_rate_pct - 0.5) * commitment_count - published_sum AS lo,
        (plan_rate_pct + 0.5) * commitment_count - published_sum AS hi
    FROM missing
    UNION ALL
    SELECT
        report_id,
        commitment_no,
        'activity_weighted' AS aggregation,
        plan_rate_pct,
        CASE
            WHEN total_weight > 0 THEN ((plan_rate_pct - 0.5) * weight_sum - published_weighted_sum) / total_weight
            WHEN
                weight_sum > 0
                AND published_weighted_sum
                BETWEEN (plan_rate_pct - 0.5) * weight_sum AND (plan_rate_pct + 0.5) * weight_sum
                THEN 0.0
            ELSE 'infinity'::DOUBLE
        END AS lo,
        CASE
            WHEN total_weight > 0 THEN ((plan_rate_pct + 0.5) * weight_sum - published_weighted_sum) / total_weight
            WHEN
                weight_sum > 0
                AND published_weighted_sum
                BETWEEN (plan_rate_pct - 0.5) * weight_sum AND (plan_rate_pct + 0.5) * weight_sum
                THEN 100.0
            ELSE '-infinity'::DOUBLE
        END AS hi
    FROM missing
),

clipped AS (
    SELECT
        report_id,
        commitment_no,
        aggregation,
        plan_rate_pct,
        greatest(lo, 0.0) AS lo_clipped,
        least(hi, 100.0) AS hi_clipped
    FROM solved
)

SELECT
    report_id,
    commitment_no,
    aggregation,
    plan_rate_pct AS published_rate_pct,
    CASE WHEN lo_clipped <= hi_clipped THEN lo_clipped END AS implied_rate_min_pct,
    CASE WHEN lo_clipped <= hi_clipped THEN hi_clipped END AS implied_rate_max_pct,
    lo_clipped <= hi_clipped AS is_consistent
FROM clipped;
