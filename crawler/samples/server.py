"""Serve the sample web: one HTTP server per site, each on its own loopback address, all on one port.

Command line: `python -m crawler serve-samples [--port N] [--site ID ...] [--write-config FILE]`.
In tests: `with SampleWeb(port=0, content_dir=...) as web: web.base_url("hungyen")`.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import re
import sys
import threading
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import datefmt, render
from .extras import render_extra
from .media import media_for
from .site import (
    DEFAULT_PORT,
    Article,
    SampleSite,
    article_from_dict,
    article_path,
    base_url,
    category_path,
    crawl_config_toml,
    home_path,
    liferay_portlet_id,
    load_sites,
    parse_published,
)


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- encodings

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _cp1258_char(ch: str) -> bytes:
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:
        pass
    decomposed = unicodedata.normalize("NFD", ch)
    tones = "".join(m for m in decomposed[1:] if m in _TONE_MARKS)
    base = unicodedata.normalize("NFC", decomposed[0] + "".join(m for m in decomposed[1:] if m not in _TONE_MARKS))
    return (base + tones).encode("cp1258", errors="xmlcharrefreplace")


class _Cp1258Table(dict[int, str]):
    """str.translate table: code point -> its windows-1258 bytes as latin-1 text, filled on first use."""

    def __missing__(self, code: int) -> str:
        value = _cp1258_char(chr(code)).decode("latin-1")
        self[code] = value
        return value


_CP1258_TABLE = _Cp1258Table()


def to_cp1258(text: str) -> bytes:
    """Encode Vietnamese in windows-1258: vowels with circumflex/breve/horn are single bytes there, tone marks
    are separate combining bytes, so each precomposed letter missing from the code page is split in two.
    (One translate per page: a character-by-character encode made each page cost milliseconds.)"""
    return unicodedata.normalize("NFC", text).translate(_CP1258_TABLE).encode("latin-1")


def encode_page(site: SampleSite, text: str) -> bytes:
    if site.encoding.lower() in ("windows-1258", "cp1258"):
        return to_cp1258(text)
    return text.encode(site.encoding)


def html_response(site: SampleSite, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, f"text/html; charset={site.encoding}", encode_page(site, text), headers or {})


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def not_modified(response: Response, etag: str, request_headers: Any) -> bool:
    """Whether a conditional GET may be answered 304. If-None-Match wins over If-Modified-Since (RFC 9110
    13.2.2), so a page edited without a new Last-Modified is still sent to a client that has an ETag."""
    if response.status != 200:
        return False
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [tag.strip() for tag in if_none_match.split(",")] or if_none_match.strip() == "*"
    since, modified = request_headers.get("If-Modified-Since"), response.headers.get("Last-Modified")
    if not since or not modified:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sample web saw it (tests count requests, check headers and measure pacing)."""

    site_id: str
    method: str
    path: str
    status: int
    headers: dict[str, str]
    started: float  # time.monotonic() when the request line was read
    finished: float  # ... and when the response was written


# --------------------------------------------------------------------------- routing


class SiteRouter:
    """Maps a request path (+ query) of one site to a response, in the site's family URL style."""

    def __init__(self, site: SampleSite, base: str) -> None:
        self.site = site
        self.base = base

    def respond(self, raw_path: str) -> Response:
        parts = urlsplit(raw_path)
        path, query = parts.path or "/", parse_qs(parts.query)
        for handler in (self._special, self._article, self._listing, self._home, self._extra, self._media):
            response = handler(path, query)
            if response is not None:
                return response
        return self.not_found(path)

    def not_found(self, path: str) -> Response:
        return html_response(self.site, render.render_not_found(self.site, self.base, path), status=404)

    def _redirect(self, location: str, status: int = 302) -> Response:
        body = f'<html><body>Object moved to <a href="{location}">here</a>.</body></html>'
        return Response(status, "text/html; charset=utf-8", body.encode(), {"Location": self.base + location})

    # robots, sitemaps, feeds and family-specific redirects
    def _special(self, path: str, query: dict[str, list[str]]) -> Response | None:
        site, base = self.site, self.base
        xml = "application/xml; charset=utf-8"
        if path == "/robots.txt":
            return Response(200, "text/plain; charset=utf-8", render.robots_txt(site, base).encode())
        if path == render.sitemap_path(site) and site.family != "wordpress":
            return Response(200, xml, render.sitemap_xml(site, base).encode())
        if site.family == "wordpress":
            return self._wordpress_special(path, query)
        if site.family == "nukeviet" and path == "/vi/news/rss/":
            return Response(200, "application/rss+xml; charset=utf-8", render.rss_xml(site, base).encode())
        if site.family == "tandan" and path in ("/", "/portal", "/portal/"):
            return self._redirect(home_path(site))
        return None

    def _wordpress_special(self, path: str, query: dict[str, list[str]]) -> Response | None:
        site, base = self.site, self.base
        xml = "application/xml; charset=utf-8"
        if path == "/sitemap_index.xml":
            return Response(200, xml, render.sitemap_index_xml(site, base).encode())
        if path == "/post-sitemap.xml":
            return Response(200, xml, render.post_sitemap_xml(site, base).encode())
        if path == "/category-sitemap.xml":
            return Response(200, xml, render.category_sitemap_xml(site, base).encode())
        if path == "/feed/":
            return Response(200, "application/rss+xml; charset=UTF-8", render.rss_xml(site, base).encode())
        if path == "/" and "p" in query:  # the shortlink /?p=ID redirects to the permalink
            article = self._by_id(query["p"][0])
            return self._redirect(article_path(site, article), 301) if article else None
        if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            # WordPress's canonical redirect adds the trailing slash.
            slashed = path + "/"
            if self._find_article(slashed) or self._category_page(slashed, query):
                return self._redirect(slashed, 301)
        return None

    def _by_id(self, value: str) -> Article | None:
        return next((a for a in self.site.articles if str(a.id) == value), None)

    def _find_article(self, path: str) -> Article | None:
        for article in self.site.articles:
            if article_path(self.site, article) == path:
                return article
        return None

    def _article(self, path: str, query: dict[str, list[str]]) -> Response | None:
        article = self._find_article(path)
        if article is None:
            return None
        html = render.render_article(self.site, article, self.base)
        headers = {"Last-Modified": http_date(_modified(article))}
        return html_response(self.site, html, headers=headers)

    def _listing(self, path: str, query: dict[str, list[str]]) -> Response | None:
        found = self._category_page(path, query)
        if found is None:
            return None
        cat_key, page, static_form = found
        html = render.render_listing(self.site, cat_key, page, self.base, static_form=static_form)
        return html_response(self.site, html) if html is not None else self.not_found(path)

    def _category_page(self, path: str, query: dict[str, list[str]]) -> tuple[str, int, bool] | None:
        """(category key, page number, VHV static form) when the path is a listing page."""
        site = self.site
        for cat in site.categories:
            base = category_path(site, cat.key)
            if site.family == "nukeviet":
                match = re.fullmatch(re.escape(base) + r"page-(\d+)", path)
                if match:
                    return cat.key, int(match.group(1)), False
            if site.family == "vhv":
                match = re.fullmatch(rf"/chuyen-muc-{re.escape(cat.key)}-c{cat.id}-(\d+)\.html", path)
                if match:
                    return cat.key, int(match.group(1)), True
            if site.family == "wordpress":
                match = re.fullmatch(re.escape(base) + r"page/(\d+)/", path)
                if match:
                    return cat.key, int(match.group(1)), False
            if path == base:
                return cat.key, self._query_page(cat.key, query), False
        return None

    def _query_page(self, cat_key: str, query: dict[str, list[str]]) -> int:
        family = self.site.family
        name = {"tandan": "PageIndex", "aspnet-ui": "page"}.get(family)
        if family == "liferay":
            name = f"_{liferay_portlet_id(self.site, self.site.category(cat_key))}_cur"
        value = query.get(name, ["1"])[0] if name else "1"
        return int(value) if value.isdigit() else 0

    def _home(self, path: str, query: dict[str, list[str]]) -> Response | None:
        homes = {home_path(self.site), "/"}
        if self.site.family == "nukeviet":
            homes |= {"/vi/", "/vi/news/", "/index.php"}
        if path in homes:
            return html_response(self.site, render.render_home(self.site, self.base))
        return None

    def _extra(self, path: str, query: dict[str, list[str]]) -> Response | None:
        html = render_extra(self.site, path, self.base)
        return html_response(self.site, html) if html is not None else None

    def _media(self, path: str, query: dict[str, list[str]]) -> Response | None:
        found = media_for(path)
        if found is None:
            return None
        content_type, body = found
        return Response(200, content_type, body, {"Cache-Control": "max-age=86400"})


def _modified(article: Article) -> datetime:
    modified = datefmt.modified_time(article)
    if modified is not None:
        return modified
    day = article.day
    return datetime(day.year, day.month, day.day, 8, 0, tzinfo=datefmt.VN_TZ)


# --------------------------------------------------------------------------- HTTP plumbing

LOOPBACK_CRAWLER_TOML = """
[crawler]
contact = "sample-web@example.org"
download_delay = 0.05
autothrottle_start_delay = 0.05
"""


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], web: SampleWeb, site_id: str) -> None:
        self.web = web
        self.site_id = site_id
        super().__init__(address, _Handler)


# Response headers each platform's servers send (fingerprints a crawler may log or use).
FAMILY_HEADERS: dict[str, dict[str, str]] = {
    "nukeviet": {"Server": "nginx", "X-Powered-By": "PHP/7.4.33"},
    "vhv": {"Server": "nginx"},
    "tandan": {
        "Server": "Microsoft-IIS/10.0",
        "X-Powered-By": "ASP.NET",
        "MicrosoftSharePointTeamServices": "15.0.0.4569",
        "X-AspNet-Version": "4.0.30319",
    },
    "liferay": {"Server": "Apache-Coyote/1.1", "Liferay-Portal": "Liferay Portal Community Edition 6.2 CE GA6"},
    "wordpress": {"Server": "Apache", "X-Powered-By": "PHP/8.1.27"},
    "aspnet-ui": {"Server": "Microsoft-IIS/10.0", "X-AspNet-Version": "4.0.30319", "X-Powered-By": "ASP.NET"},
}


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return FAMILY_HEADERS[self.server.web.sites[self.server.site_id].family]["Server"]

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(with_body=False)

    def _serve(self, with_body: bool) -> None:
        web, site_id = self.server.web, self.server.site_id
        started = web.request_started(site_id)
        status = 500
        try:
            status = self._answer(with_body)
        finally:
            web.request_finished(site_id, self.command, self.path, status, dict(self.headers.items()), started)

    def _answer(self, with_body: bool) -> int:
        try:
            response = self.server.web.respond(self.server.site_id, self.path)
        except Exception as exc:  # a template bug must show as a 500, not kill the thread silently
            response = Response(500, "text/plain; charset=utf-8", f"500 Internal Server Error: {exc!r}".encode())
            print(f"[serve-samples] error on {self.path}: {exc!r}", file=sys.stderr)
        etag = '"' + hashlib.sha1(response.body).hexdigest()[:16] + '"'
        if not_modified(response, etag, self.headers):
            response = Response(304, response.content_type, b"", {})
        self.send_response(response.status)
        family = self.server.web.sites[self.server.site_id].family
        for name, value in FAMILY_HEADERS[family].items():
            if name != "Server":  # send_response already sent it (version_string)
                self.send_header(name, value)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if response.status in (200, 304):
            self.send_header("ETag", etag)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body and response.body:
            self.wfile.write(response.body)
        return response.status

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
        if self.server.web.verbose:
            sys.stderr.write(f"[{self.server.site_id}] {self.address_string()} {format % args}\n")


class SampleWeb:
    """The six sample sites served in-process; a context manager.

    `port=0` picks a port free on every site address. Articles can be added, changed or removed while
    serving (incremental-crawl tests); added articles come first in listings and on the home page.
    `cache_pages=True` keeps every response rendered (until an article changes), so a benchmark measures the
    crawler and not the templates; `renders` counts the pages rendered.
    """

    def __init__(
        self,
        port: int = 0,
        content_dir: Path | str | None = None,
        *,
        site_ids: list[str] | None = None,
        web_toml: Path | str | None = None,
        verbose: bool = False,
        cache_pages: bool = False,
    ) -> None:
        sites = load_sites(web_toml, content_dir)
        unknown = set(site_ids or []) - {s.id for s in sites}
        if unknown:
            raise ValueError(f"unknown site ids: {', '.join(sorted(unknown))}")
        self.sites: dict[str, SampleSite] = {s.id: s for s in sites if not site_ids or s.id in site_ids}
        self.port = port
        self.verbose = verbose
        self._servers: list[_SiteServer] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.RLock()
        self._added = 0
        self.cache_pages = cache_pages
        self._pages: dict[tuple[str, str], Response] = {}
        self.renders = 0
        # Every request served, and the most requests a site ever had in flight at once (politeness tests).
        self.requests: list[RequestRecord] = []
        self.max_in_flight: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._log_lock = threading.Lock()

    # lifecycle
    def start(self) -> SampleWeb:
        if self._servers:
            return self
        self._bind_all()
        for server in self._servers:
            # A short poll interval keeps stop() quick (shutdown waits for the loop to notice).
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"sample-{server.site_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind_all(self) -> None:
        attempts = 30 if self.port == 0 else 1
        last_error: OSError | None = None
        for _ in range(attempts):
            servers: list[_SiteServer] = []
            port = self.port
            try:
                for site in self.sites.values():
                    server = _SiteServer((site.address, port), self, site.id)
                    port = server.server_address[1]
                    servers.append(server)
            except OSError as exc:
                last_error = exc
                for server in servers:
                    server.server_close()
                continue
            self.port = port
            self._servers = servers
            return
        raise OSError(f"cannot bind the sample sites on port {self.port}: {last_error}")

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> SampleWeb:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # addresses and configuration
    def base_url(self, site_id: str) -> str:
        return base_url(self.sites[site_id], self.port)

    def url(self, site_id: str, path: str = "/") -> str:
        return self.base_url(site_id) + path

    def article_url(self, site_id: str, article_id: int) -> str:
        site = self.sites[site_id]
        article = next(a for a in site.articles if a.id == article_id)
        return self.url(site_id, article_path(site, article))

    def config_toml(self) -> str:
        # Loopback answers in milliseconds: a short pace keeps tests and the demo quick. Real sites keep the
        # polite defaults of crawler/config.py.
        return crawl_config_toml(list(self.sites.values()), self.port) + LOOPBACK_CRAWLER_TOML

    def write_config(self, path: Path | str) -> Path:
        target = Path(path)
        target.write_text(self.config_toml(), encoding="utf-8")
        return target

    # serving
    def respond(self, site_id: str, raw_path: str) -> Response:
        with self._lock:  # renders see a consistent article list while tests change it
            cached = self._pages.get((site_id, raw_path))
            if cached is not None:
                return cached
            site = self.sites[site_id]
            response = SiteRouter(site, self.base_url(site_id)).respond(raw_path)
            self.renders += 1
            if self.cache_pages:
                self._pages[(site_id, raw_path)] = response
            return response

    # request log
    def request_started(self, site_id: str) -> float:
        with self._log_lock:
            self._in_flight[site_id] += 1
            self.max_in_flight[site_id] = max(self.max_in_flight[site_id], self._in_flight[site_id])
        return time.monotonic()

    def request_finished(
        self, site_id: str, method: str, path: str, status: int, headers: dict[str, str], started: float
    ) -> None:
        record = RequestRecord(site_id, method, path, status, headers, started, time.monotonic())
        with self._log_lock:
            self._in_flight[site_id] -= 1
            self.requests.append(record)

    def requests_of(self, site_id: str | None = None) -> list[RequestRecord]:
        with self._log_lock:
            return [r for r in self.requests if site_id is None or r.site_id == site_id]

    def clear_requests(self) -> None:
        with self._log_lock:
            self.requests.clear()
            self.max_in_flight.clear()

    # run-time changes
    def add_article(self, site_id: str, data: dict[str, Any]) -> str:
        """Publish an article (content-file schema); it appears first in listings. Returns its URL."""
        with self._lock:
            self._pages.clear()
            site = self.sites[site_id]
            self._added += 1
            article = article_from_dict(data, site, added_seq=self._added)
            site.articles = [a for a in site.articles if a.id != article.id] + [article]
            return self.url(site_id, article_path(site, article))

    def update_article(self, site_id: str, article_id: int, **changes: Any) -> str:
        """Edit an article in place (a new version for the crawler). Returns its URL."""
        with self._lock:
            self._pages.clear()
            site = self.sites[site_id]
            index = next(i for i, a in enumerate(site.articles) if a.id == article_id)
            if "published" in changes:
                changes["published"] = parse_published(changes["published"])
            site.articles[index] = dataclasses.replace(site.articles[index], **changes)
            return self.url(site_id, article_path(site, site.articles[index]))

    def remove_article(self, site_id: str, article_id: int) -> None:
        with self._lock:
            self._pages.clear()
            site = self.sites[site_id]
            site.articles = [a for a in site.articles if a.id != article_id]


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve-samples", description="Serve the six sample sites on loopback.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port for every site (0: any free one)")
    parser.add_argument("--site", action="append", dest="sites", metavar="ID", help="serve only this site (repeat)")
    parser.add_argument("--content-dir", type=Path, default=None, help="directory of <site-id>.toml content files")
    parser.add_argument("--write-config", type=Path, metavar="FILE", help="write a crawl config for the served sites")
    parser.add_argument("--config-only", action="store_true", help="with --write-config: write it and exit")
    parser.add_argument("--verbose", "-v", action="store_true", help="log requests to stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        web = SampleWeb(port=args.port, content_dir=args.content_dir, site_ids=args.sites, verbose=args.verbose)
    except ValueError as exc:
        print(f"serve-samples: {exc}", file=sys.stderr)
        return 2
    if args.config_only:
        if not args.write_config or args.port == 0:
            print("serve-samples: --config-only needs --write-config and a fixed --port", file=sys.stderr)
            return 2
        web.write_config(args.write_config)
        return 0
    try:
        web.start()
    except OSError as exc:
        print(f"serve-samples: {exc}", file=sys.stderr)
        return 1
    if args.write_config:
        web.write_config(args.write_config)
        print(f"crawl config written to {args.write_config}", file=sys.stderr)
    for site_id, site in web.sites.items():
        print(
            f"{site_id:14} {site.family:10} {web.base_url(site_id)}/  ({len(site.articles)} articles)", file=sys.stderr
        )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
