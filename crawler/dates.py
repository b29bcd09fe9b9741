"""Publication dates of Vietnamese government, Party and Fatherland Front news pages.

Every story gets one publication date, in ISO 8601 for Asia/Ho_Chi_Minh (``2021-04-04T08:47:00+07:00`` when the
time is known, ``2022-04-06`` when only the day is), with the raw string and where it was found. A wrong year is
worse than none, so every doubtful reading returns ``None``.

Parsing (``parse_date``)
------------------------
One short date expression at a time (a date line, a meta value, the start of a first sentence); never a free-text
search over a page.

1. ISO 8601 and the PHP ``date('Y-m-dTH:i:s')`` quirk of NukeViet and VHV (``2024-01-15+0709:30:00``,
   ``2026-09-30+0716:14:33``, ``…ICT09:30:00``) are read by two anchored regexes.
2. A Vietnamese pre-pass (vocabulary in ``VOCAB``, ``MONTH_NAMES``, ``DAY_PARTS``) removes the "(GMT+7)" zone,
   view-count tails ("| Lượt xem: 123"), weekdays, labels ("Đăng ngày", "Cập nhật:", "lúc"), and rewrites
   "14 giờ 05 phút", "14h05", "15 tháng 10 năm 2024" and "Tháng Mười 15, 2024" as numbers. Day-parts ("Sáng",
   "Chiều", "Tối"...) and SA/CH, AM/PM are kept as markers. Lunar dates ("tháng Giêng", "âm lịch") are refused.
3. Fast path: what is left is tokenised (day-first date, time, marker, trailing count, separators). It must be
   exactly one date, at most one time, and counts only after both; anything else numeric is refused (phone
   numbers, document numbers, ranges). Only when a month name remains (English months, mostly) does dateparser
   (``languages=['vi', 'en']``, ``DATE_ORDER='DMY'``, absolute dates only, day, month and year required) get the
   cleaned expression; its answer must account for every number in the text and for a four-digit year.
4. A date without a year ("Sáng 3-4", "Ngày 5-4") takes the year that puts it closest to ``reference`` (so
   "Sáng 30-12" with reference 2025-01-02 is 2024-12-30); without a reference it is ``None``, never this year.
   A two-digit year is read only in ``dd/mm/yy`` and only as the one century inside 1990..now.
5. Years before 1990 and days after ``now`` (in Vietnam) are refused; a later time on the same day is allowed
   because sites stamp scheduled posts and their clocks drift.

Candidate order (``choose_published``)
--------------------------------------
Candidates are dicts ``{"raw": str, "source": ...}``; an optional ``"field"`` (e.g. ``"article:modified_time"``)
naming a modification or update time removes the candidate. Within one source the first in the list wins.

1. ``visible``: the printed date line, what the reader sees and what the CMS prints from its publication field.
   It beats the meta tags because NukeViet's microdata ``datePublished`` holds the edit time and VHV's meta time
   differs from the printed time by minutes (the printed day and time are kept, the meta is only noted).
2. ``meta``: ``article:published_time``, ``DC.Date``...: machine-readable with an exact time, but sometimes the
   modification time, hence second.
3. ``jsonld``: ``datePublished`` (WordPress + Yoast); same value as the meta where both exist.
4. ``url``: ``/2024/10/15/`` (WordPress) or ``/Pages/2024-10-15/`` (Tân Dân): written by the CMS from the
   publication day, part of the page itself; day only.
5. ``listing``: the date printed next to the link on the listing; the site's own date, but the spider pairs it
   with the link from outside the page, so it ranks after everything on the page.
6. ``first_sentence``: "Sáng 3-4, ..." is the day of the event, often the day before publication, and rarely
   has a year: last resort. Only a date at the very start of the sentence counts (``parse_first_sentence``).

Refinements: a date without a year takes its year from the best candidate that has one (else ``reference``).
When the winner has only a day and a lower-ranked visible/meta/jsonld/listing candidate has a time on the
same day, that time is used (the day still comes from the winner; the reason names the donor), since it is
the same publication stamp at a finer grain; a donor on another day is never mixed in.

Public API: ``parse_date``, ``parse_first_sentence`` (with ``first_sentence_expression``), ``parse_url_date``,
``choose_published``; results are ``ParsedDate`` and ``DateChoice``. None of them raises on any input.

CLI: ``python -m crawler.dates [--reference YYYY-MM-DD]`` reads one expression a line on standard input and
prints one ISO value a line (an empty line where there is no date).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import logging
import re
import string
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------
# Vocabulary: the one place for the Vietnamese (and rare English) words around dates. Written with diacritics;
# matched after folding (lower case, no diacritics, đ -> d), so "Đăng ngày", "ĐĂNG NGÀY" and "Dang ngay" agree.
# --------------------------------------------------------------------------------------------------------------
VOCAB: dict[str, tuple[str, ...]] = {
    # Words before (or between) the parts of a date that carry no date information.
    "labels": (
        "ngày đăng", "đăng ngày", "đăng lúc", "đăng", "ngày cập nhật", "cập nhật lúc", "cập nhật ngày",
        "cập nhật", "ngày xuất bản", "xuất bản lúc", "xuất bản", "thời gian đăng", "thời gian", "ngày",
        "vào lúc", "lúc", "vào", "hôm", "năm nay", "nay", "qua", "buổi", "rạng", "bài đăng", "được đăng",
        "gửi vào", "gửi lúc", "gửi ngày", "gửi", "posted on", "published on",
        "published", "date",
    ),
    # Weekdays as NukeViet ("Thứ hai", "Chủ nhật") and VHV ("Thứ 4") print them, plus short and English forms.
    "weekdays": (
        "chủ nhật", "thứ hai", "thứ ba", "thứ tư", "thứ năm", "thứ sáu", "thứ bảy", "thứ bẩy", "thứ 2",
        "thứ 3", "thứ 4", "thứ 5", "thứ 6", "thứ 7", "t2", "t3", "t4", "t5", "t6", "t7", "cn", "monday",
        "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    ),
    # Markers of a 12-hour clock ("02:30 CH" is 14:30; SA = sáng, CH = chiều on Vietnamese Windows servers).
    "am": ("sa", "am", "a.m."),
    "pm": ("ch", "pm", "p.m."),
    # Labels of what may follow a date line ("12-09-2023 | Lượt xem: 255", "| Tác giả: ..."): the tail from
    # the label on is dropped, with a count just before it ("255 lượt xem").
    "tails": (
        "lượt xem", "lượt đọc", "lượt truy cập", "số lượt xem", "đã xem", "views", "view", "bình luận",
        "phản hồi", "tác giả", "nguồn", "chia sẻ", "in bài", "bản in", "cỡ chữ",
    ),
    # Words that name a month: only text with one of them goes to dateparser ("tháng Mười", "October").
    "months": (
        "tháng", "january", "february", "march", "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec",
    ),
    # Lunar calendar: "tháng Giêng", "tháng Chạp", "(âm lịch)" are not Gregorian dates; refused.
    "lunar": ("giêng", "chạp", "âm lịch"),
    # Names of the Vietnamese zone printed in place of an offset.
    "zones": ("ict", "giờ việt nam", "giờ hà nội"),
}

# Months spelled out ("Tháng Mười 15, 2024" on WordPress in Vietnamese; dateparser misses "Tháng Năm").
MONTH_NAMES: dict[str, int] = {
    "một": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5, "sáu": 6, "bảy": 7, "bẩy": 7,
    "tám": 8, "chín": 9, "mười": 10, "mười một": 11, "mười hai": 12,
}  # fmt: skip

# Day-parts: the word and the 12-hour-clock hours it moves to the afternoon ("2 giờ chiều" is 14:00,
# "8 giờ tối" 20:00, "11 giờ đêm" 23:00 but "2 giờ đêm" stays 02:00). Hours already past 12 are left alone.
DAY_PARTS: dict[str, tuple[int, int] | None] = {
    "sáng": None,
    "trưa": (1, 2),
    "chiều": (1, 11),
    "tối": (5, 11),
    "đêm": (7, 11),
    "khuya": (9, 11),
}

MIN_YEAR = 1990  # no Vietnamese provincial portal published news before the 1990s
MAX_OFFSET = timedelta(hours=14)  # the widest UTC offset in use
MAX_EXPRESSION = 200  # a date expression is short; longer input is the caller's mistake, not a date line
SOURCES: tuple[str, ...] = ("visible", "meta", "jsonld", "url", "listing", "first_sentence")
TIME_DONORS: tuple[str, ...] = ("visible", "meta", "jsonld", "listing")
_MODIFIED_FIELD = re.compile(r"modif|updat|edit|chinh sua|cap nhat", re.IGNORECASE)

# Set by the tests: internal errors are re-raised there instead of being logged and turned into None.
RAISE_INTERNAL_ERRORS = False


def _vn_zone() -> tzinfo:
    try:
        return ZoneInfo("Asia/Ho_Chi_Minh")
    except ZoneInfoNotFoundError:  # no tzdata: Vietnam has kept UTC+7 without summer time since 1975
        return timezone(timedelta(hours=7), "ICT")


VN_TZ = _vn_zone()


# --------------------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedDate:
    """A date read from one expression: an aware datetime (Asia/Ho_Chi_Minh) or a date when no time is known."""

    value: datetime | date
    iso: str
    has_time: bool

    @property
    def day(self) -> date:
        return self.value.date() if isinstance(self.value, datetime) else self.value


@dataclass(frozen=True)
class DateChoice:
    """The chosen publication date: ISO value, the raw string it came from, its source and why it won."""

    iso: str
    raw: str
    source: str
    reason: str


def _from_day(day: date) -> ParsedDate:
    return ParsedDate(day, day.isoformat(), False)


def _from_datetime(moment: datetime) -> ParsedDate:
    local = moment.astimezone(VN_TZ)
    return ParsedDate(local, local.isoformat(timespec="seconds"), True)


F = TypeVar("F", bound=Callable[..., Any])


def _never_raise(func: F) -> F:
    """Public entry points return None on an internal error (logged) rather than stopping a crawl."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception:
            if RAISE_INTERNAL_ERRORS:
                raise
            log.exception("date parsing failed on %r", args[:1])
            return None

    return wrapper  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------------------------
# Text normalisation: the expression is kept in two aligned spellings, the original (for dateparser and for raw
# strings) and a folded one (for the regexes). Folding maps one character to one, so spans carry over.
# --------------------------------------------------------------------------------------------------------------
def _fold_table() -> dict[int, str]:
    table = {ord(c): c.lower() for c in string.ascii_uppercase}
    for cp in itertools.chain(range(0xC0, 0x250), range(0x1E00, 0x1F00)):
        base = unicodedata.normalize("NFD", chr(cp))[0].lower()
        if len(base) == 1 and base.isascii() and base.isalpha():
            table[cp] = base
    for d in "đĐÐð":  # Ð (U+00D0) is a common mistyping of Đ
        table[ord(d)] = "d"
    return table


_FOLD = _fold_table()
_PUNCT = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
                        "\uff0f": "/", "\u2215": "/", "\uff1a": ":", "\u200b": " ", "\ufeff": " "})
_SPACES = re.compile(r"\s+")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_PUNCT)
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lower case without diacritics, one character for one: "Chiều ngày" -> "chieu ngay"."""
    return text.translate(_FOLD)


def _words(phrases: Iterable[str]) -> str:
    """A regex alternation of folded phrases, longest first so "cập nhật lúc" wins over "cập nhật"."""
    folded = sorted({fold(p) for p in phrases}, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in folded)


Pair = tuple[str, str]  # (original, folded), same length


def _sub(pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], pair: Pair) -> Pair:
    """Substitute on the folded text and mirror it on the original; replacements are folded ASCII."""
    orig, folded = pair
    out_o: list[str] = []
    out_f: list[str] = []
    pos = 0
    for m in pattern.finditer(folded):
        new = repl(m)
        out_o += [orig[pos:m.start()], new]
        out_f += [folded[pos:m.start()], new]
        pos = m.end()
    if not pos:
        return pair
    out_o.append(orig[pos:])
    out_f.append(folded[pos:])
    return "".join(out_o), "".join(out_f)


# --------------------------------------------------------------------------------------------------------------
# Regexes (all on folded text)
# --------------------------------------------------------------------------------------------------------------
_ZONE = r"z|[+-]\d{2}(?::?\d{2})?"
_ISO = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:[t ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    rf"\s*(?P<zone>{_ZONE}|utc|gmt)?"
)
# PHP's date('Y-m-dTH:i:s'): T prints the zone abbreviation ("+07", "ICT") between the day and the time.
_PHP_T = re.compile(r"(\d{4})-(\d{2})-(\d{2})\s*(?P<zone>[+-]\d{2}(?::?\d{2})?|[a-z]{2,5})\s*(\d{2}):(\d{2}):(\d{2})")

_NOT_AFTER_LETTER = r"(?<![a-z])"  # word edges on folded text; digits may touch a word ("2024Thứ 4")
_NOT_BEFORE_LETTER = r"(?![a-z])"
_GMT = re.compile(r"\(?\s*(?<![a-z])(?:gmt|utc)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d))?\s*\)?")
_ZONE_WORDS = re.compile(rf"\(?\s*{_NOT_AFTER_LETTER}(?:{_words(VOCAB['zones'])}){_NOT_BEFORE_LETTER}\s*\)?")
_TAIL = re.compile(
    rf"(?:(?<![\d.,])\d[\d.,]*\s*)?{_NOT_AFTER_LETTER}(?:{_words(VOCAB['tails'])}){_NOT_BEFORE_LETTER}.*$"
)
# Labels no vocabulary can list ("Ngày đăng bài:", "Cập nhật lần cuối:", "Đăng bởi: Admin -") before the date,
# and "| Người đăng: Admin" after it: a few words and a colon, with a value of words only (never digits).
_LABELLED_PREFIX = re.compile(r"^\s*[a-z][a-z ]{0,39}:\s*(?:[a-z][a-z .]{0,39}?\s*[|;,-]\s*)?(?=.*\d)")
_LABELLED_SUFFIX = re.compile(r"\s*[|;,-]\s*[a-z][a-z ]{0,39}:\s*[a-z][a-z .]{0,59}$")
# A counter printed before the date ("Lượt xem: 1.234 | 07/03/2024"): the label and its count only.
_LEADING_TAIL = re.compile(
    rf"^\s*{_NOT_AFTER_LETTER}(?:{_words(VOCAB['tails'])}){_NOT_BEFORE_LETTER}\s*:?\s*\d[\d.,]*\s*[|\-;,/]+"
)
_GIO = re.compile(r"(?<![\d:])(\d{1,2})\s*gio\b(?:\s*(\d{1,2})\s*(?:phut\b)?)?(?:\s*(\d{1,2})\s*giay\b)?")
# "14h05", and "14g05" ("g" for "giờ", common in press dates)
_H = re.compile(r"(?<![\w:])(\d{1,2})[hg](\d{2})?(?!\w)")
_THANG = re.compile(r"(?<!\d)(\d{1,2})\s*thang\s*(\d{1,2})(?!\d)(?:\s*,?\s*(?:nam\s*)?(\d{4})(?!\d))?")
_MONTH_NUMBER = {fold(k): v for k, v in MONTH_NAMES.items()}
_MONTH_NAME = rf"(?P<mname>{_words(MONTH_NAMES)}){_NOT_BEFORE_LETTER}"
# Spelled months only with a year: "tháng sau" also means "next month".
_THANG_NAME_FIRST = re.compile(
    rf"{_NOT_AFTER_LETTER}thang\s+{_MONTH_NAME}\s*(?P<d>\d{{1,2}})\s*,?\s*(?P<y>\d{{4}})(?!\d)"
)
_THANG_NAME_LAST = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})\s*thang\s+{_MONTH_NAME}\s*,?\s*(?:nam\s+)?(?P<y>\d{{4}})(?!\d)"
)
_LUNAR = re.compile(rf"{_NOT_AFTER_LETTER}(?:{_words(VOCAB['lunar'])}){_NOT_BEFORE_LETTER}")
_WEEKDAY = re.compile(rf"{_NOT_AFTER_LETTER}(?:{_words(VOCAB['weekdays'])})(?![a-z0-9])")
_LABEL = re.compile(rf"{_NOT_AFTER_LETTER}(?:{_words(VOCAB['labels'])}){_NOT_BEFORE_LETTER}\s*:?")
_MONTH_WORD = re.compile(rf"{_NOT_AFTER_LETTER}(?:{_words(VOCAB['months'])})")

_TOKEN = re.compile(
    r"(?P<ymd>(?<!\d)\d{4}(?P<ysep>[-/.])\d{1,2}(?P=ysep)\d{1,2}(?!\d))"
    r"|(?P<dmy>(?<!\d)\d{1,2}(?P<dsep>[-/.])\d{1,2}(?:(?P=dsep)(?:\d{4}|\d{2}))?(?![\d]))"
    r"|(?P<time>(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d))"
    r"|(?P<offset>(?<!\d)\+\d{2}(?::?\d{2})?(?!\d))"  # "+07:00" after a time; a "-" would be a separator
    rf"|(?P<am>(?<!\w)(?:{_words(VOCAB['am'])})(?!\w))"
    rf"|(?P<pm>(?<!\w)(?:{_words(VOCAB['pm'])})(?!\w))"
    rf"|(?P<part>\b(?:{_words(DAY_PARTS)})\b)"
    r"|(?P<count>(?<![\d.,])(?:\d{1,3}(?:[.,]\d{3})+|\d+)(?![\d]))"
    r"|(?P<sep>[\s,;|()\[\]\-:/.'\"’]+)"
)
_LETTER = re.compile(r"[^\W\d_]")
_TIME_HINT = re.compile(r"\d{1,2}:\d{2}|\d\s*(?:am|pm|a\.m\.|p\.m\.)(?!\w)")
_DIGITS = re.compile(r"\d+")


@dataclass
class _Parts:
    """The pieces of one expression before validation."""

    day: int
    month: int
    year: int | None = None
    two_digit_year: bool = False
    hour: int | None = None
    minute: int = 0
    second: int = 0
    meridiem: str | None = None  # "am" / "pm"
    day_part: str | None = None  # folded DAY_PARTS key
    offset: timedelta | None = None  # explicit offset; None means Asia/Ho_Chi_Minh


_DAY_PART_SHIFT = {fold(k): v for k, v in DAY_PARTS.items()}


# --------------------------------------------------------------------------------------------------------------
# Time helpers
# --------------------------------------------------------------------------------------------------------------
def _now_vn(now: datetime | None) -> datetime:
    """The crawl time in Vietnam; a naive `now` is taken as Vietnamese local time."""
    if now is None:
        return datetime.now(VN_TZ)
    if now.tzinfo is None:
        return now.replace(tzinfo=VN_TZ)
    return now.astimezone(VN_TZ)


def _reference_day(reference: date | datetime | None) -> date | None:
    if isinstance(reference, datetime):
        return (reference.astimezone(VN_TZ) if reference.tzinfo else reference).date()
    if isinstance(reference, date):
        return reference
    return None


def _zone_offset(zone: str | None) -> timedelta | None:
    """"+0700", "+07:00", "+07", "z", "utc", "ict" -> offset; other abbreviations are the site's own zone."""
    if not zone:
        return None
    if zone in ("z", "utc", "gmt"):
        return timedelta(0)
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", zone)
    if not m:
        return None  # "ict" or another abbreviation printed by a Vietnamese server: local time
    sign = -1 if m.group(1) == "-" else 1
    return sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))


def _closest_year(day: int, month: int, reference: date) -> int | None:
    """The year that puts day/month closest to the reference (handles the turn of the year)."""
    best: tuple[int, int] | None = None
    for year in (reference.year - 1, reference.year, reference.year + 1):
        try:
            distance = abs((date(year, month, day) - reference).days)
        except ValueError:
            continue
        if best is None or distance < best[0]:
            best = (distance, year)
    return best[1] if best else None


def _hour_24(parts: _Parts) -> int | None:
    hour = parts.hour
    if hour is None:
        return None
    if parts.meridiem:
        if not 1 <= hour <= 12:
            return hour if parts.meridiem == "pm" and 13 <= hour <= 23 else None  # "14:30 PM": sloppy, clear
        if parts.meridiem == "am":
            return 0 if hour == 12 else hour
        return hour if hour == 12 else hour + 12
    shift = _DAY_PART_SHIFT.get(parts.day_part or "")
    if shift and shift[0] <= hour <= shift[1]:
        return hour + 12
    return hour


def _resolve_year(parts: _Parts, reference: date | None, today: date) -> int | None:
    if parts.year is None:
        return _closest_year(parts.day, parts.month, reference) if reference else None
    if parts.two_digit_year:
        # Day-first is certain on these sites; only the century is open, and 1990..today leaves one choice.
        for century in (2000, 1900):
            if MIN_YEAR <= century + parts.year <= today.year:
                return century + parts.year
        return None
    return parts.year


def _assemble(parts: _Parts, reference: date | None, now_vn: datetime) -> ParsedDate | None:
    """Validate the pieces and build the result; None for impossible, too old or future dates."""
    today = now_vn.date()
    year = _resolve_year(parts, reference, today)
    if year is None:
        return None
    try:
        day = date(year, parts.month, parts.day)
    except ValueError:
        return None
    hour = _hour_24(parts)
    if parts.hour is not None and (hour is None or hour > 23 or parts.minute > 59 or parts.second > 59):
        return None
    if parts.offset is not None and abs(parts.offset) > MAX_OFFSET:
        return None  # no such zone: the time cannot be placed
    if hour is None:
        result = _from_day(day)
    else:
        zone = timezone(parts.offset) if parts.offset is not None else VN_TZ
        result = _from_datetime(datetime(day.year, day.month, day.day, hour, parts.minute, parts.second,
                                         tzinfo=zone))
    return _plausible(result, today)


def _plausible(result: ParsedDate, today: date) -> ParsedDate | None:
    # Same day is allowed whatever the time: scheduled posts and drifting server clocks.
    if result.day.year < MIN_YEAR or result.day > today:
        return None
    return result


# --------------------------------------------------------------------------------------------------------------
# parse_date
# --------------------------------------------------------------------------------------------------------------
@_never_raise
def parse_date(
    text: str, reference: date | datetime | None = None, now: datetime | None = None
) -> ParsedDate | None:
    """Read one date expression ("Thứ hai - 15/01/2024 09:30", "Sáng 3-4", "2024-01-15+0709:30:00").

    `reference` supplies the year of forms without one; `now` (default: the current time) bounds the result.
    Returns None when there is no date, when the reading is doubtful, or when it lies after `now`'s day.
    """
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_EXPRESSION:
        return None
    now_vn = _now_vn(now)
    ref = _reference_day(reference)
    norm = _normalise(text)
    pair = (norm, fold(norm))
    if _LUNAR.search(pair[1]):
        return None  # a lunar date: converting it is not this module's job, and guessing would be wrong
    iso = _parse_iso(pair[1])
    if iso is not None:
        return _assemble(iso, ref, now_vn)
    pair, offset = _prepass(pair)
    parts = _tokenise(pair[1])
    if parts is not None:
        if offset is not None and parts.offset is None:
            parts.offset = offset
        return _assemble(parts, ref, now_vn)
    if _MONTH_WORD.search(pair[1]) is None:
        return None  # no month name: a phone or document number, a range, a lone time, stray words
    return _parse_with_dateparser(pair[0], offset, now_vn)


def _parse_iso(folded: str) -> _Parts | None:
    m = _ISO.fullmatch(folded)
    if m is not None:
        hour = int(m.group(4)) if m.group(4) else None
        return _Parts(day=int(m.group(3)), month=int(m.group(2)), year=int(m.group(1)), hour=hour,
                      minute=int(m.group(5) or 0), second=int(m.group(6) or 0),
                      offset=_zone_offset(m.group("zone")) if hour is not None else None)
    m = _PHP_T.fullmatch(folded)
    if m is not None:
        return _Parts(day=int(m.group(3)), month=int(m.group(2)), year=int(m.group(1)), hour=int(m.group(5)),
                      minute=int(m.group(6)), second=int(m.group(7)), offset=_zone_offset(m.group("zone")))
    return None


def _prepass(pair: Pair) -> tuple[Pair, timedelta | None]:
    """Strip what carries no date and rewrite the Vietnamese word forms as numbers."""
    offsets: list[timedelta] = []

    def gmt(m: re.Match[str]) -> str:
        if m.group(2):
            sign = -1 if m.group(1) == "-" else 1
            offsets.append(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0)))
        else:
            offsets.append(timedelta(0))
        return " "

    pair = _sub(_GMT, gmt, pair)
    pair = _sub(_ZONE_WORDS, lambda m: " ", pair)  # "ICT" is Vietnam's own zone: the default
    pair = _sub(_LEADING_TAIL, lambda m: " ", pair)
    pair = _sub(_LABELLED_PREFIX, lambda m: " ", pair)
    pair = _sub(_LABELLED_SUFFIX, lambda m: " ", pair)
    pair = _sub(_TAIL, lambda m: " ", pair)
    pair = _sub(_GIO, _gio_to_clock, pair)
    pair = _sub(_H, lambda m: f"{m.group(1)}:{m.group(2) or '00'}", pair)
    pair = _sub(_THANG, lambda m: "/".join(g for g in m.groups() if g), pair)
    for spelled in (_THANG_NAME_FIRST, _THANG_NAME_LAST):
        pair = _sub(spelled, lambda m: f"{m['d']}/{_MONTH_NUMBER[m['mname']]}/{m['y']}", pair)
    pair = _sub(_WEEKDAY, lambda m: " ", pair)
    pair = _sub(_LABEL, lambda m: " ", pair)
    if len(set(offsets)) > 1:
        offsets = [MAX_OFFSET * 2]  # two different zones named: no time can be trusted
    return pair, (offsets[0] if offsets else None)


def _gio_to_clock(m: re.Match[str]) -> str:
    """ "14 giờ 05 phút" -> "14:05" (a time of day, never "14 hours ago")."""
    clock = f"{m.group(1)}:{int(m.group(2) or 0):02d}"
    return f"{clock}:{int(m.group(3)):02d}" if m.group(3) else clock


def _tokenise(folded: str) -> _Parts | None:
    """The fast path: exactly one date, at most one time, markers, and counts only at the end."""
    date_token: re.Match[str] | None = None
    clock: str | None = None
    meridiem: str | None = None
    offset: str | None = None
    day_parts: set[str] = set()
    counted = False
    pos = 0
    for m in _TOKEN.finditer(folded):
        if m.start() != pos:
            return None  # an unknown word or symbol
        pos = m.end()
        kind = m.lastgroup
        if kind == "sep":
            continue
        if kind == "count":
            counted = True
            continue
        if counted:
            return None  # a date part after a number: the number was not a trailing counter
        if kind in ("ymd", "dmy"):
            if date_token is not None:
                return None  # two dates: a range, or a document's own date
            date_token = m
        elif kind == "time":
            if clock is not None:
                return None
            clock = m.group(kind)
        elif kind in ("am", "pm"):
            meridiem = kind
        elif kind == "offset":
            if clock is None:
                return None  # an offset belongs after a time
            offset = m.group(kind)
        elif kind == "part":
            day_parts.add(m.group(kind))
    if pos != len(folded) or date_token is None or (meridiem and clock is None) or len(day_parts) > 1:
        return None
    parts = _date_parts(date_token)
    if counted and (parts.year is None or parts.two_digit_year):
        return None  # "15/10 255" or "15/10/24 255": the number could be a year
    if clock is not None:
        hms = [int(x) for x in clock.split(":")]
        parts.hour, parts.minute = hms[0], hms[1]
        parts.second = hms[2] if len(hms) > 2 else 0
    parts.meridiem = meridiem
    parts.offset = _zone_offset(offset)
    parts.day_part = next(iter(day_parts), None)
    return parts


def _date_parts(m: re.Match[str]) -> _Parts:
    if m.lastgroup == "ymd":
        y, mo, d = (int(x) for x in re.split(r"[-/.]", m.group("ymd")))
        return _Parts(day=d, month=mo, year=y)
    fields = re.split(r"[-/.]", m.group("dmy"))
    parts = _Parts(day=int(fields[0]), month=int(fields[1]))  # day first: always, on Vietnamese sites
    if len(fields) == 3:
        parts.year = int(fields[2])
        parts.two_digit_year = len(fields[2]) == 2
    return parts


# --------------------------------------------------------------------------------------------------------------
# dateparser: only for what is left with words in it (English or spelled-out months)
# --------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _dateparser() -> Any:
    # Imported late: the fast path serves most pages and the import costs a third of a second.
    from dateparser.date import DateDataParser

    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "PARSERS": ["custom-formats", "absolute-time"],  # no relative times ("14 giờ" is not "14 hours ago")
        "REQUIRE_PARTS": ["day", "month", "year"],  # never fill a missing part from today
    }
    return DateDataParser(languages=["vi", "en"], settings=settings)


def _parse_with_dateparser(text: str, offset: timedelta | None, now_vn: datetime) -> ParsedDate | None:
    text = _SPACES.sub(" ", text).strip(" ,;|-:")
    if not text or len(text) > 80:
        return None
    try:
        found = _dateparser().get_date_data(text).date_obj
    except Exception:  # a third-party failure on odd input is "no date", not a crash
        log.debug("dateparser failed on %r", text, exc_info=True)
        return None
    if not isinstance(found, datetime) or not _accounts_for_numbers(text, found):
        return None
    has_time = _TIME_HINT.search(text.lower()) is not None
    if not has_time:
        return _plausible(_from_day(found.date()), now_vn.date())
    if found.tzinfo is None:
        if offset is not None and abs(offset) > MAX_OFFSET:
            return None
        found = found.replace(tzinfo=timezone(offset) if offset is not None else VN_TZ)
    return _plausible(_from_datetime(found), now_vn.date())


def _accounts_for_numbers(text: str, found: datetime) -> bool:
    """Refuse a reading that skipped a number of the text or took its year from anywhere but four digits."""
    numbers = [int(x) for x in _DIGITS.findall(text)]
    if found.year not in numbers or not any(len(x) == 4 for x in _DIGITS.findall(text)):
        return False
    known = {found.year, found.month, found.day, found.hour, found.hour % 12 or 12, found.minute, found.second}
    return all(n in known for n in numbers)


# --------------------------------------------------------------------------------------------------------------
# First sentence: only a date at its very start counts
# --------------------------------------------------------------------------------------------------------------
_PAREN_PREFIX = re.compile(r"^\s*(?:\([^()]{1,80}\)|\[[^\[\]]{1,80}\])\s*(?:[-:]\s*)?")
_DATELINE = re.compile(r"^\s*([^\d\s\-:][^\d\-:]{0,40}?)\s*[-:]\s+")
_LEAD_WORDS = _words(
    ("vào", "lúc", "rạng", "buổi", "hôm", "nay", "qua", "ngày") + tuple(DAY_PARTS) + VOCAB["weekdays"]
)
_FS_TIME = r"\d{1,2}\s*(?:gio|h|:)\s*(?:\d{1,2}\s*(?:phut\b)?)?"
_FS_DATE = (
    r"\d{1,2}(?:(?P<s>[-/.])\d{1,2}(?:(?P=s)(?:\d{4}|\d{2}))?"
    r"|\s*thang\s*\d{1,2}(?:\s*,?\s*(?:nam\s*)?\d{4})?)"
)
_FS_PART = _words(tuple(DAY_PARTS) + VOCAB["am"] + VOCAB["pm"])
_FIRST_SENTENCE = re.compile(
    rf"(?:(?:{_LEAD_WORDS})\b[\s,]*)*"
    rf"(?:{_FS_TIME}(?:\s+(?:{_FS_PART})\b)?[\s,]+(?:(?:{_LEAD_WORDS})\b[\s,]*)*)?"
    rf"\(?\s*{_FS_DATE}\s*\)?"
    rf"(?:[\s,]+(?:luc\s+)?{_FS_TIME}(?:\s+(?:{_FS_PART})\b)?)?"
    r"(?!\w)(?![/.-]\w)"  # "Ngày 14-15/10" is a range and "15/10/2024/QĐ" a number: not a date
)


def _strip_dateline(norm: str) -> str:
    """Drop "(Đài An Lão) ", "(Mặt trận) - ", "HƯNG YÊN - " or "Báo Hưng Yên - " before the sentence."""
    m = _PAREN_PREFIX.match(norm)
    if m:
        return norm[m.end():]
    # Any short head without digits before " - " or ": " ("HƯNG YÊN - ", "Báo Nam Định - "): the rest must
    # still open with a date, so dropping a head that was not a dateline costs nothing.
    m = _DATELINE.match(norm)
    return norm[m.end():] if m else norm


def first_sentence_expression(text: str) -> str | None:
    """The date expression at the start of a first sentence ("Sáng 3-4" of "Sáng 3-4, Ban Dân vận ..."), if any."""
    if not isinstance(text, str):
        return None
    sentence = _strip_dateline(_normalise(text[:1000]))
    m = _FIRST_SENTENCE.match(fold(sentence))
    if m is None or not any(c.isdigit() for c in m.group(0)):
        return None
    return sentence[: m.end()].strip(" ,") or None


@_never_raise
def parse_first_sentence(
    text: str, reference: date | datetime | None = None, now: datetime | None = None
) -> ParsedDate | None:
    """The date that opens a first sentence; dates later in the sentence (other documents') never count."""
    expression = first_sentence_expression(text)
    return parse_date(expression, reference, now) if expression else None


# --------------------------------------------------------------------------------------------------------------
# URL
# --------------------------------------------------------------------------------------------------------------
_URL_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})([/-])(\d{1,2})\2(\d{1,2})(?!\d)")


@_never_raise
def parse_url_date(url: str, now: datetime | None = None) -> ParsedDate | None:
    """A publication day in the URL path: /2024/10/15/ (WordPress), /Pages/2024-10-15/ (Tân Dân).

    Takes the whole URL or only its date part ("2024/10/15", as the extractor passes it).
    """
    if not isinstance(url, str):
        return None
    m = _URL_DAY.search(urlsplit(url.strip()).path)
    if m is None:
        return None
    parts = _Parts(day=int(m.group(4)), month=int(m.group(3)), year=int(m.group(1)))
    return _assemble(parts, None, _now_vn(now))


# --------------------------------------------------------------------------------------------------------------
# choose_published
# --------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Candidate:
    rank: tuple[int, int]  # (source order, position in the list)
    source: str
    raw: str


@dataclass(frozen=True)
class _Reading:
    candidate: _Candidate
    parsed: ParsedDate
    raw: str  # the date expression itself (for a first sentence: its opening words)
    year_from: str | None = None


_REASONS = {
    "visible": "visible date line",
    "meta": "meta: no readable visible date",
    "jsonld": "jsonld: no readable visible date or meta",
    "url": "url: no readable date in the page's text or metadata",
    "listing": "listing: no readable date on the page itself",
    "first_sentence": "first sentence: the only readable date (the event's day)",
}


def _candidates(candidates: Sequence[Any]) -> list[_Candidate]:
    found = []
    for i, c in enumerate(candidates if isinstance(candidates, Sequence) else ()):
        if not isinstance(c, dict) or c.get("source") not in SOURCES or not isinstance(c.get("raw"), str):
            continue
        field = c.get("field")
        if isinstance(field, str) and _MODIFIED_FIELD.search(field):
            continue  # a modification time is not a publication date
        if c["raw"].strip():
            found.append(_Candidate((SOURCES.index(c["source"]), i), c["source"], c["raw"]))
    return sorted(found, key=lambda c: c.rank)


def _read(c: _Candidate, reference: date | None, now_vn: datetime) -> tuple[ParsedDate | None, str]:
    if c.source == "url":
        return parse_url_date(c.raw, now_vn), c.raw
    if c.source == "first_sentence":
        expression = first_sentence_expression(c.raw)
        if expression is None:
            return None, c.raw
        return parse_date(expression, reference, now_vn), expression
    return parse_date(c.raw, reference, now_vn), _normalise(c.raw)


@_never_raise
def choose_published(
    candidates: list[dict[str, Any]], reference: date | None = None, now: datetime | None = None
) -> DateChoice | None:
    """Choose the publication date among the page's candidates (see the module docstring for the order)."""
    now_vn = _now_vn(now)
    pending = _candidates(candidates)
    readings: list[_Reading] = []
    # First the candidates that carry their own year; the best of them anchors the year-less ones.
    for c in list(pending):
        parsed, raw = _read(c, None, now_vn)
        if parsed is not None:
            readings.append(_Reading(c, parsed, raw))
            pending.remove(c)
    anchor = min(readings, key=lambda r: r.candidate.rank, default=None)
    ref_day = anchor.parsed.day if anchor else _reference_day(reference)
    ref_name = f"{anchor.candidate.source} {anchor.parsed.day}" if anchor else f"reference {ref_day}"
    if ref_day is not None:
        for c in list(pending):
            parsed, raw = _read(c, ref_day, now_vn)
            if parsed is not None:
                readings.append(_Reading(c, parsed, raw, year_from=ref_name))
                pending.remove(c)
    if not readings:
        return None
    readings.sort(key=lambda r: r.candidate.rank)
    return _decide(readings, pending)


def _decide(readings: list[_Reading], unread: list[_Candidate]) -> DateChoice:
    winner = readings[0]
    iso = winner.parsed.iso
    notes = [_REASONS[winner.candidate.source]]
    skipped = sorted({c.source for c in unread if c.rank < winner.candidate.rank}, key=SOURCES.index)
    if skipped:
        notes.append("unreadable: " + ", ".join(skipped))
    if winner.year_from:
        notes.append(f"year from {winner.year_from}")
    donor = _time_donor(winner, readings[1:])
    if donor is not None and isinstance(donor.parsed.value, datetime):
        iso = donor.parsed.value.isoformat(timespec="seconds")
        notes.append(f"time from {donor.candidate.source} {donor.raw!r} (same day)")
    else:
        differing = next((r for r in readings[1:] if r.candidate.source in ("meta", "jsonld")
                          and r.parsed.iso != winner.parsed.iso), None)
        if differing is not None:
            notes.append(f"{differing.candidate.source} says {differing.parsed.iso}")
    return DateChoice(iso=iso, raw=winner.raw, source=winner.candidate.source, reason="; ".join(notes))


def _time_donor(winner: _Reading, others: list[_Reading]) -> _Reading | None:
    """A lower-ranked candidate with a time on the winner's day, when the winner has only the day."""
    if winner.parsed.has_time:
        return None
    for r in others:
        if r.candidate.source in TIME_DONORS and r.parsed.has_time and r.parsed.day == winner.parsed.day:
            return r
    return None


# --------------------------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.dates",
        description="Read one date expression a line on stdin, print one ISO 8601 value a line (empty: no date).",
    )
    parser.add_argument("--reference", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the day that supplies the year of forms without one (e.g. the page's date)")
    args = parser.parse_args(argv)
    for stream in (sys.stdin, sys.stdout):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    for line in sys.stdin:
        parsed = parse_date(line.rstrip("\r\n"), reference=args.reference)
        sys.stdout.write((parsed.iso if parsed else "") + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
