"""Search latency through Datasette's JSON API on a generated archive of N stories.

Run on demand (not part of the test suite):

    .venv/bin/python bench/bench_search.py [--stories 20000] [--rounds 5] [--db PATH] [--out bench/results/search.json]
    .venv/bin/python bench/bench_search.py --stories 1000000   # the issue's scale; builds a 28 GB file once (~20 min)

The archive is generated from real text: the sentences, titles and leads of the sample web
(crawler/samples/content/*.toml), recombined into new stories with the sample's place names replaced by one of
the 63 provinces, numbers redrawn and officials' names made up, so the vocabulary and the word frequencies
look like provincial news and no posting list is trivially short or long. Stories spread over 189 sites
(63 provinces x government/front/party, a few sites much busier than others), published 2015-2026; 8% have
a copy on a second site. Rows go straight into the archive's tables (bulk inserts, FTS built at the end),
which is what ``Archive.add_page`` would have produced, minus dedup signatures and raw pages.

Then ``python -m archive serve`` runs on it (the real metadata, plugin and settings) and each query is sent
``--rounds`` times, after one warm-up pass, over HTTP:

* ``canned``: the ranked ``search`` canned query (exact spelling, then phrase, then title, then newest), 25 rows
  with snippets; ``canned-site``, ``canned-province``, ``canned-since`` (the last year) and ``canned-range``
  (six months, five years in) with a filter: the busiest site, its province;
* ``table``: ``/db/articles.json?_search=q`` as the search box sends it (count and the four facets when the
  search is narrow enough, see archive/datasette_plugins/table_search.py); ``table-site`` the same with
  ``site_id=`` (a facet clicked); ``table-html`` the HTML page the box opens;
* ``table-lean``: the same with ``_nocount=1&_nofacet=1`` (a script paging through results);
* ``cli`` and ``cli-province``: ``archive.search.search`` (what ``python -m archive search`` runs, less
  Python's start-up), in this process, bm25 ranking included;
* ``baseline``: ``select id, title from articles where rowid = ?`` through the same JSON API: the cost of
  HTTP + Datasette alone. Ratios are latency / baseline latency, measured in the same run.

The load average is recorded with each mode (the machine may be shared).

Results (p50, p95, max in ms per mode, and per query) are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from archive.normalize import fold  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CONTENT = ROOT / "crawler" / "samples" / "content"

PROVINCES = (
    "An Giang, Bà Rịa - Vũng Tàu, Bắc Giang, Bắc Kạn, Bạc Liêu, Bắc Ninh, Bến Tre, Bình Định, Bình Dương, "
    "Bình Phước, Bình Thuận, Cà Mau, Cần Thơ, Cao Bằng, Đà Nẵng, Đắk Lắk, Đắk Nông, Điện Biên, Đồng Nai, "
    "Đồng Tháp, Gia Lai, Hà Giang, Hà Nam, Hà Nội, Hà Tĩnh, Hải Dương, Hải Phòng, Hậu Giang, Hòa Bình, "
    "Hưng Yên, Khánh Hòa, Kiên Giang, Kon Tum, Lai Châu, Lâm Đồng, Lạng Sơn, Lào Cai, Long An, Nam Định, "
    "Nghệ An, Ninh Bình, Ninh Thuận, Phú Thọ, Phú Yên, Quảng Bình, Quảng Nam, Quảng Ngãi, Quảng Ninh, "
    "Quảng Trị, Sóc Trăng, Sơn La, Tây Ninh, Thái Bình, Thái Nguyên, Thanh Hóa, Thừa Thiên Huế, Tiền Giang, "
    "Thành phố Hồ Chí Minh, Trà Vinh, Tuyên Quang, Vĩnh Long, Vĩnh Phúc, Yên Bái"
).split(", ")
# Places the sample texts are about: replaced by the story's province.
SAMPLE_PLACES = ("Đà Nẵng", "Hưng Yên", "Nam Định", "Giao Thủy", "Giao Thuỷ", "An Lão", "Hải Phòng")
FAMILY = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trương Lương Mai".split()
MIDDLE = "Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Công Đình Hồng Kim Bá Thu".split()
GIVEN = (
    "An Bình Cường Dũng Hải Hà Hiển Hoa Hùng Hương Khánh Lan Lâm Linh Long Mai Minh Nam Nga Nghĩa Ngọc Nguyệt "
    "Phong Phúc Phương Quân Sơn Tâm Thạch Thảo Thắng Thành Thủy Tiến Toàn Trung Tuấn Vinh Yến"
).split()
ROLES = (
    "Bí thư Tỉnh ủy",
    "Phó Bí thư Thường trực Tỉnh ủy",
    "Chủ tịch UBND tỉnh",
    "Phó Chủ tịch UBND tỉnh",
    "Chủ tịch Ủy ban MTTQ Việt Nam tỉnh",
    "Trưởng Ban Dân vận Tỉnh ủy",
    "Giám đốc Sở Nội vụ",
    "Chủ tịch HĐND tỉnh",
)
KINDS = (("gov", "government", "Cổng thông tin điện tử tỉnh {}"), ("mttq", "front", "Ủy ban MTTQ Việt Nam tỉnh {}"),
         ("dang", "party", "Báo điện tử Đảng bộ tỉnh {}"))
START = datetime(2015, 1, 1, tzinfo=UTC)
VN = timezone(timedelta(hours=7))
SPAN_DAYS = 11 * 365 + 300
COPY_SHARE = 0.08

# Folded and diacritised queries an archivist types; a few rare ones (names, exact phrases) too.
QUERIES = (
    "dan van", "dân vận", "da nang", "Đà Nẵng", "uy ban", "Ủy ban", "Uỷ ban nhân dân", "dan van kheo",
    "Dân vận khéo", "nong thon moi", "chuyển đổi số", "chuyen doi so", "vi nguoi ngheo", "hội nghị tổng kết",
    "cai cach hanh chinh", "bản án", "an ninh", "thanh hoa", "Quảng Nam", "ho chi minh", "mua lu",
    "phong chong dich", "đại đoàn kết", "tiep xuc cu tri", "hoa vang", "Lê Thị Bích Liên", "nguyen van minh",
    "Trần Thị Hoa", "giam ngheo ben vung", "mat tran to quoc",
)


def machine_info() -> dict[str, Any]:
    try:
        from bench import machine  # the shared description, when run within the bench package

        return machine()
    except ImportError:
        return {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(),
                "platform": platform.platform()}


# ------------------------------------------------------------------------------------------------- corpus


@dataclass
class Template:
    """A sentence cut at its numbers and place names, each text part with its folded form precomputed
    (fold(a + b) == fold(a) + fold(b) here, so a story's folded text costs nothing to make)."""

    parts: list[tuple[str, str, str]]  # (kind, text, folded): kind "text", "num" (digit count) or "place"


_SPLIT = re.compile(r"(\d+|" + "|".join(map(re.escape, SAMPLE_PLACES)) + ")")


def template(sentence: str) -> Template:
    parts = []
    for i, piece in enumerate(_SPLIT.split(sentence)):
        if not piece:
            continue
        if i % 2 == 0:
            parts.append(("text", piece, fold(piece)))
        elif piece.isdigit():
            parts.append(("num", str(len(piece)), ""))
        else:
            parts.append(("place", "", ""))
    return Template(parts)


def load_corpus() -> tuple[list[Template], list[Template], list[Template]]:
    titles, leads, sentences = [], [], []
    for path in sorted(CONTENT.glob("*.toml")):
        for article in tomllib.loads(path.read_text(encoding="utf-8")).get("article", []):
            titles.append(template(article["title"]))
            if article.get("lead"):
                leads.append(template(article["lead"]))
            for paragraph in article.get("paragraphs", []):
                for s in re.split(r"(?<=[.;!?])\s+(?=[A-ZĐÀ-Ỹ“])", paragraph):
                    if s.strip():
                        sentences.append(template(s.strip()))
    return titles, leads, sentences


def render(t: Template, rng: random.Random, place: tuple[str, str]) -> tuple[str, str]:
    text, folded = [], []
    for kind, value, value_fold in t.parts:
        if kind == "text":
            text.append(value)
            folded.append(value_fold)
        elif kind == "num":
            n = int(value)
            number = str(rng.randint(10 ** (n - 1) if n > 1 else 0, 10**n - 1))
            text.append(number)
            folded.append(number)
        else:
            text.append(place[0])
            folded.append(place[1])
    return "".join(text), "".join(folded)


def person(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def sites() -> list[dict[str, Any]]:
    out = []
    for province in PROVINCES:
        slug = re.sub(r"[^a-z0-9]+", "-", fold(province).lower()).strip("-")
        for short, kind, name in KINDS:
            out.append(
                {
                    "id": f"{slug}-{short}",
                    "name": name.format(province),
                    "province": province,
                    "kind": kind,
                    "family": "bench",
                    "start_urls": [f"https://{short}.{slug}.gov.vn/"],
                }
            )
    return out


def stories(n: int, seed: int = 1) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]], str, str]]:
    """(article row, page rows, title_fold, body_fold) for story ids 1..n."""
    rng = random.Random(seed)
    titles, leads, sentences = load_corpus()
    all_sites = sites()
    by_province: dict[str, list[dict[str, Any]]] = {}
    for s in all_sites:
        by_province.setdefault(s["province"], []).append(s)
    weights = [1.0 / (1 + i % 37) for i in range(len(all_sites))]  # some sites publish much more
    places = {p: (p, fold(p)) for p in PROVINCES}
    for story_id in range(1, n + 1):
        site = rng.choices(all_sites, weights)[0]
        place = places[site["province"]]
        title, title_fold = render(rng.choice(titles), rng, place)
        if rng.random() < 0.3:
            title, title_fold = f"{place[0]}: {title}", f"{place[1]}: {title_fold}"
        paragraphs = [render(rng.choice(leads), rng, place)]
        for _ in range(rng.randint(3, 7)):
            picked = [render(rng.choice(sentences), rng, place) for _ in range(rng.randint(2, 4))]
            paragraphs.append((" ".join(p[0] for p in picked), " ".join(p[1] for p in picked)))
        if rng.random() < 0.5:
            name = person(rng)
            role = rng.choice(ROLES)
            line = f"Dự hội nghị có đồng chí {name}, {role} {place[0]}."
            paragraphs.insert(1, (line, fold(line)))
        body = "\n\n".join(p[0] for p in paragraphs)
        body_fold = "\n\n".join(p[1] for p in paragraphs)
        published_at = START + timedelta(days=rng.random() * SPAN_DAYS)
        published = published_at.astimezone(VN).replace(microsecond=0, second=0).isoformat()
        fetched = (published_at + timedelta(days=rng.random() * 30)).replace(microsecond=0).isoformat()
        slug = re.sub(r"[^a-z0-9]+", "-", title_fold.lower()).strip("-")[:80]
        host = site["start_urls"][0].split("/")[2]
        url = f"https://{host}/tin-tuc/{slug}-{story_id}.html"
        article = {
            "id": story_id, "site_id": site["id"], "url": url, "title": title, "body": body,
            "lead": paragraphs[0][0], "author": person(rng).upper(), "published": published,
            "published_raw": published_at.strftime("%d/%m/%Y %H:%M"), "published_source": "visible",
            "published_year": published_at.year, "province": site["province"], "kind": site["kind"],
            "images": "[]", "attachments": "[]", "family": "bench", "method": "profile:bench",
            "body_hash": f"{story_id:016x}", "first_seen": fetched, "last_seen": fetched, "version_count": 1,
            "page_count": 1,
        }
        pages = [{**article, "seq": story_id}]
        if rng.random() < COPY_SHARE:
            other = rng.choice([s for s in by_province[site["province"]] if s["id"] != site["id"]])
            other_host = other["start_urls"][0].split("/")[2]
            pages.append({**article, "site_id": other["id"], "url": f"https://{other_host}/news/{slug}-{story_id}.html"})
            article["page_count"] = 2
        yield article, pages, title_fold, body_fold


ARTICLE_COLS = (
    "id", "site_id", "url", "title", "body", "lead", "author", "published", "published_raw", "published_source",
    "published_year", "province", "kind", "images", "attachments", "family", "method", "body_hash", "first_seen",
    "last_seen", "version_count", "page_count",
)
PAGE_COLS = (
    "url", "fetched_url", "raw_url", "site_id", "article_id", "seq", "crawl_id", "fetched_at", "first_fetched",
    "status", "gone", "content_hash", "title", "body", "lead", "author", "published", "published_raw",
    "published_source", "images", "attachments", "family", "method", "version", "last_changed",
)


def build_archive(path: Path, n: int, seed: int = 1, log: Any = print) -> dict[str, Any]:
    """Generate an archive of ``n`` stories at ``path`` (reused when it already holds ``n`` stories)."""
    from archive.store import Archive

    if path.exists():
        conn = sqlite3.connect(path)
        try:
            have = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            fts = conn.execute("SELECT value FROM meta WHERE key = 'bench_complete'").fetchone()
        except sqlite3.DatabaseError:
            have, fts = -1, None
        conn.close()
        if have == n and fts:
            log(f"reusing {path} ({n:,} stories)")
            return {"stories": n, "built_seconds": None, "bytes": path.stat().st_size}
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with Archive(path) as arc:
        arc.upsert_sites(sites())
        crawl = arc.start_crawl([s["id"] for s in sites()], {"bench": True})
        arc.finish_crawl(crawl, {"bench": n})
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # a generated file: no crash safety needed while building
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('articles', 'pages')"
    ).fetchall()
    for name, _ in indexes:  # one sort per index at the end beats n random index inserts
        conn.execute(f'DROP INDEX "{name}"')
    a_sql = f"INSERT INTO articles ({', '.join(ARTICLE_COLS)}) VALUES ({', '.join('?' * len(ARTICLE_COLS))})"
    p_sql = f"INSERT INTO pages ({', '.join(PAGE_COLS)}) VALUES ({', '.join('?' * len(PAGE_COLS))})"
    f_sql = "INSERT INTO articles_fts (rowid, title, body, title_fold, body_fold) VALUES (?, ?, ?, ?, ?)"
    seq = 0
    batch_a, batch_p, batch_f = [], [], []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(a_sql, batch_a)
        conn.executemany(p_sql, batch_p)
        conn.executemany(f_sql, batch_f)
        conn.execute("COMMIT")
        batch_a.clear(), batch_p.clear(), batch_f.clear()

    for article, pages, title_fold, body_fold in stories(n, seed):
        batch_a.append([article[c] for c in ARTICLE_COLS])
        for page in pages:
            seq += 1
            row = {**page, "fetched_url": page["url"], "raw_url": page["url"], "article_id": article["id"],
                   "seq": seq, "crawl_id": 1, "fetched_at": article["last_seen"],
                   "first_fetched": article["first_seen"], "status": 200, "gone": 0,
                   "content_hash": article["body_hash"], "version": 1, "last_changed": article["first_seen"]}
            batch_p.append([row[c] for c in PAGE_COLS])
        batch_f.append((article["id"], article["title"], article["body"], title_fold, body_fold))
        if len(batch_a) >= 5000:
            flush()
            if article["id"] % 100000 == 0:
                log(f"  {article['id']:,} stories, {time.monotonic() - started:,.0f} s")
    if batch_a:
        flush()
    log(f"  rows in, {time.monotonic() - started:,.0f} s; indexes and search index")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("INSERT INTO articles_exact (articles_exact) VALUES ('rebuild')")
    # one b-tree per FTS table, as a long-lived archive's automerge tends to; see the note in the output
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO articles_exact (articles_exact) VALUES ('optimize')")
    conn.execute("INSERT INTO meta (key, value) VALUES ('bench_complete', ?)", (str(n),))
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    seconds = time.monotonic() - started
    log(f"  built in {seconds:,.0f} s, {path.stat().st_size / 1e9:,.2f} GB")
    return {"stories": n, "built_seconds": round(seconds, 1), "bytes": path.stat().st_size}


# ------------------------------------------------------------------------------------------------ serving


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m archive serve`` in a subprocess, for as long as the ``with`` block runs."""

    def __init__(self, db: Path) -> None:
        self.db, self.port = db, free_port()
        self.base = f"http://127.0.0.1:{self.port}/{db.stem}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "archive", "serve", "--db", str(self.db), "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/versions.json", timeout=2).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("datasette did not start: " + self.proc.stderr.read().decode()[-2000:]) from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def get(self, path: str, **params: str) -> tuple[float, Any]:
        url = self.base + path + "?" + urllib.parse.urlencode(params)
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as resp:
            body = resp.read()
        elapsed = (time.perf_counter() - start) * 1000
        return elapsed, json.loads(body) if path.endswith(".json") or not path else body


CANNED = {"q": "{q}", "site": "", "province": "", "since": "", "until": "", "_shape": "objects"}
MODES: dict[str, tuple[str, dict[str, str]]] = {
    "canned": ("/search.json", CANNED),
    "canned-site": ("/search.json", {**CANNED, "site": "{site}"}),
    "canned-province": ("/search.json", {**CANNED, "province": "{province}"}),
    "canned-since": ("/search.json", {**CANNED, "since": "{year}"}),
    "canned-range": ("/search.json", {**CANNED, "since": "{first_year}-01", "until": "{first_year}-06"}),
    "table-lean": ("/articles.json", {"_search": "{q}", "_nocount": "1", "_nofacet": "1", "_size": "20"}),
    "table": ("/articles.json", {"_search": "{q}"}),
    "table-site": ("/articles.json", {"_search": "{q}", "site_id": "{site}"}),
    "table-html": ("/articles", {"_search": "{q}"}),
    # python -m archive search, less Python's start-up: archive.search.search in this process
    "cli": ("", {}),
    "cli-province": ("", {"province": "{province}"}),
}


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 0.5), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
        "n": len(values),
    }


def hit_counts(db: Path, queries: tuple[str, ...]) -> dict[str, int]:
    """Stories each query matches (all its words, diacritics folded): how broad it is."""
    from archive.search import fts_query

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    out = {}
    for q in queries:
        match = fts_query(q)
        out[q] = conn.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", (match,)).fetchone()[0]
    conn.close()
    return out


def measure(db: Path, queries: tuple[str, ...], rounds: dict[str, int], log: Any = print) -> dict[str, Any]:
    """p50/p95 per mode over every query x rounds (after one warm-up request per query)."""
    from archive.search import search

    conn = sqlite3.connect(db)
    n = conn.execute("SELECT max(id) FROM articles").fetchone()[0]
    busiest = conn.execute("SELECT site_id FROM articles GROUP BY site_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    province = conn.execute("SELECT province FROM sites WHERE id = ?", (busiest,)).fetchone()[0]
    year = conn.execute("SELECT substr(max(published), 1, 4) FROM articles").fetchone()[0]
    first_year = str(int(conn.execute("SELECT substr(min(published), 1, 4) FROM articles").fetchone()[0]) + 5)
    conn.close()
    rng = random.Random(7)
    hits = hit_counts(db, queries)
    values = {"site": busiest, "province": province, "year": year, "first_year": first_year}
    out: dict[str, Any] = {"modes": {}, "queries": {q: {"hits": hits[q]} for q in queries}, "site": busiest,
                           "province": province, "since": year, "range": f"{first_year}-01..{first_year}-06"}
    with Server(db) as server:
        # baseline: the same server, a primary-key lookup through the SQL JSON API
        base = []
        for i in range(max(rounds.values()) * len(queries) + 10):
            sql = "select id, title from articles where rowid = :id"
            ms, _ = server.get(".json", sql=sql, id=str(rng.randint(1, n)), _shape="array")
            if i >= 10:
                base.append(ms)
        out["modes"]["baseline"] = summary(base)
        for mode, count in rounds.items():
            path, params = MODES[mode]
            times: list[float] = []
            for q in queries:
                filled = {k: v.format(q=q, **values) for k, v in params.items()}
                if mode.startswith("cli"):
                    def call(q: str = q, filled: dict[str, str] = filled) -> tuple[float, Any]:
                        start = time.perf_counter()
                        search(db, q, **filled)
                        return (time.perf_counter() - start) * 1000, None
                else:
                    def call(path: str = path, filled: dict[str, str] = filled) -> tuple[float, Any]:
                        return server.get(path, **filled)
                call()  # warm-up: first touch of this query's pages
                per = [call()[0] for _ in range(count)]
                times.extend(per)
                out["queries"][q][mode] = summary(per)
            out["modes"][mode] = {**summary(times), "load": os.getloadavg()[0]}
            log(f"  {mode}: p50 {out['modes'][mode]['p50']} ms, p95 {out['modes'][mode]['p95']} ms "
                f"(load {os.getloadavg()[0]:.2f})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stories", type=int, default=20000)
    ap.add_argument("--quick", action="store_true", help="5,000 stories, 2 rounds")
    ap.add_argument("--db", type=Path, help="archive to build or reuse (default bench/results/bench-<N>.db)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--modes", default="canned,canned-site,canned-province,canned-since,canned-range,table-lean,"
                    "table,table-site,table-html,cli,cli-province")
    ap.add_argument("--table-rounds", type=int, default=3, help="rounds for the table modes")
    ap.add_argument("--out", type=Path, default=RESULTS / "search.json")
    ap.add_argument("--build-only", action="store_true", help="generate the archive and stop")
    args = ap.parse_args(argv)
    if args.quick:
        args.stories, args.rounds, args.table_rounds = 5000, 2, 1
    db = args.db or RESULTS / f"bench-{args.stories}.db"
    print(f"archive: {db}", flush=True)
    built = build_archive(db, args.stories, log=lambda m: print(m, flush=True))
    if args.build_only:
        return 0
    modes = args.modes.split(",")
    unknown = set(modes) - set(MODES)
    if unknown:
        ap.error(f"unknown modes: {', '.join(sorted(unknown))} (known: {', '.join(MODES)})")
    rounds = {m: args.table_rounds if m.startswith("table") else args.rounds for m in modes}
    result = measure(db, QUERIES, rounds, log=lambda m: print(m, flush=True))
    base = result["modes"]["baseline"]
    print(f"\nsearch latency through Datasette's JSON API, {args.stories:,} stories, {len(QUERIES)} queries "
          f"(rounds: {rounds}, after a warm-up request each); filters: site {result['site']}, province "
          f"{result['province']}, since {result['since']}, range {result['range']}; load average at the end "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'mode':<12} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p50/base':>9} {'p95/base':>9}")
    for mode, s in result["modes"].items():
        print(f"{mode:<12} {s['p50']:>8.1f} {s['p95']:>8.1f} {s['max']:>8.1f} {s['p50'] / base['p50']:>9.1f} "
              f"{s['p95'] / base['p95']:>9.1f}")
    print("\nper query: stories matched, p50 ms per mode")
    print(f"{'query':<26} {'hits':>9} " + " ".join(f"{m:>11}" for m in modes))
    for q, v in result["queries"].items():
        cells = " ".join(f"{v.get(m, {}).get('p50', float('nan')):>11.1f}" for m in modes)
        print(f"{q:<26} {v['hits']:>9,} {cells}")
    record = {
        "benchmark": "search",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_info(),
        # the headline for python -m bench: ranked search p95 over a primary-key lookup, same server
        "ratio": round(result["modes"]["canned"]["p95"] / base["p95"], 1) if "canned" in result["modes"] else None,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "archive": {**built, "path": str(db)},
        "rounds": rounds,
        **result,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
