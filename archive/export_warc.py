"""``--format warc``: the stored raw responses as WARC request/response pairs (warcio), for replay tools.

``raw_pages`` keeps each response's status, headers and body (zlib) as the crawler received them. A response
record carries the HTTP status line, the headers and the body; WARC-Target-URI is the URL as the crawler
requested it and WARC-Date the fetch time. The crawler did not keep its request headers: the request record is
the request line and Host, which is what replay tools index on. Bodies are stored decoded (Scrapy removes
gzip/br), so Content-Encoding/Transfer-Encoding are dropped and Content-Length is the stored body's length.
Cookies and credentials are never written: a dump must carry no session of the crawler.

Without filters every capture is written (rejected pages too: they are part of the crawl record); with
filters, the captures of every page of the selected stories.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .export import Coverage, Written, selection
from .export_progress import Progress
from .search import Filters

# Headers a dump must not carry (credentials, sessions), and those that no longer describe the stored body.
DROP_HEADERS = {"set-cookie", "set-cookie2", "cookie", "authorization", "proxy-authorization"}
BODY_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
SOFTWARE = "vn-gov-news-archive (python -m archive export --format warc)"


def _captures_where(filters: Filters) -> tuple[str, list[Any]]:
    if not filters:
        return "", []
    where, params = selection(filters)
    sql = f"WHERE r.url IN (SELECT p.fetched_url FROM pages p JOIN articles a ON a.id = p.article_id {where})"
    return sql, params


def count_captures(conn: sqlite3.Connection, filters: Filters) -> int:
    where, params = _captures_where(filters)
    return conn.execute(f"SELECT count(*) FROM raw_pages r {where}", params).fetchone()[0]


def warc_date(iso: str | None) -> str | None:
    """'2026-11-21T23:56:47+00:00' -> '2026-11-21T23:56:47Z' (WARC dates are UTC with a Z)."""
    if not iso:
        return None
    from datetime import UTC, datetime

    value = datetime.fromisoformat(iso)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def http_headers(stored: str | None, body_length: int) -> list[tuple[str, str]]:
    """Response headers for the record, from the stored JSON (values may be strings or lists)."""
    try:
        headers = json.loads(stored or "{}")
    except ValueError:
        headers = {}
    out: list[tuple[str, str]] = []
    items = headers.items() if isinstance(headers, dict) else headers
    for name, value in items:
        if name.lower() in DROP_HEADERS or name.lower() in BODY_HEADERS:
            continue
        for one in value if isinstance(value, list) else [value]:
            out.append((str(name), str(one)))
    out.append(("Content-Length", str(body_length)))
    return out


def status_line(status: int | None) -> str:
    status = status or 200
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"{status} {reason}"


def write_warc(conn: sqlite3.Connection, filters: Filters, path: Path, progress: Progress, gz: bool) -> Written:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    where, params = _captures_where(filters)
    cur = conn.execute(
        "SELECT r.id, r.url, r.fetched_at, r.status, r.headers, r.body, r.compression, r.crawl_id, "
        "coalesce((SELECT p.raw_url FROM pages p WHERE p.fetched_url = r.url LIMIT 1), r.url) AS target "
        f"FROM raw_pages r {where} ORDER BY r.id",
        params,
    )
    coverage = Coverage()
    rows = 0
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=gz)
        info = {
            "software": SOFTWARE,
            "format": "WARC File Format 1.0",
            "description": "Raw responses archived by the Vietnamese provincial news crawler",
            "filters": json.dumps(filters.as_dict(), ensure_ascii=False),
        }
        writer.write_record(writer.create_warcinfo_record(path.name.removesuffix(".partial"), info))
        while batch := cur.fetchmany(200):
            for r in batch:
                body = r["body"] or b""
                if r["compression"] == "zlib":
                    body = zlib.decompress(body)
                date = warc_date(r["fetched_at"])
                rec_headers = {"WARC-Date": date} if date else {}
                response = writer.create_warc_record(
                    r["target"],
                    "response",
                    payload=BytesIO(body),
                    length=len(body),
                    warc_headers_dict=rec_headers,
                    http_headers=StatusAndHeaders(
                        status_line(r["status"]), http_headers(r["headers"], len(body)), protocol="HTTP/1.1"
                    ),
                )
                parts = urlsplit(r["target"])
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                request = writer.create_warc_record(
                    r["target"],
                    "request",
                    http_headers=StatusAndHeaders(
                        f"GET {target} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True
                    ),
                )
                # response first: replay tools look the response up, the request points to it
                writer.write_request_response_pair(request, response)
                rows += 1
                coverage.see(r["fetched_at"], r["fetched_at"])
                progress.update()
    return Written(rows, coverage, {"records": {"warcinfo": 1, "request": rows, "response": rows}})
