"""Extraction speed: our extract() against trafilatura alone, on the same pages, in the same run.

    .venv/bin/python bench/bench_extract.py [--quick] [--generated 600] [--rounds 5] [--profile]
                                            [--out bench/results/extract.json]

Pages: every article of the sample web (crawler/samples: 60 pages in the markup of six CMS families, one
windows-1258, one decomposed Unicode) and ``--generated`` more in the same six markups with stories
recombined from the sample's text (bench/corpus.py), rendered in-process as the server sends them (bytes,
with their Content-Type header).

Readers, each on the raw bytes of every page:
* ours: ``crawler.extract.extract(body, url, headers=..., family=...)`` as the crawl's ExtractPipeline calls
  it: title, body, date candidates, byline, source, images, attachments, category, view count;
* trafilatura: ``trafilatura.extract(body, url=url)`` with its defaults (main text only): the baseline;
* trafilatura+meta: the same with ``with_metadata=True`` (title, date, author too), for reference.

Each round times every reader over all pages, readers one after the other; a reader's time is the median
of its rounds. The ratio ours / trafilatura is the figure that holds on a busy machine.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench import RESULTS, machine, print_table, write_json  # noqa: E402
from bench.corpus import write_sample_content  # noqa: E402


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    headers: dict[str, str]
    family: str
    source: str  # "sample" or "generated"


def _pages_of(web: Any, source: str) -> list[Page]:
    from crawler.samples.site import article_path

    pages = []
    for site_id, site in web.sites.items():
        for article in site.articles:
            path = article_path(site, article)
            response = web.respond(site_id, path)
            if response.status == 200:
                headers = {"Content-Type": response.content_type}
                pages.append(Page(web.url(site_id, path), response.body, headers, site.family, source))
    return pages


def load_pages(generated: int) -> list[Page]:
    """The sample web's article pages, then `generated` pages of recombined stories."""
    from crawler.samples.server import SampleWeb

    pages = _pages_of(SampleWeb(port=8765), "sample")
    if generated:
        with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
            content = write_sample_content(Path(tmp), generated)
            pages += _pages_of(SampleWeb(port=8765, content_dir=content), "generated")
    return pages


def readers() -> dict[str, Callable[[Page], Any]]:
    import trafilatura

    from crawler.extract import extract

    return {
        "ours": lambda p: extract(p.body, p.url, headers=p.headers, family=p.family),
        "trafilatura": lambda p: trafilatura.extract(p.body, url=p.url),
        "trafilatura+meta": lambda p: trafilatura.extract(p.body, url=p.url, with_metadata=True),
    }


def time_rounds(pages: list[Page], funcs: dict[str, Callable[[Page], Any]], rounds: int) -> dict[str, list[float]]:
    """Seconds per round for each reader over all pages (one warm-up pass first: imports, caches)."""
    for func in funcs.values():
        for page in pages[:10]:
            func(page)
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(rounds):
        for name, func in funcs.items():
            started = time.perf_counter()
            for page in pages:
                func(page)
            times[name].append(time.perf_counter() - started)
    return times


def quality(pages: list[Page]) -> dict[str, Any]:
    """How many pages each reader found a text on (a speed ratio means little if one reads nothing)."""
    funcs = readers()
    ours = sum(1 for p in pages if funcs["ours"](p).ok)
    theirs = sum(1 for p in pages if funcs["trafilatura"](p))
    return {"pages": len(pages), "ours_found_text": ours, "trafilatura_found_text": theirs}


def profile_ours(pages: list[Page], top: int = 25) -> str:
    """cProfile of one pass of ours over the pages: the functions by cumulative time."""
    extract = readers()["ours"]
    profiler = cProfile.Profile()
    profiler.enable()
    for page in pages:
        extract(page)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def run(args: argparse.Namespace) -> dict[str, Any]:
    generated = args.generated if args.generated is not None else (30 if args.quick else 600)
    rounds = args.rounds or (2 if args.quick else 5)
    pages = load_pages(generated)
    times = time_rounds(pages, readers(), rounds)
    per_page = {name: 1000 * statistics.median(ts) / len(pages) for name, ts in times.items()}
    result: dict[str, Any] = {
        "benchmark": "extract",
        "quick": args.quick,
        "pages": len(pages),
        "sample_pages": sum(1 for p in pages if p.source == "sample"),
        "generated_pages": sum(1 for p in pages if p.source == "generated"),
        "mean_page_kb": round(sum(len(p.body) for p in pages) / len(pages) / 1024, 1),
        "rounds": rounds,
        "baseline": "trafilatura.extract(body, url=url), defaults, same pages, same run",
        "ms_per_page": {name: round(ms, 3) for name, ms in per_page.items()},
        "round_seconds": {name: [round(t, 3) for t in ts] for name, ts in times.items()},
        "ratio": round(per_page["ours"] / per_page["trafilatura"], 3),
        "ratio_to_trafilatura_with_metadata": round(per_page["ours"] / per_page["trafilatura+meta"], 3),
        "found_text": quality(pages),
        "machine": machine(),
    }
    if args.profile:
        result["profile"] = profile_ours(pages)
    return result


def print_report(result: dict[str, Any]) -> None:
    base = result["ms_per_page"]["trafilatura"]
    rows = [[name, ms, round(ms / base, 3), round(1000 / ms)] for name, ms in result["ms_per_page"].items()]
    print_table(
        f"extraction: {result['pages']} pages ({result['sample_pages']} sample, {result['generated_pages']} generated, "
        f"{result['mean_page_kb']} kB on average), median of {result['rounds']} rounds",
        ["reader", "ms/page", "ratio to trafilatura", "pages/s"],
        rows,
    )
    found = result["found_text"]
    print(f"\n  text found: ours {found['ours_found_text']}/{found['pages']}, "
          f"trafilatura {found['trafilatura_found_text']}/{found['pages']}")
    if result.get("profile"):
        print("\nprofile of ours (one pass, cProfile):\n" + result["profile"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 generated pages, 2 rounds")
    parser.add_argument("--generated", type=int, help="generated pages besides the sample web's (default 600)")
    parser.add_argument("--rounds", type=int, help="timed rounds per reader (default 5)")
    parser.add_argument("--profile", action="store_true", help="also cProfile one pass of ours")
    parser.add_argument("--out", type=Path, default=RESULTS / "extract.json")
    args = parser.parse_args(argv)
    result = run(args)
    print_report(result)
    write_json(args.out, result)
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
