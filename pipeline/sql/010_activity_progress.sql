-- Each activity's progress: the value configured for its status, the band edges as its
-- interval, and its weight (1 unless raw/<report_id>.weights.csv gives one).
CREATE VIEW activity_progress AS
SELECT
    a.report_id,
    a.commitment_no,
    a.activity_no,
    c.axis_no,
    a.status,
    coalesce(w.weight, 1.0) AS weight,
    b.rate_pct,
    b.rate_min_pct,
    b.rate_max_pct
FROM activities AS a
JOIN status_bands AS b ON b.status = a.status
LEFT JOIN commitments AS c
    ON c.report_id = a.report_id AND c.commitment_no = a.commitment_no
LEFT JOIN activity_weights AS w
    ON w.report_id = a.report_id AND w.commitment_no = a.commitment_no AND w.activity_no = a.activity_no
ORDER BY a.report_id, a.commitment_no, a.activity_no;
