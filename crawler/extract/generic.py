"""Layer 3 and the generic field readers: trafilatura for the body when no selector finds one, the title
without the site name, and date candidates from metadata and the visible date line.
"""

from __future__ import annotations

import json
import logging
import re
from copy import deepcopy
from functools import lru_cache
from typing import Any

from lxml import etree

from .fields import is_credit_line, parse_int
from .profiles import select_all
from .text import Block, Image, clean_text, image_src

logger = logging.getLogger(__name__)

# Separators between a title and the site name or SEO suffix.
_TITLE_SEPARATORS = re.compile(r"\s+(?:[-|–—:»]|::)\s+")
# A title part that names a portal rather than a story.
_SITE_NAME = re.compile(
    r"(?i)cổng thông tin|trang thông tin|cong thong tin|trang tin điện tử|thông tin điện tử|website|web site|"
    r"portal|\.gov\.vn|\.org\.vn|\.com\.vn|\bgov\.vn|^trang chủ$|^tin tức$|^home$"
)
_DATE_IN_TEXT = re.compile(
    r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}|\d{4}-\d{2}-\d{2}|ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}",
    re.IGNORECASE,
)
_UPDATED_LABEL = re.compile(r"(?i)cập nhật lúc|sửa đổi|chỉnh sửa|updated|last modified")
MAX_DATE_LINE = 140
MAX_DATE_LINE_WORDS = 8
# Elements scanned after the title for a date line before giving up.
DATE_LINE_WINDOW = 40
META_PUBLISHED = (
    "article:published_time", "og:published_time", "datePublished", "DC.Date", "DC.date", "DC.Date.Created",
    "dcterms.created", "dcterms.date", "pubdate", "publishdate", "date", "Date", "sailthru.date", "dateCreated",
)  # fmt: skip
META_UPDATED = ("article:modified_time", "og:updated_time", "dateModified", "DC.Date.Modified", "last-modified")


# ---- title -----------------------------------------------------------------------------------------


_META = etree.XPath("//meta")


def metas_by_name(doc: Any) -> dict[str, list[Any]]:
    """Meta elements by each of their property/name/itemprop values, in page order: one query per page
    instead of one per name (an XPath per name was compiled and run for each of twenty names)."""
    groups: dict[str, list[Any]] = {}
    for node in _META(doc):
        for key in {node.get("property"), node.get("name"), node.get("itemprop")}:
            if key is not None:
                groups.setdefault(key, []).append(node)
    return groups


def meta_content(doc: Any, *names: str) -> str | None:
    """The first non-empty meta content among name/property/itemprop equal to one of `names`."""
    metas = metas_by_name(doc)
    for name in names:
        for node in metas.get(name, ()):
            value = clean_text(node.get("content") or "")
            if value:
                return value
    return None


def strip_site_name(title: str, site_names: tuple[str, ...] = ()) -> str:
    """'Hội nghị ... - CỔNG THÔNG TIN ĐIỆN TỬ TỈNH X' -> 'Hội nghị ...'; the site name may lead too."""
    title = clean_text(title)
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) < 2:
        return title
    known = {clean_text(name).lower() for name in site_names if name}

    def is_site(part: str) -> bool:
        return bool(_SITE_NAME.search(part)) or part.lower() in known

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATORS.split(title)):
        return title
    # Re-join what is left with the separators it had.
    return _rejoin(title, parts)


def _rejoin(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if start >= 0 and end > start else " - ".join(parts)


def generic_title(doc: Any) -> tuple[str | None, Any | None]:
    """(title, its h1 node or None): an h1 that the page's <title>/og:title contains, else og:title, else
    the first h1 that is not the site name, else <title>; always without the site-name suffix."""
    site_name = meta_content(doc, "og:site_name")
    head_titles = [t for t in (meta_content(doc, "og:title"), _title_tag(doc)) if t]
    h1s = [(clean_text(" ".join(node.itertext())), node) for node in doc.xpath("//body//h1")]
    h1s = [(text, node) for text, node in h1s if 3 <= len(text) <= 400]
    for text, node in h1s:
        if any(text.lower() in head.lower() for head in head_titles) and not _SITE_NAME.search(text):
            return text, node
    if not h1s and not meta_content(doc, "og:title"):
        above = _title_above_date_line(doc)
        if above is not None:
            return above
    for head in head_titles:
        cleaned = strip_site_name(head, (site_name,) if site_name else ())
        if cleaned and not _SITE_NAME.fullmatch(cleaned) and cleaned != site_name:
            return cleaned, None
    for text, node in h1s:
        if not _SITE_NAME.search(text) and text != site_name:
            return text, node
    return None, None


_EMPHASIS = frozenset("b strong h2 h3 h4 h5 h6 font big".split())
_TITLE_CLASS = re.compile(r"(?i)title|tieu-?de|headline|ten-?bai|tenbai|heading")
MIN_TITLE, MAX_TITLE_ABOVE = 15, 300
DATE_LINES_TRIED = 3


def _title_above_date_line(doc: Any) -> tuple[str, Any] | None:
    """Pages with no <h1> and a <title> that may only name the site (old table layouts): the emphasized line
    printed right above the article's date line ("<b>Title</b>", then "Cập nhật lúc 09:15 ngày 07/03/2024").
    The first few date lines are tried: the top bar's "Thứ Bảy, 08/06/2024" has no title above it."""
    tried = 0
    for text_node in doc.xpath("//body//text()[string-length(normalize-space()) >= 6]"):
        holder = text_node.getparent()
        if holder is None or not _DATE_IN_TEXT.search(str(text_node)):
            continue
        if holder.xpath("ancestor-or-self::a | ancestor-or-self::li | ancestor-or-self::option"):
            continue  # a dated link in a list, not the article's date line
        line = clean_text(" ".join(holder.itertext()))
        if len(line) > MAX_DATE_LINE or not _is_date_line(line):
            continue
        found = _emphasized_line_before(holder)
        if found is not None:
            return found
        tried += 1
        if tried >= DATE_LINES_TRIED:
            return None
    return None


def _emphasized_line_before(node: Any) -> tuple[str, Any] | None:
    for previous in node.xpath("preceding::text()[normalize-space()][position() <= 1]"):
        holder = previous.getparent()
        text = clean_text(" ".join(holder.itertext()))
        if MIN_TITLE <= len(text) <= MAX_TITLE_ABOVE and not _DATE_IN_TEXT.search(text) and _emphasized(holder):
            if not holder.xpath("ancestor-or-self::a"):
                return text, holder
    return None


def _emphasized(node: Any) -> bool:
    for level, element in enumerate([node, *node.iterancestors()]):
        if level > 3 or element.tag in ("body", "table", "tr"):
            return False
        if element.tag in _EMPHASIS or _TITLE_CLASS.search(element.get("class") or ""):
            return True
    return False


# The article's own counter; "Số lượt truy cập" (the site's visitors) is not one.
_ARTICLE_VIEWS = re.compile(r"(?i)^(?:số )?(?:lượt xem|lần xem|lượt đọc|đã xem)\s*:?\s*(\d[\d.,]*)$")
MAX_VIEWS_LINE = 120


def view_count_after(title_node: Any | None) -> int | None:
    """The view count printed after the title ("Số lần xem: 123"), on pages no profile reads: a short text
    that is only the label and the number."""
    if title_node is None:
        return None
    for text_node in title_node.xpath("following::text()[contains(., 'xem') or contains(., 'đọc')]"):
        holder = text_node.getparent()
        for text in (clean_text(str(text_node)), clean_text(" ".join(holder.itertext()))):
            if len(text) <= MAX_VIEWS_LINE:
                for part in re.split(r"\s*[|\[\]]\s*|\s{2,}", text):
                    match = _ARTICLE_VIEWS.match(part.strip())
                    if match:
                        return parse_int(match.group(1))
    return None


def _title_tag(doc: Any) -> str | None:
    nodes = doc.xpath("//head/title | //title")
    return clean_text(" ".join(nodes[0].itertext())) if nodes else None


# ---- dates -----------------------------------------------------------------------------------------


def metadata_dates(doc: Any, distrust: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """(published, updated) raw strings from meta tags, microdata and <time datetime>, in that order."""
    distrusted = {id(node) for selector in distrust for node in select_all(doc, selector)}
    published: list[str] = []
    updated: list[str] = []
    metas = metas_by_name(doc)
    for name in META_PUBLISHED:
        for node in metas.get(name, ()):
            value = clean_text(node.get("content") or "")
            if value and id(node) not in distrusted and value not in published:
                published.append(value)
    for name in META_UPDATED:
        for node in metas.get(name, ()):
            value = clean_text(node.get("content") or "")
            if value and value not in updated:
                updated.append(value)
    for node in doc.xpath("//body//time[@datetime] | //body//*[@itemprop='datePublished'][@datetime]"):
        classes = (node.get("class") or "").split()
        if "updated" in classes and "published" not in classes:
            continue  # WordPress prints the modification time in <time class="updated">
        value = clean_text(node.get("datetime") or "")
        if value and id(node) not in distrusted and value not in published:
            published.append(value)
    return published, updated


def jsonld_objects(doc: Any) -> list[dict]:
    """Every object in the page's JSON-LD, @graph flattened; broken JSON is skipped."""
    objects: list[dict] = []
    for node in doc.xpath('//script[contains(translate(@type,"LDJSON","ldjson"),"ld+json")]'):
        raw = (node.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        stack = [data]
        while stack and len(objects) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(reversed(item["@graph"]))
    return objects


def jsonld_fields(doc: Any) -> dict[str, str]:
    """datePublished, dateModified, headline, author and articleSection of the article object."""
    out: dict[str, str] = {}
    for obj in jsonld_objects(doc):
        kind = obj.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(isinstance(k, str) and ("Article" in k or k in {"WebPage", "Report"}) for k in kinds):
            continue
        for key in ("datePublished", "dateModified", "headline", "articleSection"):
            value = obj.get(key)
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, str) and value.strip() and key not in out:
                out[key] = value.strip()
        author = obj.get("author")
        if isinstance(author, list):
            author = author[0] if author else None
        if isinstance(author, dict):
            author = author.get("name")
        if isinstance(author, str) and author.strip() and "author" not in out:
            out["author"] = author.strip()
    return out


def find_title_node(doc: Any, title: str | None) -> Any | None:
    """The innermost element of the body whose whole text is the title (when it came from <title>)."""
    if not title:
        return None
    probe = title[:20]
    best = None
    for element in doc.iter():
        if not isinstance(element.tag, str) or element.tag in {"title", "head", "meta", "script", "style"}:
            continue
        if probe in (element.text or "") and clean_text(" ".join(element.itertext())) == title:
            best = element
            break
    return best


def visible_date_line(doc: Any, title_node: Any | None) -> tuple[str | None, str | None]:
    """(published, updated) date lines printed near the title: short texts holding a date."""
    start = title_node if title_node is not None else _first_content_heading(doc)
    if start is None:
        return None, None
    published = updated = None
    # A date printed just above the title (same header block) or in the elements after it.
    before = [node for node in start.xpath("preceding::*[position() <= 4]") if not _contains(node, start)]
    after = start.xpath(f"following::*[position() <= {DATE_LINE_WINDOW}]")
    for node in [*after, *reversed(before)]:
        if not isinstance(node.tag, str) or node.tag in {"script", "style", "option", "a"} or is_hidden(node):
            continue
        text = clean_text(" ".join(node.itertext()))
        if not text or len(text) > MAX_DATE_LINE or not _is_date_line(text):
            continue
        if _UPDATED_LABEL.search(text):
            updated = updated or text
            continue
        published = text
        break
    return published, updated


_HIDDEN_CLASS = re.compile(r"(?i)(?:^|\s)(?:hidden|hide|d-none|sr-only|visually-hidden|invisible)(?:\s|$)")
_HIDDEN_STYLE = re.compile(r"(?i)display\s*:\s*none|visibility\s*:\s*hidden")


def is_hidden(node: Any, levels: int = 3) -> bool:
    """Not shown to readers: a hidden class or style on the node or a close ancestor (schema.org copies of
    the date, kept for machines, often differ from the date line the reader sees)."""
    for level, element in enumerate([node, *node.iterancestors()]):
        if level > levels:
            return False
        if element.get("hidden") is not None or _HIDDEN_CLASS.search(element.get("class") or ""):
            return True
        if _HIDDEN_STYLE.search(element.get("style") or ""):
            return True
    return False


def _is_date_line(text: str) -> bool:
    """A date with at most a few words around it (labels, weekday, views), not a sentence that has one."""
    if not _DATE_IN_TEXT.search(text):
        return False
    rest = _DATE_IN_TEXT.sub(" ", text)
    words = [word for word in re.split(r"[\s|,:;()\[\]\-–/]+", rest) if word and not word[0].isdigit()]
    return len(words) <= MAX_DATE_LINE_WORDS


def _contains(ancestor: Any, node: Any) -> bool:
    return any(parent is ancestor for parent in node.iterancestors())


def _first_content_heading(doc: Any) -> Any | None:
    for node in doc.xpath("//body//h1 | //body//h2"):
        if len(clean_text(" ".join(node.itertext()))) >= 10:
            return node
    return None


# ---- body: trafilatura ------------------------------------------------------------------------------


def trafilatura_blocks(doc: Any, base_url: str | None, favor_recall: bool = True) -> tuple[list[Block], list[Image]]:
    """The main content as blocks, by trafilatura; captions survive as their own paragraphs."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a dependency of the project
        return [], []
    tree = _prepare_for_trafilatura(doc)
    try:
        xml = trafilatura.extract(
            tree,
            url=base_url,
            output_format="xml",
            include_comments=False,
            include_images=True,
            include_tables=True,
            include_formatting=True,
            favor_recall=favor_recall,
            deduplicate=False,
            with_metadata=False,
        )
    except Exception as error:  # trafilatura raises assorted errors on odd trees
        logger.debug("trafilatura failed: %s", error)
        return [], []
    if not xml:
        return [], []
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(recover=True, huge_tree=True))
    except etree.XMLSyntaxError:
        return [], []
    return _blocks_from_trafilatura(root, base_url)


def _prepare_for_trafilatura(doc: Any) -> Any:
    """A copy trafilatura reads better: figure captions and text-only <div>s as paragraphs (it drops
    <figcaption>, and a <div> holding only bold text, the way many portals print their lead), and no
    related-news block (it keeps the list and drops its heading, so the text filter cannot see where the
    article ends)."""
    tree = deepcopy(doc)
    for node in tree.iter("figcaption"):
        node.tag = "p"
        node.set("class", "caption")
    for node in tree.iter("figure"):
        node.tag = "div"
    _drop_related_blocks(tree)
    for table in list(tree.iter("table")):
        if _layout_table(table):
            for node in [table, *table.iter("tbody", "thead", "tfoot", "tr", "td", "th")]:
                node.tag = "div"
    for node in list(tree.iter("div", "td", "font", "span")):
        _paragraphs_at_double_breaks(node)
    for node in list(tree.iter("div")):
        if _inline_only(node) and _link_share(node) < MAX_LINK_SHARE_OF_TEXT:
            node.tag = "p"
    return tree


_IMAGE_LINK = re.compile(r"(?i)\.(?:jpe?g|png|gif|webp)(?:$|\?)")
_LOGO = re.compile(r"(?i)logo|banner|brand|header")


def _article_picture(img: Any) -> bool:
    """Not a logo or banner: not in a link elsewhere than to the image itself, not in a logo/banner block."""
    for ancestor in img.iterancestors():
        if ancestor.tag == "a" and not _IMAGE_LINK.search(ancestor.get("href") or ""):
            return False
        if _LOGO.search(f"{ancestor.get('class') or ''} {ancestor.get('id') or ''}"):
            return False
    return not _LOGO.search(f"{img.get('src') or ''} {img.get('class') or ''}")


MIN_LAYOUT_CELL = 300  # characters in one cell: a table holding the page, not data


def _layout_table(table: Any) -> bool:
    """A table that lays out the page (old portals): it nests tables or block content, or holds long text
    in a cell. trafilatura reads such a table as data and flattens the article into cells."""
    if table.find(".//table") is not None:
        return True
    for cell in table.iter("td", "th"):
        if cell.find("p") is not None or cell.find("div") is not None:
            return True
        if len("".join(cell.itertext())) >= MIN_LAYOUT_CELL:
            return True
    return False


def _paragraphs_at_double_breaks(node: Any) -> None:
    """Text written as "...<br><br>..." (no <p>): each run between double breaks becomes a <p>, as a browser
    shows it. trafilatura keeps a run of bold text or a picture only inside a paragraph."""
    children = list(node)
    if not any(_double_break(children, i) for i in range(len(children))):
        return
    items: list[Any] = [node.text] if node.text else []
    for child in children:
        tail, child.tail = child.tail, None
        items += [child, tail] if tail else [child]
        node.remove(child)
    node.text = None
    paragraph = None
    index = 0
    while index < len(items):
        item = items[index]
        if _is_break(item) and _next_is_break(items, index):
            paragraph = None
            while index < len(items) and (_is_break(items[index]) or _blank(items[index])):
                index += 1
            continue
        if not isinstance(item, str) and item.tag not in _INLINE and item.tag != "img":
            node.append(item)  # a block stays a block
            paragraph = None
        else:
            if paragraph is None:
                paragraph = etree.SubElement(node, "p")
            _append(paragraph, item)
        index += 1


def _double_break(children: list[Any], i: int) -> bool:
    return (
        children[i].tag == "br" and i + 1 < len(children) and children[i + 1].tag == "br"
        and not (children[i].tail or "").strip()
    )


def _is_break(item: Any) -> bool:
    return not isinstance(item, str) and item.tag == "br"


def _blank(item: Any) -> bool:
    return isinstance(item, str) and not item.strip()


def _next_is_break(items: list[Any], index: int) -> bool:
    for item in items[index + 1 :]:
        if _blank(item):
            continue
        return _is_break(item)
    return False


def _append(paragraph: Any, item: Any) -> None:
    if isinstance(item, str):
        if len(paragraph):
            paragraph[-1].tail = (paragraph[-1].tail or "") + item
        else:
            paragraph.text = (paragraph.text or "") + item
    else:
        paragraph.append(item)


MAX_LINK_SHARE_OF_TEXT = 0.25  # more, and the <div> is a menu or a tool bar: trafilatura judges it alone
_INLINE = frozenset("a abbr b br cite code em font i mark q s small span strong sub sup time u".split())


_INLINE_OR_PICTURE = _INLINE | {"img"}
MIN_DIV_PARAGRAPH = 80  # characters: a lead is a sentence or two; a shorter line is a date line or a tool bar


def _inline_only(node: Any) -> bool:
    """A <div> that is a paragraph in all but name, no block children: a sentence of its own, a picture with
    the line under it, or any line among the paragraphs of the article ("<div align=right><b>Byline</b>")."""
    if not all(isinstance(child.tag, str) and child.tag in _INLINE_OR_PICTURE for child in node.iterdescendants()):
        return False
    text = " ".join("".join(node.itertext()).split())
    if node.find(".//img") is not None:
        return text != "" and all(_article_picture(img) for img in node.iter("img"))
    parent = node.getparent()
    if text and parent is not None and parent.find("p") is not None:
        return True
    return len(text) >= MIN_DIV_PARAGRAPH and text[-1] in '.!?…"”)'


_HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6 p div span strong b header legend label".split())
MAX_RELATED_HEADING = 60
MIN_LINK_SHARE_OF_LIST = 0.5


@lru_cache(maxsize=1)
def _related_end_rules() -> tuple[Any, ...]:
    from .boilerplate import load_rules

    return tuple(rule for rule in load_rules() if rule.kind == "related" and rule.action == "end")


def _drop_related_blocks(tree: Any) -> None:
    """Removes each block headed "Các tin khác", "Tin liên quan"...: the heading's parent when the rest of
    it is links (the block itself), else the heading and what follows it there (the article ends there)."""
    rules = _related_end_rules()
    headings = []
    # From each element's own short text up: a page has thousands of elements and few short texts.
    for node in tree.iter(*_HEADING_TAGS):
        own = node.text
        if not own or len(own) > 4 * MAX_RELATED_HEADING:
            continue
        text = " ".join(own.split())
        if not (4 <= len(text) <= MAX_RELATED_HEADING) or not any(rule.matches(text) for rule in rules):
            continue
        if node.xpath("ancestor::a"):
            continue
        # the outermost element holding this text alone ("<h3><b>Các tin khác</b></h3>" is the <h3>)
        while (parent := node.getparent()) is not None and parent.tag in _HEADING_TAGS and \
                " ".join("".join(parent.itertext()).split()) == text:
            node = parent
        if node.tag in _HEADING_TAGS and " ".join("".join(node.itertext()).split()) == text:
            headings.append(node)
    for heading in headings:
        parent = heading.getparent()
        if parent is None or not any(a is tree for a in heading.iterancestors()):
            continue  # removed with an earlier block
        if parent.tag not in ("body", "html") and _link_share(parent, skip=heading) >= MIN_LINK_SHARE_OF_LIST:
            parent.drop_tree()
            continue
        for sibling in list(heading.itersiblings()):
            sibling.drop_tree()
        heading.drop_tree()


def _link_share(node: Any, skip: Any = None) -> float:
    """The share of the node's text (without ``skip``) that sits in links."""
    total = len("".join(node.itertext())) - (len("".join(skip.itertext())) if skip is not None else 0)
    linked = sum(len("".join(a.itertext())) for a in node.iter("a"))
    return linked / total if total > 0 else 0.0


def _blocks_from_trafilatura(root: Any, base_url: str | None) -> tuple[list[Block], list[Image]]:
    main = root.find("main")
    if main is None:
        main = root
    blocks: list[Block] = []
    images: list[Image] = []
    pending: int | None = None

    def add_image(graphic: Any) -> None:
        nonlocal pending
        src = image_src(graphic, base_url)
        if src:
            images.append(Image(src=src, alt=graphic.get("alt") or graphic.get("title")))
            pending = len(images) - 1

    for node in main.iter("p", "head", "item", "row", "graphic"):
        if node.tag == "graphic":
            if not any(a.tag == "p" for a in node.iterancestors()):
                add_image(node)
            continue  # else read with its paragraph, below
        if node.tag == "p":
            # a picture inside a paragraph comes before the line under it ("<img><br><em>caption</em>")
            for graphic in node.iter("graphic"):
                add_image(graphic)
        if node.tag == "p" and any(a.tag in {"item", "row"} for a in node.iterancestors()):
            continue  # read with its list item or table row
        kind = {"head": "heading", "item": "li", "row": "cell"}.get(node.tag, "p")
        for text in _row_lines(node) if node.tag == "row" else _lines(node):
            his = list(node.iter("hi"))
            block = Block(text=text, kind=kind, italic=bool(his) and all(hi.get("rend") in {"#i", "#em"} for hi in his))
            block.label = _bold_label(node) if text.startswith(_bold_label(node) or "\0") else None
            if pending is not None and len(text) <= 200 and not text.endswith(".") and not is_credit_line(text):
                block.kind, block.image = "caption", pending
                images[pending].caption = text
            pending = None
            blocks.append(block)
    return blocks, images


def with_printed_lead(doc: Any, blocks: list[Block]) -> list[Block]:
    """The lead printed above the body, in its own block (a "sapo" beside the title), which trafilatura
    leaves out when it reads the body alone: the page's description, printed whole in an element before the
    body's first paragraph, and not in the body, comes first."""
    description = meta_content(doc, "description", "og:description")
    if not description or not blocks or len(description) < MIN_DIV_PARAGRAPH:
        return blocks
    wanted = _squash(description)
    if any(wanted in _squash(block.text) for block in blocks):
        return blocks
    first = _squash(blocks[0].text)[:60]
    order = {}
    lead = None
    for index, node in enumerate(doc.iter()):
        if not isinstance(node.tag, str) or node.tag in ("head", "title", "meta", "script", "style"):
            continue
        own = _squash(" ".join(node.itertext()))
        if lead is None and own == wanted and not node.xpath("ancestor-or-self::a | ancestor::head"):
            lead = index
        if "body" not in order and first and own.startswith(first):
            order["body"] = index
    if lead is None or lead >= order.get("body", -1):
        return blocks
    return [Block(text=clean_text(description), kind="p"), *blocks]


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


_LABEL_ONLY = re.compile(r"^[^:\d]{1,30}:$")


def _bold_label(node: Any) -> str | None:
    """The label a line opens with in bold, alone: "<hi rend="#b">Tác giả: </hi>Ngọc Lan" -> "Tác giả:"."""
    if (node.text or "").strip() or not len(node) or node[0].tag != "hi" or node[0].get("rend") != "#b":
        return None
    label = " ".join("".join(node[0].itertext()).split())
    return label if _LABEL_ONLY.match(label) and (node[0].tail or "").strip() else None


_TRAFILATURA_BLOCKS = frozenset({"p", "head", "list", "item", "quote", "table", "row", "cell", "graphic"})


def _lines(node: Any) -> list[str]:
    """The node's text split at trafilatura's line breaks (<lb/>), which stand for <br>."""
    lines: list[list[str]] = [[]]
    for piece in _pieces(node):
        if piece is None:
            lines.append([])
        else:
            lines[-1].append(piece)
    texts = [clean_text("".join(parts)) for parts in lines]
    return [text for text in texts if text]


def _pieces(node: Any):
    """Text pieces in order, None at each <lb/> and around nested blocks."""
    if node.text:
        yield node.text
    for child in node:
        if child.tag == "lb":
            yield None
        elif child.tag in _TRAFILATURA_BLOCKS:
            yield None
            yield from _pieces(child)
            yield None
        else:
            yield from _pieces(child)
        if child.tail:
            yield child.tail


def _row_lines(row: Any) -> list[str]:
    """A data row reads as one line ("a | b"); a layout row (long cells, line breaks) as its cells' lines."""
    cells = [_lines(cell) for cell in row.iter("cell")]
    if all(len(lines) <= 1 and sum(map(len, lines)) <= 200 for lines in cells):
        joined = " | ".join(lines[0] for lines in cells if lines)
        return [joined] if joined else []
    return [line for lines in cells for line in lines]
