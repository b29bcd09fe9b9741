"""What the crawler remembers between runs beside the archive: HTTP validators and the pages to re-check.

Two tables, created on first use in the archive's own file and connection:

* ``fetch_state``: ``url`` (the page URL as fetched, ``pages.raw_url``), ``site_id``, ``etag``,
  ``last_modified`` (the validators the server last sent), ``checked_at`` (last fetch or 304), ``status``
  (last HTTP status) and ``not_modified`` (how many 304 answers);
* ``redirects``: ``from_url`` (a link as the site gives it, canonical form) that redirected to ``to_url``
  (canonical form of the page it landed on), ``site_id``, ``seen_at``. Sites whose listings link short or
  old URLs (WordPress ``/?p=ID``, a moved portal) would otherwise have every such article fetched again each
  night: the link is settled when the page it led to is.

Nothing in the archive's own tables is changed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .dedup import canonical_url
from .store import Archive

DDL = (
    "CREATE TABLE IF NOT EXISTS fetch_state (url TEXT PRIMARY KEY, site_id TEXT, etag TEXT, "
    "last_modified TEXT, checked_at TEXT, status INTEGER, not_modified INTEGER NOT NULL DEFAULT 0)"
)
REDIRECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS redirects (from_url TEXT PRIMARY KEY, to_url TEXT NOT NULL, site_id TEXT, "
    "seen_at TEXT)"
)
# Pages that answered but are not articles for a lasting reason: a nightly run need not fetch them again.
# ("empty", "challenge" and "js-shell" may be a bad moment of the server or a bot wall: tried again.)
SETTLED_REASONS = ("no-body", "login-page", "not-article", "not an article")


@dataclass(frozen=True)
class Recheck:
    """A recently published page to fetch again, with the validators for a conditional request."""

    url: str
    etag: str | None
    last_modified: str | None

    def headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since from what the server sent last time."""
        found = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found


class CrawlState:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        with archive.transaction() as conn:
            conn.execute(DDL)
            conn.execute(REDIRECTS_DDL)

    def remember(
        self, url: str, site_id: str, headers: dict[str, str], status: int, checked_at: str,
        requested_url: str | None = None,
    ) -> None:
        """Keep the validators of a page just fetched (replacing older ones, even when absent now), and the
        link that redirected to it when ``requested_url`` (the URL asked for, before redirects) differs."""
        lower = {k.lower(): v for k, v in (headers or {}).items()}
        with self.archive.transaction() as conn:
            if requested_url and canonical_url(requested_url) != canonical_url(url):
                conn.execute(
                    "INSERT INTO redirects (from_url, to_url, site_id, seen_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(from_url) DO UPDATE SET to_url = excluded.to_url, site_id = excluded.site_id, "
                    "seen_at = excluded.seen_at",
                    (canonical_url(requested_url), canonical_url(url), site_id, checked_at),
                )
            conn.execute(
                "INSERT INTO fetch_state (url, site_id, etag, last_modified, checked_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET site_id = excluded.site_id, "
                "etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at, "
                "status = excluded.status",
                (url, site_id, lower.get("etag"), lower.get("last-modified"), checked_at, status),
            )

    def not_modified(self, url: str, site_id: str, checked_at: str) -> None:
        """A 304: the archived text stands; only the check is noted."""
        with self.archive.transaction() as conn:
            conn.execute(
                "INSERT INTO fetch_state (url, site_id, checked_at, status, not_modified) VALUES (?, ?, ?, 304, 1) "
                "ON CONFLICT(url) DO UPDATE SET checked_at = excluded.checked_at, status = 304, "
                "not_modified = not_modified + 1",
                (url, site_id, checked_at),
            )

    def recent(self, site_id: str, days: int, limit: int, now: datetime | None = None) -> list[Recheck]:
        """The site's archived article pages published (or, undated, first fetched) in the last ``days``
        days, newest first: recent stories are often corrected, so they are fetched again."""
        if days <= 0 or limit <= 0:
            return []
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=days)).date().isoformat()
        rows = self.archive.conn.execute(
            "SELECT coalesce(p.raw_url, p.url) AS url, s.etag, s.last_modified FROM pages p "
            "LEFT JOIN fetch_state s ON s.url = coalesce(p.raw_url, p.url) "
            "WHERE p.site_id = ? AND p.article_id IS NOT NULL AND coalesce(p.gone, 0) = 0 "
            "AND substr(coalesce(p.published, p.first_fetched), 1, 10) >= ? "
            "ORDER BY coalesce(p.published, p.first_fetched) DESC LIMIT ?",
            (site_id, cutoff, limit),
        )
        return [Recheck(row["url"], row["etag"], row["last_modified"]) for row in rows]

    def settled_urls(self, site_id: str) -> set[str]:
        """URLs a nightly run need not fetch: archived article pages and pages that answered with something
        that is lastingly not an article. Each URL as fetched and in canonical form, like
        ``Archive.known_urls``; failed fetches (HTTP errors, timeouts) are not settled and are tried again."""
        found = set(self.archive.known_urls(site_id))
        marks = ", ".join("?" * len(SETTLED_REASONS))
        rows = self.archive.conn.execute(
            "SELECT url, fetched_url, raw_url FROM pages WHERE site_id = ? AND article_id IS NULL "
            f"AND status BETWEEN 200 AND 399 AND reason IN ({marks})",
            (site_id, *SETTLED_REASONS),
        )
        for row in rows:
            found.update(u for u in row if u)
        redirected = self.archive.conn.execute("SELECT from_url, to_url FROM redirects WHERE site_id = ?", (site_id,))
        found.update(from_url for from_url, to_url in redirected if to_url in found)
        return found

