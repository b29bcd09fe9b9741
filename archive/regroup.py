"""Rebuild the story grouping from scratch (``python -m archive dedup``).

Pages are replayed in arrival order (``pages.seq``) through the same matching as ``Archive.add_page``
(exact key, then LSH candidates verified on the canonical text), with signatures recomputed from the
pages' stored text and the current ``dedup.toml``. The LSH tables of the replay live in an in-memory
SQLite database; only the page metadata of the groups is held in Python.

The new grouping is compared with the stored one: with unchanged parameters and no text changed since
(versions), both must agree, which checks the incremental path. Unless ``check_only``, the new grouping
and signatures are then written, keeping article ids where a group keeps its first page.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from .dedup import (
    DEDUP_DDL,
    DedupConfig,
    NearIndex,
    StoryText,
    choose_canonical,
    find_near,
    fingerprint,
    load_config,
)
from .normalize import fold
from .store import Archive


@dataclass
class RegroupReport:
    pages: int = 0
    groups_before: int = 0
    groups_after: int = 0
    agrees: bool = True
    moved_pages: list[str] = field(default_factory=list)  # pages whose group changed
    canonical_changes: list[int] = field(default_factory=list)  # article ids whose canonical copy changed
    written: bool = False

    def summary(self) -> str:
        verdict = "agrees with" if self.agrees else "DIFFERS from"
        lines = [
            f"{self.pages} article pages: {self.groups_before} stories before, {self.groups_after} after; "
            f"rebuilt grouping {verdict} the incremental one",
        ]
        if self.moved_pages:
            lines.append(f"{len(self.moved_pages)} pages change story, e.g. {', '.join(self.moved_pages[:5])}")
        if self.canonical_changes:
            lines.append(f"{len(self.canonical_changes)} stories get another canonical copy")
        lines.append("written" if self.written else "nothing written")
        return "\n".join(lines)


def regroup(archive: Archive, config: DedupConfig | None = None, check_only: bool = False) -> RegroupReport:
    cfg = config or load_config()
    conn = archive.conn
    mem = sqlite3.connect(":memory:")
    for ddl in DEDUP_DDL:
        mem.execute(ddl)
    index = NearIndex(mem, cfg)

    rows = conn.execute(
        "SELECT url, site_id, article_id, seq, title, published, source, content_hash FROM pages "
        "WHERE article_id IS NOT NULL ORDER BY seq"
    ).fetchall()
    groups: dict[int, list[dict]] = {}
    canonical: dict[int, str] = {}  # group -> canonical page url
    exact: dict[str, list[tuple[int, str]]] = {}  # exact key -> [(group, folded title)]

    def body_of(url: str) -> tuple[str, str, str]:
        r = conn.execute("SELECT title, body, published FROM pages WHERE url = ?", (url,)).fetchone()
        return r[0], r[1], r[2]

    def load(gid: int) -> StoryText:
        return StoryText(*body_of(canonical[gid]))

    for row in rows:
        page = dict(row)
        title, body, _ = body_of(page["url"])
        fp = fingerprint(body, cfg)
        folded_title = fold(title or "").lower()
        gid = None
        for candidate, other_title in exact.get(fp.exact_key, []):
            if fp.tokens >= cfg.min_exact_tokens or other_title == folded_title:
                gid = candidate
                break
        if gid is None and fp.near_ok:
            found = find_near(index, fp, cfg, load, title=title, published=page["published"])
            gid = found[0] if found else None
        if gid is None:
            gid = len(groups) + 1
            groups[gid] = [page]
            canonical[gid] = page["url"]
            index.add(gid, fp)
        else:
            groups[gid].append(page)
            chosen = choose_canonical(groups[gid], archive.matcher)["url"]
            if chosen != canonical[gid]:
                canonical[gid] = chosen
                index.add(gid, fingerprint(body_of(chosen)[1], cfg))
        exact.setdefault(fp.exact_key, []).append((gid, folded_title))

    report = RegroupReport(pages=len(rows))
    old_groups: dict[int, set[str]] = {}
    for row in rows:
        old_groups.setdefault(row["article_id"], set()).add(row["url"])
    old_partition = {frozenset(s) for s in old_groups.values()}
    new_partition = {frozenset(p["url"] for p in members) for members in groups.values()}
    report.groups_before, report.groups_after = len(old_partition), len(new_partition)
    report.agrees = old_partition == new_partition

    # article id of each new group: the id of its first page, unless an earlier group took it
    taken: set[int] = set()
    next_id = (conn.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0] or 0) + 1
    assigned: dict[int, int] = {}
    for gid, members in groups.items():
        wanted = members[0]["article_id"]
        if wanted in taken:
            wanted, next_id = next_id, next_id + 1
        taken.add(wanted)
        assigned[gid] = wanted
        for p in members:
            if p["article_id"] != wanted:
                report.moved_pages.append(p["url"])
    stored_canonical = dict(conn.execute("SELECT id, url FROM articles").fetchall())
    report.canonical_changes = [
        assigned[g] for g in groups if stored_canonical.get(assigned[g]) != canonical[g]
    ]
    if check_only:
        return report

    with archive.transaction():
        archive.set_dedup_config(cfg)
        conn.execute("DELETE FROM dedup_bands")
        conn.execute("DELETE FROM dedup_signatures")
        for gid, sig, tokens, key in mem.execute(
            "SELECT article_id, signature, tokens, exact_key FROM dedup_signatures"
        ):
            conn.execute(
                "INSERT INTO dedup_signatures (article_id, signature, tokens, exact_key) VALUES (?, ?, ?, ?)",
                (assigned[gid], sig, tokens, key),
            )
        conn.executemany(
            "INSERT OR IGNORE INTO dedup_bands (band, key, article_id) VALUES (?, ?, ?)",
            (
                (band, key, assigned[gid])
                for band, key, gid in mem.execute("SELECT band, key, article_id FROM dedup_bands")
            ),
        )
        changed = set(report.canonical_changes)
        for gid, members in groups.items():
            aid = assigned[gid]
            moved = [p["url"] for p in members if p["article_id"] != aid]
            for url in moved:
                conn.execute("UPDATE pages SET article_id = ? WHERE url = ?", (aid, url))
                conn.execute("UPDATE versions SET article_id = ? WHERE page_url = ?", (aid, url))
            if moved or aid in changed:
                archive.rewrite_article(aid, canonical[gid], members)
        for (orphan,) in conn.execute(
            "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM pages WHERE article_id IS NOT NULL)"
        ).fetchall():
            archive.delete_article(orphan)
    report.written = True
    return report
