"""Several machines: two crawler processes share one crawl through a real redis-server, one writer archives it.

The sample web counts every request on the server side, per path and per crawler (each crawler's config has its
own contact, so its User-Agent tells them apart).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from scrapy import Request
from scrapy.utils.request import request_from_dict
from servers import free_port

from archive.ingest import main_ingest
from crawler.config import CrawlerOptions
from crawler.crawl import crawl_lock
from crawler.samples.server import SampleWeb
from crawler.scaleout import Keys, RedisDupeFilter, dumps, loads
from crawler.spiders.news import ALL_BUT_REDIRECTS, NewsSpider

ROOT = Path(__file__).resolve().parents[1]
EXPECTED_DIR = ROOT / "crawler" / "samples" / "expected"
CRAWLERS = ("a", "b")
IDLE = "4"  # seconds a crawler waits on an empty shared queue before it closes
KEYS = Keys()
LATENCY = 0.03  # each answer takes this long, so that two requests to one site at once would overlap


def redis_server_path() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else "")
    if not found:
        pytest.fail("redis-server is not installed: the scale-out test needs it (.ci/run installs the Debian "
                    "package redis-server; locally: apt-get install redis-server)")
    return found




@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A private redis-server on a free loopback port, nothing saved to disk."""
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    server = subprocess.Popen(
        [redis_server_path(), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def expectations() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(EXPECTED_DIR.glob("*.json")):
        for url_path, expected in json.loads(path.read_text(encoding="utf-8")).items():
            found[(expected["site_id"], url_path)] = expected
    return found


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def hold_answers_until_joined(web: SampleWeb, url: str, crawlers: int) -> None:
    """Cron starts every host at the same minute; here the web answers once both crawlers have joined the run,
    so that neither can finish the whole crawl before the other has even started (it would begin a new run).
    Each answer takes LATENCY seconds, as in tests/test_politeness.py."""
    server = redis.Redis.from_url(url)
    joined = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.zcard(KEYS.crawlers) < crawlers:
            time.sleep(0.05)
        joined.set()

    threading.Thread(target=watch, daemon=True).start()
    respond = web.respond

    def after_join(site_id: str, raw_path: str):  # noqa: ANN202 (same as SampleWeb.respond)
        joined.wait(timeout=60)
        time.sleep(LATENCY)
        return respond(site_id, raw_path)

    web.respond = after_join  # type: ignore[method-assign]


def run(command: list[str], env: dict[str, str], tmp: Path, name: str) -> subprocess.Popen:
    with open(tmp / f"{name}.out", "w") as out, open(tmp / f"{name}.err", "w") as err:
        return subprocess.Popen([sys.executable, "-m", *command], env=env, stdout=out, stderr=err)


@pytest.fixture(scope="module")
def shared(tmp_path_factory, redis_url) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("scaleout")
    db = tmp / "archive.db"
    env = {**os.environ, "CRAWL_QUIET": "1"}
    with SampleWeb(port=0) as web:
        hold_answers_until_joined(web, redis_url, len(CRAWLERS))
        for name in CRAWLERS:
            text = web.config_toml().replace('contact = "sample-web@example.org"', f'contact = "crawler-{name}@x.org"')
            (tmp / f"{name}.toml").write_text(text, encoding="utf-8")
        started = time.monotonic()
        procs = {
            name: run(["crawler", "crawl", "--sites", str(tmp / f"{name}.toml"), "--redis", redis_url,
                       "--redis-idle", IDLE], env, tmp, name)
            for name in CRAWLERS
        }
        procs["writer"] = run(["archive", "ingest", "--redis", redis_url, "--db", str(db), "--until-idle", "5"],
                              env, tmp, "writer")
        status = wait_all(procs, tmp, started)
        seconds = time.monotonic() - started
        server = redis.Redis.from_url(redis_url)
        lengths = {key: server.llen(key) for key in (*KEYS.lists(), KEYS.dead)}
        first, in_flight = list(web.requests), dict(web.max_in_flight)
        queue = server.exists(KEYS.requests, KEYS.dupefilter)

        # The next night, one crawler given the archive (read while the writer holds its lock): nothing new.
        web.clear_requests()
        again = {
            "again": run(["crawler", "crawl", "--sites", str(tmp / "a.toml"), "--redis", redis_url, "--redis-idle",
                          IDLE, "--db", str(db)], env, tmp, "again"),
            "writer-again": run(["archive", "ingest", "--redis", redis_url, "--db", str(db), "--until-idle", "5"],
                                env, tmp, "writer-again"),
        }
        status |= wait_all(again, tmp, time.monotonic())
        yield {
            "tmp": tmp, "db": db, "status": status, "seconds": seconds, "lengths": lengths,
            "requests": first, "queue": queue, "again": list(web.requests), "in_flight": in_flight,
        }


def wait_all(procs: dict[str, subprocess.Popen], tmp: Path, started: float, limit: float = 90) -> dict[str, int]:
    status = {}
    for name, proc in procs.items():
        try:
            status[name] = proc.wait(timeout=max(1.0, limit - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            for other in procs.values():
                other.kill()
            pytest.fail(f"{name} still running after {limit} s: {(tmp / f'{name}.err').read_text()[-2000:]}")
    return status


def output(shared: dict[str, Any], name: str) -> str:
    return (shared["tmp"] / f"{name}.out").read_text() + (shared["tmp"] / f"{name}.err").read_text()[-3000:]


def rows(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def crawler_of(user_agent: str) -> str:
    return next(name for name in CRAWLERS if f"crawler-{name}@" in user_agent)


# -- the shared crawl -------------------------------------------------------------------------------------


def test_crawlers_and_writer_exit_zero(shared):
    for name in (*CRAWLERS, "writer"):
        assert shared["status"][name] == 0, output(shared, name)
    assert "a run of 2 crawlers" in output(shared, "writer")
    assert shared["seconds"] < 90


def test_every_story_archived_once(shared):
    pages = {(row["site_id"], path_of(row["url"])): row for row in rows(shared["db"], "select * from pages")}
    expected = expectations()
    assert len(expected) >= 48
    missing = [key for key in expected if key not in pages]
    assert not missing, f"not archived: {missing[:5]}"
    assert len(pages) == len(expected), "pages archived beyond the sample articles"
    assert all(pages[key]["article_id"] is not None for key in expected)
    # Duplicates grouped as by one crawler (tests/test_end_to_end.py): one story per group, groups apart.
    groups: dict[str, set[int]] = defaultdict(set)
    for key, exp in expected.items():
        groups[exp["dup_group"]].add(pages[key]["article_id"])
    assert all(len(ids) == 1 for ids in groups.values()), {g: ids for g, ids in groups.items() if len(ids) > 1}
    assert len({next(iter(ids)) for ids in groups.values()}) == len(groups)
    assert rows(shared["db"], "select count(*) as n from articles")[0]["n"] == len(groups)


def test_pages_read_as_by_one_crawler(shared):
    """Each page's own title and date (listing dates travel with the requests), and each story's canonical
    copy the original its copies name (tests/test_end_to_end.py)."""
    pages = {(row["site_id"], path_of(row["url"])): row for row in rows(shared["db"], "select * from pages")}
    articles = {row["id"]: row for row in rows(shared["db"], "select * from articles")}
    expected = expectations()
    wrong = [(key, pages[key]["title"], pages[key]["published"]) for key, exp in expected.items()
             if (pages[key]["title"], pages[key]["published"]) != (exp["title"], exp["published"])]
    assert not wrong, wrong[:5]
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, exp in expected.items():
        groups[exp["dup_group"]].append(key)
    for keys in (keys for keys in groups.values() if len(keys) > 1):
        original = next(key for key in keys if not expected[key]["source"])
        story = articles[pages[keys[0]]["article_id"]]
        assert (story["site_id"], path_of(story["url"])) == original


def test_no_url_fetched_twice_and_both_crawlers_worked(shared):
    requests = [r for r in shared["requests"] if r.path != "/robots.txt"]  # each crawler reads robots.txt
    twice = {key: n for key, n in Counter((r.site_id, r.path) for r in requests).items() if n > 1}
    assert not twice, f"fetched more than once: {list(twice.items())[:5]}"
    per_crawler = Counter(crawler_of(r.headers.get("User-Agent", "")) for r in requests)
    assert set(per_crawler) == set(CRAWLERS) and min(per_crawler.values()) > 0, per_crawler
    articles = {(site, path) for site, path in expectations()}
    fetched = {(r.site_id, r.path) for r in requests}
    assert articles <= fetched
    print(f"requests per crawler (robots.txt aside): {dict(per_crawler)}; {len(articles)} articles; "
          f"{shared['seconds']:.1f} s")


def test_one_request_at_a_time_per_site_across_crawlers(shared):
    assert shared["in_flight"] and max(shared["in_flight"].values()) == 1, shared["in_flight"]


def test_one_crawls_row_with_the_summed_figures(shared):
    crawls = rows(shared["db"], "select * from crawls order by id")  # the second is the next night's
    assert crawls[0]["status"] == "finished"
    figures = json.loads(crawls[0]["figures"])
    assert len({c["crawler"] for c in figures["_crawlers"]}) == 2
    total = figures["_total"]
    assert total["fetched"] == total["new"] + total["copy"] == len(expectations())
    assert total["requests"] == len(shared["requests"])  # robots.txt included, as in a local crawl
    assert figures["_dead_letters"] == 0


def test_redis_is_left_clean(shared):
    assert shared["lengths"] == dict.fromkeys((*KEYS.lists(), KEYS.dead), 0)
    assert shared["queue"] == 0, "the last crawler clears the shared queue and dupefilter"


def test_a_crawler_given_the_archive_fetches_no_known_story_again(shared):
    for name in ("again", "writer-again"):
        assert shared["status"][name] == 0, output(shared, name)
    articles = {path for _, path in expectations()}
    refetched = [r.path for r in shared["again"] if r.path in articles]
    assert not refetched, refetched[:5]
    crawls = rows(shared["db"], "select * from crawls order by id")
    assert len(crawls) == 2
    total = json.loads(crawls[1]["figures"])["_total"]
    assert total.get("new", 0) == total.get("version", 0) == 0
    assert rows(shared["db"], "select count(*) as n from pages")[0]["n"] == len(expectations())


# -- pieces ------------------------------------------------------------------------------------------------


def test_codec_round_trip_keeps_bytes_and_request_callbacks():
    spider = NewsSpider(sites=[], options=CrawlerOptions())
    request = Request(
        "http://example.org/a?b=1", callback=spider.parse_article, errback=spider.failed, priority=10,
        headers={"If-None-Match": '"x"'}, body=b"\x00\xff" * 600,
        meta={"site_id": "s", "handle_httpstatus_list": ALL_BUT_REDIRECTS, "redirect_urls": ["http://e/1"]},
    )
    again = request_from_dict(loads(dumps(request.to_dict(spider=spider))), spider=spider)
    assert (again.url, again.body, again.priority) == (request.url, request.body, 10)
    assert again.callback == spider.parse_article and again.errback == spider.failed
    assert again.headers[b"If-None-Match"] == b'"x"'
    assert 500 in again.meta["handle_httpstatus_list"] and 302 not in again.meta["handle_httpstatus_list"]
    tricky = {"$b": "not bytes", "raw": b"\x01", "nested": [{b"k": (1, 2.5, None, True)}]}
    assert loads(dumps(tricky)) == {"$b": "not bytes", "raw": b"\x01", "nested": [{b"k": [1, 2.5, None, True]}]}
    with pytest.raises(TypeError):
        dumps({"x": object()})


def test_dupefilter_takes_tracking_parameters_for_the_same_page(redis_url):
    server = redis.Redis.from_url(redis_url.replace("/0", "/2"))
    seen = RedisDupeFilter(server, key="test:dupefilter")
    assert not seen.request_seen(Request("http://example.org/tin/a.html"))
    assert seen.request_seen(Request("http://example.org/tin/a.html?utm_source=zalo#top"))
    assert not seen.request_seen(Request("http://example.org/tin/b.html"))
    server.flushdb()


def test_budgets_hold_for_the_run_across_crawlers(redis_url):
    """Two crawlers (two SharedBudgets on one Redis hash) taking turns: together they get what one would."""
    from crawler.budgets import Budgets
    from crawler.scaleout import SharedBudgets

    server = redis.Redis.from_url(redis_url.replace("/0", "/3"))
    options = CrawlerOptions()
    limits = {s: replace(options.limits(None), max_pages_per_site=5, max_listing_pages=2) for s in ("x", "y")}
    crawlers = [SharedBudgets(server, "test:budgets", Budgets(limits, run_limit=8)) for _ in range(2)]
    taken_x = [crawlers[i % 2].take("x") for i in range(10)]
    assert taken_x == [True] * 5 + [False] * 5  # the site's budget, whichever crawler asks
    taken_y = [crawlers[i % 2].take("y") for i in range(10)]
    assert sum(taken_y) == 3  # the run's budget (8) is spent after 5 + 3
    assert [crawlers[i % 2].take_listing("x") for i in range(4)] == [True, True, False, False]
    local = Budgets(limits, run_limit=8)  # one process alone stops at the same place
    assert [local.take("x") for _ in range(10)] == taken_x
    server.flushdb()


def test_pagination_repeats_are_seen_across_crawlers(redis_url):
    """Page 2 of a pagination read by crawler B after crawler A read page 1: B knows which articles are new,
    so a trap repeating page 1 under every number stops as it would with one crawler."""
    from crawler.budgets import Chains
    from crawler.scaleout import SharedChains

    server = redis.Redis.from_url(redis_url.replace("/0", "/4"))
    a, b, local = SharedChains(server, "test:chains"), SharedChains(server, "test:chains"), Chains()
    page1, page2 = {"u1", "u2", "u3"}, {"u3", "u4"}
    for chains in ((a, b), (local, local)):
        assert chains[0].add("http://x/tin?page={n}", page1) == page1
        assert chains[1].add("http://x/tin?page={n}", page1) == set()  # the repeat
        assert chains[1].add("http://x/tin?page={n}", page2) == {"u4"}
        assert chains[0].add("http://x/other?page={n}", page2) == page2  # another chain
    server.flushdb()


def test_a_record_that_cannot_be_stored_is_kept_with_its_error(redis_url, tmp_path):
    url = redis_url.replace("/0", "/1")
    server = redis.Redis.from_url(url)
    server.flushdb()
    server.rpush(KEYS.items, b"not json", dumps({"v": 1, "kind": "page", "record": {"site_id": "x"}}))
    out = io.StringIO()
    assert main_ingest(url, str(tmp_path / "a.db"), once=True, out=out) == 1
    letters = [loads(raw) for raw in server.lrange(KEYS.dead, 0, -1)]
    assert [letter["message"][:8] for letter in letters] == [b"not json", b'{"v":1,"']
    assert all(letter["error"] for letter in letters)
    assert server.llen(KEYS.items) == server.llen(KEYS.ingesting) == 0
    assert "2 dead letters" in out.getvalue()
    # Put back, they fail again and are still kept: never lost.
    assert main_ingest(url, str(tmp_path / "a.db"), once=True, requeue_dead=True, out=io.StringIO()) == 1
    assert server.llen(KEYS.dead) == 2
    server.flushdb()


def test_the_writer_exits_3_while_the_archive_is_locked(redis_url, tmp_path):
    db = tmp_path / "a.db"
    with crawl_lock(db):
        assert main_ingest(redis_url.replace("/0", "/1"), str(db), once=True, out=io.StringIO()) == 3


def test_unreachable_redis_cannot_start(tmp_path):
    status = subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(ROOT / "crawler" / "samples" / "sites.toml"),
         "--redis", f"redis://127.0.0.1:{free_port()}/0"],
        capture_output=True, text=True, timeout=60,
    )
    assert status.returncode == 2 and "cannot reach Redis" in status.stderr
    assert main_ingest(f"redis://127.0.0.1:{free_port()}/0", str(tmp_path / "a.db"), once=True) == 2
