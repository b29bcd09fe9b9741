"""Datasette plugin (loaded with --plugins-dir by archive/serve.py): the archive's text functions in SQL,
so canned queries fold queries and make snippets exactly like ``python -m archive search``."""

from __future__ import annotations

from datasette import hookimpl

from archive.dedup import canonical_url
from archive.normalize import fold
from archive.search import fts_query, snippet


def _fts_query(query: str | None) -> str:
    # '""' matches nothing: an empty search form shows no rows instead of an FTS syntax error
    return fts_query(query or "") or '""'


def _snippet(text: str | None, query: str | None) -> str:
    return snippet(text, query or "", ("<b>", "</b>")) if query else (text or "")[:240]


def _canonical_url(url: str | None) -> str:
    try:
        return canonical_url(url) if url else ""
    except ValueError:
        return url or ""


@hookimpl
def prepare_connection(conn):
    conn.create_function("fold", 1, lambda t: fold(t) if t is not None else None, deterministic=True)
    conn.create_function("fts_query", 1, _fts_query, deterministic=True)
    conn.create_function("archive_snippet", 2, _snippet, deterministic=True)
    conn.create_function("canonical_url", 1, _canonical_url, deterministic=True)
