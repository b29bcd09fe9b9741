"""Datasette plugin (loaded with --plugins-dir by archive/serve.py): links to the stories-per-month chart.

The chart itself is a datasette-dashboards dashboard configured by ``archive/charts.py``. Here a site's name,
in the sites table and on a site's row page, gets a link to the chart filtered to that site. The name
column carries it because Datasette renders the primary key itself and gives plugins no say over it.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from archive.charts import chart_path


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, datasette: Any) -> Markup | None:
    if table != "sites" or column != "name":
        return None
    try:
        site_id = row["id"]
    except (IndexError, KeyError):  # the id column was left out of the page (?_col=...)
        return None
    href = datasette.urls.path(chart_path(site=str(site_id)))
    name = escape(value) if value is not None else ""
    return Markup(
        f'{name} <a class="chart-link" href="{escape(href)}" title="Số tin bài theo tháng của trang này">'
        "[biểu đồ]</a>"
    )
