"""The crawl's archive writer: pages committed in groups, each page all or nothing inside its group, each
item acknowledged only once its group is on disk (crawler/pipelines.py ArchiveWriter, Archive.transaction
nested as savepoints)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from archive import Archive
from crawler.pipelines import ArchiveWriter

try:
    from test_archive import archive, counts, fts_ok  # noqa: F401 (archive: the fixture)
    from test_archive_corpus import STORY_A, STORY_B, TITLE_A, TITLE_B, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive import archive, counts, fts_ok  # noqa: F401
    from tests.test_archive_corpus import STORY_A, STORY_B, TITLE_A, TITLE_B, record


class FakeReactor:
    """callFromThread runs the call at once (in the writer's thread), noting what fired."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def callFromThread(self, f, *args):  # noqa: N802 (Twisted's name)
        with self.lock:
            self.calls += 1
        f(*args)


def committed_pages(path: str) -> int:
    """Pages another connection sees: what is on disk."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT count(*) FROM pages").fetchone()[0]


def test_nested_transaction_is_a_savepoint(archive: Archive) -> None:
    before = counts(archive)
    with archive.transaction():
        archive.add_page(record("qn-mttq", "a", TITLE_A, STORY_A))
        with pytest.raises(RuntimeError), archive.transaction() as conn:
            conn.execute("DELETE FROM pages")
            raise RuntimeError("this part only")
        assert committed_pages(archive.path) == before["pages"]  # not committed yet
    assert counts(archive)["pages"] == before["pages"] + 1
    assert committed_pages(archive.path) == before["pages"] + 1
    fts_ok(archive)


def test_a_group_is_committed_once_and_acknowledged_after(archive: Archive) -> None:
    reactor = FakeReactor()
    seen_on_disk: list[int] = []

    def write(item):
        return archive.add_page(record(*item))

    writer = ArchiveWriter(archive, write, seconds=5.0, pages=2, reactor=reactor)
    first = writer.submit(("qn-mttq", "a", TITLE_A, STORY_A))
    first.addCallback(lambda result: seen_on_disk.append(committed_pages(archive.path)) or result)
    second = writer.submit(("qn-bao", "b", TITLE_B, STORY_B))
    outcomes: list[str] = []
    for done in (first, second):
        done.addCallback(lambda result: outcomes.append(result.outcome))
    writer.close()
    assert outcomes == ["new", "new"]
    assert seen_on_disk == [2]  # the first page was acknowledged once both were on disk
    assert reactor.calls == 2


def test_a_failing_page_leaves_the_rest_of_its_group(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    before = counts(archive)
    store_raw = Archive._store_raw

    def failing_store_raw(self, rec, ctx):  # the very last step of add_page, for page "b" only
        if rec["url"].endswith("/b.html"):
            raise RuntimeError("disk full")
        return store_raw(self, rec, ctx)

    monkeypatch.setattr(Archive, "_store_raw", failing_store_raw)
    writer = ArchiveWriter(archive, lambda item: archive.add_page(record(*item)), seconds=5.0, pages=3,
                           reactor=FakeReactor())
    results: list[object] = []
    for item in (("qn-mttq", "a", TITLE_A, STORY_A), ("qn-bao", "b", TITLE_B, STORY_B),
                 ("qn-bao", "c", TITLE_B, STORY_B)):
        writer.submit(item).addCallbacks(lambda r: results.append(r.outcome), lambda f: results.append(f.value))
    writer.close()
    assert results[0] == "new" and isinstance(results[1], RuntimeError) and results[2] == "new"
    after = counts(archive)
    assert after["pages"] == before["pages"] + 2  # page "b" was rolled back whole: "c" is a new story
    assert after["articles"] == before["articles"] + 2
    assert committed_pages(archive.path) == after["pages"]
    fts_ok(archive)
