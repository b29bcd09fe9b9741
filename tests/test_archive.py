import json
import sqlite3
import zlib
from pathlib import Path

import pytest

from archive import Archive, search
from archive.dedup import canonical_url, load_config
from archive.regroup import regroup
from archive.schema import SCHEMA_VERSION

try:
    from test_archive_corpus import (
        SITES,
        STORY_A,
        STORY_A_EXACT,
        STORY_A_NEAR,
        STORY_B,
        TITLE_A,
        TITLE_A_NEAR,
        TITLE_B,
        record,
        url_for,
    )
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import (
        SITES,
        STORY_A,
        STORY_A_EXACT,
        STORY_A_NEAR,
        STORY_B,
        TITLE_A,
        TITLE_A_NEAR,
        TITLE_B,
        record,
        url_for,
    )

TABLES = ("sites", "articles", "pages", "crawls", "versions", "raw_pages", "dedup_signatures", "dedup_bands")


@pytest.fixture
def archive(tmp_path: Path):
    arc = Archive(tmp_path / "archive.db")
    arc.upsert_sites(SITES)
    yield arc
    arc.close()


def counts(arc: Archive) -> dict[str, int]:
    out = {t: arc.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    out["fts"] = arc.conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
    return out


def fts_ok(arc: Archive) -> None:
    for table in ("articles_fts", "articles_exact"):
        arc.conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")


def test_schema_created_in_wal_with_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with Archive(path) as arc:
        names = {r[0] for r in arc.conn.execute("SELECT name FROM sqlite_master")}
        assert set(TABLES) | {"articles_fts", "articles_exact", "meta"} <= names
        assert arc.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert arc.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        cols = {r[1] for r in arc.conn.execute("PRAGMA table_info(articles)")}
        assert {"id", "site_id", "url", "title", "body", "published", "author", "source", "body_hash",
                "first_seen", "last_seen", "version_count", "images", "attachments"} <= cols
        cols = {r[1] for r in arc.conn.execute("PRAGMA table_info(pages)")}
        assert {"url", "site_id", "article_id", "fetched_at", "status", "canonical_url", "content_hash",
                "reason", "title", "published", "last_changed", "gone"} <= cols
        stored = json.loads(arc.conn.execute("SELECT value FROM meta WHERE key='dedup_config'").fetchone()[0])
        assert stored["num_perm"] == arc.config.num_perm
    with Archive(path) as again:  # reopening migrates nothing and keeps the data
        assert again.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_migration_from_version_1_adds_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with Archive(path) as arc:
        arc.upsert_sites(SITES)
        arc.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
        # what a version-1 file looks like
        arc.conn.execute("DROP INDEX idx_pages_raw_url")
        arc.conn.execute("ALTER TABLE pages DROP COLUMN raw_url")
        arc.conn.execute("PRAGMA user_version = 1")
    with Archive(path) as arc:
        assert arc.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert "raw_url" in {r[1] for r in arc.conn.execute("PRAGMA table_info(pages)")}
        assert arc.add_page(record("qn-mttq", "a", TITLE_A, STORY_A)).outcome == "unchanged"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}").connection.commit()
    with pytest.raises(RuntimeError, match="newer"):
        Archive(path)


def test_sites_upserted_with_domains_and_aliases(archive: Archive) -> None:
    site = archive.sites["qn-gov"]
    assert site["domains"] == ["quangnam.gov.vn"]
    assert site["aliases"] == ["Cổng TTĐT Quảng Nam"]
    archive.upsert_sites([{**SITES[0], "province": "Quảng Nam (mới)", "allowed_domains": ["www.qnam.vn"]}])
    assert archive.sites["qn-gov"]["province"] == "Quảng Nam (mới)"
    assert archive.sites["qn-gov"]["domains"] == ["qnam.vn", "quangnam.gov.vn"]
    assert len(archive.sites) == len(SITES)


def test_outcomes_new_copy_near_distinct_unchanged(archive: Archive) -> None:
    first = archive.add_page(record("qn-mttq", "tong-ket-2023", TITLE_A, STORY_A))
    assert first.outcome == "new" and first.article_id
    exact = archive.add_page(record("qn-gov", "mttq-tong-ket", TITLE_A, STORY_A_EXACT, "2023-12-29"))
    assert (exact.outcome, exact.article_id, exact.match) == ("copy", first.article_id, "exact")
    near = archive.add_page(record("qn-bao", "mat-tran-46-ty", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-29"))
    assert (near.outcome, near.article_id, near.match) == ("copy", first.article_id, "near")
    other = archive.add_page(record("bd-mttq", "tong-ket-2023", TITLE_B, STORY_B, "2023-12-27"))
    assert other.outcome == "new" and other.article_id != first.article_id
    again = archive.add_page(record("qn-mttq", "tong-ket-2023", TITLE_A, STORY_A))
    assert (again.outcome, again.article_id) == ("unchanged", first.article_id)

    story = archive.article(first.article_id)
    assert story["page_count"] == 3 and story["site_id"] == "qn-mttq"
    assert story["province"] == "Quảng Nam" and story["kind"] == "front" and story["published_year"] == 2023
    copies = archive.pages_of(first.article_id)
    assert [p["site_id"] for p in copies] == ["qn-mttq", "qn-gov", "qn-bao"]
    assert archive.stats() == {"sites": len(SITES), "pages": 4, "stories": 2, "copies": 2, "versions": 0,
                               "rejected": 0, "gone": 0, "crawls": 0}


def test_same_crawl_twice_adds_nothing(archive: Archive) -> None:
    records = [
        record("qn-mttq", "a", TITLE_A, STORY_A),
        record("qn-gov", "b", TITLE_A, STORY_A_EXACT),
        record("bd-mttq", "c", TITLE_B, STORY_B),
        record("qn-gov", "khong-co", "", "", status=404),
        record("qn-gov", "dang-nhap", "Đăng nhập", "", ok=False, reason="login-page"),
    ]
    archive.start_crawl(["qn-mttq", "qn-gov", "bd-mttq"], {})
    first = [archive.add_page(r).outcome for r in records]
    before = counts(archive)
    second = [archive.add_page({**r, "fetched_at": "2024-02-01T00:00:00+00:00"}).outcome for r in records]
    assert first == ["new", "copy", "new", "rejected", "rejected"]
    assert second == ["unchanged", "unchanged", "unchanged", "rejected", "rejected"]
    assert counts(archive) == before
    assert archive.page(records[0]["url"])["fetched_at"] == "2024-02-01T00:00:00+00:00"


def test_version_on_changed_text_keeps_every_text(archive: Archive) -> None:
    rec = record("qn-mttq", "a", TITLE_A, STORY_A)
    aid = archive.add_page(rec).article_id
    edited = STORY_A.replace("46 tỷ đồng", "46,5 tỷ đồng")
    result = archive.add_page({**rec, "body": edited, "fetched_at": "2024-01-05T00:00:00+00:00"})
    assert (result.outcome, result.article_id) == ("version", aid)
    retitled = archive.add_page({**rec, "body": edited, "title": TITLE_A + " (cập nhật)"})
    assert retitled.outcome == "version"
    versions = archive.versions(aid)
    assert [v["version"] for v in versions] == [1, 2, 3]
    assert versions[0]["body"] == STORY_A and "46,5 tỷ" in versions[1]["body"]
    assert versions[2]["title"].endswith("(cập nhật)")
    story = archive.article(aid)
    assert "46,5 tỷ" in story["body"] and story["version_count"] == 3
    assert archive.add_page({**rec, "body": edited, "title": TITLE_A + " (cập nhật)"}).outcome == "unchanged"
    assert [r["id"] for r in search(archive, "46,5 cap nhat")] == [aid]
    fts_ok(archive)


def test_rejected_pages_keep_status_and_reason(archive: Archive) -> None:
    r1 = archive.add_page(record("qn-gov", "login", "Đăng nhập", "x", ok=False, reason="login-page"))
    r2 = archive.add_page(record("qn-gov", "err", "", "", status=500))
    r3 = archive.add_page(record("qn-gov", "empty", "Tiêu đề", "   \u200b "))
    assert [r.outcome for r in (r1, r2, r3)] == ["rejected"] * 3
    assert all(r.article_id is None for r in (r1, r2, r3))
    rows = {r["url"]: (r["status"], r["reason"], r["article_id"]) for r in archive.conn.execute("SELECT * FROM pages")}
    assert rows[url_for("qn-gov", "login")] == (200, "login-page", None)
    assert rows[url_for("qn-gov", "err")] == (500, "http-500", None)
    assert rows[url_for("qn-gov", "empty")] == (200, "no-body", None)
    assert counts(archive)["articles"] == 0
    # a page rejected before (a challenge page) that is an article now becomes one
    ok = archive.add_page(record("qn-gov", "login", TITLE_A, STORY_A))
    assert ok.outcome == "new" and archive.page(url_for("qn-gov", "login"))["reason"] is None


def test_short_identical_bodies_need_the_same_title(archive: Archive) -> None:
    body = "Nội dung đang được cập nhật."
    first = archive.add_page(record("qn-gov", "album-1", "Hình ảnh hội nghị tổng kết", body))
    other = archive.add_page(record("qn-gov", "album-2", "Hình ảnh lễ ra quân", body))
    same = archive.add_page(record("qn-bao", "album-1", "Hình ảnh hội nghị tổng kết", body))
    assert (first.outcome, other.outcome, same.outcome) == ("new", "new", "copy")
    assert same.article_id == first.article_id != other.article_id


def test_404_for_archived_url_marks_page_gone_and_keeps_story(archive: Archive) -> None:
    rec = record("qn-mttq", "a", TITLE_A, STORY_A)
    aid = archive.add_page(rec).article_id
    gone = archive.add_page({**rec, "status": 404, "title": "", "body": "", "raw": b"Not found"})
    assert (gone.outcome, gone.article_id) == ("rejected", aid)
    page = archive.page(rec["url"])
    assert page["status"] == 404 and page["gone"] == 1 and page["body"] == STORY_A
    assert archive.article(aid)["body"] == STORY_A
    err = archive.add_page({**rec, "status": 503, "body": ""})
    assert err.outcome == "rejected" and archive.page(rec["url"])["error"].startswith("503")
    assert archive.add_page(rec).outcome == "unchanged"
    assert archive.page(rec["url"])["gone"] == 0


def test_raw_page_kept_compressed(archive: Archive) -> None:
    rec = record("qn-mttq", "a", TITLE_A, STORY_A)
    archive.add_page(rec)
    row = archive.conn.execute("SELECT * FROM raw_pages").fetchone()
    assert row["compression"] == "zlib" and zlib.decompress(row["body"]) == rec["raw"]
    assert row["size"] == len(rec["raw"]) and json.loads(row["headers"]) == rec["headers"]
    assert row["url"] == rec["url"] and row["status"] == 200


def test_one_transaction_per_page(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    before = counts(archive)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Archive, "_index_text", boom)  # fails after the article row was written
    with pytest.raises(RuntimeError):
        archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
    assert counts(archive) == before
    monkeypatch.undo()

    aid = archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A)).article_id
    before = counts(archive)
    monkeypatch.setattr(Archive, "_store_raw", boom)  # the very last step of a copy
    with pytest.raises(RuntimeError):
        archive.add_page(record("qn-bao", "b", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-20"))
    assert counts(archive) == before
    assert archive.article(aid)["site_id"] == "qn-mttq"  # the canonical switch was rolled back too
    monkeypatch.undo()
    assert archive.add_page(record("qn-bao", "b", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-20")).outcome == "copy"


def test_canonical_is_earliest_published_and_row_follows(archive: Archive) -> None:
    aid = archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A, "2023-12-28")).article_id
    archive.add_page(record("qn-bao", "b", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-27T21:00:00+07:00"))
    story = archive.article(aid)
    assert (story["site_id"], story["url"], story["title"]) == ("qn-bao", url_for("qn-bao", "b"), TITLE_A_NEAR)
    assert story["body"] == STORY_A_NEAR.strip() and story["kind"] == "party"
    assert [r["id"] for r in search(archive, "mat tran van dong nguoi ngheo 46 ty")] == [aid]
    assert archive.article(aid)["page_count"] == 2
    assert len(archive.pages_of(aid)) == 2  # every sighting kept
    fts_ok(archive)


def test_named_source_site_wins_over_earlier_copy(archive: Archive) -> None:
    aid = archive.add_page(
        record("qn-mttq", "a", TITLE_A, STORY_A_EXACT, "2023-12-28", source="Theo quangnam.gov.vn")
    ).article_id
    assert archive.article(aid)["site_id"] == "qn-mttq"  # the named site has no copy yet
    archive.add_page(record("qn-gov", "b", TITLE_A, STORY_A, "2023-12-29"))
    story = archive.article(aid)
    assert (story["site_id"], story["url"]) == ("qn-gov", url_for("qn-gov", "b"))
    fts_ok(archive)


def test_rel_canonical_within_site_is_one_page(archive: Archive) -> None:
    canonical = url_for("qn-gov", "tong-ket")
    r1 = archive.add_page(record("qn-gov", "x", TITLE_A, STORY_A, url="https://quangnam.gov.vn/Default.aspx?ItemID=7",
                                 canonical_url=canonical))
    r2 = archive.add_page(record("qn-gov", "x", TITLE_A, STORY_A, url="https://quangnam.gov.vn/print.aspx?ItemID=7",
                                 canonical_url=canonical))
    assert (r1.outcome, r2.outcome) == ("new", "unchanged")
    assert archive.has_url(canonical)
    assert archive.has_url("https://quangnam.gov.vn/Default.aspx?ItemID=7&utm_source=zalo")


def test_known_urls_and_has_url_for_incremental_crawls(archive: Archive) -> None:
    archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
    archive.add_page(record("qn-mttq", "login", "x", "", reason="login-page"))
    assert archive.known_urls("qn-mttq") == {url_for("qn-mttq", "a")}
    assert archive.known_urls("qn-mttq", include_rejected=True) == {url_for("qn-mttq", s) for s in ("a", "login")}
    tracked = url_for("qn-mttq", "b") + "?utm_source=zalo&id=2#top"
    archive.add_page(record("qn-mttq", "b", TITLE_B, STORY_B, url=tracked))
    assert {tracked, url_for("qn-mttq", "b") + "?id=2"} <= archive.known_urls("qn-mttq")  # as given, canonical
    assert archive.has_url(url_for("qn-mttq", "a") + "?fbclid=XYZ#comments")
    assert not archive.has_url(url_for("qn-mttq", "login"))
    assert archive.has_url(url_for("qn-mttq", "login"), include_rejected=True)
    assert canonical_url(url_for("qn-mttq", "a") + "?utm_source=x") in archive.known_urls("qn-mttq")


def test_crawls_recorded_with_figures(archive: Archive) -> None:
    crawl_id = archive.start_crawl(["qn-mttq"], {"max_pages": 10})
    archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
    archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
    archive.finish_crawl(crawl_id, {"requests": 3}, "finished")
    row = archive.conn.execute("SELECT * FROM crawls WHERE id = ?", (crawl_id,)).fetchone()
    assert row["status"] == "finished" and row["finished_at"] and json.loads(row["sites"]) == ["qn-mttq"]
    figures = json.loads(row["figures"])
    assert figures == {"outcomes": {"new": 1, "unchanged": 1}, "requests": 3}
    assert archive.page(url_for("qn-mttq", "a"))["crawl_id"] == crawl_id


def test_dedup_rebuild_agrees_with_incremental(archive: Archive) -> None:
    archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A, "2023-12-28"))
    archive.add_page(record("bd-mttq", "b", TITLE_B, STORY_B, "2023-12-27"))
    archive.add_page(record("qn-gov", "c", TITLE_A, STORY_A_EXACT, "2023-12-29"))
    archive.add_page(record("qn-bao", "d", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-27"))
    archive.add_page(record("qn-gov", "e", "Đăng nhập", "", reason="login-page"))
    before = counts(archive)
    report = regroup(archive, check_only=True)
    assert report.agrees and report.groups_before == report.groups_after == 2 and not report.moved_pages
    assert not report.canonical_changes and not report.written
    report = regroup(archive)
    assert report.agrees and report.written
    assert counts(archive) == before
    fts_ok(archive)


def test_dedup_rebuild_with_other_parameters_regroups(archive: Archive, tmp_path: Path) -> None:
    a = archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A, "2023-12-28")).article_id
    archive.add_page(record("qn-bao", "d", TITLE_A_NEAR, STORY_A_NEAR, "2023-12-27"))
    assert archive.article(a)["site_id"] == "qn-bao"
    strict = tmp_path / "strict.toml"
    strict.write_text("[match]\nmin_containment = 0.99\nlow_containment = 0.99\n")
    report = regroup(archive, load_config(strict))
    assert not report.agrees and report.groups_after == 2 and report.moved_pages == [url_for("qn-bao", "d")]
    assert archive.article(a)["site_id"] == "qn-mttq" and archive.article(a)["body"] == STORY_A.strip()
    split = archive.page(url_for("qn-bao", "d"))["article_id"]
    assert split != a and archive.article(split)["title"] == TITLE_A_NEAR
    assert archive.config.min_containment == 0.99  # the rebuilt signatures' parameters are now the archive's
    assert sorted(r["id"] for r in search(archive, "Quảng Nam tổng kết")) == sorted([a, split])
    fts_ok(archive)
    with sqlite3.connect(archive.path) as conn:
        assert conn.execute("SELECT count(DISTINCT article_id) FROM dedup_signatures").fetchone()[0] == 2


def test_version_history_lists_each_page_with_what_changed(archive: Archive) -> None:
    rec = record("qn-mttq", "a", TITLE_A, STORY_A)
    aid = archive.add_page(rec).article_id
    archive.add_page(record("qn-gov", "c", TITLE_A, STORY_A_EXACT))  # a copy that never changes
    edited = STORY_A.replace("46 tỷ đồng", "46,5 tỷ đồng")
    archive.add_page({**rec, "body": edited, "fetched_at": "2024-01-05T00:00:00+00:00"})
    archive.add_page({**rec, "body": edited + "\n\nĐoạn bổ sung sau khi đăng.", "title": TITLE_A + " (cập nhật)",
                      "fetched_at": "2024-01-06T00:00:00+00:00"})
    history = {page["url"]: page for page in archive.version_history(aid)}
    changed = history[url_for("qn-mttq", "a")]["versions"]
    assert [v["version"] for v in changed] == [1, 2, 3]
    assert changed[0]["change"] is None and changed[0]["body"] == STORY_A
    assert changed[1]["change"]["summary"] == "1 paragraph changed, +1 -1 words"
    assert changed[2]["change"]["title_changed"] and changed[2]["change"]["paragraphs_added"] == 1
    assert changed[2]["fetched_at"] == "2024-01-06T00:00:00+00:00"
    copy = history[url_for("qn-gov", "c")]["versions"]
    assert len(copy) == 1 and copy[0]["change"] is None and copy[0]["body_hash"]
    assert archive.version_history(999) == []


def test_versions_command_prints_and_dumps_json(archive: Archive, capsys: pytest.CaptureFixture[str]) -> None:
    from archive.__main__ import main

    rec = record("qn-mttq", "a", TITLE_A, STORY_A)
    aid = archive.add_page(rec).article_id
    archive.add_page({**rec, "body": STORY_A.replace("46 tỷ", "47 tỷ"), "fetched_at": "2024-01-05T00:00:00+00:00"})
    assert main(["versions", "--db", archive.path, str(aid)]) == 0
    out = capsys.readouterr().out
    assert f"story {aid}: {TITLE_A}" in out
    assert "v1  2024-01-02T03:04:05+00:00" in out and "first text" in out
    assert "v2  2024-01-05T00:00:00+00:00" in out and "1 paragraph changed, +1 -1 words" in out
    # by page URL (any form), as JSON, with the texts on request
    assert main(["versions", "--db", archive.path, "--json", "--full", url_for("qn-mttq", "a") + "?utm_source=x"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == aid and data["pages"][0]["canonical"]
    assert [v["version"] for v in data["pages"][0]["versions"]] == [1, 2]
    assert "47 tỷ" in data["pages"][0]["versions"][1]["body"]
    assert main(["versions", "--db", archive.path, "--json", str(aid)]) == 0
    assert "body" not in json.loads(capsys.readouterr().out)["pages"][0]["versions"][0]
    assert main(["versions", "--db", archive.path, "4242"]) == 2
    assert "no story with id 4242" in capsys.readouterr().err
