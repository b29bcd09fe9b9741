"""Security: the crawler never leaves its configured sites (links, redirects, meta refreshes, sitemaps, sitemap
indexes, feeds, <base href>, userinfo and trailing-dot hosts), Datasette serves the archive read-only, dumps
carry no credentials, and loading a config runs no code.

A real crawl of tests/faultserver.py's BoundsSite (127.0.0.31), every road of which leads to OffsiteServer
(127.0.0.32): the other server must receive nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml

from archive.serve import METADATA, build_metadata
from archive.store import Archive
from crawler.config import ConfigError, load_config

sys.path.insert(0, str(Path(__file__).parent))
from faultserver import SECRET_COOKIE, BoundsSite, OffsiteServer  # noqa: E402
from servers import datasette

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "CRAWL_QUIET": "1"}


@pytest.fixture(scope="module")
def bounded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bounds")
    with OffsiteServer() as offsite, BoundsSite(offsite) as site:
        config = tmp / "sites.toml"
        config.write_text(site.config_toml(), encoding="utf-8")
        db = tmp / "archive.db"
        result = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
            capture_output=True, text=True, timeout=180, cwd=ROOT, env=ENV,
        )
        yield {"tmp": tmp, "db": db, "result": result, "site": site, "offsite": offsite}


def rows(db: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def pages_by_name(db: Path) -> dict[str, sqlite3.Row]:
    return {urllib.parse.urlsplit(r["raw_url"]).path.rsplit("/", 1)[-1].removesuffix(".html"): r
            for r in rows(db, "select * from pages")}


# ------------------------------------------------------------------------------------------ site bounds


def test_the_crawl_never_asks_another_site(bounded):
    assert bounded["result"].returncode == 0, bounded["result"].stderr[-3000:]
    assert bounded["offsite"].hits == Counter()
    seen = bounded["site"].hits
    assert seen["/"] == 1 and seen["/sitemap-1.xml"] == 1 and seen["/rss.xml"] == 1


def test_articles_found_on_the_site_are_archived(bounded):
    pages = pages_by_name(bounded["db"])
    for name in ("ok-0", "ok-1", "ok-2", "ok-sitemap", "ok-feed", "ok-refresh"):  # (a self-refreshing listing)
        assert pages[name]["article_id"] is not None, name


def test_redirects_off_the_site_are_refused_and_recorded(bounded):
    pages = pages_by_name(bounded["db"])
    for name in [*(n for n in BoundsSite.REDIRECTS if n != "hop"), "meta-refresh"]:
        page = pages[name]
        assert page["article_id"] is None and page["reason"].startswith("redirect-offsite: "), (name, page["reason"])
    assert "hop" not in pages  # the chain is recorded under the URL the listing gave
    figures = json.loads(rows(bounded["db"], "select figures from crawls")[0]["figures"])["bounds"]
    assert figures["errors"]["redirect-offsite"] == len(BoundsSite.REDIRECTS)  # 7 redirects + 1 meta refresh
    assert figures["listing_errors"] == {"redirect-offsite": 1}  # the listing that moved away


def test_only_configured_hosts_are_in_the_archive(bounded):
    hosts = {urllib.parse.urlsplit(r["raw_url"]).netloc for r in rows(bounded["db"], "select raw_url from pages")}
    assert hosts == {bounded["site"].base.split("//", 1)[1]}


# ------------------------------------------------------------------------------------------ credentials


def test_no_session_cookie_is_stored(bounded):
    db = bounded["db"]
    stored = [json.loads(r["headers"]) for r in rows(db, "select headers from raw_pages")]
    cookies = [h["Set-Cookie"] for h in stored if "Set-Cookie" in h]
    assert cookies and all(value == "PHPSESSID=<redacted>" for value in cookies)
    for path in db.parent.glob(db.name + "*"):
        assert SECRET_COOKIE.encode() not in path.read_bytes(), path


def test_stored_headers_never_keep_credentials(tmp_path):
    with Archive(tmp_path / "a.db") as archive:
        archive.upsert_sites([{"id": "s", "name": "S", "province": "P", "kind": "front",
                               "start_urls": ["http://s.gov.vn/"]}])
        archive.add_page({
            "url": "http://s.gov.vn/tin/1.html", "site_id": "s", "status": 200, "title": "Tin một",
            "body": "Nội dung của tin một, đủ dài để là một bài viết thật sự trên trang của xã.",
            "raw": b"<html></html>",
            "headers": {"Set-Cookie": "a=secret1; Path=/, b=secret2; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
                        "Authorization": "Basic secret3", "Cookie": "c=secret4", "ETag": '"e1"'},
        })
        stored = json.loads(archive.conn.execute("select headers from raw_pages").fetchone()[0])
    assert stored == {"Set-Cookie": "a=<redacted>; b=<redacted>", "Authorization": "<redacted>",
                      "Cookie": "<redacted>", "ETag": '"e1"'}


@pytest.mark.parametrize("fmt", ["warc", "jsonl", "sqlite"])
def test_dumps_carry_no_credentials(bounded, tmp_path, fmt):
    out = tmp_path / f"dump.{fmt}"
    result = subprocess.run(
        [sys.executable, "-m", "archive", "export", "--db", str(bounded["db"]), "--format", fmt, "--out", str(out),
         "--quiet"], capture_output=True, text=True, timeout=120, cwd=ROOT, env=ENV,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = [p for p in tmp_path.iterdir() if p.is_file()]
    assert out in written
    for path in written:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        assert SECRET_COOKIE.encode() not in data, path
    if fmt == "warc":
        from warcio.archiveiterator import ArchiveIterator

        records = 0
        with open(out, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.http_headers is None:
                    continue
                records += 1
                names = {name.lower() for name, _ in record.http_headers.headers}
                assert not names & {"set-cookie", "cookie", "authorization", "proxy-authorization"}
        assert records > 0


# ------------------------------------------------------------------------------------------ Datasette




def request(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=15) as r:
            body = r.read().replace(b'":false', b'": false')
            # a 200 whose JSON says the statement failed is a refusal too
            if r.headers.get_content_type() == "application/json" and b'"ok": false' in body:
                return 400
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def digest(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type in ('table', 'view') "
                                                  "and name not like 'sqlite_%' order by name")]
        parts = [repr(tables), repr(conn.execute("select sql from sqlite_master order by name").fetchall())]
        for table in ("articles", "pages", "sites", "crawls", "raw_pages"):
            parts.append(repr(conn.execute(f"select * from {table} order by rowid").fetchall()))
        return hashlib.sha256("".join(parts).encode()).hexdigest()
    finally:
        conn.close()


WRITES = [
    "delete from articles",
    "update articles set title = 'x'",
    "insert into sites (id) values ('evil')",
    "replace into sites (id) values ('evil')",
    "drop table articles",
    "create table evil (x)",
    "with x as (select 1) delete from articles",
    "with x as (select 1) update pages set gone = 1",
    "pragma writable_schema = 1",
    "pragma journal_mode = delete",
    "attach database '{tmp}/evil.db' as evil",
    "vacuum into '{tmp}/copy.db'",
    "select load_extension('{tmp}/evil')",
    "select 1; delete from articles",
    "begin; delete from articles; commit",
]


def test_datasette_serves_read_only(bounded, tmp_path):
    db = bounded["db"]
    before = digest(db)
    with datasette(db, log=tmp_path / "datasette.log") as (base, _):
        name = db.stem
        assert request(f"{base}/{name}.json?sql=select+count(*)+from+articles") == 200  # reading works
        statuses = {}
        for sql in WRITES:
            sql = sql.format(tmp=tmp_path)
            statuses[sql] = request(f"{base}/{name}.json?" + urllib.parse.urlencode({"sql": sql}))
        form = urllib.parse.urlencode({"sql": "delete from articles"}).encode()
        as_json = {"Content-Type": "application/json"}
        posts = {
            "sql form": request(f"{base}/{name}", form),
            "canned query": request(f"{base}/{name}/search", urllib.parse.urlencode({"q": "x"}).encode()),
            "insert API": request(f"{base}/{name}/articles/-/insert", json.dumps({"row": {"title": "x"}}).encode(),
                                  as_json),
            "create API": request(f"{base}/{name}/-/create", json.dumps({"table": "evil", "row": {"x": 1}}).encode(),
                                  as_json),
            "drop API": request(f"{base}/{name}/articles/-/drop", b"{}", as_json),
        }
    print("\ndatasette refusals:", statuses, posts)
    assert all(status >= 400 for status in statuses.values()), statuses
    assert all(status >= 400 for status in posts.values()), posts
    assert digest(db) == before
    assert not (tmp_path / "copy.db").exists() and not (tmp_path / "evil.db").exists()


def test_no_canned_query_writes():
    data = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    for database in data["databases"].values():
        for name, query in (database.get("queries") or {}).items():
            assert not query.get("write"), name
            assert query["sql"].lstrip().lower().startswith(("select", "with")), name
    built = build_metadata("x.db")
    assert all(not q.get("write") for q in built["databases"]["x"].get("queries", {}).values())


# ------------------------------------------------------------------------------------------ config


def test_loading_a_config_runs_no_code(tmp_path):
    marker = tmp_path / "ran"
    payloads = [f"__import__('os').system('touch {marker}')", f"!!python/object/apply:os.system ['touch {marker}']",
                f"$(touch {marker})", f"`touch {marker}`", "{{ 7*7 }}"]
    for payload in payloads:
        quoted = json.dumps(payload)  # a TOML basic string is a JSON string for these
        path = tmp_path / "sites.toml"
        path.write_text(
            f"[crawler]\nuser_agent = {quoted}\n\n[[site]]\nid = \"a\"\nname = {quoted}\nprovince = {quoted}\n"
            f"kind = \"front\"\nstart_urls = [\"http://127.0.0.1/\"]\nnotes = {quoted}\n", encoding="utf-8")
        config = load_config(path)
        assert config.sites[0].name == payload and config.crawler.user_agent == payload
    assert not marker.exists()


@pytest.mark.parametrize("entry", [
    'family = "../../../../tmp/evil"',  # a profile path outside crawler/profiles
    'family = "nukeviet/../../x"',
    'selectors = { body = "div:contains(\\"x\\")) + script" }',
    'start_urls = ["file:///etc/passwd"]',
    'start_urls = ["javascript:alert(1)"]',
])
def test_a_config_cannot_point_the_crawler_at_files_or_code(tmp_path, entry):
    path = tmp_path / "sites.toml"
    path.write_text('[[site]]\nid = "a"\nname = "A"\nprovince = "P"\nkind = "front"\n'
                    + ("" if entry.startswith("start_urls") else 'start_urls = ["http://127.0.0.1/"]\n')
                    + entry + "\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)
