"""Deduplication: URL canonical form, exact-copy key, near-copy detection with MinHash + LSH in SQLite.

A story seen on several sites (syndication between a province's portal, its Party committee and its
Fatherland Front) becomes one ``articles`` row; each sighting is a ``pages`` row pointing to it.

Near copies are found in three steps, all cheap at a million stories:
1. LSH: the MinHash signature is cut into bands; each band hashes to one key stored in ``dedup_bands``
   (primary key band, key). A new text's candidates are the stories sharing any band key: ``bands``
   indexed lookups, nothing loaded into memory.
2. The candidates' signatures (``dedup_signatures``, one BLOB per story, with its length) estimate the
   Jaccard similarity and from it the containment of the shorter text in the longer.
3. Survivors are verified on the texts themselves: containment of the shorter text's shingles in the
   longer one, its figures (dates, counts, decree numbers) missing from the longer one, publication
   dates. Vietnamese government prose
   is formulaic, so shared phrasing alone must never merge two reports.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import numpy as np
from datasketch import MinHash
from w3lib.url import canonicalize_url

from .normalize import clean, comparison_form, fold, words

CONFIG_PATH = Path(__file__).with_name("dedup.toml")


@dataclass(frozen=True)
class DedupConfig:
    num_perm: int = 128
    seed: int = 1
    scheme: str = "affine32"
    shingle: int = 5
    min_tokens: int = 40
    min_exact_tokens: int = 15
    bands: int = 32
    rows: int = 4
    min_estimated_containment: float = 0.5
    min_containment: float = 0.75
    low_containment: float = 0.55
    min_title_similarity: float = 0.5
    min_number_overlap: float = 0.9
    max_missing_numbers: int = 2
    max_date_gap_days: int = 120

    def __post_init__(self) -> None:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands * rows must equal num_perm ({self.bands}*{self.rows}!={self.num_perm})")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DedupConfig:
        known = {k: v for k, v in json.loads(text).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def load_config(path: str | Path | None = None) -> DedupConfig:
    """Read the dedup parameters from ``dedup.toml`` (or ``path``); sections are flattened."""
    with open(path or CONFIG_PATH, "rb") as fh:
        data = tomllib.load(fh)
    flat: dict = {}
    for section in data.values():
        flat.update(section if isinstance(section, dict) else {})
    unknown = set(flat) - set(DedupConfig.__dataclass_fields__)
    if unknown:
        raise ValueError(f"unknown dedup settings: {', '.join(sorted(unknown))}")
    return DedupConfig(**flat)


# --------------------------------------------------------------------------------------------- URLs

# Tracking and session parameters: the same article reached from Facebook, Zalo or a newsletter.
_DROP_PARAM = re.compile(
    r"^(utm_\w*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|zarsrc\w*|gidzl|_ga|_gl|_hs\w+|"
    r"mc_cid|mc_eid|ref_src|jsessionid|phpsessid|aspsessionid\w*|sid|sessionid|session_id|cfid|cftoken)$",
    re.IGNORECASE,
)
_PATH_SESSION = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Canonical form of a URL: tracking/session parameters and fragment dropped, host lowercased,
    query sorted and percent-encoding normalized (w3lib). Scheme and ``www.`` are kept: they are
    what the crawler must fetch."""
    parts = urlsplit(url.strip())
    path = _PATH_SESSION.sub("", parts.path)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _DROP_PARAM.match(k)]
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    for scheme, port in (("http", ":80"), ("https", ":443")):
        if parts.scheme.lower() == scheme and netloc.endswith(port):
            netloc = netloc[: -len(port)]
    rebuilt = urlunsplit((parts.scheme.lower(), netloc, path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt)


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def page_key(url: str, canonical: str | None = None, domains: Iterable[str] = ()) -> str:
    """The key a fetched page is stored under: its ``<link rel=canonical>`` when that stays on the
    same site (same host or one of the site's domains) and is not the home page, else its own URL."""
    own = canonical_url(url)
    if not canonical:
        return own
    target = canonical_url(urljoin(url, canonical))
    parts = urlsplit(target)
    if parts.path in ("", "/") and not parts.query:  # some CMSes put the home page in every canonical tag
        return own
    host = _host(target)
    allowed = {_host(own)} | {d.lower().removeprefix("www.") for d in domains}
    return target if host in allowed else own


# ------------------------------------------------------------------------------------ text content

_COUNTER_WORDS = frozenset(
    "đăng ngày cập nhật lúc thứ hai ba tư năm sáu bảy chủ giờ phút lượt xem đọc sáng chiều tối trưa gmt am "
    "pm tháng views view trực tuyến tổng hôm nay qua tất cả trong tuần đang online truy số ngày đăng".split()
)
_SOURCE_LINE = re.compile(r"^\W*(theo|nguồn)\b", re.IGNORECASE)
_CREDIT_LINE = re.compile(
    r"^\W*(tác giả|tin|bài|ảnh|video|clip|(tin|bài|ảnh)\s*(,|và|-|/|&)\s*(ảnh|tin|bài|video))\s*[:\-–—]",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?:;…]$")


_DIGITS = re.compile(r"\d+")


def _is_counter_or_date(line: str) -> bool:
    """'Lượt xem: 137', 'Đăng ngày 04-04-2021 08:47', '12-09-2023 255', 'Thứ hai - 15/01/2024'."""
    if not _DIGITS.search(line):  # regexes, not a Python loop: this runs on every paragraph
        return False
    return all(w in _COUNTER_WORDS for w in words(_DIGITS.sub(" ", line.lower())))


def _is_byline(line: str) -> bool:
    """'THANH THẢO', 'Hoàng Yến': a short name, every word capitalized, no sentence punctuation."""
    tokens = line.split()
    if not 1 <= len(tokens) <= 5 or _SENTENCE_END.search(line) or any(c.isdigit() for c in line):
        return False
    return all(t[0].isupper() for t in tokens if t[0].isalpha()) and any(t[0].isalpha() for t in tokens)


def content_lines(body: str | None, *, cleaned: bool = False) -> list[str]:
    """Lines of ``clean(body)`` without counters, dates, source/credit lines and a trailing byline.

    These lines differ between copies of one story (each site adds its own), so comparing without
    them lets a syndicated copy hash and shingle like the original. ``cleaned``: ``body`` is already
    ``clean``'s output (as the archive stores it; ``clean`` changes nothing in it), skip cleaning it again.
    """
    lines = [ln for ln in ((body or "") if cleaned else clean(body)).split("\n") if ln]
    kept = []
    for line in lines:
        short = len(line.split()) <= 12
        if _is_counter_or_date(line) or (short and (_SOURCE_LINE.match(line) or _CREDIT_LINE.match(line))):
            continue
        kept.append(line)
    # A byline is only trusted at the end: short capitalized lines in the middle are often captions.
    for _ in range(2):
        if kept and _is_byline(kept[-1]):
            kept.pop()
    return kept


def _compared_lines(body: str | None, *, cleaned: bool = False) -> list[list[str]]:
    """Word tokens of each content line in comparison form."""
    return _compared(content_lines(body, cleaned=cleaned))


def _compared(content: list[str]) -> list[list[str]]:
    """Word tokens of each line in comparison form. The lines go through ``comparison_form`` together
    (lowercasing, quotes and tone marks work within a word, and no word spans a line break): the same
    tokens as line by line, in one call."""
    if not content:
        return []
    return [words(line) for line in comparison_form("\n".join(content), cleaned=True).split("\n")]


# A figure as written: "1.436", "36,5", "2024". Thousands separators (either mark before exactly three
# digits) are dropped so "1.436" and "1436" are one figure; a decimal comma or point stays.
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"[.,](?=\d{3}(?!\d))")


def figures(lines: Iterable[str]) -> frozenset[str]:
    """Distinct figures (counts, amounts, dates' parts, document numbers) of content lines.

    Whole figures, not digit runs: "36,5 tỷ" corrected to "38,2 tỷ" is one changed figure, not two.
    """
    found = set()
    for line in lines:
        for m in _FIGURE.finditer(line):
            found.add(_THOUSANDS.sub("", m.group()).lstrip("0") or "0")
    return frozenset(found)


def _hash_lines(lines: list[list[str]]) -> str:
    return hashlib.sha256("\n".join(" ".join(ln) for ln in lines).encode("utf-8")).hexdigest()


def exact_key(body: str | None, *, cleaned: bool = False) -> str:
    """sha256 (hex) of the comparison form of the body's content lines: equal for exact copies."""
    return _hash_lines(_compared_lines(body, cleaned=cleaned))


# ------------------------------------------------------------------------------------- fingerprints


@dataclass
class Fingerprint:
    """Everything needed to compare one text with another."""

    exact_key: str
    tokens: int
    shingles: frozenset[str] = field(repr=False)
    numbers: frozenset[str] = field(repr=False)
    signature: np.ndarray | None = field(default=None, repr=False)

    @property
    def near_ok(self) -> bool:
        """Long enough for near-copy matching (short texts are matched by exact key only)."""
        return self.signature is not None


@lru_cache(maxsize=8)
def _permutations(num_perm: int, seed: int, scheme: str) -> np.ndarray:
    # Creating the permutations is the slow part of MinHash(); they depend only on these parameters.
    return MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations


def _sha1_hash32(shingles: Iterable[str]) -> list[int]:
    """datasketch's sha1_hash32 of each shingle's UTF-8 bytes (the first four bytes of the SHA-1, little
    endian), in one comprehension instead of a function call and a struct.unpack per shingle."""
    sha1 = hashlib.sha1
    return [int.from_bytes(sha1(s.encode("utf-8")).digest()[:4], "little") for s in shingles]


def _given(value: int) -> int:
    return value


def fingerprint(body: str | None, cfg: DedupConfig, *, signature: bool = True, cleaned: bool = False) -> Fingerprint:
    """Exact key, syllable shingles, figures and MinHash signature of an article body.

    ``signature=False`` skips the MinHash: verifying a candidate's text needs only its shingles and
    figures, and hashing every shingle is a third of the work. ``cleaned``: ``body`` is ``clean``'s
    output already (see ``content_lines``)."""
    content = content_lines(body, cleaned=cleaned)
    lines = _compared(content)
    toks = [t for line in lines for t in line]
    key = _hash_lines(lines)
    k = cfg.shingle
    shingles = frozenset(" ".join(toks[i : i + k]) for i in range(max(1, len(toks) - k + 1))) if toks else frozenset()
    numbers = figures(content)
    minhash = None
    if signature and len(toks) >= cfg.min_tokens:
        perms = _permutations(cfg.num_perm, cfg.seed, cfg.scheme)
        # The shingles' hashes are computed here (the same sha1_hash32 values) and handed over as they are.
        mh = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, permutations=perms, scheme=cfg.scheme, hashfunc=_given)
        mh.update_batch(_sha1_hash32(shingles))
        minhash = np.asarray(mh.hashvalues, dtype="<u4")
    return Fingerprint(key, len(toks), shingles, numbers, minhash)


def signature_from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<u4")


def band_keys(signature: np.ndarray, cfg: DedupConfig) -> list[tuple[int, int]]:
    """(band, key) pairs: ``rows`` consecutive hash values hashed to a signed 64-bit integer."""
    out = []
    for band in range(cfg.bands):
        chunk = np.ascontiguousarray(signature[band * cfg.rows : (band + 1) * cfg.rows]).tobytes()
        out.append((band, int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big", signed=True)))
    return out


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b)) if len(a) == len(b) else 0.0


class Candidate(NamedTuple):
    article_id: int
    jaccard: float  # estimated from the signatures
    containment: float  # of the shorter text in the longer, estimated from jaccard and the texts' sizes


def estimated_containment(jaccard: float, a: int, b: int) -> float:
    """|A ∩ B| / min(|A|, |B|) from the Jaccard similarity and the set sizes: |A ∩ B| = J (a + b) / (1 + J).

    An abridged copy keeps most of its shingles in the original but shares a low Jaccard with it (the
    original is twice its size); containment is what the verification checks, so filter on it.
    """
    if a <= 0 or b <= 0:
        return 0.0
    return min(1.0, jaccard * (a + b) / ((1 + jaccard) * min(a, b)))


# --------------------------------------------------------------------------------------- LSH index

DEDUP_DDL = (
    "CREATE TABLE IF NOT EXISTS dedup_signatures (article_id INTEGER PRIMARY KEY, signature BLOB, "
    "tokens INTEGER, exact_key TEXT)",
    # WITHOUT ROWID: the primary key is the (band, key) index itself, no second copy of the rows.
    "CREATE TABLE IF NOT EXISTS dedup_bands (band INTEGER NOT NULL, key INTEGER NOT NULL, "
    "article_id INTEGER NOT NULL, PRIMARY KEY (band, key, article_id)) WITHOUT ROWID",
)


class NearIndex:
    """MinHash signatures and LSH bands of stories, kept in SQLite tables on ``conn``."""

    def __init__(self, conn: sqlite3.Connection, cfg: DedupConfig) -> None:
        self.conn = conn
        self.cfg = cfg
        # lookups, LSH candidates and texts verified: what a lookup costs (evaluation and benchmark)
        self.counts: Counter[str] = Counter()

    def signature(self, article_id: int) -> np.ndarray | None:
        row = self.conn.execute(
            "SELECT signature FROM dedup_signatures WHERE article_id = ?", (article_id,)
        ).fetchone()
        return signature_from_blob(row[0]) if row and row[0] is not None else None

    def add(self, article_id: int, fp: Fingerprint) -> None:
        self.remove(article_id)
        blob = fp.signature.tobytes() if fp.signature is not None else None
        self.conn.execute(
            "INSERT INTO dedup_signatures (article_id, signature, tokens, exact_key) VALUES (?, ?, ?, ?)",
            (article_id, blob, fp.tokens, fp.exact_key),
        )
        if fp.signature is not None:
            self.conn.executemany(
                "INSERT OR IGNORE INTO dedup_bands (band, key, article_id) VALUES (?, ?, ?)",
                [(b, k, article_id) for b, k in band_keys(fp.signature, self.cfg)],
            )

    def remove(self, article_id: int) -> None:
        old = self.signature(article_id)
        if old is not None:  # delete by primary key: recompute the old band keys from the stored signature
            self.conn.executemany(
                "DELETE FROM dedup_bands WHERE band = ? AND key = ? AND article_id = ?",
                [(b, k, article_id) for b, k in band_keys(old, self.cfg)],
            )
        self.conn.execute("DELETE FROM dedup_signatures WHERE article_id = ?", (article_id,))

    def candidates(self, fp: Fingerprint) -> list[Candidate]:
        """Stories sharing a band with ``fp``, best estimated containment first."""
        if fp.signature is None:
            return []
        self.counts["lookups"] += 1
        # One statement for all bands: a UNION of primary-key searches (a row-value IN scans the table).
        sql = " UNION ".join(["SELECT article_id FROM dedup_bands WHERE band = ? AND key = ?"] * self.cfg.bands)
        params = [value for pair in band_keys(fp.signature, self.cfg) for value in pair]
        found = {r[0] for r in self.conn.execute(sql, params)}
        if not found:
            return []
        self.counts["candidates"] += len(found)
        ids = sorted(found)
        rows = self.conn.execute(
            f"SELECT article_id, signature, tokens FROM dedup_signatures WHERE article_id IN "
            f"({', '.join('?' * len(ids))}) AND signature IS NOT NULL",
            ids,
        ).fetchall()
        mine = len(fp.shingles)
        scored = []
        for article_id, blob, tokens in rows:
            jac = estimated_jaccard(fp.signature, signature_from_blob(blob))
            theirs = max(1, (tokens or 0) - self.cfg.shingle + 1)
            scored.append(Candidate(article_id, jac, estimated_containment(jac, mine, theirs)))
        return sorted(scored, key=lambda c: (-c.containment, -c.jaccard, c.article_id))


# ------------------------------------------------------------------------------------ verification


@dataclass
class Verdict:
    same: bool
    jaccard: float = 0.0
    containment: float = 0.0
    title_similarity: float = 0.0
    number_overlap: float = 1.0
    why: str = ""


def _title_similarity(a: str | None, b: str | None) -> float:
    sa, sb = set(words(fold(a or "").lower())), set(words(fold(b or "").lower()))
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _date_gap_days(a: str | None, b: str | None) -> int | None:
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days)  # type: ignore[index]
    except (TypeError, ValueError):
        return None


def verify(
    new: Fingerprint,
    old: Fingerprint,
    cfg: DedupConfig,
    *,
    titles: tuple[str | None, str | None] = (None, None),
    published: tuple[str | None, str | None] = (None, None),
    jaccard: float | None = None,
) -> Verdict:
    """Decide whether two texts are copies of one story (see dedup.toml for the bars)."""
    if jaccard is None and new.signature is not None and old.signature is not None:
        jaccard = estimated_jaccard(new.signature, old.signature)
    v = Verdict(False, jaccard=jaccard or 0.0, title_similarity=_title_similarity(*titles))
    short, long_ = sorted((new, old), key=lambda f: len(f.shingles))
    if not short.shingles:
        v.why = "empty"
        return v
    v.containment = len(short.shingles & long_.shingles) / len(short.shingles)
    if short.numbers:
        # A copy, even corrected, loses at most a figure or two; a report of another place or year made
        # from the same template changes most of them. The share keeps long, figure-heavy texts fair.
        missing = len(short.numbers - long_.numbers)
        v.number_overlap = 1 - missing / len(short.numbers)
        if missing > cfg.max_missing_numbers and v.number_overlap < cfg.min_number_overlap:
            v.why = "numbers"
            return v
    gap = _date_gap_days(*published)
    if gap is not None and gap > cfg.max_date_gap_days:
        v.why = "dates"
        return v
    if v.containment >= cfg.min_containment:
        v.same, v.why = True, "containment"
    elif v.containment >= cfg.low_containment and v.title_similarity >= cfg.min_title_similarity:
        v.same, v.why = True, "containment+title"
    else:
        v.why = "containment"
    return v


@dataclass
class StoryText:
    """The canonical text of a known story, as needed to verify a candidate."""

    title: str | None
    body: str | None
    published: str | None


def find_near(
    index: NearIndex,
    fp: Fingerprint,
    cfg: DedupConfig,
    load: Callable[[int], StoryText | None],
    *,
    title: str | None = None,
    published: str | None = None,
) -> tuple[int, Verdict] | None:
    """The first LSH candidate (by estimated containment) that passes ``verify``, or None."""
    for article_id, jac, containment in index.candidates(fp):
        if containment < cfg.min_estimated_containment:
            break
        story = load(article_id)
        if story is None:
            continue
        index.counts["verified"] += 1
        verdict = verify(
            fp,
            fingerprint(story.body, cfg, signature=False),
            cfg,
            titles=(title, story.title),
            published=(published, story.published),
            jaccard=jac,
        )
        if verdict.same:
            return article_id, verdict
    return None


# ---------------------------------------------------------------------------------- canonical copy


_DOMAIN_LIKE = re.compile(r"^[\w-]+(\.[\w-]+)+$")


class SiteMatcher:
    """Which sites a "Theo ..."/"Nguồn: ..." source names, by domain, alias or name."""

    def __init__(self, sites: Iterable[dict]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for site in sites:
            needles = []
            names = [*(site.get("aliases") or []), site.get("name") or ""]
            # an alias like "danang.gov.vn" is a domain: it must not match inside "mattran.danang.gov.vn"
            domains = [*(site.get("domains") or []), *(a for a in names if _DOMAIN_LIKE.match(a.strip()))]
            for domain in domains:
                d = domain.strip().lower().removeprefix("www.")
                needles.append(rf"(?<![\w.-]){re.escape(d)}(?![\w-])")
            for alias in names:
                if _DOMAIN_LIKE.match(alias.strip()):
                    continue
                a = " ".join(words(fold(alias).lower()))
                # Very short aliases ("UBND") would name every site.
                if len(a) >= 6:
                    needles.append(rf"\b{re.escape(a)}\b")
            if needles:
                self._patterns.append((site["id"], re.compile("|".join(needles))))

    def named(self, source: str | None) -> set[str]:
        if not source:
            return set()
        text = fold(source).lower()
        plain = " ".join(words(text))
        return {sid for sid, pat in self._patterns if pat.search(text) or pat.search(plain)}


def choose_canonical(pages: list[dict], matcher: SiteMatcher) -> dict:
    """The copy that represents a story: a page of a site that another copy names as its source wins,
    then the earliest published (pages without a date last), then the first seen (``seq``)."""
    named: set[str] = set()
    for page in pages:
        named |= matcher.named(page.get("source"))
    return min(
        pages,
        key=lambda p: (
            p["site_id"] not in named,
            not p.get("published"),
            p.get("published") or "",
            p.get("seq") or 0,
        ),
    )
