"""Dumps of the archive for research: ``python -m archive export --format jsonl|csv|parquet|sqlite|warc``.

Everything streams: stories are read with one cursor in batches (their sightings with one query per batch)
and written as they come, so memory stays flat whatever the archive's size. All reads run in one read
transaction: the dump is a consistent snapshot even while a crawl writes (WAL).

A tabular row (jsonl, csv, parquet) is one story: its canonical copy's fields, the site's metadata, and
every sighting (each page of any site where the story was seen). Filters (``search.Filters``) select
stories by their canonical copy. ``sqlite`` writes an archive file Datasette opens as it is (see
export_sqlite.py); ``warc`` writes the stored raw responses (export_warc.py). Each dump gets a Frictionless
``datapackage.json`` next to it (manifest.py).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .export_progress import Progress
from .search import Filters

FORMATS = ("jsonl", "csv", "parquet", "sqlite", "warc")
BATCH = 500  # stories per read batch (and per sightings query)
PARQUET_ROW_GROUP = 5000  # rows buffered before a Parquet row group is written: bounds memory


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Frictionless Table Schema type
    description: str
    arrow: str = "string"  # key of ARROW_TYPES


# The columns of a tabular dump, in order. Times are kept as stored (ISO 8601 strings with their offset);
# ``published`` is a date or a date-time depending on what the page gave.
STORY_FIELDS: tuple[Field, ...] = (
    Field("id", "integer", "Story id in the archive (articles.id)", "int64"),
    Field("url", "string", "Canonical URL: the story's canonical copy", "string"),
    Field("site_id", "string", "Site of the canonical copy"),
    Field("site_name", "string", "Name of that site"),
    Field("province", "string", "Province of that site"),
    Field("kind", "string", "Kind of that site: government, front (MTTQ) or party"),
    Field("site_family", "string", "CMS family of that site"),
    Field("site_domains", "array", "Host names of that site", "list_string"),
    Field("title", "string", "Title"),
    Field("lead", "string", "Lead paragraph (also the first paragraph of body)"),
    Field("body", "string", "Text: paragraphs separated by a blank line"),
    Field("author", "string", "Byline"),
    Field("source", "string", "Source line (\"Theo ...\")"),
    Field("category", "string", "Category on the site"),
    Field("published", "string", "Publication date: ISO 8601 date or date-time with offset"),
    Field("published_year", "integer", "Year of publication", "int32"),
    Field("published_raw", "string", "The date as written on the page"),
    Field("published_source", "string", "Where the date was found (visible, meta, jsonld, url, ...)"),
    Field("updated", "string", "Last update date given by the page"),
    Field("first_seen", "datetime", "First fetch of any copy (UTC)"),
    Field("last_seen", "datetime", "Last fetch of any copy (UTC)"),
    Field("version_count", "integer", "Versions of the canonical copy's text", "int32"),
    Field("page_count", "integer", "Pages (sightings) of the story", "int32"),
    Field("view_count", "integer", "View counter shown by the page", "int64"),
    Field("images", "array", "Images: objects with src and caption", "list_image"),
    Field("attachments", "array", "Attached files: objects with url and title", "list_attachment"),
    Field("family", "string", "CMS family detected on the canonical page"),
    Field("method", "string", "Extraction method: site, profile:<family> or generic"),
    Field("body_hash", "string", "Exact-duplicate key of the text"),
    Field("sighting_urls", "array", "URL of every page where the story was seen", "list_string"),
    Field(
        "sightings",
        "array",
        "Every page of the story: objects with url, raw_url, site_id, canonical, published, first_fetched, "
        "fetched_at, status, gone, version",
        "list_sighting",
    ),
)
FIELD_NAMES = tuple(f.name for f in STORY_FIELDS)

ARTICLE_COLUMNS = (
    "id, url, site_id, province, kind, title, lead, body, author, source, category, published, published_year, "
    "published_raw, published_source, updated, first_seen, last_seen, version_count, page_count, view_count, "
    "images, attachments, family, method, body_hash"
)
SIGHTING_COLUMNS = (
    "url",
    "raw_url",
    "site_id",
    "canonical",
    "published",
    "first_fetched",
    "fetched_at",
    "status",
    "gone",
    "version",
)


@dataclass
class Coverage:
    """Dates a dump covers, gathered while it is written."""

    first_fetched: str | None = None
    last_fetched: str | None = None
    earliest_published: str | None = None
    latest_published: str | None = None

    def see(self, first: str | None, last: str | None, published: str | None = None) -> None:
        if first and (self.first_fetched is None or first < self.first_fetched):
            self.first_fetched = first
        if last and (self.last_fetched is None or last > self.last_fetched):
            self.last_fetched = last
        if published:
            if self.earliest_published is None or published < self.earliest_published:
                self.earliest_published = published
            if self.latest_published is None or published > self.latest_published:
                self.latest_published = published

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.__dict__)


@dataclass
class Written:
    """What a format writer reports back."""

    rows: int
    coverage: Coverage
    details: dict[str, Any] = field(default_factory=dict)  # e.g. per-table counts, WARC record counts


@dataclass
class ExportResult:
    path: Path
    format: str
    rows: int
    bytes: int
    sha256: str
    manifest: Path
    seconds: float
    coverage: dict[str, Any]
    details: dict[str, Any]


# --------------------------------------------------------------------------------------------- reading


def open_readonly(db: str | Path) -> sqlite3.Connection:
    """A read-only connection to an archive file (no write can happen through it)."""
    path = Path(db)
    if not path.is_file():
        raise FileNotFoundError(f"no such archive: {path}")
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One read transaction: every query inside sees the same state of the archive."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


def selection(filters: Filters, alias: str = "a", schema: str = "") -> tuple[str, list[Any]]:
    """``WHERE ...`` (or '') selecting stories, with its parameters."""
    conds, params = filters.where(alias, schema)
    return ("WHERE " + " AND ".join(conds) if conds else ""), params


def count_stories(conn: sqlite3.Connection, filters: Filters) -> int:
    where, params = selection(filters)
    return conn.execute(f"SELECT count(*) FROM articles a {where}", params).fetchone()[0]


def load_sites(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    sites = {}
    for row in conn.execute("SELECT id, name, family, domains FROM sites"):
        sites[row["id"]] = {
            "site_name": row["name"],
            "site_family": row["family"],
            "site_domains": json.loads(row["domains"] or "[]"),
        }
    return sites


def _objects(text: str | None, keys: tuple[str, str]) -> list[dict[str, Any]]:
    """A stored JSON list of objects, reduced to ``keys`` so every format has the same shape."""
    if not text or text == "[]":  # most stories: no need to parse
        return []
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    return [{k: item.get(k) for k in keys} for item in items if isinstance(item, dict)]


def _sightings(conn: sqlite3.Connection, urls: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """Every page of the stories ``urls`` (id -> canonical URL), in arrival order."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in urls}
    sql = (
        "SELECT article_id, url, raw_url, site_id, NULL, published, first_fetched, fetched_at, status, gone, "
        f"version FROM pages WHERE article_id IN ({', '.join('?' * len(urls))}) ORDER BY article_id, seq"
    )
    for row in conn.execute(sql, list(urls)):
        item = dict(zip(SIGHTING_COLUMNS, tuple(row)[1:], strict=True))
        item["canonical"] = item["url"] == urls[row[0]]
        item["gone"] = bool(item["gone"])
        out[row[0]].append(item)
    return out


def iter_stories(conn: sqlite3.Connection, filters: Filters, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Stories as export rows (fields in ``STORY_FIELDS`` order), by id. Call inside ``snapshot``."""
    sites = load_sites(conn)
    no_site = {"site_name": None, "site_family": None, "site_domains": []}
    where, params = selection(filters)
    cur = conn.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles a {where} ORDER BY a.id", params)
    # a second cursor on the same connection reads sightings while the first one is open
    side = conn.cursor()
    while True:
        rows = cur.fetchmany(batch)
        if not rows:
            return
        sightings = _sightings(side, {r["id"]: r["url"] for r in rows})
        for r in rows:
            story = dict(r)
            story.update(sites.get(r["site_id"], no_site))
            story["images"] = _objects(r["images"], ("src", "caption"))
            story["attachments"] = _objects(r["attachments"], ("url", "title"))
            seen = sightings[r["id"]]
            story["sighting_urls"] = [s["url"] for s in seen]
            story["sightings"] = seen
            yield {name: story.get(name) for name in FIELD_NAMES}


# --------------------------------------------------------------------------------------------- writers


def _open_text(path: Path, gz: bool) -> IO[str]:
    if gz:
        return gzip.open(path, "wt", encoding="utf-8", newline="", compresslevel=6)
    return open(path, "w", encoding="utf-8", newline="")


def _tabular(
    conn: sqlite3.Connection, filters: Filters, progress: Progress, emit: Callable[[dict[str, Any]], None]
) -> Written:
    coverage = Coverage()
    rows = 0
    for story in iter_stories(conn, filters):
        emit(story)
        rows += 1
        coverage.see(story["first_seen"], story["last_seen"], story["published"])
        progress.update()
    return Written(rows, coverage)


def write_jsonl(conn: sqlite3.Connection, filters: Filters, path: Path, progress: Progress, gz: bool) -> Written:
    with _open_text(path, gz) as fh:
        return _tabular(conn, filters, progress, lambda s: fh.write(json.dumps(s, ensure_ascii=False) + "\n"))


def csv_value(value: Any) -> Any:
    """Lists and objects as JSON text: the lexical form of Frictionless ``array``/``object`` fields."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(conn: sqlite3.Connection, filters: Filters, path: Path, progress: Progress, gz: bool) -> Written:
    with _open_text(path, gz) as fh:
        writer = csv.writer(fh)  # RFC 4180: quoted fields keep the body's newlines
        writer.writerow(FIELD_NAMES)
        return _tabular(conn, filters, progress, lambda s: writer.writerow([csv_value(v) for v in s.values()]))


def arrow_schema() -> Any:
    import pyarrow as pa

    string = pa.string()
    types = {
        "string": string,
        "int32": pa.int32(),
        "int64": pa.int64(),
        "list_string": pa.list_(string),
        "list_image": pa.list_(pa.struct([("src", string), ("caption", string)])),
        "list_attachment": pa.list_(pa.struct([("url", string), ("title", string)])),
        "list_sighting": pa.list_(
            pa.struct(
                [
                    ("url", string),
                    ("raw_url", string),
                    ("site_id", string),
                    ("canonical", pa.bool_()),
                    ("published", string),
                    ("first_fetched", string),
                    ("fetched_at", string),
                    ("status", pa.int32()),
                    ("gone", pa.bool_()),
                    ("version", pa.int32()),
                ]
            )
        ),
    }
    return pa.schema([pa.field(f.name, types[f.arrow]) for f in STORY_FIELDS])


def write_parquet(conn: sqlite3.Connection, filters: Filters, path: Path, progress: Progress, gz: bool) -> Written:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    buffer: list[dict[str, Any]] = []
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:

        def flush() -> None:
            if buffer:
                writer.write_table(pa.Table.from_pylist(buffer, schema=schema))
                buffer.clear()

        def emit(story: dict[str, Any]) -> None:
            buffer.append(story)
            if len(buffer) >= PARQUET_ROW_GROUP:
                flush()

        written = _tabular(conn, filters, progress, emit)
        flush()
    return written


TABULAR = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


# ---------------------------------------------------------------------------------------------- export


def sha256_of(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export(
    db: str | Path,
    fmt: str,
    out: str | Path,
    filters: Filters | None = None,
    progress: bool | None = None,
    command: list[str] | None = None,
) -> ExportResult:
    """Write a dump of ``db`` in ``fmt`` to ``out`` and its manifest (``datapackage.json`` in the same
    folder). ``progress``: draw a bar on stderr (None: only when stderr is a terminal). ``command`` is
    recorded in the manifest. The file appears under its name only once complete (written as .partial)."""
    from .manifest import write_manifest

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    filters = filters or Filters()
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out must be a file name, {out} is a folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    gz = out.suffix == ".gz"
    if gz and fmt in ("parquet", "sqlite"):
        raise ValueError(f"{fmt} files are not gzipped (.gz is for jsonl, csv and warc)")
    started = time.monotonic()
    conn = open_readonly(db)
    try:
        if fmt == "sqlite":
            from .export_sqlite import write_sqlite

            written = write_sqlite(conn, Path(db), filters, partial, progress)
        else:
            with snapshot(conn):
                if fmt == "warc":
                    from .export_warc import count_captures, write_warc

                    total = count_captures(conn, filters)
                    with Progress("warc", total, "captures", enabled=progress) as bar:
                        written = write_warc(conn, filters, partial, bar, gz)
                else:
                    total = count_stories(conn, filters)
                    with Progress(fmt, total, enabled=progress) as bar:
                        written = TABULAR[fmt](conn, filters, partial, bar, gz)
                written.details["crawls"] = crawl_summary(conn)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    os.replace(partial, out)
    seconds = time.monotonic() - started
    result = ExportResult(
        path=out,
        format=fmt,
        rows=written.rows,
        bytes=out.stat().st_size,
        sha256=sha256_of(out),
        manifest=out.parent / "datapackage.json",
        seconds=seconds,
        coverage=written.coverage.as_dict(),
        details=written.details,
    )
    write_manifest(result, filters, command)
    return result


def crawl_summary(conn: sqlite3.Connection) -> dict[str, Any]:
    """The crawls recorded in the archive: how many, first start, last finish."""
    sql = "SELECT count(*), min(started_at), max(coalesce(finished_at, started_at)) FROM crawls"
    row = conn.execute(sql).fetchone()
    return {"count": row[0], "first_started": row[1], "last_finished": row[2]}
