"""Full-text search over stories, with or without diacritics.

The query is folded (``normalize.fold``) and matched against ``articles_fts``, whose columns cover both
the tone-folded text and the fully folded text (đ -> d), so "dan van", "da nang" and "uy ban" find
"dân vận", "Đà Nẵng", "Ủy ban"/"Uỷ ban". Folding merges distinct words ("án" verdict, "an" safe), so when
the query carries diacritics, stories containing its words as typed (either tone placement) come first:
``articles_exact`` keeps the diacritics and each exact word is one indexed FTS lookup.
"""

from __future__ import annotations

import bisect
import json
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
# A search ranks at most this many matches, the most recently archived (FTS5 hands them out newest first
# at almost no cost); ranking costs time in proportion to the matches ranked. See ``search``.
RANK_WINDOW = 2000
FILTERED_WINDOW = 200  # with a site, province, kind or date filter (as the Datasette canned search)
OVERFETCH = 50  # with filters: the newest window x OVERFETCH matches are checked one by one first
# What a snippet needs of normalize.clean, in two C-speed passes: no zero-width characters (they split
# words), NFC (words compare as stored), and every run of whitespace, line breaks included, as one space.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e]")
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
                # Without statistics SQLite may pick any of the indexes: "+" leaves the one on the most
                # selective filter (site, then province, then kind; each index also orders by date) to it
                narrower = self.site if column != "site_id" else ()
                narrower = narrower or (self.province if column == "kind" else ())
                plus = "+" if narrower else ""
                conds.append(f"{plus}{alias}.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.since:
            conds.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            # "2023-06" includes every day of June: "2023-06~" sorts after every date-time starting with
            # "2023-06" (their characters are digits, T, :, + and -) and before "2023-07"; a range bound,
            # so the published index can serve it
            conds.append(f"{alias}.published <= ?")
            params.append(self.until + "~")
        if self.query:
            match = fts_query(self.query)
            # a query with no word at all matches nothing, rather than everything
            conds.append(f"{alias}.id IN (SELECT rowid FROM {schema}articles_fts WHERE articles_fts MATCH ?)")
            params.append(match or '""')
        return conds, params


def snippet(text: str | None, query: str, markers: tuple[str, str] = ("[", "]"), size: int = SNIPPET_WORDS) -> str:
    """A window of ``size`` words of ``text`` with the most query words, matches wrapped in ``markers``.

    "da nang" highlights "Đà Nẵng"; "Đà Nẵng" does not highlight "nâng"."""
    text = " ".join(unicodedata.normalize("NFC", _INVISIBLE.sub("", text or "")).split())
    # A word typed with diacritics highlights only itself (either tone placement); one typed without
    # highlights every word that folds to it, as the search matched them.
    exact: dict[str, str] = {}
    folded_terms: set[str] = set()
    for term in query_terms(query):
        if fold(term) == term:
            folded_terms.add(term)
        else:
            exact.update((v, term) for v in tone_variants(term))
    bounds, seq = _classify(text, exact, folded_terms)
    if not bounds:
        return ""
    _prefer_phrase_spelling(text, bounds, seq, query_terms(query))
    # Slide a window of ``size`` words. Score: distinct query words first, then words side by side ("Đà
    # Nẵng", not "Đà ... năng"), then total matches; the earliest window wins ties. The figures change
    # only when a match leaves or enters the window, so only those starts are visited: O(matches).

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
    window = bounds[best : best + size]
    # the whole text's edges (with their punctuation) when the window reaches them
    lo = window[0][0] if best > 0 else 0
    hi = window[-1][1] if best + size < len(bounds) else len(text)
    out, pos = [], lo
    for (s, e), hit in zip(window, seq[best : best + size], strict=True):
        if hit:
            out.append(text[pos:s] + markers[0] + text[s:e] + markers[1])
            pos = e
    out.append(text[pos:hi])
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    return prefix + "".join(out) + suffix


_WORDS = re.compile(r"\w+")
# Every lowercase letter of Latin script by the letter it folds to ("a" -> "aàáạảã..."): a folded query
# word becomes a regular expression matching each spelling that folds to it, run on the text as it is.
_SPELLINGS: dict[str, str] = {}
for _code in (*range(0x61, 0x7B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)):
    _char = chr(_code)
    if _char == _char.lower() and len(fold(_char)) == 1:
        _SPELLINGS[fold(_char)] = _SPELLINGS.get(fold(_char), "") + _char


def _word_pattern(words: Any, folded: bool) -> re.Pattern[str]:
    """Any of ``words`` as a whole lowercase word, longest first; ``folded``: in any spelling folding to it."""

    def one(word: str) -> str:
        if not folded:
            return re.escape(word)
        return "".join(f"[{re.escape(_SPELLINGS[c])}]" if c in _SPELLINGS else re.escape(c) for c in word)

    return re.compile(r"(?<!\w)(?:" + "|".join(one(w) for w in sorted(words, key=len, reverse=True)) + r")(?!\w)")


def _classify(
    text: str, exact: dict[str, str], folded_terms: set[str]
) -> tuple[list[tuple[int, int]], list[str | None]]:
    """The words of ``text`` (start, end) and, for each, the query word it matches or None. A word matches a
    word typed with diacritics (``exact``: each tone placement -> the word as typed) when it is spelt so,
    else one typed without (``folded_terms``) when it folds to it. Two regular expressions over the
    lowercased text find the matches (C speed); Python only lists the words."""
    bounds = [m.span() for m in _WORDS.finditer(text)]
    hits: list[str | None] = [None] * len(bounds)
    lowered = text.lower()
    if len(lowered) == len(text):  # one character for one: offsets agree
        for words, folded in ((exact, False), (folded_terms, True)):
            if not words:
                continue
            for m in _word_pattern(words, folded).finditer(lowered):
                i = bisect.bisect_left(bounds, (m.start(),))
                if i < len(bounds) and bounds[i] == m.span() and hits[i] is None:
                    hits[i] = fold(m.group()) if folded else exact[m.group()]
    else:  # a character that lowercases to two: word by word
        memo: dict[str, str | None] = {}
        for i, (start, end) in enumerate(bounds):
            word = text[start:end].lower()
            if word not in memo:
                hit = exact.get(word) or exact.get(retone(word))
                if hit is None and fold(word) in folded_terms:
                    hit = fold(word)
                memo[word] = hit
            hits[i] = memo[word]
    return bounds, hits


def _prefer_phrase_spelling(text: str, bounds: list[tuple[int, int]], seq: list[str | None], terms: list[str]) -> None:
    """Folding merges words ("da nang" matches "Đà Nẵng", "đã nâng", "đa năng"): when the query's words
    stand side by side in the text, the spelling they have there most often is what the user meant, and
    the words typed without diacritics highlight that spelling only (a tie goes to the spelling written as
    a name, every word capitalised, then to the first). A text where the words never stand side by side
    keeps every folded match (that is how the search matched it). Changes ``seq`` in place."""
    folded = [fold(t) if fold(t) == t else None for t in terms]  # positions typed without diacritics
    if len(terms) < 2 or not any(folded):
        return
    keys = [f if f else t for f, t in zip(folded, terms, strict=True)]  # the hit each position needs

    def spelling(i: int) -> str:
        return retone(text[bounds[i][0] : bounds[i][1]].lower())

    seen: Counter[tuple[str, ...]] = Counter()
    first: dict[tuple[str, ...], int] = {}
    named: set[tuple[str, ...]] = set()
    n = len(keys)
    matched = [i for i, hit in enumerate(seq) if hit]
    for i in matched:
        if seq[i] == keys[0] and seq[i : i + n] == keys:
            found = tuple(spelling(i + k) for k in range(n))
            seen[found] += 1
            first.setdefault(found, i)
            if all(text[bounds[i + k][0]].isupper() for k in range(n)):
                named.add(found)
    if not seen:
        return
    best = max(seen, key=lambda s: (seen[s], s in named, -first[s]))
    allowed: dict[str, set[str]] = {}
    for k, key in enumerate(keys):
        if folded[k]:
            allowed.setdefault(key, set()).add(best[k])
    for i in matched:
        if seq[i] in allowed and spelling(i) not in allowed[seq[i]]:
            seq[i] = None


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
    window: int | None | str = "auto",
) -> list[dict]:
    """Ranked stories matching ``query`` (an archive path, an ``Archive`` or a sqlite3 connection).

    Each result: id, site_id, site_name, province, kind, published, title, url, snippet (matches
    wrapped in ``markers``), score (bm25, lower is better), exact (how many words typed with diacritics
    were found as typed), phrase (1 if the words appear side by side), copies (pages of the story).
    Order: exact, then phrase, then bm25, then the most recently archived. ``since``/``until`` are
    inclusive dates (YYYY[-MM[-DD]]); site, province and kind take one value or several.

    ``window``: when more stories match (after the filters), only the ``window`` most recently archived
    of them are ranked (default ``RANK_WINDOW``, ``FILTERED_WINDOW`` with a filter, as the Datasette canned
    search; ``None``: every match, in time proportional to the matches: seconds for common syllables at a
    million stories).
    """
    filters = Filters.of(site, province, kind, since, until)
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if window == "auto":
        window = max(limit, FILTERED_WINDOW if filters else RANK_WINDOW)
    if window is not None and window < limit:
        raise ValueError("window must be at least limit")
    match = fts_query(query)
    if not match:
        return []
    conn, owned = _connect(db)
    try:
        ids = _window(conn, match, filters, window)
        if not ids:
            return []
        # the window, read from FTS5 as a rowid range (cheap) and the ids listed
        params: list[Any] = [match, ids[-1], json.dumps(ids)]
        exact_sql = []
        for term in _exact_terms(query):
            exact_sql.append(
                "(hits.id IN (SELECT rowid FROM articles_exact WHERE articles_exact MATCH ? "
                "AND rowid >= (SELECT lo FROM floor)))"
            )
            params.append(term)
        exact_expr = " + ".join(exact_sql) or "0"
        phrase_expr = "0"
        if len(query_terms(query)) > 1:  # the words side by side, in any column (diacritics folded)
            phrase_expr = (
                "(hits.id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                "AND rowid >= (SELECT lo FROM floor)))"
            )
            params.append(phrase_query(query))
        params.append(limit)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Rank on ids and scores only, without reading the stories (a story's date is stored after its
        # text); the texts (and sites) of the LIMIT winners are read afterwards.
        sql = f"""
            WITH hits AS (
                SELECT rowid AS id, bm25(articles_fts, {weights}) AS score
                FROM articles_fts WHERE articles_fts MATCH ? AND rowid >= ?
                  AND +rowid IN (SELECT value FROM json_each(?))
            ), floor AS (SELECT coalesce(min(id), 0) AS lo FROM hits),
            ranked AS (
                SELECT hits.id, hits.score, ({exact_expr}) AS exact, {phrase_expr} AS phrase
                FROM hits
                ORDER BY exact DESC, phrase DESC, hits.score, hits.id DESC
                LIMIT ?
            )
            SELECT a.id, a.site_id, s.name AS site_name, a.province, a.kind, a.published, a.title, a.url,
                   a.body, a.page_count AS copies, ranked.score, ranked.exact, ranked.phrase
            FROM ranked JOIN articles a ON a.id = ranked.id LEFT JOIN sites s ON s.id = a.site_id
            ORDER BY ranked.exact DESC, ranked.phrase DESC, ranked.score, ranked.id DESC
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


def _window(conn: sqlite3.Connection, match: str, filters: Filters, window: int | None) -> list[int]:
    """Ids of the ``window`` most recently archived stories matching ``match`` and ``filters``, newest first.

    With filters, the newest matches are first checked one by one against the story's row, up to
    ``OVERFETCH`` times the window (a filter that most matches pass is answered after a few thousand
    checks); when that does not fill the window, the filters are listed from their indexes and every
    match is checked against that list."""
    limit = -1 if window is None else window
    where, params = filters.where("a")
    if not where:
        sql = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?"
        return [r[0] for r in conn.execute(sql, (match, limit))]
    cond = " AND ".join(where)
    if window is not None:
        sql = f"""
            SELECT id FROM (
                SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?
            ) AS recent WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = recent.id AND {cond})
            LIMIT ?"""
        ids = [r[0] for r in conn.execute(sql, (match, window * OVERFETCH, *params, window))]
        if len(ids) == window:
            return ids
    # "+rowid" keeps SQLite from handing the list to FTS5 as one rowid lookup each
    sql = f"""
        SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?
          AND +rowid IN (SELECT a.id FROM articles a WHERE {cond})
        ORDER BY rowid DESC LIMIT ?"""
    return [r[0] for r in conn.execute(sql, (match, *params, limit))]
