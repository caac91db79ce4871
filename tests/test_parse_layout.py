"""The layout clean-up (pipeline.parse.layout): page furniture and hyphenated words, on tiny texts."""

from __future__ import annotations

from pipeline.parse.layout import join_hyphenated_words, remove_page_furniture
from pipeline.parse.lines import Context


def cleaned(lines: list[str], step) -> tuple[list[str], list[str]]:
    """The lines after one clean-up step, and the codes of its findings."""
    ctx = Context("r", list(lines))
    step(ctx)
    return ctx.lines, [f.code for f in ctx.findings]


def test_pdftotext_pages_lose_their_footer_number_and_header():
    texts = ["Un paragraphe.", "Un autre.", "Un dernier."]
    lines = []
    for n, text in enumerate(texts, start=1):
        lines += [text, "Rapport PGO 2021-2023", str(n), "\fROYAUME DU MAROC"]
    out, codes = cleaned(lines + ["Fin."], remove_page_furniture)
    assert out == ["Un paragraphe.", "", "", "", "Un autre.", "", "", "", "Un dernier.", "", "", "", "Fin."]
    assert codes == ["page_furniture_removed"]


def test_a_value_after_a_page_number_is_kept():
    lines = ["- Nombre de sessions :", "\f", "- 18 -", " 8", "", "x", "\f", "- 19 -", "y", "\f", "- 20 -", "z"]
    out, _ = cleaned(lines, remove_page_furniture)
    assert out == ["- Nombre de sessions :", "", "", " 8", "", "x", "", "", "y", "", "", "z"]


def test_worded_page_numbers_and_a_running_header_without_form_feeds():
    lines = []
    for n, text in enumerate(["Un paragraphe.", "Un autre.", "Un dernier."], start=1):
        lines += [text, "OPEN GOVERNMENT MOROCCO", f"Page {n} sur 3"]
    out, _ = cleaned(lines, remove_page_furniture)
    assert out == ["Un paragraphe.", "", "", "Un autre.", "", "", "Un dernier.", "", ""]


def test_lone_numbers_are_text_unless_they_run_like_page_numbers():
    values = ["- Nombre de rapports :", " 2700", "", "texte", "", "90"]
    assert cleaned(values, remove_page_furniture) == (values, [])
    pages = ["a", "", "5", "", "b", "", "6", "", "c", "", "7", ""]
    out, codes = cleaned(pages, remove_page_furniture)
    assert [line for line in out if line] == ["a", "b", "c"] and codes == ["page_furniture_removed"]


def test_a_line_repeated_beside_two_page_breaks_only_is_kept():
    lines = ["x", "Entête", "\fa", "y", "Entête", "\fb", "z"]
    out, _ = cleaned(lines, remove_page_furniture)
    assert out == ["x", "Entête", "a", "y", "Entête", "b", "z"]


def test_a_word_cut_at_a_line_end_is_joined():
    lines = ["Réalisation d'une enquête à destina-", "", "tion des citoyens"]
    out, codes = cleaned(lines, join_hyphenated_words)
    assert out == ["Réalisation d'une enquête à destination", "", "des citoyens"]
    assert codes == ["hyphenation_joined"]


def test_an_uppercase_title_cut_before_its_markup_end_is_joined():
    lines = ["<u>ENGAGEMENT 3 : RENFORCEMENT DE LA TRANSPA-</u>", "", "RENCE BUDGÉTAIRE"]
    out, _ = cleaned(lines, join_hyphenated_words)
    assert out == ["<u>ENGAGEMENT 3 : RENFORCEMENT DE LA TRANSPARENCE</u>", "", "BUDGÉTAIRE"]


def test_a_compound_the_text_writes_with_its_hyphen_keeps_it():
    lines = ["Le rapport d'auto-évaluation est publié.", "Le second rapport d'auto-", "évaluation suit."]
    out, _ = cleaned(lines, join_hyphenated_words)
    assert out[1:] == ["Le second rapport d'auto-évaluation", "suit."]


def test_dashes_that_cut_no_word_are_left_alone():
    lines = ["Région de Rabat-", "Salé-Kénitra", "- Nombre de participants -", "12", "Années 2021-", "2023"]
    assert cleaned(lines, join_hyphenated_words) == (lines, [])
