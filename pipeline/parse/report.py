"""One report's text into its rows of every curated table: the order the sections are read in.

What belongs here: :func:`read_report`, which cleans the layout up
(:mod:`pipeline.parse.layout`), classifies every line once
(:func:`pipeline.parse.lines.classify_lines`), reads each section with its module,
checks the sections against each other (a commitment announced but absent, a rate
missing) and gives the rows (:class:`ParsedReport`), typed as the tables' Arrow schemas
say, as DataFrames or Arrow tables. It reads no file and keeps no state;
:mod:`pipeline.ingest` does the I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from pipeline.findings import Finding, findings_frame, findings_table, record_key
from pipeline.parse.activities import report_status_words
from pipeline.parse.axes import assign_axes, parse_axes
from pipeline.parse.commitments import find_body_headings, read_commitment, report_heading_forms
from pipeline.parse.front_matter import Heading, detect_language, parse_front, parse_plan_period
from pipeline.parse.layout import join_hyphenated_words, remove_invisible_characters, remove_page_furniture
from pipeline.parse.lines import Context
from pipeline.parse.rates import parse_published_rates
from pipeline.parse.tables import arrow_table, frame
from pipeline.text import collapse_spaces, split_lines, strip_markup

#: The byte-order mark that may open a text: a mark of the encoding, not an invisible
#: character of the report to remove with a finding.
BOM = "\ufeff"
#: Findings about the file's bytes, kept when the file turns out not to be a report.
FILE_FINDING_CODES = {"decoded_cp1252", "invalid_utf8_bytes"}
#: Characters of a damaged line quoted in its finding, around the first replaced byte.
EXCERPT_CHARS = 80
#: The tables of a report's rows, findings apart, in the order :func:`parse_report` returns them.
ROW_TABLES = ("reports", "axes", "commitments", "activities", "indicators", "published_rates")


@dataclass
class ParsedReport:
    """One report's rows of every curated table (``rows``, by table) and its findings."""

    report_id: str
    rows: dict[str, list[dict]]
    findings: list[Finding]

    def frames(self) -> dict[str, pd.DataFrame]:
        """A DataFrame per table, ``findings`` last (see :func:`parse_report`)."""
        tables = {t: frame(t, self.report_id, self.rows.get(t, [])) for t in ROW_TABLES}
        return {**tables, "findings": findings_frame(self.report_id, "ingest", self.findings)}

    def arrow_tables(self) -> dict[str, pa.Table]:
        """An Arrow table per table, of its schema: what the ingest stage writes."""
        tables = {t: arrow_table(t, self.report_id, self.rows.get(t, [])) for t in ROW_TABLES}
        return {**tables, "findings": findings_table(self.report_id, "ingest", self.findings)}


def parse_report(text: str, report_id: str, **provenance) -> dict[str, pd.DataFrame]:
    """Parse one report's text into its rows of every curated table, as DataFrames:
    :func:`read_report` (which takes the same arguments), then :meth:`ParsedReport.frames`."""
    return read_report(text, report_id, **provenance).frames()


def read_report(
    text: str,
    report_id: str,
    *,
    source_file: str,
    source_sha256: str,
    encoding: str = "utf-8",
    replaced_lines: tuple[int, ...] = (),
) -> ParsedReport:
    """Parse one report's text into its rows of every curated table.

    Format characters are removed from every line before anything is read (a finding per
    line); page furniture is blanked and hyphenated words joined (a finding each).

    Args:
        text: the decoded report.
        report_id: the report's identifier (file name without ``.txt``).
        source_file, source_sha256, encoding: provenance, copied into ``reports``.
        replaced_lines: 1-based lines where decoding replaced invalid bytes by U+FFFD
            (:attr:`pipeline.text.DecodedText.replaced_lines`); a finding each.

    Returns:
        The rows of each curated table (``reports``, ``axes``, ``commitments``,
        ``activities``, ``indicators``, ``published_rates``) and the findings. A report
        with no commitment gives an ``error`` finding ``no_commitment`` and no
        ``reports`` row.
    """
    text = text.removeprefix(BOM)
    ctx = Context(report_id, split_lines(text))
    line_count = len(ctx.lines) - 1 if text.endswith(("\n", "\r")) else len(ctx.lines)
    _clean_layout(ctx, encoding, replaced_lines)

    toc, body = find_body_headings(ctx)
    front_stop = body[0].line if body else len(ctx.lines)
    front = parse_front(ctx, front_stop)
    plan_period = parse_plan_period(ctx, front["title"])
    axes = parse_axes(ctx, front_stop)
    rates, rate_titles = parse_published_rates(ctx, front_stop, axes)
    commitments, activities, indicators = _read_commitments(ctx, body)
    _check_announced(ctx, toc, rates, rate_titles, commitments)
    assign_axes(ctx, axes, commitments)
    report_heading_forms(ctx)
    report_status_words(ctx)

    if not commitments:
        # Without a commitment the file is not a report: the front-matter findings are noise.
        ctx.findings = [f for f in ctx.findings if f.code in FILE_FINDING_CODES]
        ctx.add("error", "no_commitment", "aucun engagement (« ENGAGEMENT N : … ») dans le corps du rapport", "reports")
        return ParsedReport(report_id, {}, ctx.findings)
    report = {
        "title": front["title"] or report_id,
        "plan_period": plan_period,
        "as_of": front["as_of"],
        "language": detect_language(ctx.lines),
        "source_file": source_file,
        "source_sha256": source_sha256,
        "source_encoding": encoding,
        "line_count": line_count,
        "commitment_count": len(commitments),
        "activity_count": len(activities),
    }
    axes_rows = [{"axis_no": n, "name": a["name"], "source_line": a["line"] + 1} for n, a in enumerate(axes, start=1)]
    rows = {
        "reports": [report],
        "axes": axes_rows,
        "commitments": commitments,
        "activities": activities,
        "indicators": indicators,
        "published_rates": rates,
    }
    return ParsedReport(report_id, rows, ctx.findings)


def _clean_layout(ctx: Context, encoding: str, replaced_lines: tuple[int, ...]) -> None:
    """Everything done to the lines before they are read, in order (see :mod:`pipeline.parse.layout`)."""
    if encoding == "cp1252":
        ctx.add("warning", "decoded_cp1252", "le fichier n'est pas en UTF-8 ; il a été lu en Windows-1252", "reports")
    remove_invisible_characters(ctx)
    _report_replaced_bytes(ctx, replaced_lines)
    remove_page_furniture(ctx)
    join_hyphenated_words(ctx)


def _read_commitments(ctx: Context, body: list[Heading]) -> tuple[list[dict], list[dict], list[dict]]:
    """Every commitment section's rows: commitments, activities, indicators."""
    commitments, activities, indicators = [], [], []
    seen_numbers: dict[int, int] = {}
    for k, h in enumerate(body):
        stop = body[k + 1].line if k + 1 < len(body) else len(ctx.lines)
        if h.number in seen_numbers:
            ctx.add(
                "error",
                "commitment_number_duplicated",
                f"deux sections portent le numéro d'engagement {h.number} "
                f"(lignes {seen_numbers[h.number] + 1} et {h.line + 1})",
                "commitments",
                record_key(commitment_no=h.number),
                h.line,
            )
        seen_numbers[h.number] = h.line
        row, act_rows, ind_rows = read_commitment(ctx, h, stop)
        commitments.append(row)
        activities.extend(act_rows)
        indicators.extend(ind_rows)
    return commitments, activities, indicators


def _check_announced(
    ctx: Context, toc: list[Heading], rates: list[dict], rate_titles: dict[int, str], commitments: list[dict]
) -> None:
    """Commitments announced (table of contents, rate table) but absent, and present but without a rate."""
    body_numbers = {c["commitment_no"] for c in commitments}
    for t in toc:
        if t.number not in body_numbers:
            ctx.add(
                "warning",
                "commitment_missing_from_body",
                f"l'engagement {t.number} est annoncé dans la table des matières mais absent du corps du rapport",
                "commitments",
                record_key(commitment_no=t.number),
                t.line,
            )
    for r in rates:
        if r["scope"] == "commitment" and r["scope_no"] not in body_numbers:
            ctx.add(
                "warning",
                "commitment_missing_from_body",
                f"l'engagement {r['scope_no']} a un taux publié mais est absent du corps du rapport",
                "published_rates",
                record_key(scope="commitment", scope_no=r["scope_no"]),
                r["source_line"] - 1,
            )
    if not rate_titles:
        return
    for c in commitments:
        if c["commitment_no"] not in rate_titles:
            key = record_key(scope="commitment", scope_no=c["commitment_no"])
            ctx.add(
                "warning",
                "published_rate_missing",
                f"engagement {c['commitment_no']} : absent du tableau des taux publiés",
                "published_rates",
                key,
                c["source_line_start"] - 1,
            )


def _report_replaced_bytes(ctx: Context, replaced_lines: tuple[int, ...]) -> None:
    """One finding per line whose invalid UTF-8 bytes decoding replaced by U+FFFD."""
    for number in replaced_lines:
        line = collapse_spaces(strip_markup(ctx.lines[number - 1])) if number <= len(ctx.lines) else ""
        start = max(0, line.find("\ufffd") - EXCERPT_CHARS // 2)
        excerpt = line[start : start + EXCERPT_CHARS]
        ctx.add(
            "warning",
            "invalid_utf8_bytes",
            f"ligne {number} : octets invalides en UTF-8 remplacés par « \ufffd » : « {excerpt} »",
            "reports",
            None,
            number - 1,
        )
