"""Full-text search over stories, with or without diacritics.

The query is folded (``normalize.fold``) and matched against ``articles_fts``, whose columns cover both
the tone-folded text and the fully folded text (đ -> d), so "dan van", "da nang" and "uy ban" find
"dân vận", "Đà Nẵng", "Ủy ban"/"Uỷ ban". Folding merges distinct words ("án" verdict, "an" safe), so when
the query carries diacritics, stories containing its words as typed (either tone placement) come first:
``articles_exact`` keeps the diacritics and each exact word is one indexed FTS lookup.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .normalize import fold, retone, tone_variants, words

# Title matters more than body. Columns: title, body, title_fold, body_fold.
BM25_WEIGHTS = (8.0, 1.0, 8.0, 1.0)
SNIPPET_WORDS = 32
# What a snippet needs of normalize.clean, in two C-speed passes: no zero-width characters (they split
# words), NFC (words compare as stored), and every run of whitespace, line breaks included, as one space.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def query_terms(query: str) -> list[str]:
    """Words of a user query, lowercased; FTS operators and punctuation are dropped (never a syntax error)."""
    return [w.lower() for w in words(query) if w.strip("_")]


def phrases(query: str) -> list[list[str]]:
    """The query as phrases: words between double quotes form one phrase, every other word is its own.
    An unpaired quote is ignored."""
    parts = query.split('"')
    if len(parts) % 2 == 0:  # an odd number of quotes: the last one pairs with nothing
        parts = [*parts[:-2], parts[-2] + " " + parts[-1]]
    out: list[list[str]] = []
    for i, part in enumerate(parts):
        terms = query_terms(part)
        if i % 2 and terms:
            out.append(terms)
        else:
            out.extend([t] for t in terms)
    return out


def fts_query(query: str) -> str:
    """A safe FTS5 MATCH string for ``query`` without diacritics: every word (or "quoted phrase") quoted,
    implicit AND; FTS operators are plain words. Returns '' when the query has no word."""
    return " ".join('"' + " ".join(fold(t) for t in phrase) + '"' for phrase in phrases(query))


def _exact_terms(query: str) -> list[str]:
    """MATCH strings for each query word typed with diacritics (both tone placements)."""
    out = []
    for term in query_terms(query):
        if fold(term) == term:  # no diacritics: every folded match is already exact
            continue
        variants = sorted(tone_variants(term))
        out.append(" OR ".join(f'"{v}"' for v in variants))
    return out


def exact_query(query: str) -> str:
    """One ``articles_exact`` MATCH string requiring every word typed with diacritics, as typed (either
    tone placement); '""' (matches nothing) when the query has none. Used by the Datasette canned search,
    which cannot add one subquery per word as ``search`` does."""
    terms = _exact_terms(query)
    return " AND ".join(f"({t})" for t in terms) if terms else '""'


def phrase_query(query: str) -> str:
    """A MATCH string for the query's words side by side (diacritics folded), or '""' (matches nothing)
    for a one-word query: stories with the whole phrase rank before those with scattered words."""
    terms = query_terms(query)
    return '"' + " ".join(fold(t) for t in terms) + '"' if len(terms) > 1 else '""'


def title_query(query: str) -> str:
    """A MATCH string for stories with every query word in their title (diacritics folded), or '""'."""
    terms = query_terms(query)
    if not terms:
        return '""'
    return "{title title_fold} : (" + " AND ".join(f'"{fold(t)}"' for t in terms) + ")"


def _check_date(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not _DATE.match(value):
        raise ValueError(f"{name} must be YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}")
    return value


def _values(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(v for v in value if v)


@dataclass(frozen=True)
class Filters:
    """Which stories a search or an export covers. Each field is optional; site, province and kind accept
    several values (any of them matches); since/until are inclusive dates (YYYY[-MM[-DD]]) on ``published``;
    ``query`` is a full-text query (without or with diacritics, as in ``search``).

    Stories are selected by their canonical copy: ``site`` is the site of the story's canonical page."""

    site: tuple[str, ...] = ()
    province: tuple[str, ...] = ()
    kind: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    query: str | None = None

    @classmethod
    def of(
        cls,
        site: str | Sequence[str] | None = None,
        province: str | Sequence[str] | None = None,
        kind: str | Sequence[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        query: str | None = None,
    ) -> Filters:
        """Build filters from user values (single strings or lists; empty means no filter); checks dates."""
        return cls(
            _values(site),
            _values(province),
            _values(kind),
            _check_date("since", since),
            _check_date("until", until),
            query if query and query.strip() else None,
        )

    def __bool__(self) -> bool:
        return any((self.site, self.province, self.kind, self.since, self.until, self.query))

    def as_dict(self) -> dict[str, Any]:
        """The filters that are set, for manifests and logs."""
        out: dict[str, Any] = {}
        for name in ("site", "province", "kind"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        for name in ("since", "until", "query"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    def where(self, alias: str = "a", schema: str = "") -> tuple[list[str], list[Any]]:
        """SQL conditions on ``articles`` (aliased ``alias``) and their parameters. ``schema`` prefixes the
        FTS table (e.g. "src." for an attached archive)."""
        conds: list[str] = []
        params: list[Any] = []
        for column, values in (("site_id", self.site), ("province", self.province), ("kind", self.kind)):
            if values:
                conds.append(f"{alias}.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.since:
            conds.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            # "2023-06" includes every day of June: compare the published value cut to the bound's length
            conds.append(f"substr({alias}.published, 1, ?) <= ?")
            params.extend([len(self.until), self.until])
        if self.query:
            match = fts_query(self.query)
            # a query with no word at all matches nothing, rather than everything
            conds.append(f"{alias}.id IN (SELECT rowid FROM {schema}articles_fts WHERE articles_fts MATCH ?)")
            params.append(match or '""')
        return conds, params


def snippet(text: str | None, query: str, markers: tuple[str, str] = ("[", "]"), size: int = SNIPPET_WORDS) -> str:
    """A window of ``size`` words of ``text`` with the most query words, matches wrapped in ``markers``.

    "da nang" highlights "Đà Nẵng"; "Đà Nẵng" does not highlight "nâng"."""
    text = " ".join(unicodedata.normalize("NFC", (text or "").translate(_INVISIBLE)).split())
    # A word typed with diacritics highlights only itself (either tone placement); one typed without
    # highlights every word that folds to it, as the search matched them.
    exact: dict[str, str] = {}
    folded_terms: set[str] = set()
    for term in query_terms(query):
        if fold(term) == term:
            folded_terms.add(term)
        else:
            exact.update((v, term) for v in tone_variants(term))
    memo: dict[str, str | None] = {}  # a text repeats its words: classify each distinct word once
    spans = []
    for m in re.finditer(r"\w+", text):
        word = m.group().lower()
        if word not in memo:
            hit = exact.get(word) or exact.get(retone(word))
            if hit is None and folded_terms and fold(word) in folded_terms:
                hit = fold(word)
            memo[word] = hit
        spans.append((m.start(), m.end(), memo[word]))
    if not spans:
        return ""
    # Slide a window of ``size`` words. Score: distinct query words first, then words side by side ("Đà
    # Nẵng", not "Đà ... năng"), then total matches; the earliest window wins ties. The figures change
    # only when a match leaves or enters the window, so only those starts are visited: O(matches).
    seq = [hit for *_, hit in spans]

    def pair(i: int) -> int:
        a, b = seq[i], seq[i + 1]
        return 1 if a and b and a != b else 0

    width = min(size, len(seq))
    counts = Counter(h for h in seq[:width] if h)
    total = sum(counts.values())
    adjacent = sum(pair(i) for i in range(width - 1))
    best, best_score = 0, len(counts) * 10000 + adjacent * 100 + total
    last = len(seq) - size  # the last window start
    hits_at = [i for i, h in enumerate(seq) if h]
    starts = sorted({i + 1 for i in hits_at if i < last} | {i - size + 1 for i in hits_at if i >= size})
    for start in starts:  # each start s: seq[s - 1] leaves, seq[s + size - 1] enters
        leaving, entering = seq[start - 1], seq[start + size - 1]
        if leaving:
            counts[leaving] -= 1
            total -= 1
            if not counts[leaving]:
                del counts[leaving]
        if entering:
            counts[entering] += 1
            total += 1
        adjacent += pair(start + size - 2) - pair(start - 1)
        score = len(counts) * 10000 + adjacent * 100 + total
        if score > best_score:
            best, best_score = start, score
    window = spans[best : best + size]
    # the whole text's edges (with their punctuation) when the window reaches them
    lo = window[0][0] if best > 0 else 0
    hi = window[-1][1] if best + size < len(spans) else len(text)
    out, pos = [], lo
    for s, e, hit in window:
        if hit:
            out.append(text[pos:s] + markers[0] + text[s:e] + markers[1])
            pos = e
    out.append(text[pos:hi])
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    return prefix + "".join(out) + suffix


def _connect(db: Any) -> tuple[sqlite3.Connection, bool]:
    if isinstance(db, sqlite3.Connection):
        return db, False
    conn = getattr(db, "conn", None)
    if isinstance(conn, sqlite3.Connection):  # an Archive
        return conn, False
    path = Path(db)
    if not path.exists():
        raise FileNotFoundError(f"no such archive: {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return conn, True


def search(
    db: Any,
    query: str,
    site: str | Sequence[str] | None = None,
    province: str | Sequence[str] | None = None,
    kind: str | Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 20,
    markers: tuple[str, str] = ("[", "]"),
) -> list[dict]:
    """Ranked stories matching ``query`` (an archive path, an ``Archive`` or a sqlite3 connection).

    Each result: id, site_id, site_name, province, kind, published, title, url, snippet (matches
    wrapped in ``markers``), score (bm25, lower is better), exact (how many words typed with diacritics
    were found as typed), phrase (1 if the words appear side by side), copies (pages of the story).
    Order: exact, then phrase, then bm25. ``since``/``until`` are inclusive dates (YYYY[-MM[-DD]]);
    site, province and kind take one value or several.
    """
    filters = Filters.of(site, province, kind, since, until)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    match = fts_query(query)
    if not match:
        return []
    conn, owned = _connect(db)
    try:
        params: list[Any] = [match]
        exact_sql = []
        for term in _exact_terms(query):
            exact_sql.append("(a.id IN (SELECT rowid FROM articles_exact WHERE articles_exact MATCH ?))")
            params.append(term)
        exact_expr = " + ".join(exact_sql) or "0"
        phrase_expr = "0"
        if len(query_terms(query)) > 1:  # the words side by side, in any column (diacritics folded)
            phrase_expr = "(a.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?))"
            params.append(phrase_query(query))
        where, where_params = filters.where("a")
        params.extend(where_params)
        params.append(limit)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Rank on ids and scores only; the texts (and sites) of the LIMIT winners are read afterwards, so
        # the sorter never carries every hit's body.
        sql = f"""
            WITH hits AS (
                SELECT rowid AS id, bm25(articles_fts, {weights}) AS score
                FROM articles_fts WHERE articles_fts MATCH ?
            ), ranked AS (
                SELECT a.id, hits.score, ({exact_expr}) AS exact, {phrase_expr} AS phrase, a.published
                FROM hits JOIN articles a ON a.id = hits.id
                {"WHERE " + " AND ".join(where) if where else ""}
                ORDER BY exact DESC, phrase DESC, hits.score, a.published DESC
                LIMIT ?
            )
            SELECT a.id, a.site_id, s.name AS site_name, a.province, a.kind, a.published, a.title, a.url,
                   a.body, a.page_count AS copies, ranked.score, ranked.exact, ranked.phrase
            FROM ranked JOIN articles a ON a.id = ranked.id LEFT JOIN sites s ON s.id = a.site_id
            ORDER BY ranked.exact DESC, ranked.phrase DESC, ranked.score, ranked.published DESC
        """
        cur = conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        results = []
        for row in cur.fetchall():
            item = dict(zip(names, row, strict=True))
            body = item.pop("body")
            item["snippet"] = snippet(f"{body}", query, markers)
            results.append(item)
        return results
    finally:
        if owned:
            conn.close()
