"""Benchmark of deduplication at scale: insert time per page and memory as the archive grows.

Run on demand (not part of the test suite):

    .venv/bin/python bench/bench_dedup.py                                  # 2k, 5k, 10k stories, ~1 min
    .venv/bin/python bench/bench_dedup.py --sizes 10000,100000,1000000     # hours: run it with nohup
    .venv/bin/python bench/bench_dedup.py --mode lookup --sizes 10000,100000,1000000
    .venv/bin/python bench/bench_dedup.py --sizes 10000,100000,1000000 --workdir big --keep   # kept: big/bench.db
    .venv/bin/python bench/bench_dedup.py --sizes 10000,900000,1000000 --resume big/bench.db  # continue it

Stories are generated from real text: the clauses of the sample web's articles (crawler/samples/content)
recombined into new paragraphs, with other names, places and figures put in, so no two stories are alike
but they read like the real thing and share its stock phrases. About 5% of the pages are syndicated copies
of an earlier story ("Theo ..." line, last paragraph trimmed, title reworded), so the near-copy path
(LSH candidates, verification) is exercised, and the benchmark checks each copy is found and no new story
is merged into an old one.

Two modes:

* ``add_page`` (default): every page goes through ``Archive.add_page`` (the crawler's path: page row, story
  row, full-text index, dedup tables) into one growing archive; at each size the last ``--window`` inserts
  are timed. Sizes are checkpoints of one run: ``--sizes 10000,100000`` builds 100k and reports at 10k too.
  A 1M build takes hours; ``--resume DB`` continues an archive an earlier add_page run left (kept with
  ``--workdir DIR --keep``, or killed part way: each page is its own transaction). The page stream is
  deterministic (which pages are copies, and of what, is drawn from seed 2; each story's text is seeded by
  its number), so the archive's pages are replayed in arrival order, checked to be the stream's (URL and
  order), its story ids and copy/new-story scores rebuilt, and the stream continues exactly where it
  stopped: the result is the archive a straight build would have made, and the quality figures cover
  every page. Its stored dedup parameters are kept. Sizes at or below its story count are built from
  empty first, in the same run, as the baseline of the ratio; the others are reached by continuing it.
* ``lookup``: the stories up to each size are bulk-loaded (story rows for the verifier, signatures and LSH
  bands), then ``--window`` pages are timed through the dedup path alone: fingerprint, LSH candidates,
  verification, band insert. For sizes where a full build takes too long.

The table gives p50/p95 per insert in wall-clock and in CPU time of the process (CPU time is steadier on a
shared machine), LSH candidates per lookup, resident memory (RSS) and the database size, and the ratio of
each p50 to the first size measured in the same run (flat cost: ratio near 1).
Results go to bench/results/dedup.json (gitignored).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from archive.dedup import (  # noqa: E402
    DEDUP_DDL,
    DedupConfig,
    NearIndex,
    StoryText,
    band_keys,
    find_near,
    fingerprint,
    load_config,
)
from archive.store import Archive  # noqa: E402
from bench import machine  # noqa: E402

COPY_SHARE = 0.05
N_SITES = 60

# ----------------------------------------------------------------------------------- generator

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAP_RUN = re.compile(r"(?<=[a-zà-ỹđ,] )(?:[A-ZÀ-ỸĐ][a-zà-ỹđ]+ ){1,3}[A-ZÀ-ỸĐ][a-zà-ỹđ]+")
_SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi Đỗ Hồ Ngô Dương Lý Phan Trịnh Đinh Mai Tạ Đoàn Lưu".split()
_MIDDLE = "Văn Thị Đức Minh Quang Thanh Hữu Ngọc Xuân Thu Kim Công Bá Tiến Hồng Anh".split()
_GIVEN = "An Bình Cường Dũng Hải Hùng Lan Linh Nam Phong Quân Sơn Tâm Thảo Trung Tuấn Yến Hạnh Khải Lộc".split()
_PLACE_A = "Tân Hòa Yên Quảng Xuân Hải Ninh Phú Kim Thanh Vĩnh Đông Tây Bình Hưng Thạch Cẩm Long Gia Mỹ".split()
_PLACE_B = "Lập Phú Bình Lợi Trường Châu Giang Lộc Sơn Hà Thịnh Hưng Điền Thuận Khánh Phong Mỹ An Tiến".split()


def _clauses() -> list[list[str]]:
    """Clauses of the sample web's prose, each a list of parts: text, "#" (a figure) or "@" (a name)."""
    from crawler.samples.site import load_sites

    texts = [t for site in load_sites() for a in site.articles for t in (a.lead, *a.paragraphs)]
    clauses = []
    for text in texts:
        for clause in re.split(r"(?<=[,;.:])\s+", text):
            clause = clause.strip(" ,;.:")
            if 4 <= len(clause.split()) <= 30:
                clauses.append(_slots(clause))
    return clauses


def _slots(clause: str) -> list[str]:
    """Split a clause around its names and figures, which each story fills anew."""
    marked = _CAP_RUN.sub("\x00@\x00", clause)
    marked = _NUMBER.sub("\x00#\x00", marked)
    return [p for p in marked.split("\x00") if p]


class StoryMaker:
    """Stories made by recombining real clauses; story ``n`` is always the same (seeded by n)."""

    def __init__(self, seed: int = 1) -> None:
        self.seed = seed
        self.clauses = _clauses()

    def _fill(self, parts: list[str], rng: random.Random) -> str:
        out = []
        for part in parts:
            if part == "#":
                out.append(str(rng.choice((rng.randint(2, 99), rng.randint(100, 9999), rng.randint(2, 31)))))
            elif part == "@":
                out.append(f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}" if rng.random() < 0.5
                           else f"{rng.choice(_PLACE_A)} {rng.choice(_PLACE_B)}")
            else:
                out.append(part)
        return "".join(out)

    def _sentence(self, rng: random.Random) -> str:
        parts = [self._fill(rng.choice(self.clauses), rng) for _ in range(rng.randint(2, 3))]
        text = ", ".join(parts)
        return text[:1].upper() + text[1:] + "."

    def story(self, n: int) -> dict:
        rng = random.Random(f"{self.seed}:{n}")
        day = date(2020, 1, 1) + timedelta(days=rng.randrange(7 * 365))
        lead = f"Sáng {day.day}-{day.month}, {self._sentence(rng)}"
        paragraphs = [" ".join(self._sentence(rng) for _ in range(rng.randint(2, 3)))
                      for _ in range(rng.randint(4, 6))]
        title = self._fill(rng.choice(self.clauses), rng)
        site = rng.randrange(N_SITES)
        return {
            "url": f"https://site{site}.gov.vn/tin-tuc/bai-{n}.html",
            "site_id": f"site{site}",
            "title": title[:1].upper() + title[1:],
            "body": "\n\n".join([lead, *paragraphs]),
            "published": day.isoformat(),
        }

    def syndicated(self, n: int, copy_no: int) -> dict:
        """A copy of story ``n`` on another site: "Theo ..." line, last paragraph cut, title reworded."""
        original = self.story(n)
        rng = random.Random(f"{self.seed}:copy:{copy_no}")
        paragraphs = original["body"].split("\n\n")[:-1]
        site = (int(original["site_id"][4:]) + 1 + rng.randrange(N_SITES - 1)) % N_SITES
        published = (date.fromisoformat(original["published"]) + timedelta(days=rng.randint(0, 2))).isoformat()
        return {
            **original,
            "url": f"https://site{site}.gov.vn/tin-tuc/ban-sao-{copy_no}.html",
            "site_id": f"site{site}",
            "title": f"Tin địa phương: {original['title']}",
            "body": "\n\n".join([*paragraphs, "PV", f"Theo site{original['site_id'][4:]}.gov.vn"]),
            "published": published,
            "source": f"Theo site{original['site_id'][4:]}.gov.vn",
        }


@dataclass
class Page:
    record: dict
    copy_of: int | None  # story number it copies, or None for a new story
    story: int  # story number (its own for a new story)


def plan(seed: int = 2) -> Iterator[tuple[int, int | None, int]]:
    """The page stream without its text, endless: (page number i, story copied or None, story number).
    Only these draws use the stream's generator (the texts are seeded by story number), so the first pages
    of an archive can be replayed cheaply and a build continued exactly where it stopped (``--resume``)."""
    rng = random.Random(seed)
    made, i = 0, 0
    while True:
        if made > 100 and rng.random() < COPY_SHARE:
            n = rng.randrange(made)
            yield i, n, n
        else:
            yield i, None, made
            made += 1
        i += 1


def page_path(i: int, copy_of: int | None, story: int) -> str:
    """The end of page i's URL (its site is drawn with its text)."""
    return f"/tin-tuc/ban-sao-{i}.html" if copy_of is not None else f"/tin-tuc/bai-{story}.html"


def pages(maker: StoryMaker, count: int, seed: int = 2,
          steps: Iterator[tuple[int, int | None, int]] | None = None) -> Iterator[Page]:
    """``count`` pages: new stories, and about 5% copies of a random earlier one (``steps``: a ``plan``
    already advanced past the pages an archive holds)."""
    for i, copy_of, story in islice(steps if steps is not None else plan(seed), count):
        if copy_of is not None:
            yield Page(maker.syndicated(copy_of, i), copy_of, story)
        else:
            yield Page(maker.story(story), None, story)


# ------------------------------------------------------------------------------------ measuring


def rss_mb() -> tuple[float, float]:
    """Current and peak resident memory of this process, in MB (Linux /proc)."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, kb = line.split()[:2]
                values[key] = int(kb) / 1024
    return values.get("VmRSS:", 0.0), values.get("VmHWM:", 0.0)


def db_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


@dataclass
class Checkpoint:
    size: int
    times_ms: list[float] = field(default_factory=list)  # wall clock per insert
    cpu_ms: list[float] = field(default_factory=list)  # CPU time of this process per insert
    lookups: int = 0
    candidates: int = 0
    verified: int = 0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    db_mb: float = 0.0
    build_s: float = 0.0
    archive: str = "built"  # "built" in this run from empty, or "resumed" (an archive continued)

    def as_dict(self, baseline: tuple[float, float] | None) -> dict:
        p50, cpu50 = statistics.median(self.times_ms), statistics.median(self.cpu_ms)
        return {
            "stories": self.size,
            "archive": self.archive,
            "timed_inserts": len(self.times_ms),
            "p50_ms": round(p50, 3),
            "p95_ms": round(_p95(self.times_ms), 3),
            "mean_ms": round(statistics.fmean(self.times_ms), 3),
            "cpu_p50_ms": round(cpu50, 3),
            "cpu_p95_ms": round(_p95(self.cpu_ms), 3),
            "ratio_p50_vs_first": round(p50 / baseline[0], 2) if baseline else 1.0,
            "ratio_cpu_p50_vs_first": round(cpu50 / baseline[1], 2) if baseline else 1.0,
            "candidates_per_lookup": round(self.candidates / max(1, self.lookups), 2),
            "verified_per_lookup": round(self.verified / max(1, self.lookups), 3),
            "rss_mb": round(self.rss_mb, 1),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "db_mb": round(self.db_mb, 1),
            "build_s": round(self.build_s, 1),
        }


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


@dataclass
class Quality:
    copies: int = 0
    copies_found: int = 0  # joined the story they copy
    new: int = 0
    new_merged: int = 0  # a new story wrongly joined to an earlier one
    articles: set = field(default_factory=set, repr=False)  # article ids of the new stories so far

    def as_dict(self) -> dict:
        return {"copies": self.copies, "copies_found": self.copies_found, "new": self.new,
                "new_merged": self.new_merged,
                "copy_recall": round(self.copies_found / self.copies, 4) if self.copies else None,
                "false_merge_rate": round(self.new_merged / self.new, 6) if self.new else None}


def _sites() -> list[dict]:
    return [{"id": f"site{i}", "name": f"Cổng thông tin điện tử số {i}", "province": f"Tỉnh {i % 30}",
             "kind": ("government", "front", "party")[i % 3], "start_urls": [f"https://site{i}.gov.vn/"]}
            for i in range(N_SITES)]


def run_add_page(sizes: list[int], window: int, workdir: Path, profile: bool, cfg: DedupConfig,
                 resume: Path | None = None) -> tuple[list[Checkpoint], Quality, dict]:
    """One archive grown through ``Archive.add_page``; the last ``window`` inserts before each size timed.

    With ``resume``, the sizes above the stories that archive holds are reached by continuing it; the sizes
    at or below are built from empty in ``workdir`` first, in this run, as the baseline."""
    extra: dict = {}
    profiler = cProfile.Profile() if profile else None
    checkpoints = [Checkpoint(size) for size in sizes]
    maker = StoryMaker()
    held = _stories_in(resume) if resume else 0
    fresh = [cp for cp in checkpoints if cp.size <= held] if resume else checkpoints
    if fresh:
        path = workdir / "bench.db"
        archive = Archive(path, dedup_config=cfg)
        archive.upsert_sites(_sites())
        quality = Quality()
        _grow(archive, path, pages(maker, 10**9), {}, quality, fresh, window, 0,
              profiler if fresh[-1] is checkpoints[-1] else None)
        archive.close()
    if resume:
        extra["quality_built"] = quality.as_dict() if fresh else None
        archive = Archive(resume)  # the dedup parameters its signatures were made with
        if archive.config.to_json() != cfg.to_json():
            print(f"  note: {resume} keeps its own dedup parameters, not the --config ones", flush=True)
        extra["config_resumed"] = json.loads(archive.config.to_json())
        story_ids: dict[int, int] = {}
        quality = Quality()
        steps, count = _replay(archive, story_ids, quality)
        extra["resumed"] = {"db": str(resume), "pages": count, "stories": len(story_ids),
                            "db_mb": round(db_mb(resume), 1), "quality_before": quality.as_dict()}
        print(f"  resumed {resume}: {count:,} pages, {len(story_ids):,} stories, quality so far "
              f"{quality.as_dict()}", flush=True)
        rest = [cp for cp in checkpoints if cp.size > held]
        for cp in rest:
            cp.archive = "resumed"
        if rest and rest[0].size - window < held:
            print(f"  note: only {rest[0].size - held} inserts before {rest[0].size:,} stories to time", flush=True)
        _grow(archive, resume, pages(maker, 10**9, steps=steps), story_ids, quality, rest, window, count,
              profiler)
        archive.close()
    if profiler:
        _print_profile(profiler)
    return checkpoints, quality, extra


def _grow(archive: Archive, path: Path, source: Iterator[Page], story_ids: dict[int, int], quality: Quality,
          checkpoints: list[Checkpoint], window: int, count: int, profiler: cProfile.Profile | None) -> None:
    """Add pages until each checkpoint's story count, timing the last ``window`` inserts before it."""
    started, fetched = time.perf_counter(), "2026-01-01T00:00:00+00:00"
    counts_before: Counter[str] = Counter(archive.index.counts)
    for cp in checkpoints:
        while len(story_ids) < cp.size:
            page = next(source)
            timed = len(story_ids) >= cp.size - window
            if timed and not cp.times_ms:
                counts_before = Counter(archive.index.counts)
                if profiler and cp is checkpoints[-1]:
                    profiler.enable()
            t0, c0 = time.perf_counter(), time.process_time()
            result = archive.add_page({**page.record, "fetched_at": fetched, "status": 200})
            if timed:
                cp.times_ms.append((time.perf_counter() - t0) * 1000)
                cp.cpu_ms.append((time.process_time() - c0) * 1000)
            count += 1
            _score(page, result.article_id, story_ids, quality)
        if profiler and cp is checkpoints[-1]:
            profiler.disable()
        counts = archive.index.counts
        cp.lookups = counts["lookups"] - counts_before["lookups"]
        cp.candidates = counts["candidates"] - counts_before["candidates"]
        cp.verified = counts["verified"] - counts_before["verified"]
        cp.rss_mb, cp.peak_rss_mb = rss_mb()
        cp.db_mb = db_mb(path)
        cp.build_s = time.perf_counter() - started
        _progress(cp, count)


def _stories_in(path: Path) -> int:
    if not path.exists():
        raise SystemExit(f"--resume: no archive at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        conn.close()


def _replay(archive: Archive, story_ids: dict[int, int], quality: Quality
            ) -> tuple[Iterator[tuple[int, int | None, int]], int]:
    """Walk an archive's pages in arrival order along the page stream: check each is the page the stream
    has at that place (so the continued pages are new and the copies copy stories it holds), rebuild the
    story numbers' article ids and score its copies and new stories as the build did. Returns the stream
    advanced past the archive's pages, and their count."""
    steps = plan()
    count, missed = 0, set()  # missed: stories started by a copy its original was not found for
    rows = archive.conn.execute("SELECT seq, url, article_id FROM pages ORDER BY seq")
    for seq, url, article_id in rows:
        i, copy_of, story = next(steps)
        if seq != i + 1 or not url.endswith(page_path(i, copy_of, story)) or article_id is None:
            raise SystemExit(f"--resume: page {seq} ({url}) is not page {i} of the stream "
                             f"(…{page_path(i, copy_of, story)}): not an archive this benchmark built")
        _score(Page({}, copy_of, story), article_id, story_ids, quality)
        if copy_of is not None and article_id not in quality.articles:
            missed.add(article_id)
        count += 1
    stories = archive.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    if len(quality.articles | missed) != stories:
        raise SystemExit(f"--resume: the archive holds {stories} stories, its pages name "
                         f"{len(quality.articles | missed)}")
    return steps, count


def _score(page: Page, article_id: int | None, story_ids: dict[int, int], quality: Quality) -> None:
    if page.copy_of is None:
        quality.new += 1
        quality.new_merged += article_id in quality.articles
        quality.articles.add(article_id)
        story_ids[page.story] = article_id
    else:
        quality.copies += 1
        quality.copies_found += story_ids.get(page.copy_of) == article_id


def _progress(cp: Checkpoint, count: int) -> None:
    p50, cpu = statistics.median(cp.times_ms), statistics.median(cp.cpu_ms)
    print(f"  {cp.size:>9,} stories ({count:,} pages) in {cp.build_s:,.0f} s: p50 {p50:.2f} ms (CPU {cpu:.2f} ms), "
          f"RSS {cp.rss_mb:.0f} MB, db {cp.db_mb:,.0f} MB", flush=True)


# ------------------------------------------------------------------------- lookup-only mode


def _bulk_load(conn: sqlite3.Connection, maker: StoryMaker, start: int, stop: int, cfg) -> None:
    """Stories ``start..stop-1`` as the dedup path sees them: text rows for the verifier, signatures, bands."""
    batch_articles, batch_sigs, batch_bands = [], [], []
    for n in range(start, stop):
        story = maker.story(n)
        fp = fingerprint(story["body"], cfg)
        aid = n + 1
        batch_articles.append((aid, story["title"], story["body"], story["published"]))
        batch_sigs.append((aid, fp.signature.tobytes(), fp.tokens, fp.exact_key))
        batch_bands.extend((b, k, aid) for b, k in band_keys(fp.signature, cfg))
        if len(batch_articles) >= 5000 or n == stop - 1:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO stories (id, title, body, published) VALUES (?, ?, ?, ?)", batch_articles)
            conn.executemany("INSERT INTO dedup_signatures VALUES (?, ?, ?, ?)", batch_sigs)
            conn.executemany("INSERT OR IGNORE INTO dedup_bands VALUES (?, ?, ?)", batch_bands)
            conn.execute("COMMIT")
            batch_articles, batch_sigs, batch_bands = [], [], []


def run_lookup(sizes: list[int], window: int, workdir: Path, profile: bool,
               cfg: DedupConfig) -> tuple[list[Checkpoint], Quality, dict]:
    """Bulk-load up to each size, then time ``window`` pages through fingerprint + LSH + verify + insert."""
    path = workdir / "lookup.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE stories (id INTEGER PRIMARY KEY, title TEXT, body TEXT, published TEXT)")
    for ddl in DEDUP_DDL:
        conn.execute(ddl)
    index = NearIndex(conn, cfg)
    maker, quality = StoryMaker(), Quality()
    rng = random.Random(3)
    loaded, checkpoints, started = 0, [], time.perf_counter()
    profiler = cProfile.Profile() if profile else None

    def load(aid: int) -> StoryText | None:
        row = conn.execute("SELECT title, body, published FROM stories WHERE id = ?", (aid,)).fetchone()
        return StoryText(*row) if row else None

    for size in sizes:
        _bulk_load(conn, maker, loaded, size, cfg)
        loaded = size
        cp = Checkpoint(size)
        before = Counter(index.counts)
        if profiler and size == sizes[-1]:
            profiler.enable()
        for i in range(window):
            # the next new story, or a copy of a loaded one: the two outcomes the crawler sees
            is_copy = rng.random() < 0.5
            n = rng.randrange(loaded) if is_copy else 10**8 + size + i
            record = maker.syndicated(n, 10**8 + size + i) if is_copy else maker.story(n)
            t0, c0 = time.perf_counter(), time.process_time()
            conn.execute("BEGIN")
            fp = fingerprint(record["body"], cfg)
            found = find_near(index, fp, cfg, load, title=record["title"], published=record["published"])
            if found is None:
                index.add(10**9 + size + i, fp)
            conn.execute("ROLLBACK")  # keep the archive at exactly ``size`` stories
            cp.times_ms.append((time.perf_counter() - t0) * 1000)
            cp.cpu_ms.append((time.process_time() - c0) * 1000)
            if is_copy:
                quality.copies += 1
                quality.copies_found += found is not None and found[0] == n + 1
            else:
                quality.new += 1
                quality.new_merged += found is not None
        if profiler and size == sizes[-1]:
            profiler.disable()
        cp.lookups = index.counts["lookups"] - before["lookups"]
        cp.candidates = index.counts["candidates"] - before["candidates"]
        cp.verified = index.counts["verified"] - before["verified"]
        cp.rss_mb, cp.peak_rss_mb = rss_mb()
        cp.db_mb = db_mb(path)
        cp.build_s = time.perf_counter() - started
        checkpoints.append(cp)
        _progress(cp, size)
    conn.close()
    if profiler:
        _print_profile(profiler)
    return checkpoints, quality, {}


def _print_profile(profiler: cProfile.Profile) -> None:
    print("\nprofile of the last size's timed inserts (cumulative time, top 25):")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


# ---------------------------------------------------------------------------------------- main


def table(rows: list[dict]) -> str:
    head = (f"{'stories':>10} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>5} {'CPU p50':>7} {'CPU p95':>7} {'ratio':>5} "
            f"{'cand/lookup':>11} {'RSS MB':>6} {'peak MB':>7} {'db MB':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['stories']:>10,} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} {r['ratio_p50_vs_first']:>5.2f} "
                     f"{r['cpu_p50_ms']:>7.2f} {r['cpu_p95_ms']:>7.2f} {r['ratio_cpu_p50_vs_first']:>5.2f} "
                     f"{r['candidates_per_lookup']:>11.2f} {r['rss_mb']:>6.0f} {r['peak_rss_mb']:>7.0f} "
                     f"{r['db_mb']:>7,.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000,5000,10000", help="comma-separated story counts")
    parser.add_argument("--quick", action="store_true", help="1k and 3k stories, 500 timed inserts (seconds)")
    parser.add_argument("--mode", choices=["add_page", "lookup"], default="add_page")
    parser.add_argument("--window", type=int, default=1000, help="inserts timed at each size")
    parser.add_argument("--workdir", help="where the archive is built (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the archive (with --workdir)")
    parser.add_argument("--profile", action="store_true", help="cProfile the last size's timed inserts")
    parser.add_argument("--config", help="dedup TOML (default: archive/dedup.toml)")
    parser.add_argument("--resume", metavar="DB",
                        help="add_page mode: continue this archive (one an earlier add_page run kept, or "
                             "left when killed) to the sizes above its story count; the sizes at or below "
                             "it are built from empty first, in this run, as the baseline")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "dedup.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.window = "1000,3000", 500
    if args.resume and args.mode != "add_page":
        parser.error("--resume continues an add_page archive")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    window = min(args.window, sizes[0])
    cfg = load_config(args.config)
    print(f"dedup benchmark, mode {args.mode}, sizes {sizes}, {window} timed inserts per size", flush=True)
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        workdir = Path(args.workdir) if args.workdir and args.keep else Path(tmp)
        if args.mode == "add_page":
            resume = Path(args.resume).resolve() if args.resume else None
            checkpoints, quality, extra = run_add_page(sizes, window, workdir, args.profile, cfg, resume)
        else:
            checkpoints, quality, extra = run_lookup(sizes, window, workdir, args.profile, cfg)
    baseline = (statistics.median(checkpoints[0].times_ms), statistics.median(checkpoints[0].cpu_ms))
    rows = [cp.as_dict(baseline) for cp in checkpoints]
    print()
    print(table(rows))
    print(f"quality: {quality.as_dict()}")
    result = {
        "mode": args.mode,
        "sizes": sizes,
        "window": window,
        "config": json.loads(cfg.to_json()),
        "rows": rows,
        "quality": quality.as_dict(),
        **extra,
        "machine": machine(),
        "command": " ".join(sys.argv),
    }
    out = Path(args.out)
    key = (f"{args.mode} {','.join(map(str, sizes))}" + (f" {Path(args.config).stem}" if args.config else "")
           + (" resumed" if args.resume else ""))
    write_results(out, key, result)
    print(f"written {out}")
    return 0


def write_results(out: Path, key: str, result: dict) -> None:
    """Keep runs of other modes, sizes and configs side by side; the headline ``ratio`` (CPU p50 per insert
    at the largest size over the smallest, flat = 1) is the latest run's, as bench/__main__.py reads it."""
    existing = json.loads(out.read_text()) if out.exists() else {}
    runs = existing.get("runs", {k: v for k, v in existing.items() if isinstance(v, dict) and "rows" in v})
    runs[key] = result
    data = {
        "ratio": result["rows"][-1]["ratio_cpu_p50_vs_first"],
        "ratio_is": "CPU p50 per insert at the largest size / at the smallest, same run",
        "latest": key,
        "runs": runs,
        "machine": result["machine"],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
