-- Rate configuration tables, filled from inputs registered by pipeline.compute:
-- status_bands_input, activity_weights_input, run_config_input.

CREATE TABLE status_bands (
    status VARCHAR PRIMARY KEY,
    rate_pct DOUBLE,
    rate_min_pct DOUBLE NOT NULL,
    rate_max_pct DOUBLE NOT NULL
);
INSERT INTO status_bands
SELECT
    status,
    rate_pct,
    rate_min_pct,
    rate_max_pct
FROM status_bands_input;
COMMENT ON TABLE status_bands IS
'Correspondance statut -> avancement utilisée : rate_pct est la valeur retenue (vide pour unknown), '
'rate_min_pct et rate_max_pct les bornes de la tranche du statut.';

CREATE TABLE activity_weights (
    report_id VARCHAR NOT NULL,
    commitment_no BIGINT NOT NULL,
    activity_no BIGINT NOT NULL,
    weight DOUBLE NOT NULL CHECK (weight > 0),
    PRIMARY KEY (report_id, commitment_no, activity_no)
);
INSERT INTO activity_weights
SELECT
    report_id,
    commitment_no,
    activity_no,
    weight
FROM activity_weights_input;
COMMENT ON TABLE activity_weights IS
'Poids des activités lus dans raw/<report_id>.weights.csv ; une activité absente de cette table pèse 1.';

CREATE TABLE run_config (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
INSERT INTO run_config
SELECT
    key,
    value
FROM run_config_input;
COMMENT ON TABLE run_config IS
'Configuration du calcul des taux : fichier de configuration, méthode d''agrégation, '
'avancement par statut, source des poids de chaque rapport.';

-- Mean of `rate` under the configured aggregation: each row (a commitment) counts once
-- (commitment_mean) or with `weight`, the total weight of its activities (activity_weighted).
-- The rows are summed in the order of `ordinal` (the commitment number): a floating-point
-- sum depends on the order of its terms, and a view has no order of its own, so the result
-- would otherwise depend on how DuckDB shares the work between threads.
-- (noqa: sqlfluff's DuckDB dialect reads a macro's parameters as data types.)
CREATE MACRO aggregate_rate(rate, weight, ordinal) AS  -- noqa: CP05
CASE (
    SELECT run_config.value
    FROM run_config
    WHERE run_config.key = 'aggregation'
)
    WHEN 'commitment_mean' THEN avg(rate ORDER BY ordinal)
    WHEN 'activity_weighted'
        THEN
            sum(weight * rate ORDER BY ordinal)
            / nullif(sum(weight ORDER BY ordinal) FILTER (WHERE rate IS NOT NULL), 0)
END;
