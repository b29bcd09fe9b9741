"""Scrapy settings of the crawler. The crawl command overrides some from the sites file's [crawler] table."""

BOT_NAME = "vn-gov-news-archive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness: robots.txt obeyed, an identifiable User-Agent (the contact comes from the config),
# one request at a time per site, AutoThrottle over a per-site floor delay.
ROBOTSTXT_OBEY = True
USER_AGENT = "vn-gov-news-archive/0.1 (+archive of Vietnamese government news; archive-operator@example.org)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
# Scrapy (2.13+, asyncio reactor) starts this many tasks for every response to work through its items and
# requests; the default 100 was a tenth of the crawl's CPU (bench/bench_crawl.py --profile). An article
# response carries one item, and the archive's writes run in their own thread (crawler/pipelines.py), so more
# gains nothing.
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = 1.0
# Scrapy's jitter spreads each delay from 0.5x to 1.5x: a site's delay would no longer be a floor.
DOWNLOAD_DELAY_JITTER = 0.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOADER_MIDDLEWARES = {
    # Just outside RedirectMiddleware (600): redirects off the site or in a loop fail with a recorded reason.
    "crawler.middlewares.SiteBoundsMiddleware": 650,
    # Next to the downloader: counts each HTTP exchange (retries and redirect hops included) per site.
    "crawler.middlewares.SiteFiguresMiddleware": 950,
}
EXTENSIONS = {
    "scrapy.extensions.throttle.AutoThrottle": None,
    "crawler.throttle.SiteAutoThrottle": 0,
}

DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A page of many megabytes is read up to this size; larger ones are dropped and recorded.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Scrapy's remote control runs Python sent to a local HTTP port and leaves job files in the home folder:
# nothing an unattended nightly crawl should open.
REMOTE_CONTROL_ENABLED = False
DEPTH_LIMIT = 0
DUPEFILTER_CLASS = "scrapy.dupefilters.RFPDupeFilter"

ITEM_PIPELINES = {
    "crawler.pipelines.ExtractPipeline": 100,
    "crawler.pipelines.DatePipeline": 200,
    "crawler.pipelines.ArchivePipeline": 900,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
ARCHIVE_DB = "archive.db"
