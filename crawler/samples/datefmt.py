"""The date forms each family prints, shared by the templates and the expectations.

A `DateLine` carries the visible markup, its plain text and the ISO value an archive should store for it: with
a time (`YYYY-MM-DDTHH:MM:00+07:00`, the PRINTED time) when the line shows one, else the bare day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

from .site import VN_TZ, Article

WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
WEEKDAYS_NUM = ("Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật")
MONTHS_WP = (
    "Tháng Một", "Tháng Hai", "Tháng Ba", "Tháng Tư", "Tháng Năm", "Tháng Sáu",
    "Tháng Bảy", "Tháng Tám", "Tháng Chín", "Tháng Mười", "Tháng Mười Một", "Tháng Mười Hai",
)  # fmt: skip

# Styles per family; the first entries print a time (when the content has one). `none` prints no date line at
# all: the listing's date is then the only one, which is what some real pages leave a crawler with.
STYLES: dict[str, tuple[str, ...]] = {
    "nukeviet": ("weekday", "egov", "none"),
    "vhv": ("moit", "weekday-word", "clone", "hungyen", "none"),
    "tandan": ("dang-ngay", "date-view", "none"),
    "liferay": ("cap-nhat", "bacgiang", "views", "none"),
    "wordpress": ("entry-date", "month-name", "none"),
    "aspnet-ui": ("h", "ch", "gio-phut", "views", "none"),
}
# Styles that can never show a time (a bare view count sits where the time would be).
DATE_ONLY_STYLES = {("liferay", "views"), ("aspnet-ui", "views")}


@dataclass(frozen=True)
class DateLine:
    style: str
    html: Markup  # what the template prints (may contain spans)
    text: str  # the same as plain text
    iso: str  # what an archive should store
    has_time: bool


def choose_style(family: str, article: Article) -> str:
    """The content's `date_style`, else a stable pick by id among the family's printed forms.

    A timed article gets a form that shows its time (the content says the page shows one); a date-only article
    may get any form, including the date + bare view count ones.
    """
    styles = STYLES[family]
    if article.date_style:
        if article.date_style not in styles:
            raise ValueError(f"article {article.id}: date_style {article.date_style!r} not in {styles}")
        return article.date_style
    usable = [s for s in styles if s != "none"]
    if article.has_time:
        usable = [s for s in usable if (family, s) not in DATE_ONLY_STYLES]
    spread = int(hashlib.sha1(f"{family}:{article.id}".encode()).hexdigest()[:6], 16)
    return usable[spread % len(usable)]


def date_line(family: str, article: Article) -> DateLine:
    style = choose_style(family, article)
    timed = article.has_time and (family, style) not in DATE_ONLY_STYLES and style != "none"
    dt = article.published if isinstance(article.published, datetime) else None
    d = article.day
    html = _FORMATTERS[family](style, d, dt if timed else None, article.view_count)
    iso = f"{dt:%Y-%m-%dT%H:%M}:00+07:00" if timed and dt else d.isoformat()
    return DateLine(style=style, html=html, text=_plain(html), iso=iso, has_time=timed)


def _plain(html: Markup) -> str:
    return Markup(html).striptags()


def dmy(d: date, sep: str = "/") -> str:
    return f"{d.day:02d}{sep}{d.month:02d}{sep}{d.year}"


def hm(dt: datetime) -> str:
    return f"{dt:%H:%M}"


def ampm(dt: datetime, am: str = "AM", pm: str = "PM", seconds: bool = False) -> str:
    hour = dt.hour % 12 or 12
    sec = f":{dt.second:02d}" if seconds else ""
    return f"{hour:02d}:{dt.minute:02d}{sec} {am if dt.hour < 12 else pm}"


def _nukeviet(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    if style == "none":
        return Markup("")
    if style == "egov":
        return escape(dmy(d) + (" " + ampm(dt, seconds=True) if dt else ""))
    return escape(f"{WEEKDAYS[d.weekday()]} - {dmy(d)}" + (f" {hm(dt)}" if dt else ""))


def _vhv(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    bar = Markup('<span class="drash"> | </span>')
    if style == "none":
        return Markup("")
    if style == "clone":
        return escape(f"{dt:%H:%M:%S} | {dmy(d)}") if dt else escape(dmy(d))
    if style == "hungyen":
        return escape(dmy(d) + (f" {hm(dt)}" if dt else "") + f" | Lượt xem: {views}")
    names = WEEKDAYS_NUM if style == "moit" else WEEKDAYS
    day = escape(f"{names[d.weekday()]}, {dmy(d)}")
    return day + bar + escape(hm(dt)) if dt else day


def _tandan(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    if style == "none":
        return Markup("")
    if style == "date-view":
        return escape("Ngày đăng: " + dmy(d) + (f" {hm(dt)}" if dt else ""))
    return escape("Đăng ngày " + dmy(d, "-") + (f" {hm(dt)}" if dt else ""))


def _liferay(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    if style == "none":
        return Markup("")
    if style == "views":
        return (
            escape(dmy(d, "-"))
            + Markup(' <span class="view-count"><i class="fa fa-eye"></i>')
            + str(views)
            + Markup("</span>")
        )
    if style == "bacgiang":
        return escape(f"Ngày {dmy(d)}" + (f" {hm(dt)}" if dt else "") + f" | Lượt xem: {views}")
    return escape("Cập nhật: " + (f"{hm(dt)} | " if dt else "") + dmy(d))


def _wordpress(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    # The machine-readable datetime attribute is added by the template (see wp_datetime).
    if style == "none":
        return Markup("")
    if style == "month-name":
        return escape(f"{MONTHS_WP[d.month - 1]} {d.day}, {d.year}")
    return escape(dmy(d))


def _aspnet(style: str, d: date, dt: datetime | None, views: int) -> Markup:
    if style == "none":
        return Markup("")
    if style == "views":
        return escape(dmy(d, "-")) + Markup(' <span class="ViewCount">') + str(views) + Markup("</span>")
    if style == "ch":
        return escape((ampm(dt, "SA", "CH") + " " if dt else "") + dmy(d))
    if style == "gio-phut":
        short = f"{d.day}/{d.month}/{d.year}"
        if dt:
            return escape(f"{dt.hour} giờ {dt.minute:02d} phút, ngày {short}")
        return escape(f"Ngày {short}")
    return escape(dmy(d) + (f" {dt.hour:02d}h{dt.minute:02d}" if dt else ""))


_FORMATTERS = {
    "nukeviet": _nukeviet,
    "vhv": _vhv,
    "tandan": _tandan,
    "liferay": _liferay,
    "wordpress": _wordpress,
    "aspnet-ui": _aspnet,
}


# --------------------------------------------------------------------------- machine-readable dates


def modified_time(article: Article) -> datetime | None:
    """A stable edit time a little after publication (NukeViet leaks it as datePublished)."""
    if not isinstance(article.published, datetime):
        return None
    return article.published + timedelta(hours=2 + article.id % 5, minutes=17 * (article.id % 3))


def vhv_meta_time(article: Article) -> datetime | None:
    """VHV's meta time differs from the printed one by some minutes (seen on a real page)."""
    if not isinstance(article.published, datetime):
        return None
    return article.published + timedelta(minutes=3 + article.id % 9, seconds=27 + article.id % 30)


def iso_full(dt: datetime) -> str:
    return dt.astimezone(VN_TZ).isoformat(timespec="seconds")


def nukeviet_malformed(dt: datetime) -> str:
    """PHP date('Y-m-dTH:i:s'): `T` prints the zone abbreviation, giving `2024-01-15+0709:30:00`."""
    return f"{dt:%Y-%m-%d}+07{dt:%H:%M:%S}"


def vhv_colonless(dt: datetime) -> str:
    return f"{dt:%Y-%m-%dT%H:%M:%S}+0700"


def vhv_dc_date(dt: datetime) -> str:
    return f"{dt:%Y-%m-%d}+07{dt:%H:%M:%S}"


def listing_date(family: str, article: Article, line: DateLine) -> str:
    """The date a listing prints next to the item: never more precise than the article page."""
    d = article.day
    dt = article.published if line.has_time and isinstance(article.published, datetime) else None
    if family == "nukeviet":
        return dmy(d) + (f" {dt:%H:%M:%S}" if dt else "")
    if family == "tandan":
        return dmy(d) + (f" {hm(dt)}" if dt else "")
    if family == "aspnet-ui":
        return dmy(d) + (f" {dt.hour:02d}h{dt.minute:02d}" if dt else "")
    return dmy(d)  # vhv, liferay, wordpress print the day only


def machine_date(article: Article, line: DateLine) -> str | None:
    """ISO value for datetime attributes and JSON-LD: only as precise as the expectation."""
    if line.style == "none":
        return None
    if line.has_time and isinstance(article.published, datetime):
        return iso_full(article.published.replace(second=0))
    return article.day.isoformat()
