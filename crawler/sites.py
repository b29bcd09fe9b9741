"""``python -m crawler sites check|probe``: help the operator add and fix sites."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import urllib.robotparser
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

from crawler.config import DEFAULT_CONTACT, Site, check_config, load_config

PROBE_TIMEOUT = 30
PROBE_MAX_BYTES = 16 * 2**20


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


def main_probe(url: str, as_json: bool = False, out: TextIO = sys.stdout) -> int:
    try:
        html, headers, final_url = fetch(url)
    except ProbeError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    report = probe_page(html, headers, final_url)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2), file=out)
    else:
        print_report(report, out)
    return 0


class ProbeError(Exception):
    pass


def fetch(url: str) -> tuple[bytes, dict[str, str], str]:
    """One polite GET: robots.txt is asked first, the crawler's User-Agent is sent."""
    agent = f"vn-gov-news-archive/0.1 (+news archive crawler; contact: {DEFAULT_CONTACT})"
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProbeError(f"not an http(s) URL: {url}")
    robots = urllib.robotparser.RobotFileParser(urljoin(url, "/robots.txt"))
    try:
        robots.read()
        if not robots.can_fetch(agent, url):
            raise ProbeError(f"robots.txt of {urlsplit(url).netloc} disallows {url}")
    except (urllib.error.URLError, OSError):
        pass  # no robots.txt reachable: allowed, as Scrapy does
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            body = response.read(PROBE_MAX_BYTES)
            return body, dict(response.headers.items()), response.geturl()
    except urllib.error.HTTPError as exc:
        raise ProbeError(f"{url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ProbeError(f"{url}: {getattr(exc, 'reason', exc)}") from None


def probe_page(html: bytes, headers: dict[str, str], url: str) -> dict[str, Any]:
    """What the crawler would make of a page: its family, the selectors used, links found, the extraction."""
    from crawler.dates import choose_published
    from crawler.discovery import page_links, rules_for
    from crawler.extract import extract
    from crawler.extract.detect import detect_family
    from crawler.profiles import load_profile

    extraction = extract(html, url, headers=headers)
    text = html.decode("utf-8", "replace")
    family = detect_family(text)
    host = urlsplit(url).hostname or ""
    site = Site(id="probe", name=host, province="", kind="government", start_urls=(url,))
    links = page_links(text, url, rules_for(site, family), (host,))
    choice = choose_published(extraction.date_candidates)
    return {
        "url": url,
        "family": family,
        "selectors": load_profile(family).get("extract", {}) if family else {},
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
