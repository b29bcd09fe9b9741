"""Where a run stops: the page budgets (per site and for the run), the listing-page limit per site, and
the pagination repeat check.

The spider asks ``take(site_id)`` before each listing or article request and ``take_listing(site_id)``
before each listing request; ``Chains.add(chain, articles)`` tells which articles of a pagination page its
chain had not met (none: the page repeats an earlier one, or is the empty page past the end, and paging stops).
``Budgets`` and ``Chains`` keep their counts in the process; with several crawlers sharing a crawl through
Redis, ``crawler.scaleout.SharedBudgets`` and ``SharedChains`` keep them in Redis, so the limits hold for the
run, not per crawler.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from crawler.config import Limits


class Budgets:
    """Counts of one crawler process."""

    def __init__(self, limits: dict[str, Limits], run_limit: int) -> None:
        self.limits = limits
        self.run_limit = run_limit
        self.requested: Counter[str] = Counter()  # listing and article requests per site
        self.listings: Counter[str] = Counter()  # listing requests per site

    def take(self, site_id: str) -> bool:
        """One more request of the site, if neither the site's nor the run's budget is spent."""
        spent = self.requested[site_id] >= self.limits[site_id].max_pages_per_site
        if spent or self.requested.total() >= self.run_limit:
            return False
        self.requested[site_id] += 1
        return True

    def take_listing(self, site_id: str) -> bool:
        """One more listing page of the site, if its listing limit is not reached."""
        if self.listings[site_id] >= self.limits[site_id].max_listing_pages:
            return False
        self.listings[site_id] += 1
        return True


class Chains:
    """The article URLs met on each pagination chain's pages so far, in the process."""

    def __init__(self) -> None:
        self.seen: defaultdict[str, set[str]] = defaultdict(set)

    def add(self, chain: str, articles: set[str]) -> set[str]:
        """Note the articles of a page of ``chain``; those the chain had not met before."""
        fresh = articles - self.seen[chain]
        self.seen[chain] |= articles
        return fresh
