"""Sitemap articles are requested a few at a time (crawler/spiders/news.py): a sitemap of thousands of
stories does not put thousands of requests in the scheduler at once; each answer hands its place on, and an
idle crawl sends what is left."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse, XmlResponse
from twisted.python.failure import Failure

from crawler.config import CrawlerOptions, Site
from crawler.spiders.news import SITEMAP_REQUESTS_QUEUED, NewsSpider

BASE = "http://tin.example.gov.vn"
SITE = Site(id="s", name="S", province="P", kind="government", start_urls=(f"{BASE}/",), family="wordpress")
STORIES = 200


def sitemap(n: int = STORIES) -> XmlResponse:
    urls = "".join(f"<url><loc>{BASE}/2024/01/tin-bai-so-{i}/</loc></url>" for i in range(n))
    body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    request = scrapy.Request(f"{BASE}/sitemap.xml", meta={"site_id": "s", "page_kind": "sitemap"})
    return XmlResponse(request.url, body=body.encode(), request=request)


def answer(request: scrapy.Request) -> HtmlResponse:
    return HtmlResponse(request.url, body=b"<html><body><p>x</p></body></html>", request=request, status=200)


def spider(queued: int = SITEMAP_REQUESTS_QUEUED) -> NewsSpider:
    news = NewsSpider(sites=[SITE], options=CrawlerOptions())
    news.sitemap_queued = queued
    return news


def test_a_few_sitemap_articles_at_a_time_each_answer_hands_on_its_place():
    news = spider()
    first = list(news.parse_sitemap(sitemap()))
    assert len(first) == SITEMAP_REQUESTS_QUEUED
    assert all(r.meta["from_sitemap"] and r.priority == -10 for r in first)
    assert len(news.sitemap_waiting["s"]) == STORIES - SITEMAP_REQUESTS_QUEUED

    out = list(news.parse_article(answer(first[0])))
    requests = [o for o in out if isinstance(o, scrapy.Request)]
    items = [o for o in out if isinstance(o, dict)]
    assert len(requests) == 1 and len(items) == 1 and items[0]["url"] == first[0].url
    failure = Failure(OSError("reset"))
    failure.request = first[1]
    out = list(news.failed(failure))
    assert sum(isinstance(o, scrapy.Request) for o in out) == 1  # a failure hands on its place too

    # Every story is requested exactly once, in sitemap order.
    asked = [r.url for r in first] + [r.url for r in requests] + [o.url for o in out if isinstance(o, scrapy.Request)]
    while news.sitemap_waiting["s"]:
        (request,) = news._sitemap_answered(first[0])  # one answered: one more asked
        assert request.meta["from_sitemap"]
        asked.append(request.url)
    assert asked == [f"{BASE}/2024/01/tin-bai-so-{i}/" for i in range(STORIES)]


def test_an_idle_crawl_sends_the_waiting_ones():
    news = spider()
    list(news.parse_sitemap(sitemap()))
    crawled: list[scrapy.Request] = []
    news.crawler = SimpleNamespace(engine=SimpleNamespace(crawl=crawled.append))  # type: ignore[assignment]
    with pytest.raises(DontCloseSpider):
        news.idle()
    assert len(crawled) == SITEMAP_REQUESTS_QUEUED
    news.sitemap_waiting["s"].clear()
    news.idle()  # nothing waiting: the crawl may close


def test_all_at_once_when_the_queue_is_shared():
    news = spider(queued=0)
    assert len(list(news.parse_sitemap(sitemap()))) == STORIES
