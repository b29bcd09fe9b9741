"""``--format sqlite``: a consistent snapshot of the archive that Datasette (or ``python -m archive``) opens as is.

Without filters: ``VACUUM INTO``, SQLite's own consistent, compacted copy (it reads one snapshot even while a
crawl writes). With filters: a new file with the source's exact schema (tables, FTS, indexes, user_version),
filled by ``INSERT ... SELECT`` from the attached source inside one transaction, so every table comes from
the same snapshot. It keeps the selected stories and what belongs to them (pages, versions, raw responses,
dedup signatures, search index) and every site, crawl and meta row. Either way the file ends in rollback
journal mode: a single file, no -wal/-shm needed to open it.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .export import Coverage, Written, crawl_summary, selection
from .export_progress import Progress
from .search import Filters

FTS_SHADOW = ("_data", "_idx", "_content", "_docsize", "_config")


def write_sqlite(
    conn: sqlite3.Connection, src_path: Path, filters: Filters, out: Path, progress: bool | None
) -> Written:
    out.unlink(missing_ok=True)  # VACUUM INTO refuses an existing file; a stale .partial is ours to replace
    if filters:
        _filtered_copy(src_path, filters, out, progress)
    else:
        _vacuum_into(conn, src_path, out, progress)
    return _describe(out)


def _vacuum_into(conn: sqlite3.Connection, src_path: Path, out: Path, progress: bool | None) -> None:
    # one statement, no callback: a thread watches the output grow towards the source's size
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    total = conn.execute("PRAGMA page_count").fetchone()[0] * page_size
    done = threading.Event()

    with Progress("sqlite", total, "bytes", enabled=progress) as bar:

        def watch() -> None:
            while not done.wait(0.25):
                if out.exists():
                    bar.set(out.stat().st_size)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            conn.execute("VACUUM INTO ?", (str(out),))
        finally:
            done.set()
            watcher.join()
        bar.set(out.stat().st_size)


def _uri(path: Path, mode: str) -> str:
    return f"file:{quote(str(path.resolve()))}?mode={mode}"


def _shadow_names(master: list[sqlite3.Row]) -> set[str]:
    virtual = [
        r["name"] for r in master if r["type"] == "table" and (r["sql"] or "").upper().startswith("CREATE VIRTUAL")
    ]
    return {v + suffix for v in virtual for suffix in FTS_SHADOW}


def _external_content(sql: str) -> bool:
    """Whether an FTS5 table indexes another table's rows (content='...'): then it is rebuilt, not copied."""
    m = re.search(r"content\s*=\s*'([^']*)'", sql, re.IGNORECASE)
    return bool(m and m.group(1))


def _filtered_copy(src_path: Path, filters: Filters, out: Path, progress: bool | None) -> None:
    dst = sqlite3.connect(_uri(out, "rwc"), uri=True, isolation_level=None)
    dst.row_factory = sqlite3.Row
    try:
        # the file is renamed into place only once complete: no journal needed while it is built
        dst.execute("PRAGMA journal_mode = OFF")
        dst.execute("PRAGMA synchronous = OFF")
        dst.execute("ATTACH DATABASE ? AS src", (_uri(src_path, "ro"),))
        dst.execute("BEGIN")
        master = list(dst.execute("SELECT type, name, tbl_name, sql FROM src.sqlite_master WHERE sql IS NOT NULL"))
        shadows = _shadow_names(master)
        tables = [r for r in master if r["type"] == "table" and not r["name"].startswith("sqlite_")]
        tables = [r for r in tables if r["name"] not in shadows]
        steps = len(tables) + 2
        with Progress("sqlite", steps, "steps", enabled=progress) as bar:
            for r in tables:
                dst.execute(r["sql"])
            where, params = selection(filters, "a", "src.")
            dst.execute("CREATE TEMP TABLE keep (id INTEGER PRIMARY KEY)")
            dst.execute(f"INSERT INTO temp.keep SELECT a.id FROM src.articles a {where}", params)
            bar.update()
            plain = [r for r in tables if not r["sql"].upper().startswith("CREATE VIRTUAL")]
            # articles and pages first: raw_pages are chosen by the copied pages' URLs
            plain.sort(key=lambda r: {"articles": 0, "pages": 1}.get(r["name"], 2))
            for r in plain:
                _copy_table(dst, r["name"])
                bar.update()
            for r in tables:
                if r["sql"].upper().startswith("CREATE VIRTUAL"):
                    _copy_virtual(dst, r["name"], r["sql"])
                    bar.update()
            for r in master:
                if r["type"] in ("index", "view", "trigger") and r["tbl_name"] not in shadows:
                    dst.execute(r["sql"])
            version = dst.execute("PRAGMA src.user_version").fetchone()[0]
            dst.execute(f"PRAGMA main.user_version = {int(version)}")
            dst.execute("COMMIT")
            bar.update()
        dst.execute("DETACH DATABASE src")
    finally:
        dst.close()


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [r["name"] for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]


def _copy_table(dst: sqlite3.Connection, table: str) -> None:
    cols = _columns(dst, "main", table)
    quoted = ", ".join(f'"{c}"' for c in cols)
    if table == "articles":
        where = "WHERE id IN (SELECT id FROM temp.keep)"
    elif "article_id" in cols:  # pages, versions, dedup signatures and bands: those of the kept stories
        where = "WHERE article_id IN (SELECT id FROM temp.keep)"
    elif table == "raw_pages":
        where = "WHERE url IN (SELECT fetched_url FROM main.pages)"
    else:  # sites, crawls, meta, and any table this code does not know: every row
        where = ""
    dst.execute(f'INSERT INTO main."{table}" ({quoted}) SELECT {quoted} FROM src."{table}" {where}')


def _copy_virtual(dst: sqlite3.Connection, table: str, sql: str) -> None:
    if _external_content(sql):
        dst.execute(f"INSERT INTO main.\"{table}\" (\"{table}\") VALUES ('rebuild')")
        return
    cols = ", ".join(f'"{c}"' for c in _columns(dst, "main", table))
    # the archive's own-content FTS tables are keyed by article id
    where = "WHERE rowid IN (SELECT id FROM temp.keep)" if table.startswith("articles") else ""
    dst.execute(f'INSERT INTO main."{table}" (rowid, {cols}) SELECT rowid, {cols} FROM src."{table}" {where}')


def _describe(out: Path) -> Written:
    """Set the snapshot to rollback-journal mode and count what it holds."""
    conn = sqlite3.connect(str(out), isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        master = list(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE type = 'table'"))
        skip = _shadow_names(master)
        names = [
            r["name"]
            for r in master
            if not r["name"].startswith("sqlite_")
            and r["name"] not in skip
            and not (r["sql"] or "").upper().startswith("CREATE VIRTUAL")
        ]
        tables = {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}
        coverage = Coverage()
        row = conn.execute(
            "SELECT min(first_fetched), max(fetched_at) FROM pages WHERE article_id IS NOT NULL"
        ).fetchone()
        coverage.see(row[0], row[1])
        row = conn.execute("SELECT min(published), max(published) FROM articles").fetchone()
        coverage.see(None, None, row[0])
        coverage.see(None, None, row[1])
        details: dict[str, Any] = {"tables": tables, "crawls": crawl_summary(conn)}
        return Written(tables.get("articles", 0), coverage, details)
    finally:
        conn.close()
