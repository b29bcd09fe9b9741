"""The one writer of a crawl spread over several machines: ``python -m archive ingest --redis URL --db FILE``.

Crawlers started with ``python -m crawler crawl --redis URL`` push each finished page to the Redis list
``vngov:items`` (see crawler/scaleout.py). This writer moves them into the archive, one transaction per page,
and holds the archive's lock (``FILE.lock``, the crawl's) all the while: SQLite keeps one writer, and a local
crawl of the same archive exits 3 meanwhile.

* A record is moved to ``vngov:ingesting`` (LMOVE), stored, then removed from there: a writer killed
  mid-record finds it at its next start and stores it then (storing a page twice changes nothing).
* A record that cannot be stored goes to ``vngov:dead`` with the error, and is counted: never dropped.
  ``--requeue-dead`` puts the dead letters back in the queue (after a fix). A database error (disk full,
  locked too long) is not the record's fault: the writer stops, exit 2, and the record waits in Redis.
* Each run of the crawlers becomes one ``crawls`` row: opened with its first record, closed once no crawler
  is alive and the list is empty, with the crawlers' figures summed per site (each crawler pushes its own as it
  closes) and the archive's outcomes (new, copy, version, unchanged, rejected) counted here.

Modes: by default the writer runs until stopped (SIGTERM or SIGINT: the current record is finished first);
``--until-idle N`` exits once no crawler is alive and nothing has come for N seconds (cron); ``--once`` stores
what is queued now and exits.

Exit statuses, as crawl's: 0 done; 1 done, but records went to the dead letters or sites failed beyond the
crawlers' ``failure_threshold`` (named on the last line, ``failed sites: ...``); 2 cannot go on (Redis
unreachable, database unwritable or failing); 3 another writer or crawl holds the lock on the archive.
"""

from __future__ import annotations

import signal
import sqlite3
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TextIO

import redis

from .crawlstate import CrawlState
from .store import Archive

EXIT_OK, EXIT_PROBLEMS, EXIT_CANNOT_START, EXIT_LOCKED = 0, 1, 2, 3
OUTCOMES = ("new", "copy", "version", "unchanged", "rejected")
FLAGS = ("listing_limit", "budget_reached")  # 1 when a crawler hit the limit: not summed over crawlers
POP_TIMEOUT = 1  # seconds a blocking pop waits: how quickly the writer notices a stop or the end of a run


class WriterFailed(Exception):
    """The archive cannot take records now; the current one stays in Redis."""


@dataclass
class Run:
    """One run of the crawlers as the writer sees it: its ``crawls`` row and what the archive made of it."""

    crawl_id: int
    started: float = field(default_factory=time.monotonic)
    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    records: int = 0
    dead: int = 0


class Writer:
    def __init__(self, archive: Archive, server: redis.Redis, url: str, out: TextIO = sys.stdout) -> None:
        from crawler.scaleout import Keys, safe_url

        self.archive = archive
        self.state = CrawlState(archive)
        self.server = server
        self.keys = Keys()
        self.url = safe_url(url)
        self.out = out
        self.run_open: Run | None = None
        self.stopping = False
        self.problems = False  # dead letters or failed sites in some run: exit 1

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, once: bool = False, until_idle: float | None = None) -> int:
        from crawler.scaleout import live_crawlers

        self._recover()
        idle_since = time.monotonic()
        while not self.stopping:
            raw = self._take(block=not once)
            if raw is not None:
                self._store(raw)
                idle_since = time.monotonic()
                continue
            # Live crawlers first, then the list: a crawler pushes its last record before it leaves.
            live = live_crawlers(self.server, self.keys)
            if self.server.llen(self.keys.items):
                continue
            if live:
                if once:
                    break
                continue
            if self.run_open or self.server.llen(self.keys.figures):
                self._close_run("finished")
            if once or (until_idle is not None and time.monotonic() - idle_since >= until_idle):
                break
        if self.run_open:
            self._close_run("interrupted" if self.stopping else "partial")
        return EXIT_PROBLEMS if self.problems else EXIT_OK

    def _take(self, block: bool) -> bytes | None:
        if block:
            return self.server.blmove(self.keys.items, self.keys.ingesting, POP_TIMEOUT, "LEFT", "RIGHT")
        return self.server.lmove(self.keys.items, self.keys.ingesting, "LEFT", "RIGHT")

    def _recover(self) -> None:
        """Records a killed writer was storing: stored now."""
        while (raw := self.server.lindex(self.keys.ingesting, 0)) is not None:
            self._store(raw)

    def _store(self, raw: bytes) -> None:
        """Store one record, or send it to the dead letters; then it leaves ``ingesting``."""
        from crawler.scaleout import loads

        run = self._open_run()
        try:
            self._apply(loads(raw), run)
        except sqlite3.OperationalError as exc:  # the archive's trouble, not the record's: it waits in Redis
            raise WriterFailed(f"the archive cannot take records: {exc}") from exc
        except Exception as exc:  # whatever the record holds, it is kept with the reason
            self._bury(raw, exc, run)
        else:
            run.records += 1
        self.server.lrem(self.keys.ingesting, 1, raw)

    def _apply(self, message: dict[str, Any], run: Run) -> None:
        kind = message.get("kind")
        if kind == "not_modified":  # a re-checked story the server said is unchanged: only the check is noted
            self.state.not_modified(message["url"], message["site_id"], message["fetched_at"])
            return
        if kind != "page":
            raise ValueError(f"unknown record kind {kind!r}")
        record = message["record"]
        site_id = record["site_id"]
        if site_id not in self.archive.sites:
            self._add_sites()
        result = self.archive.add_page(record)
        counts = run.outcomes[site_id]
        counts[result.outcome] += 1
        if message.get("remember"):
            if result.outcome == "rejected":  # why, as the local crawl counts it (challenge, login-page...)
                counts[f"rejected:{(record.get('reason') or 'not-article').split(':')[0]}"] += 1
            self.state.remember(
                record["url"], site_id, record["headers"], record["status"], record["fetched_at"],
                requested_url=record.get("requested_url"),
            )

    def _bury(self, raw: bytes, exc: Exception, run: Run) -> None:
        from crawler.scaleout import dumps

        error = f"{type(exc).__name__}: {exc}"[:500]
        letter = {"error": error, "at": datetime.now(UTC).isoformat(timespec="seconds"), "message": raw}
        self.server.rpush(self.keys.dead, dumps(letter))
        run.dead += 1
        self.problems = True
        print(f"ingest: record sent to {self.keys.dead}: {error}", file=sys.stderr)

    # -- runs and their figures -------------------------------------------------------------------

    def _open_run(self) -> Run:
        if self.run_open is None:
            self._add_sites()
            sites = sorted(self.archive.sites)
            crawl_id = self.archive.start_crawl(sites, {"redis": self.url, "writer": "python -m archive ingest"})
            self.run_open = Run(crawl_id)
        return self.run_open

    def _add_sites(self) -> None:
        """The crawlers' site rows (they push them before any page): a page needs its site's domains, and
        the choice of a story's canonical copy every site's names."""
        from crawler.scaleout import loads

        rows = self.server.hgetall(self.keys.sites)
        if rows:
            self.archive.upsert_sites([loads(row) for row in rows.values()])

    def _close_run(self, status: str) -> None:
        from crawler.crawl import failed_sites
        from crawler.pipelines import total_figures

        run = self._open_run()
        reports = self._crawler_figures(run)
        figures: dict[str, Any] = merge_figures([r["figures"] for r in reports], run.outcomes)
        failed = failed_sites(figures, [SimpleNamespace(id=s) for s in figures], _threshold(reports))
        figures["_total"] = total_figures(figures)
        figures["_elapsed_seconds"] = round(time.monotonic() - run.started, 2)
        figures["_crawlers"] = [
            {k: r.get(k) for k in ("crawler", "started", "finished", "reason")}
            | {"requests": sum(c.get("requests", 0) for c in r["figures"].values())}
            for r in reports
        ]
        figures["_records"], figures["_dead_letters"] = run.records, run.dead
        self.archive.finish_crawl(run.crawl_id, figures, status)
        self.run_open = None
        self.problems = self.problems or bool(failed)
        self._report(figures, len(reports), failed)

    def _crawler_figures(self, run: Run) -> list[dict[str, Any]]:
        from crawler.scaleout import loads

        reports = []
        while (raw := self.server.lpop(self.keys.figures)) is not None:
            try:
                reports.append(loads(raw))
            except ValueError as exc:
                self._bury(raw, exc, run)
        return reports

    def _report(self, figures: dict[str, Any], crawlers: int, failed: list[str]) -> None:
        from crawler.crawl import figures_table

        total, stats = figures["_total"], self.archive.stats()
        print(
            f"ingest: a run of {crawlers} crawler{'s' * (crawlers != 1)}, {figures['_records']} records, "
            f"{total.get('new', 0)} new stories, {total.get('copy', 0)} copies, {total.get('version', 0)} new "
            f"versions, {total.get('unchanged', 0)} unchanged, {total.get('rejected', 0)} rejected, "
            f"{figures['_dead_letters']} dead letters",
            file=self.out,
        )
        for line in figures_table({k: v for k, v in figures.items() if not k.startswith("_")}):
            print(f"  {line}", file=self.out)
        print(
            f"archive {self.archive.path}: {stats['sites']} sites, {stats['pages']} pages, {stats['stories']} "
            f"stories, {stats['copies']} copies, {stats['versions']} versions",
            file=self.out,
        )
        if failed:
            print(f"failed sites: {', '.join(failed)}", file=self.out)
        self.out.flush()

    def requeue_dead(self) -> int:
        """Put the dead letters back in the queue, oldest first; returns how many."""
        from crawler.scaleout import loads

        moved = 0
        while (raw := self.server.lindex(self.keys.dead, 0)) is not None:
            # Pushed before it is removed: a crash in between stores a record twice, which changes nothing.
            self.server.rpush(self.keys.items, loads(raw)["message"])
            self.server.lpop(self.keys.dead)
            moved += 1
        return moved


def merge_figures(reports: list[dict[str, dict[str, Any]]], outcomes: dict[str, Counter[str]]) -> dict[str, Any]:
    """The crawlers' per-site figures summed (errors kind by kind; seconds and limit flags: the largest), with
    what the archive made of the pages, which only the writer knows."""
    merged: dict[str, dict[str, Any]] = {}
    for report in reports:
        for site_id, counts in report.items():
            into = merged.setdefault(site_id, {})
            for key, value in counts.items():
                if isinstance(value, dict):
                    kinds = into.setdefault(key, {})
                    for kind, n in value.items():
                        kinds[kind] = kinds.get(kind, 0) + n
                elif key == "seconds" or key in FLAGS:
                    into[key] = max(into.get(key, 0), value)
                else:
                    into[key] = into.get(key, 0) + value
    for site_id, counts in outcomes.items():
        into = merged.setdefault(site_id, {"errors": {}, "listing_errors": {}})
        reasons = into.setdefault("rejected_reasons", {})
        for key, n in counts.items():
            if key.startswith("rejected:"):
                kind = key.removeprefix("rejected:")
                reasons[kind] = reasons.get(kind, 0) + n
            else:
                into[key] = into.get(key, 0) + n
    return merged


def _threshold(reports: list[dict[str, Any]]) -> float:
    from crawler.config import CrawlerOptions

    return max((float(r.get("failure_threshold", 0)) for r in reports), default=CrawlerOptions().failure_threshold)


@contextmanager
def stop_on_signals(writer: Writer) -> Iterator[None]:
    """SIGTERM and SIGINT end the writer after its current record (its run row is closed)."""

    def stop(signum: int, frame: Any) -> None:
        writer.stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main_ingest(
    url: str, db: str, *, once: bool = False, until_idle: float | None = None, requeue_dead: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    from crawler.crawl import CannotStart, LockHeld, check_writable, crawl_lock
    from crawler.scaleout import connect, ping

    path = Path(db)
    try:
        check_writable(path)
        ping(url)
        with crawl_lock(path), Archive(path) as archive:
            writer = Writer(archive, connect(url), url, out)
            if requeue_dead:
                print(f"ingest: {writer.requeue_dead()} dead letters put back in the queue", file=out)
            with stop_on_signals(writer):
                return writer.run(once=once, until_idle=until_idle)
    except (CannotStart, OSError) as exc:
        print(f"ingest: cannot start: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
    except LockHeld as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (WriterFailed, redis.RedisError) as exc:
        print(f"ingest: stopped: {exc}", file=sys.stderr)
        return EXIT_CANNOT_START
