"""Tables, indexes and full-text search of the archive, created and migrated with sqlite-utils.

The schema version is kept in ``PRAGMA user_version``. Migrations only add (tables, columns, indexes):
the table and column names are a contract with the crawler and with Datasette users, never renamed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import sqlite_utils

from .dedup import DEDUP_DDL

SCHEMA_VERSION = 3

# Columns of a page row that also describe its article (copied to ``articles`` from the canonical page).
STORY_COLUMNS = {
    "title": str,
    "body": str,
    "lead": str,
    "author": str,
    "source": str,
    "published": str,
    "published_raw": str,
    "published_source": str,
    "updated": str,
    "category": str,
    "view_count": int,
    "images": str,  # JSON list of {"src", "caption"}
    "attachments": str,  # JSON list of {"url", "title"}
    "family": str,
    "method": str,
}

# Two FTS5 tables over articles (title, body):
# * articles_fts: remove_diacritics 2 folds tone and vowel marks ("dân vận" ~ "dan van", "Uỷ"/"Ủy" ~ "uy")
#   but not đ, a letter of its own; title_fold/body_fold hold fold(text) where đ is d, so "da nang"
#   finds "Đà Nẵng". FTS5 ANDs query terms across all columns, so Datasette's plain search box finds a
#   story whatever mix of diacritics the user typed. Stores its own content: deletes by rowid are safe.
# * articles_exact: external content (no second copy of the text), diacritics kept, used only to rank
#   stories that match the query's exact spelling first ("án" before "an").
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
    "title, body, title_fold, body_fold, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_exact USING fts5("
    "title, body, content = 'articles', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0')",
)


def connect(path: str) -> sqlite3.Connection:
    """Open ``path`` in autocommit mode (transactions are explicit), WAL, foreign-key-free."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable across application crashes in WAL mode; only a power loss may lose the last pages.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def _v1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["sites"].create(
        {
            "id": str,
            "name": str,
            "province": str,
            "kind": str,
            "family": str,
            "start_urls": str,  # JSON list
            "domains": str,  # JSON list of hosts, www. stripped (from start_urls, allowed_domains, domains)
            "aliases": str,  # JSON list of other names a "Theo ..." line may use
            "updated_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["articles"].create(
        {
            "id": int,
            "site_id": str,
            "url": str,
            **STORY_COLUMNS,
            "published_year": int,
            "province": str,  # copied from the canonical site: facets and filters without a join
            "kind": str,
            "body_hash": str,
            "first_seen": str,
            "last_seen": str,
            "version_count": int,
            "page_count": int,
        },
        pk="id",
        if_not_exists=True,
    )
    db["pages"].create(
        {
            "url": str,  # canonical form (dedup.page_key)
            "fetched_url": str,  # canonical form of the URL actually fetched
            "site_id": str,
            "article_id": int,
            "seq": int,  # arrival order: regrouping replays pages in this order
            "crawl_id": int,
            "fetched_at": str,  # last fetch
            "first_fetched": str,
            "status": int,
            "gone": int,
            "reason": str,
            "error": str,  # last failed refetch of a known page (the stored text is kept)
            "canonical_url": str,  # <link rel=canonical> as given
            "content_hash": str,  # dedup.exact_key(body)
            **STORY_COLUMNS,
            "version": int,
            "last_changed": str,
        },
        pk="url",
        defaults={"gone": 0, "version": 1},
        if_not_exists=True,
    )
    db["crawls"].create(
        {
            "id": int,
            "started_at": str,
            "finished_at": str,
            "sites": str,
            "args": str,
            "figures": str,
            "status": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["versions"].create(
        {
            "id": int,
            "article_id": int,
            "page_url": str,
            "version": int,  # per page URL: 1 is the text first archived
            "fetched_at": str,
            "title": str,
            "body": str,
            "body_hash": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["raw_pages"].create(
        {
            "id": int,
            "url": str,
            "fetched_at": str,
            "status": int,
            "headers": str,
            "body": bytes,
            "compression": str,  # "zlib"
            "size": int,  # uncompressed length
            "encoding": str,
            "crawl_id": int,
        },
        pk="id",
        if_not_exists=True,
    )
    indexes: list[tuple[str, list[str], bool]] = [
        ("articles", ["site_id", "published"], False),
        ("articles", ["published"], False),
        ("articles", ["url"], False),
        ("pages", ["article_id"], False),
        ("pages", ["content_hash"], False),
        ("pages", ["site_id"], False),
        ("pages", ["fetched_url"], False),
        ("pages", ["seq"], True),
        ("versions", ["article_id"], False),
        ("versions", ["page_url", "version"], True),
        ("raw_pages", ["url"], False),
    ]
    for table, cols, unique in indexes:
        db[table].create_index(cols, unique=unique, if_not_exists=True)
    for ddl in (*DEDUP_DDL, *FTS_DDL):
        db.execute(ddl)


def _v2(db: sqlite_utils.Database) -> None:
    # The URL exactly as the crawler gave it: its "already archived?" check compares link strings.
    if "raw_url" not in db["pages"].columns_dict:
        db["pages"].add_column("raw_url", str)
    db["pages"].create_index(["raw_url"], if_not_exists=True)


def _v3(db: sqlite_utils.Database) -> None:
    # Filters and facets on a story's province, kind or year, newest first, without reading the story: in
    # the articles row they come after the text, which a million-story scan reads from overflow pages.
    db["articles"].create_index(["province", "published"], if_not_exists=True)
    db["articles"].create_index(["kind", "published"], if_not_exists=True)
    db["articles"].create_index(["published_year", "published"], if_not_exists=True)


# MIGRATIONS[n] brings a database from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3]


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version found before."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RuntimeError(f"archive schema v{found} is newer than this code (v{SCHEMA_VERSION})")
    db = sqlite_utils.Database(conn)
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](db)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
