"""Downloader middleware: per-site request counts and time spent, as the network saw them.

It sits next to the downloader (after retries and redirects), so every HTTP exchange is counted once:
a retried page counts each try, a redirect counts each hop. The spider keeps the counts in its figures.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response


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
