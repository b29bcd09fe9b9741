"""Politeness, measured on the server side of the sample web: robots.txt obeyed, a User-Agent with the
configured contact, one request at a time per site, a site's own delay kept, page budgets respected."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from protego import Protego

from crawler.samples.server import RequestRecord, SampleWeb
from crawler.samples.site import article_path

CONTACT = "nightly-ops@example.org"
SLOW_SITE, SLOW_DELAY, SLOW_BUDGET = "anlao", 0.3, 8
LATENCY = 0.03  # each answer takes this long, so two requests in flight at once would overlap


def crawl(config: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db), *extra],
        capture_output=True, text=True, timeout=300,
    )


def with_site_keys(config_text: str, site_id: str, keys: str) -> str:
    """The config with extra keys in one site's table (appended after its id line)."""
    return config_text.replace(f'id = "{site_id}"\n', f'id = "{site_id}"\n{keys}\n', 1)


def slow_answers(web: SampleWeb) -> None:
    respond = web.respond

    def slowly(site_id: str, raw_path: str):  # noqa: ANN202 (same as SampleWeb.respond)
        time.sleep(LATENCY)
        return respond(site_id, raw_path)

    web.respond = slowly  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def polite(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("polite")
    with SampleWeb(port=0) as web:
        slow_answers(web)
        text = web.config_toml().replace('contact = "sample-web@example.org"', f'contact = "{CONTACT}"')
        config = tmp / "sites.toml"
        config.write_text(text, encoding="utf-8")
        whole = crawl(config, tmp / "whole.db")
        whole_requests, most_in_flight = list(web.requests), dict(web.max_in_flight)
        robots = {site_id: Protego.parse(web.respond(site_id, "/robots.txt").body.decode()) for site_id in web.sites}

        web.clear_requests()
        slowed = tmp / "slowed.toml"
        slowed.write_text(
            with_site_keys(text, SLOW_SITE, f"download_delay = {SLOW_DELAY}\nmax_pages = {SLOW_BUDGET}"), "utf-8"
        )
        paced = crawl(slowed, tmp / "paced.db", "--site", SLOW_SITE, "--site", "danang")
        yield {
            "web": web, "whole": whole, "whole_requests": whole_requests, "robots": robots,
            "most_in_flight": most_in_flight,
            "whole_db": tmp / "whole.db", "paced": paced, "paced_requests": list(web.requests),
            "paced_db": tmp / "paced.db",
        }


def figures(db: Path) -> dict:
    conn = sqlite3.connect(db)
    try:
        return json.loads(conn.execute("select figures from crawls order by id desc limit 1").fetchone()[0])
    finally:
        conn.close()


def test_robots_txt_is_obeyed(polite):
    assert polite["whole"].returncode == 0, polite["whole"].stderr[-3000:]
    agent = "vn-gov-news-archive"
    refused = [
        (r.site_id, r.path) for r in polite["whole_requests"]
        if not polite["robots"][r.site_id].can_fetch(polite["web"].url(r.site_id, r.path), agent)
    ]
    assert refused == []
    # Not vacuous: the sample pages link disallowed paths (search pages), and the crawler met them.
    assert figures(polite["whole_db"])["_total"]["robots_forbidden"] >= 1


def test_user_agent_names_the_crawler_and_the_configured_contact(polite):
    agents = {r.headers.get("User-Agent", "") for r in polite["whole_requests"]}
    assert agents and all(CONTACT in a and "vn-gov-news-archive" in a for a in agents), agents


def test_one_request_at_a_time_per_site(polite):
    web = polite["web"]
    assert polite["most_in_flight"] == {site_id: 1 for site_id in web.sites}
    for site_id in web.sites:
        spans = sorted((r.started, r.finished) for r in polite["whole_requests"] if r.site_id == site_id)
        overlaps = [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]
        assert overlaps == [], site_id
    # The measure can see overlap: the sites themselves were crawled side by side.
    assert overlapping_sites(polite["whole_requests"]) > 1


def overlapping_sites(records: list[RequestRecord]) -> int:
    """The most sites that had a request in flight at the same moment."""
    events = sorted([(r.started, 1, r.site_id) for r in records] + [(r.finished, -1, r.site_id) for r in records])
    live: dict[str, int] = {}
    most = 0
    for _, step, site_id in events:
        live[site_id] = live.get(site_id, 0) + step
        most = max(most, sum(1 for n in live.values() if n > 0))
    return most


def test_a_sites_own_delay_is_kept_between_its_requests(polite):
    assert polite["paced"].returncode == 0, polite["paced"].stderr[-3000:]
    records = polite["paced_requests"]
    slow = sorted(r.started for r in records if r.site_id == SLOW_SITE)
    gaps = [b - a for a, b in pairwise(slow)]
    assert len(gaps) >= 5
    assert min(gaps) >= SLOW_DELAY - 0.05, gaps
    # The other site kept its own, shorter pace in the same run.
    quick = sorted(r.started for r in records if r.site_id == "danang")
    assert min(b - a for a, b in pairwise(quick)) < SLOW_DELAY - 0.05


def test_a_sites_page_budget_stops_it(polite):
    web = polite["web"]
    site = web.sites[SLOW_SITE]
    articles = {article_path(site, a) for a in site.articles}
    pages = [r.path for r in polite["paced_requests"] if r.site_id == SLOW_SITE]
    # The budget counts listing and article pages; robots.txt and the sitemap are not pages of the site.
    counted = [p for p in pages if p != "/robots.txt" and not re.search(r"sitemap.*\.xml$", p)]
    assert len(counted) == SLOW_BUDGET, counted
    assert len(articles & set(counted)) < len(articles)
    site_figures = figures(polite["paced_db"])[SLOW_SITE]
    assert site_figures["budget_reached"] == 1
    assert "danang" in figures(polite["paced_db"]) and figures(polite["paced_db"])["danang"]["fetched"] == 10
