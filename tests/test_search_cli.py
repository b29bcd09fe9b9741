"""`python -m archive search`: ranked lines with site, date, title and a highlighted snippet; --json; filters."""

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from archive import Archive

try:
    from test_archive_corpus import SEARCH_STORIES, SITES, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import SEARCH_STORIES, SITES, record

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
TITLES = {slug: title for slug, title, *_ in SEARCH_STORIES}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search-cli") / "archive.db"
    with Archive(path) as arc:
        arc.upsert_sites(SITES)
        for slug, title, body, published, site in SEARCH_STORIES:
            arc.add_page(record(site, slug, title, body, published))
    return path


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", "search", *args], capture_output=True, text=True,
                          env=ENV, cwd=ROOT, timeout=60)


def test_ranked_lines_with_site_date_title_snippet(db: Path) -> None:
    out = run("--db", str(db), "dan", "van", "kheo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == f"  1. 2022-04-05  dn-mttq  {TITLES['danvan']}"
    assert lines[1].strip().startswith("https://") and lines[1].strip().endswith("/danvan.html")
    assert "[Dân] [vận] [khéo]" in lines[2]  # folded query, the text's own spelling highlighted


def test_json_for_scripts(db: Path) -> None:
    out = run("--db", str(db), "--json", "uy", "ban")
    results = json.loads(out.stdout)
    assert {"id", "site_id", "site_name", "province", "kind", "published", "title", "url", "snippet", "score",
            "exact", "phrase", "copies"} <= set(results[0])
    assert {r["title"] for r in results[:2]} == {TITLES["old"], TITLES["new"]}  # "Uỷ ban" and "Ủy ban"
    assert all(r["phrase"] for r in results[:2])


def test_exact_diacritics_first(db: Path) -> None:
    results = json.loads(run("--db", str(db), "--json", "án").stdout)
    assert results[0]["title"] == TITLES["court"] and results[0]["exact"] == 1
    results = json.loads(run("--db", str(db), "--json", "an").stdout)
    assert results[0]["title"] == TITLES["safety"]


def test_repeated_filters_and_dates(db: Path) -> None:
    results = json.loads(run("--db", str(db), "--json", "--site", "dn-gov", "--site", "hb-gov", "uy ban").stdout)
    assert {r["site_id"] for r in results} == {"dn-gov", "hb-gov"}
    results = json.loads(run("--db", str(db), "--json", "--kind", "front", "--province", "Đà Nẵng", "uy ban").stdout)
    assert [r["title"] for r in results] == [TITLES["danvan"]]
    results = json.loads(run("--db", str(db), "--json", "--since", "2023-07", "--until", "2023", "uy ban").stdout)
    assert [r["title"] for r in results] == [TITLES["new"]]


def test_quoted_words_are_a_phrase(db: Path) -> None:
    loose = json.loads(run("--db", str(db), "--json", "dan huan").stdout)
    assert [r["title"] for r in loose] == [TITLES["danvan"]]  # "dân" ... "huấn": both words, apart
    assert json.loads(run("--db", str(db), "--json", '"dan huan"').stdout) == []
    quoted = json.loads(run("--db", str(db), "--json", '"uy ban nhan dan"').stdout)
    assert {r["title"] for r in quoted} == {TITLES["old"], TITLES["new"]}


def test_no_results_and_errors(db: Path, tmp_path: Path) -> None:
    out = run("--db", str(db), "xyzzy")
    assert out.returncode == 0 and out.stdout.strip() == "no results"
    out = run("--db", str(db), "--since", "05/04/2022", "dan van")
    assert out.returncode == 2 and "since must be" in out.stderr and len(out.stderr.splitlines()) == 1
    out = run("--db", str(tmp_path / "missing.db"), "dan van")
    assert out.returncode == 2 and "no such archive" in out.stderr


def test_bold_on_a_terminal(db: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "archive", "search", "--db", str(db), "da nang"], env=ENV,
                            cwd=ROOT, stdout=follower, stderr=subprocess.PIPE)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=30)
    os.close(leader)
    text = b"".join(chunks).decode()
    assert "\033[1mĐà\033[0m \033[1mNẵng\033[0m" in text and "[Đà]" not in text


def test_all_ranks_every_match(db: Path) -> None:
    """--all ranks every match; on an archive smaller than the window that is what the default ranks too."""
    default = json.loads(run("--db", str(db), "--json", "--limit", "50", "uy", "ban").stdout)
    every = json.loads(run("--db", str(db), "--json", "--limit", "50", "--all", "uy", "ban").stdout)
    assert len(every) >= 3 and [r["id"] for r in every] == [r["id"] for r in default]
