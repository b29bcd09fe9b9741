"""Export speed and memory on a generated archive of N stories (the same archive as bench_search.py).

Run on demand (not part of the test suite):

    .venv/bin/python bench/bench_export.py [--stories 20000] [--formats jsonl,parquet] [--out bench/results/export.json]
    .venv/bin/python bench/bench_export.py --stories 1000000      # reuses bench/results/bench-1000000.db

Each export runs in its own process (``archive.export.export``, as ``python -m archive export`` does), once on
the whole archive and once on about a tenth of it (``--since`` the last year), and reports rows per second,
output size and the process's peak resident memory: flat memory means the peak barely moves between the
tenth and the whole. The baseline is the floor any export pays: iterating ``SELECT * FROM articles`` with a
bare cursor in the same run; the ratio is export rate / baseline rate.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench.bench_search import RESULTS, build_archive, machine_info  # noqa: E402

# Runs in a child process so that its peak RSS is the export's alone.
CHILD = """
import json, resource, sys, time
from archive.export import export
from archive.search import Filters
db, fmt, out, since = sys.argv[1:5]
start = time.monotonic()
result = export(db, fmt, out, Filters.of(since=since or None), progress=False, command=["bench"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": result.rows, "seconds": time.monotonic() - start, "bytes": result.bytes,
                  "export_seconds": result.seconds, "peak_rss_mb": peak}))
"""


def baseline(db: Path) -> dict[str, float]:
    """Rows per second of a bare cursor over every column of articles: what reading alone costs."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    start = time.monotonic()
    rows = 0
    cur = conn.execute("SELECT * FROM articles")
    while batch := cur.fetchmany(1000):
        rows += len(batch)
    seconds = time.monotonic() - start
    conn.close()
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_s": round(rows / seconds, 1)}


def run_export(db: Path, fmt: str, folder: Path, since: str = "") -> dict[str, Any]:
    suffix = {"sqlite": "sqlite", "warc": "warc"}.get(fmt, fmt)
    out = folder / f"dump-{since or 'all'}.{suffix}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(db), fmt, str(out), since], capture_output=True,
                          text=True, env=env, cwd=ROOT, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    result = json.loads(done.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    result["rows_per_s"] = round(result["rows"] / result["seconds"], 1) if result["seconds"] else None
    result["mb_per_s"] = round(result["bytes"] / 1e6 / result["seconds"], 1) if result["seconds"] else None
    result["seconds"] = round(result["seconds"], 2)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stories", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="5,000 stories")
    ap.add_argument("--db", type=Path, help="archive to build or reuse (default bench/results/bench-<N>.db)")
    ap.add_argument("--formats", default="jsonl,parquet")
    ap.add_argument("--workdir", type=Path, help="where dumps are written (default: a temporary folder)")
    ap.add_argument("--out", type=Path, default=RESULTS / "export.json")
    args = ap.parse_args(argv)
    stories = 5000 if args.quick else args.stories
    db = args.db or RESULTS / f"bench-{stories}.db"
    print(f"archive: {db}", flush=True)
    built = build_archive(db, stories, log=lambda m: print(m, flush=True))
    conn = sqlite3.connect(db)
    last_year = conn.execute("SELECT substr(max(published), 1, 4) FROM articles").fetchone()[0]
    conn.close()
    base = baseline(db)
    print(f"  baseline (bare cursor): {base['rows_per_s']:,.0f} rows/s", flush=True)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for fmt in args.formats.split(","):
            results[fmt] = {
                "all": run_export(db, fmt, Path(tmp)),
                "tenth": run_export(db, fmt, Path(tmp), last_year),
            }
            r = results[fmt]["all"]
            print(f"  {fmt}: {r['rows_per_s']:,.0f} rows/s, peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
    print(f"\nexport of {stories:,} stories ({built['bytes'] / 1e9:,.2f} GB archive); baseline: bare cursor "
          f"{base['rows_per_s']:,.0f} rows/s")
    print(f"{'format':<9} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'/base':>6} {'MB/s':>6} {'size MB':>8} "
          f"{'RSS MB':>7} {'RSS 1/10':>8}")
    for fmt, r in results.items():
        a, t = r["all"], r["tenth"]
        print(f"{fmt:<9} {a['rows']:>10,} {a['seconds']:>8.1f} {a['rows_per_s']:>9,.0f} "
              f"{a['rows_per_s'] / base['rows_per_s']:>6.2f} {a['mb_per_s']:>6.1f} {a['bytes'] / 1e6:>8,.0f} "
              f"{a['peak_rss_mb']:>7.0f} {t['peak_rss_mb']:>8.0f}")
    record = {
        "benchmark": "export",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        # the headline for python -m bench: JSONL export rate over a bare cursor's, same run
        "ratio": round(results["jsonl"]["all"]["rows_per_s"] / base["rows_per_s"], 2) if "jsonl" in results else None,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "archive": {**built, "path": str(db)},
        "baseline": base,
        "tenth": f"--since {last_year}",
        "formats": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
