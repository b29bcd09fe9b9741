"""The archivists' chart (archive/charts.py, datasette-dashboards): Datasette serves the sample web's archive,
headless Chromium loads the dashboard with every off-machine request refused, and the bars are read back
(each carries an aria-label "tháng M/YYYY: N tin bài") and compared with the archive.

Screenshots go to artifacts/screenshots/charts-*.png (kept by CI, ignored by git)."""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import chromium, datasette

from archive.charts import chart_path, dashboards
from crawler.samples.server import SampleWeb

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
MONTH_BARS = "#chart-theo-thang svg .mark-rect path"
SITE_BARS = "#chart-theo-trang svg .mark-rect path"
MONTH_LABEL = re.compile(r"^tháng (\d{1,2})/(\d{4}): (\d+) tin bài$")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("charts")
    db = tmp / "news.db"
    with SampleWeb(port=0) as web:
        config = web.write_config(tmp / "sites.toml")
        result = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
            capture_output=True, text=True, timeout=300, cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-3000:]
    return db


@pytest.fixture(scope="module")
def server(archive: Path) -> Iterator[str]:
    # the chart is drawn by this plugin: without it the dashboard routes would answer 404
    assert importlib.util.find_spec("datasette_dashboards"), "datasette-dashboards is not installed"
    with datasette(archive) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser, server: str):
    """A page that may only talk to the Datasette under test; ``page.refused`` lists what it tried else."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.refused = []

    def route(r) -> None:
        if r.request.url.startswith((server, "data:", "about:", "blob:")):
            r.continue_()
        else:
            page.refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    assert page.refused == [], "the chart page must load nothing from the internet"
    page.close()


def expected_months(db: Path, where: str = "", *params: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        sql = (
            "SELECT substr(published, 1, 7), count(*) FROM articles WHERE published IS NOT NULL "
            f"{where} GROUP BY 1"
        )
        return dict(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def expected_sites(db: Path, where: str = "", *params: str) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        sql = f"SELECT s.name, count(*) FROM articles a JOIN sites s ON s.id = a.site_id WHERE 1 = 1 {where} GROUP BY 1"
        return dict(conn.execute(sql, params).fetchall())
    finally:
        conn.close()


def month_bars(page) -> dict[str, int]:
    """The month chart's bars as {YYYY-MM: stories}, read from each bar's aria-label."""
    page.wait_for_selector(MONTH_BARS)
    found = {}
    for bar in page.query_selector_all(MONTH_BARS):
        match = MONTH_LABEL.match(bar.get_attribute("aria-label") or "")
        assert match, bar.get_attribute("aria-label")
        month, year, count = match.groups()
        found[f"{year}-{int(month):02d}"] = int(count)
    return found


def site_bars(page) -> dict[str, int]:
    page.wait_for_selector(SITE_BARS)
    labels = [bar.get_attribute("aria-label") or "" for bar in page.query_selector_all(SITE_BARS)]
    return {name: int(count.removesuffix(" tin bài")) for name, count in (label.rsplit(": ", 1) for label in labels)}


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"charts-{name}.png"), full_page=True)


def test_whole_archive_from_the_home_page(page, server: str, archive: Path) -> None:
    page.goto(server + "/")
    page.click("a#chart-link")
    page.wait_for_url(re.compile(r"/-/dashboards/tin-bai$"))
    months, sites = month_bars(page), site_bars(page)
    shoot(page, "all")
    assert months == expected_months(archive)
    assert sites == expected_sites(archive)
    assert page.inner_text("h1") == "Số tin bài theo tháng"
    total = sum(expected_months(archive).values())
    page.wait_for_selector("#chart-tong-so p")  # the figure is fetched and drawn after the page loads
    assert f"{total} tin bài" in page.inner_text("#chart-tong-so")


def test_site_row_links_to_its_chart_and_the_chart_shows_only_that_site(page, server: str, archive: Path) -> None:
    page.goto(server + f"/{archive.stem}/sites/danang")
    page.click("a.chart-link")
    page.wait_for_url(re.compile(r"\?site=danang$"))
    months = month_bars(page)
    shoot(page, "site-danang")
    assert months == expected_months(archive, "AND site_id = ?", "danang")
    assert months != expected_months(archive)
    assert list(site_bars(page)) == ["Cổng thông tin điện tử thành phố Đà Nẵng"]


def test_province_and_kind_filters(page, server: str, archive: Path) -> None:
    page.goto(server + chart_path(province="Nam Định"))
    assert month_bars(page) == expected_months(archive, "AND province = ?", "Nam Định")
    assert set(site_bars(page)) == set(expected_sites(archive, "AND a.province = ?", "Nam Định"))
    shoot(page, "province")
    page.goto(server + chart_path(kind="front"))
    assert month_bars(page) == expected_months(archive, "AND kind = ?", "front")


def test_a_click_on_a_month_opens_its_stories(page, server: str, archive: Path) -> None:
    page.goto(server + chart_path(site="danang"))
    month_bars(page)
    bar = page.query_selector_all(MONTH_BARS)[-1]  # the newest month of the site
    month = max(expected_months(archive, "AND site_id = ?", "danang"))
    bar.click()
    page.wait_for_url(re.compile(rf"/{archive.stem}/articles\?published__startswith={month}&site_id=danang$"))
    shoot(page, "month-stories")
    heading = page.inner_text("h3")
    count = expected_months(archive, "AND site_id = ?", "danang")[month]
    assert heading.startswith(f"{count} row"), heading
    published = [cell.inner_text() for cell in page.query_selector_all("td.col-published")]
    assert published and all(p.startswith(month) for p in published)


def test_dashboard_config_names_the_database() -> None:
    config = dashboards("my archive")["datasette-dashboards"]["tin-bai"]
    assert {chart["db"] for chart in config["charts"].values()} == {"my archive"}
    # the link is in Datasette's URL form of the name (tilde encoding: no quote can end the SQL string)
    assert "'/my+archive/articles?published__startswith='" in config["charts"]["theo-thang"]["query"]
    assert "'/it~27s/articles" in dashboards("it's")["datasette-dashboards"]["tin-bai"]["charts"]["theo-thang"]["query"]
    assert chart_path(site="danang", province="", kind=None) == "/-/dashboards/tin-bai?site=danang"
    with pytest.raises(ValueError):
        chart_path(year="2024")
