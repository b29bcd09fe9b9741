"""End to end: serve the sample web, run the real crawl command, check the archive against the expectations
recorded beside the sample articles."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.samples.server import SampleWeb

EXPECTED_DIR = Path(__file__).resolve().parents[1] / "crawler" / "samples" / "expected"

# Lines of page furniture that the sample templates print around articles, as real sites do.
BOILERPLATE = (
    "Lượt xem", "Thống kê", "Đang online", "Trực tuyến:", "Hôm nay", "Giấy phép", "Ghi rõ nguồn",
    "Tổng số điểm", "Click để đánh giá", "ĐÁNH GIÁ BÀI VIẾT", "A- A A+", "Tăng tương phản",
    "Ý kiến bạn đọc", "Bài viết liên quan", "Tin liên quan", "Các tin khác", "Nội dung đang cập nhật",
    "Điện thoại:", "Email:", "Địa chỉ:", "Chịu trách nhiệm", "Gửi bình luận", "In bài", "Chia sẻ",
)


def expectations() -> dict[str, dict]:
    """Expected extraction of every sample article, keyed by (site_id, url path)."""
    found = {}
    for path in sorted(EXPECTED_DIR.glob("*.json")):
        for url_path, expected in json.loads(path.read_text(encoding="utf-8")).items():
            found[(expected["site_id"], url_path)] = expected
    return found


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def crawl(config: Path, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db)],
        capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    with SampleWeb(port=0) as web:
        config = tmp / "sites.toml"
        web.write_config(config)
        db = tmp / "archive.db"
        first = crawl(config, db)
        second = crawl(config, db)
        yield {"web": web, "db": db, "first": first, "second": second, "config": config}


def rows(db: Path, sql: str, *params) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def page_rows(crawled) -> dict[tuple[str, str], sqlite3.Row]:
    by_key = {}
    for row in rows(crawled["db"], "select * from pages"):
        by_key[(row["site_id"], path_of(row["url"]))] = row
    return by_key


def test_crawl_exits_zero_and_reports(crawled):
    first = crawled["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert "new stories" in first.stdout


def test_every_sample_article_is_archived_once(crawled):
    pages = page_rows(crawled)
    expected = expectations()
    assert len(expected) >= 48
    missing = [key for key in expected if key not in pages]
    assert not missing, f"not archived: {missing[:5]}"
    unlinked = [key for key in expected if pages[key]["article_id"] is None]
    assert not unlinked, f"pages without a story: {unlinked[:5]}"


def test_copies_are_linked_to_one_story_and_distinct_stories_stay_apart(crawled):
    pages = page_rows(crawled)
    groups: dict[str, set[int]] = defaultdict(set)
    for key, exp in expectations().items():
        groups[exp["dup_group"]].add(pages[key]["article_id"])
    split = {g: ids for g, ids in groups.items() if len(ids) != 1}
    assert not split, f"copies of one story under several stories: {split}"
    story_of = {g: next(iter(ids)) for g, ids in groups.items()}
    merged = defaultdict(list)
    for group, article_id in story_of.items():
        merged[article_id].append(group)
    assert not {a: g for a, g in merged.items() if len(g) > 1}, "distinct stories merged"
    stories = rows(crawled["db"], "select count(*) as n from articles")[0]["n"]
    assert stories == len(groups)
    assert any(len({k for k, e in expectations().items() if e["dup_group"] == g}) > 1 for g in groups)


def test_stories_have_their_title_date_author_and_body(crawled):
    pages = page_rows(crawled)
    expected = expectations()
    articles = {row["id"]: row for row in rows(crawled["db"], "select * from articles")}
    problems = []
    for key, exp in expected.items():
        story = articles[pages[key]["article_id"]]
        if path_of(story["url"]) != key[1] or story["site_id"] != key[0]:
            continue  # a copy: the story row holds its canonical copy, checked under that key
        for field in ("title", "published", "author", "source"):
            if story[field] != exp[field]:
                problems.append((key, field, story[field], exp[field]))
        if story["body"] != "\n\n".join(exp["paragraphs"]):
            problems.append((key, "body", story["body"][:200], exp["paragraphs"][:1]))
    assert not problems, "\n".join(map(repr, problems[:10]))


def test_every_page_has_its_own_title_and_date(crawled):
    pages = page_rows(crawled)
    problems = [
        (key, pages[key]["title"], pages[key]["published"], exp["title"], exp["published"])
        for key, exp in expectations().items()
        if (pages[key]["title"], pages[key]["published"]) != (exp["title"], exp["published"])
    ]
    assert not problems, "\n".join(map(repr, problems[:10]))


def test_no_boilerplate_line_in_any_body(crawled):
    leftovers = []
    for row in rows(crawled["db"], "select id, body from articles"):
        for line in row["body"].split("\n"):
            if any(marker in line for marker in BOILERPLATE) and len(line) < 120:
                leftovers.append((row["id"], line))
    assert not leftovers, leftovers[:10]


def test_second_run_adds_nothing(crawled):
    second = crawled["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    crawls = rows(crawled["db"], "select * from crawls order by id")
    assert len(crawls) == 2
    figures = json.loads(crawls[1]["figures"])
    assert figures["_total"].get("new", 0) == 0
    assert figures["_total"].get("version", 0) == 0
    pages = rows(crawled["db"], "select count(*) as n from pages")[0]["n"]
    assert pages == len(expectations())


def test_full_text_search_finds_stories_without_diacritics(crawled):
    result = subprocess.run(
        [sys.executable, "-m", "archive", "search", "--db", str(crawled["db"]), "--json", "dan van"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) >= 5
    text = " ".join(h["title"] for h in hits).lower()
    assert "dân vận" in text


def test_bad_config_cannot_start(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[site]]\nid = "x"\n', encoding="utf-8")
    result = crawl(bad, tmp_path / "a.db")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "cannot start" in result.stderr
    unwritable = crawl(Path(__file__).resolve().parents[1] / "sites.toml", tmp_path / "no" / "such" / "a.db")
    assert unwritable.returncode == 2 and "does not exist" in unwritable.stderr


def test_canonical_copy_is_the_original_named_by_the_source_line(crawled):
    pages = page_rows(crawled)
    articles = {row["id"]: row for row in rows(crawled["db"], "select * from articles")}
    groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, exp in expectations().items():
        groups[exp["dup_group"]].append(key)
    checked = 0
    for keys in groups.values():
        if len(keys) < 2:
            continue
        originals = [k for k in keys if not expectations()[k]["source"]]
        assert len(originals) == 1
        story = articles[pages[keys[0]]["article_id"]]
        assert (story["site_id"], path_of(story["url"])) == originals[0]
        checked += 1
    assert checked >= 6
