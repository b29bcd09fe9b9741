"""The news spider: from each site's start URLs, through listings and their pagination, to article pages.

One spider crawls every configured site; Scrapy gives each host its own download slot, so the per-site
politeness settings (one request at a time, the site's delay) apply per site.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.config import CrawlerOptions, Site
from crawler.discovery import (
    Link,
    Rules,
    feed_items,
    feed_urls,
    page_links,
    robots_sitemaps,
    rules_for,
    sitemap_entries,
)
from crawler.items import failure_item, page_item

MAX_SITEMAPS_PER_SITE = 50


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        sites: list[Site],
        options: CrawlerOptions,
        known_urls: dict[str, set[str]] | None = None,
        backfill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sites = {s.id: s for s in sites}
        self.options = options
        self.known = known_urls or {}
        self.backfill = backfill
        self.allowed_domains = sorted({h for s in sites for h in s.hosts})
        self.families: dict[str, str | None] = {s.id: s.family for s in sites}
        self.requested: Counter[str] = Counter()
        self.listing_pages: Counter[str] = Counter()
        self.figures: dict[str, Counter[str]] = defaultdict(Counter)
        self.listing_dates: dict[str, str] = {}
        self.feeds_seen: set[str] = set()
        self.started = datetime.now(UTC)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for site in self.sites.values():
            for url in site.start_urls:
                request = self._listing_request(site, url)
                if request is not None:
                    yield request
        # Sitemaps come after the listings: a listing gives each article the date printed beside it.
        for site in self.sites.values():
            for root in dict.fromkeys(_root(url) for url in site.start_urls):
                yield scrapy.Request(
                    urljoin(root, "/robots.txt"),
                    callback=self.parse_robots,
                    errback=self.quiet,
                    priority=-5,
                    meta={"site_id": site.id, "page_kind": "robots"},
                )

    # -- listings ---------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Any:
        site = self.sites[response.meta["site_id"]]
        self.figures[site.id]["listing_pages"] += 1
        if not hasattr(response, "text"):
            return
        rules = self._rules(site, response)
        yield from self._feed_requests(site, response)
        links = page_links(response.text, response.url, rules, site.hosts)
        articles = [link for link in links if link.kind == "article"]
        for link in articles:
            if link.listing_date:
                self.listing_dates.setdefault(link.url, link.listing_date)
        fresh = [link for link in articles if link.url not in self.known.get(site.id, set())]
        for link in fresh:
            request = self._article_request(site, link, response.url)
            if request is not None:
                yield request
        # A nightly run stops paging once a listing page holds only stories it already has.
        exhausted = bool(articles) and not fresh and not self.backfill
        for link in links:
            if link.kind == "listing" or (link.kind == "pagination" and not exhausted):
                request = self._listing_request(site, link.url)
                if request is not None:
                    yield request

    # -- sitemaps and feeds -----------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Any:
        site = self.sites[response.meta["site_id"]]
        text = response.text if hasattr(response, "text") else ""
        sitemaps = robots_sitemaps(text, response.url) or [urljoin(response.url, "/sitemap.xml")]
        for url in sitemaps:
            yield self._sitemap_request(site, url)

    def parse_sitemap(self, response: Response) -> Any:
        site = self.sites[response.meta["site_id"]]
        rules = rules_for(site, self.families.get(site.id))
        for entry in sitemap_entries(response.body):
            if (urlsplit(entry.url).hostname or "") not in site.hosts:
                continue  # a sitemap never leads the crawl off its site
            if entry.is_sitemap:
                if self.figures[site.id]["sitemaps"] < MAX_SITEMAPS_PER_SITE:
                    yield self._sitemap_request(site, entry.url)
            elif rules.classify(entry.url) == "article" and entry.url not in self.known.get(site.id, set()):
                request = self._article_request(site, Link(entry.url, "article"), response.url, priority=-10)
                if request is not None:
                    request.meta["sitemap_lastmod"] = entry.lastmod
                    yield request

    def parse_feed(self, response: Response) -> Any:
        site = self.sites[response.meta["site_id"]]
        rules = rules_for(site, self.families.get(site.id))
        for url, date in feed_items(response.body):
            url = urljoin(response.url, url)
            if (urlsplit(url).hostname or "") not in site.hosts or url in self.known.get(site.id, set()):
                continue
            if rules.classify(url) == "article":
                request = self._article_request(site, Link(url, "article", date), response.url)
                if request is not None:
                    yield request

    def _feed_requests(self, site: Site, response: Response) -> Any:
        for url in feed_urls(response.text, response.url):
            if url in self.feeds_seen or (urlsplit(url).hostname or "") not in site.hosts:
                continue
            self.feeds_seen.add(url)
            yield scrapy.Request(
                url, callback=self.parse_feed, errback=self.quiet, meta={"site_id": site.id, "page_kind": "feed"}
            )

    def _sitemap_request(self, site: Site, url: str) -> scrapy.Request:
        self.figures[site.id]["sitemaps"] += 1
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.quiet,
            priority=-5,
            meta={"site_id": site.id, "page_kind": "sitemap"},
        )

    def quiet(self, failure: Failure) -> None:
        """A missing robots.txt, sitemap or feed is common and not an error of the site."""
        self.logger.info("%s: %s", failure.request.url, failure.getErrorMessage()[:200])

    def _rules(self, site: Site, response: Response) -> Rules:
        if site.id not in self.families or self.families[site.id] is None:
            self.families[site.id] = _detect_family(response.text)
        return rules_for(site, self.families[site.id])

    # -- articles ---------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Any:
        site_id = response.meta["site_id"]
        self.figures[site_id]["fetched"] += 1
        if response.status >= 400:
            self.figures[site_id][f"error:http-{response.status}"] += 1
            yield failure_item(response.url, site_id, response.status, f"http {response.status}")
            return
        yield page_item(
            response,
            site_id=site_id,
            listing_date=response.meta.get("listing_date") or self.listing_dates.get(response.url),
            listing_url=response.meta.get("listing_url"),
            sitemap_lastmod=response.meta.get("sitemap_lastmod"),
        )

    def failed(self, failure: Failure) -> Any:
        request = failure.request
        site_id = request.meta.get("site_id", "")
        reason, status = _failure_reason(failure)
        kind = reason.split(":")[0]
        if kind == "robots":
            self.figures[site_id]["robots_forbidden"] += 1
            return
        if request.meta.get("page_kind") != "article":
            # A dead menu link is common on real sites: counted, but not an error of the crawl.
            self.figures[site_id][f"listing_error:{kind}"] += 1
            self.logger.info("%s: listing %s failed: %s", site_id, request.url, reason)
            return
        self.figures[site_id]["fetched"] += 1
        self.figures[site_id][f"error:{kind}"] += 1
        self.logger.warning("%s: %s failed: %s", site_id, request.url, reason)
        yield failure_item(request.url, site_id, status, reason)

    # -- requests ---------------------------------------------------------------------------------

    def _article_request(
        self, site: Site, link: Link, listing_url: str, priority: int = 10
    ) -> scrapy.Request | None:
        if not self._within_budget(site):
            return None
        return scrapy.Request(
            link.url,
            callback=self.parse_article,
            errback=self.failed,
            priority=priority,
            meta={
                "site_id": site.id,
                "page_kind": "article",
                "listing_date": link.listing_date,
                "listing_url": listing_url,
                # An article that answers 404 or 500 is recorded with its status, not dropped.
                "handle_httpstatus_all": True,
            },
        )

    def _listing_request(self, site: Site, url: str) -> scrapy.Request | None:
        limit = site.max_listing_pages or self.options.max_listing_pages
        if self.listing_pages[site.id] >= limit or not self._within_budget(site):
            return None
        self.listing_pages[site.id] += 1
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.failed,
            meta={"site_id": site.id, "page_kind": "listing"},
        )

    def _within_budget(self, site: Site) -> bool:
        site_limit = site.max_pages or self.options.max_pages_per_site
        if self.requested[site.id] >= site_limit or self.requested.total() >= self.options.max_pages:
            self.figures[site.id]["budget_reached"] = 1
            return False
        self.requested[site.id] += 1
        return True


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _detect_family(html: str) -> str | None:
    from crawler.extract.detect import detect_family

    return detect_family(html)


def _failure_reason(failure: Failure) -> tuple[str, int]:
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http: {status}", status
    name = type(failure.value).__name__
    kinds = {
        "TimeoutError": "timeout",
        "TCPTimedOutError": "timeout",
        "DNSLookupError": "dns",
        "ConnectionRefusedError": "connection-refused",
        "ConnectionLost": "connection-lost",
        "ResponseNeverReceived": "connection-lost",
        "ResponseFailed": "truncated",
        "IgnoreRequest": "robots" if "robots" in failure.getErrorMessage().lower() else "ignored",
    }
    return f"{kinds.get(name, 'network')}: {failure.getErrorMessage()[:200]}", 0
