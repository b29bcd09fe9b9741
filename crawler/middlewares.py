"""Downloader middlewares: per-site request counts and time spent, as the network saw them; site bounds.

It sits next to the downloader (after retries and redirects), so every HTTP exchange is counted once:
a retried page counts each try, a redirect counts each hop. The spider keeps the counts in its figures.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.response import get_meta_refresh
from w3lib.url import safe_url_string


class SiteFiguresMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteFiguresMiddleware:
        return cls(crawler)

    def _note(self, request: Request, answered: bool) -> None:
        spider: Any = self.crawler.spider
        if not hasattr(spider, "clock"):
            return
        # Scrapy's own robots.txt requests carry no site: their slot (set once they reached the downloader)
        # tells whose they are.
        site_id = request.meta.get("site_id") or spider.slot_sites.get(request.meta.get("download_slot"))
        if site_id is None:
            return
        spider.clock(site_id)
        if answered:
            spider.figures[site_id]["requests"] += 1

    def process_request(self, request: Request) -> None:
        self._note(request, answered=False)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        self._note(request, answered=True)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        # IgnoreRequest (robots.txt forbids it) never reached the network.
        self._note(request, answered=not isinstance(exception, IgnoreRequest))
        return None


class OffsiteRequest(IgnoreRequest):
    """A request for a host outside its site (never sent)."""


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host outside the site (not followed)."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to a URL of the same chain (not followed)."""


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class SiteBoundsMiddleware:
    """The crawl never leaves its configured sites.

    Scrapy's OffsiteMiddleware drops an off-site request without a word (a redirect to another site included:
    the page then vanishes from the crawl unrecorded) and lets ``dont_filter`` requests through. This one sits
    just outside RedirectMiddleware: a redirect to another host, or back into its own chain, fails the
    request with a reason the spider records (``redirect-offsite``, ``redirect-loop``); an on-site redirect
    of an article is followed even to a URL the dupefilter has seen (else it would be dropped silently).
    Any request for a host outside the site fails before it is sent.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteBoundsMiddleware:
        return cls(crawler)

    def _hosts(self, request: Request) -> set[str] | None:
        """The hosts the request may go to: its site's, else (Scrapy's robots.txt requests) every site's."""
        spider: Any = self.crawler.spider
        sites = getattr(spider, "sites", None)
        if not sites:
            return None
        site = sites.get(request.meta.get("site_id"))
        if site is not None:
            return set(site.hosts)
        return {host for s in sites.values() for host in s.hosts}

    def _allowed(self, url: str, hosts: set[str]) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return host in hosts or any(host.endswith("." + h) for h in hosts)

    def process_request(self, request: Request) -> None:
        hosts = self._hosts(request)
        if hosts is not None and not self._allowed(request.url, hosts):
            raise OffsiteRequest(f"{request.url} is outside the site")
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("dont_redirect"):
            return response
        target, refresh = self._redirect_target(request, response)
        if target is None:
            return response
        if refresh and urldefrag(target)[0] == urldefrag(request.url)[0]:
            # A page that reloads itself (portals do, every minute or so) is read as it is, not "redirected"
            # to itself: the dupefilter would drop that request and the page with it.
            request.meta["dont_redirect"] = True
            return response
        hosts = self._hosts(request)
        if hosts is None:
            return response
        if not self._allowed(target, hosts):
            raise OffsiteRedirect(f"redirected to another site: {target}")
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if urldefrag(target)[0] in {urldefrag(u)[0] for u in chain}:
            raise RedirectLoop("redirect loop: " + " -> ".join([*chain, target]))
        if request.meta.get("page_kind") in ("article", "recheck"):
            # RedirectMiddleware copies dont_filter to the redirected request: an article redirected to a URL
            # already fetched (a shortlink to its permalink, a dead story to the home page) is fetched and
            # recorded, not dropped by the dupefilter unrecorded. The host was checked just above.
            request.dont_filter = True
        return response

    def _redirect_target(self, request: Request, response: Response) -> tuple[str | None, bool]:
        """Where RedirectMiddleware or MetaRefreshMiddleware would send the request next, if anywhere, and
        whether by a meta refresh."""
        location = response.headers.get("Location")
        if response.status in REDIRECT_STATUSES and location:
            return urljoin(request.url, safe_url_string(location.decode("latin-1"))), False
        if isinstance(response, HtmlResponse) and self.crawler.settings.getbool("METAREFRESH_ENABLED"):
            interval, url = get_meta_refresh(response, self.crawler.settings.getlist("METAREFRESH_IGNORE_TAGS"))
            if url and interval is not None and interval < self.crawler.settings.getfloat("METAREFRESH_MAXDELAY"):
                return url, True
        return None, False
