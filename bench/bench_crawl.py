"""Crawl throughput and memory: the real crawl against a bare Scrapy spider on the same generated sample web.

    .venv/bin/python bench/bench_crawl.py [--quick] [--pages 1000,5000] [--concurrency 8] [--repeat 1]
                                          [--profile] [--code CHECKOUT] [--out bench/results/crawl.json]

For each crawl length N the sample web (crawler/samples) is generated with N article pages spread over its
six sites (one per CMS family; stories recombined from the sample's own text by bench/corpus.py, one in
twelve a republished copy) and served on loopback. Every page is rendered once before timing (the server
keeps its responses: the templates are not what is measured), then two processes crawl it, one after the
other (``--repeat`` times each, alternating; the best run of each counts):

* bare: a Scrapy spider that follows every link to the same host (LinkExtractor) and does nothing else: no
  extraction, no dates, no archive (the baseline: what Scrapy itself costs on this machine today);
* real: ``python -m crawler crawl`` into a fresh archive: discovery, extraction, dates, dedup, storage.

Both get the same Scrapy settings: robots.txt obeyed, no download delay, no AutoThrottle, ``concurrency``
requests at a time per site (16 in all). These are throughput settings, not the polite defaults a real
site gets (one request at a time, one second apart): the benchmark measures what the crawler can process,
not what a site allows.

A run's time is counted from its first request the server saw to the exit of its process, so the end of
the real crawl's work (pages still in its pipelines, the archive's last commit) is included and Python's
start-up is not. Pages per second = HTTP responses / that time; article pages per second counts only the
article URLs of the sample web. CPU milliseconds per page (after start-up, from /proc) are what waiting for
a busy CPU does not change. Peak memory is the process's VmHWM (peak RSS), with RSS sampled along the
crawl. The ratios real/bare are the figures that hold on a busy machine; target >= 0.7.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench import RESULTS, machine, print_table, write_json  # noqa: E402
from bench.corpus import write_sample_content  # noqa: E402

DEFAULT_PAGES = (1000, 5000)
QUICK_PAGES = (120,)
TARGET_RATIO = 0.7
TARGET_RSS_MB_100K = 400
_LINK = re.compile(r"""href\s*=\s*["']([^"'#]*)|<loc>\s*([^<\s]+)|<link>\s*([^<\s]+)""", re.IGNORECASE)


# ------------------------------------------------------------------------------------------ the sample web


def build_web(workdir: Path, articles: int) -> Any:
    """A SampleWeb of `articles` generated stories (bench/corpus.py), page cache on, not yet started."""
    from crawler.samples.server import SampleWeb

    content = write_sample_content(workdir / f"content-{articles}", articles)
    web = SampleWeb(port=0, content_dir=content, cache_pages=True)
    _memoize_renders(web)
    return web


_MEMO: dict[str, dict[str, Any]] = {"paths": {}, "extras": {}}


def _memoize_renders(web: Any) -> None:
    """The sample web finds an article by scanning them all, sorts a site's articles for every page and
    rebuilds its tag pages for every other page: fine for its 60 pages, quadratic for 100,000. No article
    changes during a benchmark, so in this process those are memoized (the pages served are the same)."""
    from crawler.samples import extras, render
    from crawler.samples import site as site_module
    from crawler.samples.server import SiteRouter
    from crawler.samples.site import article_path

    _MEMO["paths"], _MEMO["extras"], _MEMO["age"] = {}, {}, {}
    for site in web.sites.values():
        site.sorted_articles = functools.cache(site.sorted_articles)
        paths: dict[str, Any] = {}
        for article in site.articles:
            paths.setdefault(article_path(site, article), article)  # the first one, as the scan finds
        _MEMO["paths"][site.id] = paths
    if getattr(SiteRouter, "_bench_memo", False):
        return
    original_extra_pages = extras.extra_pages

    def extra_pages(site: Any) -> Any:
        if site.id not in _MEMO["extras"]:
            _MEMO["extras"][site.id] = original_extra_pages(site)
        return _MEMO["extras"][site.id]

    original_age_key = render._age_key

    def age_key(article: Any) -> Any:  # articles live as long as the web: their id() is a stable key
        key = _MEMO["age"].get(id(article))
        if key is None:
            key = _MEMO["age"][id(article)] = original_age_key(article)
        return key

    SiteRouter._find_article = lambda self, path: _MEMO["paths"][self.site.id].get(path)
    SiteRouter._bench_memo = True
    extras.extra_pages = extra_pages
    render._age_key = age_key
    original_portlet_id = site_module.liferay_portlet_id

    @functools.cache
    def portlet_id(site_id: str, category_key: str) -> str:  # a digest of the two: computed once
        return original_portlet_id(SimpleNamespace(id=site_id), SimpleNamespace(key=category_key))

    site_module.liferay_portlet_id = lambda site, cat: portlet_id(site.id, cat.key)


def _links(web: Any, site_id: str, path: str, response: Any) -> list[str]:
    """Same-site paths (with query) a page links to: hrefs, sitemap locs, feed links, redirect targets."""
    base = web.base_url(site_id)
    found: list[str] = []
    if "Location" in response.headers:
        found.append(response.headers["Location"])
    if response.content_type.startswith(("text/html", "application/xml", "application/rss", "text/xml")):
        text = response.body.decode("latin-1")
        found += [unescape(next(g for g in groups if g)) for groups in _LINK.findall(text) if any(groups)]
    paths = []
    for link in found:
        url = urljoin(base + path, link.strip())
        if url.startswith(base + "/"):
            parts = urlsplit(url)
            paths.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return paths


def warm_cache(web: Any) -> int:
    """Render every page reachable from each site's home, robots.txt and sitemap, in-process; returns the
    number of pages rendered. Timed runs then find (nearly) every page ready."""
    from crawler.samples.render import sitemap_path

    for site_id, site in web.sites.items():
        queue = deque(["/", "/robots.txt", sitemap_path(site)])
        seen = set(queue)
        while queue:
            path = queue.popleft()
            for link in _links(web, site_id, path, web.respond(site_id, path)):
                if link not in seen and not link.lower().endswith((".jpg", ".png", ".gif", ".pdf", ".css", ".js")):
                    seen.add(link)
                    queue.append(link)
    return web.renders


def article_paths(web: Any) -> set[tuple[str, str]]:
    from crawler.samples.site import article_path

    return {(site_id, article_path(site, a)) for site_id, site in web.sites.items() for a in site.articles}


def crawl_config(web: Any, concurrency: int, articles: int) -> str:
    """The sites of the sample web with throughput settings: no delay, no AutoThrottle, budgets that never
    stop the crawl."""
    from crawler.samples.site import crawl_config_toml

    sites = crawl_config_toml(list(web.sites.values()), web.port)
    sites = sites.replace("[[site]]\n", f"[[site]]\nconcurrency = {concurrency}\n")
    budget = 10 * articles + 10_000
    return sites + (
        "\n[crawler]\n"
        'contact = "bench@example.org"\n'
        "download_delay = 0\n"
        "autothrottle = false\n"
        f"max_pages = {budget}\n"
        f"max_pages_per_site = {budget}\n"
        "timeout = 120\n"
    )


# ------------------------------------------------------------------------------------------ processes


@dataclass
class ProcessRun:
    exit_code: int
    started: float  # time.monotonic() before the process was spawned
    ended: float  # ... and when it had exited
    cpu_seconds: float  # user + system time of the process
    server_cpu_seconds: float  # ... and of this process (the sample web's threads) meanwhile
    samples: list[Sample] = field(default_factory=list)


class Sample(NamedTuple):
    seconds: float  # since the process was spawned
    rss_kb: int
    hwm_kb: int  # the process's peak RSS so far (VmHWM: since its exec, unlike wait4's ru_maxrss, which
    # counts the RSS of the parent it was forked from, a parent that here holds the whole sample web)
    cpu_seconds: float  # user + system so far


_TICK = os.sysconf("SC_CLK_TCK")


def _read_sample(pid: int, started: float) -> Sample | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.startswith(("VmRSS:",
          "VmHWM:"))}
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)
    return Sample(round(time.monotonic() - started, 2), kb.get("VmRSS", 0), kb.get("VmHWM", 0), cpu)


def _sample(pid: int, started: float, stop: threading.Event, out: list[Sample]) -> None:
    while not stop.wait(0.2):
        sample = _read_sample(pid, started)
        if sample is None:
            return
        out.append(sample)


def run_process(command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> ProcessRun:
    """Run `command` to its end, stdout and stderr to `log`; its peak RSS from the kernel (wait4)."""
    samples: list[Sample] = []
    stop = threading.Event()
    with open(log, "wb") as out:
        server_before = _cpu(resource.getrusage(resource.RUSAGE_SELF))
        started = time.monotonic()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        sampler = threading.Thread(target=_sample, args=(proc.pid, started, stop, samples), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        ended = time.monotonic()
        server = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - server_before
        proc.returncode = os.waitstatus_to_exitcode(status)
        stop.set()
        sampler.join()
    return ProcessRun(proc.returncode, started, ended, _cpu(usage), server, samples)


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _env(code: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ, CRAWL_QUIET="1", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def measure(web: Any, run: ProcessRun, articles: set[tuple[str, str]], renders_before: int) -> dict[str, Any]:
    """The run as the server saw it, plus the process's own figures."""
    records = web.requests_of()
    statuses = Counter(r.status for r in records)
    article_hits = sum(1 for r in records if r.status == 200 and (r.site_id, urlsplit(r.path).path) in articles)
    first = min((r.started for r in records), default=run.started)
    span = max(run.ended - first, 1e-6)
    # CPU spent before the first request (imports, opening the archive) is start-up, not crawling.
    startup_cpu = max((x.cpu_seconds for x in run.samples if x.seconds <= first - run.started), default=0.0)
    pages = max(len(records), 1)
    return {
        "exit_code": run.exit_code,
        "wall_seconds": round(run.ended - run.started, 2),
        "seconds": round(span, 2),
        "requests": len(records),
        "article_pages": article_hits,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "pages_per_second": round(len(records) / span, 1),
        "article_pages_per_second": round(article_hits / span, 1),
        "peak_rss_mb": round(max((x.hwm_kb for x in run.samples), default=0) / 1024, 1),
        "startup_seconds": round(first - run.started, 2),
        "startup_cpu_seconds": round(startup_cpu, 2),
        "cpu_ms_per_page": round(1000 * (run.cpu_seconds - startup_cpu) / pages, 2),
        "server_cpu_ms_per_page": round(1000 * run.server_cpu_seconds / pages, 2),
        "rss_mb_along": _thin([(x.seconds, round(x.rss_kb / 1024, 1)) for x in run.samples], 12),
        "rss_mb_max_sampled_at": _max_rss(run.samples),
        "pages_rendered_during_run": web.renders - renders_before,
    }


def _max_rss(samples: list[Sample]) -> tuple[float, float] | None:
    """(seconds since start, MB) of the highest RSS sampled: where in the run the peak came."""
    top = max(samples, key=lambda x: x.rss_kb, default=None)
    return (top.seconds, round(top.rss_kb / 1024, 1)) if top else None


def _thin(samples: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    if len(samples) <= keep:
        return samples
    step = (len(samples) - 1) / (keep - 1)
    return [samples[round(i * step)] for i in range(keep)]


def archive_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            "stories": conn.execute("SELECT count(*) FROM articles").fetchone()[0],
            "pages": conn.execute("SELECT count(*) FROM pages").fetchone()[0],
            "article_pages_stored": conn.execute("SELECT count(*) FROM pages WHERE article_id IS NOT NULL").fetchone()[
                0
            ],
        }


def run_spider(
    kind: str, web: Any, config: Path, workdir: Path, articles: set[tuple[str, str]], tag: str, code: Path = ROOT
) -> dict:
    """One crawl of the served web by the bare spider or the real crawl command, with the crawler and
    archive packages (code and Scrapy settings) of the checkout at `code`: before/after comparisons."""
    web.clear_requests()
    renders = web.renders
    if kind == "bare":
        command = [sys.executable, str(Path(__file__).resolve()), "--bare-spider", str(config)]
        run = run_process(command, workdir / f"bare-{tag}.log", _env(code), cwd=code)
        return measure(web, run, articles, renders)
    db = workdir / f"archive-{tag}.db"
    command = [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)]
    run = run_process(command, workdir / f"real-{tag}.log", _env(code), cwd=code)
    result = measure(web, run, articles, renders)
    result.update(archive_counts(db))
    result["archive_mb"] = round(sum(p.stat().st_size for p in workdir.glob(f"archive-{tag}.db*")) / 2**20, 1)
    return result


# ------------------------------------------------------------------------------------------ the bare spider


def bare_main(config_path: str) -> int:
    """The baseline: Scrapy following every same-host link, with the real crawl's settings, no pipelines."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import TextResponse
    from scrapy.linkextractors import LinkExtractor

    from crawler.config import load_config
    from crawler.crawl import crawl_settings

    class BareSpider(scrapy.Spider):
        name = "bare"

        def __init__(self, start: list[str], hosts: list[str], **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.start_urls = start
            self.allowed_domains = hosts
            self.hosts = set(hosts)
            self.links = LinkExtractor()  # (its allow_domains compares host:port with the domain)

        def parse(self, response: Any) -> Any:
            if isinstance(response, TextResponse):
                for link in self.links.extract_links(response):
                    if urlsplit(link.url).hostname in self.hosts:
                        yield scrapy.Request(link.url, callback=self.parse)

    config = load_config(config_path)
    sites = config.select(None)
    settings = crawl_settings(config.crawler, sites, Path(os.devnull), None)
    for name, value in {"ITEM_PIPELINES": {}, "DOWNLOADER_MIDDLEWARES": {}, "LOG_INSTALL_ROOT_HANDLER": True}.items():
        settings.set(name, value, priority="cmdline")
    process = CrawlerProcess(settings)
    start = [url for site in sites for url in site.start_urls]
    hosts = sorted({host for site in sites for host in site.hosts})
    process.crawl(BareSpider, start=start, hosts=hosts)
    process.start()
    return 0


# ------------------------------------------------------------------------------------------ one length


def bench_length(articles: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    web = build_web(workdir, articles)
    paths = article_paths(web)
    web.start()  # first: pages carry absolute URLs with the port
    try:
        started = time.monotonic()
        rendered = warm_cache(web)
        warm_seconds = round(time.monotonic() - started, 1)
        config = workdir / f"sites-{articles}.toml"
        config.write_text(crawl_config(web, args.concurrency, len(paths)), encoding="utf-8")
        runs: dict[str, list[dict]] = {"bare": [], "real": []}
        for i in range(args.repeat):
            for kind in ("bare", "real"):
                print(f"  {len(paths)} articles: {kind} run {i + 1}/{args.repeat} ...", flush=True)
                runs[kind].append(run_spider(kind, web, config, workdir, paths, f"{articles}-{i}", args.code))
        profile = run_profile(web, config, workdir, articles) if args.profile else None
    finally:
        web.stop()
    best = {kind: max(results, key=lambda r: r["pages_per_second"]) for kind, results in runs.items()}
    return {
        "articles_served": len(paths),
        "pages_prerendered": rendered,
        "prerender_seconds": warm_seconds,
        "bare": best["bare"],
        "real": best["real"],
        "runs": runs if args.repeat > 1 else None,
        "ratio_pages_per_second": _ratio(best["real"]["pages_per_second"], best["bare"]["pages_per_second"]),
        "ratio_article_pages_per_second": _ratio(
            best["real"]["article_pages_per_second"], best["bare"]["article_pages_per_second"]
        ),
        # Pages per CPU-second of the crawler process, real / bare: what waiting for a busy CPU does not move.
        "ratio_cpu": _ratio(
            min(r["cpu_ms_per_page"] for r in runs["bare"]), min(r["cpu_ms_per_page"] for r in runs["real"])
        ),
        "profile": profile,
    }


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


# ------------------------------------------------------------------------------------------ profile


def run_profile(web: Any, config: Path, workdir: Path, articles: int) -> dict[str, Any] | None:
    """The real crawl once more under py-spy (sampling, 200 Hz): where its time goes, by function."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        print("  (py-spy not installed in the virtualenv: no profile)")
        return None
    raw = workdir / f"profile-{articles}.txt"
    db = workdir / f"archive-profile-{articles}.db"
    command = [str(py_spy), "record", "--format", "raw", "--rate", "200", "--output", str(raw), "--"]
    command += [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)]
    web.clear_requests()
    run_process(command, workdir / f"profile-{articles}.log", _env())
    if not raw.exists():
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    kept = RESULTS / "crawl-profile.txt"
    kept.write_text(raw.read_text(encoding="utf-8"), encoding="utf-8")
    return summarize_profile(raw) | {"collapsed_stacks": str(kept.relative_to(ROOT))}


# Threads waiting for work (a thread pool's idle workers, the archive writer between groups): py-spy samples
# them as running. Their samples are left out of the shares.
IDLE_FRAMES = frozenset({"Condition.wait (threading.py)", "ArchiveWriter._run (crawler/pipelines.py)"})


def summarize_profile(raw: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks (all threads; samples
    of threads waiting for work left out)."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")]
        if frames[-1] in IDLE_FRAMES:
            idle += n
            continue
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = lambda c: [(name, round(100 * n / max(total, 1), 1)) for name, n in c.most_common(top)]  # noqa: E731
    return {"samples": total, "idle_samples": idle, "self_percent": share(own), "inclusive_percent": share(inclusive)}


def _frame(frame: str) -> str:
    """'extract (crawler/extract/core.py:71)' -> 'extract (crawler/extract/core.py)': by function, not line."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in where:
            where = where.split(marker, 1)[1]
    return f"{name} ({where.removeprefix(str(ROOT) + '/')})"


# ------------------------------------------------------------------------------------------ report


def memory_growth(lengths: list[dict[str, Any]]) -> dict[str, Any]:
    """Peak RSS of the real crawl against its length: MB per 1,000 article pages and the RSS a 100k crawl
    would reach if it grew at that rate."""
    points = [(r["real"]["article_pages"], r["real"]["peak_rss_mb"]) for r in lengths]
    if len(points) < 2 or points[-1][0] == points[-2][0]:
        return {"points": points}
    (n0, m0), (n1, m1) = points[-2], points[-1]  # the two longest crawls: the growth that continues
    slope = (m1 - m0) / (n1 - n0) * 1000
    return {
        "points": points,
        "mb_per_1000_pages": round(slope, 2),
        "projected_peak_rss_mb_at_100k": round(m1 + slope * (100_000 - n1) / 1000, 1),
        "target_mb_at_100k": TARGET_RSS_MB_100K,
    }


def print_report(result: dict[str, Any]) -> None:
    rows = []
    for r in result["lengths"]:
        for kind in ("bare", "real"):
            s = r[kind]
            rows.append([
                f"{r['articles_served']:,} {kind}", s["requests"], s["article_pages"], s["seconds"],
                s["pages_per_second"], s["article_pages_per_second"], s["cpu_ms_per_page"],
                s["server_cpu_ms_per_page"], s["peak_rss_mb"],
            ])
    print_table("crawl: both spiders on the same sample web", ["run", "requests", "articles", "seconds", "pages/s",
                "articles/s", "CPU ms/page", "server ms/page", "peak MB"], rows)
    ratios = [[f"{r['articles_served']:,}", r["ratio_pages_per_second"], r["ratio_article_pages_per_second"],
               r["ratio_cpu"], round(r["real"]["article_pages_per_second"] * 3600)] for r in result["lengths"]]
    print_table(f"crawl: real / bare (target >= {TARGET_RATIO})", ["articles", "pages/s ratio", "articles/s ratio",
                "pages per CPU-s ratio", "real article pages/hour"], ratios)
    growth = result["memory"]
    if "mb_per_1000_pages" in growth:
        print(f"\n  memory: {growth['mb_per_1000_pages']} MB per 1,000 article pages; projected peak at 100k: "
              f"{growth['projected_peak_rss_mb_at_100k']} MB (target {TARGET_RSS_MB_100K})")
    for r in result["lengths"]:
        if r.get("profile"):
            print_table(f"profile of the real crawl ({r['articles_served']:,} articles), self time",
                        ["function", "% samples"], r["profile"]["self_percent"])
            print_table("... inclusive time", ["function", "% samples"], r["profile"]["inclusive_percent"])


def run(args: argparse.Namespace) -> dict[str, Any]:
    lengths = [int(x) for x in args.pages.split(",")] if args.pages else list(QUICK_PAGES if args.quick else
                                                                             DEFAULT_PAGES)
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        results = []
        for n in lengths:
            print(f"crawl: sample web of ~{n:,} article pages", flush=True)
            results.append(bench_length(n, args, workdir))
    # The headline: the length nearest to --headline (5,000 article pages, the size).
    headline = min(results, key=lambda r: (abs(r["articles_served"] - args.headline), -r["articles_served"]))
    return {
        "benchmark": "crawl",
        "quick": args.quick,
        "settings": {"concurrency_per_site": args.concurrency, "download_delay": 0, "autothrottle": False,
                     "repeat": args.repeat, "code": str(args.code)},
        "baseline": "bare Scrapy spider following every same-host link, no pipelines, same settings, same run",
        "target_ratio": TARGET_RATIO,
        "headline_length": headline["articles_served"],
        "ratio": headline["ratio_pages_per_second"],
        "ratio_articles": headline["ratio_article_pages_per_second"],
        "ratio_cpu": headline["ratio_cpu"],
        "real_article_pages_per_hour": round(headline["real"]["article_pages_per_second"] * 3600),
        "lengths": results,
        "memory": memory_growth(results),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"one short crawl ({QUICK_PAGES[0]} articles)")
    parser.add_argument("--pages", help="comma-separated crawl lengths in article pages (default 1000,5000)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests at a time per site (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each spider per length; the best counts")
    parser.add_argument("--profile", action="store_true", help="also profile the real crawl with py-spy")
    parser.add_argument("--headline", type=int, default=5000, help="the length whose ratios are the headline "
                        "(the nearest measured; default 5000)")
    parser.add_argument("--workdir", help="keep the sample web, logs and archives here (default: a temp folder)")
    parser.add_argument("--code", type=Path, default=ROOT, help="run both spiders with the crawler/ and archive/ "
                        "of this checkout (to compare before and after a change)")
    parser.add_argument("--out", type=Path, default=RESULTS / "crawl.json")
    parser.add_argument("--bare-spider", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_spider:
        return bare_main(args.bare_spider)
    result = run(args)
    print_report(result)
    write_json(args.out, result)
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
