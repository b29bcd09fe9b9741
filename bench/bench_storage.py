"""Storage: bytes on disk per story, split into text, compressed raw pages, full-text indexes and dedup data.

    .venv/bin/python bench/bench_storage.py [--quick] [--stories 100000] [--db PATH] [--out bench/results/storage.json]

An archive is built through the real ``Archive.add_page`` (one transaction per page, dedup, FTS, raw page
kept zlib-compressed) and ``CrawlState.remember`` (the HTTP validators), as the crawl's ArchivePipeline
does, from generated pages: stories recombined from the sample web's text (bench/corpus.py; one page in
twelve a republished copy of another site's story), each rendered by the sample web's templates in the
markup of its site's CMS family (six families, one site each), with that family's response headers.

Then the file is checkpointed and measured object by object with SQLite's ``dbstat`` table (pages in use
per table and index) and grouped. The baseline is the text itself: the UTF-8 bytes of the stories' titles
and bodies. Ratios are bytes on disk / bytes of text, so they do not depend on the machine at all.
"""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from bench import RESULTS, machine, print_table, write_json  # noqa: E402
from bench.corpus import story  # noqa: E402

DEFAULT_STORIES = 100_000
QUICK_STORIES = 1_000
FETCHED_AT = "2026-11-21T19:00:00+00:00"
# Tables of the archive by group (FTS5 shadow tables by prefix; anything else: "other"). Indexes of the
# articles, pages and raw_pages tables are counted apart, as "indexes".
GROUPS = {
    "articles": "stories: text and metadata (articles)",
    "pages": "pages: one row per URL, text again (pages, versions)",
    "versions": "pages: one row per URL, text again (pages, versions)",
    "raw_pages": "raw pages, zlib (raw_pages)",
    "dedup_signatures": "dedup: MinHash signatures and LSH bands",
    "dedup_bands": "dedup: MinHash signatures and LSH bands",
    "fetch_state": "HTTP validators (fetch_state)",
}
FTS_PREFIXES = ("articles_fts", "articles_exact")
FTS_GROUP = "full-text indexes (articles_fts with folded text, articles_exact)"
INDEX_GROUP = "indexes on URL, site, date, hash"


# ------------------------------------------------------------------------------------------ records


class PageMaker:
    """Archive records of generated pages, rendered like the sample web's article pages."""

    def __init__(self, seed: int = 0) -> None:
        from crawler.samples.server import FAMILY_HEADERS
        from crawler.samples.site import load_sites

        self.sites = load_sites(content_dir=ROOT / "bench" / "__no_content__")
        self.headers = FAMILY_HEADERS
        self.seed = seed
        # The last articles of each site: the related-news lists of a page (rendering stays O(1) a page).
        self.recent: dict[str, deque[Any]] = {site.id: deque(maxlen=8) for site in self.sites}

    def site_records(self) -> list[dict[str, Any]]:
        return [
            {"id": s.id, "name": s.name, "province": s.province, "kind": s.kind, "family": s.family,
             "start_urls": [f"http://{s.address}:8765/"], "aliases": [s.domain]}
            for s in self.sites
        ]

    def record(self, k: int) -> dict[str, Any]:
        from crawler.samples.render import expected_paragraphs, render_article
        from crawler.samples.server import encode_page
        from crawler.samples.site import Article, Image, article_path

        site = self.sites[k % len(self.sites)]
        s = story(k, self.seed)
        article = Article(
            id=100_000 + k, slug=f"tin-bai-{100_000 + k}", category=site.categories[(k // 6) % 2].key,
            title=s["title"], published=s["published"], lead=s["lead"], paragraphs=s["paragraphs"],
            images=[Image(1, f"anh-{100_000 + k}.jpg", s["caption"])], author=s["author"], source=s["source"],
        )
        window = dataclasses.replace(site, articles=[*self.recent[site.id], article])
        self.recent[site.id].append(article)
        base = f"http://{site.address}:8765"
        raw = encode_page(site, render_article(window, article, base))
        headers = {**self.headers[site.family], "Content-Type": f"text/html; charset={site.encoding}",
                   "ETag": f'"{k:016x}"', "Last-Modified": "Fri, 20 Nov 2026 08:00:00 GMT"}
        return {
            "url": base + article_path(site, article), "site_id": site.id, "fetched_at": FETCHED_AT,
            "status": 200, "title": s["title"], "body": "\n\n".join(expected_paragraphs(site, article)),
            "lead": s["lead"], "author": s["author"], "source": s["source"],
            "published": s["published"].isoformat(), "published_raw": s["published"].strftime("%d/%m/%Y %H:%M"),
            "published_source": "visible", "canonical_url": None,
            "images": [{"src": f"{base}/uploads/anh-{100_000 + k}.jpg", "caption": s["caption"]}],
            "attachments": [], "category": site.categories[(k // 6) % 2].title, "view_count": 40 + k % 900,
            "family": site.family, "method": f"profile:{site.family}", "reason": None, "raw": raw,
            "headers": headers, "ok": True, "encoding": site.encoding,
        }


def records(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    maker = PageMaker(seed)
    for k in range(n):
        yield maker.record(k)


# ------------------------------------------------------------------------------------------ build and measure


def build(db: Path, n: int, progress_every: int) -> dict[str, Any]:
    """Add n generated pages to a fresh archive; seconds spent in add_page and rendering, outcomes."""
    from archive.crawlstate import CrawlState
    from archive.store import Archive

    maker = PageMaker()
    archive = Archive(db)
    state = CrawlState(archive)
    archive.upsert_sites(maker.site_records())
    crawl_id = archive.start_crawl([s.id for s in maker.sites], {"benchmark": "storage"})
    text_bytes = raw_bytes = 0
    store_seconds = 0.0
    started = time.perf_counter()
    for k in range(n):
        record = maker.record(k)
        text_bytes += len((record["title"] or "").encode()) + len(record["body"].encode())
        raw_bytes += len(record["raw"])
        t0 = time.perf_counter()
        archive.add_page(record)
        state.remember(record["url"], record["site_id"], record["headers"], 200, FETCHED_AT)
        store_seconds += time.perf_counter() - t0
        if progress_every and (k + 1) % progress_every == 0:
            print(f"  {k + 1:,} pages, {time.perf_counter() - started:.0f} s", flush=True)
    archive.finish_crawl(crawl_id, {"benchmark": "storage"})
    outcomes = dict(archive.counts)
    archive.close()
    return {
        "pages": n, "outcomes": outcomes, "text_bytes_of_pages": text_bytes, "raw_html_bytes": raw_bytes,
        "store_ms_per_page": round(1000 * store_seconds / n, 3),
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def object_sizes(db: Path) -> dict[str, int]:
    """Bytes of every table and index (pages in use, dbstat), after a checkpoint; plus the free pages."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        sizes["(free pages)"] = conn.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    return sizes


def owner(conn: sqlite3.Connection) -> dict[str, str]:
    """Index name -> its table."""
    rows = conn.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'")
    return dict(rows.fetchall())


def group_of(name: str, table: str) -> str:
    if name != table and table in ("articles", "pages", "raw_pages", "versions"):
        return INDEX_GROUP
    if table.startswith(FTS_PREFIXES):
        return FTS_GROUP
    return GROUPS.get(table, "other")


def measure(db: Path) -> dict[str, Any]:
    sizes = object_sizes(db)
    with sqlite3.connect(db) as conn:
        tables = owner(conn)
        stories = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        text = conn.execute(
            "SELECT coalesce(sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB))), 0) FROM articles"
        ).fetchone()[0]
        raw = conn.execute("SELECT coalesce(sum(length(body)), 0), coalesce(sum(size), 0) FROM raw_pages").fetchone()
    groups: dict[str, int] = {}
    for name, size in sizes.items():
        group = group_of(name, tables.get(name, name))
        groups[group] = groups.get(group, 0) + size
    return {
        "stories": stories, "story_text_bytes": text, "raw_compressed_bytes": raw[0], "raw_uncompressed_bytes": raw[1],
        "file_bytes": db.stat().st_size, "objects": dict(sorted(sizes.items(), key=lambda kv: -kv[1])),
        "groups": dict(sorted(groups.items(), key=lambda kv: -kv[1])),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    n = args.stories or (QUICK_STORIES if args.quick else DEFAULT_STORIES)
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "storage.db"
        if db.exists():
            sys.exit(f"bench_storage: {db} exists; give a new path")
        print(f"storage: {n:,} generated pages into {db}", flush=True)
        built = build(db, n, progress_every=0 if args.quick else max(n // 10, 1))
        sizes = measure(db)
    stories, text = sizes["stories"], sizes["story_text_bytes"]
    result = {
        "benchmark": "storage",
        "quick": args.quick,
        "baseline": "UTF-8 bytes of the stories' titles and bodies (the text itself)",
        **built,
        **sizes,
        "bytes_per_story": round(sizes["file_bytes"] / stories),
        "ratio": round(sizes["file_bytes"] / text, 3),
        "group_bytes_per_story": {g: round(b / stories) for g, b in sizes["groups"].items()},
        "group_ratio": {g: round(b / text, 3) for g, b in sizes["groups"].items()},
        "raw_compression_ratio": round(sizes["raw_compressed_bytes"] / max(sizes["raw_uncompressed_bytes"], 1), 3),
        "machine": machine(),
    }
    return result


def print_report(r: dict[str, Any]) -> None:
    stories, text = r["stories"], r["story_text_bytes"]
    rows = [[g, b, r["group_bytes_per_story"][g], r["group_ratio"][g]] for g, b in r["groups"].items()]
    rows.append(["total (file)", r["file_bytes"], r["bytes_per_story"], r["ratio"]])
    rows.append(["baseline: text (titles + bodies)", text, round(text / stories), 1.0])
    print_table(f"storage: {r['pages']:,} pages, {stories:,} stories ({r['outcomes'].get('copy', 0):,} copies "
                f"linked to them), {r['store_ms_per_page']} ms per add_page",
                ["group", "bytes", "bytes/story", "ratio to text"], rows)
    print(f"\n  raw pages: {r['raw_uncompressed_bytes'] / stories / 1024:.1f} kB a page as served, "
          f"{r['raw_compressed_bytes'] / stories / 1024:.1f} kB stored (zlib, x{r['raw_compression_ratio']})")
    top = [[name, size, round(size / stories)] for name, size in list(r["objects"].items())[:12]]
    print_table("largest objects", ["table or index", "bytes", "bytes/story"], top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_STORIES:,} pages")
    parser.add_argument("--stories", type=int, help=f"pages to add (default {DEFAULT_STORIES:,})")
    parser.add_argument("--db", help="build the archive here and keep it (default: a temporary file)")
    parser.add_argument("--out", type=Path, default=RESULTS / "storage.json")
    args = parser.parse_args(argv)
    result = run(args)
    print_report(result)
    write_json(args.out, result)
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
