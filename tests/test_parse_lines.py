"""What each line is (pipeline.parse.lines): the one classifying pass, the shared line helpers,
and the parser's work growing linearly with the number of headings."""

from __future__ import annotations

import cProfile
import pstats
import re

import pytest

from pipeline.parse import parse_report
from pipeline.parse.lines import (
    ACTIVITY,
    COMMITMENT,
    INDICATORS,
    STATUS_WORDS,
    TEXT,
    Context,
    classify_lines,
    status_of_line,
)


def test_every_line_gets_its_kind():
    lines = [
        "ENGAGEMENT 1 : TITRE",
        "<u>Engagement N°2 - Titre</u>",
        "",
        "Activité 1 : Une activité",
        "- ✓ Non entamée",
        "Statut : Complétée",
        "Indicateurs relatifs à l'engagement 1 :",
        "Un texte qui parle de l'engagement 3 : rien de plus.",
    ]
    assert classify_lines(lines) == [COMMITMENT, COMMITMENT, TEXT, ACTIVITY, TEXT, STATUS_WORDS, INDICATORS, TEXT]


def test_positions_list_the_lines_of_a_kind_in_order():
    ctx = Context("r", ["Activité 1 : a", "texte", "ACTIVITÉ 2 : b", "ENGAGEMENT 1 : X"])
    assert (ctx.positions(ACTIVITY), ctx.positions(COMMITMENT), ctx.positions(INDICATORS)) == ([0, 2], [3], [])


def test_next_nonempty_skips_page_furniture_without_counting_it_as_blank():
    ctx = Context("r", ["titre", "", "", "", "suite"])
    assert ctx.next_nonempty(1, 5, max_blank=1) is None
    ctx.furniture.update({2, 3})  # two lines of furniture, blanked
    assert ctx.next_nonempty(1, 5, max_blank=1) == 4


@pytest.mark.parametrize(
    "line, expected",
    [
        ("- ✓ Complétée (90-100%)", ("complete", True, True)),
        ("Progression limitée (1-59%)", ("limited", False, True)),
        ("☐ Progression significative (60-90%)", ("substantial", False, True)),
        ("✓\tJátán (00 100%)", (None, True, True)),
        (
            "Un texte sur la progression du projet, assez long pour ne pas être une ligne de statut.",
            (None, False, False),
        ),
    ],
)
def test_status_of_line(line, expected):
    assert status_of_line(line) == expected


def report_with_headings(n: int) -> str:
    """A table of contents of ``n`` entries, then ``n`` sections of one activity each, and ``n``
    stray headings repeating commitment 1's number (table-of-contents entries without page numbers)."""
    toc = [f"ENGAGEMENT {k} : TITRE {k}\t{k + 3}" for k in range(1, n + 1)]
    stray = ["ENGAGEMENT 1 : TITRE 1"] * n
    body = []
    for k in range(1, n + 1):
        body += [f"ENGAGEMENT {k} : TITRE {k}", "", f"Activité 1 : Activité {k}", "- ✓ Non entamée", ""]
    return "\n".join(toc + [""] + stray + [""] + body) + "\n"


def calls_to_parse(text: str) -> int:
    """Function calls the parser makes on ``text``: its work, counted rather than timed."""
    profile = cProfile.Profile()
    profile.runcall(parse_report, text, "r", source_file="r.txt", source_sha256="0" * 64)
    return pstats.Stats(profile).total_calls


def test_ten_times_more_heading_lines_cost_about_ten_times_more_work():
    small, large = calls_to_parse(report_with_headings(100)), calls_to_parse(report_with_headings(1000))
    # Linear work gives 10 (a little less: a constant part); comparing each heading with every
    # later one, as the parser once did, gives nearly 100.
    assert 5 < large / small < 11, (small, large)


def test_lines_matching_gives_the_lines_any_pattern_matches_once_each_in_order():
    ctx = Context("r", ["plan d'action", "rien", "Plan d'action et plan", "", "PLAN"])
    assert ctx.lines_matching(re.compile("plan"), re.compile("Plan|PLAN")) == [0, 2, 4]
