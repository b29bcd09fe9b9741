"""Fields read from the text: byline and source lines at the end of the body, view counts, and the
page's attachments, breadcrumb category and canonical address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from .boilerplate import classify

# "Tin, ảnh: Mai Phương", "Bài và ảnh: ...", "Tác giả: ...", "PV: ...": a credit label and a short name.
CREDIT_LABEL = re.compile(
    r"^(?:tin|bài|ảnh|tin bài|tin và ảnh|tin,\s*ảnh|tin\s*-\s*ảnh|bài,\s*ảnh|bài và ảnh|bài\s*-\s*ảnh|"
    r"tác giả|người viết|phóng viên|pv|nhóm pv|nhóm phóng viên|ctv|cộng tác viên|biên tập|btv|"
    r"thực hiện|nhóm thực hiện|video|clip|đồ họa|thông tin|tin tổng hợp)\s*:\s*\S.{0,80}$",
    re.IGNORECASE,
)
# "Theo danang.gov.vn", "(Theo Báo Nhân Dân)", "Nguồn: ...", "Nguồn tin: ...".
SOURCE_LABELLED = re.compile(r"^\(?\s*(?:nguồn(?: tin| bài| ảnh)?|trích nguồn)\s*:\s*\S.{0,120}$", re.IGNORECASE)
SOURCE_THEO = re.compile(r"^\(?\s*theo\s+(\S.{1,100}?)\s*\)?\s*\.?$", re.IGNORECASE)
TRAILING_SOURCE = re.compile(r"\s*[\(\[]\s*((?:theo|nguồn(?: tin)?\s*:)\s*[^()\[\]]{2,100})[\)\]]\s*$", re.IGNORECASE)
_DOMAIN = re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:vn|com|net|org|info)\b", re.IGNORECASE)
_CLAUSE_AFTER_COMMA = re.compile(r",\s*[a-zà-ỹđ]")
# Words an organisation's name starts with, not a person's.
ORG_WORDS = (
    "trung tâm", "ban ", "phòng ", "hội ", "ủy ban", "uỷ ban", "ubnd", "ubmttq", "mttq", "đài ", "báo ", "văn phòng",
    "sở ", "huyện", "xã ", "phường", "thị trấn", "thành phố", "tỉnh", "đảng", "công an", "bộ ", "cục ", "chi cục",
    "trường", "bệnh viện", "mặt trận", "cổng ", "trang ", "đoàn ", "liên đoàn", "hđnd", "tòa án", "viện ", "trạm ",
    "bộ chỉ huy", "ban chỉ huy", "tạp chí", "thông tấn", "ttxvn", "vov", "vtv", "cơ quan", "công ty", "hợp tác xã",
)  # fmt: skip
_NAME_WORD = re.compile(r"^(?:[A-ZÀ-ỸĐ][\wà-ỹđ]*\.?|[A-ZÀ-ỸĐ]\.(?:[A-ZÀ-ỸĐ]\.)*)$")
_NAME_JOINERS = re.compile(r"\s*(?:\s-\s|–|,|\bvà\b|&|/)\s*")
_NUMBER = re.compile(r"\d[\d.,]*")
_VIEWS_LABELLED = re.compile(
    r"(?i)(?:lượt xem|số lượt xem|lượt đọc|đã xem|số lần xem|lượt truy cập|views?)\s*:?\s*(\d[\d.,]*)"
)
_DATE_THEN_COUNT = re.compile(
    r"^\D{0,40}\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}(?:\s*[,|\-–]?\s*\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?)?\s*[|\-–,]?\s*(\d[\d.,]*)\s*$"
)
ATTACHMENT_EXTENSIONS = re.compile(r"(?i)\.(?:pdf|docx?|xlsx?|pptx?|zip|rar|7z|odt|ods)(?:$|[?#])")
ATTACHMENT_LABEL = re.compile(r"(?i)(?:file|tệp|tập tin|tài liệu|văn bản) đính kèm|tải về|download")


@dataclass
class Credits:
    author: str | None = None
    source: str | None = None


def is_credit_line(text: str) -> bool:
    """A byline or source line (not a caption or a paragraph)."""
    text = text.strip()
    return bool(CREDIT_LABEL.match(text) or is_source_line(text) or _caps_byline(text))


def is_source_line(text: str) -> bool:
    text = text.strip()
    if SOURCE_LABELLED.match(text):
        return True
    match = SOURCE_THEO.match(text)
    if not match:
        return False
    name = match.group(1)
    # "Theo Chủ tịch UBND thành phố, để công tác ..." is a sentence; "Theo Báo Nam Định" is a source.
    if _CLAUSE_AFTER_COMMA.search(name) or len(name.split()) > 10:
        return False
    return bool(_DOMAIN.search(name)) or name[:1].isupper()


def _caps_byline(text: str) -> bool:
    """'THANH THẢO', 'HOÀNG YẾN - MINH ANH': a short all-capitals line of letters."""
    if not 2 <= len(text) <= 50 or text != text.upper() or any(ch.isdigit() for ch in text):
        return False
    letters = re.sub(r"[\s.\-–,&/()]", "", text)
    return letters.isalpha() and len(text.split()) <= 6 and classify(text) is None


def looks_like_name(text: str, allow_single: bool = False) -> bool:
    """'Hoàng Yến', 'Nguyễn Văn Nam', 'Minh Anh - Thu Hà': capitalised words, no digits, short."""
    text = text.strip().rstrip(".")
    if not 2 <= len(text) <= 45 or any(ch.isdigit() for ch in text) or is_org_line(text):
        return False
    names = [part for part in _NAME_JOINERS.split(text) if part]
    for name in names:
        words = name.split()
        if not (2 if not allow_single else 1) <= len(words) <= 5:
            return False
        if not all(_NAME_WORD.match(word) for word in words):
            return False
    return bool(names) and classify(text) is None


def is_org_line(text: str) -> bool:
    """'Trung tâm VH-TT-TT Giao Thủy': an affiliation printed under a byline."""
    text = text.strip()
    lowered = text.lower()
    return len(text) <= 90 and not text.endswith((".", ":", ";")) and lowered.startswith(ORG_WORDS)


def byline_kind(text: str, align: str | None = None) -> str | None:
    """'label', 'caps', 'name' or 'name-org' when the line is a byline, else None."""
    text = text.strip()
    if CREDIT_LABEL.match(text) and not is_source_line(text):
        return "label"
    if _caps_byline(text):
        return "caps"
    if looks_like_name(text, allow_single=align == "right"):
        return "name"
    name, separator, org = text.partition(" - ")
    if separator and is_org_line(org) and (looks_like_name(name, allow_single=align == "right") or _caps_byline(name)):
        return "name-org"  # "Thu Hà - Trung tâm VH-TT-TT Giao Thủy"
    return None


def peel_credits(texts: list[str], aligns: list[str | None] | None = None, max_lines: int = 4) -> tuple[int, Credits]:
    """Takes the byline and source lines off the end of the body.

    Returns how many trailing lines to drop and the credits found. Only the last few lines are looked
    at, and only lines that are credits as a whole: a sentence that merely starts with "Theo" stays.
    """
    aligns = aligns or [None] * len(texts)
    credits = Credits()
    end = len(texts)
    while end > 1 and len(texts) - end < max_lines:  # the body keeps at least one line
        text = texts[end - 1].strip()
        align = aligns[end - 1]
        if credits.source is None and is_source_line(text):
            credits.source = text
            end -= 1
            continue
        if credits.author is None and (split := split_trailing_source(text)) and byline_kind(split[0], align):
            credits.author, credits.source = split[0], credits.source or split[1]
            end -= 1
            continue
        if credits.author is None and byline_kind(text, align):
            credits.author = text
            end -= 1
            continue
        if credits.author is None and end >= 2 and is_org_line(text) and byline_kind(texts[end - 2], aligns[end - 2]):
            # A name over its organisation: "Hoàng Mai" / "Trung tâm VH-TT-TT Giao Thủy".
            credits.author = f"{texts[end - 2].strip()} - {text}"
            end -= 2
            continue
        break
    return len(texts) - end, credits


def split_trailing_source(text: str) -> tuple[str, str] | None:
    """'THANH THẢO (Theo danang.gov.vn)' -> ('THANH THẢO', 'Theo danang.gov.vn')."""
    match = TRAILING_SOURCE.search(text)
    if not match or match.start() == 0:
        return None
    return text[: match.start()].strip(" -–,"), match.group(1).strip()


def route_credit(text: str, label: str | None = None) -> tuple[str, str] | None:
    """A credit line ('Nguồn tin: Y', 'Theo Z', 'X') to ('author'|'source', text).

    `label` is a template label printed in its own element ("<strong>Tác giả: </strong>X"): it is
    chrome, so it routes the line and is left out of the value.
    """
    text = " ".join(text.split())
    if not text or len(text) > 200:
        return None
    if label:
        kind = "source" if re.match(r"(?i)nguồn|theo", label) else "author"
        value = text[len(label) :].strip() if text.startswith(label) else text
        return (kind, value) if value else None
    if is_source_line(text):
        return "source", text
    text = without_view_count(text)  # "Lượt xem: 12 | Tác giả: X": keep the credit part
    return ("author", text) if text else None


def parse_int(text: str) -> int | None:
    digits = re.sub(r"[.,\s]", "", text)
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


def view_count_from_text(text: str) -> int | None:
    """'Lượt xem: 1.234' -> 1234; '12-09-2023 255' (a count glued to a date) -> 255."""
    text = " ".join(text.split())
    match = _VIEWS_LABELLED.search(text)
    if match:
        return parse_int(match.group(1))
    match = _DATE_THEN_COUNT.match(text)
    if match:
        return parse_int(match.group(1))
    return None


def without_view_count(text: str) -> str:
    """The line with its "Lượt xem: N" part taken out ("" when nothing else is left)."""
    return _VIEWS_LABELLED.sub(" ", text).strip(" |-–,;")


def bare_count(text: str) -> int | None:
    """An element holding only a number (next to an eye icon)."""
    text = text.strip()
    match = _NUMBER.fullmatch(text)
    return parse_int(match.group(0)) if match else view_count_from_text(text)


def find_attachments(nodes: list[Any], base_url: str | None) -> list[dict[str, str]]:
    """Links to documents, in page order: by extension, or any download link under a 'đính kèm' label."""
    anchors: list[tuple[Any, bool]] = []
    for node in nodes:
        in_block = _under_attachment_label(node)
        anchors.extend((anchor, in_block) for anchor in ([node] if node.tag == "a" else node.iter("a")))
    if len(anchors) > 1:  # in page order (one anchor is in order already: no walk over the page's links)
        order = {anchor: index for index, anchor in enumerate(nodes[0].getroottree().iter("a"))}
        anchors.sort(key=lambda pair: order.get(pair[0], 0))
    found: list[dict[str, str]] = []
    seen: set[str] = set()
    for anchor, in_block in anchors:
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        if not (ATTACHMENT_EXTENSIONS.search(href) or (in_block and _download_like(href))):
            continue
        url = urljoin(base_url, href) if base_url else href
        if url not in seen:
            seen.add(url)
            title = " ".join(" ".join(anchor.itertext()).split()) or anchor.get("title") or url.rsplit("/", 1)[-1]
            found.append({"url": url, "title": title})
    return found


def _under_attachment_label(node: Any) -> bool:
    """The node or one of its three nearest ancestors starts with an attachment label."""
    for depth, element in enumerate([node, *node.iterancestors()]):
        if depth > 3:
            break
        if ATTACHMENT_LABEL.search(_text_start(element, 300)):
            return True
    return False


def _text_start(element: Any, limit: int) -> str:
    """``" ".join(element.itertext())[:limit]`` without joining the rest of a large element's text."""
    parts: list[str] = []
    size = 0
    for piece in element.itertext():
        parts.append(piece)
        size += len(piece) + 1
        if size > limit:
            break
    return " ".join(parts)[:limit]


def _download_like(href: str) -> bool:
    return bool(re.search(r"(?i)download|savefile|attach|dinh-?kem|/files?/|/uploads?/|[?&]id=\d", href))


def category_from_breadcrumb(items: list[str], title: str | None) -> str | None:
    """The last breadcrumb item that is neither the home link nor the article's own title."""
    cleaned = [" ".join(item.split()).strip(" >»/|›") for item in items]
    candidates = [
        item
        for item in cleaned
        if item and item.lower() not in {"trang chủ", "trang nhất", "home", "trang chu"} and len(item) <= 120
    ]
    if title:
        candidates = [item for item in candidates if not _names_title(item, title)]
    return candidates[-1] if candidates else None


def _names_title(item: str, title: str) -> bool:
    """Whether a breadcrumb item is the article's own title: whole, or cut short ("Xã Hòa Phong tổ chức...",
    or cut without a mark but most of it). A short item the title merely starts with ("Tin tức") is not."""
    item, title = item.casefold(), title.casefold()
    stem = item.rstrip(".…").rstrip()
    if item == title or (stem != item and len(stem) >= 12 and title.startswith(stem)):
        return True
    return title.startswith(item) and len(item) >= 0.6 * len(title)
