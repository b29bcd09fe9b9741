"""Datasette plugin (loaded with --plugins-dir by archive/serve.py): the articles table's search box.

Datasette's own table search (``fts_table`` in metadata) filters with
``id in (select rowid from articles_fts where articles_fts match ...)``. At a million stories a query of
common syllables matches most of them ("dan van": 99 %), and that form makes SQLite list every match,
read every matching story to sort it by date, then count them all and facet them all: seconds. This
plugin answers the same ``?_search=`` (the box, the JSON API) with the same meaning (every story with all
the words, diacritics optional, as ``python -m archive search`` matches them) in a form chosen by how
many stories match. FTS5 hands out matches newest archived first and stops when asked, so the newest
``FEW + 1`` matches cost little; from them:

* at most ``FEW`` matches: their ids, listed once, are the filter
  (``id in (select value from json_each(...))``): the page, the count and the facets each read only
  those stories, without asking FTS5 again;
* more, and dense (at least ``DENSE`` of the stories archived since the oldest of those ``FEW + 1``):
  ``exists (select 1 from articles_fts where articles_fts match ... and rowid = articles.id)``: SQLite
  walks the date index (newest first, or the index of a filter such as site_id, province, kind or
  published_year) and asks FTS5 about each story until the page is full: a few dozen questions (not for
  a sort no index serves, nor for a CSV streaming every match: that would ask about every story);
* more, and sparser: every match listed by FTS5 once, then the date index walked
  (``+id in (select rowid ...)``; the ``+`` keeps SQLite from sorting every match instead).

Counting and faceting more than ``FEW`` matches would read every one of them (seconds at a million), so
a search with more has ``_nocount=1&_nofacet=1`` added, marked with ``_broad=1`` by the ASGI wrapper
before Datasette reads the request; the page says why. A request carrying ``_broad`` (a link or the form
of such a page) has the three removed first, so a narrower search from there counts again.

``metadata.yml`` names no ``fts_table`` for articles, so Datasette's own search stays out of the way; this
plugin shows the search box (``supports_search``) and fills it (``search``).
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from datasette import hookimpl
from datasette.filters import FilterArguments

from archive.search import fts_query

TABLE = "articles"
FTS = "articles_fts"
FEW = 1000  # up to this many matches: listed, counted and faceted
DENSE = 0.05  # share of recent stories matching above which asking FTS5 story by story fills a page fast
# Sorts served by an index: the probe form walks them; any other sort would probe every story.
INDEXED_SORTS = {None, "", "published", "id", "rowid"}
BROAD = "_broad"  # marks the _nocount/_nofacet this plugin added, so the next request decides afresh
OWN = {"_internal", "_memory"}


def _search_path(datasette: Any, path: str) -> str | None:
    """The database name when ``path`` is the articles table page or its JSON, else None."""
    parts = path.strip("/").split("/")
    if len(parts) != 2 or parts[1] not in (TABLE, TABLE + ".json", TABLE + ".csv"):
        return None
    name = urllib.parse.unquote(parts[0])
    return name if name in datasette.databases and name not in OWN else None


async def survey(db: Any, match: str) -> dict[str, Any]:
    """How a search is best answered: the ids of its matches when there are at most ``FEW``, else the
    share of stories matching among those archived since the oldest of the newest ``FEW + 1`` matches."""
    rows = await db.execute(
        f"select rowid from {FTS} where {FTS} match :m order by rowid desc limit :n", {"m": match, "n": FEW + 1}
    )
    ids = [r[0] for r in rows.rows]
    if len(ids) <= FEW:
        return {"match": match, "ids": ids}
    newest = (await db.execute(f"select max(rowid) from {TABLE}")).first()[0] or ids[0]
    return {"match": match, "ids": None, "density": len(ids) / max(1, newest - ids[-1] + 1)}


async def _has_fts(db: Any) -> bool:
    return FTS in await db.table_names()


@hookimpl
def asgi_wrapper(datasette):
    """A broad search on the articles table gets ``_nocount=1&_nofacet=1&_broad=1`` before Datasette reads
    the request; a request carrying ``_broad`` (a link or form of such a page) has the three removed first,
    so a narrower search from that page gets its count and facets again."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") == "http" and scope.get("method") in ("GET", "HEAD"):
                name = _search_path(datasette, scope.get("path", ""))
                if name is not None:
                    scope = await _mark_broad(datasette, name, scope)
            await app(scope, receive, send)

        return wrapped

    return wrap


async def _mark_broad(datasette: Any, name: str, scope: dict) -> dict:
    raw = scope.get("query_string", b"").decode("latin-1")
    pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
    changed = any(k == BROAD for k, _ in pairs)
    if changed:
        pairs = [(k, v) for k, v in pairs if k not in (BROAD, "_nocount", "_nofacet")]
    query = next((v for k, v in pairs if k == "_search"), "")
    match = fts_query(query)
    extra: dict[str, Any] = {}
    db = datasette.get_database(name)
    if match and await _has_fts(db):
        extra = await survey(db, match)
        if extra["ids"] is None:
            pairs += [("_nocount", "1"), ("_nofacet", "1"), (BROAD, "1")]
            changed = True
    if changed:  # else the query string stays byte for byte as sent
        raw = urllib.parse.urlencode(pairs)
    return {**scope, "query_string": raw.encode("latin-1"), "archive_search": extra}


@hookimpl(trylast=True)  # called last, so this extra_context wins over Datasette's supports_search=False
def filters_from_request(request, database, table, datasette):
    if table != TABLE or database in OWN:
        return None

    async def inner() -> FilterArguments | None:
        db = datasette.get_database(database)
        if not await _has_fts(db):
            return None
        query = request.args.get("_search", "")
        extra: dict[str, Any] = {"supports_search": True, "search": query}
        match = fts_query(query)
        if not match:  # no search, or nothing to search for: "?" or "..." match nothing
            return FilterArguments(["0"] if query.strip() else [], extra_context=extra)
        known = request.scope.get("archive_search") or {}
        found = known if known.get("match") == match else await survey(db, match)
        sort = request.args.get("_sort") or request.args.get("_sort_desc")
        if found["ids"] is not None:
            clause, params = f"{TABLE}.id in (select value from json_each(:archive_ids))", {
                "archive_ids": json.dumps(found["ids"])
            }
        elif found["density"] >= DENSE and sort in INDEXED_SORTS and not request.args.get("_stream"):
            clause = f"exists (select 1 from {FTS} where {FTS} match :archive_search and rowid = {TABLE}.id)"
            params = {"archive_search": match}
        else:
            clause = f"+{TABLE}.id in (select rowid from {FTS} where {FTS} match :archive_search)"
            params = {"archive_search": match}
        if found["ids"] is None:
            extra["archive_broad_search"] = FEW
        return FilterArguments([clause], params, [f'search matches "{query}"'], extra_context=extra)

    return inner
