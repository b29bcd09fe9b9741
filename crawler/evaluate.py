"""Extraction quality: our extractor against trafilatura alone, on a labelled set.

    python -m crawler.evaluate [--set sample|text|all] [--json] [--out FILE] [--verbose] [--check]

The labelled set has two parts:

* ``sample``: every article page of the sample web (crawler/samples), rendered by the sample web itself and
  fetched over HTTP from an in-process ``SampleWeb(port=0)`` (so encodings and headers are exercised too),
  labelled by crawler/samples/expected/*.json. When the loopback addresses cannot be bound, the pages come from
  the sample web's router in-process instead (same bytes, no sockets).
* ``text``: page texts like the ones a browser's "select all" gives (counters, widgets, footers around the
  article), hand-labelled: crawler/evaluation/texts/*.txt + .json, and the page-text fixtures of the extractor's
  tests (tests/fixtures/extract-text), whose publication dates are labelled in
  crawler/evaluation/fixture-dates.json.

Both systems get the same input. On HTML pages: ours is ``crawler.extract.extract`` (with the response headers)
plus ``crawler.dates.choose_published``; trafilatura is ``bare_extraction(..., with_metadata=True)`` on the same
bytes, its title, date and author taken from its own metadata (it has no source field). On page texts: ours is
``extract_text``; trafilatura gets the text wrapped as minimal HTML, each non-blank line one ``<p>`` and nothing
else (no ``<title>``, no ``<h1>``): a page text carries no markup, so any structure must be read from the text
itself, which is what ``extract_text`` does.

Measures (all pooled over the pages of a scope, so a scope's figures are sums of its pages' counts):
body precision/recall/F1 by tokens (multisets of lowercased NFC word tokens) and by paragraphs (exact match after
NFC and whitespace normalization), title accuracy (exact after the same normalization), date accuracy (same ISO
day; and the exact-ISO rate), author and source accuracy, and the number of boilerplate lines left in bodies.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import re
import sys
import time
import unicodedata
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVALUATION_DIR = Path(__file__).resolve().with_name("evaluation")
TEXTS_DIR = EVALUATION_DIR / "texts"
FIXTURE_DATES = EVALUATION_DIR / "fixture-dates.json"
FIXTURE_TEXTS_DIR = ROOT / "tests" / "fixtures" / "extract-text"
SAMPLE_EXPECTED_DIR = Path(__file__).resolve().parent / "samples" / "expected"

# A fixed crawl time for both systems' "dates after now are refused" rule, so the figures do not drift with the
# clock (the sample web has articles dated up to late 2026).
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=timezone(timedelta(hours=7)))
SYSTEMS = ("ours", "trafilatura")
SETS = ("sample", "text")
TARGETS = {"body_f1": 0.97, "title_accuracy": 0.98, "boilerplate_lines": 0}
HTTP_TIMEOUT = 20


# ---------------------------------------------------------------------------------------------------------------
# Labelled pages and answers
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    title: str | None
    published: str | None
    author: str | None
    source: str | None
    paragraphs: tuple[str, ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any], published: str | None = None) -> Labels:
        return cls(
            title=data.get("title"),
            published=data.get("published", published),
            author=data.get("author"),
            source=data.get("source"),
            paragraphs=tuple(data.get("paragraphs") or ()),
        )


@dataclass(frozen=True)
class Page:
    set_name: str  # "sample" or "text"
    group: str  # the CMS family of a sample site, or "text"
    name: str
    labels: Labels
    html: bytes | None = None
    text: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What one system read from one page."""

    title: str | None = None
    published: str | None = None
    author: str | None = None
    source: str | None = None
    paragraphs: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalize(text: str | None) -> str:
    """NFC, whitespace (no-break spaces included) collapsed: the form both sides are compared in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text or "")).strip()


def tokens(text: str) -> list[str]:
    # NFC first: in NFD the combining tone marks are not word characters and would split the words.
    return _WORD.findall(normalize(text).lower())


def prf(overlap: int, predicted: int, expected: int) -> tuple[float, float, float]:
    """Precision, recall, F1. Nothing predicted where nothing is expected is perfect; nothing predicted where
    something is expected is a precision of 0 (an empty answer is not a careful one); nothing expected leaves
    nothing to miss, a recall of 1."""
    precision = overlap / predicted if predicted else float(expected == 0)
    recall = overlap / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def multiset_overlap(predicted: Iterable[str], expected: Iterable[str]) -> tuple[int, int, int]:
    """(overlap, predicted count, expected count) of two multisets."""
    got, want = Counter(predicted), Counter(expected)
    return sum((got & want).values()), sum(got.values()), sum(want.values())


def token_counts(predicted: Sequence[str], expected: Sequence[str]) -> tuple[int, int, int]:
    return multiset_overlap(tokens(" ".join(predicted)), tokens(" ".join(expected)))


def paragraph_counts(predicted: Sequence[str], expected: Sequence[str]) -> tuple[int, int, int]:
    return multiset_overlap((p for p in map(normalize, predicted) if p), (p for p in map(normalize, expected) if p))


def same_text(got: str | None, want: str | None) -> bool:
    """Equal after normalization; None and an empty string are the same absence."""
    return normalize(got) == normalize(want)


def same_day(got: str | None, want: str | None) -> bool:
    return (got or "")[:10] == (want or "")[:10]


# The furniture checker: markers written for this evaluation, independent of crawler/extract/boilerplate.toml, so
# that the count also catches what the filter itself misses. A marker opens a short line; bullets are ignored.
FURNITURE_MARKERS = (
    # counters and view counts
    "lượt xem", "số lượt xem", "lượt đọc", "lượt truy cập", "số lượt truy cập", "tổng lượt truy cập",
    "tổng truy cập", "thống kê truy cập",
    "thống kê website", "bộ đếm", "đang online", "đang truy cập", "đang trực tuyến", "khách trực tuyến",
    # footer
    "giấy phép số", "giấy phép thiết lập", "giấy phép:", "chịu trách nhiệm", "trưởng ban biên tập",
    "ban biên tập:", "cơ quan chủ quản", "ghi rõ nguồn", "bản quyền", "copyright", "©", "chung nhan tin nhiem",
    "chứng nhận tín nhiệm", "thiết kế bởi", "phát triển bởi", "powered by", "điều khoản sử dụng",
    # widgets: accessibility, audio, print and share
    "tăng tương phản", "giảm tương phản", "cỡ chữ", "nghe bài viết", "nghe đọc bài", "đọc bài viết",
    "tự động phát", "in bài", "bản in", "gửi email", "gửi bài viết", "chia sẻ", "lưu bài viết", "quay lại",
    "về đầu trang", "lên đầu trang",
    # rating and comments
    "tổng số điểm", "click để đánh giá", "đánh giá bài viết", "bình chọn", "ý kiến bạn đọc", "ý kiến của bạn",
    "gửi ý kiến", "gửi bình luận", "bình luận", "để lại bình luận", "họ và tên", "mã xác nhận", "gửi đi",
    "chưa có ý kiến",
    # related lists and sidebars
    "bài viết liên quan", "bài liên quan", "tin liên quan", "tin khác", "các tin khác", "tin cùng chuyên mục",
    "những tin mới hơn", "những tin cũ hơn", "tin mới", "tin đọc nhiều", "xem nhiều", "bài viết khác",
    "xem thêm", "đọc thêm", "văn bản mới", "văn bản chỉ đạo", "có thể bạn quan tâm",
    # placeholders, tags, attachments
    "nội dung đang cập nhật", "dữ liệu đang cập nhật", "đang tải", "từ khóa:", "từ khoá:", "tags:",
    "file đính kèm", "tệp đính kèm", "tải về",
)  # fmt: skip
MAX_FURNITURE_LINE = 260
MIN_SENTENCE_WORDS = 8
_BULLET = re.compile(r"^[•·*\-–]\s*")
_FURNITURE_PATTERNS = (
    re.compile(r"^a\s*-\s*a\s*a\s*\+"),  # font-size widget "A- A A+"
    re.compile(r"^(?:trang chủ|home)\s*[>»/›|]"),  # breadcrumb
    re.compile(r"^(?:địa chỉ|điện thoại|đt|tel|fax|e-?mail|hotline|website)\s*:"),  # contact lines
    re.compile(r"^(?:hôm nay|hôm qua|trong tuần|tuần này|tháng này|tháng trước|tháng \d{1,2}|năm \d{4}|tất cả|"
               r"tổng|trực tuyến|online)\s*:\s*[\d.,]+\s*$"),  # counter rows
    re.compile(r"\(\s*\d{1,2}/\d{1,2}/\d{4}\s*\)$"),  # an item of a related list: "Title (12/01/2024)"
    re.compile(r"^[^\W\d][\w ]{0,30}\s*\*$"),  # a form field's label with its required mark: "Email *"
)  # fmt: skip
_DATE = re.compile(r"\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}|\d{4}-\d{2}-\d{2}|tháng\s+\w+\s+\d{1,2},\s*\d{4}")
# Words a date line may hold besides numbers: labels, weekdays, day parts, month names, view-count labels.
_DATE_WORDS = re.compile(
    r"đăng ngày|ngày đăng|cập nhật|ngày|lúc|thứ|chủ nhật|hai|ba|tư|năm|sáu|bảy|tháng|một|bốn|tám|chín|mười|"
    r"giờ|phút|sa|ch|am|pm|gmt|lượt xem|lượt|xem|views?|[\d\s:/.,|()+\-–h]"
)
_MASTHEAD = re.compile(r"^(?:trang|cổng) thông tin điện tử\b")


def is_furniture(line: str) -> bool:
    """A page-furniture line by the evaluation's own markers (independent of the extractor's filter)."""
    line = _BULLET.sub("", normalize(line))
    lowered = line.lower()
    if not line or len(line) > MAX_FURNITURE_LINE or _is_sentence(line):
        return False
    if lowered.startswith(FURNITURE_MARKERS) or any(p.search(lowered) for p in _FURNITURE_PATTERNS):
        return True
    if _MASTHEAD.match(lowered) and line == line.upper():
        return True
    return _is_date_line(lowered)


def _is_sentence(line: str) -> bool:
    """Prose that merely opens with a marker word ('Bình luận của chuyên gia ... Quốc hội.'): furniture labels,
    counters and footers do not end like a sentence of eight words or more."""
    return len(line.split()) >= MIN_SENTENCE_WORDS and line.endswith((".", "!", "?")) and not line.endswith("..")


def _is_date_line(lowered: str) -> bool:
    """A line holding a date and nothing else but date words and numbers ('Thứ hai - 15/01/2024 09:30')."""
    return len(lowered) <= 80 and bool(_DATE.search(lowered)) and not _DATE_WORDS.sub("", lowered).strip()


def boilerplate_left(paragraphs: Sequence[str], expected: Sequence[str]) -> list[str]:
    """Body lines that are not article text and look like page furniture, by the extractor's own patterns or
    the evaluation's markers. Lines the labels hold as article text never count (a notice may print 'Địa chỉ:')."""
    from crawler.extract.boilerplate import classify

    article = {normalize(p) for p in expected}
    lines = [normalize(line) for paragraph in paragraphs for line in paragraph.split("\n")]
    return [line for line in lines if line and line not in article and (is_furniture(line) or classify(line))]


@dataclass
class Counts:
    """Additive counts: a scope's figures are the sums over its pages."""

    pages: int = 0
    token_overlap: int = 0
    token_predicted: int = 0
    token_expected: int = 0
    paragraph_overlap: int = 0
    paragraph_predicted: int = 0
    paragraph_expected: int = 0
    title_ok: int = 0
    date_day_ok: int = 0
    date_exact_ok: int = 0
    author_ok: int = 0
    source_ok: int = 0
    boilerplate_lines: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float | int]:
        tp, tr, tf = prf(self.token_overlap, self.token_predicted, self.token_expected)
        pp, pr, pf = prf(self.paragraph_overlap, self.paragraph_predicted, self.paragraph_expected)
        rate = (lambda n: n / self.pages) if self.pages else (lambda n: 0.0)
        return {
            "token_precision": tp, "token_recall": tr, "token_f1": tf,
            "paragraph_precision": pp, "paragraph_recall": pr, "paragraph_f1": pf,
            "title_accuracy": rate(self.title_ok), "date_accuracy": rate(self.date_day_ok),
            "date_exact_rate": rate(self.date_exact_ok), "author_accuracy": rate(self.author_ok),
            "source_accuracy": rate(self.source_ok), "boilerplate_lines": self.boilerplate_lines,
            "pages": self.pages,
        }  # fmt: skip


def score(answer: Answer, labels: Labels) -> tuple[Counts, list[str]]:
    """One page's counts, and the boilerplate lines left in its body."""
    furniture = boilerplate_left(answer.paragraphs, labels.paragraphs)
    t_overlap, t_predicted, t_expected = token_counts(answer.paragraphs, labels.paragraphs)
    p_overlap, p_predicted, p_expected = paragraph_counts(answer.paragraphs, labels.paragraphs)
    counts = Counts(
        pages=1,
        token_overlap=t_overlap,
        token_predicted=t_predicted,
        token_expected=t_expected,
        paragraph_overlap=p_overlap,
        paragraph_predicted=p_predicted,
        paragraph_expected=p_expected,
        title_ok=int(same_text(answer.title, labels.title)),
        date_day_ok=int(same_day(answer.published, labels.published)),
        date_exact_ok=int((answer.published or None) == (labels.published or None)),
        author_ok=int(same_text(answer.author, labels.author)),
        source_ok=int(same_text(answer.source, labels.source)),
        boilerplate_lines=len(furniture),
    )
    return counts, furniture


# Measures in table order, with whether higher is better.
MEASURES: tuple[tuple[str, str, bool], ...] = (
    ("token_precision", "body precision (tokens)", True),
    ("token_recall", "body recall (tokens)", True),
    ("token_f1", "body F1 (tokens)", True),
    ("paragraph_precision", "body precision (paragraphs)", True),
    ("paragraph_recall", "body recall (paragraphs)", True),
    ("paragraph_f1", "body F1 (paragraphs)", True),
    ("title_accuracy", "title accuracy", True),
    ("date_accuracy", "date accuracy (same day)", True),
    ("date_exact_rate", "date exact ISO rate", True),
    ("author_accuracy", "author accuracy", True),
    ("source_accuracy", "source accuracy", True),
    ("boilerplate_lines", "boilerplate lines left", False),
)


# ---------------------------------------------------------------------------------------------------------------
# The two systems
# ---------------------------------------------------------------------------------------------------------------


def ours(page: Page) -> Answer:
    from crawler.dates import choose_published
    from crawler.extract import extract, extract_text

    if page.text is not None:
        result = extract_text(page.text)
    else:
        result = extract(page.html or b"", page.url, headers=page.headers)
    choice = choose_published(result.date_candidates, now=NOW)
    return Answer(
        title=result.title,
        published=choice.iso if choice else None,
        author=result.author,
        source=result.source,
        paragraphs=tuple(result.paragraphs),
    )


def trafilatura_alone(page: Page) -> Answer:
    html: bytes | str = page.html if page.text is None else wrap_text(page.text)
    return trafilatura_answer(html or b"", page.url)


def trafilatura_answer(html: bytes | str, url: str | None) -> Answer:
    """trafilatura's defaults, metadata on; its date search bounded by the same crawl time as ours."""
    import trafilatura

    dates = {"original_date": True, "extensive_search": True, "max_date": NOW.date().isoformat()}
    try:
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True, date_extraction_params=dates)
    except Exception:  # a failure is an empty answer, as it would be for a crawler using it
        document = None
    if document is None:
        return Answer()
    lines = tuple(line.strip() for line in (document.text or "").split("\n") if line.strip())
    return Answer(title=document.title, published=document.date, author=document.author, paragraphs=lines)


def wrap_text(text: str) -> str:
    """A page text as the plainest HTML: each non-blank line one paragraph, nothing else."""
    paragraphs = "".join(f"<p>{html_lib.escape(line.strip())}</p>\n" for line in text.splitlines() if line.strip())
    return f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head><body>\n{paragraphs}</body></html>'


RUNNERS = {"ours": ours, "trafilatura": trafilatura_alone}


# ---------------------------------------------------------------------------------------------------------------
# Loading the labelled set
# ---------------------------------------------------------------------------------------------------------------


def load_text_pages() -> list[Page]:
    """The hand-labelled page texts, then the extractor's page-text fixtures (with their labelled dates)."""
    pages = [_text_page(path, _read_json(path.with_suffix(".json"))) for path in sorted(TEXTS_DIR.glob("*.txt"))]
    if FIXTURE_TEXTS_DIR.is_dir():  # absent from an installed package: the evaluation's own texts remain
        dates = _read_json(FIXTURE_DATES)
        for path in sorted(FIXTURE_TEXTS_DIR.glob("*.txt")):
            data = _read_json(path.with_suffix(".json"))
            pages.append(_text_page(path, {**data, "published": dates[path.stem]}, prefix="fixture:"))
    return pages


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _text_page(path: Path, data: dict[str, Any], prefix: str = "") -> Page:
    return Page("text", "text", prefix + path.stem, Labels.from_dict(data), text=path.read_text(encoding="utf-8"))


def load_sample_pages() -> list[Page]:
    """Every article of the sample web as served over HTTP (the router in-process if sockets are refused)."""
    from crawler.samples.server import SampleWeb

    web = SampleWeb(port=0)
    try:
        web.start()
    except OSError:
        return [_sample_page(web, site_id, path, data, fetch=_via_router) for site_id, path, data in _expected()]
    try:
        return [_sample_page(web, site_id, path, data, fetch=_via_http) for site_id, path, data in _expected()]
    finally:
        web.stop()


def _expected() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted(SAMPLE_EXPECTED_DIR.glob("*.json")):
        for url_path, data in sorted(json.loads(path.read_text(encoding="utf-8")).items()):
            found.append((path.stem, url_path, data))
    return found


def _sample_page(web: Any, site_id: str, path: str, data: dict[str, Any], fetch: Any) -> Page:
    url = web.url(site_id, path)
    body, headers = fetch(web, site_id, path, url)
    family = web.sites[site_id].family
    return Page("sample", family, f"{site_id}{path}", Labels.from_dict(data), html=body, url=url, headers=headers)


def _via_http(web: Any, site_id: str, path: str, url: str) -> tuple[bytes, dict[str, str]]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    with opener.open(url, timeout=HTTP_TIMEOUT) as response:
        return response.read(), dict(response.headers.items())


def _via_router(web: Any, site_id: str, path: str, url: str) -> tuple[bytes, dict[str, str]]:
    response = web.respond(site_id, path)
    return response.body, {"Content-Type": response.content_type, **response.headers}


def load_pages(which: str) -> list[Page]:
    pages: list[Page] = []
    if which in ("sample", "all"):
        pages += load_sample_pages()
    if which in ("text", "all"):
        pages += load_text_pages()
    return pages


# ---------------------------------------------------------------------------------------------------------------
# Running and summing up
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class PageResult:
    page: Page
    system: str
    answer: Answer
    counts: Counts
    furniture: list[str]


def evaluate(pages: Sequence[Page], systems: Sequence[str] = SYSTEMS, profiles: bool = True) -> list[PageResult]:
    """Score each system on each page. ``profiles=False`` reads every page as from a CMS no family profile
    knows (detection finds nothing): the generic layers alone, as on the sites nobody wrote a profile for."""
    results = []
    with nullcontext() if profiles else _no_family_detected():
        for page in pages:
            for system in systems:
                answer = RUNNERS[system](page)
                counts, furniture = score(answer, page.labels)
                results.append(PageResult(page, system, answer, counts, furniture))
    return results


@contextmanager
def _no_family_detected() -> Iterator[None]:
    from crawler.extract import core

    detect = core.detect_family
    core.detect_family = lambda *args, **kwargs: None
    try:
        yield
    finally:
        core.detect_family = detect


def scopes_of(page: Page) -> list[str]:
    """The scopes a page counts in: its set, its family (or 'text') and 'all'."""
    return [page.set_name, f"family:{page.group}", "all"]


def summarize(results: Sequence[PageResult]) -> dict[str, dict[str, dict[str, float | int]]]:
    """{scope: {system: metrics}}; scopes are the sets, 'all' and 'family:<id>'."""
    totals: dict[str, dict[str, Counts]] = {}
    for result in results:
        for scope in scopes_of(result.page):
            totals.setdefault(scope, {}).setdefault(result.system, Counts()).add(result.counts)
    return {scope: {system: counts.metrics() for system, counts in by.items()} for scope, by in totals.items()}


def check_targets(summary: dict[str, dict[str, dict[str, float | int]]], scope: str = "all") -> list[str]:
    """The issue's targets missed on a scope (empty: all met). 'Better than trafilatura' on a measure means
    at least as good, and strictly better wherever trafilatura is not already perfect."""
    if scope not in summary:
        return [f"no pages in scope {scope!r}"]
    ours_m, theirs = summary[scope]["ours"], summary[scope]["trafilatura"]
    failures = []
    for key in ("token_f1", "paragraph_f1"):
        if ours_m[key] < TARGETS["body_f1"]:
            failures.append(f"{key} {ours_m[key]:.3f} < {TARGETS['body_f1']}")
    if ours_m["title_accuracy"] < TARGETS["title_accuracy"]:
        failures.append(f"title_accuracy {ours_m['title_accuracy']:.3f} < {TARGETS['title_accuracy']}")
    if ours_m["boilerplate_lines"] > TARGETS["boilerplate_lines"]:
        failures.append(f"boilerplate_lines {ours_m['boilerplate_lines']} > {TARGETS['boilerplate_lines']}")
    for key, _, higher in MEASURES:
        if not _better(ours_m[key], theirs[key], higher):
            failures.append(f"{key}: {ours_m[key]} not better than trafilatura's {theirs[key]}")
    return failures


def _better(mine: float, theirs: float, higher: bool) -> bool:
    if not higher:
        return mine < theirs or mine == theirs == 0
    return mine > theirs or mine == theirs == 1.0


# ---------------------------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------------------------


def _cell(value: float | int) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{value:.3f}"


def render_table(summary: dict[str, dict[str, dict[str, float | int]]], sets: Sequence[str]) -> str:
    """Measures down, (scope x system) across."""
    # With one set, "all" is that set again: shown once.
    scopes = [s for s in sets if s in summary] + (["all"] if len(sets) > 1 else [])
    header = f"{'measure':30}" + "".join(f"{scope + ' ours':>14}{'trafilatura':>13}" for scope in scopes)
    lines = [header, "-" * len(header)]
    for key, label, _ in (*MEASURES, ("pages", "pages", True)):
        row = f"{label:30}"
        for scope in scopes:
            row += f"{_cell(summary[scope]['ours'][key]):>14}{_cell(summary[scope]['trafilatura'][key]):>13}"
        lines.append(row)
    return "\n".join(lines)


FAMILY_COLUMNS = (
    ("token_f1", "F1 tok"), ("paragraph_f1", "F1 par"), ("title_accuracy", "title"),
    ("date_accuracy", "date"), ("author_accuracy", "author"), ("boilerplate_lines", "bp lines"),
)  # fmt: skip


def render_families(summary: dict[str, dict[str, dict[str, float | int]]]) -> str:
    """One row per family (and the page texts), ours / trafilatura in each cell."""
    families = sorted(scope for scope in summary if scope.startswith("family:"))
    header = f"{'family':14}{'pages':>6}" + "".join(f"{label:>16}" for _, label in FAMILY_COLUMNS)
    lines = [header + "   (ours / trafilatura)", "-" * len(header)]
    for scope in families:
        mine, theirs = summary[scope]["ours"], summary[scope]["trafilatura"]
        cells = "".join(f"{_cell(mine[key]) + ' / ' + _cell(theirs[key]):>16}" for key, _ in FAMILY_COLUMNS)
        lines.append(f"{scope.removeprefix('family:'):14}{mine['pages']:>6}{cells}")
    return "\n".join(lines)


def render_pages(results: Sequence[PageResult]) -> str:
    """--verbose: every page where either system is not perfect, with what ours got wrong."""
    lines = []
    by_page: dict[str, dict[str, PageResult]] = {}
    for result in results:
        by_page.setdefault(result.page.name, {})[result.system] = result
    for name, pair in by_page.items():
        mine, theirs = pair.get("ours"), pair.get("trafilatura")
        figures = "  ".join(f"{system}: {_page_line(result)}" for system, result in pair.items())
        lines.append(f"{name}\n    {figures}")
        if mine is not None:
            lines += [f"    ours: {problem}" for problem in _problems(mine)]
        if theirs is not None and theirs.furniture:
            lines.append(f"    trafilatura left: {'; '.join(line[:60] for line in theirs.furniture[:4])}")
    return "\n".join(lines)


def _page_line(result: PageResult) -> str:
    m = result.counts.metrics()
    flags = "".join(
        flag if ok else "-"
        for flag, ok in (
            ("T", m["title_accuracy"]),
            ("D", m["date_accuracy"]),
            ("A", m["author_accuracy"]),
            ("S", m["source_accuracy"]),
        )
    )
    return f"F1 {m['token_f1']:.3f}/{m['paragraph_f1']:.3f} {flags} bp {m['boilerplate_lines']}"


def _problems(result: PageResult) -> list[str]:
    labels, answer = result.page.labels, result.answer
    problems = [
        f"{name}: {getattr(answer, name)!r} != {getattr(labels, name)!r}"
        for name in ("title", "author", "source")
        if not same_text(getattr(answer, name), getattr(labels, name))
    ]
    if not same_day(answer.published, labels.published):
        problems.append(f"published: {answer.published!r} != {labels.published!r}")
    want = {normalize(p) for p in labels.paragraphs}
    got = {normalize(p) for p in answer.paragraphs}
    problems += [f"extra paragraph: {p[:80]!r}" for p in answer.paragraphs if normalize(p) not in want]
    problems += [f"missing paragraph: {p[:80]!r}" for p in labels.paragraphs if normalize(p) not in got]
    problems += [f"boilerplate left: {line[:80]!r}" for line in result.furniture]
    return problems


def report(results: Sequence[PageResult], summary: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The JSON report: the summary per scope and system, and every page's figures."""
    import trafilatura

    return {
        "trafilatura_version": trafilatura.__version__,
        "seconds": round(seconds, 2),
        "targets": TARGETS,
        "summary": summary,
        "pages": [
            {"name": r.page.name, "set": r.page.set_name, "group": r.page.group, "system": r.system,
             "metrics": r.counts.metrics(), "boilerplate_left": r.furniture, "answer": asdict(r.answer)}
            for r in results
        ],
    }  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crawler.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("sample", "text", "all"), default="all", dest="which")
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of the tables")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument("--verbose", "-v", action="store_true", help="list every page and what ours got wrong")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target of the issue is missed")
    parser.add_argument("--no-profiles", action="store_true", help="read every page as from an unknown CMS: "
                        "no family profile, the generic layers alone (trafilatura and our filters)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    started = time.monotonic()
    results = evaluate(load_pages(args.which), profiles=not args.no_profiles)
    summary = summarize(results)
    data = report(results, summary, time.monotonic() - started)
    if args.out:
        args.out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    sets = SETS if args.which == "all" else (args.which,)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_tables(results, summary, sets, data, verbose=args.verbose)
    failures = check_targets(summary)
    for failure in failures:
        print(f"target missed: {failure}", file=sys.stderr)
    return 1 if args.check and failures else 0


def _print_tables(
    results: Sequence[PageResult], summary: dict[str, Any], sets: Sequence[str], data: dict[str, Any], verbose: bool
) -> None:
    if verbose:
        print(render_pages(results) + "\n")
    print(f"Extraction quality: ours vs trafilatura {data['trafilatura_version']} alone ({data['seconds']} s)\n")
    print(render_table(summary, sets) + "\n")
    print(render_families(summary) + "\n")
    print("targets on 'all': " + ("met" if not check_targets(summary) else "MISSED (see stderr)"))


if __name__ == "__main__":
    sys.exit(main())
