"""The page item that travels from the spider through the pipelines: a plain dict.

It carries the raw response, so that extraction can be re-run later from what the archive keeps.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.http import Response


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def page_item(
    response: Response,
    *,
    site_id: str,
    listing_date: str | None,
    listing_url: str | None,
    sitemap_lastmod: str | None = None,
) -> dict[str, Any]:
    """An article page as fetched: the raw bytes and headers, with where it was found."""
    return {
        "url": response.url,
        "requested_url": _requested_url(response),
        "site_id": site_id,
        "status": response.status,
        "headers": _headers(response),
        "body": response.body,
        "encoding": getattr(response, "encoding", None),
        "fetched_at": now_iso(),
        "listing_date": listing_date,
        "listing_url": listing_url,
        "sitemap_lastmod": sitemap_lastmod,
    }


def failure_item(url: str, site_id: str, status: int, reason: str) -> dict[str, Any]:
    """An article URL that could not be fetched, recorded with its reason."""
    return {
        "url": url,
        "requested_url": url,
        "site_id": site_id,
        "status": status,
        "headers": {},
        "body": b"",
        "encoding": None,
        "fetched_at": now_iso(),
        "listing_date": None,
        "listing_url": None,
        "error": reason,
    }


def not_modified_item(url: str, site_id: str) -> dict[str, Any]:
    """A re-checked page that answered 304: the archived text stands, only the check is recorded."""
    return {"url": url, "site_id": site_id, "fetched_at": now_iso(), "not_modified": True}


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }


def _requested_url(response: Response) -> str:
    """The URL asked for, before any redirect (Scrapy's response.request is the last hop)."""
    request = response.request
    if request is None:
        return response.url
    return (request.meta.get("redirect_urls") or [request.url])[0]
