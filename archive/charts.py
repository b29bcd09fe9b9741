"""The archivists' chart: stories per month, as a datasette-dashboards dashboard.

datasette-dashboards (a maintained plugin) draws Vega-Lite charts from SQL and ships vega, vega-lite and
vega-embed inside its wheel, so the page loads nothing from the internet. Its configuration is built here
rather than written in metadata.yml because the SQL and the links need the database's name, which
``archive/serve.py`` only knows once it is given the file.

The dashboard lives at ``/-/dashboards/tin-bai`` and takes ``site``, ``province`` and ``kind`` in its query
string (``/-/dashboards/tin-bai?site=danang``). Each month's bar links to that month's stories in the
articles table, with the same filters; each site's bar links to the dashboard filtered to that site.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

SLUG = "tin-bai"
PATH = f"/-/dashboards/{SLUG}"

# Filters the dashboard understands: query-string key -> articles column.
FILTERS = {"site": "site_id", "province": "province", "kind": "kind"}


def chart_path(**filters: str | None) -> str:
    """The dashboard's path with the given filters (``site``, ``province``, ``kind``); empty ones are left out."""
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown chart filters: {', '.join(sorted(unknown))}")
    query = urlencode({key: value for key, value in filters.items() if value})
    return f"{PATH}?{query}" if query else PATH


def _where(alias: str = "") -> str:
    """Optional filter clauses in datasette-dashboards' ``[[ ... ]]`` syntax: a clause is kept only when its
    parameter is given, so one query serves the whole archive and every filter. Each must stay on one line
    (the plugin's pattern does not cross lines)."""
    return " ".join(f"[[ and {alias}{column} = :{key} ]]" for key, column in FILTERS.items())


def _link_filters() -> str:
    """The same filters appended to a link to the articles table (Datasette's ``column=value`` filters)."""
    return " ".join(f"[[ || '&{column}=' || :{key} ]]" for key, column in FILTERS.items())


def _months_query(db_path: str) -> str:
    # published is ISO 8601 ('2024-10-15' or '2024-10-15T14:30:00+07:00'): its first 7 characters are the
    # month. Stories without a date are counted apart (the "no date" figure) rather than dropped silently.
    return f"""
select month,
  month || '-01' as month_start,
  'tháng ' || cast(substr(month, 6, 2) as integer) || '/' || substr(month, 1, 4) as label,
  count(*) as stories,
  'tháng ' || cast(substr(month, 6, 2) as integer) || '/' || substr(month, 1, 4) || ': ' || count(*) || ' tin bài'
    as description,
  '{db_path}/articles?published__startswith=' || month {_link_filters()} as link
from (
  select substr(published, 1, 7) as month from articles
  where published is not null and length(published) >= 7 {_where()}
)
group by month
order by month
""".strip()


def _sites_query() -> str:
    return f"""
select a.site_id, coalesce(s.name, a.site_id) as site, count(*) as stories,
  coalesce(s.name, a.site_id) || ': ' || count(*) || ' tin bài' as description,
  '{PATH}?site=' || a.site_id as link
from articles a
left join sites s on s.id = a.site_id
where 1 = 1 {_where("a.")}
group by a.site_id
order by stories desc, a.site_id
""".strip()


def _count_query(condition: str) -> str:
    return f"select count(*) as stories from articles where {condition} {_where()}"


# Vega-Lite specs. SVG rather than the default canvas: marks stay inspectable (and testable), each bar
# carries an aria-label made from ``description``. The "open in Vega editor" action would go online, so
# only the local export actions are offered.
EMBED = {"renderer": "svg", "actions": {"export": True, "source": False, "compiled": False, "editor": False}}

# Story counts are whole numbers; tickMinStep alone still left 0.5 ticks on small counts (vega 6.2), so
# fractional labels are blanked and the rest printed without separators (Vietnamese would use dots).
WHOLE_NUMBERS = {"tickMinStep": 1, "labelExpr": "datum.value % 1 ? '' : format(datum.value, 'd')"}

MONTHS_SPEC: dict[str, Any] = {
    "usermeta": {"embedOptions": EMBED},
    "mark": {"type": "bar", "color": "#2f6f9f", "cursor": "pointer"},
    "encoding": {
        "x": {
            "field": "month_start",
            "type": "temporal",
            # UTC: '2024-10-01' parses as UTC midnight; a local time unit would put it in September west of GMT
            "timeUnit": "utcyearmonth",
            "title": "Tháng",
            "axis": {"format": "%m/%Y", "labelAngle": -40, "labelOverlap": True},
        },
        "y": {"field": "stories", "type": "quantitative", "title": "Số tin bài", "axis": WHOLE_NUMBERS},
        "href": {"field": "link"},
        "description": {"field": "description"},
        "tooltip": [{"field": "label", "title": "Tháng"}, {"field": "stories", "title": "Số tin bài"}],
    },
}

SITES_SPEC: dict[str, Any] = {
    "usermeta": {"embedOptions": EMBED},
    "mark": {"type": "bar", "color": "#8a5a2b", "cursor": "pointer"},
    "encoding": {
        "y": {"field": "site", "type": "nominal", "title": None, "sort": "-x", "axis": {"labelLimit": 360}},
        "x": {"field": "stories", "type": "quantitative", "title": "Số tin bài", "axis": WHOLE_NUMBERS},
        "href": {"field": "link"},
        "description": {"field": "description"},
        "tooltip": [
            {"field": "site", "title": "Trang"},
            {"field": "site_id", "title": "Mã"},
            {"field": "stories", "title": "Số tin bài"},
        ],
    },
}


def dashboards(db_name: str) -> dict[str, Any]:
    """The ``datasette-dashboards`` plugin configuration for the archive served as database ``db_name``."""
    from datasette.utils import tilde_encode  # here: serve.py imports this module before Datasette is needed

    db_path = "/" + tilde_encode(db_name)  # Datasette's URL form of a database name
    charts = {
        "tong-so": {
            "title": "Tổng số tin bài",
            "db": db_name,
            "query": _count_query("1 = 1"),
            "library": "metric",
            "display": {"field": "stories", "suffix": " tin bài"},
        },
        "khong-ngay": {
            "title": "Tin bài chưa rõ ngày đăng (không có trong biểu đồ theo tháng)",
            "db": db_name,
            "query": _count_query("(published is null or length(published) < 7)"),
            "library": "metric",
            "display": {"field": "stories", "suffix": " tin bài"},
        },
        "theo-thang": {
            "title": "Số tin bài theo tháng (bấm vào một cột để xem tin bài của tháng đó)",
            "db": db_name,
            "query": _months_query(db_path),
            "library": "vega-lite",
            "display": MONTHS_SPEC,
        },
        "theo-trang": {
            "title": "Số tin bài theo trang (bấm vào một trang để xem biểu đồ của trang đó)",
            "db": db_name,
            "query": _sites_query(),
            "library": "vega-lite",
            "display": SITES_SPEC,
        },
    }
    filters = {
        "site": {
            "name": "Trang (mã)",
            "type": "select",
            "db": db_name,
            "query": "select id from sites order by id",
        },
        "province": {
            "name": "Tỉnh, thành phố",
            "type": "select",
            "db": db_name,
            "query": "select distinct province from sites where province is not null order by province",
        },
        "kind": {"name": "Loại cơ quan", "type": "select", "options": ["government", "party", "front"]},
    }
    dashboard = {
        "title": "Số tin bài theo tháng",
        "description": "Tin bài trong kho lưu trữ theo tháng đăng và theo trang; lọc theo trang, tỉnh hoặc loại.",
        "layout": [["tong-so", "khong-ngay"], ["theo-thang", "theo-thang"], ["theo-trang", "theo-trang"]],
        "filters": filters,
        "charts": charts,
    }
    return {"datasette-dashboards": {SLUG: dashboard}}
