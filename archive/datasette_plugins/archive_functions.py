"""Datasette plugin (loaded with --plugins-dir by archive/serve.py).

* The archive's text functions in SQL, so canned queries fold queries, rank exact spellings and make snippets
  exactly like ``python -m archive search``.
* Every connection to an archive is ``query_only``: even a write that slipped past Datasette's SELECT-only
  check (a plugin, a future writable canned query) fails inside SQLite.
* The canned search's snippets show matches in bold (render_cell).
* The story page (``/<db>/articles/<id>``) gets the story as a reader wants it: paragraphs, a link to the
  original, images and attachments, and every sighting of the story on any site (templates/row.html).
"""

from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from archive.dedup import canonical_url
from archive.normalize import fold
from archive.search import exact_query, fts_query, phrase_query, snippet, title_query

# Datasette's own databases: it writes to them (schema cache), so they must stay writable.
DATASETTE_OWN = {"_internal", "_memory"}


def _fts_query(query: str | None) -> str:
    # '""' matches nothing: an empty search form shows no rows instead of an FTS syntax error
    return fts_query(query or "") or '""'


def _exact_query(query: str | None) -> str:
    return exact_query(query or "")


def _phrase_query(query: str | None) -> str:
    return phrase_query(query or "")


def _title_query(query: str | None) -> str:
    return title_query(query or "")


def _snippet(text: str | None, query: str | None) -> str:
    return snippet(text, query or "", ("<b>", "</b>")) if query else (text or "")[:240]


def _canonical_url(url: str | None) -> str:
    try:
        return canonical_url(url) if url else ""
    except ValueError:
        return url or ""


@hookimpl
def prepare_connection(conn, database):
    conn.create_function("fold", 1, lambda t: fold(t) if t is not None else None, deterministic=True)
    conn.create_function("fts_query", 1, _fts_query, deterministic=True)
    conn.create_function("exact_query", 1, _exact_query, deterministic=True)
    conn.create_function("phrase_query", 1, _phrase_query, deterministic=True)
    conn.create_function("title_query", 1, _title_query, deterministic=True)
    conn.create_function("archive_snippet", 2, _snippet, deterministic=True)
    conn.create_function("canonical_url", 1, _canonical_url, deterministic=True)
    if database not in DATASETTE_OWN:
        conn.execute("PRAGMA query_only = 1")


@hookimpl
def render_cell(value, column, table):
    """The canned search's snippet shows its matches in bold: the text is escaped, then only the <b> and
    </b> that archive_snippet put in are made tags again (nothing else from a page becomes HTML)."""
    if table is None and column == "snippet" and isinstance(value, str) and "<b>" in value:
        html = str(escape(value)).replace("&lt;b&gt;", "<b>").replace("&lt;/b&gt;", "</b>")
        return Markup(html)
    return None


def _json_list(text: str | None) -> list[dict[str, Any]]:
    try:
        items = json.loads(text or "[]")
    except ValueError:
        return []
    return [i for i in items if isinstance(i, dict)]


async def story_context(db: Any, article_id: str) -> dict[str, Any] | None:
    """The story with its paragraphs and sightings, for templates/row.html; None if there is no such story."""
    rows = await db.execute(
        "SELECT a.*, s.name AS site_name FROM articles a LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = ?",
        [article_id],
    )
    row = rows.first()
    if row is None:
        return None
    story = dict(row)
    paragraphs = [p.strip() for p in (story.get("body") or "").split("\n\n") if p.strip()]
    lead = (story.get("lead") or "").strip()
    if lead and paragraphs and paragraphs[0] == lead:
        paragraphs = paragraphs[1:]  # the lead is shown on its own, above the text
    sightings = await db.execute(
        "SELECT p.url, p.raw_url, p.site_id, s.name AS site_name, s.province, p.published, p.first_fetched, "
        "p.fetched_at, p.status, p.gone, p.version, p.url = ? AS canonical "
        "FROM pages p LEFT JOIN sites s ON s.id = p.site_id WHERE p.article_id = ? ORDER BY canonical DESC, p.seq",
        [story["url"], article_id],
    )
    versions = await db.execute("SELECT count(*) FROM versions WHERE article_id = ?", [article_id])
    return {
        **story,
        "lead": lead,
        "paragraphs": paragraphs,
        "images": _json_list(story.get("images")),
        "attachments": _json_list(story.get("attachments")),
        "sightings": [dict(r) for r in sightings.rows],
        "versions": versions.first()[0],
    }


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "row" or table != "articles" or request is None:
        return {}

    async def inner() -> dict[str, Any]:
        pks = request.url_vars.get("pks", "")
        if not pks.isdigit():
            return {}
        return {"story": await story_context(datasette.get_database(database), pks)}

    return inner
