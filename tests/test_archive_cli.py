import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from archive import Archive

try:
    from test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import SEARCH_STORIES, SITES, STORY_A, STORY_A_EXACT, TITLE_A, record

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "archive", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "archive.db"
    with Archive(path) as arc:
        arc.upsert_sites(SITES)
        for slug, title, body, published, site in SEARCH_STORIES:
            arc.add_page(record(site, slug, title, body, published))
        arc.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
        arc.add_page(record("qn-gov", "b", TITLE_A, STORY_A_EXACT))
        arc.add_page(record("qn-gov", "login", "", "", reason="login-page"))
    return path


def test_search_prints_ranked_results_with_brackets(db: Path) -> None:
    out = run("search", "--db", str(db), "da", "nang")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "[Đà] [Nẵng]" in out.stdout
    assert lines[0].lstrip().startswith("1. 20")


def test_search_json_and_filters(db: Path) -> None:
    out = run("search", "--db", str(db), "--json", "--site", "th-gov", "--since", "2024-03", "án")
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert [r["site_id"] for r in results] == ["th-gov"]
    assert results[0]["title"].startswith("Tòa án") and "[án]" in results[0]["snippet"]
    out = run("search", "--db", str(db), "--json", "--province", "Quảng Nam", "--kind", "front", "tong ket")
    assert [r["copies"] for r in json.loads(out.stdout)] == [2]


def test_stats(db: Path) -> None:
    out = run("stats", "--db", str(db), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"sites": len(SITES), "pages": 8, "stories": 6, "copies": 1, "versions": 0,
                                      "rejected": 1, "gone": 0, "crawls": 0}
    assert "stories: 6" in run("stats", "--db", str(db)).stdout


def test_dedup_reports_agreement(db: Path) -> None:
    out = run("dedup", "--db", str(db), "--check")
    assert out.returncode == 0, out.stderr
    assert "agrees" in out.stdout and "nothing written" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("search", "--db", "/nonexistent/archive.db", "x"),
        ("stats", "--db", "/nonexistent/archive.db"),
        ("dedup", "--db", "/nonexistent/archive.db"),
        ("serve", "--db", "/nonexistent/archive.db"),
        ("search", "--db", "{db}", "--since", "yesterday", "x"),
        ("search", "--db", "{db}", "--limit", "zero", "x"),
        ("search", "--db", "{db}"),
        ("frobnicate",),
        (),
    ],
)
def test_errors_are_one_line_exit_2(db: Path, args: tuple[str, ...]) -> None:
    out = run(*(a.format(db=db) for a in args))
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_not_an_archive_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not a database at all, just text " * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    for path in (bad, other):
        for command in ("stats", "dedup", "search"):
            out = run(command, "--db", str(path), *(["x"] if command == "search" else []))
            assert out.returncode == 2 and "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1
    assert {r[0] for r in sqlite3.connect(other).execute("SELECT name FROM sqlite_master")} == {"t"}
