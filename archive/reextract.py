"""Re-extraction: read the stored raw captures again with the current extractor, without recrawling.

``python -m archive reextract --db FILE [--sites FILE] [--site ID] [--limit N] [--dry-run] [--json]``

Every archived page (article pages, and pages rejected without an HTTP error) is read again from its latest
raw capture (``raw_pages``, zlib): ``crawler.extract.extract`` with the site's selectors (from the crawl
config given with ``--sites``) or else the CMS family stored in ``sites``; the date is chosen again by
``crawler.dates.choose_published``; the record is built by the crawler's own ``archive_record``. What
differs from the stored page is reported per field, with a few examples.

Writing (unless ``dry_run``), one transaction per page. A re-extraction corrects our reading of the *same*
capture; the site changed nothing, so it is not a new version:

* an article page is corrected in place (``Archive.reread_page``): the page row, its current ``versions``
  row, the story's canonical copy, FTS and signature; the stored and new values of the changed columns go
  to the ``reextractions`` log. A later refetch then compares with the corrected text, so an extractor
  improvement does not turn into a fake "version" of every page;
* a rejected page that now reads as an article is added through ``Archive.add_page`` (new story or copy);
* an article page that no longer reads as an article is reported and kept (a story is never dropped);
* when a title, body or date changed, the story grouping is rebuilt with the stored dedup parameters
  (``regroup``): a body once polluted with boilerplate may now match its copies, or stop matching.

The listing date (from the link's listing page) is not stored; only the date chosen from it is. The stored
``published`` therefore stands in for it as a ``listing`` candidate: it ranks after every date found on the
page, so a better page date still wins, it gives year-less page dates their year and a day-only date its
time as the listing did, and a page that shows no date keeps its stored one (re-extraction can change a
date, never lose it). When that stand-in wins with the stored value, the stored raw string and source are
kept, and a page whose own date is no longer found is reported.

A stored page that cannot be read (bad zlib, unknown compression, size mismatch, bad headers, an error in
the extractor) is reported and skipped; the run goes on.
"""

from __future__ import annotations

import difflib
import json
import sqlite3
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .regroup import regroup
from .store import Archive, utcnow

BATCH = 200  # pages loaded per query: the page list of a large archive is never held in memory
EXAMPLES = 3  # examples kept per changed field
TEXT_FIELDS = ("title", "body", "published")  # changes that can move a page to another story

LOG_DDL = (
    # Not a schema migration: only this command writes it, with its first correction.
    "CREATE TABLE IF NOT EXISTS reextractions (id INTEGER PRIMARY KEY, run_at TEXT, page_url TEXT, "
    "article_id INTEGER, raw_id INTEGER, fields TEXT, before TEXT, after TEXT)",
    "CREATE INDEX IF NOT EXISTS idx_reextractions_page_url ON reextractions (page_url)",
)


class ReextractUsageError(ValueError):
    """Bad input to the command (unknown site, unreadable config): one line, exit status 2."""


class BadCapture(Exception):
    """A stored raw page that cannot be read back."""


@dataclass(frozen=True)
class SiteReading:
    """How a site's pages are read: its own selectors (crawl config only) and its CMS family."""

    selectors: dict | None
    family: str | None


@dataclass
class Capture:
    id: int
    url: str
    fetched_at: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class ReextractReport:
    dry_run: bool
    pages: int = 0  # pages read again
    changed_pages: int = 0
    unchanged: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # changed column -> pages
    examples: dict[str, list[dict]] = field(default_factory=dict)
    new_articles: list[dict] = field(default_factory=list)  # rejected before, articles now
    not_articles: list[dict] = field(default_factory=list)  # articles before, not any more: kept
    dates_kept: list[dict] = field(default_factory=list)  # page date no longer found: stored date kept
    skipped: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    with_config: bool = False  # sites read with the crawl config's selectors (--sites)
    regroup_needed: bool = False  # a title, body or date changed: stories may regroup
    regroup: dict | None = None
    written: bool = False

    def note_change(self, url: str, changes: dict[str, tuple[Any, Any]]) -> None:
        self.changed_pages += 1
        for column, (before, after) in changes.items():
            self.fields[column] += 1
            shown = self.examples.setdefault(column, [])
            if len(shown) < EXAMPLES:
                shown.append({"url": url, **short_diff(before, after)})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["fields"] = dict(sorted(self.fields.items()))
        return out

    def summary(self) -> str:
        lines = [
            f"reextract: {self.pages} pages read, {self.changed_pages} changed, {self.unchanged} unchanged"
            + (" (dry run: nothing written)" if self.dry_run else "")
        ]
        for column, n in sorted(self.fields.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {column:<17} {n:>5} page{'s' if n != 1 else ''}")
            for ex in self.examples.get(column, []):
                lines.append(f"      {ex['url']}")
                lines.append(f"        - {ex['before'] or '(nothing)'}")
                lines.append(f"        + {ex['after'] or '(nothing)'}")
        lines += _listed(self.new_articles, "rejected page(s) now read as an article", "outcome")
        lines += _listed(self.not_articles, "article page(s) no longer read as an article (kept)", "reason")
        lines += _listed(self.dates_kept, "page(s) whose own date is no longer found (stored date kept)", "published")
        lines += _listed(self.skipped, "page(s) skipped", "why")
        lines += _listed(self.errors, "page(s) could not be read", "error")
        if self.changed_pages and not self.with_config:
            lines.append("read with each site's stored CMS family: pass --sites for sites with their own selectors")
        if self.regroup_needed and self.regroup is None:
            lines.append("titles, bodies or dates change: the story grouping will be rebuilt when written")
        if self.regroup is not None:
            moved = self.regroup["moved_pages"]
            lines.append(
                f"story grouping rebuilt: {self.regroup['groups_before']} stories before, "
                f"{self.regroup['groups_after']} after, {len(moved)} page{'s' if len(moved) != 1 else ''} "
                "changed story" + (f", e.g. {', '.join(moved[:3])}" if moved else "")
            )
        return "\n".join(lines)


def _listed(items: list[dict], what: str, key: str, shown: int = 5) -> list[str]:
    """``what`` has "(s)" on its nouns: "page(s) skipped" is "1 page skipped", "2 pages skipped"."""
    if not items:
        return []
    what = what.replace("(s)", "s" if len(items) > 1 else "")
    lines = [f"{len(items)} {what}:"]
    lines += [f"  {item['url']}  ({item.get(key)})" for item in items[:shown]]
    if len(items) > shown:
        lines.append(f"  ... and {len(items) - shown} more")
    return lines


def short_diff(before: Any, after: Any, width: int = 90) -> dict[str, str]:
    """Before/after of one field, short: for texts, only the lines (or the stretch of a line) that differ."""
    a, b = "" if before is None else str(before), "" if after is None else str(after)
    if "\n" in a or "\n" in b:
        old_lines, new_lines = a.splitlines(), b.splitlines()
        removed, added = [], []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_lines, new_lines).get_opcodes():
            if tag != "equal":
                removed += [ln for ln in old_lines[i1:i2] if ln.strip()]
                added += [ln for ln in new_lines[j1:j2] if ln.strip()]
        return {"before": _clip(" / ".join(removed), width), "after": _clip(" / ".join(added), width)}
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if start > 30:  # a little context before the first difference, from the start of a word
        space = a.rfind(" ", 0, start - 20)
        start = space + 1 if space >= 0 else start - 30
    else:
        start = 0
    prefix = "…" if start else ""
    return {"before": prefix + _clip(a[start:], width), "after": prefix + _clip(b[start:], width)}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------------------------------- reading


def site_readings(archive: Archive, config_sites: list[Any] | None = None) -> dict[str, SiteReading]:
    """Each site's reading: from the crawl config when given (selectors and family), else the stored family."""
    readings = {sid: SiteReading(None, site.get("family")) for sid, site in archive.sites.items()}
    for site in config_sites or []:
        readings[site.id] = SiteReading(dict(site.selectors) or None, site.family)
    return readings


def load_capture(conn: sqlite3.Connection, page: dict) -> Capture | None:
    """The page's latest raw capture (stored under the fetched URL's canonical form), or None."""
    row = conn.execute(
        "SELECT * FROM raw_pages WHERE url IN (?, ?) ORDER BY fetched_at DESC, id DESC LIMIT 1",
        (page["fetched_url"] or page["url"], page["url"]),
    ).fetchone()
    if row is None:
        return None
    return Capture(row["id"], row["url"], row["fetched_at"], int(row["status"] or 200), _headers(row), _body(row))


def _body(row: sqlite3.Row) -> bytes:
    data = row["body"]
    if data is None:
        raise BadCapture("raw capture has no body")
    if row["compression"] in (None, "", "none"):
        body = bytes(data)
    elif row["compression"] == "zlib":
        try:
            body = zlib.decompress(data)
        except zlib.error as exc:
            raise BadCapture(f"bad raw capture (zlib: {exc})") from None
    else:
        raise BadCapture(f"unknown compression {row['compression']!r}")
    if row["size"] is not None and len(body) != row["size"]:
        raise BadCapture(f"raw capture is {len(body)} bytes, {row['size']} were stored")
    return body


def _headers(row: sqlite3.Row) -> dict[str, str]:
    try:
        headers = json.loads(row["headers"] or "{}")
    except json.JSONDecodeError as exc:
        raise BadCapture(f"bad stored headers ({exc})") from None
    if not isinstance(headers, dict):
        raise BadCapture("bad stored headers (not an object)")
    return {str(k): str(v) for k, v in headers.items()}


def choose_date(extraction: dict, page: dict, fetched_at: str) -> tuple[dict[str, Any], bool]:
    """published/published_raw/published_source, as the crawl's DatePipeline chooses them, with the stored
    date standing in for the listing date that was not stored (see the module docstring); and whether the
    stored date was kept although it came from the page and the page no longer yields it."""
    from crawler.dates import choose_published

    candidates = list(extraction.get("date_candidates") or [])
    stored = page.get("published")
    if stored:
        candidates.append({"raw": stored, "source": "listing"})
    # the page cannot have been published after it was fetched
    choice = choose_published(candidates, reference=None, now=_instant(fetched_at))
    if choice is None:
        return {"published": None, "published_raw": None, "published_source": None}, False
    if choice.source == "listing" and choice.iso == stored:
        kept = {k: page.get(k) for k in ("published", "published_raw", "published_source")}
        return kept, page.get("published_source") != "listing"
    return {"published": choice.iso, "published_raw": choice.raw, "published_source": choice.source}, False


def _instant(iso: str) -> datetime:
    try:
        moment = datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_page(page: dict, capture: Capture, reading: SiteReading) -> tuple[dict, bool]:
    """The archive record the crawler would write for this capture today, and whether the stored date was
    kept for want of one on the page (``choose_date``)."""
    from crawler.extract import extract
    from crawler.pipelines import archive_record

    url = page["raw_url"] or page["fetched_url"] or page["url"]
    extraction = extract(
        capture.body, url, selectors=reading.selectors, headers=capture.headers, family=reading.family
    ).to_dict()
    dates, date_kept = choose_date(extraction, page, capture.fetched_at)
    item = {
        "url": url,
        "site_id": page["site_id"],
        "fetched_at": capture.fetched_at,
        "status": capture.status,
        "headers": capture.headers,
        "extraction": extraction,
        **dates,
    }
    record = archive_record(item)
    record["raw"] = None  # the capture is stored already: add_page must not store it again
    return record, date_kept


# ------------------------------------------------------------------------------------------ the run


def iter_pages(conn: sqlite3.Connection, site_id: str | None, limit: int | None) -> Iterator[dict]:
    """Pages to read again, in arrival order: article pages and pages rejected without an HTTP error."""
    where, params = _selection(site_id)
    last, left = -1, limit if limit is not None else -1
    while left != 0:
        size = BATCH if left < 0 else min(BATCH, left)
        rows = conn.execute(
            f"SELECT * FROM pages WHERE {where} AND seq > ? ORDER BY seq LIMIT ?", [*params, last, size]
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield dict(row)
        last = rows[-1]["seq"]
        left = left - len(rows) if left > 0 else left


def _selection(site_id: str | None) -> tuple[str, list[Any]]:
    where = "(article_id IS NOT NULL OR coalesce(status, 200) < 400)"
    return (f"{where} AND site_id = ?", [site_id]) if site_id else (where, [])


def count_pages(conn: sqlite3.Connection, site_id: str | None, limit: int | None) -> int:
    where, params = _selection(site_id)
    n = conn.execute(f"SELECT count(*) FROM pages WHERE {where}", params).fetchone()[0]
    return min(n, limit) if limit is not None else n


def reextract(
    archive: Archive,
    *,
    config_sites: list[Any] | None = None,
    site_id: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ReextractReport:
    """Read the stored pages again; report (and unless ``dry_run`` write) what changed. Never raises on a
    bad stored page."""
    if site_id is not None and site_id not in archive.sites:
        raise ReextractUsageError(f"unknown site id: {site_id}")
    report = ReextractReport(dry_run=dry_run, with_config=config_sites is not None)
    readings = site_readings(archive, config_sites)
    run_at = utcnow()
    total = count_pages(archive.conn, site_id, limit)
    regroup_needed = False
    for n, page in enumerate(iter_pages(archive.conn, site_id, limit), 1):
        try:
            regroup_needed |= _one_page(archive, page, readings, report, run_at)
        except BadCapture as exc:
            report.errors.append({"url": page["url"], "error": str(exc)})
        except Exception as exc:  # one bad page must not stop a run over the whole archive
            report.errors.append({"url": page["url"], "error": f"{type(exc).__name__}: {exc}"[:300]})
        if progress:
            progress(n, total)
    report.regroup_needed = regroup_needed
    if regroup_needed and not dry_run:
        # the stored parameters, not dedup.toml: changing those is `python -m archive dedup`'s business
        result = regroup(archive, archive.config)
        report.regroup = {
            "groups_before": result.groups_before,
            "groups_after": result.groups_after,
            "moved_pages": result.moved_pages,
        }
    report.written = not dry_run
    return report


def _one_page(
    archive: Archive, page: dict, readings: dict[str, SiteReading], report: ReextractReport, run_at: str
) -> bool:
    """Read one page again; returns whether a change may move it to another story."""
    reading = readings.get(page["site_id"] or "", SiteReading(None, page.get("family")))
    if page["method"] == "site" and not reading.selectors:
        report.skipped.append({"url": page["url"], "why": "read with the site's own selectors: pass --sites"})
        return False
    capture = load_capture(archive.conn, page)
    if capture is None:
        report.skipped.append({"url": page["url"], "why": "no raw capture"})
        return False
    record, date_kept = read_page(page, capture, reading)
    report.pages += 1
    if page["article_id"] is None:
        return _rejected_page(archive, page, record, report, run_at, capture)
    if not record["ok"]:
        report.not_articles.append({"url": page["url"], "reason": record["reason"]})
        return False
    changes = archive.reread_page(page["url"], record)
    if date_kept:
        report.dates_kept.append({"url": page["url"], "published": page["published"]})
    if changes and not report.dry_run:
        changes = _write(archive, page, record, capture, run_at)
        if changes is None:
            report.skipped.append({"url": page["url"], "why": "refetched during the run: read it again"})
            return False
    if not changes:
        report.unchanged += 1
        return False
    report.note_change(page["url"], changes)
    return any(column in changes for column in TEXT_FIELDS)


def _write(
    archive: Archive, page: dict, record: dict, capture: Capture, run_at: str
) -> dict[str, tuple[Any, Any]] | None:
    """Correct one page in one transaction, with its log row; None (nothing written) when the page was
    changed by someone else since it was read: our capture may no longer be the one behind its text."""
    with archive.transaction() as conn:
        now = conn.execute("SELECT version, content_hash, title FROM pages WHERE url = ?", (page["url"],)).fetchone()
        if now is None or tuple(now) != (page["version"], page["content_hash"], page["title"]):
            return None
        written = archive.reread_page(page["url"], record, write=True)
        if written:
            _log(conn, run_at, page, capture, written)
    return written


def _rejected_page(
    archive: Archive, page: dict, record: dict, report: ReextractReport, run_at: str, capture: Capture
) -> bool:
    """A page rejected at crawl time: added as an article when it reads as one now."""
    if not record["ok"]:
        report.unchanged += 1  # still not an article (its reason may read differently: not worth a write)
        return False
    entry = {"url": page["url"], "outcome": "new" if report.dry_run else None}
    if not report.dry_run:
        result = archive.add_page(record)  # its own transaction; the grouping is decided there
        entry["outcome"] = result.outcome
        with archive.transaction():
            _log(
                archive.conn, run_at, {**page, "article_id": result.article_id}, capture,
                {"reason": (page["reason"], None)},
            )
    report.new_articles.append(entry)
    report.changed_pages += 1
    return False


def _log(
    conn: sqlite3.Connection, run_at: str, page: dict, capture: Capture, changes: dict[str, tuple[Any, Any]]
) -> None:
    for ddl in LOG_DDL:  # the table appears with the first correction: a run that changes nothing writes nothing
        conn.execute(ddl)
    conn.execute(
        "INSERT INTO reextractions (run_at, page_url, article_id, raw_id, fields, before, after) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            run_at,
            page["url"],
            page["article_id"],
            capture.id,
            json.dumps(sorted(changes)),
            json.dumps({c: before for c, (before, _) in changes.items()}, ensure_ascii=False),
            json.dumps({c: after for c, (_, after) in changes.items()}, ensure_ascii=False),
        ),
    )


# -------------------------------------------------------------------------------------- command line


def tty_progress(stream: Any = sys.stderr) -> Callable[[int, int], None] | None:
    """A one-line counter on a terminal, redrawn at most ten times a second; None when not a terminal."""
    if not stream.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < 0.1:
            return
        last[0] = now
        stream.write(f"\rreextract: {done}/{total} pages" + ("\n" if done >= total else ""))
        stream.flush()

    return show


def run(
    db: str,
    *,
    sites_file: str | None = None,
    site_id: str | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    as_json: bool = False,
) -> int:
    """``python -m archive reextract``: prints the report; exit status 0 (unreadable pages are in the report)."""
    from crawler.crawl import LockHeld, crawl_lock

    config_sites = None
    if sites_file:
        from crawler.config import ConfigError, load_sites

        try:
            config_sites = load_sites(sites_file)
        except ConfigError as exc:
            raise ReextractUsageError(str(exc)) from None
    if limit is not None and limit < 0:
        raise ReextractUsageError("--limit must be 0 or more")
    try:
        # a writing run rewrites texts and regroups stories: no crawl may add pages meanwhile
        with nullcontext() if dry_run else crawl_lock(Path(db)), Archive(db) as archive:
            report = reextract(
                archive,
                config_sites=config_sites,
                site_id=site_id,
                limit=limit,
                dry_run=dry_run,
                progress=tty_progress(),  # stderr: --json output stays clean
            )
    except LockHeld as exc:
        raise ReextractUsageError(str(exc)) from None
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.summary())
    return 0
