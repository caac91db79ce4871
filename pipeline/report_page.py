"""The release's report page: ``exports/<report_id>/index.html``, for citizens and journalists.

One static, self-contained HTML page in French (the plan's Arabic name under the
title): no script, no font, no image to fetch. Its styles are inline, its charts
HTML rows each holding a small inline SVG, and its Content-Security-Policy forbids
every load (:data:`CONTENT_SECURITY_POLICY`), so that it reads the same offline, from
a USB key or a portal, and a browser would report any attempt to fetch something.

The charts are built by hand, not drawn by matplotlib: a release must publish 1,000
reports in under a minute on two cores, and matplotlib took about 300 ms a page (the
figures, their SVG output, the row labels measured to fit), where the whole page now
takes a few milliseconds. A chart row is the row's name in HTML (it wraps as the
page's text does: nothing to measure) beside an SVG whose marks are placed in
percentages of the plot's width (so points stay round at any width), with the row's
figures in words for screen readers (``role="img"``, ``aria-label``). Each mark
carries ``data-mark`` and sits at its value, so that a test can compare the charts
with the database too.

What it shows, from the report's curated and computed tables:

* the plan's computed rate with its interval, beside the rate the report publishes;
* per axis and per commitment, the computed interval, the computed rate and the
  published rate as points on a line (a point-and-interval chart, not bars: the
  computed rate depends on the chosen band values, its interval does not), with the
  same figures in tables;
* the statuses of each axis's activities as shares (axes of 53 and 18 activities can
  be compared), with the axis names;
* what a reader should know: missing published rates, published rates outside the
  interval the checked statuses allow, lost check marks.

Every figure shown carries its value in ``data-*`` attributes (``data-scope``,
``data-scope-no`` on its row; ``data-field``, ``data-value`` on the figure), so that
a test can compare the page with the database. The colours are the Okabe–Ito
palette, distinguishable with the common colour-vision deficiencies, and shape tells
computed from published points too. Everything is derived from the input (no id in
the charts, no date), so the same data gives the same bytes.
"""

from __future__ import annotations

import html
import math
import re
import textwrap
from dataclasses import dataclass

import pandas as pd

from pipeline import __version__
from pipeline.publish import LICENCE, cover_period, package_title, round_half_up
from pipeline.settings import DEFAULT_PUBLISHER
from pipeline.workbook import STATUS_LABELS, report_metadata, report_rows
from schemas import STATUS_BANDS, STATUS_VALUES, empty_frame

#: The plan's name in Arabic, shown under the French title when the report carries no Arabic title.
PLAN_NAME_AR = "خطة العمل الوطنية للحكومة المنفتحة"
#: The Okabe–Ito palette (Okabe & Ito, 2008), safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
STATUS_COLOURS = {
    "not_started": OKABE_ITO["vermillion"],
    "limited": OKABE_ITO["orange"],
    "substantial": OKABE_ITO["sky_blue"],
    "complete": OKABE_ITO["bluish_green"],
    "unknown": OKABE_ITO["grey"],
}
COMPUTED_COLOUR = OKABE_ITO["blue"]
INTERVAL_COLOUR = OKABE_ITO["sky_blue"]
PUBLISHED_COLOUR = OKABE_ITO["vermillion"]
#: Background of the plan's headline figures (a test looks for it in the screenshot).
PLAN_BOX_BACKGROUND = "#EAF2F8"
#: No load of any kind: the page needs nothing but itself.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
#: Charts of more rows than this repeat the percentages above the plot.
TOP_TICK_LABELS_FROM = 8
#: A chart label's lines, at most this many characters each (cut between words only).
LABEL_WIDTH_CHARS = 46
LABEL_MAX_LINES = 2
ELLIPSIS = "…"
#: A share of at least this many % gets its figure written on its bar segment.
MIN_LABELLED_SHARE_PCT = 6.0
#: French typography: a narrow no-break space before « % ».
PERCENT_SIGN = "\u202f%"
MONTHS_FR = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
#: How each aggregation makes the plan's and the axes' rates, for the reader.
AGGREGATION_TEXT = {
    "commitment_mean": "la moyenne simple des taux de ses engagements",
    "activity_weighted": "la moyenne des taux de ses activités, pondérée",
}
#: Why an activity's status is unknown, by the finding that says so.
UNKNOWN_STATUS_REASONS = {
    "check_mark_missing": "aucune case cochée",
    "multiple_check_marks": "plusieurs cases cochées",
    "checked_status_unreadable": "ligne cochée illisible",
    "checklist_missing": "aucune liste de statuts",
}
#: The finding saying the report announced rates per axis that the text lost.
AXIS_RATES_LOST_CODE = "published_axis_rates_missing"
#: The tables the page reads.
PAGE_TABLES = (
    "reports",
    "axes",
    "commitments",
    "activities",
    "published_rates",
    "findings",
    "commitment_progress",
    "axis_progress",
    "plan_progress",
    "reconciliation",
    "status_summary",
    "missing_rate_range",
)


# --- numbers and words, in French ----------------------------------------------------


def format_number(value: float, decimals: int = 1) -> str:
    """``74.775`` -> ``"74,8"``: French decimal comma, rounded half up as the published CSV."""
    return f"{round_half_up(value, decimals):.{decimals}f}".replace(".", ",")


def format_published(value: float) -> str:
    """A published rate as the report prints it: ``82.0`` -> ``"82"``, ``82.5`` -> ``"82,5"``."""
    return format_number(value, 0 if float(value).is_integer() else 1)


def plural(count: int, singular: str, plural_form: str) -> str:
    """``"1 activité"``, ``"2 activités"``."""
    return f"{count} {singular if count == 1 else plural_form}"


def month_fr(as_of: str | None) -> str | None:
    """``"2023-07"`` -> ``"juillet 2023"``; None or anything else as it is."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", as_of or "")
    if not match or not 1 <= int(match.group(2)) <= 12:
        return as_of
    return f"{MONTHS_FR[int(match.group(2)) - 1]} {match.group(1)}"


def sentence_case(text: str) -> str:
    """A title printed in capitals, in sentence case (``"JUSTICE OUVERTE"`` -> ``"Justice ouverte"``)."""
    if text != text.upper() or not any(c.isalpha() for c in text):
        return text
    lowered = text.lower()
    return lowered[:1].upper() + lowered[1:]


def short_label(text: str, width: int = LABEL_WIDTH_CHARS, max_lines: int = LABEL_MAX_LINES) -> str:
    """``text`` on at most ``max_lines`` lines of about ``width`` characters, cut between words.

    A longer text ends with « … » after its last whole word; a word is never cut (a
    single word longer than ``width`` keeps its own line).
    """
    lines = textwrap.wrap(" ".join(text.split()), width=width, break_long_words=False, break_on_hyphens=False)
    if len(lines) <= max_lines:
        return "\n".join(lines)
    kept = lines[:max_lines]
    last = kept[-1]
    while len(last) + len(ELLIPSIS) > width and " " in last:
        last = last.rsplit(" ", 1)[0]
    kept[-1] = last.rstrip(" ,;:–-") + ELLIPSIS
    return "\n".join(kept)


# --- what the page shows, from the tables ---------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """One line of a rates chart and table: computed interval, computed and published rates."""

    scope: str
    scope_no: int
    label: str
    rate: float | None
    rate_min: float | None
    rate_max: float | None
    published: float | None
    within_bounds: bool | None


@dataclass(frozen=True)
class StatusShares:
    """Activities per status of one axis (or of the whole plan)."""

    scope: str
    scope_no: int
    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def share_pct(self, status: str) -> float:
        return 100.0 * self.counts.get(status, 0) / self.total if self.total else 0.0


def _value(x: object) -> object:
    return None if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)) else x


def _float(x: object) -> float | None:
    x = _value(x)
    return None if x is None else float(x)


#: A report's tables as the page reads them: per table, its rows as dicts (missing values None).
Tables = dict[str, list[dict]]


def records(df: pd.DataFrame) -> list[dict]:
    """``df``'s rows as dicts of Python values, missing ones (None, NA, NaN) as None."""
    names = list(df.columns)
    columns = [[_value(v) for v in df[name].tolist()] for name in names]
    return [dict(zip(names, values)) for values in zip(*columns)]


def report_tables(report_id: str, frames: dict[str, pd.DataFrame]) -> Tables:
    """The report's rows of every table the page reads, sorted by key (an absent table: no row)."""
    return {t: records(report_rows(frames[t], t, report_id)) if t in frames else [] for t in PAGE_TABLES}


def _published(tables: Tables, scope: str) -> dict[int, float]:
    return {
        int(r["scope_no"]): float(r["rate_pct"])
        for r in tables["published_rates"]
        if r["scope"] == scope and r["rate_pct"] is not None
    }


def _within(tables: Tables, scope: str) -> dict[int, bool]:
    return {
        int(r["scope_no"]): bool(r["within_bounds"])
        for r in tables["reconciliation"]
        if r["scope"] == scope and r["within_bounds"] is not None
    }


def axis_names(tables: Tables) -> dict[int, str]:
    return {int(r["axis_no"]): str(r["name"]) for r in tables["axes"]}


def commitment_titles(tables: Tables) -> dict[int, str]:
    return {int(r["commitment_no"]): str(r["title"] or "") for r in tables["commitments"]}


def _rates(row: dict) -> tuple[float | None, float | None, float | None]:
    return _float(row.get("rate_pct")), _float(row.get("rate_min_pct")), _float(row.get("rate_max_pct"))


def plan_row(tables: Tables) -> RateRow:
    """The plan's rates (computed ones None when the plan has no computed row)."""
    plan = tables["plan_progress"]
    return RateRow(
        "plan",
        0,
        "Ensemble du plan",
        *_rates(plan[0] if plan else {}),
        _published(tables, "plan").get(0),
        _within(tables, "plan").get(0),
    )


def axis_rows(tables: Tables) -> list[RateRow]:
    """One row per axis of the report, in order, with its computed and published rates."""
    progress = {int(r["axis_no"]): r for r in tables["axis_progress"]}
    published, within = _published(tables, "axis"), _within(tables, "axis")
    return [
        RateRow("axis", no, f"Axe {no} · {name}", *_rates(progress.get(no, {})), published.get(no), within.get(no))
        for no, name in axis_names(tables).items()
    ]


def commitment_rows(tables: Tables) -> list[RateRow]:
    """One row per commitment, in order, with its computed and published rates."""
    progress = {int(r["commitment_no"]): r for r in tables["commitment_progress"]}
    published, within = _published(tables, "commitment"), _within(tables, "commitment")
    return [
        RateRow(
            "commitment",
            no,
            f"{no}. {sentence_case(title)}",
            *_rates(progress.get(no, {})),
            published.get(no),
            within.get(no),
        )
        for no, title in commitment_titles(tables).items()
    ]


def status_shares(tables: Tables) -> list[StatusShares]:
    """Activities per status for each axis, from ``status_summary`` (with the axis names)."""
    names = axis_names(tables)
    counts: dict[int, dict[str, int]] = {}
    for r in tables["status_summary"]:
        if r["scope"] == "axis":
            counts.setdefault(int(r["scope_no"]), {})[str(r["status"])] = int(r["activity_count"])
    return [
        StatusShares("axis", no, f"Axe {no} · {names.get(no, '')}".rstrip(" ·"), counts[no]) for no in sorted(counts)
    ]


def commitment_axis(tables: Tables) -> dict[int, int | None]:
    return {
        int(r["commitment_no"]): (None if r["axis_no"] is None else int(r["axis_no"])) for r in tables["commitments"]
    }


def _record_key(text: object) -> dict[str, str]:
    return dict(part.split("=", 1) for part in str(_value(text) or "").split(",") if "=" in part)


@dataclass(frozen=True)
class ReaderFinding:
    """One thing a reader should know: a sentence, and the cases it lists."""

    text: str
    items: tuple[str, ...] = ()


def missing_rate_findings(tables: Tables) -> list[ReaderFinding]:
    """Published rates the report does not give, and what the global rate implies for them."""
    out = []
    published = _published(tables, "commitment")
    plan_published = _published(tables, "plan").get(0)
    titles = commitment_titles(tables)
    aggregation = _aggregation(tables)
    ranges = {(r["commitment_no"], r["aggregation"]): r for r in reversed(tables["missing_rate_range"])}
    if plan_published is None and len(titles):
        out.append(ReaderFinding("Le rapport ne publie pas de taux d'avancement global du plan."))
    for no, title in titles.items():
        if no in published:
            continue
        text = f"Le rapport ne publie pas de taux pour l'engagement {no} « {sentence_case(title)} »."
        implied = ranges.get((no, aggregation), {})
        consistent = bool(implied.get("is_consistent"))
        low = _float(implied["implied_rate_min_pct"]) if consistent else None
        high = _float(implied["implied_rate_max_pct"]) if consistent else None
        if plan_published is not None and low is not None and high is not None:
            text += (
                f" Avec le taux global publié ({format_published(plan_published)}{PERCENT_SIGN}), ce taux est "
                f"compris entre {format_published(low)} et {format_published(high)}{PERCENT_SIGN}."
            )
        out.append(ReaderFinding(text))
    if len(tables["axes"]) and not _published(tables, "axis"):
        lost = any(f["code"] == AXIS_RATES_LOST_CODE for f in tables["findings"])
        out.append(
            ReaderFinding(
                (
                    "Le rapport annonce des taux par axe, mais son graphique n'a pas survécu à l'extraction du texte"
                    if lost
                    else "Le rapport ne publie pas de taux par axe"
                )
                + " : par axe, seuls les taux calculés sont montrés."
            )
        )
    return out


def outside_bounds_finding(tables: Tables) -> list[ReaderFinding]:
    """Published rates that the checked statuses cannot explain."""
    rec = tables["reconciliation"]
    outside = [r for r in rec if r["within_bounds"] is not None and not r["within_bounds"]]
    if not outside:
        return []
    titles = commitment_titles(tables)
    names = axis_names(tables)
    items = []
    for r in outside:
        no = int(r["scope_no"])
        where = {
            "plan": "ensemble du plan",
            "axis": f"axe {no} « {names.get(no, '')} »",
            "commitment": f"engagement {no} « {sentence_case(titles.get(no, ''))} »",
        }.get(str(r["scope"]), f"{r['scope']} {no}")
        items.append(
            f"{where} : publié {format_published(float(r['published_rate_pct']))}{PERCENT_SIGN}, intervalle calculé "
            f"{format_number(float(r['rate_min_pct']))} – {format_number(float(r['rate_max_pct']))}{PERCENT_SIGN}"
        )
    text = (
        f"{len(outside)} des {len(rec)} taux publiés sont hors de l'intervalle que permettent les statuts cochés "
        "dans le rapport : même en prenant chaque activité au plus haut (ou au plus bas) de sa tranche, on "
        "n'obtient pas le taux publié."
        if len(outside) > 1
        else f"1 des {len(rec)} taux publiés est hors de l'intervalle que permettent les statuts cochés "
        "dans le rapport."
    )
    return [ReaderFinding(text, tuple(items))]


def unknown_status_finding(tables: Tables) -> list[ReaderFinding]:
    """Activities whose check mark was lost, doubled or unreadable."""
    unknown = [
        (int(a["commitment_no"]), int(a["activity_no"])) for a in tables["activities"] if a["status"] == "unknown"
    ]
    if not unknown:
        return []
    reasons: dict[tuple[int, int], str] = {}
    for finding in tables["findings"]:
        code, key = finding["code"], finding["record_key"]
        if code in UNKNOWN_STATUS_REASONS:
            k = _record_key(key)
            if (
                "commitment_no" in k
                and "activity_no" in k
                and k["commitment_no"].isdigit()
                and k["activity_no"].isdigit()
            ):
                reasons.setdefault((int(k["commitment_no"]), int(k["activity_no"])), UNKNOWN_STATUS_REASONS[code])
    items = []
    for c, a in unknown:
        reason = reasons.get((c, a))
        items.append(f"engagement {c}, activité {a}" + (f" : {reason}" if reason else ""))
    subject = plural(len(unknown), "activité n'a", "activités n'ont")
    text = (
        f"{subject} pas de statut lisible (coche perdue, doublée "
        "ou illisible) : laissées hors du taux calculé, elles comptent pour 0 % dans le bas de l'intervalle et "
        "pour 100 % dans le haut."
    )
    return [ReaderFinding(text, tuple(items))]


def period_finding(report: dict) -> list[ReaderFinding]:
    """The cover's period, when it is not the one the plan's text gives."""
    printed, period = cover_period(report), report.get("plan_period")
    if not printed or not period or printed == period:
        return []
    return [
        ReaderFinding(
            f"La couverture du rapport indique la période {printed.replace('-', ' – ')} ; le texte du plan "
            f"d'action donne {period}, période retenue ici."
        )
    ]


def reader_findings(tables: Tables, report: dict) -> list[ReaderFinding]:
    """What a reader should know, in plain French, in order of importance."""
    found = (
        missing_rate_findings(tables)
        + outside_bounds_finding(tables)
        + unknown_status_finding(tables)
        + period_finding(report)
    )
    count = len(tables["findings"])
    if count:
        found.append(
            ReaderFinding(
                f"Au total, la chaîne de traitement a relevé {plural(count, 'constat', 'constats')} de qualité des "
                "données, détaillés dans le fichier data/findings.csv et la feuille « findings » du classeur."
            )
        )
    return found


# --- charts ----------------------------------------------------------------------------
#
# Hand-built: each chart is an HTML grid of rows, the row's name in HTML (it wraps like
# the page's text, no font to measure) beside a small inline SVG whose marks are placed
# in percentages of the plot's width (so circles stay round at any width). No id, no
# reference, nothing measured: the same rows give the same bytes.


def _pct(value: float) -> str:
    """A position on the 0-100 % scale, as an SVG length: ``74.775`` -> ``"74.775%"``."""
    text = f"{min(max(float(value), 0.0), 100.0):.3f}".rstrip("0").rstrip(".")
    return f"{text or '0'}%"


#: The grid lines of every plot: one every 10 %.
_GRID = '<g class="grid">' + "".join(f'<line x1="{x}%" x2="{x}%" y2="100%"/>' for x in range(0, 101, 10)) + "</g>"


def _scale_row(title: str | None = None) -> str:
    """The percentages under (or above) a plot, and the axis title under it."""
    ticks = "".join(f'<text x="{x}%" y="12">{x}\u00a0%</text>' for x in range(0, 101, 10))
    out = f'<div class="crow scale" aria-hidden="true"><span></span><svg height="16">{ticks}</svg></div>'
    if title:
        out += f'<div class="crow" aria-hidden="true"><span></span><p class="xtitle">{_e(title)}</p></div>'
    return out


def _chart(prefix: str, rows: list[str], top_ticks: bool, title: str, legend: list[tuple[str, str]]) -> str:
    items = "".join(
        f'<li><svg width="20" height="14" aria-hidden="true">{mark}</svg>{_e(text)}</li>' for mark, text in legend
    )
    return (
        f'<div class="chart" data-chart="{prefix}">'
        + (_scale_row() if top_ticks else "")
        + "".join(rows)
        + _scale_row(title)
        + f'<ul class="legend">{items}</ul></div>'
    )


def _rate_words(row: RateRow) -> str:
    """What a row of a rates chart shows, for a screen reader."""
    computed = "non calculé" if row.rate is None else format_number(row.rate) + PERCENT_SIGN
    interval = (
        ""
        if row.rate_min is None or row.rate_max is None
        else f", intervalle calculé {format_number(row.rate_min)} – {format_number(row.rate_max)}{PERCENT_SIGN}"
    )
    published = "non publié" if row.published is None else format_published(row.published) + PERCENT_SIGN
    return f"{row.label} : taux calculé {computed}{interval}, taux publié {published}"


def _middle(marks: list[str]) -> str:
    """Marks drawn about the plot's middle height (``y`` 0), whatever the row's height."""
    return '<svg y="50%" overflow="visible">' + "".join(marks) + "</svg>"


#: The published rate's mark, a diamond (placed by the nested ``<svg>`` around it).
_DIAMOND = '<path d="M0-6 6 0 0 6-6 0z"/>'


def interval_chart(rows: list[RateRow], prefix: str, breaks: frozenset[int] = frozenset()) -> str:
    """Point-and-interval chart: per row the computed interval, computed rate and published rate.

    ``breaks``: the indexes of the rows preceded by a separating line. Each mark
    carries ``data-mark`` and sits at its value: ``x``/``width`` of the interval,
    ``cx`` of the computed rate, ``x`` of the published rate, in % of the plot.
    """
    out = []
    for i, row in enumerate(rows):
        marks = []
        if row.rate_min is not None and row.rate_max is not None:
            low, high = (min(max(v, 0.0), 100.0) for v in sorted((row.rate_min, row.rate_max)))
            marks.append(
                f'<rect class="iv" data-mark="interval" x="{_pct(low)}" width="{_pct(high - low)}" y="-4" height="8"/>'
            )
        if row.rate is not None:
            marks.append(f'<circle class="cr" data-mark="rate_pct" cx="{_pct(row.rate)}" r="5.5"/>')
        if row.published is not None:
            marks.append(
                f'<svg class="pb" data-mark="published_rate_pct" x="{_pct(row.published)}" overflow="visible">'
                f"{_DIAMOND}</svg>"
            )
        classes = "crow" + (" sep" if i in breaks else "") + (" strong" if row.scope == "plan" else "")
        out.append(
            f'<div class="{classes}" {_row_attributes(row)}><span class="clabel">{_e(short_label(row.label))}</span>'
            f'<svg class="plot" height="32" role="img" aria-label="{_e(_rate_words(row))}">'
            f"{_GRID}{_middle(marks)}</svg></div>"
        )
    legend = [
        ('<rect class="iv" x="0" y="3" width="20" height="8"/>', "Intervalle calculé"),
        ('<circle class="cr" cx="10" cy="7" r="5.5"/>', "Taux calculé"),
        (f'<svg class="pb" x="10" y="7" overflow="visible">{_DIAMOND}</svg>', "Taux publié par le rapport"),
    ]
    return _chart(prefix, out, len(rows) > TOP_TICK_LABELS_FROM, "Taux d'avancement", legend)


def status_chart(shares: list[StatusShares], prefix: str) -> str:
    """100 % stacked bars: each axis's activities per status, as shares (``data-mark``: the status)."""
    out = []
    for row in shares:
        marks, words, left = [], [], 0.0
        for status in STATUS_VALUES:
            width = row.share_pct(status)
            if width > 0:
                marks.append(
                    f'<rect data-mark="{status}" x="{_pct(left)}" width="{_pct(width)}" y="-11" height="22" '
                    f'fill="{STATUS_COLOURS[status]}"/>'
                )
                if width >= MIN_LABELLED_SHARE_PCT:
                    marks.append(f'<text x="{_pct(left + width / 2)}">{format_number(width, 0)}\u00a0%</text>')
                words.append(f"{STATUS_LABELS[status].lower()} {format_number(width, 0)}{PERCENT_SIGN}")
            left += width
        label = f"{row.label} ({plural(row.total, 'activité', 'activités')})"
        out.append(
            f'<div class="crow" data-scope="{row.scope}" data-scope-no="{row.scope_no}">'
            f'<span class="clabel">{_e(short_label(label))}</span><svg class="plot bars" height="32" role="img" '
            f'aria-label="{_e(label + " : " + ", ".join(words))}">{_GRID}{_middle(marks)}</svg></div>'
        )
    legend = [
        (f'<rect x="2" y="1" width="16" height="12" fill="{STATUS_COLOURS[s]}"/>', STATUS_LABELS[s])
        for s in STATUS_VALUES
    ]
    return _chart(prefix, out, False, "Part des activités de l'axe", legend)


def axis_separators(rows: list[RateRow], axis_of: dict[int, int | None]) -> frozenset[int]:
    """The rows of the commitments chart preceded by a line: the first of each axis but the first."""
    return frozenset(
        i for i in range(1, len(rows)) if axis_of.get(rows[i].scope_no) != axis_of.get(rows[i - 1].scope_no)
    )


# --- HTML ------------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figure_span(field: str, value: float | None, text: str) -> str:
    raw = "" if value is None else repr(float(value))
    return f'<span data-field="{field}" data-value="{raw}">{_e(text)}</span>'


def rate_cells(row: RateRow) -> str:
    """The table cells of a rates row: computed rate, interval, published rate, within bounds."""
    rate = _figure_span("rate_pct", row.rate, format_number(row.rate) + PERCENT_SIGN) if row.rate is not None else "—"
    if row.rate_min is not None and row.rate_max is not None:
        interval = (
            _figure_span("rate_min_pct", row.rate_min, format_number(row.rate_min))
            + " – "
            + _figure_span("rate_max_pct", row.rate_max, format_number(row.rate_max))
            + PERCENT_SIGN
        )
    else:
        interval = "—"
    published = (
        _figure_span("published_rate_pct", row.published, format_published(row.published) + PERCENT_SIGN)
        if row.published is not None
        else '<span data-field="published_rate_pct" data-value="">non publié</span>'
    )
    within = {True: "oui", False: "<strong>non</strong>", None: "—"}[row.within_bounds]
    within_value = "" if row.within_bounds is None else str(row.within_bounds).lower()
    return (
        f'<td class="num">{rate}</td><td class="num">{interval}</td><td class="num">{published}</td>'
        f'<td data-field="within_bounds" data-value="{within_value}">{within}</td>'
    )


def _row_attributes(row: RateRow) -> str:
    return f'data-scope="{row.scope}" data-scope-no="{row.scope_no}"'


def axes_table(plan: RateRow, rows: list[RateRow], counts: dict[int, int], total: int) -> str:
    """The plan's and each axis's rates, with their number of commitments."""
    body = [
        (
            f'<tr class="plan" {_row_attributes(plan)}><th scope="row">Ensemble du plan</th>'
            f'<td class="num">{total}</td>{rate_cells(plan)}</tr>'
        )
    ]
    for row in rows:
        body.append(
            f'<tr {_row_attributes(row)}><th scope="row">{_e(row.label)}</th>'
            f'<td class="num">{counts.get(row.scope_no, 0)}</td>{rate_cells(row)}</tr>'
        )
    return (
        '<table><caption>Taux par axe</caption><thead><tr><th scope="col">Axe</th><th scope="col">Engagements</th>'
        '<th scope="col">Taux calculé</th><th scope="col">Intervalle calculé</th><th scope="col">Taux publié</th>'
        '<th scope="col">Publié dans l\'intervalle</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>"
    )


def commitments_table(rows: list[RateRow], tables: Tables) -> str:
    commitments = {int(r["commitment_no"]): r for r in tables["commitments"]}
    progress = {int(r["commitment_no"]): r for r in tables["commitment_progress"]}
    body = []
    for row in rows:
        info = commitments[row.scope_no]
        body_name, axis = info["responsible_body"], info["axis_no"]
        activities = progress.get(row.scope_no, {}).get("activity_count")
        body.append(
            f'<tr {_row_attributes(row)}><td class="num">{row.scope_no}</td>'
            f'<th scope="row">{_e(sentence_case(str(info["title"] or "")))}'
            f'<span class="body">{_e(body_name) if body_name else "organisme responsable non indiqué"}</span></th>'
            f'<td class="num">{"—" if axis is None else int(axis)}</td>'
            f'<td class="num">{"—" if activities is None else int(activities)}</td>'
            f"{rate_cells(row)}</tr>"
        )
    return (
        '<table><caption>Taux par engagement</caption><thead><tr><th scope="col">N°</th><th scope="col">Engagement '
        '(organisme responsable)</th><th scope="col">Axe</th><th scope="col">Activités</th>'
        '<th scope="col">Taux calculé</th>'
        '<th scope="col">Intervalle calculé</th><th scope="col">Taux publié</th><th scope="col">Publié dans '
        "l'intervalle</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>"
    )


def status_table(shares: list[StatusShares]) -> str:
    head = "".join(f'<th scope="col">{_e(STATUS_LABELS[s])}</th>' for s in STATUS_VALUES)
    body = []
    for row in shares:
        cells = "".join(
            f'<td class="num" data-field="activity_count" data-status="{s}" data-value="{row.counts.get(s, 0)}">'
            f"{row.counts.get(s, 0)} ({format_number(row.share_pct(s), 0)}{PERCENT_SIGN})</td>"
            for s in STATUS_VALUES
        )
        body.append(
            f'<tr data-scope="{row.scope}" data-scope-no="{row.scope_no}"><th scope="row">{_e(row.label)}</th>'
            f'<td class="num">{row.total}</td>{cells}</tr>'
        )
    return (
        '<table><caption>Activités par statut et par axe : nombre (part)</caption><thead><tr><th scope="col">Axe</th>'
        f'<th scope="col">Activités</th>{head}</tr></thead><tbody>' + "".join(body) + "</tbody></table>"
    )


def plan_headline(plan: RateRow) -> str:
    """The plan's computed rate and interval beside the published rate, in large type."""
    if plan.rate is not None:
        computed = f'<p class="big">{_figure_span("rate_pct", plan.rate, format_number(plan.rate))}{PERCENT_SIGN}</p>'
    else:
        computed = '<p class="big">—</p><p>Aucune activité de statut connu : pas d\'estimation.</p>'
    if plan.rate_min is not None and plan.rate_max is not None:
        computed += (
            f"<p>intervalle calculé : {_figure_span('rate_min_pct', plan.rate_min, format_number(plan.rate_min))} – "
            f"{_figure_span('rate_max_pct', plan.rate_max, format_number(plan.rate_max))}{PERCENT_SIGN}</p>"
        )
    if plan.published is not None:
        figure = _figure_span("published_rate_pct", plan.published, format_published(plan.published))
        published = f'<p class="big">{figure}{PERCENT_SIGN}</p>'
        verdict = {
            True: "dans l'intervalle calculé",
            False: "<strong>hors de l'intervalle calculé</strong>",
            None: "",
        }[plan.within_bounds]
        within = "" if plan.within_bounds is None else str(plan.within_bounds).lower()
        published += f'<p data-field="within_bounds" data-value="{within}">{verdict}</p>'
    else:
        published = '<p class="big"><span data-field="published_rate_pct" data-value="">non publié</span></p>'
    return (
        f'<div class="headline" {_row_attributes(plan)}>'
        f'<div class="box computed"><h3>Taux calculé à partir des statuts cochés</h3>{computed}</div>'
        f'<div class="box published"><h3>Taux publié par le rapport</h3>{published}</div></div>'
    )


def band_text(status: str) -> str:
    """A status's band in words: ``"0 %"``, ``"1 à 59 %"``."""
    low, high = STATUS_BANDS[status]
    return f"{low:g}{PERCENT_SIGN}" if low == high else f"{low:g} à {high:g}{PERCENT_SIGN}"


def _aggregation(tables: Tables) -> str | None:
    """How the report's plan and axis rates were aggregated (None without a computed plan row)."""
    plan = tables["plan_progress"]
    return str(plan[0]["aggregation"]) if plan and plan[0]["aggregation"] is not None else None


def method_paragraph(tables: Tables) -> str:
    aggregation = _aggregation(tables)
    bands = ", ".join(f"{STATUS_LABELS[s].lower()} {band_text(s)}" for s in STATUS_VALUES)
    how = AGGREGATION_TEXT.get(aggregation or "", "l'agrégation de ses engagements")
    return (
        "<p>Chaque activité du rapport a une case cochée parmi quatre statuts, chacun correspondant à une tranche "
        f"d'avancement ({_e(bands)}). Le taux calculé compte chaque activité pour la valeur retenue pour son "
        "statut ; l'intervalle calculé va du bas au haut des tranches : aucun taux compatible avec les cases "
        "cochées n'en sort. Un engagement vaut la moyenne de ses activités ; un axe et le plan valent "
        f"{_e(how)}. Un taux publié hors de l'intervalle ne peut pas s'expliquer par les statuts cochés.</p>"
    )


STYLE = f"""
:root {{ color-scheme: light; }}
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  margin: 0; color: #1A1A1A; background: #FFFFFF; line-height: 1.5; }}
header, main, footer {{ max-width: 1100px; margin: 0 auto; padding: 0 24px; }}
header {{ padding-top: 24px; border-bottom: 1px solid #DDDDDD; }}
.kicker {{ text-transform: uppercase; letter-spacing: .05em; font-size: .85rem; color: #555555; margin: 0; }}
h1 {{ font-size: 1.6rem; margin: .3rem 0; }}
.ar {{ font-size: 1.3rem; margin: .2rem 0 .6rem; font-family: "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri",
  "Arial", sans-serif; }}
.meta {{ color: #444444; margin: 0 0 1rem; }}
h2 {{ font-size: 1.3rem; margin-top: 2rem; border-bottom: 2px solid {COMPUTED_COLOUR}; padding-bottom: .2rem; }}
.headline {{ display: flex; gap: 16px; flex-wrap: wrap; background: {PLAN_BOX_BACKGROUND}; padding: 16px;
  border-radius: 6px; }}
.box {{ flex: 1 1 300px; background: #FFFFFF; padding: 12px 16px; border-radius: 4px; }}
.box h3 {{ margin: 0; font-size: 1rem; color: #333333; }}
.box.computed {{ border-left: 8px solid {COMPUTED_COLOUR}; }}
.box.published {{ border-left: 8px solid {PUBLISHED_COLOUR}; }}
.big {{ font-size: 2.6rem; font-weight: 700; margin: .2rem 0; }}
figure {{ margin: 1rem 0; }}
.chart {{ font-size: .8rem; line-height: 1.2; }}
.crow {{ display: grid; grid-template-columns: min(22rem, 38%) minmax(0, 1fr); column-gap: 12px;
  align-items: center; min-height: 32px; padding-right: 18px; }}
.crow.sep {{ border-top: 1px solid #BBBBBB; }}
.crow.strong .clabel {{ font-weight: 700; }}
.crow.scale {{ min-height: 0; }}
.clabel {{ text-align: right; }}
.chart svg {{ display: block; overflow: visible; }}
.crow svg {{ width: 100%; }}
.crow svg.plot {{ height: 100%; min-height: 32px; }}
.grid line {{ stroke: #DDDDDD; stroke-width: 1px; shape-rendering: crispEdges; }}
.grid line:first-child {{ stroke: #555555; }}
.iv {{ fill: {INTERVAL_COLOUR}; }}
.cr {{ fill: {COMPUTED_COLOUR}; }}
.pb path {{ fill: {PUBLISHED_COLOUR}; stroke: #000000; stroke-width: .8px; }}
.bars rect {{ stroke: #FFFFFF; stroke-width: 1px; }}
.chart text {{ font-size: 11px; fill: #1A1A1A; text-anchor: middle; dominant-baseline: central; }}
.scale text {{ dominant-baseline: alphabetic; fill: #333333; }}
@media (max-width: 40rem) {{ .scale text:nth-child(even) {{ display: none; }} }}
.xtitle {{ margin: 0; text-align: center; color: #333333; }}
.legend {{ list-style: none; display: flex; flex-wrap: wrap; justify-content: center; gap: .3rem 1.5rem; padding: 0;
  margin: .6rem 0 .6rem; }}
.legend li {{ display: flex; align-items: center; gap: .4rem; }}
figcaption {{ color: #444444; font-size: .9rem; }}
table {{ border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .9rem; }}
caption {{ text-align: left; font-weight: 700; padding: .3rem 0; }}
th, td {{ border-bottom: 1px solid #E0E0E0; padding: .3rem .5rem; text-align: left; vertical-align: top; }}
thead th {{ background: #F3F3F3; }}
td.num {{ text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }}
tr.plan th, tr.plan td {{ font-weight: 700; }}
.body {{ display: block; font-weight: 400; color: #555555; font-size: .85rem; }}
.findings li {{ margin-bottom: .5rem; }}
footer {{ margin-top: 2rem; padding-bottom: 2rem; border-top: 1px solid #DDDDDD; color: #444444; font-size: .9rem; }}
"""


def arabic_title(report: dict) -> str:
    """The Arabic title shown under the French one: the report's own, or the plan's name and period."""
    own = report.get("title_ar")
    if own:
        return str(own)
    return f"{PLAN_NAME_AR} {report['plan_period']}" if report.get("plan_period") else PLAN_NAME_AR


#: A period (``2021-2023``) inside Arabic text: isolated left to right, read as in French.
_PERIOD_RE = re.compile(r"\d{4}\s*[-–—]\s*\d{4}")


def arabic_html(text: str) -> str:
    """Escaped Arabic text whose periods are isolated left to right (``<bdi dir="ltr">``)."""
    out, last = [], 0
    for match in _PERIOD_RE.finditer(text):
        out += [_e(text[last : match.start()]), f'<bdi dir="ltr">{_e(match.group(0))}</bdi>']
        last = match.end()
    return "".join(out) + _e(text[last:])


def findings_list(found: list[ReaderFinding]) -> str:
    if not found:
        return "<p>Aucune anomalie relevée.</p>"
    items = []
    for f in found:
        sub = "".join(f"<li>{_e(i)}</li>" for i in f.items)
        items.append(f"<li>{_e(f.text)}" + (f"<ul>{sub}</ul>" if sub else "") + "</li>")
    return '<ul class="findings">' + "".join(items) + "</ul>"


def plan_section(plan: RateRow, tables: Tables) -> str:
    return (
        '<section id="plan"><h2>Avancement du plan</h2>' + plan_headline(plan) + method_paragraph(tables) + "</section>"
    )


def findings_section(tables: Tables, report: dict) -> str:
    return (
        '<section id="constats"><h2>Ce qu\'il faut savoir</h2>'
        + findings_list(reader_findings(tables, report))
        + "</section>"
    )


def axes_section(plan: RateRow, axes: list[RateRow], tables: Tables) -> str:
    """The plan's and the axes' rates: chart and table."""
    counts: dict[int, int] = {}
    for axis in commitment_axis(tables).values():
        if axis is not None:
            counts[axis] = counts.get(axis, 0) + 1
    out = '<section id="axes"><h2>Par axe</h2>'
    if axes or plan.rate_min is not None:
        out += (
            "<figure><figcaption>Taux calculé et son intervalle, taux publié : le plan et chaque axe.</figcaption>"
            + interval_chart([plan, *axes], "fig-axes", frozenset({1}) if axes else frozenset())
            + "</figure>"
        )
    return out + axes_table(plan, axes, counts, len(tables["commitments"])) + "</section>"


def statuses_section(shares: list[StatusShares]) -> str:
    """Each axis's activities per status, as shares: chart and table."""
    out = '<section id="statuts"><h2>Statuts des activités par axe</h2>'
    if not shares:
        return out + "<p>Aucune activité rattachée à un axe.</p></section>"
    return out + (
        "<figure><figcaption>Part des activités de chaque axe par statut coché dans le rapport.</figcaption>"
        + status_chart(shares, "fig-statuts")
        + "</figure>"
        + status_table(shares)
        + "</section>"
    )


def commitments_section(commitments: list[RateRow], tables: Tables) -> str:
    """Each commitment's rates: chart and table."""
    out = '<section id="engagements"><h2>Par engagement</h2>'
    if not commitments:
        return out + "<p>Aucun engagement dans ce rapport.</p></section>"
    return out + (
        "<figure><figcaption>Taux calculé et son intervalle, taux publié : chaque engagement (les lignes "
        "grises séparent les axes).</figcaption>"
        + interval_chart(commitments, "fig-engagements", axis_separators(commitments, commitment_axis(tables)))
        + "</figure>"
        + commitments_table(commitments, tables)
        + "</section>"
    )


#: How each movement of an activity between two reports reads on the page.
MOVEMENT_LABELS = {
    "advanced": "a progressé",
    "stalled": "inchangée",
    "went_back": "a reculé",
    "unknown": "statut inconnu",
}


def has_earlier_report(report_id: str, reports: pd.DataFrame | None) -> bool:
    """Whether ``reports`` holds a report just before ``report_id`` in its plan, as the
    ``report_pairs`` view pairs them (same ``plan_period``, ordered by ``as_of`` then
    ``report_id``, both known): without one there is nothing to compare, and the
    database's pairing need not run (the page of a report published alone)."""
    if reports is None or len(reports) < 2:
        return False
    known = [
        (r, p, a)
        for r, p, a in zip(reports["report_id"], reports["plan_period"], reports["as_of"])
        if _value(p) is not None and _value(a) is not None
    ]
    mine = [(p, a) for r, p, a in known if r == report_id]
    return any((a, r) < (my_as_of, report_id) for my_period, my_as_of in mine for r, p, a in known if p == my_period)


#: Reports of the plan shown in its trend: this one and those just before it (a reader
#: compares with the recent reports; the page's size and cost stay bounded).
TREND_REPORTS_SHOWN = 8


def trend_window(reports: pd.DataFrame, report_id: str) -> pd.DataFrame:
    """The last :data:`TREND_REPORTS_SHOWN` reports of ``reports`` (sorted by ``as_of``) up to ``report_id``."""
    position = (
        reports["report_id"].tolist().index(report_id) if report_id in set(reports["report_id"]) else len(reports)
    )
    return reports.iloc[max(0, position + 1 - TREND_REPORTS_SHOWN) : position + 1]


def since_previous_section(
    report_id: str, frames: dict[str, pd.DataFrame], paired: dict[str, pd.DataFrame] | None = None
) -> str:
    """« Depuis le rapport précédent »: when ``frames`` hold an earlier report of the same
    plan, the activities' movements since it (those that moved as a table), the pairs
    left uncompared, and the plan's rates report by report. Empty otherwise.

    ``paired``: the pairing views (:func:`pipeline.compute.pairing_tables`) computed once
    for many reports; computed here from ``frames`` when not given.
    """
    if not has_earlier_report(report_id, frames.get("reports")):
        return ""
    if paired is None:
        from pipeline.compute import pairing_tables

        paired = pairing_tables(frames)
    pairs = paired["report_pairs"]
    mine = pairs[pairs["later_report_id"] == report_id]
    if mine.empty:
        return ""
    earlier = mine.iloc[0]
    transitions = paired["activity_transitions"]
    transitions = transitions[transitions["later_report_id"] == report_id]
    unmatched = paired["activity_pairs"]
    unmatched = unmatched[(unmatched["later_report_id"] == report_id) & ~unmatched["is_matched"].astype(bool)]
    counts = transitions["movement"].value_counts()
    summary = ", ".join(
        f'<span data-field="movement_count" data-movement="{m}" data-value="{int(counts.get(m, 0))}">'
        f"{_e(plural(int(counts.get(m, 0)), 'activité', 'activités'))} : {_e(label)}</span>"
        for m, label in MOVEMENT_LABELS.items()
    )
    out = (
        '<section id="depuis-precedent"><h2>Depuis le rapport précédent</h2>'
        f"<p>Comparé au rapport {_e(earlier['earlier_report_id'])} (chiffres à fin "
        f"{_e(month_fr(earlier['earlier_as_of']))}), activité par activité, là où les numéros et les intitulés "
        f"concordent : {summary}.</p>"
    )
    if len(unmatched):
        out += (
            f"<p>{_e(plural(len(unmatched), 'paire', 'paires'))} de même numéro non comparée"
            f"{'s' if len(unmatched) > 1 else ''} : intitulés trop différents.</p>"
        )
    moved = transitions[transitions["movement"].isin(["advanced", "went_back"])]
    if len(moved):
        rows = "".join(
            f'<tr data-movement="{_e(r.movement)}" data-commitment-no="{int(r.commitment_no)}" '
            f'data-activity-no="{int(r.activity_no)}">'
            f"<td>{int(r.commitment_no)}</td><td>{int(r.activity_no)}</td>"
            f"<td>{_e(STATUS_LABELS.get(r.status_before, r.status_before))}</td>"
            f"<td>{_e(STATUS_LABELS.get(r.status_after, r.status_after))}</td>"
            f"<td>{_e(MOVEMENT_LABELS[r.movement])}</td></tr>"
            for r in moved.itertuples()
        )
        out += (
            "<table><caption>Activités dont le statut a changé</caption><thead><tr>"
            '<th scope="col">Engagement</th><th scope="col">Activité</th><th scope="col">Avant</th>'
            '<th scope="col">Après</th><th scope="col">Mouvement</th></tr></thead><tbody>' + rows + "</tbody></table>"
        )
    plan_reports = pairs[pairs["plan_period"] == earlier["plan_period"]]
    ids = sorted(set(plan_reports["earlier_report_id"]) | set(plan_reports["later_report_id"]))
    reports = frames.get("reports", empty_frame("reports"))
    reports = reports[reports["report_id"].isin(ids)].sort_values(["as_of", "report_id"])
    reports = trend_window(reports, report_id)
    progress = frames.get("plan_progress")
    plan_rates = {}
    if progress is not None:
        for report_id_, rate, low_, high_ in zip(
            progress["report_id"], progress["rate_pct"], progress["rate_min_pct"], progress["rate_max_pct"]
        ):
            plan_rates.setdefault(report_id_, (_float(rate), (_float(low_), _float(high_))))
    published = frames.get("published_rates", empty_frame("published_rates"))
    printed_rates = {}
    for report_id_, scope, rate in zip(published["report_id"], published["scope"], published["rate_pct"]):
        if scope == "plan":
            printed_rates.setdefault(report_id_, _float(rate))
    trend, trend_rows = [], []
    for r in reports.itertuples():
        computed, bounds = plan_rates.get(r.report_id, (None, None))
        printed = printed_rates.get(r.report_id)
        low, high = bounds or (None, None)
        within = None if None in (printed, low, high) else low <= printed <= high
        label = f"Fin {month_fr(r.as_of)}" if month_fr(r.as_of) else str(r.report_id)
        trend_rows.append(RateRow("report", len(trend_rows), label, computed, low, high, printed, within))
        trend.append(
            f'<tr data-report-id="{_e(r.report_id)}"><td>{_e(month_fr(r.as_of))}</td><td>{_e(r.report_id)}</td>'
            f'<td class="num">{"—" if computed is None else format_number(computed) + PERCENT_SIGN}</td>'
            f'<td class="num">{"—" if printed is None else format_published(printed) + PERCENT_SIGN}</td></tr>'
        )
    out += (
        '<figure data-chart="plan-trend">'
        + interval_chart(trend_rows, "trend")
        + "<figcaption>Taux global du plan, rapport après rapport : taux calculé et son intervalle, "
        "taux publié.</figcaption></figure>"
        "<table><caption>Taux global du plan, rapport après rapport</caption><thead><tr>"
        '<th scope="col">Chiffres à fin</th><th scope="col">Rapport</th><th scope="col">Taux calculé</th>'
        '<th scope="col">Taux publié</th></tr></thead><tbody>' + "".join(trend) + "</tbody></table>"
    )
    return out + "</section>"


def page_header(report: dict) -> str:
    meta = [
        f"Plan d'action national {report['plan_period']}" if report.get("plan_period") else None,
        f"chiffres arrêtés à fin {month_fr(report.get('as_of'))}" if report.get("as_of") else None,
        f"source : {report.get('source_file')}",
    ]
    return (
        '<header><p class="kicker">Partenariat pour un Gouvernement Ouvert · Maroc</p>'
        f"<h1>{_e(package_title(report))}</h1>"
        f'<p class="ar" lang="ar" dir="rtl">{arabic_html(arabic_title(report))}</p>'
        f'<p class="meta">{_e(" · ".join(m for m in meta if m))}</p></header>'
    )


def page_footer(report_id: str, report: dict, publisher: str) -> str:
    return (
        f"<footer><p>Données extraites du rapport {_e(report.get('source_file'))} (empreinte SHA-256 "
        f"<code>{_e(report.get('source_sha256'))}</code>), publiées par {_e(publisher)} sous licence "
        f'<a href="{_e(LICENCE["path"])}">{_e(LICENCE["title"])}</a>.</p>'
        f'<p>Télécharger : <a href="{_e(report_id)}.xlsx">le classeur Excel</a> · '
        f'<a href="{_e(report_id)}.zip">le paquet de données complet (CSV et JSON)</a> · '
        '<a href="datapackage.json">sa description (datapackage.json)</a> · '
        '<a href="data/findings.csv">les constats de qualité des données</a>.</p>'
        f"<p>Page produite par pgo-pipeline {_e(__version__)}.</p></footer>"
    )


def render_page(report_id: str, report: dict, tables: Tables, publisher: str, since_previous: str = "") -> str:
    """The page's HTML text: the plan, what to know, what moved since the previous report
    of the plan (``since_previous``: :func:`since_previous_section`, empty when none), the
    axes, the statuses, the commitments."""
    plan = plan_row(tables)
    sections = [
        plan_section(plan, tables),
        findings_section(tables, report),
        *([since_previous] if since_previous else []),
        axes_section(plan, axis_rows(tables), tables),
        statuses_section(status_shares(tables)),
        commitments_section(commitment_rows(tables), tables),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        f"<title>Avancement du plan d'action : {_e(package_title(report))}</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        + page_header(report)
        + "\n<main>\n"
        + "\n".join(sections)
        + "\n</main>\n"
        + page_footer(report_id, report, publisher)
        + "\n</body>\n</html>\n"
    )


def build_report_page(
    report_id: str,
    frames: dict[str, pd.DataFrame],
    publisher: str = DEFAULT_PUBLISHER,
    paired: dict[str, pd.DataFrame] | None = None,
    plan_frames: dict[str, pd.DataFrame] | None = None,
) -> bytes:
    """The UTF-8 bytes of ``report_id``'s report page (``index.html``).

    Args:
        report_id: the report; ``frames["reports"]`` must hold exactly one row for it.
        frames: curated and computed tables by name (all reports or this one's), at
            full precision; an absent table shows as « non disponible » or is left out.
        publisher: who publishes the data, named in the footer.
        paired: the pairing views for the reports of ``frames``, if computed already.
        plan_frames: the rows of the report's plan that « Depuis le rapport précédent »
            reads (``reports``, ``plan_progress``, ``published_rates``), when ``frames``
            holds only the report's own rows.

    Raises:
        ValueError: if ``frames["reports"]`` does not hold exactly one row for ``report_id``.
    """
    report = report_metadata(report_id, frames)
    since = since_previous_section(report_id, frames if plan_frames is None else plan_frames, paired)
    return render_page(report_id, report, report_tables(report_id, frames), publisher, since).encode("utf-8")
