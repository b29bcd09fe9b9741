"""Crashes: the real crawl is killed (SIGKILL) at random moments, several times, on one archive.

After each kill the archive opens, ``PRAGMA integrity_check`` is ok and no story is half-written (every
page's story exists, every story has its pages, its search entries and its signature, counts agree). The
flock lock died with the process: the next run starts at once. A last, uninterrupted run completes what
the killed ones missed: every sample article is archived, copies under one story, as in test_end_to_end.

The sample web answers ~80 ms late so that a crawl lasts a few seconds and the kills land mid-crawl.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from crawler.crawl import crawl_lock
from crawler.samples.server import Response, SampleWeb

try:
    from test_end_to_end import expectations, path_of
except ImportError:  # tests/ collected as a package
    from tests.test_end_to_end import expectations, path_of

ROOT = Path(__file__).resolve().parents[1]
# More on demand: CRASH_KILLS=20 CRASH_WRITER_KILLS=50 CRASH_SEED=7 pytest tests/test_crash.py -s
KILLS = int(os.environ.get("CRASH_KILLS", "5"))
WRITER_KILLS = int(os.environ.get("CRASH_WRITER_KILLS", "8"))
SEED = int(os.environ.get("CRASH_SEED", "20240501"))
DELAY = 0.08  # seconds added to every answer of the sample web


def start_crawl(config: Path, db: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CRAWL_QUIET": "1"},
    )


def wait_for_lock(proc: subprocess.Popen, db: Path, timeout: float = 30) -> bool:
    """Until the crawl holds the archive's lock (it has started); False when it ended first."""
    lock = db.with_name(db.name + ".lock")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if lock.exists() and lock.read_text().strip() == f"pid {proc.pid}":
            return True
        time.sleep(0.02)
    raise AssertionError("the crawl never took the lock")


def wait_for_pages(proc: subprocess.Popen, db: Path, at_least: int, timeout: float = 30) -> bool:
    """Until the archive holds ``at_least`` pages (the crawl is mid-crawl); False when it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if count(db, "pages") >= at_least:
            return True
        time.sleep(0.02)
    raise AssertionError(f"the crawl did not reach {at_least} pages in {timeout} s")


def consistency_problems(db: Path) -> list[str]:
    """What would show a half-written story; empty when the archive is whole."""
    conn = sqlite3.connect(db)
    try:
        problems = []
        check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if check != ["ok"]:
            problems.append(f"integrity_check: {check[:5]}")
        if conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append("foreign_key_check")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            problems.append("not in WAL mode")
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        checks = {
            "pages pointing to no story": "select count(*) from pages where article_id is not null "
                "and article_id not in (select id from articles)",
            "stories without a page": "select count(*) from articles where id not in "
                "(select article_id from pages where article_id is not null)",
            "stories whose page_count is off": "select count(*) from articles a where page_count != "
                "(select count(*) from pages p where p.article_id = a.id)",
            "stories without a title or text": "select count(*) from articles where coalesce(body, '') = '' "
                "or coalesce(title, '') = ''",
            "article pages without text":
                "select count(*) from pages where article_id is not null and coalesce(body, '') = ''",
            "stories without a signature":
                "select count(*) from articles where id not in (select article_id from dedup_signatures)",
            "signatures of no story":
                "select count(*) from dedup_signatures where article_id not in (select id from articles)",
            "LSH bands of no story":
                "select count(*) from dedup_bands where article_id not in (select id from articles)",
            "pages without their raw capture":
                "select count(*) from pages where fetched_url not in (select url from raw_pages)",
            "versions of no story": "select count(*) from versions where article_id not in (select id from articles)",
        }
        for name, sql in checks.items():
            if one(sql):
                problems.append(f"{name}: {one(sql)}")
        stories = one("select count(*) from articles")
        if one("select count(*) from articles_fts") != stories:
            problems.append("articles_fts and articles disagree")
        if one("select count(*) from articles_fts where rowid not in (select id from articles)"):
            problems.append("search entries of no story")
        for fts in ("articles_fts", "articles_exact"):
            try:
                conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{fts} integrity-check: {exc}")
        return problems
    finally:
        conn.close()


@pytest.fixture(scope="module")
def crashes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    rng = random.Random(SEED)
    with SampleWeb(port=0) as web:
        respond = web.respond

        def slow(site_id: str, raw_path: str) -> Response:
            time.sleep(DELAY)
            return respond(site_id, raw_path)

        web.respond = slow  # type: ignore[method-assign]
        for server in web._servers:  # a killed client breaks the pipe of its last answer: no traceback
            server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        config = web.write_config(tmp / "sites.toml")
        db = tmp / "archive.db"
        kills = []
        for _ in range(KILLS):
            before = count(db, "pages")
            proc = start_crawl(config, db)
            # Killed after it has written a few pages (1 to 8: the five runs together stay below the sample
            # web's 60, so every kill lands mid-crawl however fast the machine), a moment later still.
            started = wait_for_lock(proc, db) and wait_for_pages(proc, db, before + rng.randint(1, 8))
            after = rng.uniform(0.0, 0.1)
            if started:
                time.sleep(after)
            killed = proc.poll() is None
            if killed:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
            # the lock died with the process: it can be taken at once
            with crawl_lock(db):
                pass
            kills.append({
                "after": round(after, 2), "killed": killed, "pages_before": before, "returncode": proc.returncode,
                "pages": count(db, "pages"), "stories": count(db, "articles"), "run": last_run(db),
                "problems": consistency_problems(db) if db.exists() else [],
            })
        final = subprocess.run(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
            capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        yield {"db": db, "kills": kills, "final": final}
    print("\ncrash runs:", *kills, sep="\n  ")


def last_run(db: Path) -> tuple[int, str, str | None] | None:
    """The last ``crawls`` row (id, status, finished_at) as the kill left it."""
    if not db.exists():
        return None
    conn = sqlite3.connect(db)
    try:
        return conn.execute("select id, status, finished_at from crawls order by id desc limit 1").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()


def count(db: Path, table: str) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"select count(*) from {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0  # killed before the schema was made
    finally:
        conn.close()


def test_the_crawls_were_killed_mid_crawl(crashes):
    killed = [k for k in crashes["kills"] if k["killed"]]
    # (a run that found nothing left to fetch ends before its kill: only when KILLS is raised past ~6)
    assert len(killed) >= min(KILLS - 1, 4), crashes["kills"]
    assert all(k["returncode"] == -signal.SIGKILL for k in killed)
    # each kill came after the run had written pages, and the archive kept growing
    assert all(k["pages"] > k["pages_before"] for k in killed), crashes["kills"]


def test_after_every_kill_the_archive_is_whole(crashes):
    for kill in crashes["kills"]:
        assert kill["problems"] == [], kill


def test_the_next_run_completes_what_was_missed(crashes):
    final = crashes["final"]
    assert final.returncode == 0, final.stderr[-3000:]
    assert consistency_problems(crashes["db"]) == []
    conn = sqlite3.connect(crashes["db"])
    conn.row_factory = sqlite3.Row
    try:
        pages = {(r["site_id"], path_of(r["url"])): r for r in conn.execute("select * from pages")}
        stories = conn.execute("select count(*) from articles").fetchone()[0]
    finally:
        conn.close()
    expected = expectations()
    missing = [key for key in expected if key not in pages or pages[key]["article_id"] is None]
    assert not missing, f"not archived after the crashes: {missing[:5]}"
    groups: dict[str, set[int]] = defaultdict(set)
    for key, exp in expected.items():
        groups[exp["dup_group"]].add(pages[key]["article_id"])
    assert all(len(ids) == 1 for ids in groups.values()), "a story was split by the crashes"
    assert stories == len(groups), "a story was archived twice"


def test_killed_runs_are_marked_interrupted(crashes):
    """A run killed mid-crawl is left ``running``; the next run, holding the lock, knows it died and marks it
    ``interrupted`` (no finish time). A kill that came after the spider closed leaves a finished run."""
    conn = sqlite3.connect(crashes["db"])
    try:
        rows = conn.execute("select id, status, finished_at from crawls").fetchall()
        now = {run_id: (status, finished) for run_id, status, finished in rows}
    finally:
        conn.close()
    at_kill = [k["run"] for k in crashes["kills"] if k["killed"] and k["run"]]
    assert at_kill, crashes["kills"]
    for run_id, status, finished in at_kill:
        assert (status, finished is None) in {("running", True), ("finished", False)}, (run_id, status, finished)
        if status == "running":
            assert now[run_id] == ("interrupted", None), (run_id, now[run_id])
        else:
            assert now[run_id] == (status, finished)
    assert any(status == "running" for _, status, _ in at_kill), "no kill landed mid-crawl"
    last = max(now)
    assert now[last][0] == "finished" and now[last][1]
    assert not any(status == "running" for status, _ in now.values())


# A writer that adds pages as fast as it can: killed at random moments, many kills land inside a transaction.
WRITER = r"""
import random, sys
from archive.store import Archive
WORDS = ("an ba bàn bảo bếp biển bình bộ cán cảng cầu chợ chính công dân dự đào đất đê điện đình đồng đường gạo "
         "giao hàng hải hạt hòa học hội huyện kênh khánh khoa kinh làng lúa mạng mía muối mùa nghề nhà nông nước "
         "phố quận rau ruộng sông tàu thành thôn tỉnh trạm trường văn vốn vụ vườn xã xanh xóm xuân").split()
arc = Archive(sys.argv[1])
arc.upsert_sites([{"id": "s%d" % i, "name": "Site %d" % i, "province": "P", "kind": "government",
                   "start_urls": ["http://s%d.gov.vn/" % i]} for i in range(3)])
arc.start_crawl(["s0", "s1", "s2"], {})
start = int(sys.argv[2])
for n in range(start, start + 100000):
    rng = random.Random(n // 3)  # pages n, n+1, n+2 tell one story: copies on three sites, edited a little
    body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(4))
    body += " Thêm câu số %d." % (n % 3)
    record = {"url": "http://s%d.gov.vn/tin/%d.html" % (n % 3, n), "site_id": "s%d" % (n % 3), "status": 200,
              "title": "Tin %d" % (n // 3), "body": body, "published": "2024-01-%02d" % (1 + n % 28),
              "raw": body.encode() * 3, "headers": {"Content-Type": "text/html"}}
    sys.stdout.write("b %d\n" % n); sys.stdout.flush()  # one write a line: a kill never leaves half of one
    arc.add_page(record)
    sys.stdout.write("c %d\n" % n); sys.stdout.flush()
"""


def test_add_page_killed_inside_its_transaction(tmp_path):
    """SIGKILL of a process adding pages as fast as it can: one transaction per page, so after each kill the
    archive holds every page it committed, no part of the one it was writing, and the next writer goes on."""
    rng = random.Random(SEED)
    db = tmp_path / "writer.db"
    next_page, mid_transaction, committed = 0, 0, 0
    for _ in range(WRITER_KILLS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(next_page)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        first = proc.stdout.readline()  # the writer is in its loop
        assert first.startswith("b "), proc.stderr.read()[-2000:]
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        lines = [first, *proc.stdout.read().splitlines()]
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()
        events = [line.split() for line in lines if len(line.split()) == 2]  # a last line cut by the kill: not one
        done = [int(n) for kind, n in events if kind == "c"]
        if events[-1][0] == "b":
            mid_transaction += 1
        assert consistency_problems(db) == []
        pages = count(db, "pages")
        # every page reported committed is there; the one being written is all there or not at all
        assert next_page + len(done) <= pages <= next_page + len(done) + 1
        committed += pages - next_page
        next_page = pages
    assert committed > WRITER_KILLS
    print(f"\nadd_page writer: {WRITER_KILLS} kills, {mid_transaction} inside add_page, {committed} pages committed")
