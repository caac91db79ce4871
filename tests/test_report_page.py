"""The release's report page, opened in a real headless browser (Debian's ``chromium``).

The seed is released end to end (``publish_packages``) and its ``index.html`` opened
once by headless Chromium, which writes a screenshot, prints the DOM it built
(``--dump-dom``) and logs to stderr (``--enable-logging=stderr``) every message the
page's console received.

How "no console error" is checked: the page holds no script and its
Content-Security-Policy forbids every load, so anything that could go wrong in it
(a resource it tried to fetch, a script, a blocked style) makes the browser write a
console message; Chromium logs each console message as a ``CONSOLE`` line on stderr,
whatever its level. The test requires no ``CONSOLE`` line at all. So that a Chromium
that stops logging console messages cannot make the test pass silently, a control
page with a deliberate ``console.error``, an uncaught exception and a blocked image
is opened the same way and must give those lines.

Chromium missing is a failure, not a skip: CI installs it (``apt-get install -y
chromium``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import exitcodes
from pipeline.io import to_arrow
from pipeline.publish import publish_packages
from pipeline.report_page import (
    COMPUTED_COLOUR,
    CONTENT_SECURITY_POLICY,
    INTERVAL_COLOUR,
    OKABE_ITO,
    PLAN_BOX_BACKGROUND,
    PLAN_NAME_AR,
    PUBLISHED_COLOUR,
    STATUS_COLOURS,
    build_report_page,
    has_earlier_report,
    short_label,
)
from schemas import STATUS_VALUES, table_fields

SEED_ID = "ma-pan-2021-2023-autoevaluation-2023-07"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
INSTALL_COMMAND = "apt-get update && apt-get install -y chromium"
WINDOW = (1280, 2000)
BROWSER_TIMEOUT_S = 120
#: A console message as Chromium logs it: ``[…:INFO:CONSOLE:12] "text", source: url (12)``
#: (older versions: ``INFO:CONSOLE(12)``).
CONSOLE_LINE_RE = re.compile(r":CONSOLE[(:]\d*\)?\]?\s*\"(?P<message>.*)\", source: (?P<source>\S*)")


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        f"headless Chromium is needed to test the report page and was not found on PATH "
        f"(tried {', '.join(CHROMIUM_NAMES)}): install it with `{INSTALL_COMMAND}`",
        pytrace=False,
    )


@dataclass(frozen=True)
class BrowserRun:
    dom: str
    console: list[str]
    screenshot: Path


def open_in_browser(page: Path, workdir: Path) -> BrowserRun:
    """Open ``page`` in headless Chromium: its DOM, its console messages and a screenshot."""
    screenshot = workdir / "screenshot.png"
    command = [
        chromium_path(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={workdir / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    console = [m.group("message") for m in map(CONSOLE_LINE_RE.search, result.stderr.splitlines()) if m]
    return BrowserRun(result.stdout, console, screenshot)


class FigureParser(HTMLParser):
    """Every figure of the page: its row's ``data-scope``/``data-scope-no`` and its own
    ``data-field``, ``data-value``, ``data-status`` and shown text."""

    VOID = frozenset({"meta", "link", "br", "hr", "img", "input", "wbr", "col", "source", "area", "base", "embed"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, tuple | None, dict | None]] = []
        self.figures: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        scope = (
            (a["data-scope"], int(a["data-scope-no"]))
            if "data-scope" in a
            else (self.stack[-1][1] if self.stack else None)
        )
        record = None
        if "data-field" in a:
            record = {
                "scope": scope,
                "field": a["data-field"],
                "value": a.get("data-value"),
                "status": a.get("data-status"),
                "text": "",
            }
            self.figures.append(record)
        self.stack.append((tag, scope, record))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, _, record in self.stack:
            if record is not None:
                record["text"] += data


def page_figures(dom: str) -> list[dict]:
    parser = FigureParser()
    parser.feed(dom)
    return parser.figures


def shown_number(text: str) -> float:
    """A figure as the page shows it, read back: ``"74,8 %"`` -> ``74.8``."""
    cleaned = text.replace("\u202f", "").replace("\u00a0", "").replace("%", "").strip().replace(",", ".")
    return float(cleaned)


RATE_FIELDS = ("rate_pct", "rate_min_pct", "rate_max_pct")


def database_figures(database: Path, report_id: str) -> dict[tuple, dict]:
    """Per (scope, scope_no): the database's rates and published rate (full, and rounded
    by DuckDB to one decimal under ``<field>:rounded``), whether the published rate is
    within bounds, and per axis its activities per status (``activity_count:<status>``)."""
    columns = "rate_pct, rate_min_pct, rate_max_pct, round(rate_pct, 1), round(rate_min_pct, 1), round(rate_max_pct, 1)"
    rates_sql = f"""
        SELECT 'plan' AS scope, 0 AS scope_no, {columns} FROM plan_progress WHERE report_id = $r
        UNION ALL
        SELECT 'axis', axis_no, {columns} FROM axis_progress WHERE report_id = $r
        UNION ALL
        SELECT 'commitment', commitment_no, {columns} FROM commitment_progress WHERE report_id = $r
    """
    out: dict[tuple, dict] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for scope, no, *rates in con.execute(rates_sql, {"r": report_id}).fetchall():
            out[(scope, no)] = {
                "published_rate_pct": None,
                "within_bounds": None,
                **dict(zip(RATE_FIELDS, rates[:3])),
                **{f"{f}:rounded": v for f, v in zip(RATE_FIELDS, rates[3:])},
            }
        reconciliation = con.execute(
            "SELECT scope, scope_no, published_rate_pct, round(published_rate_pct, 1), within_bounds "
            "FROM reconciliation WHERE report_id = $r",
            {"r": report_id},
        ).fetchall()
        for scope, no, published, rounded, within in reconciliation:
            out[(scope, no)].update(
                {"published_rate_pct": published, "published_rate_pct:rounded": rounded, "within_bounds": within}
            )
        statuses = con.execute(
            "SELECT scope_no, status, activity_count FROM status_summary WHERE report_id = $r AND scope = 'axis'",
            {"r": report_id},
        ).fetchall()
    for no, status, count in statuses:
        out.setdefault(("axis", no), {})[f"activity_count:{status}"] = count
    return out


@pytest.fixture(scope="module")
def seed_release(seed_computed, tmp_path_factory) -> tuple[Path, Path]:
    exports = tmp_path_factory.mktemp("exports")
    assert publish_packages(seed_computed, exports) == exitcodes.OK
    return seed_computed, exports / SEED_ID


@pytest.fixture(scope="module")
def seed_in_browser(seed_release, tmp_path_factory) -> BrowserRun:
    _, release = seed_release
    return open_in_browser(release / "index.html", tmp_path_factory.mktemp("chromium"))


# In the browser.


def test_chromium_reports_console_messages_on_stderr(tmp_path):
    """The control: the way the seed page is checked does see console errors."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title>"
        '<meta http-equiv="Content-Security-Policy" content="img-src \'none\'"></head><body><p>x</p>'
        "<img src='https://example.org/a.png'><script>console.error('erreur voulue'); pas_de_fonction();</script>"
        "</body></html>",
        encoding="utf-8",
    )
    run = open_in_browser(page, tmp_path)
    assert any("erreur voulue" in m for m in run.console), run.console
    assert any("pas_de_fonction" in m for m in run.console), run.console
    assert any("example.org/a.png" in m for m in run.console), run.console


def test_page_renders_without_any_console_message(seed_in_browser):
    assert seed_in_browser.console == []


def test_screenshot_is_not_blank_and_shows_the_plan_rate(seed_in_browser):
    from PIL import Image

    assert seed_in_browser.screenshot.is_file()
    with Image.open(seed_in_browser.screenshot) as image:
        assert image.size == WINDOW
        pixels = image.convert("RGB")
        colours = pixels.getcolors(maxcolors=1 << 20)
    assert len(colours) > 100, "the screenshot has almost no colours: blank page?"
    total = WINDOW[0] * WINDOW[1]
    white = sum(n for n, c in colours if c == (255, 255, 255))
    assert white < 0.95 * total
    # The plan's headline (computed and published rates) sits on its own background,
    # bordered by the computed and published colours: all three are on screen.
    counts = {c: n for n, c in colours}
    # Below it, the axes' chart: its intervals are drawn (sky blue, found nowhere else on screen).
    for colour, least in (
        (PLAN_BOX_BACKGROUND, 20_000),
        (OKABE_ITO["blue"], 500),
        (OKABE_ITO["vermillion"], 500),
        (INTERVAL_COLOUR, 1_500),
    ):
        rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        near = sum(n for c, n in counts.items() if max(abs(a - b) for a, b in zip(c, rgb)) <= 3)
        assert near >= least, (colour, near)


def test_figures_shown_equal_the_database(seed_release, seed_in_browser):
    curated, _ = seed_release
    expected = database_figures(curated / "computed" / "pgo.duckdb", SEED_ID)
    figures = page_figures(seed_in_browser.dom)
    assert figures, "no figure found in the page's DOM"
    seen: set[tuple] = set()
    for f in figures:
        key = f["scope"]
        assert key in expected, f
        field = f["field"] if f["status"] is None else f"{f['field']}:{f['status']}"
        want = expected[key][field]
        seen.add((key, field))
        if field == "within_bounds":
            assert f["value"] == ("" if want is None else str(want).lower()), f
            words = {None: ("—",), True: ("oui", "dans l'intervalle"), False: ("non", "hors de l'intervalle")}[want]
            assert any(w in f["text"] for w in words), f
        elif field.startswith("activity_count:"):
            assert int(f["value"]) == want and f["text"].startswith(f"{want} "), f
        elif want is None:
            assert f["value"] == "" and "non publié" in f["text"], f
        else:
            assert float(f["value"]) == pytest.approx(want, abs=1e-9), f
            assert shown_number(f["text"]) == expected[key][f"{field}:rounded"], f
    # Every figure of the database is on the page.
    for key, row in expected.items():
        for field in row:
            if field.endswith(":rounded"):
                continue
            if row[field] is not None or not field.startswith("rate"):
                assert (key, field) in seen, (key, field)
    plan = [f for f in figures if f["scope"] == ("plan", 0) and f["field"] == "rate_pct"]
    assert len(plan) >= 2 and plan[0]["text"].strip().startswith("74,8")
    published = [f for f in figures if f["scope"] == ("plan", 0) and f["field"] == "published_rate_pct"]
    assert published and shown_number(published[0]["text"]) == 82.0
    statuses = {(f["scope"], f["status"]) for f in figures if f["status"]}
    assert statuses == {(("axis", n), s) for n in range(1, 6) for s in STATUS_VALUES}


class ChartParser(HTMLParser):
    """Every chart mark (``data-mark``) of the page: its chart (``data-chart``), its row
    (``data-scope``, ``data-scope-no``) and its position attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None, tuple | None]] = []
        self.rows: dict[str, list[tuple]] = {}
        self.marks: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        chart, row = self.stack[-1][1:] if self.stack else (None, None)
        chart = a.get("data-chart", chart)
        if "data-scope" in a and chart is not None:
            row = (a["data-scope"], int(a["data-scope-no"]))
            self.rows.setdefault(chart, []).append(row)
        if "data-mark" in a:
            self.marks.append({"chart": chart, "row": row, **a})
        if tag not in FigureParser.VOID:
            self.stack.append((tag, chart, row))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def percent(length: str) -> float:
    """An SVG length in % of the plot, read back: ``"74.775%"`` -> ``74.775``."""
    assert length.endswith("%"), length
    return float(length[:-1])


#: Positions are written with three decimals.
POSITION = 0.0005 + 1e-9


def test_charts_draw_the_database_figures(seed_release, seed_in_browser):
    """Each chart row sits at the database's figures: the interval from its min to its max,
    the computed rate's point, the published rate's diamond; each axis's bar segments are
    its activities' shares per status. Every row of the database is charted."""
    curated, _ = seed_release
    expected = database_figures(curated / "computed" / "pgo.duckdb", SEED_ID)
    parser = ChartParser()
    parser.feed(seed_in_browser.dom)
    rates = {k: v for k, v in expected.items() if "rate_pct" in v}
    assert parser.rows["fig-axes"] == [
        k for k in sorted(rates, key=lambda k: (k[0] != "plan", k[1])) if k[0] != "commitment"
    ]
    assert parser.rows["fig-engagements"] == sorted(k for k in rates if k[0] == "commitment")
    assert parser.rows["fig-statuts"] == sorted(
        k for k, v in expected.items() if any(f.startswith("activity_count:") for f in v)
    )
    assert len(parser.rows) == 3
    marks: dict[tuple, dict[str, list[dict]]] = {}
    for m in parser.marks:
        marks.setdefault((m["chart"], m["row"]), {}).setdefault(m["data-mark"], []).append(m)
    for chart in ("fig-axes", "fig-engagements"):
        for key in parser.rows[chart]:
            want, drawn = expected[key], marks.get((chart, key), {})
            [interval] = drawn["interval"]
            assert percent(interval["x"]) == pytest.approx(want["rate_min_pct"], abs=POSITION), key
            right = percent(interval["x"]) + percent(interval["width"])
            assert right == pytest.approx(want["rate_max_pct"], abs=2 * POSITION), key
            [point] = drawn["rate_pct"]
            assert percent(point["cx"]) == pytest.approx(want["rate_pct"], abs=POSITION), key
            if want["published_rate_pct"] is None:
                assert "published_rate_pct" not in drawn, key
            else:
                [diamond] = drawn["published_rate_pct"]
                assert percent(diamond["x"]) == pytest.approx(want["published_rate_pct"], abs=POSITION), key
    for key in parser.rows["fig-statuts"]:
        counts = {s: expected[key].get(f"activity_count:{s}", 0) for s in STATUS_VALUES}
        segments = marks[("fig-statuts", key)]
        assert set(segments) == {s for s, n in counts.items() if n}, key
        left = 0.0
        for status in STATUS_VALUES:
            if not counts[status]:
                continue
            [bar] = segments[status]
            assert bar["fill"] == STATUS_COLOURS[status]
            assert percent(bar["x"]) == pytest.approx(left, abs=2 * POSITION), (key, status)
            share = 100 * counts[status] / sum(counts.values())
            assert percent(bar["width"]) == pytest.approx(share, abs=POSITION), (key, status)
            left += share
        assert left == pytest.approx(100.0)


def test_chart_rows_say_their_figures_in_words(seed_release):
    """A screen reader gets each chart row's figures: the SVG is an image labelled with them."""
    _, release = seed_release
    page = (release / "index.html").read_text(encoding="utf-8")
    labels = re.findall(r'<svg class="plot[^"]*" height="\d+" role="img" aria-label="([^"]+)"', page)
    assert len(labels) == 1 + 5 + 5 + 22  # the plan and its axes, the axes' statuses, the commitments
    assert (
        "Ensemble du plan : taux calculé 74,8\u202f%, intervalle calculé 66,5 – 83,0\u202f%, taux publié 82\u202f%"
        in labels
    )
    assert any(label.startswith("Axe 1 · Transparence") and "complétée 75\u202f%" in label for label in labels)


def test_page_tells_what_a_reader_should_know(seed_in_browser):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", seed_in_browser.dom))
    assert "Le rapport ne publie pas de taux pour l'engagement 22" in text
    assert "compris entre 85 et 100" in text
    assert "6 des 22 taux publiés sont hors de l'intervalle" in text
    assert "engagement 16, activité 2 : aucune case cochée" in text
    assert "engagement 16, activité 3 : aucune case cochée" in text
    for name in (
        "Transparence et qualité des services publics",
        "Egalité et inclusion",
        "Justice ouverte",
        "Participation citoyenne",
        "Collectivités territoriales ouvertes",
    ):
        assert name in text
    assert PLAN_NAME_AR in text


# The page's file.


def test_release_holds_the_page_beside_the_package_not_in_it(seed_release):
    _, release = seed_release
    record = json.loads((release / "release.json").read_text(encoding="utf-8"))
    assert record["files"]["index.html"]["bytes"] == (release / "index.html").stat().st_size
    descriptor = json.loads((release / "datapackage.json").read_text(encoding="utf-8"))
    assert "index.html" not in {r["path"] for r in descriptor["resources"]}
    with zipfile.ZipFile(release / f"{SEED_ID}.zip") as archive:
        assert "index.html" not in archive.namelist()


def test_page_is_self_contained_and_in_french(seed_release):
    _, release = seed_release
    page = (release / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="fr">' in page
    assert f'content="{CONTENT_SECURITY_POLICY}"' in page and "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "<script" not in page and "<img" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(?:src|xlink:href)=["'](?!#)""", page)
    assert not re.search(r"url\((?!#)", page)
    charts = re.findall(r'<div class="chart" data-chart="([^"]+)"', page)
    assert charts == ["fig-axes", "fig-statuts", "fig-engagements"]
    assert "<svg" in page and "<img" not in page  # drawn inline, nothing to fetch
    for status in ("Non entamée", "Progression limitée", "Progression significative", "Complétée"):
        assert status in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "duplicate ids in the page"
    assert '<p class="ar" lang="ar" dir="rtl">' in page


def test_chart_colours_are_okabe_ito(seed_release):
    assert set(STATUS_COLOURS.values()) <= set(OKABE_ITO.values())
    assert len(set(STATUS_COLOURS.values())) == len(STATUS_COLOURS)
    assert {INTERVAL_COLOUR, COMPUTED_COLOUR, PUBLISHED_COLOUR} <= set(OKABE_ITO.values())
    assert len({INTERVAL_COLOUR, COMPUTED_COLOUR, PUBLISHED_COLOUR}) == 3
    _, release = seed_release
    page = (release / "index.html").read_text(encoding="utf-8")
    fills = set(re.findall(r'fill="(#[0-9A-Fa-f]{6})"', page))
    assert fills and fills <= set(OKABE_ITO.values()), fills


# Small inline tables.


def frame(table: str, rows: list[dict]) -> pd.DataFrame:
    columns = [f["name"] for f in table_fields(table)]
    return to_arrow(pd.DataFrame(rows, columns=columns), table).to_pandas()


def only_a_report_row() -> dict[str, pd.DataFrame]:
    report = {
        "report_id": "pan-b",
        "title": "Rapport B",
        "language": "fr",
        "source_file": "pan-b.txt",
        "source_sha256": "b" * 64,
        "source_encoding": "utf-8",
        "line_count": 10,
    }
    return {"reports": frame("reports", [report])}


def test_a_report_without_rates_still_gets_a_page_and_the_same_bytes_twice():
    page = build_report_page("pan-b", only_a_report_row())
    assert page == build_report_page("pan-b", only_a_report_row())
    text = page.decode("utf-8")
    assert "non publié" in text and "Aucun engagement dans ce rapport." in text
    assert PLAN_NAME_AR in text


def test_the_earlier_report_shortcut_agrees_with_the_database_pairing():
    """The page skips the database's pairing when no report comes just before; it must
    find the same earlier reports as the ``report_pairs`` view (same plan, ordered by
    month then id, both known)."""
    from pipeline.compute import pairing_tables

    base = {"title": "R", "language": "fr", "source_sha256": "a" * 64, "source_encoding": "utf-8", "line_count": 1}
    reports = [
        ("a-2023-07", "2021-2023", "2023-07"),
        ("b-2022-07", "2021-2023", "2022-07"),
        ("c-2022-07", "2021-2023", "2022-07"),  # same month: ordered by id
        ("d-nomonth", "2021-2023", None),
        ("e-noplan", None, "2024-01"),
        ("f-2019", "2018-2020", "2019-12"),
    ]
    rows = [{**base, "report_id": r, "plan_period": p, "as_of": a, "source_file": f"{r}.txt"} for r, p, a in reports]
    frames = {"reports": frame("reports", rows)}
    paired = set(pairing_tables(frames)["report_pairs"]["later_report_id"])
    assert paired == {"a-2023-07", "c-2022-07"}
    for report_id, _, _ in reports:
        assert has_earlier_report(report_id, frames["reports"]) == (report_id in paired), report_id
        alone = {"reports": frames["reports"][frames["reports"]["report_id"] == report_id]}
        assert not has_earlier_report(report_id, alone["reports"])


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("PROMOTION DE LA MISE EN ŒUVRE DU DROIT D'ACCÈS À L'INFORMATION AU NIVEAU DES DÉPARTEMENTS", 46, 2),
        ("Justice ouverte", 46, 2),
        ("Anticonstitutionnellement long", 10, 2),
        ("un deux trois quatre cinq six sept huit neuf dix onze douze", 12, 3),
    ],
)
def test_chart_labels_are_cut_between_words_only(text, width, lines):
    label = short_label(text, width, lines)
    words = text.split()
    shown = label.replace("\n", " ").removesuffix("…").split()
    assert len(label.split("\n")) <= lines
    assert shown == words[: len(shown)], label
    assert label.endswith("…") == (len(shown) < len(words))
