"""Discovery: which links of a page are articles, listings or their pagination.

The rules are data: a site's own patterns first, then its CMS family's ``[discover]`` table, then the
generic table. Patterns are regexes matched against the URL's path (with ``?query`` when there is one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from parsel import Selector

from crawler.config import Site
from crawler.profiles import load_profile

LinkKind = Literal["article", "pagination", "listing"]

# A date printed beside a link on a listing: "15/01/2024", "15-01-2024 09:30", "2024-01-15", "(15/1/2024)".
LISTING_DATE = re.compile(
    r"(?:\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?\s*[-|,]?\s*)?"
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{4}-\d{2}-\d{2})"
    r"(?:[\sT|,-]+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp][Mm])?)?"
)
DATE_ATTRS = ("datetime", "content", "title")
# C0 controls (tab, newline and return aside): a stray one inside a tag makes an attribute name lxml refuses
# to hand over, and the whole page's links would be lost.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NEARBY_LEVELS = 3


@dataclass(frozen=True)
class Link:
    url: str
    kind: LinkKind
    listing_date: str | None = None


@dataclass(frozen=True)
class Page:
    chain: str  # the pagination URL with its page number replaced by "{n}"
    number: int


@dataclass(frozen=True)
class Rules:
    article: tuple[re.Pattern[str], ...]
    listing: tuple[re.Pattern[str], ...]
    pagination: tuple[re.Pattern[str], ...]
    deny: tuple[re.Pattern[str], ...]
    listing_date: tuple[str, ...]
    # Article URLs told by the generic patterns alone (no site or family ones): a site whose articles have
    # slug-only URLs ("/tin-tuc/xa-hoa-phong-to-chuc-hoi-nghi") would show none; see headline_article.
    guessed_articles: bool = False

    def classify(self, url: str) -> LinkKind | None:
        """The kind of a URL, or None when it is denied or of no interest. Deny wins, then article."""
        target = _target(url)
        if any(p.search(target) for p in self.deny):
            return None
        if any(p.search(target) for p in self.article):
            return "article"
        if any(p.search(target) for p in self.pagination):
            return "pagination"
        if any(p.search(target) for p in self.listing):
            return "listing"
        return None

    def page_of(self, url: str) -> Page | None:
        """Which pagination a URL belongs to and its page number, when it is a pagination URL.

        The number is the last run of digits inside the pattern's match (``?page=12``, ``/page-12``,
        ``_cur=12``, ``-c14-12.html``); the chain is the URL with that number blanked, so the pages of one
        listing share it."""
        target = _target(url)
        for pattern in self.pagination:
            match = pattern.search(target)
            if not match:
                continue
            digits = list(re.finditer(r"\d+", match.group(0)))
            if not digits:
                continue
            start, end = match.start() + digits[-1].start(), match.start() + digits[-1].end()
            parts = urlsplit(url)
            return Page(f"{parts.scheme}://{parts.netloc}{target[:start]}{{n}}{target[end:]}", int(target[start:end]))
        return None


def rules_for(site: Site, family: str | None) -> Rules:
    """The discovery rules of a site: its own patterns over its family's over the generic ones."""
    return _rules(site.article_patterns, site.listing_patterns, site.deny_patterns, family or "generic")


@cache
def _rules(
    article: tuple[str, ...], listing: tuple[str, ...], deny: tuple[str, ...], family: str
) -> Rules:
    fam = _discover_table(family)
    gen = _discover_table("generic")
    return Rules(
        article=_compile(article or fam.get("article_url") or gen["article_url"]),
        listing=_compile(listing or fam.get("listing_url") or gen["listing_url"]),
        pagination=_compile([*fam.get("pagination_url", []), *gen["pagination_url"]]),
        deny=_compile([*deny, *fam.get("deny_url", []), *gen["deny_url"]]),
        listing_date=tuple(fam.get("listing_date", []) + gen.get("listing_date", [])),
        guessed_articles=not article and (family == "generic" or not fam.get("article_url")),
    )


def _discover_table(family: str) -> dict:
    try:
        return load_profile(family).get("discover", {})
    except KeyError:
        return {}


def _compile(patterns: list[str] | tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path or '/'}?{parts.query}" if parts.query else (parts.path or "/")


def page_links(html: str, base_url: str, rules: Rules, hosts: tuple[str, ...]) -> list[Link]:
    """The article, listing and pagination links of a page, on the site's own hosts, first seen first.

    Each article link carries the date printed beside it on the listing, when there is one, so that a
    page whose own date lacks a year can take it from its listing.
    """
    selector = Selector(text=_CONTROL.sub("", html), base_url=base_url)
    base = _base_href(selector, base_url)
    found: dict[str, Link] = {}
    for anchor in selector.css("a[href]"):
        url = _absolute(base, anchor.attrib.get("href", ""))
        if not url or url in found or (urlsplit(url).hostname or "") not in hosts:
            continue
        kind = rules.classify(url)
        if kind is None:
            continue
        date = nearby_date(anchor, rules, base) if kind == "article" else None
        if kind == "listing" and rules.guessed_articles and headline_article(anchor, url):
            date = nearby_date(anchor, rules, base, alone=True)
            kind = "article" if date else kind
        found[url] = Link(url, kind, date)
    return list(found.values())


MIN_HEADLINE_WORDS = 6
MIN_SLUG_WORDS = 4


def headline_article(anchor: Selector, url: str) -> bool:
    """On a site whose articles no pattern describes: a link that reads as a news item, its text a headline
    (six words or more), its address a title slug (four words or more), a date printed beside it. Menu and
    category links have short names and no date."""
    text = " ".join(" ".join(anchor.css("::text").getall()).split())
    slug = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    slug = re.sub(r"\.\w{2,5}$", "", slug)
    return len(text.split()) >= MIN_HEADLINE_WORDS and len([w for w in slug.split("-") if w]) >= MIN_SLUG_WORDS


def next_pages(links: list[Link], current: str, rules: Rules) -> list[tuple[Link, Page]]:
    """The pagination links to follow from a listing page: in each pagination chain the page coming right
    after this one (its own chain), or page 2 or the lowest page above it (a chain this page enters: a
    listing's first page links its page 2, 3, ...; "page 1" is this page again under another URL).
    Walking one page at a time is what lets a run stop at the first page that holds nothing new, and keeps
    numbered pagers (1 2 3 ... 500) from queuing a whole archive at once."""
    here = rules.page_of(current)
    best: dict[str, tuple[Link, Page]] = {}
    for link in links:
        page = rules.page_of(link.url) if link.kind == "pagination" else None
        if page is None or link.url == current:
            continue
        floor = here.number if here and page.chain == here.chain else 1
        if page.number <= floor:
            continue  # backwards, or the first page again
        known = best.get(page.chain)
        if known is None or page.number < known[1].number:
            best[page.chain] = (link, page)
    return list(best.values())


def _base_href(selector: Selector, url: str) -> str:
    base = selector.css("base::attr(href)").get()
    return urljoin(url, base) if base else url


def _absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
        return None
    url, _ = urldefrag(urljoin(base, href))
    return url if url.startswith(("http://", "https://")) else None


def nearby_date(anchor: Selector, rules: Rules, base: str, alone: bool = False) -> str | None:
    """The date printed with a listing item: in the link itself or its nearest ancestors, as long as the
    ancestor holds no other article link (so a neighbour's date is never taken); with ``alone``, no other
    link at all (when the neighbours' kind is not known)."""
    own = _date_in(anchor)
    if own:
        return own
    own_url = _absolute(base, anchor.attrib.get("href", ""))
    node = anchor
    for _ in range(NEARBY_LEVELS):
        parents = node.xpath("..")
        if not parents:
            break
        node = parents[0]
        if _holds_other_article(node, own_url, rules, base, any_link=alone):
            break
        for css in rules.listing_date:
            for element in node.css(css):
                date = _date_in(element)
                if date:
                    return date
        date = _date_in(node)
        if date:
            return date
    return None


def _holds_other_article(node: Selector, own_url: str | None, rules: Rules, base: str, any_link: bool = False) -> bool:
    for other in node.css("a[href]"):
        url = _absolute(base, other.attrib.get("href", ""))
        if url and url != own_url and (any_link or rules.classify(url) == "article"):
            return True
    return False


def _date_in(element: Selector) -> str | None:
    for attr in DATE_ATTRS:
        value = element.attrib.get(attr)
        if value and LISTING_DATE.search(value):
            return value.strip()
    text = " ".join(t.strip() for t in element.css("::text").getall() if t.strip())
    match = LISTING_DATE.search(text)
    return match.group(0).strip() if match else None


# -- sitemaps and feeds ---------------------------------------------------------------------------------

MAX_SITEMAP_ENTRIES = 50_000
FEED_TYPES = ("application/rss+xml", "application/atom+xml")


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    is_sitemap: bool
    lastmod: str | None = None


def robots_sitemaps(robots_txt: str, base_url: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt."""
    found = []
    for line in robots_txt.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.append(urljoin(base_url, value.strip()))
    return found


def sitemap_entries(body: bytes) -> list[SitemapEntry]:
    """Entries of a sitemap or sitemap index. Entities are never resolved (no XML bomb), and a sitemap of
    more than MAX_SITEMAP_ENTRIES entries is cut there."""
    from scrapy.utils.sitemap import Sitemap

    try:
        sitemap = Sitemap(body)
    except Exception:  # lxml raises several types on garbage; a bad sitemap is just empty
        return []
    is_index = sitemap.type == "sitemapindex"
    entries = []
    try:
        for entry in sitemap:
            if len(entries) >= MAX_SITEMAP_ENTRIES:
                break
            if entry.get("loc"):
                entries.append(SitemapEntry(entry["loc"], is_index, entry.get("lastmod") or None))
    except Exception:
        pass  # a truncated sitemap still yields what came before the break
    return entries


def feed_urls(html: str, base_url: str) -> list[str]:
    """RSS and Atom feeds a page announces with ``<link rel=alternate>``."""
    selector = Selector(text=_CONTROL.sub("", html), base_url=base_url)
    urls = []
    for link in selector.css("link[rel=alternate][href]"):
        if (link.attrib.get("type") or "").lower() in FEED_TYPES:
            urls.append(urljoin(base_url, link.attrib["href"]))
    return urls


def feed_items(body: bytes) -> list[tuple[str, str | None]]:
    """(link, date) of each RSS item or Atom entry."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    items = []
    for node in root.iter():
        tag = _localname(node)
        if tag == "item":
            link = node.findtext("link") or ""
            date = node.findtext("pubDate")
        elif tag == "entry":
            href = next((el.get("href") for el in node if _localname(el) == "link"), None)
            link = href or ""
            date = next((el.text for el in node if _localname(el) in ("published", "updated")), None)
        else:
            continue
        if link.strip():
            items.append((link.strip(), date.strip() if date else None))
    return items


def _localname(node: object) -> str:
    """An element's name without its namespace; "" for comments, processing instructions and the odd names a
    recovering parser makes of garbage (``<:``), which QName refuses."""
    from lxml import etree

    tag = getattr(node, "tag", None)
    if not isinstance(tag, str):
        return ""
    try:
        return etree.QName(tag).localname
    except ValueError:
        return ""
