-- Intermediate view: the commitment rates printed in each report, one row per published
-- commitment rate (read by overview, missing_rate_range and commitment_trend).
CREATE VIEW int_published_commitment_rates AS
WITH
published_rates AS (
    SELECT * FROM published_rates
)

SELECT
    report_id,
    scope_no AS commitment_no,
    rate_pct AS published_rate_pct
FROM published_rates
WHERE scope = 'commitment';

COMMENT ON VIEW int_published_commitment_rates IS
'Vue intermédiaire : taux des engagements publiés dans chaque rapport (une ligne par taux publié).';
COMMENT ON COLUMN int_published_commitment_rates.commitment_no IS 'Numéro de l''engagement dans son rapport.';
COMMENT ON COLUMN int_published_commitment_rates.published_rate_pct IS
'Taux de réalisation de l''engagement publié dans le rapport (%).';
