"""AutoThrottle that keeps each site's delay as its floor.

Scrapy's AutoThrottle lowers every slot down to the global DOWNLOAD_DELAY; a site that asked for a slower
pace (``download_delay`` in its config, passed as DOWNLOAD_SLOTS keyed by the site's slot) must never be
fetched faster than that. AutoThrottle may still slow a site down when its server answers slowly.
"""

from __future__ import annotations

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response


class SiteAutoThrottle(AutoThrottle):
    def _adjust_delay(self, slot: Slot, latency: float, response: Response) -> None:
        super()._adjust_delay(slot, latency, response)
        key = response.request.meta.get("download_slot") if response.request else None
        floor = self.crawler.settings.getdict("DOWNLOAD_SLOTS").get(key or "", {}).get("delay")
        if floor is not None and slot.delay < floor:
            slot.delay = floor
