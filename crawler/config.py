"""Site configuration: a TOML file with one ``[[site]]`` table per site and an optional ``[crawler]`` table.

Loading a config runs no code: it is parsed with :mod:`tomllib` and every key is checked against the
schema below, so a typo is reported with the site and the key instead of being silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KINDS = ("government", "front", "party")
FAMILIES = ("nukeviet", "vhv", "tandan", "sharepoint", "aspnet-ui", "liferay", "wordpress", "generic")
SELECTOR_KEYS = ("title", "date", "lead", "body", "author", "source", "junk")

# key -> (type, required). Types are checked; anything else is an unknown key.
SITE_KEYS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    "id": (str, True),
    "name": (str, True),
    "province": (str, True),
    "kind": (str, True),
    "start_urls": (list, True),
    "family": (str, False),
    "aliases": (list, False),
    "allowed_domains": (list, False),
    "selectors": (dict, False),
    "article_patterns": (list, False),
    "listing_patterns": (list, False),
    "deny_patterns": (list, False),
    "download_delay": ((int, float), False),
    "concurrency": (int, False),
    "max_pages": (int, False),
    "max_listing_pages": (int, False),
    "max_page_number": (int, False),
    "recheck_days": (int, False),
    "verified": ((bool, str), False),
    "notes": (str, False),
    "enabled": (bool, False),
}

CRAWLER_KEYS: dict[str, type | tuple[type, ...]] = {
    "user_agent": str,
    "contact": str,
    "download_delay": (int, float),
    "autothrottle": bool,
    "autothrottle_start_delay": (int, float),
    "autothrottle_max_delay": (int, float),
    "max_pages": int,
    "max_pages_per_site": int,
    "max_listing_pages": int,
    "max_page_number": int,
    "max_listing_depth": int,
    "recheck_days": int,
    "max_rechecks_per_site": int,
    "timeout": (int, float),
    "retries": int,
    "failure_threshold": (int, float),
    "log_file": str,
    "log_max_bytes": int,
    "log_backups": int,
    "backfill": dict,
}
# The limits a run stops at; [crawler.backfill] gives --backfill runs their own, larger ones.
LIMIT_KEYS = ("max_pages", "max_pages_per_site", "max_listing_pages", "max_page_number", "max_listing_depth")
# Keys that must be positive whole numbers (0 would stop a crawl before it starts).
POSITIVE_KEYS = (*LIMIT_KEYS, "max_rechecks_per_site", "log_max_bytes")
CONTACT = re.compile(r"^(?:[^@\s]+@[^@\s]+\.[^@\s]+|https?://\S+)$")

DEFAULT_CONTACT = "archive-operator@example.org"
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ConfigError(ValueError):
    """A configuration that cannot be used. The message names the site and the key."""


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    province: str
    kind: str
    start_urls: tuple[str, ...]
    family: str | None = None
    aliases: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    selectors: dict[str, Any] = field(default_factory=dict)
    article_patterns: tuple[str, ...] = ()
    listing_patterns: tuple[str, ...] = ()
    deny_patterns: tuple[str, ...] = ()
    download_delay: float | None = None
    concurrency: int = 1
    max_pages: int | None = None
    max_listing_pages: int | None = None
    max_page_number: int | None = None
    recheck_days: int | None = None
    verified: bool | str = False
    notes: str = ""
    enabled: bool = True

    @property
    def hosts(self) -> tuple[str, ...]:
        """Host names this site may be crawled on (start URLs' hosts plus allowed_domains)."""
        hosts = [urlsplit(u).hostname or "" for u in self.start_urls]
        return tuple(dict.fromkeys(h for h in [*hosts, *self.allowed_domains] if h))

    def as_record(self) -> dict[str, Any]:
        """The row the archive keeps in its ``sites`` table."""
        return {
            "id": self.id,
            "name": self.name,
            "province": self.province,
            "kind": self.kind,
            "family": self.family,
            "start_urls": list(self.start_urls),
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class Limits:
    """Where a run stops. Budgets count listing and article requests (robots.txt, sitemaps and feeds aside)."""

    max_pages: int  # all sites together
    max_pages_per_site: int
    max_listing_pages: int  # listing and pagination pages per site
    max_page_number: int  # the highest page number followed in any pagination (endless ?page=N traps)
    max_listing_depth: int  # hops from a start URL through listing links (calendars, tag clouds)


NIGHTLY_LIMITS = Limits(
    max_pages=100_000, max_pages_per_site=5_000, max_listing_pages=200, max_page_number=30, max_listing_depth=4
)
BACKFILL_LIMITS = Limits(
    max_pages=1_000_000, max_pages_per_site=50_000, max_listing_pages=5_000, max_page_number=500, max_listing_depth=6
)


@dataclass(frozen=True)
class CrawlerOptions:
    user_agent: str | None = None
    contact: str = DEFAULT_CONTACT
    download_delay: float = 1.0
    autothrottle: bool = True
    autothrottle_start_delay: float = 1.0
    autothrottle_max_delay: float = 30.0
    max_pages: int = NIGHTLY_LIMITS.max_pages
    max_pages_per_site: int = NIGHTLY_LIMITS.max_pages_per_site
    max_listing_pages: int = NIGHTLY_LIMITS.max_listing_pages
    max_page_number: int = NIGHTLY_LIMITS.max_page_number
    max_listing_depth: int = NIGHTLY_LIMITS.max_listing_depth
    recheck_days: int = 7  # stories published this recently are fetched again (conditionally) every run
    max_rechecks_per_site: int = 200
    timeout: float = 30.0
    retries: int = 2
    failure_threshold: float = 0.5
    log_file: str | None = None
    log_max_bytes: int = 10 * 2**20
    log_backups: int = 7
    backfill: Limits = BACKFILL_LIMITS

    @property
    def agent(self) -> str:
        """The User-Agent: the configured one, or the crawler's name with the contact address."""
        return self.user_agent or f"vn-gov-news-archive/0.1 (+news archive crawler; contact: {self.contact})"

    def limits(self, site: Site | None = None, backfill: bool = False) -> Limits:
        """The limits of a run for a site: a site's own keys override the nightly ones; a backfill run uses
        [crawler.backfill] (its own, larger limits) whatever the site says."""
        if backfill:
            return self.backfill
        own = site or Site(id="-", name="", province="", kind="government", start_urls=())
        return Limits(
            max_pages=self.max_pages,
            max_pages_per_site=own.max_pages or self.max_pages_per_site,
            max_listing_pages=own.max_listing_pages or self.max_listing_pages,
            max_page_number=own.max_page_number or self.max_page_number,
            max_listing_depth=self.max_listing_depth,
        )

    def recheck_days_of(self, site: Site) -> int:
        return self.recheck_days if site.recheck_days is None else site.recheck_days


@dataclass(frozen=True)
class Config:
    sites: tuple[Site, ...]
    crawler: CrawlerOptions
    path: Path | None = None

    def select(self, ids: list[str] | None) -> list[Site]:
        """The enabled sites, or the named ones (named sites are taken even when disabled)."""
        if not ids:
            return [s for s in self.sites if s.enabled]
        known = {s.id: s for s in self.sites}
        missing = [i for i in ids if i not in known]
        if missing:
            raise ConfigError(f"unknown site id(s): {', '.join(missing)}")
        return [known[i] for i in ids]


def load_config(path: str | Path) -> Config:
    """Read and validate a sites file. Raises ConfigError with a one-line message."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, path)


def load_sites(path: str | Path) -> list[Site]:
    return list(load_config(path).sites)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "config"
    unknown = set(data) - {"site", "crawler"}
    if unknown:
        raise ConfigError(f"{where}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    raw_sites = data.get("site", [])
    if not isinstance(raw_sites, list) or not raw_sites:
        raise ConfigError(f"{where}: no [[site]] entries")
    sites = [parse_site(raw, index, where) for index, raw in enumerate(raw_sites, 1)]
    seen: set[str] = set()
    for site in sites:
        if site.id in seen:
            raise ConfigError(f"{where}: site {site.id!r}: duplicate id")
        seen.add(site.id)
    return Config(tuple(sites), parse_crawler(data.get("crawler", {}), where), path)


def check_config(path: str | Path) -> list[str]:
    """Every problem of a sites file, one message each (``load_config`` stops at the first)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"{path}: cannot read: {exc}"]
    problems = []
    where = str(path)
    unknown = set(data) - {"site", "crawler"}
    if unknown:
        problems.append(f"{where}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    try:
        parse_crawler(data.get("crawler", {}), where)
    except ConfigError as exc:
        problems.append(str(exc))
    raw_sites = data.get("site", [])
    if not isinstance(raw_sites, list) or not raw_sites:
        return [*problems, f"{where}: no [[site]] entries"]
    seen: set[str] = set()
    for index, raw in enumerate(raw_sites, 1):
        try:
            site = parse_site(raw, index, where)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if site.id in seen:
            problems.append(f"{where}: site {site.id!r}: duplicate id")
        seen.add(site.id)
    return problems


def parse_crawler(raw: Any, where: str) -> CrawlerOptions:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [crawler] must be a table")
    for key, value in raw.items():
        if key not in CRAWLER_KEYS:
            raise ConfigError(f"{where}: [crawler]: unknown key {key!r}")
        if not _is(value, CRAWLER_KEYS[key]):
            raise ConfigError(f"{where}: [crawler]: key {key!r} has the wrong type ({type(value).__name__})")
    _check_crawler_values(raw, f"{where}: [crawler]")
    values = {k: v for k, v in raw.items() if k != "backfill"}
    return CrawlerOptions(**values, backfill=parse_backfill(raw.get("backfill", {}), where))


def parse_backfill(raw: dict[str, Any], where: str) -> Limits:
    """[crawler.backfill]: the limits of a --backfill run; unset keys keep the backfill defaults."""
    label = f"{where}: [crawler.backfill]"
    for key, value in raw.items():
        if key not in LIMIT_KEYS:
            raise ConfigError(f"{label}: unknown key {key!r} (known: {', '.join(LIMIT_KEYS)})")
        if not _is(value, int) or value < 1:
            raise ConfigError(f"{label}: key {key!r} must be a whole number of at least 1")
    return replace(BACKFILL_LIMITS, **raw)


def _check_crawler_values(raw: dict[str, Any], label: str) -> None:
    for key in POSITIVE_KEYS:
        if key in raw and raw[key] < 1:
            raise ConfigError(f"{label}: key {key!r} must be at least 1")
    for key in ("download_delay", "autothrottle_start_delay", "autothrottle_max_delay", "recheck_days",
                "retries", "log_backups"):
        if key in raw and raw[key] < 0:
            raise ConfigError(f"{label}: key {key!r} must not be negative")
    if "timeout" in raw and raw["timeout"] <= 0:
        raise ConfigError(f"{label}: key 'timeout' must be more than 0 seconds")
    if "failure_threshold" in raw and not 0 <= raw["failure_threshold"] <= 1:
        raise ConfigError(f"{label}: key 'failure_threshold' must be between 0 and 1 (a share of fetches)")
    if "contact" in raw and not CONTACT.match(raw["contact"]):
        raise ConfigError(f"{label}: key 'contact' must be an e-mail address or an http(s) URL")


def parse_site(raw: Any, index: int, where: str) -> Site:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: site #{index}: must be a table")
    label = f"{where}: site {raw.get('id', f'#{index}')!r}"
    unknown = sorted(set(raw) - set(SITE_KEYS))
    if unknown:
        raise ConfigError(f"{label}: unknown key(s): {', '.join(unknown)}")
    for key, (kind, required) in SITE_KEYS.items():
        if required and key not in raw:
            raise ConfigError(f"{label}: missing key {key!r}")
        if key in raw and not _is(raw[key], kind):
            raise ConfigError(f"{label}: key {key!r} has the wrong type ({type(raw[key]).__name__})")
    _check_values(raw, label)
    return Site(
        id=raw["id"],
        name=raw["name"],
        province=raw["province"],
        kind=raw["kind"],
        start_urls=tuple(raw["start_urls"]),
        family=raw.get("family"),
        aliases=tuple(raw.get("aliases", ())),
        allowed_domains=tuple(raw.get("allowed_domains", ())),
        selectors=dict(raw.get("selectors", {})),
        article_patterns=tuple(raw.get("article_patterns", ())),
        listing_patterns=tuple(raw.get("listing_patterns", ())),
        deny_patterns=tuple(raw.get("deny_patterns", ())),
        download_delay=raw.get("download_delay"),
        concurrency=raw.get("concurrency", 1),
        max_pages=raw.get("max_pages"),
        max_listing_pages=raw.get("max_listing_pages"),
        max_page_number=raw.get("max_page_number"),
        recheck_days=raw.get("recheck_days"),
        verified=raw.get("verified", False),
        notes=raw.get("notes", ""),
        enabled=raw.get("enabled", True),
    )


def _check_values(raw: dict[str, Any], label: str) -> None:
    if not SITE_ID.match(raw["id"]):
        raise ConfigError(f"{label}: key 'id' must be lowercase letters, digits and dashes")
    if raw["kind"] not in KINDS:
        raise ConfigError(f"{label}: key 'kind' must be one of {', '.join(KINDS)} (got {raw['kind']!r})")
    if raw.get("family") is not None and raw["family"] not in FAMILIES:
        raise ConfigError(f"{label}: key 'family' must be one of {', '.join(FAMILIES)} (got {raw['family']!r})")
    if not raw["start_urls"]:
        raise ConfigError(f"{label}: key 'start_urls' is empty")
    for url in raw["start_urls"]:
        parts = urlsplit(url) if isinstance(url, str) else None
        if not parts or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{label}: key 'start_urls': not an http(s) URL: {url!r}")
    for key in ("article_patterns", "listing_patterns", "deny_patterns"):
        for pattern in raw.get(key, ()):
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise ConfigError(f"{label}: key {key!r}: bad pattern {pattern!r}: {exc}") from None
    for key, value in raw.get("selectors", {}).items():
        if key not in SELECTOR_KEYS:
            raise ConfigError(f"{label}: key 'selectors.{key}' is unknown (known: {', '.join(SELECTOR_KEYS)})")
        for css in [value] if isinstance(value, str) else value if isinstance(value, list) else [None]:
            problem = _css_problem(css)
            if problem:
                raise ConfigError(f"{label}: key 'selectors.{key}': {problem}")
    for key in ("concurrency", "max_pages", "max_listing_pages", "max_page_number"):
        if key in raw and raw[key] < 1:
            raise ConfigError(f"{label}: key {key!r} must be at least 1")
    if raw.get("recheck_days", 0) < 0:
        raise ConfigError(f"{label}: key 'recheck_days' must not be negative")
    if raw.get("download_delay", 0) < 0:
        raise ConfigError(f"{label}: key 'download_delay' must not be negative")


def _css_problem(css: Any) -> str | None:
    """Why a CSS selector cannot be used, or None."""
    from cssselect import GenericTranslator, SelectorError

    if not isinstance(css, str) or not css.strip():
        return "must be a CSS selector or a list of them"
    try:
        GenericTranslator().css_to_xpath(css)
    except SelectorError as exc:
        return f"bad CSS selector {css!r}: {exc}"
    return None


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    # TOML booleans are ints to isinstance(); a number key must not accept true/false.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        return False
    return isinstance(value, kind)
