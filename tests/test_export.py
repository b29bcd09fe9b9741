"""Exports read back with the format's own reader (json, csv, pyarrow, sqlite3, warcio) and compared with the
archive; manifests checked against the files; filters, batching, consistency and the command line."""

import csv
import gzip
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from archive import Archive, search
from archive import export as export_mod
from archive.export import FIELD_NAMES, export, iter_stories, open_readonly, snapshot
from archive.export_progress import Progress
from archive.search import Filters

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def crawl_sample(folder: Path) -> Path:
    """Crawl the sample web (six CMS families, syndicated copies) into ``folder``/archive.db: the real thing."""
    from crawler.samples.server import SampleWeb

    db = folder / "archive.db"
    with SampleWeb(port=0) as web:
        cfg = web.write_config(folder / "sites.toml")
        out = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(cfg), "--db", str(db)],
            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120,
        )
    assert out.returncode == 0, out.stderr[-2000:]
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawl_sample(tmp_path_factory.mktemp("export"))


def archive_rows(db: Path, sql: str, params: tuple = ()) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def expected_stories(db: Path) -> dict[int, dict]:
    """What every tabular dump must say, straight from the tables."""
    stories = {a["id"]: a for a in archive_rows(db, "SELECT a.*, s.name AS site_name FROM articles a "
                                                     "LEFT JOIN sites s ON s.id = a.site_id")}
    for story in stories.values():
        story["sightings"] = []
    for p in archive_rows(db, "SELECT * FROM pages WHERE article_id IS NOT NULL ORDER BY seq"):
        stories[p["article_id"]]["sightings"].append(p)
    return stories


def check_rows(rows: list[dict], db: Path) -> None:
    expected = expected_stories(db)
    assert [r["id"] for r in rows] == sorted(expected)  # every story once, by id
    for row in rows:
        want = expected[row["id"]]
        for name in ("url", "site_id", "site_name", "province", "kind", "title", "body", "published",
                     "first_seen", "last_seen", "page_count"):
            assert row[name] == want[name], (row["id"], name)
        assert row["sighting_urls"] == [p["url"] for p in want["sightings"]]
        assert [s["site_id"] for s in row["sightings"]] == [p["site_id"] for p in want["sightings"]]
        assert [s["fetched_at"] for s in row["sightings"]] == [p["fetched_at"] for p in want["sightings"]]
        assert sum(s["canonical"] for s in row["sightings"]) == 1
        assert row["images"] == [{"src": i["src"], "caption": i["caption"]} for i in json.loads(want["images"])]
        assert row["site_domains"]


@pytest.fixture(scope="module")
def dumps(db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dumps")
    paths = {}
    for fmt, name in (("jsonl", "stories.jsonl"), ("csv", "stories.csv"), ("parquet", "stories.parquet"),
                      ("sqlite", "snapshot.sqlite"), ("warc", "captures.warc.gz")):
        paths[fmt] = export(db, fmt, out / name, progress=False, command=["test", fmt]).path
    return paths


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_jsonl_round_trip(db: Path, dumps: dict[str, Path]) -> None:
    rows = read_jsonl(dumps["jsonl"])
    assert list(rows[0]) == list(FIELD_NAMES)
    check_rows(rows, db)
    assert any(r["page_count"] > 1 and len(r["sighting_urls"]) > 1 for r in rows)  # copies on other sites


def test_parquet_round_trip(db: Path, dumps: dict[str, Path]) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(dumps["parquet"])
    assert table.schema.names == list(FIELD_NAMES)
    assert str(table.schema.field("sightings").type).startswith("list<element: struct<url: string")
    rows = table.to_pylist()
    check_rows(rows, db)
    assert rows == read_jsonl(dumps["jsonl"])  # same values, with types, in both


def test_csv_round_trip(db: Path, dumps: dict[str, Path]) -> None:
    types = {f.name: f.type for f in export_mod.STORY_FIELDS}
    with open(dumps["csv"], encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == list(FIELD_NAMES)
        rows = []
        for raw in reader:
            row = {}
            for name, value in raw.items():
                if types[name] == "array":
                    row[name] = json.loads(value)
                elif types[name] == "integer":
                    row[name] = int(value) if value else None
                else:
                    row[name] = value
            rows.append(row)
    check_rows(rows, db)
    blank = lambda r: {k: ("" if v is None else v) for k, v in r.items()}  # noqa: E731  CSV has no null
    assert [blank(r) for r in rows] == [blank(r) for r in read_jsonl(dumps["jsonl"])]
    assert any("\n\n" in r["body"] for r in rows)  # paragraphs survive quoting


def test_sqlite_snapshot_is_the_archive(db: Path, dumps: dict[str, Path]) -> None:
    snap = dumps["sqlite"]
    conn = sqlite3.connect(snap)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, opens read-only as is
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == sqlite3.connect(db).execute(
        "PRAGMA user_version").fetchone()[0]
    for table in ("sites", "articles", "pages", "raw_pages", "crawls", "versions"):
        assert archive_rows(snap, f"SELECT * FROM {table} ORDER BY rowid") == archive_rows(
            db, f"SELECT * FROM {table} ORDER BY rowid"), table
    conn.close()
    assert [r["id"] for r in search(snap, "dan van")] == [r["id"] for r in search(db, "dan van")]


def test_sqlite_snapshot_filtered(db: Path, tmp_path: Path) -> None:
    out = export(db, "sqlite", tmp_path / "dn.sqlite", Filters.of(province="Đà Nẵng", since="2022"), progress=False)
    conn = sqlite3.connect(out.path)
    kept = {r[0] for r in conn.execute("SELECT id FROM articles")}
    want = {r["id"] for r in archive_rows(db, "SELECT id FROM articles WHERE province = 'Đà Nẵng' "
                                               "AND published >= '2022'")}
    assert kept == want and out.rows == len(want) > 0
    assert {r[0] for r in conn.execute("SELECT DISTINCT article_id FROM pages")} == kept
    stray = "SELECT count(*) FROM raw_pages WHERE url NOT IN (SELECT fetched_url FROM pages)"
    assert conn.execute(stray).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM raw_pages").fetchone()[0] == conn.execute(
        "SELECT count(*) FROM pages").fetchone()[0]
    for fts in ("articles_fts", "articles_exact"):
        conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
    assert conn.execute("SELECT count(*) FROM sites").fetchone()[0] == 6  # site metadata stays whole
    conn.close()
    # the snapshot is an archive: search and Datasette work on it unchanged
    found = {r["id"] for r in search(out.path, "da nang")}
    assert found and found <= kept
    with Archive(out.path) as arc:
        assert arc.stats()["stories"] == len(kept)


def test_sqlite_snapshot_opens_in_datasette(dumps: dict[str, Path]) -> None:
    import asyncio

    from datasette.app import Datasette

    async def fetch() -> dict:
        ds = Datasette([str(dumps["sqlite"])], immutables=[str(dumps["sqlite"])])
        resp = await ds.client.get("/snapshot/articles.json?_search=dan+van&_shape=objects")
        return resp.json()

    assert asyncio.run(fetch())["rows"]


def test_warc_round_trip(db: Path, dumps: dict[str, Path]) -> None:
    from warcio.archiveiterator import ArchiveIterator

    raw = {r["id"]: r for r in archive_rows(db, "SELECT * FROM raw_pages")}
    by_url: dict[str, list[dict]] = {}
    for r in raw.values():
        by_url.setdefault(r["url"], []).append(r)
    raw_urls = {r["fetched_url"]: r["raw_url"] for r in archive_rows(db, "SELECT fetched_url, raw_url FROM pages")}
    kinds, responses, requests = [], {}, {}
    with open(dumps["warc"], "rb") as fh:
        for rec in ArchiveIterator(fh):
            kinds.append(rec.rec_type)
            if rec.rec_type == "response":
                responses[rec.rec_headers.get_header("WARC-Record-ID")] = (rec, rec.content_stream().read())
            elif rec.rec_type == "request":
                requests[rec.rec_headers.get_header("WARC-Concurrent-To")] = rec
    assert kinds[0] == "warcinfo" and kinds.count("response") == kinds.count("request") == len(raw)
    assert set(requests) == set(responses)  # every request points to its response
    seen = set()
    for rec, body in responses.values():
        uri = rec.rec_headers.get_header("WARC-Target-URI")
        stored = [r for url, rs in by_url.items() for r in rs if raw_urls.get(url, url) == uri]
        assert stored, uri
        match = [r for r in stored if zlib.decompress(r["body"]) == body]
        assert match, uri
        r = match[0]
        seen.add(r["id"])
        assert rec.http_headers.get_statuscode() == str(r["status"])
        assert rec.rec_headers.get_header("WARC-Date") == r["fetched_at"].replace("+00:00", "Z")
        assert rec.http_headers.get_header("Content-Length") == str(len(body))
        assert rec.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
        stored_type = json.loads(r["headers"]).get("Content-Type")
        assert rec.http_headers.get_header("Content-Type") == stored_type
        req = requests[rec.rec_headers.get_header("WARC-Record-ID")]
        assert req.http_headers.protocol == "GET" and req.rec_headers.get_header("WARC-Target-URI") == uri
    assert seen == set(raw)


def test_warc_passes_warcio_check_and_index(dumps: dict[str, Path]) -> None:
    # warcio's own tools: digests verify (check), and every capture is indexable for replay (index)
    check = subprocess.run([sys.executable, "-m", "warcio.cli", "check", str(dumps["warc"])],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    index = subprocess.run([sys.executable, "-m", "warcio.cli", "index", "-f", "warc-type,warc-target-uri,http:status",
                            str(dumps["warc"])], capture_output=True, text=True)
    assert index.returncode == 0
    lines = [json.loads(line) for line in index.stdout.splitlines()]
    assert sum(1 for line in lines if line.get("warc-type") == "response" and line.get("http:status") == "200") > 0


def test_warc_drops_credentials_and_stale_encoding(tmp_path: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    path = tmp_path / "cookies.db"
    with Archive(path) as arc:
        arc.upsert_sites([{"id": "s", "name": "S", "province": "P", "kind": "government",
                           "start_urls": ["https://s.gov.vn/"]}])
        body = "<html><body><h1>Tin</h1><p>Ủy ban nhân dân tỉnh họp.</p></body></html>".encode()
        arc.add_page({"url": "https://s.gov.vn/tin/1.html", "site_id": "s", "status": 200, "title": "Tin",
                      "body": "Ủy ban nhân dân tỉnh họp.", "fetched_at": "2024-05-01T10:00:00+00:00", "raw": body,
                      "headers": {"Content-Type": "text/html; charset=utf-8", "Set-Cookie": ["sid=1", "b=2"],
                                  "Authorization": "Bearer x", "Content-Encoding": "gzip", "Content-Length": "12",
                                  "Server": "nginx"}})
    out = export(path, "warc", tmp_path / "c.warc", progress=False)
    with open(out.path, "rb") as fh:
        responses = [(r.http_headers, r.content_stream().read()) for r in ArchiveIterator(fh)
                     if r.rec_type == "response"]
    [(headers, payload)] = responses
    assert {n.lower() for n, _ in headers.headers} == {"content-type", "server", "content-length"}
    assert headers.get_header("Content-Length") == str(len(body))
    assert payload == body
    assert b"sid=1" not in out.path.read_bytes() and b"Bearer" not in out.path.read_bytes()


def test_manifest_describes_every_dump(dumps: dict[str, Path]) -> None:
    folder = dumps["jsonl"].parent
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["profile"] == "data-package" and package["licenses"] and package["name"]
    resources = {r["path"]: r for r in package["resources"]}
    assert set(resources) == {p.name for p in dumps.values()}
    for fmt, path in dumps.items():
        res = resources[path.name]
        data = path.read_bytes()
        assert res["bytes"] == len(data)
        assert res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert res["format"] == fmt and res["mediatype"]
        assert res["command"] == f"test {fmt}"
        assert res["coverage"]["first_fetched"] <= res["coverage"]["last_fetched"]
        assert res["crawls"]["count"] == 1 and res["crawls"]["first_started"]
        assert res["name"].replace("-", "").replace(".", "").replace("_", "").isalnum()
    stories = len(read_jsonl(dumps["jsonl"]))
    for fmt in ("jsonl", "csv", "parquet", "sqlite"):
        assert resources[dumps[fmt].name]["rows"] == stories
    fields = resources["stories.csv"]["schema"]["fields"]
    assert [f["name"] for f in fields] == list(FIELD_NAMES)
    assert {f["type"] for f in fields} <= {"integer", "string", "array", "datetime"}
    assert resources["snapshot.sqlite"]["tables"]["articles"] == stories
    assert resources["captures.warc.gz"]["compression"] == "gz"
    assert resources["captures.warc.gz"]["records"]["response"] == resources["captures.warc.gz"]["rows"]


@pytest.mark.parametrize(
    ("filters", "sql", "params"),
    [
        (Filters.of(site="danang"), "site_id = ?", ("danang",)),
        (Filters.of(site=["danang", "anlao"]), "site_id IN (?, ?)", ("danang", "anlao")),
        (Filters.of(province="Đà Nẵng", kind="front"), "province = ? AND kind = ?", ("Đà Nẵng", "front")),
        (Filters.of(since="2023-06", until="2023-12"), "published >= ? AND substr(published, 1, 7) <= ?",
         ("2023-06", "2023-12")),
        (Filters.of(until="2022"), "substr(published, 1, 4) <= ?", ("2022",)),
    ],
)
def test_filters_select_stories(db: Path, filters: Filters, sql: str, params: tuple) -> None:
    want = [r["id"] for r in archive_rows(db, f"SELECT id FROM articles WHERE {sql} ORDER BY id", params)]
    conn = open_readonly(db)
    with snapshot(conn):
        got = [s["id"] for s in iter_stories(conn, filters)]
    assert got == want and got


def test_query_filter_matches_search(db: Path, tmp_path: Path) -> None:
    out = export(db, "jsonl", tmp_path / "q.jsonl", Filters.of(query='"dan van kheo"'), progress=False)
    rows = read_jsonl(out.path)
    assert rows and all("dân vận khéo" in (r["title"] + r["body"]).lower() for r in rows)
    assert {r["id"] for r in rows} == {r["id"] for r in search(db, "dan van kheo", limit=100) if r["phrase"]}
    nothing = export(db, "jsonl", tmp_path / "none.jsonl", Filters.of(query="!!!"), progress=False)
    assert nothing.rows == 0 and nothing.path.read_bytes() == b""


def test_small_batches_give_the_same_rows(db: Path, dumps: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    conn = open_readonly(db)
    with snapshot(conn):
        rows = list(iter_stories(conn, Filters(), batch=7))  # many batch edges, one story's pages never split
    assert rows == read_jsonl(dumps["jsonl"])


def test_export_is_a_snapshot_while_a_crawl_writes(db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "live.db"
    src = sqlite3.connect(db)
    src.backup(dst := sqlite3.connect(copy))
    src.close(), dst.close()
    conn = open_readonly(copy)
    with snapshot(conn):
        stories = iter_stories(conn, Filters(), batch=5)
        first = [next(stories) for _ in range(3)]
        with Archive(copy) as arc:  # a crawler adds a story and a copy in the middle of the export
            arc.add_page({"url": "http://127.0.0.14:1/new.html", "site_id": "danang", "status": 200,
                          "title": "Tin mới", "body": "Một câu chuyện hoàn toàn mới về công tác dân vận.",
                          "fetched_at": "2026-11-30T00:00:00+00:00"})
            added = arc.stats()["stories"]
        rest = list(stories)
    conn.close()
    assert len(first) + len(rest) == added - 1  # the export did not see it
    assert "Tin mới" not in {s["title"] for s in first + rest}


def test_gzip_jsonl(db: Path, dumps: dict[str, Path], tmp_path: Path) -> None:
    out = export(db, "jsonl", tmp_path / "s.jsonl.gz", progress=False)
    with gzip.open(out.path, "rt", encoding="utf-8") as fh:
        assert [json.loads(line) for line in fh] == read_jsonl(dumps["jsonl"])


def test_failed_export_leaves_no_file(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kw: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setitem(export_mod.TABULAR, "csv", boom)
    with pytest.raises(RuntimeError):
        export(db, "csv", tmp_path / "x.csv", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_progress_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        with Progress("jsonl", 10, stream=stream) as bar:
            for _ in range(10):
                bar.update()
    assert pipe.getvalue() == ""
    assert "\r" in tty.getvalue() and "10/10" in tty.getvalue() and tty.getvalue().endswith("\n")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", "export", *args], capture_output=True, text=True,
                          env=ENV, cwd=ROOT, timeout=60)


def test_cli_export(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "front.csv"
    done = run_cli("--db", str(db), "--format", "csv", "--out", str(out), "--kind", "front", "--since", "2022")
    assert done.returncode == 0, done.stderr
    assert "stories" in done.stdout and "datapackage.json" in done.stdout
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    manifest = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    [res] = manifest["resources"]
    assert res["command"].startswith("python -m archive export --db ")
    assert res["filters"] == {"kind": ["front"], "since": "2022"}
    with open(out, encoding="utf-8", newline="") as fh:
        assert {row["kind"] for row in csv.DictReader(fh)} == {"front"}


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "xml", "--out", "x"),
        ("--format", "csv", "--out", "x.csv", "--since", "yesterday"),
        ("--format", "csv"),
    ],
)
def test_cli_errors_are_one_line(db: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run_cli("--db", str(db), *args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_cli_missing_archive(tmp_path: Path) -> None:
    done = run_cli("--db", str(tmp_path / "none.db"), "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"))
    assert done.returncode == 2 and "no such archive" in done.stderr
