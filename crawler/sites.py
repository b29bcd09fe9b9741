"""``python -m crawler sites check|probe``: help the operator add and fix sites."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import urllib.robotparser
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

from crawler.config import ConfigError, CrawlerOptions, Site, check_config, load_config

PROBE_TIMEOUT = 30
PROBE_MAX_BYTES = 16 * 2**20
DEFAULT_AGENT = CrawlerOptions().agent


def main_check(path: str, out: TextIO = sys.stdout) -> int:
    problems = check_config(path)
    for problem in problems:
        print(problem, file=out)
    if problems:
        print(f"{len(problems)} problem(s)", file=out)
        return 1
    config = load_config(path)
    enabled = sum(s.enabled for s in config.sites)
    unverified = sum(not s.verified for s in config.sites)
    print(f"{path}: ok: {len(config.sites)} sites ({enabled} enabled, {unverified} not yet verified)", file=out)
    return 0


def main_probe(url: str, as_json: bool = False, out: TextIO = sys.stdout, sites_path: str | None = None) -> int:
    """Probe one page as the crawler would: with ``sites_path``, under the sites file's User-Agent and with
    the rules (family, selectors, URL patterns) of the configured site the URL belongs to."""
    agent, site = DEFAULT_AGENT, None
    if sites_path:
        try:
            config = load_config(sites_path)
        except ConfigError as exc:
            print(f"probe: {exc}", file=sys.stderr)
            return 2
        agent, site = config.crawler.agent, site_of(url, config.sites)
    try:
        html, headers, final_url = fetch(url, agent)
    except ProbeError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    report = probe_page(html, headers, final_url, site)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
    else:
        print_report(report, out)
    return 0


def site_of(url: str, sites: list[Site]) -> Site | None:
    """The configured site whose hosts include the URL's host (www. or not)."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    for site in sites:
        if host in {h.removeprefix("www.") for h in site.hosts}:
            return site
    return None


class ProbeError(Exception):
    pass


def fetch(url: str, agent: str = DEFAULT_AGENT) -> tuple[bytes, dict[str, str], str]:
    """One polite GET: robots.txt is asked first, the crawler's User-Agent is sent."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProbeError(f"not an http(s) URL: {url}")
    if not robots_allow(url, agent):
        raise ProbeError(f"robots.txt of {urlsplit(url).netloc} disallows {url}")
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            body = response.read(PROBE_MAX_BYTES)
            return body, dict(response.headers.items()), response.geturl()
    except urllib.error.HTTPError as exc:
        raise ProbeError(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ProbeError(f"{url}: {getattr(exc, 'reason', exc)}") from None


def robots_allow(url: str, agent: str) -> bool:
    """Whether the site's robots.txt lets ``agent`` fetch ``url``. It is fetched under that agent (the
    standard library's reader would send its own). None reachable, or an error status: allowed, as in Scrapy."""
    robots_url = urljoin(url, "/robots.txt")
    request = urllib.request.Request(robots_url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            lines = response.read(PROBE_MAX_BYTES).decode("utf-8", "replace").splitlines()
    except (urllib.error.URLError, OSError, ValueError):
        return True
    robots = urllib.robotparser.RobotFileParser(robots_url)
    robots.parse(lines)
    return robots.can_fetch(agent, url)


def probe_page(html: bytes, headers: dict[str, str], url: str, site: Site | None = None) -> dict[str, Any]:
    """What the crawler would make of a page: its family, the selectors used, links found, the extraction.
    With ``site``, its own selectors, family and URL patterns apply, as in a crawl."""
    from crawler.dates import choose_published
    from crawler.discovery import page_links, rules_for
    from crawler.extract import extract
    from crawler.profiles import load_profile

    extraction = extract(
        html, url, headers=headers, selectors=(site.selectors or None) if site else None,
        family=site.family if site else None,
    )
    text = html.decode("utf-8", "replace")
    family = (site.family if site else None) or extraction.family  # as detected by the extraction
    host = urlsplit(url).hostname or ""
    if site is None:
        site = Site(id="probe", name=host, province="", kind="government", start_urls=(url,))
    links = page_links(text, url, rules_for(site, family), site.hosts or (host,))
    choice = choose_published(extraction.date_candidates)
    selectors = {**(load_profile(family).get("extract", {}) if family else {}), **site.selectors}
    return {
        "url": url,
        "site": None if site.id == "probe" else site.id,
        "family": family,
        "selectors": selectors,
        "links": {
            kind: [link.url for link in links if link.kind == kind][:10]
            for kind in ("article", "listing", "pagination")
        },
        "extraction": {
            **{k: v for k, v in extraction.to_dict().items() if k not in ("paragraphs",)},
            "published": choice.iso if choice else None,
            "published_source": choice.source if choice else None,
        },
    }


def print_report(report: dict[str, Any], out: TextIO) -> None:
    ex = report["extraction"]
    print(f"URL:       {report['url']}", file=out)
    print(f"site:      {report['site'] or 'none configured (generic rules)'}", file=out)
    print(f"family:    {report['family'] or 'unknown (generic rules and trafilatura)'}", file=out)
    print(f"method:    {ex.get('method')}", file=out)
    for key, value in sorted(report["selectors"].items()):
        print(f"  selector {key}: {value}", file=out)
    for kind, urls in report["links"].items():
        print(f"{kind} links: {len(urls)}{' (first 10)' if len(urls) == 10 else ''}", file=out)
        for link in urls[:3]:
            print(f"  {link}", file=out)
    print(f"article:   {'yes' if ex.get('ok') else 'no (' + str(ex.get('reason')) + ')'}", file=out)
    for key in ("title", "published", "published_source", "author", "source", "category", "view_count"):
        print(f"{key + ':':<11}{ex.get(key)}", file=out)
    body = ex.get("body") or ""
    print(f"body:      {len(body.split())} words, {body.count(chr(10) * 2) + 1 if body else 0} paragraphs", file=out)
    print(f"           {body[:300]}{'...' if len(body) > 300 else ''}", file=out)
