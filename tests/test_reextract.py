"""Raw capture and re-extraction (``python -m archive reextract``).

Two archives of the same sample web: one crawled with the real extractor, one with a worse one (the real
extractor wrapped to do what an older version would have done: a site-name suffix on titles, a counter
line and a block of boilerplate left in bodies, an article taken for an empty page). Re-extracting the
worse archive must report exactly those damages, repair them in place, and leave it reading like the good
one: same texts, same story grouping, same search results; a second run changes nothing.
"""

from __future__ import annotations

import io
import json
import os
import random
import sqlite3
import subprocess
import sys
import zlib
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from archive.__main__ import main as archive_main
from archive.reextract import _write, choose_date, load_capture, read_page, short_diff, site_readings, tty_progress
from archive.search import search
from archive.store import Archive
from crawler.crawl import crawl_lock
from crawler.samples.server import SampleWeb

ROOT = Path(__file__).resolve().parents[1]

TITLE_SUFFIX = " - Cổng thông tin điện tử"
COUNTER_LINE = "Lượt xem: 1234"
JUNK_MARKER = "zzquangcao"  # a word no article has, to see the junk in and out of the search index

# The worse extractor: the real one, damaged for the URLs in WORSE_TARGETS ({url: kind}).
WORSE_CRAWL = """
import json, os, random, sys
import crawler.extract.core as core

targets = json.loads(os.environ["WORSE_TARGETS"])
junk = os.environ["WORSE_JUNK"]
real = core._extract

def worse(html, url, selectors, headers, family):
    ex = real(html, url, selectors, headers, family)
    kind = targets.get(url)
    if kind == "title":
        ex.title = ex.title + os.environ["WORSE_SUFFIX"]
    elif kind == "counter":
        ex.body = ex.body + "\\n\\n" + os.environ["WORSE_COUNTER"]
    elif kind == "junk":
        ex.body = ex.body + "\\n\\n" + junk
    elif kind == "reject":
        ex.ok, ex.reason = False, "no-body"
    return ex

core._extract = worse
from crawler.__main__ import main
sys.exit(main(sys.argv[1:]))
"""

COMPARED = ("title", "body", "lead", "author", "source", "published", "content_hash")


def junk_block() -> str:
    """A "related links" block three times longer than an article: enough to keep a copy from matching."""
    rng = random.Random(7)
    syllables = (
        "tin liên quan thông báo lịch công tác tuần quảng cáo liên kết website tiện ích thời tiết tỷ giá "
        "giá vàng hỏi đáp văn bản mới góp ý dự thảo bản đồ hành chính danh bạ điện thoại đường dây nóng"
    ).split()
    lines = []
    for i in range(150):
        words = [rng.choice(syllables) for _ in range(20)]
        lines.append(f"{JUNK_MARKER} {i} " + " ".join(words))
    return "\n\n".join(lines)


def crawl(config: Path, db: Path, worse: dict[str, str] | None = None) -> None:
    args = ["crawl", "--sites", str(config), "--db", str(db)]
    if worse is None:
        cmd = [sys.executable, "-m", "crawler", *args]
        env = None
    else:
        cmd = [sys.executable, "-c", WORSE_CRAWL, *args]
        env = {
            **os.environ,
            "WORSE_TARGETS": json.dumps(worse),
            "WORSE_JUNK": junk_block(),
            "WORSE_SUFFIX": TITLE_SUFFIX,
            "WORSE_COUNTER": COUNTER_LINE,
        }
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]


def query(db: Path, sql: str, *params) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def copy_db(src: Path, dst: Path) -> Path:
    """A consistent copy (WAL included) through SQLite's backup API."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return dst


def reextract(db: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python -m archive reextract`` in this process (a subprocess per run would double the test time)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        status = archive_main(["reextract", "--db", str(db), *extra])
    return subprocess.CompletedProcess([], status, out.getvalue(), err.getvalue())


def reextract_json(db: Path, *extra: str) -> dict:
    done = reextract(db, "--json", *extra)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def choose_targets(db: Path) -> dict[str, str]:
    """URL -> damage: a copy of a syndicated story gets the junk block; single stories get the others."""
    grouped = query(
        db,
        "SELECT raw_url FROM pages WHERE article_id IN "
        "(SELECT article_id FROM pages GROUP BY article_id HAVING count(*) > 1) ORDER BY article_id, seq DESC",
    )
    single = [
        r["raw_url"]
        for r in query(
            db,
            "SELECT raw_url FROM pages WHERE article_id IN "
            "(SELECT article_id FROM pages GROUP BY article_id HAVING count(*) = 1) ORDER BY seq",
        )
    ]
    kinds = ["title", "title", "counter", "counter", "reject"]
    targets = dict(zip(single[::7], kinds, strict=False))
    targets[grouped[0]["raw_url"]] = "junk"
    return targets


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reextract")
    with SampleWeb(port=0) as web:
        config = tmp / "sites.toml"
        web.write_config(config)
        good = tmp / "good.db"
        crawl(config, good)
        targets = choose_targets(good)
        worse = tmp / "worse.db"
        crawl(config, worse, worse=targets)
    return {"good": good, "worse": worse, "targets": targets, "config": config, "tmp": tmp}


def page_fields(db: Path) -> dict[str, dict]:
    return {r["raw_url"]: {c: r[c] for c in COMPARED} for r in query(db, "SELECT * FROM pages")}


def partition(db: Path) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for r in query(db, "SELECT raw_url, article_id FROM pages WHERE article_id IS NOT NULL"):
        groups.setdefault(r["article_id"], set()).add(r["raw_url"])
    return {frozenset(g) for g in groups.values()}


# ------------------------------------------------------------------------------------------- raw pages


def test_every_article_page_keeps_its_raw_response_compressed_with_headers(archives):
    pages = query(archives["good"], "SELECT * FROM pages WHERE article_id IS NOT NULL")
    assert len(pages) >= 50
    for page in pages:
        raws = query(archives["good"], "SELECT * FROM raw_pages WHERE url = ?", page["fetched_url"])
        assert len(raws) == 1, page["url"]
        raw = raws[0]
        assert raw["compression"] == "zlib" and raw["status"] == 200
        body = zlib.decompress(raw["body"])
        assert len(body) == raw["size"] > len(raw["body"])  # compressed, and whole
        assert b"<html" in body.lower()
        headers = json.loads(raw["headers"])
        assert "text/html" in headers["Content-Type"]
        assert raw["fetched_at"] and raw["encoding"]


# ------------------------------------------------------------------------------------ no extractor change


def test_same_extractor_changes_nothing(archives, tmp_path):
    db = copy_db(archives["good"], tmp_path / "a.db")
    before = page_fields(db)
    done = subprocess.run(  # the real command line, once
        [sys.executable, "-m", "archive", "reextract", "--db", str(db)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    pages = len(query(db, "SELECT url FROM pages"))
    assert done.stdout.splitlines()[0] == f"reextract: {pages} pages read, 0 changed, {pages} unchanged"
    assert page_fields(db) == before
    assert "reextractions" not in {r["name"] for r in query(db, "SELECT name FROM sqlite_master")}


# ------------------------------------------------------------------------------- a better extractor


@pytest.fixture(scope="module")
def repaired(archives, tmp_path_factory):
    """The worse archive before (a copy) and after one re-extraction, with the run's report."""
    tmp = tmp_path_factory.mktemp("repaired")
    before = copy_db(archives["worse"], tmp / "before.db")
    db = copy_db(archives["worse"], tmp / "after.db")
    report = reextract_json(db)
    return {"before": before, "db": db, "report": report}


def test_the_worse_archive_differs_from_the_good_one(archives):
    targets = archives["targets"]
    good, worse = page_fields(archives["good"]), page_fields(archives["worse"])
    for url, kind in targets.items():
        if kind == "reject":
            assert worse[url]["title"] == good[url]["title"] and worse[url]["body"] is None
        else:
            assert worse[url] != good[url], kind
    assert partition(archives["worse"]) != partition(archives["good"])


def test_dry_run_reports_and_writes_nothing(archives, tmp_path):
    db = copy_db(archives["worse"], tmp_path / "dry.db")
    before = page_fields(db)
    report = reextract_json(db, "--dry-run")
    assert report["dry_run"] and not report["written"]
    assert report["fields"] == {"body": 3, "title": 2}
    assert page_fields(db) == before
    assert "reextractions" not in {r["name"] for r in query(db, "SELECT name FROM sqlite_master")}


def test_reextraction_reports_each_damaged_field(archives, repaired):
    report, targets = repaired["report"], archives["targets"]
    kinds = sorted(targets.values())
    assert report["fields"] == {"body": kinds.count("counter") + kinds.count("junk"), "title": kinds.count("title")}
    assert report["changed_pages"] == len(targets)
    assert report["unchanged"] == report["pages"] - len(targets)
    assert [e["url"] for e in report["new_articles"]] == [
        canonical(u) for u, k in targets.items() if k == "reject"
    ]
    assert report["errors"] == [] and report["skipped"] == [] and report["not_articles"] == []
    titles = report["examples"]["title"]
    assert all(ex["before"].endswith(TITLE_SUFFIX) and not ex["after"].endswith(TITLE_SUFFIX) for ex in titles)
    bodies = {ex["before"].split(" / ")[0] for ex in report["examples"]["body"]}
    assert COUNTER_LINE in bodies and any(b.startswith(JUNK_MARKER) for b in bodies)
    assert all(ex["after"] == "" for ex in report["examples"]["body"])  # lines removed, none added


def canonical(url: str) -> str:
    from archive.dedup import canonical_url

    return canonical_url(url)


def test_repaired_archive_reads_like_the_good_one(archives, repaired):
    assert page_fields(repaired["db"]) == page_fields(archives["good"])
    assert partition(repaired["db"]) == partition(archives["good"])
    good_articles = {r["url"]: (r["title"], r["body"]) for r in query(archives["good"], "SELECT * FROM articles")}
    fixed_articles = {r["url"]: (r["title"], r["body"]) for r in query(repaired["db"], "SELECT * FROM articles")}
    assert fixed_articles == good_articles


def test_repair_is_in_place_and_logged(archives, repaired):
    db = repaired["db"]
    assert query(db, "SELECT count(*) AS n FROM versions")[0]["n"] == 0  # not an edit by the site
    log = query(db, "SELECT * FROM reextractions ORDER BY id")
    assert len(log) == len(archives["targets"])
    for row in log:
        before, after = json.loads(row["before"]), json.loads(row["after"])
        assert set(before) == set(after) == set(json.loads(row["fields"]))
    titled = [json.loads(r["before"])["title"] for r in log if "title" in json.loads(r["fields"])]
    assert titled and all(t.endswith(TITLE_SUFFIX) for t in titled)


def test_junk_copy_rejoins_its_story(archives, repaired):
    junk_url = next(u for u, k in archives["targets"].items() if k == "junk")
    moved = repaired["report"]["regroup"]["moved_pages"]
    assert moved == [canonical(junk_url)]
    ids = {r["raw_url"]: r["article_id"] for r in query(repaired["db"], "SELECT raw_url, article_id FROM pages")}
    good = {r["raw_url"]: r["article_id"] for r in query(archives["good"], "SELECT raw_url, article_id FROM pages")}
    partners = [u for u, a in good.items() if a == good[junk_url] and u != junk_url]
    assert partners and all(ids[u] == ids[junk_url] for u in partners)


def test_search_index_follows_the_repair(archives, repaired):
    assert search(str(repaired["before"]), JUNK_MARKER)
    assert search(str(repaired["db"]), JUNK_MARKER) == []
    for url in (u for u, k in archives["targets"].items() if k == "title"):
        title = query(archives["good"], "SELECT title FROM pages WHERE raw_url = ?", url)[0]["title"]
        found = search(str(repaired["db"]), title, limit=3)
        assert found and found[0]["title"] == title
        fts = query(repaired["db"], "SELECT title FROM articles_fts WHERE title = ?", title + TITLE_SUFFIX)
        assert fts == []


def test_second_run_changes_nothing(repaired, tmp_path):
    db = copy_db(repaired["db"], tmp_path / "again.db")
    report = reextract_json(db)
    assert report["changed_pages"] == 0 and report["fields"] == {} and report["regroup"] is None
    assert report["unchanged"] == report["pages"]
    assert query(db, "SELECT count(*) AS n FROM reextractions")[0]["n"] == len(
        query(repaired["db"], "SELECT id FROM reextractions")
    )


# ----------------------------------------------------------------------------------------- bad pages


def test_corrupt_raw_capture_is_reported_not_fatal(archives, tmp_path):
    db = copy_db(archives["good"], tmp_path / "corrupt.db")
    victim = query(db, "SELECT url FROM raw_pages ORDER BY id LIMIT 1")[0]["url"]
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE raw_pages SET body = ? WHERE url = ?", (b"not zlib at all", victim))
    conn.close()
    done = reextract(db)
    assert done.returncode == 0, done.stderr
    assert "1 page could not be read:" in done.stdout and victim in done.stdout and "zlib" in done.stdout
    report = reextract_json(db, "--dry-run")
    assert [e["url"] for e in report["errors"]] == [victim]
    assert report["changed_pages"] == 0 and report["unchanged"] == report["pages"]


def test_site_filter_limit_and_usage_errors(archives, tmp_path):
    db = copy_db(archives["good"], tmp_path / "opts.db")
    report = reextract_json(db, "--dry-run", "--site", "danang", "--limit", "3")
    assert report["pages"] == 3
    assert report["changed_pages"] == 0
    unknown = reextract(db, "--site", "nowhere")
    assert unknown.returncode == 2 and "unknown site id: nowhere" in unknown.stderr
    missing = reextract(tmp_path / "none.db")
    assert missing.returncode == 2 and "no such archive file" in missing.stderr
    with_config = reextract_json(db, "--dry-run", "--sites", str(archives["config"]))
    assert with_config["changed_pages"] == 0


def test_writing_run_waits_for_no_crawl(archives, tmp_path):
    db = copy_db(archives["good"], tmp_path / "locked.db")
    with crawl_lock(db):
        locked = reextract(db)
        dry = reextract(db, "--dry-run")
    assert locked.returncode == 2 and "lock" in locked.stderr
    assert dry.returncode == 0, dry.stderr


def test_page_refetched_during_the_run_is_not_overwritten(archives, tmp_path):
    db = copy_db(archives["good"], tmp_path / "race.db")
    with Archive(db) as archive:
        page = dict(archive.conn.execute("SELECT * FROM pages WHERE article_id IS NOT NULL LIMIT 1").fetchone())
        capture = load_capture(archive.conn, page)
        record, _ = read_page(page, capture, site_readings(archive)[page["site_id"]])
        record["title"] = "Một cách đọc khác"
        archive.conn.execute("UPDATE pages SET version = 2 WHERE url = ?", (page["url"],))  # a crawl got there first
        assert _write(archive, page, record, capture, "now") is None
        page["version"] = 2
        assert _write(archive, page, record, capture, "now") == {"title": (page["title"], "Một cách đọc khác")}


# ------------------------------------------------------------------------------------------- helpers


class FakeTerminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass


def test_progress_only_on_a_terminal():
    with open(os.devnull, "w") as devnull:
        assert tty_progress(devnull) is None
    term = FakeTerminal()
    show = tty_progress(term)
    for n in range(1, 4):
        show(n, 3)
    assert term.text.startswith("\rreextract: 1/3 pages") and term.text.endswith("\rreextract: 3/3 pages\n")


def test_stored_date_stands_in_for_the_listing_date():
    page = {"published": "2023-10-10", "published_raw": "10/10/2023", "published_source": "listing"}
    # no date on the page: the listing's date (stored) is kept as it was
    assert choose_date({"date_candidates": []}, page, "2024-01-01T00:00:00+00:00") == (
        {k: page[k] for k in ("published", "published_raw", "published_source")},
        False,
    )
    # a date on the page wins over it
    found, kept = choose_date(
        {"date_candidates": [{"raw": "12/10/2023 08:30", "source": "visible"}]}, page, "2024-01-01T00:00:00+00:00"
    )
    assert found["published"] == "2023-10-12T08:30:00+07:00" and found["published_source"] == "visible"
    assert not kept
    # a page date that is no longer found: the stored one is kept, and that is said
    visible = {**page, "published_raw": "10/10/2023", "published_source": "visible"}
    found, kept = choose_date({"date_candidates": []}, visible, "2024-01-01T00:00:00+00:00")
    assert found["published"] == "2023-10-10" and found["published_source"] == "visible" and kept
    # a year-less page date takes its year from the stored date, as it took it from the listing
    found, _ = choose_date(
        {"date_candidates": [{"raw": "Ngày 9-10", "source": "visible"}]}, page, "2024-01-01T00:00:00+00:00"
    )
    assert found["published"] == "2023-10-09"


def test_short_diff_shows_only_what_differs():
    assert short_diff("a\n\nb\n\nLượt xem: 5", "a\n\nb") == {"before": "Lượt xem: 5", "after": ""}
    long_title = "Hội nghị tổng kết công tác dân vận năm 2023 của tỉnh"
    diff = short_diff(long_title + TITLE_SUFFIX, long_title)
    assert diff["before"].endswith(TITLE_SUFFIX) and diff["before"].startswith("…")
    assert short_diff(None, "x") == {"before": "", "after": "x"}
