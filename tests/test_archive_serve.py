import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from servers import datasette

from archive import Archive

try:
    from test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record

ROOT = Path(__file__).resolve().parents[1]




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
    with datasette(path) as (base, _):
        yield base, path


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


def get_html(base: str, path: str, **params: str) -> tuple[int, str]:
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_canned_search_ranks_exact_spelling_then_phrase(server) -> None:
    base, _ = server
    q = {"site": "", "since": "", "until": "", "_shape": "array"}
    status, rows = get(base, "/news/search.json", q="án", **q)
    assert status == 200 and rows[0]["title"] == SEARCH_STORIES[0][1]  # "án" (verdict) before "an" (safe)
    assert rows[0]["exact"] == 1 and all(r["exact"] == 0 for r in rows[1:])
    status, rows = get(base, "/news/search.json", q="an", **q)
    assert rows[0]["title"] == SEARCH_STORIES[1][1]  # typed without accent: bm25 decides
    status, rows = get(base, "/news/search.json", q="uy ban", **q)
    # "Ủy ban"/"Uỷ ban" side by side in the title first, newest first among them; "Ban ... Thành ủy" after
    assert {r["title"] for r in rows[:3]} == {SEARCH_STORIES[2][1], SEARCH_STORIES[3][1], TITLE_A}
    assert all(r["phrase"] == r["in_title"] == 1 for r in rows[:3])
    assert [r["id"] for r in rows[:3]] == sorted((r["id"] for r in rows[:3]), reverse=True)
    assert rows[-1]["title"] == SEARCH_STORIES[4][1] and rows[-1]["phrase"] == 0


def test_table_search_page_without_diacritics(server) -> None:
    base, _ = server
    status, html = get_html(base, "/news/articles", _search="dan van kheo")
    assert status == 200 and SEARCH_STORIES[4][1] in html and SEARCH_STORIES[0][1] not in html
    assert 'name="_search"' in html and 'value="dan van kheo"' in html


def test_story_page_is_readable(server) -> None:
    base, path = server
    with Archive(path) as arc:
        [story] = [a for a in (arc.article(i) for i in range(1, 20)) if a and a["page_count"] == 2]
        pages = arc.pages_of(story["id"])
    status, html = get_html(base, f"/news/articles/{story['id']}")
    assert status == 200
    assert '<article class="story"' in html and f">{TITLE_A}</h1>" in html
    paragraphs = [p for p in STORY_A.split("\n\n")]
    for paragraph in paragraphs[:3]:
        assert f"<p>{paragraph}</p>" in html  # one <p> per paragraph, the text escaped but whole
    assert f'class="original" href="{story["url"]}"' in html
    assert html.count('<tr class="sighting') == len(pages) == 2
    for page in pages:
        assert page["url"] in html or page["raw_url"] in html
    assert "canonical</td>" in html and "copy</td>" in html
    # other tables keep Datasette's own row page
    status, html = get_html(base, "/news/sites/qn-gov")
    assert status == 200 and '<article class="story"' not in html and "Quảng Nam" in html


WRITES = [
    "delete from articles",
    "update articles set title = 'x'",
    "insert into sites (id) values ('x')",
    "drop table articles",
    "create table x (a)",
    "vacuum",
    "attach database 'x.db' as x",
    "pragma writable_schema = 1",
    "pragma user_version = 99",
    "with x as (select 1) delete from articles",
    "select 1; delete from articles",
    "replace into sites (id) values ('x')",
    "insert into articles_fts (articles_fts) values ('delete-all')",
]


def test_no_sql_that_writes_can_pass(server, tmp_path) -> None:
    base, path = server
    before = Archive(path).stats()
    for sql in WRITES + [f"vacuum into '{tmp_path / 'copy.db'}'"]:
        status, data = get(base, "/news.json", sql=sql)
        assert status >= 400 and not data.get("ok", False), sql
    # user values in search boxes, filters and canned queries are parameters or escaped, never SQL
    injections = [
        "x') ; delete from articles; --",
        '" OR 1=1 --',
        "*",
        "NEAR(a b) OR delete",
    ]
    for value in injections:
        for params in ({"_search": value}, {"_search": value, "_searchmode": "raw"}, {"_search_title": value},
                       {"_where": value}, {"_sort": value}, {"title__contains": value}):
            status, _ = get(base, "/news/articles.json", **params)
            assert status in (200, 400, 500), (params, status)  # Datasette 0.65: 500 for an unknown _sort
        for query in ("search", "copies"):
            status, _ = get(base, f"/news/{query}.json", q=value, site=value, since=value, until=value,
                            article_id=value, url=value)
            assert status in (200, 400)
    assert not (tmp_path / "copy.db").exists()
    assert Archive(path).stats() == before
    with Archive(path) as arc:
        assert arc.article(1)["title"] != "x"


def test_plugin_makes_connections_query_only(server) -> None:
    # Defence in depth: a write that got past Datasette's SELECT-only check still fails inside SQLite.
    import sqlite3

    from archive.datasette_plugins.archive_functions import prepare_connection

    _, path = server
    conn = sqlite3.connect(path)
    prepare_connection(conn, "news")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("delete from articles")
    conn.close()
    internal = sqlite3.connect(":memory:")
    prepare_connection(internal, "_internal")  # Datasette's own schema cache must stay writable
    internal.execute("create table t (a)")


def test_canned_search_filters(server) -> None:
    base, path = server
    q = {"q": "uy ban", "_shape": "array"}
    status, rows = get(base, "/news/search.json", site="dn-gov", since="", until="", **q)
    assert status == 200 and {r["site_id"] for r in rows} == {"dn-gov"}
    status, rows = get(base, "/news/search.json", site="", since="2023-06-30", until="2023-07", **q)
    assert {r["published"] for r in rows} == {"2023-06-30", "2023-07-03"}
    status, rows = get(base, "/news/search.json", site="", since="", until="2023-06", **q)
    assert rows and all(r["published"] <= "2023-06-30" for r in rows)
    # a story without a date still shows under a site filter (only date filters need a date)
    with Archive(path) as arc:
        arc.add_page(record("dn-gov", "nodate", "Ủy ban nhân dân quận họp", "Ủy ban nhân dân quận họp bàn.", None))
    status, rows = get(base, "/news/search.json", site="dn-gov", since="", until="", **q)
    assert "Ủy ban nhân dân quận họp" in {r["title"] for r in rows}
    status, rows = get(base, "/news/search.json", site="dn-gov", since="2000", until="", **q)
    assert "Ủy ban nhân dân quận họp" not in {r["title"] for r in rows}


def test_stopping_the_server_leaves_no_temporary_files(tmp_path) -> None:
    """A supervisor stops the server with SIGTERM: the metadata folder it wrote goes with it."""
    db = tmp_path / "news.db"
    with Archive(db) as arc:
        arc.upsert_sites(SITES)
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with datasette(db, env={"TMPDIR": str(tmp)}) as (base, proc):
        assert [p.name for p in tmp.iterdir() if p.name.startswith("archive-serve-")], "metadata not in TMPDIR"
    assert proc.returncode is not None
    assert not [p.name for p in tmp.iterdir() if p.name.startswith("archive-serve-")]
