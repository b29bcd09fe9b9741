"""Servers the tests start for real: a free loopback port, and Datasette on an archive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def datasette(
    db: Path, log: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m archive serve`` on ``db``: yields (base URL, process) once it answers, stops it after.

    Its output goes to a file, never to a pipe: a pipe nobody reads would block the server.
    """
    port = free_port()
    log_path = log or Path(tempfile.mkstemp(prefix="datasette-", suffix=".log")[1])
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with open(log_path, "w+") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "archive", "serve", "--db", str(db), "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, proc, log_path, timeout)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if log is None:
                log_path.unlink(missing_ok=True)


def _wait_until_up(base: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("datasette did not start: " + log.read_text(errors="replace")[-2000:]) from None
            time.sleep(0.2)


CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialing Google's hosts, refused on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright; never a downloaded browser. CI installs it, so a
    missing browser is a failure, not a skip."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no chromium at {CHROMIUM}: apt-get install chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
