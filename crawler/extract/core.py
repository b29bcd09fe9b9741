"""extract(): the layers in order.

1. the site's own selectors (its config), 2. the CMS family's profile (forced by the config or detected
from fingerprints), 3. trafilatura when neither finds a body, 4. the Vietnamese boilerplate filter over the
resulting paragraphs; then the byline and source lines are moved out of the body into their fields.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from . import generic
from .boilerplate import Rule, filter_lines
from .decode import decode_html
from .detect import detect_family, has_password_field, looks_like_login, page_problem
from .fields import (
    bare_count,
    category_from_breadcrumb,
    find_attachments,
    is_org_line,
    peel_credits,
    route_credit,
    view_count_from_text,
    without_view_count,
)
from .model import Extraction
from .profiles import (
    GENERIC,
    Detect,
    Profile,
    as_selector_list,
    get_profile,
    merged,
    select_all,
    select_any,
    select_every,
    select_first,
)
from .text import Block, Image, clean_text, extract_blocks

logger = logging.getLogger(__name__)

SITE_KEYS = ("title", "date", "updated", "lead", "body", "author", "source", "category", "views", "attachments", "junk")
# Bylines that name an account, not a writer.
ACCOUNT_NAMES = frozenset(
    {"admin", "administrator", "quản trị", "quản trị viên", "quantri", "editor", "webmaster", "root"}
)
MAX_TITLE = 400
# A body selector must find at least this much text (or a picture), or the next layer is tried.
MIN_BODY_CHARS = 20
FIRST_SENTENCE_CHARS = 220
# Lines shorter than this are furniture-sized (menus, labels); a date line above the first longer one is
# the page's date line.
SHORT_LINE = 80
TITLE_SEARCH_BLOCKS = 5
# trafilatura takes up to ~0.06 ms per element, in the crawl's only thread: 5 MB of "<p><b><i>x" (1.5 million
# elements) would stall every site for a minute and a half. Real article pages have a few thousand elements (a
# 40,000-link sidebar makes 77,000); one with more than this and no body the site's or family's selectors find
# is rejected as "too-complex" (at most ~9 s spent on it).
MAX_GENERIC_ELEMENTS = 150_000
TOO_COMPLEX = "too-complex"
_URL_DATE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})[/\-](\d{1,2})[/\-](\d{1,2})(?!\d)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


def extract(
    html: bytes | str,
    url: str | None = None,
    *,
    selectors: dict | None = None,
    headers: dict | None = None,
    family: str | None = None,
) -> Extraction:
    """Reads one page. Never raises: a page it cannot read comes back with ok=False and a reason."""
    try:
        return _extract(html, url, selectors, headers, family)
    except Exception as error:  # the contract: record the failure, never raise into the pipeline
        logger.exception("extraction failed for %s", url)
        return Extraction(ok=False, reason=f"error: {type(error).__name__}: {error}"[:300])


_TITLE_OPEN = re.compile(r"(?i)<title\b[^>]*>")


def _close_unclosed_title(text: str) -> str:
    """A <title> left open swallows the whole page (its content is raw text up to </title>): close it
    at the next tag when that tag is not its end."""
    match = _TITLE_OPEN.search(text, 0, 200_000)
    if not match:
        return text
    next_tag = text.find("<", match.end())
    if next_tag < 0 or text.startswith("</title", next_tag) or text.startswith("</TITLE", next_tag):
        return text
    return f"{text[:next_tag]}</title>{text[next_tag:]}"


# lxml.html's parser picks each element's Python class with a lookup written in Python, called for every
# element the extraction touches (some 700 a page, a tenth of extract()'s time); this one runs in C. Every
# element is an HtmlElement as before; only <form>, <input>, <select>, <textarea> and <label> lose their
# form-handling subclasses, which nothing here (nor trafilatura) uses.
_ELEMENT_CLASSES = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)
_parsers = threading.local()  # an lxml parser is not to be shared between threads


def _parser() -> etree.HTMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)
        parser.set_element_class_lookup(_ELEMENT_CLASSES)
    return parser


def parse_html(text: str) -> Any | None:
    """An lxml document, or None when there is nothing to parse."""
    if not text.strip():
        return None
    text = _close_unclosed_title(text)
    try:
        return lxml.html.document_fromstring(text, parser=_parser())
    except (etree.ParserError, ValueError):
        return None


def _extract(
    html: bytes | str, url: str | None, selectors: dict | None, headers: dict | None, family: str | None
) -> Extraction:
    result = Extraction()
    text, result.encoding = decode_html(html if html is not None else b"", headers)
    doc = parse_html(text)
    problem = page_problem(doc, text, headers)
    if problem:
        result.reason = problem
        return result
    base_url = _base_url(doc, url)
    result.canonical_url = _canonical(doc, base_url)
    result.family = family if get_profile(family) else detect_family(doc, text, url)
    layers = _Layers(site=_site_profile(selectors), family=get_profile(result.family), generic=get_profile(GENERIC))

    result.title, title_node = _read_title(doc, layers)
    if looks_like_login(doc, url, result.title):
        result.reason = "login-page"
        return result
    found = _Found(jsonld=generic.jsonld_fields(doc))
    found.meta_published, found.meta_updated = generic.metadata_dates(doc, layers.selectors("distrust_dates"))
    date_node = _read_visible_dates(doc, layers, title_node, result)
    credit_nodes = _read_credit_elements(doc, layers, found)

    blocks, images, result.method = _read_body(doc, layers, base_url, exclude=[title_node, date_node, *credit_nodes])
    if result.method == TOO_COMPLEX:
        result.method, result.reason = None, TOO_COMPLEX
        return result
    if result.method == "generic":
        blocks = _drop_title_block(blocks, result.title)
    blocks = _apply_boilerplate(blocks, result)
    blocks = _move_credits(blocks, images, result, found)
    _finish(result, blocks, images, doc, layers, found, url, base_url)
    if result.view_count is None and result.method == "generic":
        result.view_count = generic.view_count_after(title_node if title_node is not None else
                                                     generic.find_title_node(doc, result.title))
    result.ok = bool(result.paragraphs)
    if not result.ok:
        result.reason = "login-page" if has_password_field(doc) else "no-body"
    return result


@dataclass
class _Found:
    """What the page says outside the body, kept until the body's own lines have had their say."""

    jsonld: dict[str, str] = field(default_factory=dict)
    meta_published: list[str] = field(default_factory=list)
    meta_updated: list[str] = field(default_factory=list)
    author: str | None = None
    source: str | None = None
    views: int | None = None


class _Layers:
    """The selector sources in order of trust: site config, family profile, generic profile."""

    def __init__(self, site: Profile | None, family: Profile | None, generic: Profile | None) -> None:
        self.site, self.family, self.generic = site, family, generic

    def selectors(self, key: str, with_generic: bool = True) -> tuple[str, ...]:
        return merged(key, self.site, self.family, self.generic if with_generic else None)

    @property
    def caption_after_image(self) -> bool:
        return bool(self.family and self.family.caption_after_image)


def _site_profile(selectors: dict | None) -> Profile | None:
    if not selectors:
        return None
    mapped = {key: as_selector_list(selectors.get(key)) for key in SITE_KEYS if selectors.get(key)}
    return Profile(family="site", label="site", detect=Detect(), selectors=mapped) if mapped else None


def _base_url(doc: Any, url: str | None) -> str | None:
    base = doc.xpath("//base/@href")
    if base and str(base[0]).strip():
        return urljoin(url or "", str(base[0]).strip()) or url
    return url


def _canonical(doc: Any, base_url: str | None) -> str | None:
    for value in doc.xpath('//link[translate(@rel,"CANONIL","canonil")="canonical"]/@href') + doc.xpath(
        '//meta[@property="og:url"]/@content'
    ):
        value = str(value).strip()
        if value and not value.startswith(("javascript:", "#")):
            return urljoin(base_url or "", value)
    return None


def _node_text(node: Any) -> str:
    return clean_text(" ".join(node.itertext())) if node is not None else ""


def _read_title(doc: Any, layers: _Layers) -> tuple[str | None, Any | None]:
    node = select_first(
        doc, layers.selectors("title", with_generic=False), accept=lambda n: 2 <= len(_node_text(n)) <= MAX_TITLE
    )
    if node is not None:
        return generic.strip_site_name(_node_text(node)), node
    return generic.generic_title(doc)


def _read_visible_dates(doc: Any, layers: _Layers, title_node: Any | None, result: Extraction) -> Any | None:
    node = select_first(
        doc, layers.selectors("date", with_generic=layers.family is None),  # unknown CMS: the generic selectors
        accept=lambda n: bool(_node_text(n)) and not generic.is_hidden(n),
    )
    updated = select_first(doc, layers.selectors("updated"), accept=lambda n: bool(_node_text(n)))
    if updated is not None:
        result.updated_raw = _node_text(updated)
    if node is not None:
        text = _node_text(node)
        result.add_date(text, "visible")
        result.view_count = view_count_from_text(text)
        return node
    if title_node is None:
        title_node = generic.find_title_node(doc, result.title)
    published, updated_line = generic.visible_date_line(doc, title_node)
    # Many portals print only "Cập nhật lúc 09:15 ngày 07/03/2024": their one date line, set at publication.
    published = published or updated_line
    result.add_date(published, "visible")
    if published:
        result.view_count = view_count_from_text(published)
    if updated_line and not result.updated_raw:
        result.updated_raw = updated_line
    return None


def _read_credit_elements(doc: Any, layers: _Layers, found: _Found) -> list[Any]:
    """Byline and source printed in their own elements (outside or inside the body), line by line."""
    nodes: list[Any] = []
    unknown = layers.family is None  # no family to trust: the generic profile's selectors stand in for it
    author_selectors = layers.selectors("author", with_generic=unknown)
    source_only = [s for s in layers.selectors("source", with_generic=unknown) if s not in author_selectors]
    for selectors, default in ((author_selectors, "author"), (tuple(source_only), "source")):
        for node in select_every(doc, selectors):
            nodes.append(node)
            for kind, value in _credit_lines(node, default):
                if kind == "views":
                    found.views = found.views if found.views is not None else int(value)
                elif kind == "author" and not found.author and not _publisher_or_account(value, doc):
                    found.author = value
                elif kind == "source" and not found.source:
                    found.source = value
    return nodes


def _credit_lines(node: Any, default: str) -> list[tuple[str, str]]:
    """('author'|'source'|'views', value) for each line of a credit element."""
    labels = sorted(
        {clean_text(" ".join(el.itertext())) for el in node.iter("strong", "b", "label", "span", "em", "i")},
        key=len,
        reverse=True,
    )
    labels = [label for label in labels if label.endswith(":") and len(label) <= 30]
    out: list[tuple[str, str]] = []
    blocks, _ = extract_blocks(node)
    for block in blocks:
        text = block.text
        views = view_count_from_text(text)
        if views is not None:
            out.append(("views", str(views)))
            text = without_view_count(text)
            if not text:
                continue
        label = next((label for label in labels if text.startswith(label)), None)
        routed = route_credit(text, label)
        if routed is None:
            continue
        kind, value = routed
        if default == "source" and kind == "author" and not label:
            kind = "source"  # an element that only ever holds the source
        out.append((kind, value))
    return out


def _read_body(
    doc: Any, layers: _Layers, base_url: str | None, exclude: list[Any]
) -> tuple[list[Block], list[Image], str]:
    for layer, method in (
        (layers.site, "site"),
        (layers.family, f"profile:{layers.family.family}" if layers.family else ""),
    ):
        if layer is None or not layer.get("body"):
            continue
        body = select_first(doc, layer.get("body"), accept=_has_content)
        if body is None:
            continue
        lead = select_first(doc, merged("lead", layers.site, layer), accept=lambda n: bool(_node_text(n)))
        blocks, images = _blocks_of(body, lead, layers, base_url, exclude)
        if sum(len(b.text) for b in blocks) >= MIN_BODY_CHARS or images:
            return blocks, images, method
    if sum(1 for _ in doc.iter()) > MAX_GENERIC_ELEMENTS:
        return [], [], TOO_COMPLEX
    blocks, images = generic.trafilatura_blocks(doc, base_url)
    return generic.with_printed_lead(doc, blocks), images, "generic"


def _has_content(node: Any) -> bool:
    return len(_node_text(node)) >= MIN_BODY_CHARS or bool(node.xpath(".//img"))


def _blocks_of(body: Any, lead: Any | None, layers: _Layers, base_url: str | None, exclude: list[Any]):
    lead_blocks: list[Block] = []
    lead_images: list[Image] = []
    if lead is not None and not _is_ancestor_or_self(lead, body):
        lead_blocks, lead_images = extract_blocks(lead, base_url, layers.caption_after_image)
        _drop_node(lead, body)
    _remove_junk(body, layers.selectors("junk"), [*exclude])
    blocks, images = extract_blocks(body, base_url, layers.caption_after_image)
    if lead_blocks and blocks and _same_text(blocks[0].text, " ".join(b.text for b in lead_blocks)):
        blocks = blocks[1:]  # the lead printed twice
    offset = len(lead_images)
    for block in blocks:
        if block.image is not None:
            block.image += offset
    return lead_blocks + blocks, lead_images + images


def _same_text(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _is_ancestor_or_self(node: Any, other: Any) -> bool:
    return node is other or any(parent is node for parent in other.iterancestors())


def _drop_node(node: Any, body: Any) -> None:
    """Removes `node` if it sits inside `body` (its tail text stays)."""
    if any(parent is body for parent in node.iterancestors()):
        node.drop_tree()


def _remove_junk(body: Any, junk: tuple[str, ...], exclude: list[Any]) -> None:
    # All the junk selectors in one query (some forty: one call each was a fifth of extract()). The order of
    # removal does not change the result: a node inside a removed one is gone with it, and a removed
    # node's tail text joins its previous sibling's (or parent's) text whichever goes first.
    doomed = [node for node in exclude if node is not None]
    doomed.extend(select_any(body, junk))
    for node in doomed:
        if node is body or _is_ancestor_or_self(node, body):
            continue
        if node.getparent() is not None and any(parent is body for parent in node.iterancestors()):
            node.drop_tree()


def _drop_title_block(blocks: list[Block], title: str | None) -> list[Block]:
    """trafilatura keeps the heading, and sometimes short menu lines above it: the body starts after it."""
    for index, block in enumerate(blocks[:TITLE_SEARCH_BLOCKS]):
        if title and block.text == title and all(len(b.text) < SHORT_LINE for b in blocks[:index]):
            return blocks[index + 1 :]
    return blocks


def _apply_boilerplate(blocks: list[Block], result: Extraction) -> list[Block]:
    filtered = filter_lines([block.text for block in blocks])
    content_seen = False
    removed = dict(filtered.removed)
    for index, block in enumerate(blocks):
        rule: Rule | None = removed.get(index)
        if rule is None:
            content_seen = content_seen or len(block.text) >= SHORT_LINE
            continue
        if rule.kind in {"dateline", "view-count"} and result.view_count is None:
            result.view_count = view_count_from_text(block.text)
        if rule.kind == "dateline" and not content_seen:
            result.add_date(block.text, "visible")
    return [blocks[index] for index in filtered.kept]


def _move_credits(blocks: list[Block], images: list[Image], result: Extraction, found: _Found) -> list[Block]:
    """Byline and source: a line at the end of the body wins over the elements; both leave the body."""
    count, credits = peel_credits([b.text for b in blocks], [b.align for b in blocks])
    for block in blocks[len(blocks) - count :] if count else []:
        if block.image is not None and images[block.image].caption == block.text:
            images[block.image].caption = None
    for block in blocks[len(blocks) - count :] if count else []:
        if block.label and block.text == credits.author:  # "<b>Tác giả: </b>X": the label is chrome
            credits.author = block.text[len(block.label) :].strip() or credits.author
    blocks = blocks[: len(blocks) - count]
    result.author = credits.author or found.author
    result.source = credits.source or found.source
    # The elements' byline or source printed again as the body's last line.
    while len(blocks) > 1 and blocks[-1].text in {result.author, result.source}:
        blocks = blocks[:-1]
    return blocks


def _finish(
    result: Extraction,
    blocks: list[Block],
    images: list[Image],
    doc: Any,
    layers: _Layers,
    found: _Found,
    url: str | None,
    base_url: str | None,
) -> None:
    result.set_paragraphs([block.text for block in blocks])
    result.images = [image.as_dict() for image in images]
    for raw in found.meta_published:
        result.add_date(raw, "meta")
    result.add_date(found.jsonld.get("datePublished"), "jsonld")
    if result.paragraphs:
        result.add_date(_first_sentence(result.paragraphs[0]), "first_sentence")
    if url and (match := _URL_DATE.search(url)):
        result.add_date(match.group(0), "url")
    result.updated_raw = (
        result.updated_raw
        or (found.meta_updated[0] if found.meta_updated else None)
        or found.jsonld.get("dateModified")
    )
    if not result.title and found.jsonld.get("headline"):
        result.title = clean_text(found.jsonld["headline"])
    result.author = result.author or _meta_author(doc, layers)
    result.category = _category(doc, layers, result.title) or found.jsonld.get("articleSection")
    for count in (result.view_count, found.views, _view_count(doc, layers)):
        if count is not None:
            result.view_count = count
            break
    result.attachments = _attachments(doc, layers, base_url)


def _first_sentence(paragraph: str) -> str | None:
    """The first sentence, when it can hold a date ('Chiều ngày 15/10/2024, ...', 'Sáng 3-4, ...')."""
    sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0][:FIRST_SENTENCE_CHARS]
    return sentence if any(ch.isdigit() for ch in sentence) else None


def _meta_author(doc: Any, layers: _Layers) -> str | None:
    """A person named in the page's metadata; portals often put their own name there ("Ban Dân vận Tỉnh ủy
    Nam Định", the og:site_name): that is the publisher, not a byline."""
    for node in select_every(doc, layers.selectors("author_meta")):
        value = clean_text(node.get("content") or _node_text(node))
        if value and not _publisher_or_account(value, doc):
            return value
    return None


def _publisher_or_account(value: str, doc: Any) -> bool:
    """An 'author' that is the CMS account ("admin") or the publishing body itself (the og:site_name, "Ban
    Dân vận Tỉnh ủy ..."), which schema.org markup and meta tags often give as the author."""
    lowered = value.lower()
    site_name = (generic.meta_content(doc, "og:site_name") or "").lower()
    return lowered in ACCOUNT_NAMES or lowered == site_name or is_org_line(value)


def _category(doc: Any, layers: _Layers, title: str | None) -> str | None:
    for selector in layers.selectors("category"):
        items = [_node_text(node) for node in select_all(doc, selector)]
        category = category_from_breadcrumb(items, title)
        if category:
            return category
    return generic.meta_content(doc, "article:section")


def _view_count(doc: Any, layers: _Layers) -> int | None:
    for node in select_every(doc, layers.selectors("views")):
        count = bare_count(_node_text(node))
        if count is not None:
            return count
    return None


def _attachments(doc: Any, layers: _Layers, base_url: str | None) -> list[dict[str, str]]:
    nodes = select_every(doc, layers.selectors("attachments"))
    body_nodes = select_every(doc, layers.selectors("body", with_generic=False))
    return find_attachments(nodes + body_nodes[:1], base_url)
