import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from archive import Archive

try:
    from test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(base: str, path: str, **params: str) -> tuple[int, dict]:
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("serve") / "news.db"
    with Archive(path) as arc:
        arc.upsert_sites(SITES)
        for slug, title, body, published, site in SEARCH_STORIES:
            arc.add_page(record(site, slug, title, body, published))
        arc.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
        arc.add_page(record("qn-gov", "b", TITLE_A, STORY_A_EXACT))
        crawl = arc.start_crawl(["qn-mttq"], {})
        arc.finish_crawl(crawl, {"requests": 2})
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "archive", "serve", "--db", str(path), "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("datasette did not start: " + proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)
        yield base, path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_table_search_without_diacritics(server) -> None:
    base, _ = server
    status, data = get(base, "/news/articles.json", _search="da nang", _shape="array", _col="title")
    assert status == 200
    assert {r["title"] for r in data} == {SEARCH_STORIES[2][1], SEARCH_STORIES[4][1]}
    status, data = get(base, "/news/articles.json", _search="Đà Nẵng", _shape="array", _col="title")
    assert len(data) == 2


def test_facets_configured(server) -> None:
    base, _ = server
    status, data = get(base, "/news/articles.json", _size="0")
    assert status == 200
    assert {"site_id", "kind", "province", "published_year"} <= set(data["facet_results"])


def test_canned_queries(server) -> None:
    base, _ = server
    status, rows = get(base, "/news/search.json", q="dan van kheo", site="", since="", until="", _shape="array")
    assert status == 200 and [r["site_id"] for r in rows] == ["dn-mttq"]
    assert "<b>Dân</b> <b>vận</b> <b>khéo</b>" in rows[0]["snippet"]
    status, rows = get(base, "/news/search.json", q="uy ban", site="", since="2023-07", until="2023-11", _shape="array")
    assert [r["site_id"] for r in rows] == ["hb-gov"]
    copy_url = record("qn-gov", "b", "", "")["url"] + "?utm_source=x"
    status, rows = get(base, "/news/copies.json", article_id="", url=copy_url, _shape="array")
    assert status == 200 and sorted(r["role"] for r in rows) == ["canonical", "copy"]
    status, rows = get(base, "/news/newest_per_site.json", _shape="array")
    assert status == 200 and {r["site_id"] for r in rows} >= {"qn-mttq", "th-gov"}
    status, rows = get(base, "/news/crawl_history.json", _shape="array")
    assert status == 200 and json.loads(rows[0]["figures"])["requests"] == 2


def test_writes_are_refused(server) -> None:
    base, path = server
    status, data = get(base, "/news.json", sql="delete from articles")
    assert status >= 400 and not data.get("ok", False)
    with Archive(path) as arc:
        assert arc.stats()["stories"] == len(SEARCH_STORIES) + 1
