"""AutoThrottle that keeps each site's delay as its floor.

Scrapy's AutoThrottle lowers every slot down to the global DOWNLOAD_DELAY; a site that asked for a slower
pace (``download_delay`` in its config, passed as DOWNLOAD_SLOTS keyed by the site's slot) must never be
fetched faster than that. AutoThrottle may still slow a site down when its server answers slowly.
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.core.downloader import Slot
from scrapy.crawler import Crawler
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class SiteAutoThrottle(AutoThrottle):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        self.floors: dict[str, float] = {key: float(s["delay"]) for key, s in slots.items() if "delay" in s}
        self._key: str | None = None

    def _get_slot(self, request: Request, spider: Any) -> tuple[str | None, Slot | None]:
        # _adjust_delay is not told which slot it adjusts (and response.request is not set yet when the
        # response_downloaded signal fires), so the key is noted here, just before.
        key, slot = super()._get_slot(request, spider)
        self._key = key
        return key, slot

    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        floor = self.floors.get(self._key or "")
        if floor is not None and slot.delay < floor:
            slot.delay = floor
