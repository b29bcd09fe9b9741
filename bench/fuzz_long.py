"""Long fuzzing on demand: the properties of tests/test_fuzz.py (extractor, charset decoder, dates, config
loader, discovery) with many more examples than the test suite runs.

    .venv/bin/python bench/fuzz_long.py --minutes 5                 # all targets, the time shared out
    .venv/bin/python bench/fuzz_long.py --minutes 2 --target extract --target parse_date

Each target runs in rounds of ``--batch`` examples (fresh random seeds every round) until its share of the
time is spent; a failure prints Hypothesis's shrunk falsifying example and the target goes on. Prints, per
target, the examples run, the seconds and examples per second, the slowest call and the failures found;
``--json FILE`` writes the same figures. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_properties() -> Any:
    sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("fuzz_properties", ROOT / "tests" / "test_fuzz.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(check: Any, slowest: list[float]) -> Any:
    def run(**kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            check(**kwargs)
        finally:
            slowest[0] = max(slowest[0], time.perf_counter() - started)

    return run


def describe(exc: BaseException) -> str:
    """The exception, where it was raised, and Hypothesis's falsifying example (in the exception's notes)."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f"  at {Path(where.filename).name}:{where.lineno} {where.name}" if where else ""
    notes = "\n".join(getattr(exc, "__notes__", []))
    return f"{text}{place}\n{notes}".strip()[:3000]


def fuzz(props: Any, target: str, seconds: float, batch: int) -> dict[str, Any]:
    from hypothesis import given

    check, strategies = props.TARGETS[target]
    slowest = [0.0]
    cases, failures, rounds = 0, [], 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        rounds += 1
        before = sum(props.CASES.values())
        try:
            given(**strategies)(props.fuzz_settings(batch)(timed(check, slowest)))()
        except Exception as exc:  # a property failed: Hypothesis has shrunk it; note it and go on
            for one in exc.exceptions if isinstance(exc, BaseExceptionGroup) else [exc]:
                found = describe(one)
                if found not in failures:  # later rounds find the same bug again
                    failures.append(found)
                    print(f"  {target}: FAILURE\n{found}", file=sys.stderr)
        cases += sum(props.CASES.values()) - before
    elapsed = time.monotonic() - started
    return {"target": target, "cases": cases, "seconds": round(elapsed, 1), "per_second": round(cases / elapsed, 1),
            "slowest_call_s": round(slowest[0], 3), "rounds": rounds, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="total time, shared by the targets (default 5)")
    parser.add_argument("--target", action="append", help="a target of tests/test_fuzz.py TARGETS (repeatable)")
    parser.add_argument("--batch", type=int, default=500, help="examples per Hypothesis round (default 500)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    props = load_properties()
    import crawler.dates

    crawler.dates.RAISE_INTERNAL_ERRORS = True  # a crash the date parser would log and swallow counts
    targets = args.target or list(props.TARGETS)
    unknown = set(targets) - set(props.TARGETS)
    if unknown:
        parser.error(f"unknown target(s): {', '.join(sorted(unknown))} (known: {', '.join(props.TARGETS)})")
    share = args.minutes * 60 / len(targets)
    results = []
    print(f"{'target':<18}{'cases':>9}{'seconds':>9}{'cases/s':>9}{'slowest s':>11}  failures")
    for target in targets:
        result = fuzz(props, target, share, args.batch)
        results.append(result)
        print(f"{target:<18}{result['cases']:>9}{result['seconds']:>9}{result['per_second']:>9}"
              f"{result['slowest_call_s']:>11}  {len(result['failures'])}", flush=True)
    total = sum(r["cases"] for r in results)
    print(f"{'total':<18}{total:>9}{sum(r['seconds'] for r in results):>9.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
