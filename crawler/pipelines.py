"""Item pipelines: extraction, dates, then the archive. Each is small and can be swapped in settings."""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.extract import extract

logger = logging.getLogger(__name__)


class _Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> _Pipeline:
        return cls(crawler)

    @property
    def spider(self) -> Any:
        return self.crawler.spider


class ExtractPipeline(_Pipeline):
    """Turns the raw page into an Extraction (title, body, date candidates, byline...)."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("error") or item.get("not_modified"):
            return item
        site = self.spider.sites[item["site_id"]]
        extraction = extract(
            item["body"],
            item["url"],
            selectors=site.selectors or None,
            headers=item["headers"],
            family=site.family,
        )
        item["extraction"] = extraction.to_dict()
        return item


class DatePipeline(_Pipeline):
    """Chooses the publication date among the page's candidates and the listing's date."""

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        from crawler.dates import choose_published

        extraction = item.get("extraction")
        if not extraction:
            return item
        candidates = list(extraction.get("date_candidates") or [])
        if item.get("listing_date"):
            candidates.append({"raw": item["listing_date"], "source": "listing"})
        started = getattr(self.spider, "started", datetime.now(UTC))
        choice = choose_published(candidates, reference=None, now=started)
        item["published"] = choice.iso if choice else None
        item["published_raw"] = choice.raw if choice else None
        item["published_source"] = choice.source if choice else None
        item["published_reason"] = choice.reason if choice else None
        return item


class ArchivePipeline(_Pipeline):
    """Writes each page to the SQLite archive with its HTTP validators (for the next run's conditional
    requests), and at the end the crawl's figures.

    The writes run in a thread of their own (``ArchiveWriter``), in the order the pages arrive: SQLite,
    zlib and the commits release the GIL, so the crawl's thread goes on fetching and extracting meanwhile.
    Pages that arrive within ``WRITE_GROUP_SECONDS`` of each other are committed together (each page in a
    savepoint of its own: all of it or none of it, as alone); an item leaves this pipeline only once its
    page is committed. A kill leaves the archive whole; it loses only pages not yet acknowledged."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.archive: Any = None
        self.state: Any = None
        self.crawl_id: int | None = None
        self.writer: ArchiveWriter | None = None

    def open_spider(self) -> None:
        from archive.crawlstate import CrawlState
        from archive.store import Archive

        spider = self.spider
        self.archive = Archive(self.crawler.settings.get("ARCHIVE_DB"))
        self.state = CrawlState(self.archive)
        self.archive.upsert_sites([s.as_record() for s in spider.sites.values()])
        self.crawl_id = self.archive.start_crawl(
            list(spider.sites), dict(self.crawler.settings.getdict("CRAWL_ARGS"))
        )
        settings = self.crawler.settings
        self.writer = ArchiveWriter(
            self.archive, self._write,
            seconds=settings.getfloat("ARCHIVE_GROUP_SECONDS", WRITE_GROUP_SECONDS),
            pages=settings.getint("ARCHIVE_GROUP_PAGES", WRITE_GROUP_PAGES),
        )

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        result = await maybe_deferred_to_future(self.writer.submit(item))
        if result is None:  # not modified
            return item
        item["article_id"] = result.article_id
        item["outcome"] = result.outcome
        self.spider.figures[item["site_id"]][result.outcome] += 1
        if result.outcome == "rejected" and not item.get("error"):  # why: challenge, login-page, empty...
            reason = archive_record(item)["reason"] or "not-article"
            self.spider.figures[item["site_id"]][f"rejected:{reason.split(':')[0]}"] += 1
        return item

    def _write(self, item: dict[str, Any]) -> Any:
        """In the writer thread, inside the group's transaction: the page, then its validators."""
        if item.get("not_modified"):
            self.state.not_modified(item["url"], item["site_id"], item["fetched_at"])
            return None
        result = self.archive.add_page(archive_record(item))
        if not item.get("error"):
            self.state.remember(
                item["url"], item["site_id"], item["headers"], item["status"], item["fetched_at"],
                requested_url=item.get("requested_url"),
            )
        return result

    def close_spider(self) -> None:
        spider = self.spider
        if self.writer is not None:
            self.writer.close()  # every item has been written already (each waited for its commit)
        reason = self.crawler.stats.get_value("finish_reason") if self.crawler.stats else None
        figures: dict[str, Any] = crawl_figures(spider)
        figures["_total"] = total_figures(figures)
        figures["_elapsed_seconds"] = round((datetime.now(UTC) - spider.started).total_seconds(), 2)
        self.archive.finish_crawl(self.crawl_id, figures, str(reason or "finished"))
        self.archive.close()


# A commit per page was a tenth of the crawl's time (SQLite flushes both full-text indexes at each commit):
# pages are committed in groups, at most this many, arriving at most this long after the group's first.
WRITE_GROUP_SECONDS = 0.05
WRITE_GROUP_PAGES = 50
_CLOSE = object()


class ArchiveWriter:
    """One thread that runs ``write(item)`` for each submitted item, in order, a group of items per
    transaction; each item's Deferred fires (in the reactor's thread) once its group is committed, with
    what ``write`` returned, or its exception (that page's savepoint rolled back, the group goes on)."""

    def __init__(self, archive: Any, write: Any, seconds: float, pages: int, reactor: Any = None) -> None:
        if reactor is None:
            from twisted.internet import reactor

        self.archive, self.write, self.seconds, self.pages = archive, write, seconds, max(1, pages)
        self.reactor = reactor
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="archive-writer", daemon=True)
        self.thread.start()

    def submit(self, item: dict[str, Any]) -> Deferred:
        done: Deferred = Deferred()
        self.queue.put((item, done))
        return done

    def close(self) -> None:
        self.queue.put(_CLOSE)
        self.thread.join()

    def _run(self) -> None:
        closing = False
        while not closing:
            first = self.queue.get()
            if first is _CLOSE:
                return
            group = [first]
            deadline = time.monotonic() + self.seconds
            while len(group) < self.pages:
                try:
                    entry = self.queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is _CLOSE:
                    closing = True
                    break
                group.append(entry)
            self._write_group(group)

    def _write_group(self, group: list[tuple[dict[str, Any], Deferred]]) -> None:
        results: list[Any] = []
        try:
            with self.archive.transaction():
                for item, _ in group:
                    try:
                        results.append(self.write(item))
                    except Exception:  # that page's savepoint is rolled back; the others stand
                        results.append(Failure())
        except Exception:  # the commit failed: none of the group is stored
            failure = Failure()
            results = [failure] * len(group)
        for (_, done), result in zip(group, results, strict=True):
            fire = done.errback if isinstance(result, Failure) else done.callback
            self.reactor.callFromThread(fire, result)


# Figures every site reports, zero or not: a missing key would read as "not measured".
FIGURE_KEYS = (
    "requests", "listing_pages", "fetched", "new", "copy", "version", "unchanged", "rejected",
    "rechecked", "not_modified",
)


def crawl_figures(spider: Any) -> dict[str, dict[str, Any]]:
    """Per-site figures of a crawl: counts, ``errors`` and ``listing_errors`` by kind, ``seconds`` spent
    (first request to last answer of the site)."""
    figures = {}
    for site_id in spider.sites:
        counts = spider.figures.get(site_id, {})
        shaped: dict[str, Any] = {key: counts.get(key, 0) for key in FIGURE_KEYS}
        shaped.update({k: v for k, v in counts.items() if ":" not in k})
        shaped["errors"] = _by_kind(counts, "error:")
        shaped["listing_errors"] = _by_kind(counts, "listing_error:")
        shaped["rejected_reasons"] = _by_kind(counts, "rejected:")
        span = spider.activity.get(site_id)
        shaped["seconds"] = round(span[1] - span[0], 2) if span else 0.0
        figures[site_id] = shaped
    return figures


def total_figures(figures: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The sum of the sites' figures (errors summed kind by kind)."""
    totals: dict[str, Any] = {"errors": {}, "listing_errors": {}}
    for site_id, counts in figures.items():
        if site_id.startswith("_"):
            continue
        for key, value in counts.items():
            if isinstance(value, dict):
                sums = totals.setdefault(key, {})
                for kind, n in value.items():
                    sums[kind] = sums.get(kind, 0) + n
            elif key != "seconds":
                totals[key] = totals.get(key, 0) + value
    return totals


def _by_kind(counts: dict[str, int], prefix: str) -> dict[str, int]:
    return {k[len(prefix):]: v for k, v in sorted(counts.items()) if k.startswith(prefix)}


def archive_record(item: dict[str, Any]) -> dict[str, Any]:
    """The archive's page record from a finished item (see docs/architecture.md)."""
    ex = item.get("extraction") or {}
    record = {
        "url": item["url"],
        "requested_url": item.get("requested_url"),  # before redirects: crawl state only, not a page row
        "site_id": item["site_id"],
        "fetched_at": item["fetched_at"],
        "status": item["status"],
        "raw": item.get("body") or b"",
        "headers": item.get("headers") or {},
        "reason": item.get("error") or (None if ex.get("ok") else ex.get("reason") or "not an article"),
        "published": item.get("published"),
        "published_raw": item.get("published_raw"),
        "published_source": item.get("published_source"),
    }
    for key in (
        "title", "body", "lead", "author", "source", "canonical_url", "images", "attachments",
        "category", "view_count", "family", "method", "encoding",
    ):
        record[key] = ex.get(key)
    record["updated"] = ex.get("updated_raw")
    record["ok"] = bool(ex.get("ok")) and not item.get("error")
    return record

