"""extract_text(): the text-level cleaning alone, for page texts (no HTML) like the ones a browser's
"select all" gives: counters and widgets above the title, footers below the byline.
"""

from __future__ import annotations

import re
import unicodedata

from .boilerplate import filter_lines, normalize_line
from .fields import peel_credits, view_count_from_text
from .model import Extraction

MAX_TITLE = 250
# A section heading printed above the title ("TIN HOẠT ĐỘNG", "Tin tức - Sự kiện") is at most this long.
MAX_HEADING_WORDS = 6
MAX_HEADING_CHARS = 50
# Date lines further down than this many lines are not the page's date line.
DATE_LINE_SCAN = 8
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")
_LINE_END = re.compile(r"[.!?…:;\"”)»]$")


def extract_text(text: str) -> Extraction:
    """Title, date candidates, byline, source and body paragraphs of a page text. Never raises."""
    try:
        return _extract_text(text or "")
    except Exception as error:  # same contract as extract(): record, never raise
        return Extraction(ok=False, reason=f"error: {type(error).__name__}: {error}"[:300], method="text")


def _extract_text(text: str) -> Extraction:
    result = Extraction(method="text", encoding="unicode")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [normalize_line(line) for line in text.split("\n")]
    if not any(lines):
        result.reason = "empty"
        return result
    filtered = filter_lines(lines)
    kept = [i for i in filtered.kept if lines[i]]
    _harvest_removed(lines, filtered.removed, kept, result)
    if _starts_with_section_heading(lines, kept):
        kept = kept[1:]  # furniture: neither the title nor body text
    title_index = _title_index(lines, kept)
    if title_index is not None:
        result.title = lines[title_index]
        kept = [i for i in kept if i != title_index]
    paragraphs = _paragraphs(lines, kept)
    count, credits = peel_credits(paragraphs)
    result.author, result.source = credits.author, credits.source
    if count:
        paragraphs = paragraphs[:-count]
    result.set_paragraphs(paragraphs)
    if result.paragraphs:
        sentence = _SENTENCE_END.split(result.paragraphs[0], maxsplit=1)[0][:220]
        if any(ch.isdigit() for ch in sentence):
            result.add_date(sentence, "first_sentence")
    result.ok = bool(result.paragraphs)
    result.reason = None if result.ok else "no-body"
    return result


def _harvest_removed(lines: list[str], removed: list, kept: list[int], result: Extraction) -> None:
    """Date lines near the top become visible date candidates; counts next to them, the view count."""
    first_content = kept[0] if kept else len(lines)
    for index, rule in removed:
        if rule.kind in {"dateline", "view-count"} and result.view_count is None:
            result.view_count = view_count_from_text(lines[index])
        near_top = index <= first_content + DATE_LINE_SCAN or len([k for k in kept if k < index]) <= 2
        if rule.kind == "dateline" and near_top:
            result.add_date(lines[index], "visible")


def _title_index(lines: list[str], kept: list[int]) -> int | None:
    """The first kept line, if it reads as a title: short, not a sentence, and more text follows."""
    if len(kept) < 2 or not _reads_as_title(lines[kept[0]]):
        return None
    return kept[0]


def _reads_as_title(line: str) -> bool:
    if len(line) > MAX_TITLE or len(line.split()) < 3:
        return False
    return not (line.endswith((".", ";", ",")) and not line.endswith("..."))


def _starts_with_section_heading(lines: list[str], kept: list[int]) -> bool:
    """The first kept line is the section's heading over the title: short, no number, no sentence end, and
    followed by a line that reads as a title at least twice as long, with body text after that. (A real short
    title is followed by its lead, a sentence, not by a second title-like line.)"""
    if len(kept) < 3:
        return False
    first, second = lines[kept[0]], lines[kept[1]]
    if len(first.split()) > MAX_HEADING_WORDS or len(first) > MAX_HEADING_CHARS:
        return False
    if any(ch.isdigit() for ch in first) or first.endswith((".", ";", ",", ":", "!", "?")):
        return False
    return _reads_as_title(second) and len(second) >= 2 * len(first)


def _paragraphs(lines: list[str], kept: list[int]) -> list[str]:
    """Kept lines to paragraphs: blank lines separate; a line broken mid-sentence (hard wrap, next line
    in lower case) is joined to the next one."""
    paragraphs: list[str] = []
    previous: int | None = None
    for index in kept:
        line = lines[index]
        joinable = paragraphs and previous == index - 1 and not _LINE_END.search(paragraphs[-1]) and line[:1].islower()
        if joinable:
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        previous = index
    return paragraphs
