"""Several machines: one crawl shared by crawler processes through Redis (scrapy-redis), one archive writer.

With ``python -m crawler crawl --redis URL`` the crawler keeps its request queue and its dupefilter in Redis,
so crawlers on several hosts share one crawl: a URL that one of them has scheduled is never scheduled by
another. Finished pages do not go to SQLite: each becomes a record (``archive_record``) pushed to a Redis list,
which one writer, ``python -m archive ingest`` (``archive/ingest.py``), moves into the archive. SQLite keeps
one writer.

Redis keys (prefix ``vngov``; a second archive takes another database number in the URL):

* ``vngov:requests`` (sorted set, scrapy-redis's priority queue), ``vngov:dupefilter`` (set of fingerprints);
* ``vngov:crawlers`` (sorted set: each live crawler, scored with the time its registration expires);
* ``vngov:items`` (list of records), ``vngov:ingesting`` (the record the writer is storing),
  ``vngov:dead`` (records the writer could not store, with the error);
* ``vngov:figures`` (list: each crawler's figures, pushed as it closes), ``vngov:sites`` (hash: site rows);
* ``vngov:budgets`` (hash: the run's page budgets and listing limits as spent so far, ``SharedBudgets``),
  ``vngov:chains`` (set: the articles met on each pagination's pages, ``SharedChains``).

A run begins when a crawler starts while no other is alive: the queue, dupefilter and budgets of any earlier
run (finished, or abandoned by crashed crawlers) are cleared first. Crawlers that start while one is alive
join its run. The last crawler to close clears them too. So cron can start every host at the same minute, each
night is a fresh run, and no flush option is needed.

Messages are JSON; bytes (page bodies, request headers) travel base64-encoded, zlib-compressed when that
helps. Pickle, scrapy-redis's default, would let whoever can write to Redis run code on every crawler and
on the writer.

scrapy-redis 0.9.1 on Scrapy 2.19, read from its source: the scheduler and dupefilter work (it fingerprints
requests itself, not through Scrapy's removed ``request_fingerprint``), and ``Request.to_dict`` /
``request_from_dict`` carry callbacks and errbacks as spider method names. Fitted here, in subclasses:
its ``SCHEDULER_IDLE_BEFORE_CLOSE`` is a blocking pop (which would stall Scrapy's event loop, and the
default priority queue ignores it), so the idle wait is a ``spider_idle`` handler instead; its
``SCHEDULER_PERSIST = False`` makes the first crawler to finish delete the queue and dupefilter while the
others still crawl, so runs are delimited as above; its fingerprint uses w3lib's canonical URL, where the
spider treats URLs differing only by tracking or session parameters as one page (``canonical_url``); and two
calls Scrapy 2.19 deprecates (``Spider.log``, the ``spider`` argument of the stats) are left out.

Politeness across crawlers: each crawler's download slot paces only that crawler, so a request also takes a
lease on its site in Redis (``vngov:slot:<host>:<n>``, SharedSiteSlots) before it is sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import secrets
import socket
import sys
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy.settings import Settings
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.datatypes import SequenceExclude
from scrapy.utils.misc import load_object
from scrapy.utils.python import to_unicode
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from archive.dedup import canonical_url
from crawler.pipelines import _Pipeline, archive_record

logger = logging.getLogger(__name__)

PREFIX = "vngov"
IDLE_SECONDS = 30.0  # a crawler closes once the shared queue has stayed empty this long
POLL_SECONDS = 1.0  # how often an idle crawler looks at the shared queue again
CRAWLER_TTL = 60  # a crawler that has not renewed its registration for this long is taken for dead
BEAT_SECONDS = 15.0
MESSAGE_VERSION = 1


class Keys:
    """The Redis keys of one archive's crawls (see the module docstring)."""

    def __init__(self, prefix: str = PREFIX) -> None:
        self.prefix = prefix
        self.requests, self.dupefilter = f"{prefix}:requests", f"{prefix}:dupefilter"
        self.crawlers = f"{prefix}:crawlers"
        self.items, self.ingesting, self.dead = f"{prefix}:items", f"{prefix}:ingesting", f"{prefix}:dead"
        self.figures, self.sites = f"{prefix}:figures", f"{prefix}:sites"
        self.budgets, self.chains = f"{prefix}:budgets", f"{prefix}:chains"

    def lists(self) -> tuple[str, ...]:
        """The lists a finished run leaves empty (the dead letters aside)."""
        return (self.items, self.ingesting, self.figures)


@dataclass(frozen=True)
class RedisOptions:
    """What ``crawl --redis`` was given."""

    url: str
    idle_seconds: float = IDLE_SECONDS


# -- the codec: JSON, bytes as base64 ---------------------------------------------------------------

_BYTES, _ZBYTES, _PAIRS, _EXCLUDE = "$b", "$z", "$m", "$x"


def dumps(value: Any) -> bytes:
    """JSON of ``value``; bytes, and dicts with non-text keys, are tagged. (A module-level ``dumps``/``loads``
    pair: scrapy-redis takes this module as its ``SCHEDULER_SERIALIZER``.)"""
    return json.dumps(_pack(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    return _unpack(json.loads(data))


def _pack(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray):
        packed = zlib.compress(value, 6) if len(value) > 512 else b""
        if packed and len(packed) < len(value):
            return {_ZBYTES: base64.b64encode(packed).decode("ascii")}
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, list | tuple | set | frozenset):
        return [_pack(v) for v in value]
    if isinstance(value, SequenceExclude):  # the spider's "every status but redirects" in request meta
        return {_EXCLUDE: _pack(sorted(value.seq))}  # type: ignore[call-overload]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _pack(v) for k, v in value.items()}
        return {_PAIRS: [[_pack(k), _pack(v)] for k, v in value.items()]}
    raise TypeError(f"cannot send a {type(value).__name__} through Redis: {value!r:.100}")


def _unpack(value: Any) -> Any:
    if isinstance(value, list):
        return [_unpack(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        tag, inner = next(iter(value.items()))
        if tag == _BYTES:
            return base64.b64decode(inner)
        if tag == _ZBYTES:
            return zlib.decompress(base64.b64decode(inner))
        if tag == _PAIRS:
            return {_unpack(k): _unpack(v) for k, v in inner}
        if tag == _EXCLUDE:
            return SequenceExclude(frozenset(_unpack(inner)))
    return {k: _unpack(v) for k, v in value.items()}


# -- connection, settings -----------------------------------------------------------------------------


def connect(url: str) -> redis.Redis:
    # Bytes in and out: records carry page bodies. Timeouts keep a lost server from hanging a nightly run.
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True)


def ping(url: str) -> None:
    """Raise ``OSError`` with one line when Redis cannot be reached or the URL is wrong."""
    try:
        connect(url).ping()
    except (redis.RedisError, ValueError) as exc:
        raise OSError(f"cannot reach Redis at {safe_url(url)}: {exc}") from None


def safe_url(url: str) -> str:
    """The URL without its password, for logs and the crawls table."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"


def crawler_id() -> str:
    # Host and pid name it in logs and figures; the random part keeps two containers with one hostname apart.
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def redis_settings(options: RedisOptions, settings: Settings) -> dict[str, Any]:
    """The Scrapy settings of a crawler that shares its crawl through Redis."""
    keys = Keys()
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines.pop("crawler.pipelines.ArchivePipeline", None)
    pipelines["crawler.scaleout.RedisItemPipeline"] = 900
    # Next to the downloader, after SiteFiguresMiddleware (950): the lease is held only while a request is
    # about to be sent or on the wire.
    middlewares = {**settings.getdict("DOWNLOADER_MIDDLEWARES"), "crawler.scaleout.SharedSiteSlots": 960}
    return {
        "REDIS_URL": options.url,
        "SCHEDULER": "crawler.scaleout.RedisScheduler",
        "DUPEFILTER_CLASS": "crawler.scaleout.RedisDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",  # the spider's priorities matter
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "SCHEDULER_SERIALIZER": "crawler.scaleout",
        # Runs are delimited by the crawlers' registrations (RedisScheduler), not by each crawler's close.
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_IDLE_BEFORE_CLOSE": options.idle_seconds,
        # The shared queue lives in Redis, not in this process, and whichever crawler gets a sitemap article's
        # answer is not the one holding the sitemap: every sitemap article is queued at once (news.py).
        "SITEMAP_REQUESTS_QUEUED": 0,
        "SCALEOUT_PREFIX": keys.prefix,
        "SCALEOUT_CRAWLER_ID": crawler_id(),
        "ITEM_PIPELINES": pipelines,
        "DOWNLOADER_MIDDLEWARES": middlewares,
    }


# -- scheduler and dupefilter -------------------------------------------------------------------------

# Registration and the end of a run, each atomic. A crawler that joins while no registration is live starts a
# new run: whatever an earlier run left (crashed crawlers included) is cleared. The last to leave clears too.
JOIN = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local fresh = redis.call('ZCARD', KEYS[1]) == 0
if fresh then redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5]) end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if fresh then return 1 end
return 0
"""
BEAT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
LEAVE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  return 1
end
return 0
"""


# One request more against the site's and the run's budgets, atomically across crawlers.
TAKE = """
local site = tonumber(redis.call('HGET', KEYS[1], 'site:' .. ARGV[1]) or '0')
local run = tonumber(redis.call('HGET', KEYS[1], 'run') or '0')
if site >= tonumber(ARGV[2]) or run >= tonumber(ARGV[3]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'site:' .. ARGV[1], 1)
redis.call('HINCRBY', KEYS[1], 'run', 1)
return 1
"""
TAKE_LISTING = """
local n = tonumber(redis.call('HGET', KEYS[1], 'listings:' .. ARGV[1]) or '0')
if n >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'listings:' .. ARGV[1], 1)
return 1
"""


class SharedBudgets:
    """``crawler.budgets.Budgets`` counted in Redis (one hash per run, cleared with the queue), so that N
    crawlers together stop where one would: ``max_pages``, ``max_pages_per_site``, ``max_listing_pages``.
    A link two crawlers meet on different listings may be counted by both before the dupefilter drops one
    request: the budgets are an upper bound, never exceeded."""

    def __init__(self, server: redis.Redis, key: str, local: Any) -> None:
        self.server, self.key = server, key
        self.limits, self.run_limit = local.limits, local.run_limit
        self._take = server.register_script(TAKE)
        self._take_listing = server.register_script(TAKE_LISTING)

    def take(self, site_id: str) -> bool:
        limit = self.limits[site_id].max_pages_per_site
        return bool(self._take(keys=[self.key], args=[site_id, limit, self.run_limit]))

    def take_listing(self, site_id: str) -> bool:
        return bool(self._take_listing(keys=[self.key], args=[site_id, self.limits[site_id].max_listing_pages]))


# The articles of one pagination page added to its chain's; the positions of those the chain had not met.
CHAIN_ADD = """
local fresh = {}
for i, member in ipairs(ARGV) do
  if redis.call('SADD', KEYS[1], member) == 1 then table.insert(fresh, i) end
end
return fresh
"""


class SharedChains:
    """``crawler.budgets.Chains`` in Redis (one set per run, cleared with the queue): the next page of a
    pagination may be read by another crawler than the page before it, and still be known for a repeat."""

    def __init__(self, server: redis.Redis, key: str) -> None:
        self.key = key
        self._add = server.register_script(CHAIN_ADD)

    def add(self, chain: str, articles: set[str]) -> set[str]:
        ordered = sorted(articles)
        if not ordered:
            return set()
        fresh = self._add(keys=[self.key], args=[f"{chain}\t{url}" for url in ordered])
        return {ordered[int(i) - 1] for i in fresh}


def live_crawlers(server: redis.Redis, keys: Keys) -> int:
    """How many crawlers are registered and not expired (Redis's clock: hosts' clocks may differ)."""
    now = server.time()[0]
    return int(server.zcount(keys.crawlers, f"({now}", "+inf"))


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler for several crawlers of one nightly run (see the module docstring)."""

    crawler: Crawler
    keys: Keys
    member: str
    idle_since: float | None = None
    beat: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisScheduler:
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.keys = Keys(crawler.settings.get("SCALEOUT_PREFIX", PREFIX))
        instance.member = crawler.settings.get("SCALEOUT_CRAWLER_ID") or crawler_id()
        # scrapy-redis reads this setting as an int and as a pop timeout; here it is the idle wait, in seconds.
        instance.idle_before_close = crawler.settings.getfloat("SCHEDULER_IDLE_BEFORE_CLOSE", IDLE_SECONDS)
        crawler.signals.connect(instance.spider_idle, signal=signals.spider_idle)
        # An idle engine asks the scheduler again only on its heartbeat, every 5 s: requests pushed meanwhile
        # by the other crawlers would wait that long. (A private attribute: if Scrapy renames it, 5 s it is.)
        if crawler.engine is not None and hasattr(type(crawler.engine), "_SLOT_HEARTBEAT_INTERVAL"):
            crawler.engine._SLOT_HEARTBEAT_INTERVAL = POLL_SECONDS
        return instance

    def _script(self, source: str, *args: Any) -> int:
        keys = [self.keys.crawlers, self.keys.requests, self.keys.dupefilter, self.keys.budgets, self.keys.chains]
        return int(self.server.eval(source, len(keys), *keys, self.member, *args))

    def open(self, spider: Any) -> None:
        # scrapy-redis's open, joined to the run first (which may clear an earlier run's leftovers), and
        # without its Spider.log() call, deprecated in Scrapy 2.19.
        fresh = self._script(JOIN, CRAWLER_TTL)
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if hasattr(spider, "budgets"):  # page budgets, listing limits and pagination repeats: for the run
            spider.budgets = SharedBudgets(self.server, self.keys.budgets, spider.budgets)
            spider.chains = SharedChains(self.server, self.keys.chains)
        logger.info("%s the %s run on Redis as %s (%d requests queued)", "started" if fresh else "joined",
                    self.keys.prefix, self.member, len(self.queue))
        self.beat = create_looping_call(self._renew)
        self.beat.start(BEAT_SECONDS, now=False)

    def _renew(self) -> None:
        try:
            self._script(BEAT, CRAWLER_TTL)
        except redis.RedisError as exc:  # a blip; the next beat renews (the registration outlives 3 misses)
            logger.warning("cannot renew the crawler's registration on Redis: %s", exc)

    def close(self, reason: str) -> None:
        if self.beat is not None and self.beat.running:
            self.beat.stop()
        if self._script(LEAVE):
            logger.info("last crawler of the run: shared queue and dupefilter cleared")

    def next_request(self) -> Request | None:
        # Never the blocking pop scrapy-redis does with SCHEDULER_IDLE_BEFORE_CLOSE: it would stall the
        # event loop (downloads, timers) for its whole timeout.
        request = self.queue.pop(0)
        if request is None:
            return None
        self.idle_since = None
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def enqueue_request(self, request: Request) -> bool:
        # scrapy-redis's own, without the ``spider`` argument to the stats that Scrapy 2.19 deprecates.
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def spider_idle(self) -> None:
        """Nothing in flight here and the shared queue empty: wait, since another crawler's page may still
        bring requests; close once the queue has stayed empty for SCHEDULER_IDLE_BEFORE_CLOSE seconds."""
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_before_close:
            raise DontCloseSpider


class RedisDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter, with the archive's canonical URL in the fingerprint, so that two crawlers
    agree with what one crawler's spider would do (it treats URLs differing only by tracking or session
    parameters as one page)."""

    def request_fingerprint(self, request: Request) -> str:
        data = {
            "method": to_unicode(request.method),
            "url": canonical_url(request.url),
            "body": (request.body or b"").hex(),
        }
        return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def close(self, reason: str = "") -> None:
        """Kept: the run's last crawler clears the fingerprints (RedisScheduler), not each crawler's close."""


# -- politeness across crawlers ----------------------------------------------------------------------------

LEASE = "_site_lease"  # request meta: the lease this request holds (key, token, the site's delay in ms)
LEASE_POLL = 0.05  # seconds between two tries for a busy site
# Gives a lease back, leaving the site's delay as its remaining life; only the lease's own holder may.
RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], '-', 'PX', ARGV[2])
else
  redis.call('DEL', KEYS[1])
end
return 1
"""


class SharedSiteSlots:
    """One request at a time per site across all the crawlers of a run (``concurrency`` at a time for a site
    that allows more), the site's delay apart: each crawler's own download slot only paces that crawler.

    Before it reaches the downloader, a request takes a lease on its site's slot in Redis; it gives it back
    with its answer or its failure, and the lease lives on for the site's delay, so the next request, from any
    crawler, waits that long. The slot is Scrapy's (the site's first host, see NewsSpider), so Scrapy's own
    robots.txt requests take their site's lease too. A crashed holder's lease expires after the longest a
    request can take."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.server = connect(settings.get("REDIS_URL"))
        self.prefix = settings.get("SCALEOUT_PREFIX", PREFIX)
        self.member = settings.get("SCALEOUT_CRAWLER_ID") or crawler_id()
        self.slots: dict[str, dict[str, Any]] = settings.getdict("DOWNLOAD_SLOTS")
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        longest = settings.getfloat("DOWNLOAD_TIMEOUT") + settings.getfloat("AUTOTHROTTLE_MAX_DELAY") + 30
        self.lease_ms = int(longest * 1000)
        self.taken = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedSiteSlots:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        import asyncio

        assert self.crawler.engine is not None
        slot = self.crawler.engine.downloader.get_slot_key(request)
        settings = self.slots.get(slot, {})
        delay_ms = int(1000 * float(settings.get("delay", self.delay)))
        self.taken += 1
        token = f"{self.member}:{self.taken}"
        leases = [f"{self.prefix}:slot:{slot}:{n}" for n in range(max(1, int(settings.get("concurrency", 1))))]
        while True:
            for lease in leases:
                if self.server.set(lease, token, nx=True, px=self.lease_ms):
                    request.meta[LEASE] = [lease, token, delay_ms]
                    return None
            await asyncio.sleep(LEASE_POLL)

    def process_response(self, request: Request, response: Any) -> Any:
        self._give_back(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._give_back(request)
        return None

    def _give_back(self, request: Request) -> None:
        held = request.meta.pop(LEASE, None)  # popped: a retry (a copy of this request) takes its own
        if held:
            lease, token, delay_ms = held
            self.server.eval(RELEASE, 1, lease, token, delay_ms)


# -- the pipeline: finished records to Redis ----------------------------------------------------------


def item_message(item: dict[str, Any], member: str) -> dict[str, Any]:
    """What the writer needs of a finished item: the archive record, or the 304 of a re-check."""
    if item.get("not_modified"):
        return {"v": MESSAGE_VERSION, "kind": "not_modified", "crawler": member,
                "url": item["url"], "site_id": item["site_id"], "fetched_at": item["fetched_at"]}
    # ``remember``: keep the page's HTTP validators for the next run's conditional requests (not for failures).
    return {"v": MESSAGE_VERSION, "kind": "page", "crawler": member, "record": archive_record(item),
            "remember": not item.get("error")}


class RedisItemPipeline(_Pipeline):
    """In place of ArchivePipeline: each finished record is pushed to ``<prefix>:items`` for the writer,
    and the crawler's figures to ``<prefix>:figures`` at the end."""

    server: redis.Redis
    keys: Keys
    member: str

    def open_spider(self) -> None:
        settings = self.crawler.settings
        self.server = connect(settings.get("REDIS_URL"))
        self.keys = Keys(settings.get("SCALEOUT_PREFIX", PREFIX))
        self.member = settings.get("SCALEOUT_CRAWLER_ID") or crawler_id()
        # The writer adds these rows before the first page: the archive needs every site's domains and names
        # to key pages and to choose the canonical copy of a story.
        rows = {site.id: dumps(site.as_record()) for site in self.spider.sites.values()}
        if rows:
            self.server.hset(self.keys.sites, mapping=rows)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        self.server.rpush(self.keys.items, dumps(item_message(item, self.member)))
        self.spider.figures[item["site_id"]]["queued"] += 1
        item.pop("body", None)  # sent; Scrapy keeps the item a little longer
        return item

    def close_spider(self) -> None:
        from crawler.pipelines import crawl_figures

        spider = self.spider
        reason = self.crawler.stats.get_value("finish_reason") if self.crawler.stats else None
        message = {
            "v": MESSAGE_VERSION,
            "crawler": self.member,
            "started": spider.started.isoformat(timespec="seconds"),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "reason": str(reason or "finished"),
            "failure_threshold": spider.options.failure_threshold,
            "figures": crawl_figures(spider),
        }
        # Pushed before the scheduler's close takes this crawler off the live list: when the writer sees no
        # live crawler, every figure of the run is in.
        self.server.rpush(self.keys.figures, dumps(message))


# -- the crawl command's --redis path -----------------------------------------------------------------


def crawl_to_redis(args: Any, config: Any, sites: list[Any], out: TextIO = sys.stdout) -> int:
    """``crawl --redis URL``: no lock and no write to SQLite here (the writer holds both); ``--db``, when given,
    is only read, for the URLs the archive holds and the stories to re-check. Exit 0 once the crawl ran: a
    site this crawler never reached may have been another's, so the writer judges the sites."""
    from crawler.crawl import EXIT_OK, CannotStart, run_crawl

    idle = getattr(args, "redis_idle", None)
    options = RedisOptions(args.redis, IDLE_SECONDS if idle is None else idle)
    try:
        ping(options.url)
    except OSError as exc:
        raise CannotStart(str(exc)) from None
    db = Path(args.db) if args.db else None
    result = run_crawl(config, sites, db, backfill=args.backfill, log_file=args.log_file, redis=options)
    print_crawler_summary(result.figures, options.url, out)
    return EXIT_OK


CRAWLER_TABLE = (("requests", "requests"), ("listings", "listing_pages"), ("articles", "fetched"),
                 ("queued", "queued"), ("304", "not_modified"))


def print_crawler_summary(figures: dict[str, dict[str, Any]], url: str, out: TextIO) -> None:
    """This crawler's share: what the archive made of the pages is the writer's to say."""
    from crawler.pipelines import total_figures

    total = total_figures(figures)
    print(
        f"crawl: {len(figures)} sites, {total.get('requests', 0)} requests, {total.get('fetched', 0)} article "
        f"pages fetched, {total.get('queued', 0)} records sent to {safe_url(url)}, "
        f"{sum(total.get('errors', {}).values())} errors",
        file=out,
    )
    width = max([len("site"), *(len(site_id) for site_id in figures)])
    print(f"  {'site':<{width}} " + " ".join(f"{title:>8}" for title, _ in CRAWLER_TABLE), file=out)
    for site_id, counts in figures.items():
        cells = " ".join(f"{counts.get(key, 0):>8}" for _, key in CRAWLER_TABLE)
        print(f"  {site_id:<{width}} {cells}", file=out)
