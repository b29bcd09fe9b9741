"""The crawl command: lock, configure, run the spider, report.

Exit statuses (documented in the README; cron scripts depend on them):
0 the crawl ran and every site answered; 1 it ran but some sites failed beyond the threshold;
2 it could not start (bad config, unwritable database); 3 another crawl holds the lock.
"""

from __future__ import annotations

import fcntl
import logging
import logging.handlers
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.config import Config, ConfigError, CrawlerOptions, Site, load_config

EXIT_OK, EXIT_SITES_FAILED, EXIT_CANNOT_START, EXIT_LOCKED = 0, 1, 2, 3


class CannotStart(Exception):
    """A one-line reason why the crawl cannot run."""


@dataclass
class CrawlResult:
    figures: dict[str, dict[str, int]]
    failed_sites: list[str]

    @property
    def exit_status(self) -> int:
        return EXIT_SITES_FAILED if self.failed_sites else EXIT_OK


def main_crawl(args: Any, out: TextIO = sys.stdout) -> int:
    """Run ``crawl`` from parsed arguments; returns the exit status."""
    try:
        config = load_config(args.sites)
        sites = config.select(args.site)
        db = Path(args.db)
        check_writable(db)
        with crawl_lock(db):
            result = run_crawl(config, sites, db, backfill=args.backfill, log_file=args.log_file)
    except ConfigError as exc:
        print(f"crawl: cannot start: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    except CannotStart as exc:
        print(f"crawl: cannot start: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    except LockHeld as exc:
        print(f"crawl: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    print_summary(result, db, out)
    return result.exit_status


class LockHeld(Exception):
    pass


@contextmanager
def crawl_lock(db: Path) -> Iterator[None]:
    """One crawl per archive at a time; the lock dies with its process, so a killed crawl leaves none."""
    lock_path = db.with_name(db.name + ".lock")
    handle = open(lock_path, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise LockHeld(f"another crawl holds the lock on {db} ({holder}); exiting") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def check_writable(db: Path) -> None:
    folder = db.parent if str(db.parent) else Path(".")
    if not folder.is_dir():
        raise CannotStart(f"database folder {folder} does not exist")
    if db.exists() and not os.access(db, os.W_OK):
        raise CannotStart(f"database {db} is not writable")
    if not os.access(folder, os.W_OK):
        raise CannotStart(f"database folder {folder} is not writable")
    if db.exists():
        try:
            with sqlite3.connect(db) as conn:
                conn.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise CannotStart(f"{db} is not an SQLite database ({exc})") from None


def run_crawl(
    config: Config, sites: list[Site], db: Path, *, backfill: bool = False, log_file: str | None = None
) -> CrawlResult:
    """Crawl the sites into the archive at ``db`` in this process."""
    from crawler.spiders.news import NewsSpider

    settings = crawl_settings(config.crawler, sites, db, log_file or config.crawler.log_file)
    configure_logging(settings)
    known = known_article_urls(db, sites)
    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, sites=sites, options=config.crawler, known_urls=known, backfill=backfill)
    process.start()
    spider = crawler.spider
    figures = {site_id: dict(counts) for site_id, counts in spider.figures.items()} if spider else {}
    return CrawlResult(figures, failed_sites(figures, sites, config.crawler.failure_threshold))


def crawl_settings(options: CrawlerOptions, sites: list[Site], db: Path, log_file: str | None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    contact = options.contact
    agent = options.user_agent or f"vn-gov-news-archive/0.1 (+news archive crawler; contact: {contact})"
    settings.set("USER_AGENT", agent, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", options.download_delay, priority="cmdline")
    settings.set("AUTOTHROTTLE_ENABLED", options.autothrottle, priority="cmdline")
    settings.set("AUTOTHROTTLE_START_DELAY", options.autothrottle_start_delay, priority="cmdline")
    settings.set("DOWNLOAD_TIMEOUT", options.timeout, priority="cmdline")
    settings.set("RETRY_TIMES", options.retries, priority="cmdline")
    settings.set("ARCHIVE_DB", str(db), priority="cmdline")
    settings.set("DOWNLOAD_SLOTS", download_slots(sites), priority="cmdline")
    settings.set("LOG_FILE_ROTATING", log_file, priority="cmdline")
    settings.set("CRAWL_ARGS", {"sites": [s.id for s in sites], "db": str(db)}, priority="cmdline")
    return settings


def download_slots(sites: list[Site]) -> dict[str, dict[str, Any]]:
    """Per-host politeness: a site's own delay and concurrency for each of its hosts."""
    slots: dict[str, dict[str, Any]] = {}
    for site in sites:
        for host in site.hosts:
            slot: dict[str, Any] = {"concurrency": site.concurrency}
            if site.download_delay is not None:
                slot["delay"] = site.download_delay
            slots[host] = slot
    return slots


def configure_logging(settings: Settings) -> None:
    """Log to stderr, and to a rotating file when one is configured."""
    root = logging.getLogger()
    root.setLevel(settings.get("LOG_LEVEL", "INFO"))
    for handler in list(root.handlers):
        root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING if os.environ.get("CRAWL_QUIET") else logging.INFO)
    root.addHandler(console)
    path = settings.get("LOG_FILE_ROTATING")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=10 * 2**20, backupCount=7, encoding="utf-8"
        )
        rotating.setFormatter(fmt)
        root.addHandler(rotating)


def known_article_urls(db: Path, sites: list[Site]) -> dict[str, set[str]]:
    """URLs already archived, per site, so that a nightly run fetches only what is new."""
    if not db.exists():
        return {}
    from archive.store import Archive

    archive = Archive(db)
    try:
        return {site.id: set(archive.known_urls(site.id)) for site in sites}
    finally:
        archive.close()


def failed_sites(figures: dict[str, dict[str, int]], sites: list[Site], threshold: float) -> list[str]:
    """Sites that answered nothing, or whose article fetches failed beyond the threshold."""
    failed = []
    for site in sites:
        counts = figures.get(site.id, {})
        errors = sum(v for k, v in counts.items() if k.startswith("error:"))
        fetched = counts.get("fetched", 0) + counts.get("listing_pages", 0)
        if fetched == 0 or (errors and errors / max(fetched, 1) > threshold):
            failed.append(site.id)
    return failed


def print_summary(result: CrawlResult, db: Path, out: TextIO) -> None:
    from archive.store import Archive

    archive = Archive(db)
    try:
        stats = archive.stats()
    finally:
        archive.close()
    total: dict[str, int] = {}
    for counts in result.figures.values():
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    errors = sum(v for k, v in total.items() if k.startswith("error:"))
    print(
        f"crawl: {len(result.figures)} sites, {total.get('fetched', 0)} article pages fetched, "
        f"{total.get('new', 0)} new stories, {total.get('copy', 0)} copies, "
        f"{total.get('version', 0)} new versions, {errors} errors",
        file=out,
    )
    print(
        f"archive {db}: {stats.get('sites', 0)} sites, {stats.get('pages', 0)} pages, "
        f"{stats.get('stories', 0)} stories, {stats.get('copies', 0)} copies",
        file=out,
    )
    if result.failed_sites:
        print(f"failed sites: {', '.join(result.failed_sites)}", file=out)
