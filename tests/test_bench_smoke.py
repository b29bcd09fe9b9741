"""The benchmark suite runs: short bounded versions of the crawl, extraction and storage benchmarks through
the runner (``python -m bench --quick``), each writing its JSON with the figures the README quotes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("crawl", "extract", "storage")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench-results")
    command = [sys.executable, "-m", "bench", "--quick", "--only", ",".join(OURS), "--results", str(folder)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return folder


def _load(folder: Path, name: str) -> dict[str, Any]:
    return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))


def test_runner_lists_every_benchmark() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--list"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert set(OURS) <= listed
    assert listed == {p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py")}


def test_summary_names_each_benchmark_ok(results: Path) -> None:
    summary = _load(results, "summary-quick")
    assert [(b["name"], b["status"]) for b in summary["benchmarks"]] == [(n, "ok") for n in OURS]
    assert {"cpus", "ram_gb", "python", "sqlite"} <= set(summary["machine"])


def test_crawl_json(results: Path) -> None:
    data = _load(results, "crawl")
    assert {"ratio", "ratio_articles", "real_article_pages_per_hour", "lengths", "memory", "machine"} <= set(data)
    (length,) = data["lengths"]
    for kind in ("bare", "real"):
        run = length[kind]
        assert run["exit_code"] == 0
        assert run["article_pages"] == length["articles_served"]  # both spiders reached every article
        assert run["pages_per_second"] > 0 and run["peak_rss_mb"] > 0
    assert length["real"]["stories"] > 0 and length["real"]["article_pages_stored"] == length["articles_served"]
    assert data["ratio"] == length["ratio_pages_per_second"] > 0


def test_extract_json(results: Path) -> None:
    data = _load(results, "extract")
    assert {"ratio", "ms_per_page", "pages", "found_text", "machine"} <= set(data)
    assert set(data["ms_per_page"]) == {"ours", "trafilatura", "trafilatura+meta"}
    assert data["sample_pages"] == 60 and data["generated_pages"] > 0
    assert data["found_text"]["ours_found_text"] == data["pages"]  # every article page read
    assert data["ratio"] == pytest.approx(data["ms_per_page"]["ours"] / data["ms_per_page"]["trafilatura"], 0.01)


def test_storage_json(results: Path) -> None:
    data = _load(results, "storage")
    assert {"ratio", "bytes_per_story", "groups", "group_bytes_per_story", "objects", "machine"} <= set(data)
    assert data["pages"] == 1000 and 0 < data["stories"] < data["pages"]  # one page in twelve is a copy
    assert sum(data["groups"].values()) <= data["file_bytes"]
    assert data["ratio"] == pytest.approx(data["file_bytes"] / data["story_text_bytes"], 0.01)
    # what the issue asks to see apart: text, compressed raw pages, indexes
    groups = " ".join(data["groups"])
    for word in ("articles", "raw_pages", "full-text", "dedup", "indexes"):
        assert word in groups
