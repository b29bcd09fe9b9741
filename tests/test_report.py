"""The operator's crawl report (crawler/report.py): the sample web crawled twice, with a new story
between runs and one dead site; headless Chromium opens the HTML file from disk and counts the marks.

Screenshots go to artifacts/screenshots/ (kept by CI, ignored by git)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from servers import chromium

from crawler.report import build_report, shape_counts, write_report
from crawler.samples.server import SampleWeb

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
METRICS = ("fetched", "new", "copy", "errors")
DEAD = "dead-site"

# A site nobody answers for: nothing listens on this loopback address, so every request is refused at once.
DEAD_SITE_TOML = f"""
[[site]]
id = "{DEAD}"
name = "Cổng thông tin đã ngừng hoạt động"
province = "Hà Nội"
kind = "government"
start_urls = ["http://127.0.0.29:{{port}}/"]
"""


def crawl(config: Path, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )


def new_story(site_id: str, category: str) -> dict:
    published = datetime.now(UTC).replace(microsecond=0, second=0) - timedelta(hours=3)
    return {
        "id": 9101,
        "slug": f"tin-moi-cho-bao-cao-{site_id}",
        "category": category,
        "title": "Hội nghị tổng kết công tác dân vận năm nay",
        "published": published.isoformat(),
        "lead": "Sáng nay, hội nghị tổng kết công tác dân vận đã được tổ chức với sự tham dự của đại biểu các xã.",
        "paragraphs": ["Các đại biểu thống nhất những nhiệm vụ trọng tâm trong thời gian tới."],
    }


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two real crawls of the sample web plus a dead site (a new story between them); the dead site fails
    every run. More runs come from synthetic rows in test_window_holds_the_last_runs."""
    tmp = tmp_path_factory.mktemp("report")
    db = tmp / "archive.db"
    with SampleWeb(port=0) as web:
        config = web.write_config(tmp / "sites.toml")
        config.write_text(config.read_text(encoding="utf-8") + DEAD_SITE_TOML.format(port=web.port), encoding="utf-8")
        for run in range(2):
            if run == 1:
                web.add_article("hungyen", new_story("hungyen", web.sites["hungyen"].categories[0].key))
            result = crawl(config, db)
            assert result.returncode == 1, result.stderr[-3000:]  # 1: the dead site failed
    return db


def crawl_rows(db: Path) -> list[tuple[int, dict]]:
    conn = sqlite3.connect(db)
    try:
        return [(i, json.loads(f)) for i, f in conn.execute("SELECT id, figures FROM crawls ORDER BY id")]
    finally:
        conn.close()


def site_ids(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM sites ORDER BY id")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def open_offline(browser, url: str, screenshot: str):
    """Open ``url`` with every request off this machine refused; returns the page and the refused URLs."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    refused: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
    return page, refused


def test_report_in_browser(archive: Path, browser, tmp_path: Path) -> None:
    out = write_report(archive, tmp_path / "report.html")
    page, refused = open_offline(browser, out.resolve().as_uri(), "report.png")
    try:
        assert refused == []
        rows = page.query_selector_all("tr.site")
        assert [r.get_attribute("data-site") for r in rows][0] == DEAD  # the failed site comes first
        assert rows[0].get_attribute("data-state") == "failed"
        assert sorted(r.get_attribute("data-site") for r in rows) == site_ids(archive)
        first_attention = page.query_selector("#attention li")
        assert first_attention.get_attribute("data-site") == DEAD
        assert "không trang nào phản hồi" in first_attention.inner_text()
        runs = crawl_rows(archive)
        for site in site_ids(archive):
            for metric in METRICS:
                marks = page.query_selector_all(f'tr.site[data-site="{site}"] svg[data-metric="{metric}"] rect.mark')
                assert len(marks) == len(runs), (site, metric)
                # one mark per run, in run order, each holding that run's figure
                assert [int(m.get_attribute("data-run")) for m in marks] == [i for i, _ in runs]
                if metric != "errors":
                    values = [int(m.get_attribute("data-value")) for m in marks]
                    assert values == [figures[site].get(metric, 0) for _, figures in runs], (site, metric)
        # the story added before the second run is that run's one new story
        new_marks = page.query_selector_all('tr.site[data-site="hungyen"] svg[data-metric="new"] rect.mark')
        assert [int(m.get_attribute("data-value")) for m in new_marks][1:] == [1]
        errors = page.query_selector_all(f'tr.site[data-site="{DEAD}"] svg[data-metric="errors"] rect.mark')
        assert all("failed" in m.get_attribute("class") for m in errors)
    finally:
        page.close()


def test_silent_sites_listed_after_failed(archive: Path) -> None:
    later = datetime.now(UTC) + timedelta(days=20)
    report = build_report(archive, silent_days=14, now=later)
    states = [s.state for s in report.sites]
    assert states[0] == "failed" and set(states[1:]) == {"silent"}
    assert all("không có tin mới 2" in s.reasons[0] for s in report.sites[1:])
    # with today's clock nothing but the dead site needs a look
    report = build_report(archive, silent_days=14)
    assert [(s.id, s.state) for s in report.attention] == [(DEAD, "failed")]
    assert any("chưa có tin bài nào" in r for r in report.attention[0].reasons)


def test_window_holds_the_last_runs(archive: Path, browser, tmp_path: Path) -> None:
    """Synthetic history (test data only): 35 more runs in a copy; the report charts the last 30."""
    db = tmp_path / "copy.db"
    shutil.copy(archive, db)
    conn = sqlite3.connect(db)
    try:
        sites, figures_json = conn.execute("SELECT sites, figures FROM crawls ORDER BY id DESC LIMIT 1").fetchone()
        for day in range(35):
            figures = json.loads(figures_json)
            for site_id, counts in figures.items():
                if isinstance(counts, dict) and site_id != DEAD and "fetched" in counts:
                    counts.update(new=day % 4, copy=day % 3, fetched=day % 4 + day % 3 + 2)
            start = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)).isoformat()
            conn.execute(
                "INSERT INTO crawls (started_at, finished_at, sites, args, figures, status) "
                "VALUES (?, ?, ?, '{\"test\": \"synthetic\"}', ?, 'finished')",
                (start, start, sites, json.dumps(figures)),
            )
        conn.commit()
    finally:
        conn.close()
    report = build_report(db, runs=30)
    assert len(report.runs) == 30
    assert all(len(spark.marks) == 30 for site in report.sites for spark in site.sparks)
    assert report.sites[0].failed_runs == 30
    assert len(build_report(db, runs=5).runs) == 5
    out = write_report(db, tmp_path / "report.html", runs=30)
    page, refused = open_offline(browser, out.resolve().as_uri(), "report-30-runs.png")
    try:
        assert refused == []
        for site in site_ids(db):
            for metric in METRICS:
                marks = page.query_selector_all(f'tr.site[data-site="{site}"] svg[data-metric="{metric}"] rect.mark')
                assert len(marks) == 30, (site, metric)
    finally:
        page.close()


def test_old_flat_error_figures_are_read() -> None:
    shaped = shape_counts({"fetched": 4, "error:timeout": 2, "listing_error:http-500": 1, "errors": {"dns": 1}})
    assert shaped["errors"] == {"dns": 1, "timeout": 2}
    assert shaped["listing_errors"] == {"http-500": 1}
    assert "error:timeout" not in shaped


def test_empty_archive_and_cli(tmp_path: Path) -> None:
    from archive.store import Archive

    db = tmp_path / "empty.db"
    Archive(db).close()
    out = tmp_path / "sub" / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "crawler", "report", "--db", str(db), "--out", str(out), "--silent-days", "3"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert 'id="no-runs"' in html and "<script" not in html
    missing = subprocess.run(
        [sys.executable, "-m", "crawler", "report", "--db", str(tmp_path / "nope.db"), "--out", str(out)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert missing.returncode == 2 and "no such archive file" in missing.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(other).close()
    not_archive = subprocess.run(
        [sys.executable, "-m", "crawler", "report", "--db", str(other), "--out", str(out)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert not_archive.returncode == 2 and "not an archive" in not_archive.stderr
