"""Nightly runs against the sample web: a first run archives everything; after the sites publish a few
stories, the next run fetches only those and stops paging early; recent stories are re-checked with
conditional requests, and an edited one becomes a new version.

Requests are counted on the server side (SampleWeb.requests), so nothing the crawler reports is taken on
trust. Synthetic content with four listing pages per category makes "stops paging early" visible.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.samples.server import RequestRecord, SampleWeb
from crawler.samples.site import VN_TZ, article_path, listing_page_url, page_count
from crawler.samples.synthetic import write_synthetic_content

PER_CATEGORY = 13  # four listing pages of four items per category
ADDED_TO = ("dvtu-namdinh", "giaothuy", "mttq-danang")  # nukeviet, tandan, wordpress
EDITED = "dvtu-namdinh"


def crawl(config: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db), *extra],
        capture_output=True, text=True, timeout=300,
    )


# Stories the sites publish between the runs: each with its own words, so none is taken for a copy.
STORIES = (
    (
        "Khánh thành cầu treo bản Nậm Mở sau ba tháng thi công",
        "Chiều nay, bà con bản Nậm Mở đã đi trên cây cầu treo mới dài 86 mét bắc qua suối.",
        ["Cây cầu do Mặt trận huyện vận động các doanh nghiệp góp vốn, nhân dân góp ngày công.",
         "Trước đây học sinh phải lội suối hoặc đi đò ngang, mùa lũ thường phải nghỉ học."],
    ),
    (
        "Hội thi nấu bánh chưng xanh chào xuân của phụ nữ phường Đông Hải",
        "Mười hai đội thi đã gói và luộc bánh suốt đêm trong sân nhà văn hóa khu phố.",
        ["Ban giám khảo chấm điểm theo độ vuông vức của bánh, màu lá dong và hương vị nhân đậu.",
         "Toàn bộ bánh được tặng các hộ nghèo và người già neo đơn trong phường dịp Tết."],
    ),
    (
        "Nông dân xã Hải Lý chuyển đổi ruộng trũng sang nuôi tôm càng xanh",
        "Vụ đầu tiên, mười bốn hộ tham gia mô hình đã thu lãi gấp ba lần so với trồng lúa.",
        ["Hội Nông dân xã phối hợp trạm khuyến nông mở lớp tập huấn kỹ thuật ao nuôi và thức ăn.",
         "Sang năm, diện tích nuôi dự kiến mở rộng lên hai mươi héc-ta ở các thôn ven đê."],
    ),
)


def new_story(site_id: str, category: str, number: int) -> dict:
    """Story ``number`` (1-3), published two hours ago."""
    title, lead, paragraphs = STORIES[number - 1]
    published = (datetime.now(VN_TZ) - timedelta(hours=2)).replace(second=0, microsecond=0)
    return {
        "id": 9000 + number,
        "slug": f"tin-moi-so-{number}-cua-{site_id}",
        "category": category,
        "title": title,
        "published": published.isoformat(),
        "lead": lead,
        "paragraphs": paragraphs,
    }


def article_paths(web: SampleWeb) -> set[tuple[str, str]]:
    return {(site.id, article_path(site, a)) for site in web.sites.values() for a in site.articles}


def paging_paths(web: SampleWeb) -> dict[tuple[str, str], tuple[str, int]]:
    """(site, path) of every listing page after the first -> (category, page number)."""
    found = {}
    for site in web.sites.values():
        for cat in site.categories:
            pages = page_count(len(site.sorted_articles(cat.key)))
            for number in range(2, pages + 2):  # one past the end too: it must never be asked for
                found[(site.id, listing_page_url(site, cat.key, number))] = (cat.key, number)
    return found


def requested(records: list[RequestRecord]) -> set[tuple[str, str]]:
    return {(r.site_id, r.path) for r in records}


def rows(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nightly")
    content = write_synthetic_content(tmp / "content", per_category=PER_CATEGORY)
    with SampleWeb(port=0, content_dir=content) as web:
        config = web.write_config(tmp / "sites.toml")
        db = tmp / "archive.db"
        runs: dict[str, dict] = {}

        def night(name: str) -> None:
            web.clear_requests()
            result = crawl(config, db)
            runs[name] = {
                "result": result,
                "requests": list(web.requests),
                "articles": article_paths(web),
                "paging": paging_paths(web),
            }

        night("first")
        added = {}
        for number, site_id in enumerate(ADDED_TO, 1):
            category = web.sites[site_id].categories[0].key
            added[site_id] = web.add_article(site_id, new_story(site_id, category, number))
        night("second")
        edited = web.update_article(
            EDITED, 9001, paragraphs=["Bản sửa: đoạn mở đầu đã được biên tập lại sau khi đăng.", "Đoạn hai giữ nguyên."]
        )
        night("third")
        yield {"web": web, "db": db, "runs": runs, "added": added, "edited": edited}


def test_first_run_archives_every_article(nights):
    first = nights["runs"]["first"]
    assert first["result"].returncode == 0, first["result"].stderr[-3000:]
    archived = {r["raw_url"] for r in rows(nights["db"], "select raw_url from pages where article_id is not null")}
    web = nights["web"]
    expected = {web.url(site_id, path) for site_id, path in first["articles"]}
    assert expected - archived == set()


def test_second_run_fetches_only_the_new_articles(nights):
    second = nights["runs"]["second"]
    assert second["result"].returncode == 0, second["result"].stderr[-3000:]
    fetched = requested(second["requests"]) & second["articles"]
    web = nights["web"]
    assert {web.url(*key) for key in fetched} == set(nights["added"].values())


def test_second_run_stops_paging_at_the_first_page_of_known_articles(nights):
    first, second = nights["runs"]["first"], nights["runs"]["second"]
    first_paging = requested(first["requests"]) & first["paging"].keys()
    second_paging = requested(second["requests"]) & second["paging"].keys()
    # The first run walked every page of every category, and no page past the end.
    assert {first["paging"][k][1] for k in first_paging} == {2, 3, 4}
    # The second: no page 3 or beyond anywhere, and no page 2 on the sites that published nothing. (A site
    # that published lists the new story in its "latest news" column on every page, so each of its
    # categories is read to page 2, where only known stories remain.)
    assert {second["paging"][k][1] for k in second_paging} == {2}
    assert {site_id for site_id, _ in second_paging} == set(ADDED_TO)
    assert len(second_paging) <= len(first_paging) / 3
    assert len(second["requests"]) < len(first["requests"]) / 2
    print(f"\nrequests: first run {len(first['requests'])} ({len(first_paging)} listing pages after the first), "
          f"second run {len(second['requests'])} ({len(second_paging)})")


def test_figures_are_stored_per_site(nights):
    crawls = rows(nights["db"], "select * from crawls order by id")
    assert len(crawls) == 3
    figures = json.loads(crawls[1]["figures"])
    for site_id in nights["web"].sites:
        site = figures[site_id]
        for key in ("requests", "listing_pages", "fetched", "new", "copy", "version", "errors", "seconds"):
            assert key in site, (site_id, key)
        assert site["new"] == (1 if site_id in ADDED_TO else 0)
        assert site["errors"] == {}
        assert site["seconds"] >= 0
    assert figures["_total"]["new"] == len(ADDED_TO)
    assert "requests" in nights["runs"]["second"]["result"].stdout.splitlines()[1]


def test_recent_stories_are_rechecked_conditionally(nights):
    third = nights["runs"]["third"]
    assert third["result"].returncode == 0, third["result"].stderr[-3000:]
    web = nights["web"]
    rechecks = [r for r in third["requests"] if web.url(r.site_id, r.path) in nights["added"].values()]
    assert len(rechecks) == len(ADDED_TO)
    assert all("If-None-Match" in r.headers for r in rechecks)
    statuses = {web.url(r.site_id, r.path): r.status for r in rechecks}
    assert statuses[nights["edited"]] == 200
    assert sorted(statuses.values()) == [200] + [304] * (len(ADDED_TO) - 1)
    # Nothing else is fetched: old stories are not recent, and no listing holds an unknown article.
    assert requested(third["requests"]) & third["articles"] == {(r.site_id, r.path) for r in rechecks}


def test_an_edited_story_becomes_a_new_version_and_unchanged_ones_are_not_rewritten(nights):
    db = nights["db"]
    crawls = rows(db, "select figures from crawls order by id")
    figures = json.loads(crawls[2]["figures"])
    assert figures[EDITED]["version"] == 1
    assert figures["_total"]["not_modified"] == len(ADDED_TO) - 1
    versions = rows(db, "select page_url, version, body from versions order by page_url, version")
    assert [v["version"] for v in versions] == [1, 2]
    assert "Bản sửa" in versions[1]["body"]
    for site_id, url in nights["added"].items():
        if site_id == EDITED:
            continue
        page = rows(db, "select crawl_id, version from pages where raw_url = ?", url)[0]
        assert (page["crawl_id"], page["version"]) == (2, 1)  # written by the second run, untouched since
        state = rows(db, "select status, not_modified from fetch_state where url = ?", url)[0]
        assert (state["status"], state["not_modified"]) == (304, 1)
