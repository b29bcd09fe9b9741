"""A body node to paragraphs ("blocks") in page order, with the images and their captions.

Block elements end a paragraph, so does every <br> (the CMSs put one paragraph per line with <br>s as
often as with <p>s); a simple table row becomes one paragraph with its cells joined by " | ". A caption
(figcaption, an italic or centred line under a picture, a plain line under it on some families, a
table cell under the picture) stays a paragraph of the body in its place and is also tied to the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

from .fields import ATTACHMENT_EXTENSIONS, is_credit_line

BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr li main nav ol p pre section summary table tbody thead tfoot tr td th "
    "ul caption legend".split()
)
SKIP_TAGS = frozenset(
    "script style noscript template iframe object embed svg button select input textarea head title meta link "
    "map area audio video source canvas option".split()
)
HEADING_TAGS = frozenset("h1 h2 h3 h4 h5 h6".split())
ITALIC_TAGS = frozenset("em i cite".split())
BOLD_TAGS = frozenset("strong b".split())
MAX_DEPTH = 400
MAX_CAPTION_LEN = 300
# Without any caption styling, only a short line right under a picture is taken for its caption.
MAX_PLAIN_CAPTION_LEN = 200

_SPACE = re.compile(r"[\s\u00a0\u200b\u200c\u200d\ufeff]+")
_WORDY = re.compile(r"\w")
_HIDDEN_STYLE = re.compile(r"(?i)display\s*:\s*none|visibility\s*:\s*hidden")
_ALIGN_STYLE = re.compile(r"(?i)text-align\s*:\s*(center|right|justify|left)")
_IMAGE_SRC_ATTRS = ("data-original", "data-src", "data-lazy-src", "src")


@dataclass
class Block:
    text: str
    kind: str = "p"  # p, heading, li, caption, cell
    align: str | None = None
    italic: bool = False
    bold: bool = False
    image: int | None = None  # the image this block captions
    label: str | None = None  # a bold label opening the line ("<b>Tác giả: </b>X"): template chrome


@dataclass
class Image:
    src: str
    caption: str | None = None
    alt: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"src": self.src, "caption": self.caption}


@dataclass(frozen=True)
class _Ctx:
    kind: str = "p"
    align: str | None = None
    italic: bool = False
    bold: bool = False
    figure: int | None = None  # id of the enclosing <figure> or image table
    caption: bool = False
    document_link: bool = False  # inside a link to an attached document


@dataclass
class _Pending:
    """The last image, waiting for the first text after it."""

    index: int
    figure: int | None


@dataclass
class _Walker:
    base_url: str | None
    caption_after_image: bool
    blocks: list[Block] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    buffer: list[tuple[str, _Ctx]] = field(default_factory=list)
    pending: _Pending | None = None

    def walk(self, element: Any, ctx: _Ctx, depth: int = 0) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if not tag or tag in SKIP_TAGS or _hidden(element):
            return
        if depth > MAX_DEPTH:  # pathological nesting: read the rest flat
            self.add_text(" ".join(element.itertext()), ctx)
            return
        if tag == "br":
            self.flush()
            return
        if tag == "img":
            self.flush()
            self.add_image(element, ctx)
            return
        if tag == "tr" and _simple_row(element):
            self.flush()
            self.add_row(element, ctx)
            return
        if tag in BLOCK_TAGS:
            self.flush()
            ctx = _block_ctx(element, tag, ctx)
        else:
            ctx = _inline_ctx(element, tag, ctx)
        if element.text:
            self.add_text(element.text, ctx)
        for child in element:
            self.walk(child, ctx, depth + 1)
            if child.tail:
                self.add_text(child.tail, ctx)
        if tag in BLOCK_TAGS:
            self.flush()

    def add_text(self, text: str, ctx: _Ctx) -> None:
        if text:
            self.buffer.append((text, ctx))

    def flush(self) -> None:
        if not self.buffer:
            return
        segments, self.buffer = self.buffer, []
        text = clean_text("".join(piece for piece, _ in segments))
        if not text or not _WORDY.search(text):
            return
        visible = [ctx for piece, ctx in segments if piece.strip()]
        if visible and all(ctx.document_link for ctx in visible):
            return  # a line that is only a link to an attached file: it goes to `attachments`
        first = visible[0] if visible else segments[0][1]
        block = Block(
            text=text,
            kind=first.kind,
            align=first.align,
            italic=all(ctx.italic for ctx in visible),
            bold=all(ctx.bold for ctx in visible),
        )
        self.attach_caption(block, first)
        self.blocks.append(block)

    def attach_caption(self, block: Block, ctx: _Ctx) -> None:
        pending, self.pending = self.pending, None
        if pending is None or len(block.text) > MAX_CAPTION_LEN:
            return
        same_figure = pending.figure is not None and ctx.figure == pending.figure
        styled = block.italic or ctx.caption or block.align == "center"
        plain_ok = len(block.text) <= MAX_PLAIN_CAPTION_LEN and not block.text.endswith((".", ":"))
        if is_credit_line(block.text):
            return
        if same_figure or styled or self.caption_after_image or plain_ok:
            block.kind = "caption"
            block.image = pending.index
            self.images[pending.index].caption = block.text

    def add_image(self, element: Any, ctx: _Ctx) -> None:
        src = image_src(element, self.base_url)
        if not src:
            return
        self.images.append(Image(src=src, alt=clean_text(element.get("alt") or "") or None))
        self.pending = _Pending(index=len(self.images) - 1, figure=ctx.figure)

    def add_row(self, row: Any, ctx: _Ctx) -> None:
        cells = [clean_text(" ".join(cell.itertext())) for cell in row if _is_cell(cell) and not _hidden(cell)]
        cells = [cell for cell in cells if cell]
        if cells:
            self.add_text(" | ".join(cells), replace(ctx, kind="cell"))
            self.flush()


def _is_cell(node: Any) -> bool:
    return isinstance(node.tag, str) and node.tag.lower() in {"td", "th"}


def _simple_row(row: Any) -> bool:
    """A row of plain cells (no paragraphs, pictures or nested tables inside) reads as one line."""
    for node in row.iterdescendants():
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        if tag == "img" or (tag in BLOCK_TAGS and tag not in {"td", "th"}) or tag == "br":
            return False
    return True


def _small_picture_table(table: Any) -> bool:
    """A table of at most three rows holding a picture frames that picture (a layout table is bigger)."""
    return len(table.xpath(".//tr")) <= 3 and bool(table.xpath(".//img"))


def _hidden(element: Any) -> bool:
    if element.get("hidden") is not None or (element.get("aria-hidden") == "true" and not element.text):
        return True
    style = element.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _alignment(element: Any) -> str | None:
    align = (element.get("align") or "").lower()
    if align in {"center", "right"}:
        return align
    match = _ALIGN_STYLE.search(element.get("style") or "")
    if match and match.group(1).lower() in {"center", "right"}:
        return match.group(1).lower()
    classes = (element.get("class") or "").lower()
    if "text-center" in classes or "aligncenter" in classes:
        return "center"
    if "text-right" in classes or "alignright" in classes:
        return "right"
    return None


def _block_ctx(element: Any, tag: str, parent: _Ctx) -> _Ctx:
    kind = parent.kind if parent.kind in {"li", "cell"} else "p"
    if tag in HEADING_TAGS:
        kind = "heading"
    elif tag == "li":
        kind = "li"
    elif tag in {"td", "th"}:
        kind = "cell"
    classes = (element.get("class") or "").lower()
    is_caption = tag in {"figcaption", "caption"} or "caption" in classes or "image_desc" in classes
    figure = parent.figure
    if tag == "figure" or (tag == "table" and "image" in classes.split()):
        figure = id(element)
    elif tag == "table" and figure is None and _small_picture_table(element):
        figure = id(element)  # a picture in a table, its caption in the next cell
    align = _alignment(element) or (tag == "center" and "center") or parent.align
    return _Ctx(
        kind=kind,
        align=align,
        italic=parent.italic,
        bold=parent.bold or tag in HEADING_TAGS,
        figure=figure,
        caption=parent.caption or is_caption,
    )


def _inline_ctx(element: Any, tag: str, parent: _Ctx) -> _Ctx:
    if tag == "a" and ATTACHMENT_EXTENSIONS.search(element.get("href") or ""):
        return replace(parent, document_link=True)
    if tag in ITALIC_TAGS and not parent.italic:
        return replace(parent, italic=True)
    if tag in BOLD_TAGS and not parent.bold:
        return replace(parent, bold=True)
    return parent


def clean_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def image_src(element: Any, base_url: str | None) -> str | None:
    """The picture's address (lazy-loading attributes first), absolute; None for inline data and icons."""
    for attribute in _IMAGE_SRC_ATTRS:
        value = (element.get(attribute) or "").strip()
        if value and not value.startswith(("data:", "javascript:")):
            break
    else:
        return None
    if _tiny(element):
        return None
    return urljoin(base_url, value) if base_url else value


def _tiny(element: Any) -> bool:
    """Icons and spacer pixels are no article pictures."""
    for attribute in ("width", "height"):
        value = (element.get(attribute) or "").strip().removesuffix("px")
        if value.isdigit() and int(value) <= 32:
            return True
    return False


def extract_blocks(
    node: Any, base_url: str | None = None, caption_after_image: bool = False
) -> tuple[list[Block], list[Image]]:
    """Paragraph blocks and images of a body node, in page order."""
    walker = _Walker(base_url=base_url, caption_after_image=caption_after_image)
    walker.walk(node, _Ctx())
    walker.flush()
    return walker.blocks, walker.images
