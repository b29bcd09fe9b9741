"""Benchmark of crawler/dates.py against dateparser alone and htmldate, on the same strings and pages.

Run on demand (not part of the test suite):

    .venv/bin/python bench/bench_dates.py [--seconds 0.5] [--out bench/results/dates.json]

Three readers get the same inputs:
* ours: ``parse_date`` (``parse_first_sentence`` for first sentences) on strings, ``choose_published`` on the
  date candidates an extractor takes from a page (visible date line, meta, JSON-LD, first sentence, URL);
* dateparser alone: ``dateparser.parse(text, languages=['vi'], settings={'DATE_ORDER': 'DMY'})`` (with
  ``RELATIVE_BASE`` set to the reference where a form has no year); on pages, the visible date line;
* htmldate: ``find_date`` on a small HTML snippet holding the string, or on the whole page.

Each answer is scored against the expected ISO value: ``exact`` (same value; for htmldate, which answers days
only, the same day when only a day is expected), ``day`` (right day, time missing or different), ``missed`` (no
answer where one was expected) or ``wrong`` (a wrong day, or an answer where there is none: the worst case).
Speed is inputs per second over repeated runs; ratios are against dateparser alone in the same run.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 21, 12, 0)  # fixed crawl time (Vietnamese), so results do not drift with the clock


# ----------------------------------------------------------------------------------------------------------------
# Labelled strings: (text, reference or None, expected ISO or None, kind)
# kind: "form" (a date line or meta value), "sentence" (a first sentence), "negative" (no article date)
# ----------------------------------------------------------------------------------------------------------------
STRINGS: list[tuple[str, date | None, str | None, str]] = [
    ("06/04/2022", None, "2022-04-06", "form"),
    ("Đăng ngày 04-04-2021 08:47", None, "2021-04-04T08:47:00+07:00", "form"),
    ("12-09-2023 255", None, "2023-09-12", "form"),
    ("Chiều ngày 15/10/2024", None, "2024-10-15", "form"),
    ("Sáng 3-4", date(2021, 4, 4), "2021-04-03", "form"),
    ("Ngày 5-4", date(2022, 4, 6), "2022-04-05", "form"),
    ("Sáng ngày 12-9", date(2023, 9, 12), "2023-09-12", "form"),
    ("Tối 20/11", date(2024, 11, 21), "2024-11-20", "form"),
    ("Sáng 30-12", date(2025, 1, 2), "2024-12-30", "form"),
    ("Thứ hai - 15/01/2024 09:30", None, "2024-01-15T09:30:00+07:00", "form"),
    ("Chủ nhật - 14/01/2024 18:45", None, "2024-01-14T18:45:00+07:00", "form"),
    ("Thứ 4, 30/09/2026 | 16:06", None, "2026-09-30T16:06:00+07:00", "form"),
    ("Thứ năm, 30/10/2025 | 10:31", None, "2025-10-30T10:31:00+07:00", "form"),
    ("Cập nhật: 10:25 | 15/10/2024", None, "2024-10-15T10:25:00+07:00", "form"),
    ("15 tháng 10 năm 2024", None, "2024-10-15", "form"),
    ("ngày 15 tháng 10 năm 2024", None, "2024-10-15", "form"),
    ("14 giờ 05 phút, ngày 15/4/2024", None, "2024-04-15T14:05:00+07:00", "form"),
    ("15/04/2024 14h05", None, "2024-04-15T14:05:00+07:00", "form"),
    ("02:30 CH 15/04/2024", None, "2024-04-15T14:30:00+07:00", "form"),
    ("15/01/2024 09:30:00 AM", None, "2024-01-15T09:30:00+07:00", "form"),
    ("09:30:00 | 15/01/2024", None, "2024-01-15T09:30:00+07:00", "form"),
    ("2024-01-15+0709:30:00", None, "2024-01-15T09:30:00+07:00", "form"),
    ("2024-01-15ICT09:30:00", None, "2024-01-15T09:30:00+07:00", "form"),
    ("2026-09-30T16:14:33+0700", None, "2026-09-30T16:14:33+07:00", "form"),
    ("2026-09-30+0716:14:33", None, "2026-09-30T16:14:33+07:00", "form"),
    ("2024-10-15T02:30:00Z", None, "2024-10-15T09:30:00+07:00", "form"),
    ("2018-06-15T15:05:00+07:00", None, "2018-06-15T15:05:00+07:00", "form"),
    ("03/04/2024", None, "2024-04-03", "form"),
    ("12/01/2024", None, "2024-01-12", "form"),
    ("15.10.2024", None, "2024-10-15", "form"),
    ("15/10/2024 | Lượt xem: 123", None, "2024-10-15", "form"),
    ("Cập nhật lúc 10:25 15/10/2024 (GMT+7)", None, "2024-10-15T10:25:00+07:00", "form"),
    ("Ngày đăng: 15/10/2024", None, "2024-10-15", "form"),
    ("Thứ Sáu, 18/10/2024, 14:30 (GMT+7)", None, "2024-10-18T14:30:00+07:00", "form"),
    ("October 15, 2024", None, "2024-10-15", "form"),
    ("15 tháng Mười năm 2024", None, "2024-10-15", "form"),
    ("Tháng Mười 15, 2024", None, "2024-10-15", "form"),  # WordPress in Vietnamese
    ("Tháng Năm 1, 2024", None, "2024-05-01", "form"),
    ("15-10-2024 137", None, "2024-10-15", "form"),  # Liferay: the eye icon's count
    ("Ngày 15/10/2024 09:30 | Lượt xem: 137", None, "2024-10-15T09:30:00+07:00", "form"),
    # Held out: written after the parser was finished and never used to tune it
    ("Thứ Bảy, 02/03/2024 - 07:15", None, "2024-03-02T07:15:00+07:00", "form"),
    ("07:15 AM, 02/03/2024", None, "2024-03-02T07:15:00+07:00", "form"),
    ("Thời gian đăng: 02/03/2024 07:15", None, "2024-03-02T07:15:00+07:00", "form"),
    ("2/3/2024 7:15:00 SA", None, "2024-03-02T07:15:00+07:00", "form"),
    ("02/03/2024 07:15 | 1.234 lượt xem", None, "2024-03-02T07:15:00+07:00", "form"),
    ("Ngày 02 tháng 3 năm 2024 lúc 7 giờ 15", None, "2024-03-02T07:15:00+07:00", "form"),
    ("Posted on March 2, 2024", None, "2024-03-02", "form"),
    ("02/03/2024 - 7h15'", None, "2024-03-02T07:15:00+07:00", "form"),
    ("Sáng thứ Bảy (2/3)", date(2024, 3, 5), "2024-03-02", "form"),
    ("Thứ hai, 4/3/2024 | 07:15 GMT+7", None, "2024-03-04T07:15:00+07:00", "form"),
    ("02/03/2024 07:15:00 CH", None, "2024-03-02T19:15:00+07:00", "form"),
    ("Mar 2, 2024, 7:15 am", None, "2024-03-02T07:15:00+07:00", "form"),
    # First sentences (the sample web's style; later dates belong to other documents)
    ("Sáng 3-4, Ban Dân vận Thành ủy phối hợp với UBND thành phố tổ chức Hội nghị tổng kết.", date(2021, 4, 4),
     "2021-04-03", "sentence"),
    ("( Đài An Lão) Sáng ngày 12-9, huyện ủy An Lão tổ chức tập huấn nghiệp vụ công tác dân vận năm 2023.",
     date(2023, 9, 12), "2023-09-12", "sentence"),
    ("Chiều ngày 15/10/2024, Ban chấp hành Đảng bộ phường tổ chức Tọa đàm kỷ niệm 94 năm (15/10/1930 – "
     "15/10/2024).", None, "2024-10-15", "sentence"),
    ("Ngày 5-4, Ban Dân vận Thành ủy tổ chức hội nghị tập huấn công tác dân vận.", date(2022, 4, 6),
     "2022-04-05", "sentence"),
    ("(Mặt trận) - Sáng 14-10, Ủy ban MTTQ thành phố triển khai Chỉ thị số 33/CT-TTg, ngày 26/11/2021.",
     date(2024, 10, 15), "2024-10-14", "sentence"),
    ("Ban Dân vận Tỉnh ủy triển khai Chỉ thị số 33/CT-TTg, ngày 26/11/2021 của Thủ tướng Chính phủ.", None,
     None, "sentence"),
    ("Thực hiện Kế hoạch số 30-KH/BDVTU ngày 15/3/2024, Ban Dân vận tổ chức hội nghị.", None, None, "sentence"),
    # Negatives
    ("0228.3821.158", None, None, "negative"),
    ("Điện thoại: 0228.3821.158", None, None, "negative"),
    ("Chỉ thị số 33/CT-TTg, ngày 26/11/2021", None, None, "negative"),
    ("14 giờ 05 phút", None, None, "negative"),
    ("14h05", None, None, "negative"),
    ("2016-2020", None, None, "negative"),
    ("Sáng 3-4", None, None, "negative"),  # no reference: never this year
    ("15/10/2030", None, None, "negative"),  # the future
    ("Lượt xem: 137", None, None, "negative"),
    ("Hôm qua", None, None, "negative"),
    ("3 giờ trước", None, None, "negative"),
    ("tháng 10 năm 2024", None, None, "negative"),
    ("15/10/1989", None, None, "negative"),
    ("Số 30-KH/BDVTU", None, None, "negative"),
    ("Tháng Giêng 3, 2024", None, None, "negative"),  # a lunar month
]


# ----------------------------------------------------------------------------------------------------------------
# Pages: the HTML, the candidates an extractor takes from it, the expected publication date
# ----------------------------------------------------------------------------------------------------------------
def _page(head: str, body: str) -> str:
    return f"<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


_FOOTER = "<footer><p>Điện thoại: 0228.3821.158 - Giấy phép số 12/GP-TTĐT ngày 20/05/2019</p></footer>"

PAGES: list[dict[str, Any]] = [
    {
        "name": "nukeviet",
        "url": "https://dvtu.namdinh.gov.vn/vi/news/tin-hoat-dong/hoi-nghi-tap-huan-1024.html",
        "html": _page(
            "<title>Hội nghị tập huấn</title><meta property='article:published_time' content='2024-01-15+0709:30:00'>"
            "<meta property='article:modified_time' content='2024-01-20+0710:00:00'>",
            "<div itemscope itemtype='http://schema.org/NewsArticle'><h1 itemprop='headline'>Hội nghị tập huấn</h1>"
            "<span class='hidden' itemprop='datePublished'>2024-01-20T10:00:00+07:00</span>"
            "<span class='h5'>Thứ hai - 15/01/2024 09:30</span><div id='news-bodyhtml'><p>Sáng 14-1, Ban Dân vận "
            "Tỉnh ủy tổ chức hội nghị triển khai Chỉ thị số 33/CT-TTg, ngày 26/11/2021.</p></div></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "Thứ hai - 15/01/2024 09:30", "source": "visible"},
                       {"raw": "2024-01-15+0709:30:00", "source": "meta"},
                       {"raw": "Sáng 14-1, Ban Dân vận Tỉnh ủy tổ chức hội nghị triển khai Chỉ thị số 33/CT-TTg, "
                               "ngày 26/11/2021.", "source": "first_sentence"}],
        "expected": "2024-01-15T09:30:00+07:00",
    },
    {
        "name": "vhv",
        "url": "https://hungyen.gov.vn/tin-tuc-su-kien/hoi-nghi-so-ket.html",
        "html": _page(
            "<title>Hội nghị sơ kết</title><meta property='article:published_time' itemprop='datePublished' "
            "content='2026-09-30T16:14:33+0700'><meta name='DC.Date' content='2026-09-30+0716:14:33'>",
            "<article class='new-detail-layout-type-2'><header><span class='post-date'>Thứ 4, 30/09/2026"
            "<span class='drash'> | </span>16:06</span></header><h1 class='article-title'>Hội nghị sơ kết</h1>"
            "<div class='article-content'><p>Chiều 29-9, UBND tỉnh họp sơ kết.</p></div>"
            "<div class='author'>Lượt xem: 255</div></article>" + _FOOTER,
        ),
        "candidates": [{"raw": "Thứ 4, 30/09/2026 | 16:06", "source": "visible"},
                       {"raw": "2026-09-30T16:14:33+0700", "source": "meta"},
                       {"raw": "Chiều 29-9, UBND tỉnh họp sơ kết.", "source": "first_sentence"}],
        "expected": "2026-09-30T16:06:00+07:00",
    },
    {
        "name": "tandan",
        "url": "https://giaothuy.namdinh.gov.vn/portal/Pages/2021-4-4/Cong-tac-dan-vanx1y2z3.aspx",
        "html": _page(
            "<title>Công tác dân vận</title>",
            "<p class='tandan-p-article-news-title'>Công tác dân vận phải đi trước một bước</p>"
            "<span class='tandan-span-date-publish'>Đăng ngày 04-04-2021 08:47</span>"
            "<p class='tandan-p-article-main'>Sáng 3-4, Ban Dân vận Thành ủy phối hợp với UBND thành phố tổ chức "
            "Hội nghị tổng kết giai đoạn 2016-2020.</p>" + _FOOTER,
        ),
        "candidates": [{"raw": "Đăng ngày 04-04-2021 08:47", "source": "visible"},
                       {"raw": "Sáng 3-4, Ban Dân vận Thành ủy phối hợp.", "source": "first_sentence"},
                       {"raw": "https://giaothuy.namdinh.gov.vn/portal/Pages/2021-4-4/Cong-tac-dan-vanx1y2z3.aspx",
                        "source": "url"}],
        "expected": "2021-04-04T08:47:00+07:00",
    },
    {
        "name": "aspnet-ui",
        "url": "https://anlao.haiphong.gov.vn/xay-dung-dang/huyen-uy-an-lao-tap-huan-1234.html",
        "html": _page(
            "<title>Huyện ủy An Lão tập huấn</title>",
            "<div class='ArticleHeader'>Huyện ủy An Lão tập huấn nghiệp vụ công tác dân vận năm 2023</div>"
            "<div class='PostDate'>12-09-2023 255</div><div class='ArticleContent'><p>( Đài An Lão) Sáng ngày 12-9, "
            "huyện ủy An Lão tổ chức tập huấn nghiệp vụ công tác dân vận năm 2023.</p></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "12-09-2023 255", "source": "visible"},
                       {"raw": "( Đài An Lão) Sáng ngày 12-9, huyện ủy An Lão tổ chức tập huấn.",
                        "source": "first_sentence"}],
        "expected": "2023-09-12",
    },
    {
        "name": "wordpress",
        "url": "https://mattran.danang.gov.vn/2024/10/15/hoi-nghi-mttq/",
        "html": _page(
            "<title>Hội nghị MTTQ</title><meta property='article:published_time' content='2024-10-15T07:30:00+00:00'>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"datePublished\": "
            "\"2024-10-15T07:30:00+00:00\"}</script>",
            "<article class='post'><h1 class='entry-title'>Hội nghị MTTQ</h1><time class='entry-date published' "
            "datetime='2024-10-15T14:30:00+07:00'>15/10/2024</time><div class='entry-content'><p>Sáng 15-10, Ủy ban "
            "MTTQ thành phố tổ chức hội nghị.</p></div></article>" + _FOOTER,
        ),
        "candidates": [{"raw": "15/10/2024", "source": "visible"},
                       {"raw": "2024-10-15T07:30:00+00:00", "source": "meta"},
                       {"raw": "2024-10-15T07:30:00+00:00", "source": "jsonld"},
                       {"raw": "https://mattran.danang.gov.vn/2024/10/15/hoi-nghi-mttq/", "source": "url"}],
        "expected": "2024-10-15T14:30:00+07:00",
    },
    {
        "name": "liferay",
        "url": "https://danang.gov.vn/web/guest/-/hoi-nghi-tap-huan",
        "html": _page(
            "<title>Hội nghị tập huấn</title>",
            "<div class='title-news'><h1>Hội nghị tập huấn công tác dân vận</h1></div><p class='date'>06/04/2022</p>"
            "<div class='journal-content-article'><p>Ngày 5-4, Ban Dân vận Thành ủy tổ chức hội nghị tập huấn theo "
            "Quyết định số 123/QĐ-UBND ngày 01/02/2020.</p></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "06/04/2022", "source": "visible"},
                       {"raw": "Ngày 5-4, Ban Dân vận Thành ủy tổ chức hội nghị tập huấn theo Quyết định số "
                               "123/QĐ-UBND ngày 01/02/2020.", "source": "first_sentence"}],
        "expected": "2022-04-06",
    },
    {
        "name": "month-first trap",
        "url": "https://example.gov.vn/tin-tuc/hoi-nghi.html",
        "html": _page(
            "<title>Hội nghị</title>",
            "<h1>Hội nghị</h1><div class='date'>Ngày đăng: 03/04/2024 08:00</div><div class='content'><p>Sáng 2-4, "
            "hội nghị diễn ra.</p></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "Ngày đăng: 03/04/2024 08:00", "source": "visible"},
                       {"raw": "Sáng 2-4, hội nghị diễn ra.", "source": "first_sentence"}],
        "expected": "2024-04-03T08:00:00+07:00",
    },
    {
        "name": "time in words",
        "url": "https://example.gov.vn/tin-tuc/cuoc-hop.html",
        "html": _page(
            "<title>Cuộc họp</title>",
            "<h1>Cuộc họp</h1><div class='date'>14 giờ 05 phút, ngày 15/4/2024</div><div class='content'><p>Chiều "
            "15-4, cuộc họp diễn ra.</p></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "14 giờ 05 phút, ngày 15/4/2024", "source": "visible"},
                       {"raw": "Chiều 15-4, cuộc họp diễn ra.", "source": "first_sentence"}],
        "expected": "2024-04-15T14:05:00+07:00",
    },
    {
        "name": "listing only",
        "url": "https://example.gov.vn/tin-tuc/tin-van.html",
        "html": _page(
            "<title>Tin vắn</title>",
            "<h1>Tin vắn</h1><div class='content'><p>Sáng 3-4, Ban Dân vận triển khai Chỉ thị số 33/CT-TTg, ngày "
            "26/11/2021.</p></div>" + _FOOTER,
        ),
        "candidates": [{"raw": "Sáng 3-4, Ban Dân vận triển khai Chỉ thị số 33/CT-TTg, ngày 26/11/2021.",
                        "source": "first_sentence"},
                       {"raw": "04/04/2021", "source": "listing"}],
        "expected": "2021-04-04",
    },
]


# ----------------------------------------------------------------------------------------------------------------
# Readers
# ----------------------------------------------------------------------------------------------------------------
def _vn_iso(value: datetime) -> str:
    from crawler.dates import VN_TZ

    value = value.replace(tzinfo=VN_TZ) if value.tzinfo is None else value.astimezone(VN_TZ)
    return value.isoformat(timespec="seconds")


def ours_string(text: str, reference: date | None, kind: str) -> str | None:
    from crawler.dates import parse_date, parse_first_sentence

    reader = parse_first_sentence if kind == "sentence" else parse_date
    parsed = reader(text, reference=reference, now=NOW)
    return parsed.iso if parsed else None


def dateparser_string(text: str, reference: date | None, kind: str) -> str | None:
    import dateparser

    settings: dict[str, Any] = {"DATE_ORDER": "DMY"}
    if reference is not None:
        settings["RELATIVE_BASE"] = datetime(reference.year, reference.month, reference.day)
    found = dateparser.parse(text, languages=["vi"], settings=settings)
    return _vn_iso(found) if found else None


def _snippet(text: str) -> str:
    return _page("<title>Tin tức</title>", f"<article><h1>Tiêu đề</h1><p class='date'>{text}</p></article>")


def htmldate_string(text: str, reference: date | None, kind: str) -> str | None:
    from htmldate import find_date

    return find_date(_snippet(text), outputformat="%Y-%m-%d", max_date=NOW.date().isoformat())


def ours_page(page: dict[str, Any]) -> str | None:
    from crawler.dates import choose_published

    choice = choose_published(page["candidates"], now=NOW)
    return choice.iso if choice else None


def dateparser_page(page: dict[str, Any]) -> str | None:
    visible = next((c["raw"] for c in page["candidates"] if c["source"] == "visible"), None)
    return dateparser_string(visible, None, "form") if visible else None


def htmldate_page(page: dict[str, Any]) -> str | None:
    from htmldate import find_date

    return find_date(page["html"], url=page["url"], outputformat="%Y-%m-%d", max_date=NOW.date().isoformat())


# ----------------------------------------------------------------------------------------------------------------
# Scoring and timing
# ----------------------------------------------------------------------------------------------------------------
def grade(answer: str | None, expected: str | None) -> str:
    if expected is None:
        return "exact" if answer is None else "wrong"
    if answer is None:
        return "missed"
    if answer[:10] != expected[:10]:
        return "wrong"
    has_time = len(expected) > 10
    if not has_time or answer == expected:
        return "exact"
    return "day"


@dataclass
class Score:
    counts: dict[str, int] = field(default_factory=lambda: {"exact": 0, "day": 0, "missed": 0, "wrong": 0})
    failures: list[dict[str, Any]] = field(default_factory=list)
    per_second: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> dict[str, Any]:
        total = self.total or 1
        return {
            **self.counts,
            "total": self.total,
            "accuracy_exact": round(self.counts["exact"] / total, 3),
            "accuracy_day": round((self.counts["exact"] + self.counts["day"]) / total, 3),
            "per_second": round(self.per_second, 1),
            "failures": self.failures,
        }


def evaluate(items: list[Any], reader: Callable[[Any], str | None], expected: Callable[[Any], str | None],
             label: Callable[[Any], str], seconds: float) -> Score:
    score = Score()
    for item in items:
        answer = reader(item)
        verdict = grade(answer, expected(item))
        score.counts[verdict] += 1
        if verdict != "exact":
            score.failures.append({"input": label(item), "expected": expected(item), "answer": answer,
                                   "verdict": verdict})
    score.per_second = _throughput(items, reader, seconds)
    return score


def _throughput(items: list[Any], reader: Callable[[Any], str | None], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        for item in items:
            reader(item)
        done += len(items)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


READERS_STRINGS: dict[str, Callable[[str, date | None, str], str | None]] = {
    "dateparser": dateparser_string,
    "ours": ours_string,
    "htmldate": htmldate_string,
}
READERS_PAGES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "dateparser": dateparser_page,
    "ours": ours_page,
    "htmldate": htmldate_page,
}


def run(seconds: float) -> dict[str, Any]:
    # Warm-up: imports and dateparser's language data load once, outside the timed loops.
    for reader in READERS_STRINGS.values():
        reader("06/04/2022", None, "form")
    results: dict[str, Any] = {"strings": {}, "pages": {}}
    for name, reader in READERS_STRINGS.items():
        results["strings"][name] = evaluate(
            STRINGS, lambda s, r=reader: r(s[0], s[1], s[3]), lambda s: s[2], lambda s: s[0], seconds
        ).summary()
    for name, page_reader in READERS_PAGES.items():
        results["pages"][name] = evaluate(PAGES, page_reader, lambda p: p["expected"], lambda p: p["name"],
                                          seconds).summary()
    for table in results.values():
        base = table["dateparser"]["per_second"] or 1.0
        for figures in table.values():
            figures["speed_vs_dateparser"] = round(figures["per_second"] / base, 2)
    return results


def _print(results: dict[str, Any]) -> None:
    for table, readers in results.items():
        n = next(iter(readers.values()))["total"]
        print(f"\n{table} ({n} labelled inputs)")
        print(f"{'reader':<12}{'exact':>7}{'day':>6}{'missed':>8}{'wrong':>7}{'acc.exact':>11}{'acc.day':>9}"
              f"{'inputs/s':>11}{'x dateparser':>14}")
        for name, f in readers.items():
            print(f"{name:<12}{f['exact']:>7}{f['day']:>6}{f['missed']:>8}{f['wrong']:>7}{f['accuracy_exact']:>11.3f}"
                  f"{f['accuracy_day']:>9.3f}{f['per_second']:>11.0f}{f['speed_vs_dateparser']:>14.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="timing budget per reader and table")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dates.json")
    args = parser.parse_args(argv)
    import dateparser
    import htmldate

    results = run(args.seconds)
    _print(results)
    results["meta"] = {
        "python": platform.python_version(),
        "dateparser": dateparser.__version__,
        "htmldate": htmldate.__version__,
        "now": NOW.isoformat(),
        "seconds_per_reader": args.seconds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
