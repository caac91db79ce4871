"""Parser tests on small hand-written reports in the template, one kind of damage each."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.parse import (
    _classify_headings,
    _Context,
    _Heading,
    _parse_activities,
    indicator_kind,
    parse_indicator_value,
    parse_report,
)

HEADER = """\
Rapport d'auto-évaluation du Plan d'Action National du Gouvernement Ouvert 2019 – 2021

Juin 2021

Table des matières

ENGAGEMENT 1 : OUVERTURE DES DONNÉES BUDGÉTAIRES\t5
ENGAGEMENT 2 : PORTAIL DE LA PARTICIPATION\t9

Plan d'action national 2019 – 2021

Transparence

- Ouverture des données budgétaires

Participation

- Portail de la participation

Le taux d'avancement global de la mise en œuvre du plan d'action national 2019-2021 \
jusqu'à fin du mois de juin 2021 est de 70%.

Numéro de l'engagement\tTitre de l'engagement\tTaux de réalisation
1\tOuverture des données budgétaires\t80 %
2\tPortail de la participation\t

"""

COMMITMENT_1 = """\
ENGAGEMENT 1 : OUVERTURE DES DONNÉES
BUDGÉTAIRES

Organisme responsable de la mise en œuvre\tMinistère des Finances
Problématique\tLes données budgétaires sont peu accessibles.
Solution proposée\tPublier les données en format ouvert.
Résultat attendu\tDes données réutilisables.

Activité 1 : Inventaire des jeux de données

- Non entamée
- Progression limitée (1-59%)
- Progression significative (60-90%)
- {check} Complétée (90-100%)

Actions réalisées

- Inventaire publié.

Activité 2: Publication des jeux
de données sur le portail

- Non entamée
- {check} Progression limitée (1-59%)
- Progression significative (60-90%)
- Complétée (90-100%)

Indicateurs relatifs à l'engagement 1 :

- Nombre de jeux publiés : 12
- Taux de couverture : 45%
"""

COMMITMENT_2 = """\
ENGAGEMENT 2: PORTAIL DE LA PARTICIPATION

Organisme responsable de la mise en œuvre\tConseil régional
Problématique\tPeu de participation.
Solution proposée\tUn portail.
Résultat attendu\tPlus de participation.

Activité 1 : Conception du portail

- ✓ Non entamée
- Progression limitée (1-59%)
- Progression significative (60-90%)
- Complétée (90-100%)
"""


def parse(text: str) -> dict[str, pd.DataFrame]:
    return parse_report(text, "test-report", source_file="test-report.txt", source_sha256="0" * 64)


def rows(df: pd.DataFrame, columns: list[str]) -> list[list]:
    """Rows as lists, with nulls as None (pandas 3 reads null strings as NaN)."""
    sub = df[columns].astype(object)
    return sub.where(sub.notna(), None).values.tolist()


def codes(tables) -> list[str]:
    return tables["findings"]["code"].tolist()


def statuses(tables) -> dict[tuple[int, int], str]:
    a = tables["activities"]
    return {(r.commitment_no, r.activity_no): r.status for r in a.itertuples()}


@pytest.mark.parametrize("mark", ["✓", "✔", "√", "☑", "✅", "[x]", "[X]"])
def test_every_check_mark_of_the_template_is_read(mark):
    tables = parse(HEADER + COMMITMENT_1.format(check=mark) + "\n" + COMMITMENT_2)
    assert statuses(tables) == {(1, 1): "complete", (1, 2): "limited", (2, 1): "not_started"}


def test_clean_report_values():
    tables = parse(HEADER + COMMITMENT_1.format(check="✓") + "\n" + COMMITMENT_2)
    report = tables["reports"].iloc[0]
    assert report["plan_period"] == "2019-2021"
    assert report["as_of"] == "2021-06"
    assert report["language"] == "fr"
    assert report["commitment_count"] == 2 and report["activity_count"] == 3

    c = tables["commitments"].set_index("commitment_no")
    assert c.loc[1, "title"] == "OUVERTURE DES DONNÉES BUDGÉTAIRES"
    assert c.loc[1, "responsible_body"] == "Ministère des Finances"
    assert c.loc[1, "problem"] == "Les données budgétaires sont peu accessibles."
    assert c.loc[1, "solution"] == "Publier les données en format ouvert."
    assert c.loc[1, "expected_result"] == "Des données réutilisables."
    assert c["axis_no"].tolist() == [1, 2]
    assert c.loc[1, "source_line_start"] == HEADER.count("\n") + 1

    a = tables["activities"].set_index(["commitment_no", "activity_no"])
    assert a.loc[(1, 2), "title"] == "Publication des jeux de données sur le portail"
    assert a.loc[(1, 1), "actions_text"] == "Inventaire publié."
    assert (a.loc[(1, 1), "band_min_pct"], a.loc[(1, 1), "band_max_pct"]) == (90.0, 100.0)
    assert (a.loc[(1, 2), "band_min_pct"], a.loc[(1, 2), "band_max_pct"]) == (1.0, 59.0)
    heading_line = (HEADER + COMMITMENT_1).split("\n").index("Activité 2: Publication des jeux") + 1
    assert a.loc[(1, 2), "source_line"] == heading_line

    i = tables["indicators"]
    assert rows(i, ["label", "raw_value", "value", "unit", "kind"]) == [
        ["Nombre de jeux publiés", "12", 12.0, None, "count"],
        ["Taux de couverture", "45%", 45.0, "percent", "rate"],
    ]
    rates = tables["published_rates"]
    assert rates[["scope", "scope_no", "rate_pct"]].values.tolist() == [["plan", 0, 70.0], ["commitment", 1, 80.0]]
    assert codes(tables).count("published_rate_missing") == 1
    assert tables["axes"]["name"].tolist() == ["Transparence", "Participation"]


def test_lost_check_mark_gives_unknown_and_a_finding():
    tables = parse(HEADER + COMMITMENT_1.format(check="") + "\n" + COMMITMENT_2)
    assert statuses(tables)[(1, 1)] == "unknown"
    a = tables["activities"].set_index(["commitment_no", "activity_no"])
    assert (a.loc[(1, 1), "band_min_pct"], a.loc[(1, 1), "band_max_pct"]) == (0.0, 100.0)
    assert not a.loc[(1, 1), "is_status_checked"]
    f = tables["findings"]
    lost = f[f.code == "check_mark_missing"]
    assert lost["record_key"].tolist() == ["commitment_no=1,activity_no=1", "commitment_no=1,activity_no=2"]


def test_two_check_marks_give_unknown():
    text = COMMITMENT_2.replace("- Complétée", "- ✓ Complétée")
    tables = parse(HEADER + COMMITMENT_1.format(check="✓") + "\n" + text)
    assert statuses(tables)[(2, 1)] == "unknown"
    assert "multiple_check_marks" in codes(tables)


def test_garbled_checked_line_gives_unknown_and_names_the_line():
    text = COMMITMENT_1.format(check="✓").replace("- ✓ Complétée (90-100%)", "✓\tJátán (00 100%)")
    tables = parse(HEADER + text)
    assert statuses(tables)[(1, 1)] == "unknown"
    f = tables["findings"].set_index("code")
    assert "status_line_unrecognised" in f.index and "checked_status_unreadable" in f.index
    assert (
        f.loc["status_line_unrecognised", "source_line"] == (HEADER + text).split("\n").index("✓\tJátán (00 100%)") + 1
    )


def test_damaged_but_readable_status_lines():
    text = COMMITMENT_2.replace("- ✓ Non entamée", "- Non entamée").replace(
        "- Progression significative (60-90%)", "✓\tProgression\tsignificative\t(60-90%))"
    )
    tables = parse(HEADER + text)
    assert statuses(tables)[(2, 1)] == "substantial"


def test_status_lines_out_of_order_with_text_between():
    text = """\
ENGAGEMENT 1 : UN ENGAGEMENT

Organisme responsable de la mise en œuvre\tAgence

Activité 1 : Une activité

Non entamée

Actions réalisées

- Progression limitée (1-59%)
- Texte qui parle de progression du projet
- ✓ Progression significative (60-90%)
- Complétée (90-100%)
"""
    tables = parse(text)
    assert statuses(tables) == {(1, 1): "substantial"}
    assert tables["activities"]["actions_text"].tolist() == ["Texte qui parle de progression du projet"]


def test_duplicated_activity_heading_keeps_the_one_with_the_checklist():
    text = COMMITMENT_2.replace(
        "Activité 1 : Conception du portail", "Activité 1 : Concep\ttion du\n\nActivité 1 : Conception du portail"
    )
    tables = parse(HEADER + text)
    a = tables["activities"]
    assert a["title"].tolist() == ["Conception du portail"]
    assert a["source_line"].tolist() == [(HEADER + text).split("\n").index("Activité 1 : Conception du portail") + 1]
    assert "activity_heading_duplicated" in codes(tables)


def test_missing_responsible_body_is_null_with_a_finding():
    text = COMMITMENT_2.replace("Organisme responsable de la mise en œuvre\tConseil régional\n", "")
    tables = parse(HEADER + text)
    assert tables["commitments"]["responsible_body"].isna().all()
    assert "responsible_body_missing" in codes(tables)


def test_label_split_over_two_lines_and_label_in_the_middle_of_its_cell():
    text = """\
ENGAGEMENT 1 : UN ENGAGEMENT

Organisme responsable\tMinistère de la Justice
de la mise en œuvre\t
\t- Premier constat du problème
Problématique\tqui continue ici.
\t- Second constat.
\t- Publier des textes
Solution proposée\tsur un portail.
\t- Encore une solution.
Résultat attendu\tMoins de délais.

Activité 1 : Une activité
- ✓ Non entamée
"""
    c = parse(text)["commitments"].iloc[0]
    assert c["responsible_body"] == "Ministère de la Justice"
    assert c["problem"] == "Premier constat du problème qui continue ici.\nSecond constat."
    assert c["solution"] == "Publier des textes sur un portail.\nEncore une solution."
    assert c["expected_result"] == "Moins de délais."


def test_commitment_announced_but_absent_from_the_body():
    tables = parse(HEADER + COMMITMENT_1.format(check="✓"))
    f = tables["findings"]
    missing = f[f.code == "commitment_missing_from_body"]
    assert sorted(missing["record_key"].unique().tolist()) == ["commitment_no=2"]
    assert len(missing) == 1  # announced in the TOC; the rate table has no rate for it


def test_report_without_toc_axes_or_rate_table():
    tables = parse(COMMITMENT_2)
    assert statuses(tables) == {(2, 1): "not_started"}
    assert tables["commitments"]["axis_no"].isna().all()
    assert tables["published_rates"].empty
    assert {"axes_section_missing", "published_plan_rate_missing"} <= set(codes(tables))


def test_toc_lines_are_not_commitments():
    tables = parse(HEADER + COMMITMENT_2)
    assert tables["commitments"]["commitment_no"].tolist() == [2]


def test_no_commitment_is_an_error_finding_and_no_report_row():
    tables = parse("Un texte sans engagement.\n\nRien d'autre.\n")
    assert tables["reports"].empty and tables["commitments"].empty
    f = tables["findings"]
    assert f[["severity", "code"]].values.tolist() == [["error", "no_commitment"]]


def test_indicators_with_wrapped_value_stray_markup_and_contradicting_units():
    text = (
        COMMITMENT_2
        + """
<u>Indicateurs relatifs à l'engagement 2 :</u>

• Nombre d'actes validés et publiés sur le portail national :
 2700
- Nombre d'administrations ayant adhéré : 100%
- Taux des informations publiées par rapport aux informations listées dans l'article 10
 de la loi 31.13: 54
Nombre de textes publiés : 13 782
"""
    )
    tables = parse(text)
    i = tables["indicators"]
    assert i["label"].tolist() == [
        "Nombre d'actes validés et publiés sur le portail national",
        "Nombre d'administrations ayant adhéré",
        "Taux des informations publiées par rapport aux informations listées dans l'article 10 de la loi 31.13",
        "Nombre de textes publiés",
    ]
    assert i["value"].tolist() == [2700.0, 100.0, 54.0, 13782.0]
    assert i["indicator_no"].tolist() == [1, 2, 3, 4]
    assert i["kind"].tolist() == ["count", "count", "rate", "count"]
    assert i["unit"].fillna("").tolist() == ["", "percent", "", ""]
    # A unit that contradicts the kind is a validation warning (indicator_count_in_percent,
    # indicator_rate_without_percent), reported once, not also here.
    assert "indicator_unit_contradicts_kind" not in set(tables["findings"]["code"])


def test_crlf_and_bom_give_the_same_tables():
    text = HEADER + COMMITMENT_1.format(check="✔") + "\n" + COMMITMENT_2
    plain = parse(text)
    crlf = parse("\ufeff" + text.replace("\n", "\r\n"))
    for table in ("commitments", "activities", "indicators", "published_rates"):
        pd.testing.assert_frame_equal(plain[table], crlf[table])


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("7", (7.0, None)),
        ("100%", (100.0, "percent")),
        (" 1 428 574", (1428574.0, None)),
        ("12,5 %", (12.5, "percent")),
        ("en cours", (None, None)),
    ],
)
def test_parse_indicator_value(raw, expected):
    assert parse_indicator_value(raw) == expected


@pytest.mark.parametrize(
    "label, kind",
    [
        ("Nombre de rapports", "count"),
        ("Taux de demandes", "rate"),
        ("Pourcentage d'institutions", "rate"),
        ("Espace créé", "other"),
    ],
)
def test_indicator_kind(label, kind):
    assert indicator_kind(label) == kind


def test_page_break_inside_wrapped_titles():
    text = """\
ENGAGEMENT 1 : LANCEMENT DU BUDGET CITOYEN ET LEUR DIFFUSION



EN FORMAT OUVERT

Organisme responsable de la mise en œuvre\tMinistère des Finances

Activité 1 : Réalisation d'une enquête nationale à destination



des citoyens

- ✓ Non entamée
- Progression limitée (1-59%)
"""
    tables = parse(text)
    assert tables["commitments"]["title"].tolist() == ["LANCEMENT DU BUDGET CITOYEN ET LEUR DIFFUSION EN FORMAT OUVERT"]
    assert tables["activities"]["title"].tolist() == ["Réalisation d'une enquête nationale à destination des citoyens"]
    assert statuses(tables) == {(1, 1): "not_started"}


def test_text_above_the_first_label_is_not_given_to_it_when_an_earlier_label_is_lost():
    text = """\
ENGAGEMENT 1 : UN ENGAGEMENT

\tLes données sont dispersées.
\tElles sont peu réutilisées.
Solution proposée\tUn portail unifié.
Résultat attendu\tDes données réutilisables.

Activité 1 : Une activité
- ✓ Non entamée
"""
    tables = parse(text)
    c = tables["commitments"].iloc[0]
    assert pd.isna(c["problem"]) and pd.isna(c["responsible_body"])
    assert c["solution"] == "Un portail unifié."
    f = tables["findings"].set_index("code")
    assert f.loc["field_text_unlabelled", "source_line"] == 3
    assert "lignes 3-4" in f.loc["field_text_unlabelled", "message"]
    assert {"field_label_missing", "responsible_body_missing"} <= set(f.index)


def test_axis_rates_are_read_when_the_chart_survived():
    header = HEADER.replace(
        "Le taux d'avancement global",
        "Taux d'avancement par axe\n\nTransparence : 75 %\nParticipation\t40%\nAxe inconnu : 10 %\n\n"
        "Le taux d'avancement global",
    )
    tables = parse(header + COMMITMENT_1.format(check="✓") + "\n" + COMMITMENT_2)
    rates = tables["published_rates"]
    assert rows(rates[rates.scope == "axis"], ["scope_no", "rate_pct"]) == [[1, 75.0], [2, 40.0]]
    f = tables["findings"]
    assert f[f.code == "axis_rate_unmatched"]["message"].str.contains("Axe inconnu").tolist() == [True]
    assert "published_axis_rates_missing" not in f["code"].tolist()


def test_invisible_characters_inside_headings_are_removed_with_one_finding_per_line():
    text = COMMITMENT_2.replace("ENGAGEMENT 2", "ENGA\u00adGEMENT 2").replace(
        "Activité 1", "Acti\u200bvit\u2060é\u200b 1"
    )
    tables = parse(text)
    assert statuses(tables) == {(2, 1): "not_started"}
    assert tables["activities"]["title"].tolist() == ["Conception du portail"]
    f = tables["findings"]
    removed = f[f.code == "invisible_characters_removed"]
    assert removed[["severity", "source_line"]].values.tolist() == [["info", 1], ["info", 8]]
    assert (
        removed["message"].tolist()[1]
        == "ligne 8 : caractères invisibles retirés : U+200B (ZERO WIDTH SPACE), U+2060 (WORD JOINER)"
    )


def test_bidi_controls_are_removed_and_arabic_letters_kept():
    text = COMMITMENT_2.replace(
        "ENGAGEMENT 2: PORTAIL DE LA PARTICIPATION", "ENGAGEMENT 2: \u202eبوابة\u00ad المشاركة\u202c"
    )
    tables = parse(text)
    assert tables["commitments"]["title"].tolist() == ["بوابة المشاركة"]
    f = tables["findings"]
    assert f[f.code == "bidi_controls_removed"][["severity", "source_line"]].values.tolist() == [["warning", 1]]
    assert "invisible_characters_removed" not in codes(tables)


def test_a_leading_bom_is_no_invisible_character():
    assert "invisible_characters_removed" not in codes(parse("\ufeff" + COMMITMENT_2))


def test_lines_with_replaced_bytes_get_a_finding_each():
    text = COMMITMENT_2.replace("Peu de participation.", "Peu de parti\ufffdipation.")
    tables = parse_report(text, "test-report", source_file="t.txt", source_sha256="0" * 64, replaced_lines=(4,))
    f = tables["findings"]
    damaged = f[f.code == "invalid_utf8_bytes"]
    assert damaged[["severity", "source_line"]].values.tolist() == [["warning", 4]]
    assert "Peu de parti\ufffdipation." in damaged["message"].iloc[0]


def test_replaced_bytes_are_reported_even_when_the_file_is_no_report():
    tables = parse_report(
        "pas un rapport \ufffd\n", "x", source_file="x.txt", source_sha256="0" * 64, replaced_lines=(1,)
    )
    assert codes(tables) == ["invalid_utf8_bytes", "no_commitment"]


def test_an_activity_heading_whose_accent_was_a_stray_byte_is_still_read():
    tables = parse(COMMITMENT_2.replace("Activité 1", "Activit\ufffd 1"))
    assert tables["activities"]["title"].tolist() == ["Conception du portail"]


class CountingNumber(int):
    """A heading number that counts how often it is compared or hashed: the parser's work
    in matching numbers, which must grow linearly with the number of headings."""

    uses = 0

    def __eq__(self, other):
        CountingNumber.uses += 1
        return int.__eq__(self, other)

    def __hash__(self):
        CountingNumber.uses += 1
        return int.__hash__(self)


def test_classifying_headings_compares_numbers_a_linear_number_of_times(monkeypatch):
    n = 2000
    lines = [f"ENGAGEMENT {k} : X" for k in range(n)]
    candidates = [_Heading(CountingNumber(k), k, "X", k) for k in range(n)]
    monkeypatch.setattr(CountingNumber, "uses", 0)
    toc, body = _classify_headings(_Context("r", lines), candidates)
    assert (len(toc), len(body)) == (0, n)
    assert CountingNumber.uses <= 4 * n  # comparing each with every later one: n² / 2


def test_twenty_thousand_headings_of_one_number_are_table_of_contents_but_the_last():
    n = 20_000
    text = "ENGAGEMENT 1 : X\n" * n
    tables = parse(text)
    assert tables["commitments"]["source_line_start"].tolist() == [n]
    assert codes(tables).count("commitment_without_activities") == 1


def test_duplicated_activity_headings_compare_numbers_a_linear_number_of_times(monkeypatch):
    n = 2000
    lines = ["ENGAGEMENT 1 : X"] + ["Activité 1 : X"] * n
    heads = [(k, CountingNumber(1), "X") for k in range(1, n + 1)]
    monkeypatch.setattr(CountingNumber, "uses", 0)
    rows = _parse_activities(_Context("r", lines), 1, heads, len(lines))
    assert [r["source_line"] for r in rows] == [n + 1]
    assert CountingNumber.uses <= 10 * n  # each region against every later one: n² / 2
