"""Concurrency on one archive: two crawls started together (one waits for nothing: it exits 3 at once with
one line, the other crawls), and Datasette serving the archive while a crawl writes to it (every answer 200,
counts only grow, never "database is locked")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from servers import datasette

from archive.store import Archive
from crawler.samples.server import Response, SampleWeb

try:
    from test_crash import consistency_problems
except ImportError:  # tests/ collected as a package
    from tests.test_crash import consistency_problems

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "CRAWL_QUIET": "1"}
MAX_POLLS = 400


def crawl_command(config: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)]




@pytest.fixture(scope="module")
def slow_web():
    with SampleWeb(port=0) as web:
        respond = web.respond

        def slow(site_id: str, raw_path: str) -> Response:
            time.sleep(0.05)
            return respond(site_id, raw_path)

        web.respond = slow  # type: ignore[method-assign]
        yield web


def test_two_crawls_started_together(slow_web, tmp_path):
    config = slow_web.write_config(tmp_path / "sites.toml")
    db = tmp_path / "archive.db"
    started = time.monotonic()
    procs = [
        subprocess.Popen(crawl_command(config, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=ROOT, env=ENV)
        for _ in range(2)
    ]
    ended = {}
    while len(ended) < 2:
        for i, proc in enumerate(procs):
            if i not in ended and proc.poll() is not None:
                ended[i] = time.monotonic() - started
        assert time.monotonic() - started < 180, "the crawls did not end"
        time.sleep(0.05)
    results = [(proc.returncode, *proc.communicate()) for proc in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 3], [(code, err[-2000:]) for code, _, err in results]
    loser = next(i for i, (code, _, _) in enumerate(results) if code == 3)
    winner = 1 - loser
    _, out, err = results[loser]
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and "another crawl holds the lock" in err
    assert f"pid {procs[winner].pid}" in err
    assert ended[loser] < ended[winner]  # it did not wait for the other to finish
    assert consistency_problems(db) == []
    with Archive(db) as archive:
        assert archive.stats()["stories"] > 40


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8", "replace")


@pytest.fixture
def served(tmp_path):
    db = tmp_path / "archive.db"
    Archive(db).close()  # an empty archive: Datasette serves it before the crawl writes anything
    log = tmp_path / "datasette.log"
    with datasette(db, log=log) as (base, proc):
        yield base, db, proc, log


def test_datasette_serves_while_a_crawl_writes(slow_web, served, tmp_path):
    base, db, server, log = served
    config = slow_web.write_config(tmp_path / "sites.toml")
    count_url = base + "/archive.json?" + urllib.parse.urlencode(
        {"sql": "select count(*) as n from articles", "_shape": "array"})
    urls = [
        base + "/archive/articles.json?_size=1&_shape=objects",
        base + "/archive/articles.json?" + urllib.parse.urlencode({"_search": "ủy ban", "_size": "3"}),
        base + "/archive/search.json?"
        + urllib.parse.urlencode({"q": "nhan dan", "site": "", "since": "", "until": ""}),
        base + "/archive/pages.json?_size=1&_facet=status",
    ]
    crawl = subprocess.Popen(crawl_command(config, db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT, env=ENV)
    counts, answers, polls = [], [], 0
    try:
        while crawl.poll() is None and polls < MAX_POLLS:
            polls += 1
            status, body = get(count_url)
            answers.append((status, body))
            if status == 200:
                counts.append(json.loads(body)[0]["n"])
            status, body = get(urls[polls % len(urls)])
            answers.append((status, body))
            time.sleep(0.05)
    finally:
        crawl.wait(timeout=180)
    assert crawl.returncode == 0, crawl.stderr.read()[-2000:]
    bad = [(status, body[:300]) for status, body in answers if status != 200 or "locked" in body.lower()]
    assert not bad, bad[:3]
    assert len(counts) >= 10, "the crawl ended before Datasette was asked much"
    assert counts == sorted(counts), counts
    assert counts[0] < counts[-1] or counts[-1] > 0
    status, body = get(count_url)
    with Archive(db) as archive:
        assert json.loads(body)[0]["n"] == archive.stats()["stories"] > 40
    crawl.stderr.close()
    assert server.poll() is None
    assert "locked" not in log.read_text(errors="replace").lower()
    print(f"\ndatasette during the crawl: {len(answers)} answers, stories seen {counts[0]} -> {counts[-1]}")
