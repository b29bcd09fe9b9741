"""The crawl under cron: a lock so runs never overlap, documented exit statuses, a rotating log with one
line per failed page and no tracebacks, and per-site figures printed at the end."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.crawl import crawl_lock
from crawler.samples.server import Response, SampleWeb
from crawler.samples.site import article_path

ROOT = Path(__file__).resolve().parents[1]
LOG_MAX_BYTES = 4000


def crawl(config: Path, db: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db), *extra],
        capture_output=True, text=True, timeout=300,
    )


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DEAD_SITE = """
[[site]]
id = "dead"
name = "Trang không còn hoạt động"
province = "Thử nghiệm"
kind = "government"
start_urls = ["http://127.0.0.1:{port}/"]
"""


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """One site with three broken article pages, and one site that is down."""
    tmp = tmp_path_factory.mktemp("cron")
    with SampleWeb(port=0, site_ids=["danang"]) as web:
        site = web.sites["danang"]
        broken = {article_path(site, a): status for a, status in zip(site.articles, (500, 500, 404), strict=False)}
        respond = web.respond

        def breaking(site_id: str, raw_path: str) -> Response:
            if raw_path in broken:
                return Response(broken[raw_path], "text/html; charset=utf-8", b"<h1>Server Error</h1>")
            return respond(site_id, raw_path)

        web.respond = breaking  # type: ignore[method-assign]
        small_log = f"[crawler]\nlog_max_bytes = {LOG_MAX_BYTES}\nlog_backups = 50\n"
        text = web.config_toml().replace("[crawler]\n", small_log)
        config = tmp / "sites.toml"
        config.write_text(text + DEAD_SITE.replace("{port}", str(closed_port())), encoding="utf-8")
        log = tmp / "logs" / "crawl.log"
        result = crawl(config, tmp / "archive.db", "--log-file", str(log))
        yield {
            "result": result, "log": log, "db": tmp / "archive.db", "config": config,
            "broken": {web.url("danang", path) for path in broken},
        }


def log_lines(log: Path) -> list[str]:
    files = sorted(log.parent.glob(log.name + "*"), key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0)
    lines = []
    for path in reversed(files):  # oldest first: crawl.log.N ... crawl.log.1, crawl.log
        lines += path.read_text(encoding="utf-8").splitlines()
    return lines


def test_a_site_that_is_down_fails_the_run_with_status_1(night):
    result = night["result"]
    assert result.returncode == 1, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "failed sites: dead"


def test_figures_are_printed_per_site_at_the_end(night):
    lines = night["result"].stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["site", "requests"])
    rows = {line.split()[0]: line for line in lines[header + 1 : header + 3]}
    assert set(rows) == {"danang", "dead"}
    assert "http-404 1, http-500 2" in rows["danang"]
    assert re.search(r"\d+\.\d\s", rows["danang"])  # seconds spent


def test_the_log_rotates_and_keeps_one_line_per_failed_page(night):
    files = list(night["log"].parent.glob(night["log"].name + "*"))
    assert len(files) > 1, "the log never rotated"
    assert all(path.stat().st_size <= LOG_MAX_BYTES + 1000 for path in files)
    lines = log_lines(night["log"])
    problems = [line for line in lines if re.search(r"\] (WARNING|ERROR|CRITICAL): ", line)]
    for url in night["broken"]:
        assert len([line for line in problems if url in line]) == 1, url
    dead = [line for line in problems if "dead:" in line]
    assert len(dead) == 1 and "connection-refused" in dead[0]
    assert len(problems) == len(night["broken"]) + 1, problems


def test_no_traceback_for_ordinary_failures(night):
    assert not [line for line in log_lines(night["log"]) if "Traceback" in line]
    assert "Traceback" not in night["result"].stderr


def test_a_second_run_while_the_lock_is_held_exits_3_at_once(night, tmp_path):
    with crawl_lock(night["db"]):
        started = time.monotonic()
        second = crawl(night["config"], night["db"])
        took = time.monotonic() - started
    assert second.returncode == 3
    assert second.stdout == ""
    assert len(second.stderr.strip().splitlines()) == 1
    assert "another crawl holds the lock" in second.stderr and f"pid {__import__('os').getpid()}" in second.stderr
    assert took < 15  # no crawling happened: just the interpreter starting


def test_a_crawl_and_a_second_one_started_beside_it(night):
    """Two real processes: the one that comes second exits 3 while the first goes on."""
    first = subprocess.Popen(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(night["config"]), "--db", str(night["db"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lock = night["db"].with_name(night["db"].name + ".lock")
        deadline = time.monotonic() + 30
        while f"pid {first.pid}" not in (lock.read_text() if lock.exists() else ""):
            assert time.monotonic() < deadline and first.poll() is None, "the first crawl never took the lock"
            time.sleep(0.05)
        second = crawl(night["config"], night["db"])
    finally:
        first.communicate(timeout=120)
    assert second.returncode == 3, second.stderr
    assert first.returncode == 1  # the dead site, as in the first run


def test_readme_documents_the_exit_statuses_and_a_crontab_line():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert status in readme
    assert re.search(r"^[\d*/,-]+ [\d*/,-]+ \* \* \*\s+.*python -m crawler crawl --sites", readme, re.M)


def test_report_is_written_beside_the_log(night):
    report = night["log"].parent / "report.html"
    assert f"report: {report}" in night["result"].stdout
    html = report.read_text(encoding="utf-8")
    # The dead site failed: the report lists it, before the site that answered.
    assert html.index("dead") < html.index("danang")
    assert "<script" not in html


def test_the_lock_message_names_a_holder_that_has_just_started(tmp_path):
    """Two crawls started at the same moment: the loser may find the lock taken and its pid not written yet;
    it waits a moment for the pid rather than naming 'another process'."""
    import fcntl
    import threading

    from crawler.crawl import LockHeld

    db = tmp_path / "archive.db"
    holder = open(db.with_name(db.name + ".lock"), "a+")  # noqa: SIM115 (held across the thread below)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def write_pid_late() -> None:
        time.sleep(0.15)
        holder.write("pid 4242")
        holder.flush()

    writer = threading.Thread(target=write_pid_late)
    writer.start()
    try:
        with pytest.raises(LockHeld, match="pid 4242"):
            with crawl_lock(db):
                pass
    finally:
        writer.join()
        holder.close()
