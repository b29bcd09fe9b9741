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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.config import Config, ConfigError, CrawlerOptions, Site, load_config

if TYPE_CHECKING:
    from crawler.scaleout import RedisOptions

EXIT_OK, EXIT_SITES_FAILED, EXIT_CANNOT_START, EXIT_LOCKED = 0, 1, 2, 3


class CannotStart(Exception):
    """A one-line reason why the crawl cannot run."""


@dataclass
class CrawlResult:
    figures: dict[str, dict[str, Any]]
    failed_sites: list[str]

    @property
    def exit_status(self) -> int:
        return EXIT_SITES_FAILED if self.failed_sites else EXIT_OK


def main_crawl(args: Any, out: TextIO = sys.stdout) -> int:
    """Run ``crawl`` from parsed arguments; returns the exit status."""
    try:
        config = load_config(args.sites)
        sites = config.select(args.site)
        if getattr(args, "redis", None):  # several machines: the writer (archive ingest) holds lock and archive
            from crawler.scaleout import crawl_to_redis

            return crawl_to_redis(args, config, sites, out)
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
    log_file = args.log_file or config.crawler.log_file
    if log_file:
        write_crawl_report(db, Path(log_file).parent / "report.html", config.crawler.failure_threshold, out)
    print_summary(result, db, out)  # last, so that the failed sites stay on the last line
    return result.exit_status


def write_crawl_report(db: Path, path: Path, failure_threshold: float, out: TextIO) -> None:
    """The operator's report, rewritten beside the log after every run. A report that cannot be drawn
    is noted and never changes the crawl's exit status."""
    from crawler.report import write_report

    try:
        write_report(db, path, failure_threshold=failure_threshold)
    except Exception as exc:  # the crawl itself succeeded; its status must not depend on a picture
        print(f"crawl: report not written: {exc}", file=sys.stderr)
        return
    print(f"report: {path}", file=out)


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
            holder = _lock_holder(handle) or "another process"
            raise LockHeld(f"another crawl holds the lock on {db} ({holder}); exiting") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()


def _lock_holder(handle: Any, tries: int = 25) -> str:
    """What the lock's holder wrote in the file ("pid N"). A crawl started at the same moment may have taken
    the lock and not yet written its pid: wait for it a little (at most half a second)."""
    for _ in range(tries):
        handle.seek(0)
        holder = handle.read().strip()
        if holder:
            return holder
        time.sleep(0.02)
    return ""


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
    config: Config, sites: list[Site], db: Path | None, *, backfill: bool = False, log_file: str | None = None,
    redis: RedisOptions | None = None,
) -> CrawlResult:
    """Crawl the sites into the archive at ``db`` in this process; with ``redis``, share the crawl with other
    crawlers and send the pages to Redis (``db``, optional then, is only read: see crawler/scaleout.py)."""
    from crawler.pipelines import crawl_figures
    from crawler.spiders.news import NewsSpider

    options = config.crawler
    settings = crawl_settings(options, sites, db, log_file or options.log_file, redis)
    process = CrawlerProcess(settings)
    configure_logging(settings, options)  # after CrawlerProcess, which resets Scrapy's loggers to DEBUG
    known, rechecks = crawl_state(db, sites, options, backfill) if db else ({}, {})
    crawler = process.create_crawler(NewsSpider)
    process.crawl(crawler, sites=sites, options=options, known_urls=known, rechecks=rechecks, backfill=backfill)
    process.start()
    figures = crawl_figures(crawler.spider) if crawler.spider else {}
    if redis is not None:  # a site this crawler never reached may have been another's: the writer judges
        return CrawlResult(figures, [])
    return CrawlResult(figures, failed_sites(figures, sites, options.failure_threshold))


def crawl_settings(
    options: CrawlerOptions, sites: list[Site], db: Path | None, log_file: str | None,
    redis: RedisOptions | None = None,
) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values = {
        "USER_AGENT": options.agent,
        "DOWNLOAD_DELAY": options.download_delay,
        "AUTOTHROTTLE_ENABLED": options.autothrottle,
        "AUTOTHROTTLE_START_DELAY": options.autothrottle_start_delay,
        "AUTOTHROTTLE_MAX_DELAY": max(options.autothrottle_max_delay, options.download_delay),
        "DOWNLOAD_TIMEOUT": options.timeout,
        "RETRY_TIMES": options.retries,
        "ARCHIVE_DB": str(db),
        "DOWNLOAD_SLOTS": download_slots(sites),
        "LOG_FILE_ROTATING": log_file,
        "CRAWL_ARGS": {"sites": [s.id for s in sites], "db": str(db)},
        "LOG_INSTALL_ROOT_HANDLER": False,  # configure_logging installs ours (console + rotating file)
    }
    if redis is not None:
        from crawler.scaleout import redis_settings

        values.update(redis_settings(redis, settings))
    for name, value in values.items():
        settings.set(name, value, priority="cmdline")
    return settings


def download_slots(sites: list[Site]) -> dict[str, dict[str, Any]]:
    """Per-site politeness: one slot per site (see NewsSpider), with the site's concurrency and its own
    delay, which SiteAutoThrottle keeps as a floor."""
    from crawler.spiders.news import slot_of

    slots: dict[str, dict[str, Any]] = {}
    for site in sites:
        slot: dict[str, Any] = {"concurrency": site.concurrency}
        if site.download_delay is not None:
            slot["delay"] = site.download_delay
        slots[slot_of(site)] = slot
    return slots


class QuietFailures(logging.Filter):
    """Scrapy logs some ordinary failures of a site at ERROR, one with a traceback: a dead site's robots.txt
    ("Error downloading", with exc_info) and retries given up. The spider already writes one line per failed
    page, so these become plain INFO lines."""

    NOISY = ("Error downloading", "Gave up retrying")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(self.NOISY):
            record.levelno, record.levelname = logging.INFO, "INFO"
            if record.exc_info and record.exc_info[1] is not None:
                record.msg = f"{record.msg} ({type(record.exc_info[1]).__name__})"
            record.exc_info, record.exc_text = None, None
        return True


QUIET_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.downloadermiddlewares.retry")


def configure_logging(settings: Settings, options: CrawlerOptions | None = None) -> None:
    """Log to stderr, and to a rotating file when one is configured."""
    options = options or CrawlerOptions()
    level = settings.get("LOG_LEVEL", "INFO")
    root = logging.getLogger()
    root.setLevel(level)
    # Scrapy sets its own loggers to DEBUG, whose records (every item scraped, with its page) would reach
    # our handlers whatever the root's level.
    logging.getLogger("scrapy").setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    fmt = logging.Formatter("%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(fmt)
    console.setLevel(logging.WARNING if os.environ.get("CRAWL_QUIET") else logging.INFO)
    root.addHandler(console)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietFailures) for f in logger.filters):
            logger.addFilter(QuietFailures())
    path = settings.get("LOG_FILE_ROTATING")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            path, maxBytes=options.log_max_bytes, backupCount=options.log_backups, encoding="utf-8"
        )
        rotating.setFormatter(fmt)
        rotating.setLevel(level)
        root.addHandler(rotating)


def crawl_state(
    db: Path, sites: list[Site], options: CrawlerOptions, backfill: bool
) -> tuple[dict[str, set[str]], dict[str, list[Any]]]:
    """What the archive already has, per site: the URLs not to fetch again (a nightly run also skips pages
    that lastingly are not articles; a backfill tries them again), and the recent stories to re-check."""
    if not db.exists():
        return {}, {}
    from archive.crawlstate import CrawlState
    from archive.store import Archive

    archive = Archive(db)
    try:
        state = CrawlState(archive)
        known = {
            site.id: set(archive.known_urls(site.id)) if backfill else state.settled_urls(site.id) for site in sites
        }
        rechecks = {
            site.id: state.recent(site.id, options.recheck_days_of(site), options.max_rechecks_per_site)
            for site in sites
        }
        return known, rechecks
    finally:
        archive.close()


def failed_sites(figures: dict[str, dict[str, Any]], sites: list[Site], threshold: float) -> list[str]:
    """Sites that answered nothing, or whose article fetches failed beyond the threshold."""
    failed = []
    for site in sites:
        counts = figures.get(site.id, {})
        errors = sum(counts.get("errors", {}).values())
        answered = counts.get("fetched", 0) + counts.get("listing_pages", 0)
        if answered == 0 or (errors and errors / max(counts.get("fetched", 0), 1) > threshold):
            failed.append(site.id)
    return failed


# The per-site table printed at the end of a crawl: (heading, figure key).
TABLE = (
    ("requests", "requests"), ("listings", "listing_pages"), ("articles", "fetched"), ("new", "new"),
    ("copies", "copy"), ("versions", "version"), ("unchanged", "unchanged"), ("304", "not_modified"),
)


def figures_table(figures: dict[str, dict[str, Any]]) -> list[str]:
    """One line per site: requests sent, listing pages read, article pages fetched, what the archive made of
    them, errors by kind and the time spent."""
    width = max([len("site"), *(len(site_id) for site_id in figures)])
    head = " ".join(f"{title:>{max(len(title), 5)}}" for title, _ in TABLE)
    lines = [f"{'site':<{width}} {head} {'seconds':>7}  errors"]
    for site_id, counts in figures.items():
        cells = " ".join(f"{counts.get(key, 0):>{max(len(title), 5)}}" for title, key in TABLE)
        errors = ", ".join(f"{kind} {n}" for kind, n in counts.get("errors", {}).items()) or "-"
        lines.append(f"{site_id:<{width}} {cells} {counts.get('seconds', 0):>7.1f}  {errors}")
    return lines


def print_summary(result: CrawlResult, db: Path, out: TextIO) -> None:
    from archive.store import Archive
    from crawler.pipelines import total_figures

    archive = Archive(db)
    try:
        stats = archive.stats()
    finally:
        archive.close()
    total = total_figures(result.figures)
    errors = sum(total["errors"].values())
    print(
        f"crawl: {len(result.figures)} sites, {total.get('requests', 0)} requests, "
        f"{total.get('fetched', 0)} article pages fetched, {total.get('new', 0)} new stories, "
        f"{total.get('copy', 0)} copies, {total.get('version', 0)} new versions, "
        f"{total.get('not_modified', 0)} unchanged (304), {errors} errors",
        file=out,
    )
    for line in figures_table(result.figures):
        print(f"  {line}", file=out)
    print(
        f"archive {db}: {stats.get('sites', 0)} sites, {stats.get('pages', 0)} pages, "
        f"{stats.get('stories', 0)} stories, {stats.get('copies', 0)} copies, {stats.get('versions', 0)} versions",
        file=out,
    )
    if result.failed_sites:
        print(f"failed sites: {', '.join(result.failed_sites)}", file=out)
