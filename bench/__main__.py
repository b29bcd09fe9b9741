"""Run the benchmarks: ``python -m bench [--quick] [--only NAME ...] [-- ARGS FOR THE BENCHMARK]``.

Every ``bench/bench_<name>.py`` is found and run in its own process, one after the other, with ``--quick``
passed through when asked (a benchmark without a quick mode is left out of a quick run). Each prints its
table and writes ``bench/results/<name>.json``; this runner checks that the file was written and ends with
a summary (also in ``bench/results/summary.json``). Exit status 1 when a benchmark failed.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import RESULTS, ROOT, machine, print_table, write_json

BENCH_DIR = ROOT / "bench"


def discover() -> dict[str, Path]:
    """name -> script, for every bench/bench_<name>.py."""
    return {path.stem.removeprefix("bench_"): path for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def supports(script: Path, option: str) -> bool:
    """Whether the benchmark's command line has `option` (its source declares it)."""
    return re.search(rf"""["']{re.escape(option)}["']""", script.read_text(encoding="utf-8")) is not None


def headline(data: dict[str, Any]) -> str:
    """The figure a benchmark puts first: its top-level ``ratio`` when it has one."""
    ratio = data.get("ratio")
    if isinstance(ratio, int | float):
        return f"ratio {ratio:g}"
    return ""


def run_one(name: str, script: Path, quick: bool, results: Path, extra: list[str]) -> dict[str, Any]:
    out = results / f"{name}.json"
    command = [sys.executable, str(script), *(["--quick"] if quick else [])]
    if results != RESULTS and supports(script, "--out"):
        command += ["--out", str(out)]
    command += extra
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    started = time.time()
    code = subprocess.call(command, cwd=ROOT)
    seconds = round(time.time() - started, 1)
    written = out.exists() and out.stat().st_mtime >= started - 1
    status = "ok" if code == 0 and written else (f"exit {code}" if code else "no JSON written")
    data: dict[str, Any] = {}
    if written:
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except ValueError:
            status = "JSON unreadable"
    return {"name": name, "status": status, "seconds": seconds, "json": _shown(out), "headline": headline(data)}


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short bounded runs (what CI runs)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this benchmark (repeatable; "
                        "comma-separated names too)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of the JSON files "
                        "(default bench/results)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return parser.parse_args(argv), extra


def select(found: dict[str, Path], only: list[str] | None) -> dict[str, Path]:
    if not only:
        return found
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in found]
    if unknown:
        raise SystemExit(f"python -m bench: unknown benchmark {', '.join(unknown)} (known: {', '.join(found)})")
    return {n: found[n] for n in names}


def main(argv: list[str] | None = None) -> int:
    args, extra = parse_args(list(sys.argv[1:] if argv is None else argv))
    found = discover()
    if args.list:
        for name, script in found.items():
            print(f"{name:10} {script.relative_to(ROOT)}{'' if supports(script, '--quick') else '  (no --quick)'}")
        return 0
    chosen = select(found, args.only)
    results = []
    for name, script in chosen.items():
        if args.quick and not supports(script, "--quick"):
            print(f"\n=== {name}: skipped (no --quick mode; run without --quick)")
            results.append({"name": name, "status": "skipped", "seconds": 0, "json": "", "headline": ""})
            continue
        results.append(run_one(name, script, args.quick, args.results.resolve(), extra))
    print_table("benchmarks", ["name", "status", "seconds", "headline", "JSON"],
                [[r["name"], r["status"], r["seconds"], r["headline"], r["json"]] for r in results])
    summary = args.results / ("summary-quick.json" if args.quick else "summary.json")
    write_json(summary, {"quick": args.quick, "benchmarks": results, "machine": machine()})
    return 1 if any(r["status"] not in ("ok", "skipped") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
