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


def test_table_search_box_forms(server) -> None:
    base, _ = server
    # a search with no word in it finds nothing (not every story); an empty box is no search
    status, data = get(base, "/news/articles.json", _search="... ?", _shape="array")
    assert status == 200 and data == []
    status, data = get(base, "/news/articles.json", _search="", _shape="array", _col="title")
    assert status == 200 and len(data) == len(SEARCH_STORIES) + 1
    # quoted words are a phrase, as in the canned search and the CLI
    status, data = get(base, "/news/articles.json", _search='"dan huan"', _shape="array")
    assert status == 200 and data == []
    status, data = get(base, "/news/articles.json", _search="dan huan", _shape="array", _col="title")
    assert [r["title"] for r in data] == [SEARCH_STORIES[4][1]]
    # the box is shown and keeps the query
    status, html = get_html(base, "/news/articles", _search="Đà Nẵng")
    assert '<input id="_search" type="search" name="_search" value="Đà Nẵng">' in html
    assert "search matches" in html


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
    # province: the canonical site's province, alone, with a date, with a site
    status, rows = get(base, "/news/search.json", site="", province="Đà Nẵng", since="", until="", **q)
    assert status == 200 and sorted(r["site_id"] for r in rows) == ["dn-gov", "dn-mttq"]
    status, rows = get(base, "/news/search.json", site="", province="Đà Nẵng", since="2023", until="", **q)
    assert [(r["site_id"], r["published"]) for r in rows] == [("dn-gov", "2023-06-30")]
    status, rows = get(base, "/news/search.json", site="dn-mttq", province="Đà Nẵng", since="", until="", **q)
    assert [r["site_id"] for r in rows] == ["dn-mttq"]
    status, rows = get(base, "/news/search.json", site="dn-mttq", province="Hòa Bình", since="", until="", **q)
    assert rows == []
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


# ---------------------------------------------------------------- the table search at scale (table_search.py)
# 6,000 stories generated from real text (bench/bench_search.py, bulk inserts): "dan van" matches nearly
# every one, more than table_search.FEW, so the box takes its broad form; a name matches a few hundred.


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory):
    from bench.bench_search import build_archive

    path = tmp_path_factory.mktemp("big") / "big.db"
    build_archive(path, 6000, log=lambda _: None)
    with datasette(path) as (base, _):
        yield base + "/big", path


def matching(path: Path, query: str, where: str = "1", params: tuple = ()) -> list[tuple[int, str]]:
    """(id, published) of every story matching ``query`` (and ``where``), newest first, straight from SQLite."""
    import sqlite3

    from archive.search import fts_query

    conn = sqlite3.connect(path)
    rows = conn.execute(
        f"SELECT id, published FROM articles WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
        f" AND {where} ORDER BY published DESC, id DESC", (fts_query(query), *params)).fetchall()
    conn.close()
    return rows


def test_broad_table_search_lists_newest_matches_without_count_or_facets(big) -> None:
    from archive.datasette_plugins.table_search import FEW

    base, path = big
    expected = matching(path, "dan van")
    assert len(expected) > FEW
    status, data = get(base, "/articles.json", _search="dan van", _col="published")
    assert status == 200 and data["filtered_table_rows_count"] is None and data["facet_results"] == {}
    assert [r[1] for r in data["rows"]] == [p for _, p in expected[:50]]
    assert {r[0] for r in data["rows"]} <= {i for i, _ in expected}
    # the next page carries on where the first stopped
    assert "_broad=1" in data["next_url"]
    with urllib.request.urlopen(data["next_url"], timeout=10) as resp:
        page2 = json.loads(resp.read())
    assert [r[1] for r in page2["rows"]] == [p for _, p in expected[50:100]]
    assert not {r[0] for r in data["rows"]} & {r[0] for r in page2["rows"]}
    # with a filter: the filter's own index is walked, every row matches both
    status, rows = get(base, "/articles.json", _search="dan van", site_id="soc-trang-mttq", _shape="array",
                       _col="published")
    want = matching(path, "dan van", "site_id = ?", ("soc-trang-mttq",))
    assert status == 200 and len(want) > 50 and [r["published"] for r in rows] == [p for _, p in want[:50]]


def test_broad_table_search_page_says_why_and_a_narrow_one_counts_again(big) -> None:
    base, path = big
    status, html = get_html(base, "/articles", _search="dan van")
    assert status == 200 and 'class="broad-search"' in html and 'class="facet-info' not in html
    assert 'name="_broad"' in html  # carried by the search form: the next search decides afresh
    from archive.datasette_plugins.table_search import FEW

    narrow = "Lê Thị Bích Liên"
    expected = matching(path, narrow)
    assert 50 < len(expected) <= FEW
    status, html = get_html(base, "/articles", _search=narrow, _nocount="1", _nofacet="1", _broad="1")
    assert status == 200 and 'class="broad-search"' not in html and 'class="facet-info' in html
    assert f"{len(expected):,} row" in html
    status, data = get(base, "/articles.json", _search=narrow, _col="published")
    assert data["filtered_table_rows_count"] == len(expected)
    assert [r[1] for r in data["rows"]] == [p for _, p in expected[:50]]
    assert sum(f["count"] for f in data["facet_results"]["kind"]["results"]) == len(expected)
    # a _nocount the user asked for stays
    status, data = get(base, "/articles.json", _search=narrow, _nocount="1")
    assert status == 200 and data["filtered_table_rows_count"] is None and len(data["rows"]) == 50


def test_broad_table_search_in_any_order_and_with_facet_filters(big) -> None:
    base, path = big
    # a sort no index serves: every match listed once, then sorted (no story-by-story FTS questions)
    status, rows = get(base, "/articles.json", _search="dan van", _sort="title", _shape="array", _col="title")
    import sqlite3

    from archive.search import fts_query

    conn = sqlite3.connect(path)
    titles = [r[0] for r in conn.execute(
        "SELECT title FROM articles WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) "
        "ORDER BY title LIMIT 50", (fts_query("dan van"),))]
    conn.close()
    assert status == 200 and [r["title"] for r in rows] == titles
    # the facets a reader clicks on a broad search: each walks its own index
    for column, value in (("province", "Sóc Trăng"), ("kind", "front"), ("published_year", "2020")):
        status, rows = get(base, "/articles.json", _search="dan van", _shape="array", _col="published",
                           **{column: value})
        want = matching(path, "dan van", f"{column} = ?", (value,))
        assert status == 200 and len(want) > 50, column
        assert [r["published"] for r in rows] == [p for _, p in want[:50]], column


def test_canned_search_filters_at_scale(big) -> None:
    """With a filter, the 200 newest matches passing it are ranked: found by checking the newest matches
    one by one (most pass) or, when too few of them pass, from the filter's index; both give the same."""
    import sqlite3

    from archive.search import fts_query

    base, path = big
    conn = sqlite3.connect(path)
    cases = [
        ({"site": "soc-trang-mttq"}, "site_id = :site"),
        ({"province": "Sóc Trăng"}, "province = :province"),
        ({"since": "2024"}, "published >= :since"),
        ({"since": "2020-01", "until": "2020-06"}, "published >= :since AND published <= :until || '~'"),
        ({"province": "Sóc Trăng", "since": "2024"}, "province = :province AND published >= :since"),
        ({"site": "soc-trang-mttq", "province": "Sóc Trăng"}, "site_id = :site AND province = :province"),
    ]
    for filters, where in cases:
        params = {"q": "dan van", "site": "", "province": "", "since": "", "until": "", **filters}
        window = [r[0] for r in conn.execute(
            f"SELECT id FROM articles WHERE id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :m) "
            f"AND {where} ORDER BY id DESC LIMIT 200", {**params, "m": fts_query("dan van")})]
        status, rows = get(base, "/search.json", _shape="array", **params)
        assert status == 200 and len(rows) == min(25, len(window)) > 0, filters
        assert {r["id"] for r in rows} <= set(window), filters
        keys = [(r["exact"], r["phrase"], r["in_title"], r["id"]) for r in rows]
        assert keys == sorted(keys, reverse=True), filters
    # one of the cases above took each path: most matches pass the site filter, few pass the last two
    in_site = conn.execute("SELECT count(*) FROM articles WHERE site_id = 'soc-trang-mttq'").fetchone()[0]
    recent_in_range = conn.execute(
        "SELECT count(*) FROM (SELECT province, published FROM articles ORDER BY id DESC LIMIT 10000) "
        "WHERE province = 'Sóc Trăng' AND published >= '2024'").fetchone()[0]
    conn.close()
    assert in_site >= 200 > recent_in_range
    # an empty filter result
    status, rows = get(base, "/search.json", q="dan van", site="no-such-site", province="", since="", until="",
                       _shape="array")
    assert status == 200 and rows == []
