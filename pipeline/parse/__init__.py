"""Parsing one report's text into the curated tables: text in, DataFrames out.

One module per part of the template (``docs/report-format.md`` says which reads what):

- :mod:`~pipeline.parse.vocabulary`: the template's words, status phrases, check marks,
  labels and heading patterns (also what :mod:`pipeline.synth` writes with);
- :mod:`~pipeline.parse.lines`: the shared state and the one pass classifying every line;
- :mod:`~pipeline.parse.layout`: invisible characters, page furniture, hyphenation;
- :mod:`~pipeline.parse.front_matter`: title, date, plan period, language, table of contents;
- :mod:`~pipeline.parse.axes`: the axes and their commitments;
- :mod:`~pipeline.parse.rates`: the published rates;
- :mod:`~pipeline.parse.commitments`: commitment headings and sections;
- :mod:`~pipeline.parse.fields`: the commitment's two-column table;
- :mod:`~pipeline.parse.activities`: activities, status checklists, narratives;
- :mod:`~pipeline.parse.cells`: narratives the PDF interleaved, put back in order;
- :mod:`~pipeline.parse.indicators`: indicators;
- :mod:`~pipeline.parse.report`: :func:`parse_report` (:func:`read_report`'s rows as
  DataFrames), the order the sections are read in.

Where the source lost information, the row says ``unknown`` or null and a
:class:`~pipeline.findings.Finding` says why: the parser never guesses.
"""

from __future__ import annotations

from pipeline.parse.activities import parse_activities
from pipeline.parse.axes import AXES_HEADING_RE
from pipeline.parse.front_matter import Heading, classify_headings, page_number_start
from pipeline.parse.indicators import NUMBER_RE, indicator_kind, parse_indicator_value
from pipeline.parse.lines import RESIDUE_RE, Context
from pipeline.parse.rates import AXIS_RATE_RE, RATE_CELL_RE
from pipeline.parse.report import ParsedReport, parse_report, read_report
from pipeline.parse.vocabulary import ACTIVITY_HEADING_RE, COMMITMENT_HEADING_RE

__all__ = ["ParsedReport", "indicator_kind", "parse_indicator_value", "parse_report", "read_report"]

# The names the single-module parser had, kept for the code and tests that import them.
_ACTIVITY_RE = ACTIVITY_HEADING_RE
_AXES_HEADING_RE = AXES_HEADING_RE
_AXIS_RATE_RE = AXIS_RATE_RE
_COMMITMENT_RE = COMMITMENT_HEADING_RE
_NUMBER_RE = NUMBER_RE
_RATE_CELL_RE = RATE_CELL_RE
_RESIDUE_RE = RESIDUE_RE
_Context = Context
_Heading = Heading
_classify_headings = classify_headings
_page_number_start = page_number_start
_parse_activities = parse_activities
