"""The news spider: from each site's start URLs, through listings and their pagination, to article pages.

One spider crawls every configured site. Each site has one download slot of its own (all its hosts share
it), so the per-site politeness settings (one request at a time, the site's delay) apply per site.

What a nightly run fetches: the start pages, the listings they lead to (a few hops deep), each pagination
one page at a time until a page holds no article the archive lacks, the site's feeds and sitemaps, the
articles none of these have archived yet, and the recently published stories again (conditionally).
A backfill run (``--backfill``) pages through every listing to its end, within its own larger limits.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.datatypes import SequenceExclude
from twisted.python.failure import Failure

from archive.crawlstate import Recheck
from archive.dedup import canonical_url
from crawler.budgets import Budgets, Chains
from crawler.config import CrawlerOptions, Limits, Site
from crawler.discovery import (
    Link,
    Rules,
    feed_items,
    feed_urls,
    next_pages,
    page_links,
    robots_sitemaps,
    rules_for,
    sitemap_entries,
)
from crawler.items import failure_item, not_modified_item, page_item

MAX_SITEMAPS_PER_SITE = 50
# Article requests from sitemaps waiting in the scheduler, per site, at most (at least twice the site's
# concurrency; setting SITEMAP_REQUESTS_QUEUED, 0: all at once). The rest wait as (URL, lastmod, sitemap) in
# the spider: a queued Request costs some 5 kB, and sitemaps listing 100,000 stories held half a gigabyte of
# them for most of the crawl.
SITEMAP_REQUESTS_QUEUED = 32
# Statuses an article request hands to its callback (recorded with the status): all but the redirects, which
# RedirectMiddleware follows. (``handle_httpstatus_all`` would turn redirects off as well.)
ALL_BUT_REDIRECTS = SequenceExclude({301, 302, 303, 307, 308})
# Scheduling order within a site: articles found are fetched before the crawl pages on, re-checks before
# discovery moves on, sitemaps (which have no listing dates to give) last.
PRIORITY = {"article": 10, "recheck": 5, "listing": 0, "feed": 0, "robots": -5, "sitemap": -5, "sitemap_article": -10}


def slot_of(site: Site) -> str:
    """The download slot of a site: its first host. All of a site's hosts share it (one request at a time
    per site), and Scrapy's robots.txt requests to that host land in it too."""
    return site.hosts[0]


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(
        self,
        sites: list[Site],
        options: CrawlerOptions,
        known_urls: dict[str, set[str]] | None = None,
        rechecks: dict[str, list[Recheck]] | None = None,
        backfill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sites = {s.id: s for s in sites}
        self.options = options
        self.known = known_urls or {}
        self.rechecks = rechecks or {}
        self.backfill = backfill
        self.limits: dict[str, Limits] = {s.id: options.limits(s, backfill) for s in sites}
        self.run_limit = options.limits(None, backfill).max_pages
        self.allowed_domains = sorted({h for s in sites for h in s.hosts})
        self.families: dict[str, str | None] = {s.id: s.family for s in sites}
        self.slot_sites = {slot_of(s): s.id for s in sites}
        self.budgets = Budgets(self.limits, self.run_limit)  # SharedBudgets when crawlers share the run
        self.seen_listings: set[str] = set()
        self.seen_articles: set[str] = set()
        # Article URLs met on the pages of each pagination chain so far: a page that adds none is a repeat
        # (a trap serving the same page under ever higher numbers, or the empty page past the end).
        self.chains = Chains()  # SharedChains when crawlers share the run
        self.figures: dict[str, Counter[str]] = defaultdict(Counter)
        self.activity: dict[str, list[float]] = {}  # site -> [first request, last answer] (monotonic)
        self.listing_dates: dict[str, str] = {}
        self.feeds_seen: set[str] = set()
        # Sitemap articles not requested yet, per site, and how many of the requests made are still out.
        self.sitemap_waiting: dict[str, deque[tuple[str, str | None, str]]] = defaultdict(deque)
        self.sitemap_out: Counter[str] = Counter()
        self.sitemap_queued = SITEMAP_REQUESTS_QUEUED
        self.started = datetime.now(UTC)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sitemap_queued = crawler.settings.getint("SITEMAP_REQUESTS_QUEUED", SITEMAP_REQUESTS_QUEUED)
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    def idle(self) -> None:
        """Nothing left to fetch but sitemap articles still waiting (a request the scheduler dropped as a
        duplicate never answers, so its place was not handed on): send the next ones."""
        if not any(self.sitemap_waiting.values()):
            return
        self.sitemap_out.clear()
        sent = 0
        for site_id in list(self.sitemap_waiting):
            for request in self._sitemap_articles(self.sites[site_id]):
                self.crawler.engine.crawl(request)
                sent += 1
        if sent:
            raise DontCloseSpider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for site in self.sites.values():
            for url in site.start_urls:
                request = self._listing_request(site, url, depth=0, start=True)
                if request is not None:
                    yield request
        for site in self.sites.values():
            for recheck in self.rechecks.get(site.id, []):
                request = self._recheck_request(site, recheck)
                if request is not None:
                    yield request
        # Sitemaps come after the listings: a listing gives each article the date printed beside it.
        for site in self.sites.values():
            for root in dict.fromkeys(_root(url) for url in site.start_urls):
                yield self._request(
                    site, urljoin(root, "/robots.txt"), self.parse_robots, "robots", errback=self.no_robots
                )

    def clock(self, site_id: str) -> None:
        """Note activity of a site (called by SiteFiguresMiddleware): its time spent is first to last."""
        now = time.monotonic()
        span = self.activity.setdefault(site_id, [now, now])
        span[1] = now

    # -- listings ---------------------------------------------------------------------------------

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.sites[response.meta["site_id"]]
        self.figures[site.id]["listing_pages"] += 1
        if not isinstance(response, TextResponse):
            return
        rules = self._rules(site, response)
        yield from self._feed_requests(site, response)
        links = page_links(response.text, response.url, rules, site.hosts)
        articles = [link for link in links if link.kind == "article"]
        for link in articles:
            if link.listing_date:
                self.listing_dates.setdefault(link.url, link.listing_date)
        unknown = [link for link in articles if not self._is_known(site, link.url)]
        for link in unknown:
            request = self._article_request(site, link, response.url)
            if request is not None:
                yield request
        depth = response.meta.get("listing_depth", 0)
        if depth < self.limits[site.id].max_listing_depth:
            for link in links:
                if link.kind == "listing":
                    request = self._listing_request(site, link.url, depth=depth + 1)
                    if request is not None:
                        yield request
        yield from self._follow_pagination(site, response, rules, links, articles, unknown)

    def _follow_pagination(
        self, site: Site, response: Response, rules: Rules, links: list[Link], articles: list[Link],
        unknown: list[Link],
    ) -> Iterator[scrapy.Request]:
        """The next page of each pagination on this page, when this page was worth reading.

        Worth reading: it holds an article not met earlier in its own pagination (so a trap repeating one
        page, or the empty page past the end, stops the walk) and, in a nightly run, one the archive lacks
        (so a run stops paging once a page holds only known articles)."""
        on_page = {canonical_url(link.url) for link in articles}
        chain = response.meta.get("chain")
        fresh = self.chains.add(chain, on_page) if chain else on_page
        if not self.backfill:
            fresh &= {canonical_url(link.url) for link in unknown}
        if not fresh:
            if any(link.kind == "pagination" for link in links):
                self.figures[site.id]["paging_stopped"] += 1
            return
        max_number = self.limits[site.id].max_page_number
        for link, page in next_pages(links, response.url, rules):
            if page.number > max_number:
                self.figures[site.id]["page_number_limit"] += 1
                continue
            self.chains.add(page.chain, on_page)  # its next page is compared with this one
            request = self._listing_request(
                site, link.url, depth=response.meta.get("listing_depth", 0), chain=page.chain
            )
            if request is not None:
                yield request

    # -- sitemaps and feeds -----------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.sites[response.meta["site_id"]]
        text = response.text if isinstance(response, TextResponse) else ""
        sitemaps = robots_sitemaps(text, response.url) or [urljoin(response.url, "/sitemap.xml")]
        for url in sitemaps:
            request = self._sitemap_request(site, url)
            if request is not None:
                yield request

    def no_robots(self, failure: Failure) -> Iterator[scrapy.Request]:
        """No robots.txt (a 404 is common): the sitemap may still be at its usual place. (A server that
        does not answer at all is not asked again.)"""
        self.quiet(failure)
        if not failure.check(HttpError):
            return
        site = self.sites[failure.request.meta["site_id"]]
        request = self._sitemap_request(site, urljoin(failure.request.url, "/sitemap.xml"))
        if request is not None:
            yield request

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.sites[response.meta["site_id"]]
        rules = rules_for(site, self.families.get(site.id))
        for entry in sitemap_entries(response.body):
            if (urlsplit(entry.url).hostname or "") not in site.hosts:
                continue  # a sitemap never leads the crawl off its site
            if entry.is_sitemap:
                request = self._sitemap_request(site, entry.url)
                if request is not None:
                    yield request
            elif rules.classify(entry.url) == "article" and not self._is_known(site, entry.url):
                self.sitemap_waiting[site.id].append((entry.url, entry.lastmod, response.url))
        yield from self._sitemap_articles(site)

    def _sitemap_articles(self, site: Site) -> Iterator[scrapy.Request]:
        """Requests for the site's waiting sitemap articles, up to SITEMAP_REQUESTS_QUEUED out at a time;
        each one answered (or failed) hands its place on. Sitemap articles come last anyway (their priority
        is the lowest): the same pages are fetched in the same order, without queuing them all at once."""
        waiting = self.sitemap_waiting[site.id]
        if self.sitemap_queued > 0:
            room = max(self.sitemap_queued, 2 * site.concurrency) - self.sitemap_out[site.id]
        else:  # all at once
            room = len(waiting)
        while waiting and room > 0:
            url, lastmod, sitemap_url = waiting.popleft()
            request = self._article_request(
                site, Link(url, "article"), sitemap_url, priority=PRIORITY["sitemap_article"]
            )
            if request is None:
                continue
            request.meta["sitemap_lastmod"] = lastmod
            request.meta["from_sitemap"] = True
            self.sitemap_out[site.id] += 1
            room -= 1
            yield request

    def _sitemap_answered(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """A sitemap article was answered or failed: its place goes to the next waiting one."""
        if not request.meta.get("from_sitemap"):
            return
        site_id = request.meta["site_id"]
        self.sitemap_out[site_id] = max(0, self.sitemap_out[site_id] - 1)
        yield from self._sitemap_articles(self.sites[site_id])

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        site = self.sites[response.meta["site_id"]]
        rules = rules_for(site, self.families.get(site.id))
        for url, date in feed_items(response.body):
            url = urljoin(response.url, url)
            if (urlsplit(url).hostname or "") not in site.hosts or self._is_known(site, url):
                continue
            if rules.classify(url) == "article":
                request = self._article_request(site, Link(url, "article", date), response.url)
                if request is not None:
                    yield request

    def _feed_requests(self, site: Site, response: TextResponse) -> Iterator[scrapy.Request]:
        for url in feed_urls(response.text, response.url):
            if url in self.feeds_seen or (urlsplit(url).hostname or "") not in site.hosts:
                continue
            self.feeds_seen.add(url)
            yield self._request(site, url, self.parse_feed, "feed", errback=self.quiet)

    def _sitemap_request(self, site: Site, url: str) -> scrapy.Request | None:
        if self.figures[site.id]["sitemaps"] >= MAX_SITEMAPS_PER_SITE:
            return None
        self.figures[site.id]["sitemaps"] += 1
        return self._request(site, url, self.parse_sitemap, "sitemap", errback=self.quiet)

    def quiet(self, failure: Failure) -> None:
        """A missing robots.txt, sitemap or feed is common and not an error of the site."""
        self.logger.info("%s: %s", failure.request.url, failure.getErrorMessage()[:200])

    def _rules(self, site: Site, response: TextResponse) -> Rules:
        if self.families.get(site.id) is None:
            # Detected once per site and run, from its first listing page; "generic" when nothing scores.
            self.families[site.id] = _detect_family(response.text, response.url) or "generic"
        return rules_for(site, self.families[site.id])

    # -- articles ---------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterator[dict[str, Any] | scrapy.Request]:
        yield from self._sitemap_answered(response.request)
        yield from self._article_items(response)

    def _article_items(self, response: Response) -> Iterator[dict[str, Any]]:
        site_id = response.meta["site_id"]
        counts = self.figures[site_id]
        counts["fetched"] += 1
        if response.status == 304:
            counts["not_modified"] += 1
            yield not_modified_item(response.url, site_id)
            return
        if response.status >= 400:
            counts[f"error:http-{response.status}"] += 1
            self.logger.warning("%s: %s failed: http %s", site_id, response.url, response.status)
            yield failure_item(response.url, site_id, response.status, f"http {response.status}")
            return
        yield page_item(
            response,
            site_id=site_id,
            listing_date=response.meta.get("listing_date") or self.listing_dates.get(response.url),
            listing_url=response.meta.get("listing_url"),
            sitemap_lastmod=response.meta.get("sitemap_lastmod"),
        )

    def failed(self, failure: Failure) -> Iterator[dict[str, Any] | scrapy.Request]:
        """One log line per failed page, no traceback: a dead link or a timeout is a fact about a site."""
        yield from self._sitemap_answered(failure.request)
        yield from self._failure_items(failure)

    def _failure_items(self, failure: Failure) -> Iterator[dict[str, Any]]:
        request = failure.request
        site_id = request.meta.get("site_id", "")
        reason, status = _failure_reason(failure)
        kind = reason.split(":")[0]
        if kind == "robots":
            self.figures[site_id]["robots_forbidden"] += 1
            self.logger.info("%s: robots.txt forbids %s", site_id, request.url)
            return
        if request.meta.get("page_kind") not in ("article", "recheck"):
            # A dead menu link is common on real sites: counted, but not an error of the crawl. A start page
            # that fails is worth the operator's eye.
            self.figures[site_id][f"listing_error:{kind}"] += 1
            level = 30 if request.meta.get("start") else 20
            self.logger.log(level, "%s: listing %s failed: %s", site_id, request.url, reason)
            return
        url = (request.meta.get("redirect_urls") or [request.url])[0]  # the URL asked for, before redirects
        self.figures[site_id]["fetched"] += 1
        self.figures[site_id][f"error:{kind}"] += 1
        self.logger.warning("%s: %s failed: %s", site_id, url, reason)
        yield failure_item(url, site_id, status, reason)

    # -- requests ---------------------------------------------------------------------------------

    def _request(
        self, site: Site, url: str, callback: Any, kind: str, errback: Any = None, priority: int | None = None,
        **meta: Any,
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback or self.failed,
            priority=PRIORITY.get(kind, 0) if priority is None else priority,
            meta={"site_id": site.id, "page_kind": kind, "download_slot": slot_of(site), **meta},
        )

    def _article_request(
        self, site: Site, link: Link, listing_url: str, priority: int | None = None
    ) -> scrapy.Request | None:
        key = canonical_url(link.url)
        if key in self.seen_articles or not self._take_budget(site):
            return None
        self.seen_articles.add(key)
        return self._request(
            site, link.url, self.parse_article, "article", priority=priority,
            listing_date=link.listing_date,
            listing_url=listing_url,
            # An article that answers 404 or 500 is recorded with its status, not dropped; redirects are
            # followed (within the site: SiteBoundsMiddleware).
            handle_httpstatus_list=ALL_BUT_REDIRECTS,
        )

    def _recheck_request(self, site: Site, recheck: Recheck) -> scrapy.Request | None:
        """A recent story fetched again, conditionally: a 304 costs the server next to nothing."""
        key = canonical_url(recheck.url)
        if key in self.seen_articles or not self._take_budget(site):
            return None
        self.seen_articles.add(key)
        self.figures[site.id]["rechecked"] += 1
        request = self._request(
            site, recheck.url, self.parse_article, "recheck", handle_httpstatus_list=ALL_BUT_REDIRECTS, recheck=True
        )
        for name, value in recheck.headers().items():
            request.headers[name] = value
        return request

    def _listing_request(
        self, site: Site, url: str, depth: int, chain: str | None = None, start: bool = False
    ) -> scrapy.Request | None:
        key = canonical_url(url)
        if key in self.seen_listings:
            return None
        if not self.budgets.take_listing(site.id):
            self.figures[site.id]["listing_limit"] = 1
            return None
        if not self._take_budget(site):  # (the listing counted above no longer matters: the site is done)
            return None
        self.seen_listings.add(key)
        return self._request(site, url, self.parse_listing, "listing", listing_depth=depth, chain=chain, start=start)

    def _take_budget(self, site: Site) -> bool:
        """Count one more listing or article request against the site's and the run's page budgets."""
        if not self.budgets.take(site.id):
            self.figures[site.id]["budget_reached"] = 1
            return False
        return True

    def _is_known(self, site: Site, url: str) -> bool:
        known = self.known.get(site.id)
        return bool(known) and (url in known or canonical_url(url) in known)


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _detect_family(html: str, url: str | None = None) -> str | None:
    from crawler.extract.core import parse_html
    from crawler.extract.decode import decode_html
    from crawler.extract.detect import detect_family

    text, _ = decode_html(html)  # control characters out, as for extraction
    doc = parse_html(text)
    return detect_family(doc, text, url) if doc is not None else None


def _failure_reason(failure: Failure) -> tuple[str, int]:
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http-{status}: HTTP {status}", status
    name = type(failure.value).__name__
    message = failure.getErrorMessage()
    kind = ERROR_KINDS.get(name, "network")
    if name == "IgnoreRequest":
        # Scrapy's own: robots.txt refused it, a gzip bomb hit DOWNLOAD_MAXSIZE while inflating, or the
        # redirect chain grew too long.
        lower = message.lower()
        kind = next((k for words, k in IGNORED_KINDS if any(w in lower for w in words)), "ignored")
    if name == "DownloadCancelledError":
        # A body over DOWNLOAD_MAXSIZE: announced (the message says so) or streamed (no message).
        if not message or "max size" in message:
            kind = "too-large"
            message = message or "the body grew beyond DOWNLOAD_MAXSIZE"
    # Twisted's reasons come as "[<twisted.python.failure.Failure twisted...ConnectionLost: text>]"
    message = TWISTED_FAILURE.sub(r"\1", " ".join(message.split())) or EMPTY_MESSAGES.get(kind, name)
    return f"{kind}: {message[:200]}", 0


TWISTED_FAILURE = re.compile(r"\[?<twisted\.python\.failure\.Failure [\w.]+: ([^>]*)>\]?")
EMPTY_MESSAGES = {"truncated": "the connection closed before the announced end of the body"}


IGNORED_KINDS = (
    (("robots",), "robots"),
    (("download_maxsize",), "too-large"),
    (("max redirections",), "redirect-limit"),
)
# Exception class names (Scrapy 2.13+ wraps Twisted's; older names kept for other download handlers) to
# the error kinds the figures count.
ERROR_KINDS = {
    "DownloadTimeoutError": "timeout",
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "CannotResolveHostError": "dns",
    "DNSLookupError": "dns",
    "DownloadConnectionRefusedError": "connection-refused",
    "ConnectionRefusedError": "connection-refused",
    "DownloadFailedError": "connection-lost",
    "ConnectionLost": "connection-lost",
    "ResponseNeverReceived": "connection-lost",
    "ResponseDataLossError": "truncated",
    "ResponseFailed": "truncated",
    "UnsupportedURLSchemeError": "bad-url",
    "SSLError": "tls",
    "DownloadCancelledError": "cancelled",
    # crawler/middlewares.py SiteBoundsMiddleware
    "OffsiteRedirect": "redirect-offsite",
    "RedirectLoop": "redirect-loop",
    "OffsiteRequest": "offsite",
}
