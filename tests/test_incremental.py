"""Nightly runs against the sample web: a first run archives everything; after the sites publish a few
stories, the next run fetches only those and stops paging early; recent stories are re-checked with
conditional requests, and an edited one becomes a new version.

Requests are counted on the server side (SampleWeb.requests), so nothing the crawler reports is taken on
trust. Synthetic content with four listing pages per category makes "stops paging early" visible.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

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


# -- pagination traps and backfill limits ---------------------------------------------------------------

TRAP_ARTICLE = """<html><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1>{title}</h1><p class="date">Ngày 15/01/2024</p><div class="content">
<p>Bài số {n} kể lại cuộc họp của ban công tác mặt trận thôn về việc sửa đường làng và nạo vét mương.</p>
<p>Bà con đã góp ý kiến về mức đóng góp, thời gian làm và cách chia phần việc giữa các xóm số {n}.</p>
<p>Cuối buổi, trưởng thôn tổng hợp ý kiến, giao các tổ tự quản theo dõi tiến độ công trình {n}.</p>
</div></body></html>"""


class TrapHandler(BaseHTTPRequestHandler):
    """A site with the traps real portals have: a pager that never ends (every page has three new stories
    and links pages N+1, N+2 and 99999), a pager that serves the same page under every number, a work
    calendar whose every week links the week before, and date archives."""

    protocol_version = "HTTP/1.1"
    seen: list[str]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.seen.append(self.path)
        parts = urlsplit(self.path)
        page = int(parse_qs(parts.query).get("page", ["1"])[0])
        if parts.path == "/":
            body = '<a href="/tin-tuc">Tin tức</a> <a href="/thong-bao">Thông báo</a> ' \
                   '<a href="/lich-cong-tac?tuan=40">Lịch công tác</a> <a href="/2024/01/">Tháng 1/2024</a>'
        elif parts.path == "/tin-tuc":
            links = "".join(f'<li><a href="/tin-tuc/bai-viet-so-{page * 1000 + k}.html">Bài {page}.{k}</a></li>'
                            for k in range(3))
            pager = "".join(f'<a href="/tin-tuc?page={n}">{n}</a>' for n in (page + 1, page + 2, 99999))
            body = f"<ul>{links}</ul><div class='paging'>{pager}</div>"
        elif parts.path == "/thong-bao":
            body = '<ul><li><a href="/thong-bao/thong-bao-so-101.html">Thông báo</a></li></ul>' \
                   f'<a href="/thong-bao?page={page + 1}">Sau</a>'
        elif parts.path == "/lich-cong-tac":
            week = int(parse_qs(parts.query).get("tuan", ["1"])[0])
            body = f'<a href="/lich-cong-tac?tuan={week - 1}">Tuần trước</a>'
        elif re.fullmatch(r"/(tin-tuc|thong-bao)/[\w-]+-\d+\.html", parts.path):
            number = int(re.search(r"(\d+)\.html", parts.path).group(1))
            return self._send(200, TRAP_ARTICLE.format(title=f"Họp bàn sửa đường làng, bài {number}", n=number))
        else:
            return self._send(404, "<p>Không tìm thấy</p>")
        self._send(200, f"<html><body>{body}</body></html>")

    def _send(self, status: int, html: str) -> None:
        data = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


TRAP_CONFIG = """
[crawler]
contact = "trap-tests@example.org"
download_delay = 0.02
autothrottle_start_delay = 0.02
max_page_number = 5

[crawler.backfill]
max_page_number = 8

[[site]]
id = "trap"
name = "Trang bẫy phân trang"
province = "Thử nghiệm"
kind = "front"
family = "generic"
start_urls = ["http://127.0.0.1:{port}/"]
"""


@pytest.fixture(scope="module")
def trap(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trap")
    handler = type("Handler", (TrapHandler,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        config = tmp / "trap.toml"
        config.write_text(TRAP_CONFIG.replace("{port}", str(server.server_address[1])), encoding="utf-8")
        nightly = crawl(config, tmp / "trap.db")
        nightly_seen = list(handler.seen)
        handler.seen.clear()
        backfill = crawl(config, tmp / "trap.db", "--backfill")
        yield {"nightly": nightly, "nightly_seen": nightly_seen, "backfill": backfill, "backfill_seen": handler.seen}
    finally:
        server.shutdown()
        server.server_close()


def pages_of(seen: list[str], path: str) -> set[int]:
    return {int(parse_qs(urlsplit(p).query).get("page", ["1"])[0]) for p in seen if urlsplit(p).path == path}


def test_an_endless_pager_stops_at_the_page_number_limit(trap):
    assert trap["nightly"].returncode == 0, trap["nightly"].stderr[-3000:]
    assert pages_of(trap["nightly_seen"], "/tin-tuc") == {1, 2, 3, 4, 5}
    assert len([p for p in trap["nightly_seen"] if p.startswith("/tin-tuc/")]) == 15


def test_a_pager_repeating_one_page_stops_at_the_first_repeat(trap):
    assert pages_of(trap["nightly_seen"], "/thong-bao") == {1, 2}


def test_calendars_and_date_archives_are_never_walked(trap):
    for seen in (trap["nightly_seen"], trap["backfill_seen"]):
        assert not [p for p in seen if p.startswith(("/lich-cong-tac", "/2024/"))]


def test_backfill_walks_further_within_its_own_limit(trap):
    assert trap["backfill"].returncode == 0, trap["backfill"].stderr[-3000:]
    assert pages_of(trap["backfill_seen"], "/tin-tuc") == set(range(1, 9))
    articles = [p for p in trap["backfill_seen"] if p.startswith("/tin-tuc/")]
    assert len(articles) == 9  # pages 6-8: the stories of pages 1-5 are archived already
