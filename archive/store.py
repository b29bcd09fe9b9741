"""The archive: one SQLite file, one transaction per page.

``Archive.add_page(record)`` stores a fetched page and decides what it is:

* ``new``: a story not seen before (an ``articles`` row is created);
* ``copy``: the same story as a known one (exact key or verified near copy): a ``pages`` row pointing to it;
* ``unchanged``: a known URL with the same text (only fetch times move);
* ``version``: a known URL whose text changed: the old and new texts are kept in ``versions``;
* ``rejected``: not an article (extractor said so, HTTP error, empty body); the page row keeps the reason.
  A 404/410 for an archived URL keeps the story and marks the page ``gone``.
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import schema
from .dedup import (
    DedupConfig,
    NearIndex,
    SiteMatcher,
    StoryText,
    canonical_url,
    choose_canonical,
    exact_key,
    find_near,
    fingerprint,
    load_config,
    page_key,
)
from .normalize import clean, fold

OUTCOMES = ("new", "copy", "unchanged", "version", "rejected")


@dataclass(frozen=True)
class AddResult:
    article_id: int | None
    outcome: str
    match: str | None = None  # how a copy was recognised: "exact" or "near"


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read a field from a dict or from an object (the crawler's Site dataclass)."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _json(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


# A stored capture keeps no session or credential: a cookie's value never reaches the archive or its dumps.
# (Cookie names stay: a bot wall names itself by them, and the extractor may read the capture again.)
SECRET_HEADERS = {"cookie", "authorization", "proxy-authorization"}
COOKIE_HEADERS = {"set-cookie", "set-cookie2"}


def redact_headers(headers: dict) -> dict:
    out = {}
    for name, value in headers.items():
        lower = str(name).lower()
        if lower in SECRET_HEADERS:
            value = "<redacted>"
        elif lower in COOKIE_HEADERS:
            text = ", ".join(value) if isinstance(value, list | tuple) else str(value)
            value = "; ".join(f"{n}=<redacted>" for n in re.findall(r"(?:^|,\s*)([^=;,\s]+)=", text))
        out[name] = value
    return out


def _year(published: str | None) -> int | None:
    return int(published[:4]) if published and published[:4].isdigit() else None


def change_summary(old: dict, new: dict) -> dict:
    """What changed between two texts of one page (dicts with ``title`` and ``body``): title changed or
    not, paragraphs added/removed/changed and words added/removed, plus a one-line ``summary``."""
    old_paras = [p for p in (old.get("body") or "").split("\n") if p.strip()]
    new_paras = [p for p in (new.get("body") or "").split("\n") if p.strip()]
    added = removed = changed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_paras, new_paras, autojunk=False).get_opcodes():
        if op == "replace":
            changed += min(i2 - i1, j2 - j1)
            added += max(0, (j2 - j1) - (i2 - i1))
            removed += max(0, (i2 - i1) - (j2 - j1))
        elif op == "insert":
            added += j2 - j1
        elif op == "delete":
            removed += i2 - i1
    old_words, new_words = (old.get("body") or "").split(), (new.get("body") or "").split()
    words_added = words_removed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old_words, new_words, autojunk=False).get_opcodes():
        if op != "equal":
            words_added += j2 - j1
            words_removed += i2 - i1
    result = {
        "title_changed": (old.get("title") or "") != (new.get("title") or ""),
        "paragraphs_added": added,
        "paragraphs_removed": removed,
        "paragraphs_changed": changed,
        "words_added": words_added,
        "words_removed": words_removed,
    }
    result["summary"] = _describe_change(result)
    return result


def _describe_change(c: dict) -> str:
    parts = ["title changed"] if c["title_changed"] else []
    for key, label in (("paragraphs_changed", "changed"), ("paragraphs_added", "added"),
                       ("paragraphs_removed", "removed")):
        if c[key]:
            parts.append(f"{c[key]} paragraph{'s' if c[key] > 1 else ''} {label}")
    if c["words_added"] or c["words_removed"]:
        parts.append(f"+{c['words_added']} -{c['words_removed']} words")
    return ", ".join(parts) or "same words (spacing or invisible characters only)"


class Archive:
    """An archive file. Safe to share between threads (one write at a time)."""

    def __init__(self, path: str | Path, *, dedup_config: DedupConfig | None = None) -> None:
        self.path = str(path)
        self.conn = schema.connect(self.path)
        schema.migrate(self.conn)
        self.config = self._dedup_config(dedup_config)
        self.index = NearIndex(self.conn, self.config)
        self.crawl_id: int | None = None
        self.counts: Counter[str] = Counter()
        self._lock = threading.RLock()
        self._depth = 0  # transactions open (the outer one and its savepoints), under the lock
        self._load_sites()

    # ------------------------------------------------------------------------------------ plumbing

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception: all or nothing.

        Inside another transaction of this archive (same thread: the lock is held), a savepoint instead:
        all or nothing as well, on disk when the outer transaction commits. The crawl writes a group of
        pages in one outer transaction (``add_page`` each in its savepoint): one commit for the group."""
        with self._lock:
            if self._depth:
                yield from self._savepoint()
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            finally:
                self._depth -= 1
            self.conn.execute("COMMIT")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        name = f"nested_{self._depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self.conn.execute(f"ROLLBACK TO {name}")
            self.conn.execute(f"RELEASE {name}")
            raise
        finally:
            self._depth -= 1
        self.conn.execute(f"RELEASE {name}")

    def _dedup_config(self, given: DedupConfig | None) -> DedupConfig:
        """The stored signatures were made with one configuration; keep using it until `dedup` rebuilds."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'dedup_config'").fetchone()
        if row and given is None:
            return DedupConfig.from_json(row[0])
        cfg = given or load_config()
        if not row or row[0] != cfg.to_json():
            self.set_dedup_config(cfg)
        return cfg

    def set_dedup_config(self, cfg: DedupConfig) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('dedup_config', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (cfg.to_json(),),
        )
        self.config = cfg
        self.index = NearIndex(self.conn, cfg)

    def _load_sites(self) -> None:
        self.sites: dict[str, dict] = {}
        for row in self.conn.execute("SELECT * FROM sites"):
            site = dict(row)
            for key in ("start_urls", "domains", "aliases"):
                site[key] = json.loads(site[key] or "[]")
            self.sites[site["id"]] = site
        self.matcher = SiteMatcher(self.sites.values())

    # ------------------------------------------------------------------------------- sites, crawls

    def upsert_sites(self, sites: Iterable[Any]) -> None:
        """Insert or update sites (dicts or objects with id, name, province, kind, family, start_urls,
        aliases and optionally allowed_domains/domains). Domains are the start URLs' hosts plus those."""
        now = utcnow()
        with self.transaction() as conn:
            for site in sites:
                start_urls = list(_get(site, "start_urls") or [])
                domains = {_host(u) for u in start_urls if _host(u)}
                for extra in (_get(site, "allowed_domains") or [], _get(site, "domains") or []):
                    domains |= {d.lower().removeprefix("www.") for d in extra}
                row = {
                    "id": _get(site, "id"),
                    "name": _get(site, "name"),
                    "province": _get(site, "province"),
                    "kind": _get(site, "kind"),
                    "family": _get(site, "family"),
                    "start_urls": _json(start_urls),
                    "domains": _json(sorted(domains)),
                    "aliases": _json(list(_get(site, "aliases") or [])),
                    "updated_at": now,
                }
                if not row["id"]:
                    raise ValueError("a site needs an id")
                cols = ", ".join(row)
                updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id")
                conn.execute(
                    f"INSERT INTO sites ({cols}) VALUES ({', '.join('?' * len(row))}) "
                    f"ON CONFLICT(id) DO UPDATE SET {updates}",
                    list(row.values()),
                )
                # articles carry their canonical site's province and kind for facets and filters
                conn.execute(
                    "UPDATE articles SET province = ?, kind = ? WHERE site_id = ?",
                    (row["province"], row["kind"], row["id"]),
                )
        self._load_sites()

    def start_crawl(self, sites: list[str], args: dict | None = None) -> int:
        """Record the start of a crawl; pages added until finish_crawl carry its id.

        The caller holds the archive's lock, so a run still marked ``running`` died without closing (killed,
        out of memory, power cut): it becomes ``interrupted``, with no finish time, for the operator to see."""
        with self.transaction() as conn:
            conn.execute("UPDATE crawls SET status = 'interrupted' WHERE status = 'running'")
            cur = conn.execute(
                "INSERT INTO crawls (started_at, sites, args, status) VALUES (?, ?, ?, 'running')",
                (utcnow(), _json(list(sites)), _json(args or {})),
            )
        self.crawl_id = cur.lastrowid
        self.counts = Counter()
        return self.crawl_id

    def finish_crawl(self, crawl_id: int, figures: dict | None = None, status: str = "finished") -> None:
        """Close a crawl with the crawler's figures; the archive adds its own outcome counts."""
        merged = {"outcomes": dict(self.counts), **(figures or {})}
        with self.transaction() as conn:
            conn.execute(
                "UPDATE crawls SET finished_at = ?, figures = ?, status = ? WHERE id = ?",
                (utcnow(), _json(merged), status, crawl_id),
            )
        if crawl_id == self.crawl_id:
            self.crawl_id = None

    # ---------------------------------------------------------------------------------- lookups

    def has_url(self, url: str, include_rejected: bool = False) -> bool:
        """Whether ``url`` (any form: it is canonicalized) is archived as an article page."""
        key = canonical_url(url)
        sql = (
            "SELECT article_id FROM pages WHERE url = ? UNION ALL "
            "SELECT article_id FROM pages WHERE fetched_url = ? UNION ALL "
            "SELECT article_id FROM pages WHERE raw_url = ?"
        )
        return any(include_rejected or r[0] is not None for r in self.conn.execute(sql, (key, key, url)))

    def known_urls(self, site_id: str, include_rejected: bool = False) -> set[str]:
        """The site's archived page URLs for incremental crawls: each as fetched and in canonical form
        (dedup.canonical_url). Check a link with ``canonical_url(link) in known`` to ignore tracking
        parameters and fragments."""
        sql = "SELECT url, fetched_url, raw_url FROM pages WHERE site_id = ?"
        if not include_rejected:
            sql += " AND article_id IS NOT NULL"
        out: set[str] = set()
        for row in self.conn.execute(sql, (site_id,)):
            out.update(u for u in row if u)
        return out

    def article(self, article_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def page(self, url: str) -> dict | None:
        key = canonical_url(url)
        row = self.conn.execute(
            "SELECT * FROM pages WHERE url = ? OR fetched_url = ? LIMIT 1", (key, key)
        ).fetchone()
        return dict(row) if row else None

    def pages_of(self, article_id: int) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM pages WHERE article_id = ? ORDER BY seq", (article_id,))
        return [dict(r) for r in rows]

    def versions(self, article_id: int) -> list[dict]:
        rows = self.conn.execute(
            "SELECT * FROM versions WHERE article_id = ? ORDER BY page_url, version", (article_id,)
        )
        return [dict(r) for r in rows]

    def version_history(self, article_id: int) -> list[dict]:
        """Every page of a story with its texts in order, each with what changed since the one before.

        A page that never changed has no ``versions`` rows (version 1 is written on the first change):
        its stored text is its only version. Pages: ``{url, site_id, canonical, versions: [...]}``;
        a version: ``{version, fetched_at, title, body, body_hash, words, change}`` (``change``: see
        ``change_summary``; None for version 1).
        """
        story = self.article(article_id)
        if story is None:
            return []
        by_page: dict[str, list[dict]] = {}
        for row in self.versions(article_id):
            by_page.setdefault(row["page_url"], []).append(row)
        history = []
        for page in self.pages_of(article_id):
            texts = by_page.get(page["url"]) or [
                {"version": 1, "fetched_at": page["first_fetched"], "title": page["title"], "body": page["body"],
                 "body_hash": page["content_hash"]}
            ]
            versions, before = [], None
            for row in texts:
                entry = {key: row[key] for key in ("version", "fetched_at", "title", "body", "body_hash")}
                entry["words"] = len((row["body"] or "").split())
                entry["change"] = change_summary(before, row) if before else None
                versions.append(entry)
                before = row
            history.append(
                {"url": page["url"], "site_id": page["site_id"], "canonical": page["url"] == story["url"],
                 "versions": versions}
            )
        return history

    def stats(self) -> dict[str, int]:
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "sites": one("SELECT count(*) FROM sites"),
            "pages": one("SELECT count(*) FROM pages"),
            "stories": one("SELECT count(*) FROM articles"),
            "copies": one("SELECT count(*) FROM pages WHERE article_id IS NOT NULL")
            - one("SELECT count(*) FROM articles"),
            "versions": one("SELECT count(*) FROM versions WHERE version > 1"),
            "rejected": one("SELECT count(*) FROM pages WHERE article_id IS NULL"),
            "gone": one("SELECT count(*) FROM pages WHERE gone = 1"),
            "crawls": one("SELECT count(*) FROM crawls"),
        }

    # --------------------------------------------------------------------------------- add_page

    def add_page(self, record: dict) -> AddResult:
        """Store one fetched page (keys in docs/architecture.md) in one transaction; see module doc."""
        url = record.get("url")
        if not url:
            raise ValueError("record has no url")
        # 0: no HTTP answer at all (timeout, reset, too large): recorded as such, never as a 200
        status = 200 if record.get("status") is None else int(record["status"])
        title, body = clean(record.get("title")), clean(record.get("body"))
        reason = record.get("reason") or (None if record.get("ok", True) else "not-article")
        if status >= 400 and not reason:
            reason = f"http-{status}"
        if not reason and not body:
            reason = "no-body"
        fetched_key = canonical_url(url)
        site = self.sites.get(record.get("site_id") or "", {})
        key = fetched_key if reason else page_key(url, record.get("canonical_url"), site.get("domains") or [])
        ctx = {
            "key": key,
            "fetched_key": fetched_key,
            "raw_url": url,
            "status": status,
            "reason": reason,
            "fetched_at": record.get("fetched_at") or utcnow(),
            "title": title,
            "body": body,
        }
        with self.transaction():
            existing = self._find_page(key, fetched_key)
            if reason:
                result = self._add_rejected(record, ctx, existing)
            else:
                result = self._add_article(record, ctx, existing)
        self.counts[result.outcome] += 1
        return result

    def _find_page(self, key: str, fetched_key: str) -> dict | None:
        for column, value in (("url", key), ("url", fetched_key), ("fetched_url", fetched_key)):
            row = self.conn.execute(f"SELECT * FROM pages WHERE {column} = ? LIMIT 1", (value,)).fetchone()
            if row:
                return dict(row)
        return None

    def _store_raw(self, record: dict, ctx: dict) -> None:
        raw = record.get("raw")
        if raw is None:
            return
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        self.conn.execute(
            "INSERT INTO raw_pages (url, fetched_at, status, headers, body, compression, size, encoding, crawl_id)"
            " VALUES (?, ?, ?, ?, ?, 'zlib', ?, ?, ?)",
            (
                ctx["fetched_key"],
                ctx["fetched_at"],
                ctx["status"],
                _json(redact_headers(record.get("headers") or {})),
                zlib.compress(raw, 6),
                len(raw),
                record.get("encoding"),
                self.crawl_id,
            ),
        )

    def _next_seq(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM pages").fetchone()[0]

    def _add_rejected(self, record: dict, ctx: dict, existing: dict | None) -> AddResult:
        if existing and existing["article_id"] is not None:
            # A known story is never dropped: a 404/410 marks the page gone, other failures are noted.
            if ctx["status"] in (404, 410):
                self.conn.execute(
                    "UPDATE pages SET status = ?, gone = 1, reason = ?, fetched_at = ?, crawl_id = ? WHERE url = ?",
                    (ctx["status"], ctx["reason"], ctx["fetched_at"], self.crawl_id, existing["url"]),
                )
            else:
                self.conn.execute(
                    "UPDATE pages SET error = ?, fetched_at = ?, crawl_id = ? WHERE url = ?",
                    (f"{ctx['status']} {ctx['reason']}", ctx["fetched_at"], self.crawl_id, existing["url"]),
                )
            return AddResult(existing["article_id"], "rejected")
        if existing:
            if (existing["status"], existing["reason"]) != (ctx["status"], ctx["reason"]):
                self._store_raw(record, ctx)  # keep the raw page only when something new was seen
            self.conn.execute(
                "UPDATE pages SET status = ?, reason = ?, fetched_at = ?, crawl_id = ? WHERE url = ?",
                (ctx["status"], ctx["reason"], ctx["fetched_at"], self.crawl_id, existing["url"]),
            )
            return AddResult(None, "rejected")
        self.conn.execute(
            "INSERT INTO pages (url, fetched_url, raw_url, site_id, seq, crawl_id, fetched_at, first_fetched, "
            "status, reason, canonical_url, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ctx["key"],
                ctx["fetched_key"],
                ctx["raw_url"],
                record.get("site_id"),
                self._next_seq(),
                self.crawl_id,
                ctx["fetched_at"],
                ctx["fetched_at"],
                ctx["status"],
                ctx["reason"],
                record.get("canonical_url"),
                ctx["title"] or None,
            ),
        )
        self._store_raw(record, ctx)
        return AddResult(None, "rejected")

    def _story_fields(self, record: dict, ctx: dict) -> dict:
        fields = {col: record.get(col) for col in schema.STORY_COLUMNS}
        fields.update(title=ctx["title"], body=ctx["body"])
        for col in ("lead", "author", "source"):
            fields[col] = clean(fields[col]) or None
        for col in ("images", "attachments"):
            fields[col] = _json(fields[col] or [])
        if fields["view_count"] is not None:
            try:
                fields["view_count"] = int(fields["view_count"])
            except (TypeError, ValueError):
                fields["view_count"] = None
        return fields

    def _add_article(self, record: dict, ctx: dict, existing: dict | None) -> AddResult:
        fields = self._story_fields(record, ctx)
        if existing and existing["article_id"] is not None:
            return self._refetch(record, ctx, existing, exact_key(ctx["body"], cleaned=True), fields)

        fp = fingerprint(ctx["body"], self.config, cleaned=True)  # its exact key too: the text is read once
        ekey = fp.exact_key
        article_id, how = self._exact_match(ekey, fp.tokens, ctx["title"]), "exact"
        if article_id is None and fp.near_ok:
            found = find_near(
                self.index,
                fp,
                self.config,
                self._story_text,
                title=ctx["title"],
                published=fields["published"],
            )
            article_id, how = (found[0], "near") if found else (None, None)

        page = {
            "url": ctx["key"],
            "fetched_url": ctx["fetched_key"],
            "raw_url": ctx["raw_url"],
            "site_id": record.get("site_id"),
            "article_id": article_id,
            "crawl_id": self.crawl_id,
            "fetched_at": ctx["fetched_at"],
            "first_fetched": ctx["fetched_at"],
            "status": ctx["status"],
            "gone": 0,
            "reason": None,
            "error": None,
            "canonical_url": record.get("canonical_url"),
            "content_hash": ekey,
            **fields,
            "version": 1,
            "last_changed": ctx["fetched_at"],
        }
        if existing:  # a URL rejected before that is an article now: the row becomes an article page
            page["url"], page["seq"] = existing["url"], existing["seq"]
            self.conn.execute("DELETE FROM pages WHERE url = ?", (existing["url"],))
        else:
            page["seq"] = self._next_seq()
        if article_id is None:
            article_id = self._insert_article(page, fp)
            page["article_id"] = article_id
            self._insert_page(page)
            outcome = AddResult(article_id, "new")
        else:
            self._insert_page(page)
            self._refresh_story(article_id, ctx["fetched_at"])
            outcome = AddResult(article_id, "copy", how)
        self._store_raw(record, ctx)
        return outcome

    def _refetch(self, record: dict, ctx: dict, existing: dict, ekey: str, fields: dict) -> AddResult:
        """A known article URL fetched again: unchanged, or a new version (nothing overwritten)."""
        article_id = existing["article_id"]
        url = existing["url"]
        if existing["content_hash"] == ekey and (existing["title"] or "") == ctx["title"]:
            self.conn.execute(
                "UPDATE pages SET fetched_at = ?, crawl_id = ?, status = ?, gone = 0, error = NULL, "
                "reason = NULL WHERE url = ?",
                (ctx["fetched_at"], self.crawl_id, ctx["status"], url),
            )
            self.conn.execute(
                "UPDATE articles SET last_seen = max(coalesce(last_seen, ''), ?) WHERE id = ?",
                (ctx["fetched_at"], article_id),
            )
            return AddResult(article_id, "unchanged")
        has_versions = self.conn.execute("SELECT 1 FROM versions WHERE page_url = ? LIMIT 1", (url,)).fetchone()
        if not has_versions:  # version 1, the text first archived, is written lazily on the first change
            self._insert_version(article_id, url, 1, existing["first_fetched"], existing)
        version = (existing["version"] or 1) + 1
        sets = {
            **fields,
            "content_hash": ekey,
            "version": version,
            "last_changed": ctx["fetched_at"],
            "fetched_at": ctx["fetched_at"],
            "crawl_id": self.crawl_id,
            "status": ctx["status"],
            "gone": 0,
            "error": None,
        }
        self.conn.execute(
            f"UPDATE pages SET {', '.join(f'{c} = ?' for c in sets)} WHERE url = ?", [*sets.values(), url]
        )
        self._insert_version(article_id, url, version, ctx["fetched_at"], {**fields, "content_hash": ekey})
        self._refresh_story(article_id, ctx["fetched_at"], force=True)
        self._store_raw(record, ctx)
        return AddResult(article_id, "version")

    def _insert_version(self, article_id: int, url: str, version: int, fetched_at: str, page: dict) -> None:
        self.conn.execute(
            "INSERT INTO versions (article_id, page_url, version, fetched_at, title, body, body_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (article_id, url, version, fetched_at, page["title"], page["body"], page["content_hash"]),
        )

    def _exact_match(self, ekey: str, tokens: int, title: str) -> int | None:
        sql = "SELECT article_id, title FROM pages WHERE content_hash = ? AND article_id IS NOT NULL ORDER BY seq"
        for article_id, other_title in self.conn.execute(sql, (ekey,)):
            if tokens >= self.config.min_exact_tokens or fold(other_title or "").lower() == fold(title).lower():
                return article_id
        return None

    def _story_text(self, article_id: int) -> StoryText | None:
        row = self.conn.execute("SELECT title, body, published FROM articles WHERE id = ?", (article_id,)).fetchone()
        return StoryText(row["title"], row["body"], row["published"]) if row else None

    def _insert_page(self, page: dict) -> None:
        cols = list(page)
        self.conn.execute(
            f"INSERT INTO pages ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [page[c] for c in cols],
        )

    # ----------------------------------------------------------------------------- story rows

    def _article_values(self, page: dict) -> dict:
        site = self.sites.get(page["site_id"] or "", {})
        values = {col: page[col] for col in schema.STORY_COLUMNS}
        values.update(
            site_id=page["site_id"],
            url=page["url"],
            published_year=_year(page["published"]),
            province=site.get("province"),
            kind=site.get("kind"),
            body_hash=page["content_hash"],
            version_count=page["version"] or 1,
        )
        return values

    def _insert_article(self, page: dict, fp: Any) -> int:
        values = self._article_values(page)
        values.update(first_seen=page["first_fetched"], last_seen=page["fetched_at"], page_count=1)
        cols = list(values)
        cur = self.conn.execute(
            f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [values[c] for c in cols],
        )
        article_id = cur.lastrowid
        self._index_text(article_id, None, values["title"], values["body"])
        self.index.add(article_id, fp)
        return article_id

    def _index_text(self, article_id: int, old: tuple[str, str] | None, title: str, body: str) -> None:
        """Keep both FTS tables in step with articles.title/body (``old``: the values indexed before)."""
        if old is not None:
            self.conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (article_id,))
            # external content: FTS5 needs the exact old values to remove their tokens
            self.conn.execute(
                "INSERT INTO articles_exact (articles_exact, rowid, title, body) VALUES ('delete', ?, ?, ?)",
                (article_id, *old),
            )
        self.conn.execute(
            "INSERT INTO articles_fts (rowid, title, body, title_fold, body_fold) VALUES (?, ?, ?, ?, ?)",
            (article_id, title, body, fold(title), fold(body)),
        )
        self.conn.execute(
            "INSERT INTO articles_exact (rowid, title, body) VALUES (?, ?, ?)", (article_id, title, body)
        )

    def rewrite_article(self, article_id: int, canonical_url: str, pages: list[dict]) -> None:
        """Write the article row (insert or update) from its canonical page; FTS follows, signatures not.
        Used by regrouping, inside its transaction."""
        page = dict(self.conn.execute("SELECT * FROM pages WHERE url = ?", (canonical_url,)).fetchone())
        seen = self.conn.execute(
            "SELECT min(first_fetched), max(fetched_at) FROM pages WHERE article_id = ?", (article_id,)
        ).fetchone()
        values = self._article_values(page)
        values.update(first_seen=seen[0], last_seen=seen[1], page_count=len(pages))
        current = self.conn.execute("SELECT title, body FROM articles WHERE id = ?", (article_id,)).fetchone()
        if current is None:
            cols = ["id", *values]
            self.conn.execute(
                f"INSERT INTO articles ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                [article_id, *values.values()],
            )
            self._index_text(article_id, None, values["title"], values["body"])
            return
        self.conn.execute(
            f"UPDATE articles SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
            [*values.values(), article_id],
        )
        self._index_text(article_id, (current["title"], current["body"]), values["title"], values["body"])

    def delete_article(self, article_id: int) -> None:
        """Remove a story row and its search entries (its pages must already point elsewhere)."""
        current = self.conn.execute("SELECT title, body FROM articles WHERE id = ?", (article_id,)).fetchone()
        if current is None:
            return
        self.conn.execute("DELETE FROM articles_fts WHERE rowid = ?", (article_id,))
        self.conn.execute(
            "INSERT INTO articles_exact (articles_exact, rowid, title, body) VALUES ('delete', ?, ?, ?)",
            (article_id, current["title"], current["body"]),
        )
        self.index.remove(article_id)
        self.conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))

    def _refresh_story(self, article_id: int, seen_at: str, force: bool = False) -> None:
        """Re-choose the story's canonical copy; rewrite the article row when it (or its text) changed."""
        pages = [
            dict(r)
            for r in self.conn.execute(
                "SELECT url, site_id, seq, published, source FROM pages WHERE article_id = ?", (article_id,)
            )
        ]
        current = self.conn.execute("SELECT url, title, body FROM articles WHERE id = ?", (article_id,)).fetchone()
        chosen = choose_canonical(pages, self.matcher)
        if force or chosen["url"] != current["url"]:
            page = dict(self.conn.execute("SELECT * FROM pages WHERE url = ?", (chosen["url"],)).fetchone())
            values = self._article_values(page)
            self.conn.execute(
                f"UPDATE articles SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
                [*values.values(), article_id],
            )
            if (current["title"], current["body"]) != (values["title"], values["body"]):
                self._index_text(article_id, (current["title"], current["body"]), values["title"], values["body"])
                self.index.add(article_id, fingerprint(values["body"], self.config))
        self.conn.execute(
            "UPDATE articles SET page_count = ?, last_seen = max(coalesce(last_seen, ''), ?) WHERE id = ?",
            (len(pages), seen_at, article_id),
        )

    def reread_page(self, url: str, record: dict, write: bool = False) -> dict[str, tuple[Any, Any]]:
        """A new reading of an archived article page's stored capture (``record`` as for ``add_page``):
        ``{column: (stored, new)}`` for the story columns that differ, normalized as ``add_page`` stores them.

        With ``write`` (inside ``transaction()``) the page is corrected in place, not versioned: a
        re-extraction fixes our reading of the same capture, the site changed nothing. The page row, its
        current ``versions`` row (if any) and its story (canonical copy, article row, FTS, signature) follow;
        regrouping the stories is ``regroup``'s job (``archive/reextract.py`` runs it)."""
        page = self.conn.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        if page is None or page["article_id"] is None:
            raise ValueError(f"not an archived article page: {url}")
        ctx = {"title": clean(record.get("title")), "body": clean(record.get("body"))}
        fields = self._story_fields(record, ctx)
        changed = {col: (page[col], value) for col, value in fields.items() if page[col] != value}
        if not write or not changed:
            return changed
        fields["content_hash"] = exact_key(ctx["body"])
        self.conn.execute(
            f"UPDATE pages SET {', '.join(f'{c} = ?' for c in fields)} WHERE url = ?", [*fields.values(), url]
        )
        self.conn.execute(
            "UPDATE versions SET title = ?, body = ?, body_hash = ? WHERE page_url = ? AND version = ?",
            (fields["title"], fields["body"], fields["content_hash"], url, page["version"]),
        )
        self._refresh_story(page["article_id"], page["fetched_at"], force=True)
        return changed
