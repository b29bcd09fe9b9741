import sqlite3
from pathlib import Path

import pytest
from datasette.utils import escape_fts

from archive import Archive, search
from archive.search import fts_query, snippet

try:
    from test_archive_corpus import SEARCH_STORIES, SITES, record
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import SEARCH_STORIES, SITES, record


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("search") / "archive.db"
    ids = {}
    with Archive(path) as arc:
        arc.upsert_sites(SITES)
        for slug, title, body, published, site in SEARCH_STORIES:
            ids[slug] = arc.add_page(record(site, slug, title, body, published)).article_id
    return path, ids


def found(db, query: str, **kw) -> list[str]:
    path, ids = db
    names = {v: k for k, v in ids.items()}
    return [names[r["id"]] for r in search(path, query, **kw)]


def test_without_diacritics(db) -> None:
    # "nhân dân ... vận động" matches too (folded words, any order), the phrase ranks first
    assert found(db, "dan van")[0] == "danvan"
    assert found(db, "DAN VAN KHEO") == ["danvan"]
    assert set(found(db, "da nang")) == {"old", "danvan"}
    assert found(db, "tap huan") == ["danvan"]


def test_both_tone_placements(db) -> None:
    # "Ban Dân vận Thành ủy" has both words too, not side by side: it comes after the two "Ủy ban"
    for query in ("uy ban", "Ủy ban", "Uỷ ban", "UY BAN"):
        assert set(found(db, query)[:2]) == {"old", "new"}
    assert set(found(db, "hoa")) >= {"old", "new"}
    assert found(db, "thủy lợi") == ["old"]  # the text says "thuỷ lợi"


def test_exact_diacritics_rank_first(db) -> None:
    # "an" occurs many times in the safety story, "án" only in the court story: folded, both match and
    # bm25 prefers the safety story; typed with its accent, the court story must come first.
    assert set(found(db, "an")) >= {"court", "safety"}
    assert found(db, "an")[0] == "safety"
    assert found(db, "án")[0] == "court"
    results = search(db[0], "án")
    assert results[0]["exact"] == 1 and all(r["exact"] == 0 for r in results[1:])
    assert found(db, "bản án")[0] == "court"


def test_filters(db) -> None:
    assert set(found(db, "uy ban", province="Đà Nẵng")) == {"old", "danvan"}
    assert found(db, "uy ban", province="Đà Nẵng", kind="government") == ["old"]
    assert set(found(db, "uy ban", site="hb-gov")) == {"new"}
    assert found(db, "uy ban", kind="front") == ["danvan"]
    assert found(db, "uy ban", kind="party") == []
    assert set(found(db, "uy ban", since="2023-07")) == {"new"}
    assert set(found(db, "uy ban", since="2023-06-30", until="2023-12-31")) == {"old", "new"}
    assert set(found(db, "uy ban", until="2023-06-30")) == {"old", "danvan"}
    assert found(db, "uy ban", since="2023-01-01", until="2023-06-30") == ["old"]
    assert set(found(db, "uy ban", since="2023", until="2023")) == {"old", "new"}
    assert len(found(db, "uy ban", limit=1)) == 1
    with pytest.raises(ValueError):
        search(db[0], "uy ban", since="30/06/2023")
    with pytest.raises(ValueError):
        search(db[0], "uy ban", limit=0)


def test_window_ranks_the_newest_matches(db) -> None:
    path, ids = db
    everything = found(db, "uy ban", window=None, limit=50)
    assert len(everything) >= 3 and found(db, "uy ban", limit=50) == everything  # fewer than the window
    newest = sorted((ids[n] for n in everything), reverse=True)[:2]
    assert {ids[n] for n in found(db, "uy ban", window=2, limit=2)} == set(newest)
    # with a filter: the newest matches that pass it, whether found by checking the newest matches one by
    # one (window 1: the newest that passes is among them) or from the filter's index (none passes)
    for kw in ({"site": "dn-gov"}, {"province": "Đà Nẵng"}, {"kind": "government"}, {"since": "2023"},
               {"province": "Đà Nẵng", "kind": "front"}, {"until": "2023-06"}):
        every = found(db, "uy ban", window=None, limit=50, **kw)
        assert every, kw
        assert [ids[n] for n in found(db, "uy ban", window=1, limit=1, **kw)] == [max(ids[n] for n in every)], kw
    assert found(db, "uy ban", window=1, limit=1, kind="party") == []
    with pytest.raises(ValueError):
        search(path, "uy ban", window=1, limit=2)


def test_results_carry_site_date_title_url_snippet(db) -> None:
    r = search(db[0], "da nang dan van")[0]
    assert r["site_id"] == "dn-mttq" and r["site_name"] == "MTTQ Đà Nẵng" and r["published"] == "2022-04-05"
    assert r["title"].startswith("Ban Dân vận") and r["url"].endswith("/danvan.html")
    assert "[Đà] [Nẵng]" in r["snippet"] and "[Dân] [vận]" in r["snippet"]


def test_queries_never_break_fts_syntax(db) -> None:
    for query in ['"', "AND", "a OR", "NEAR(", "-", "uy*", "ban:", "", "   "]:
        search(db[0], query)
    assert search(db[0], "") == []
    assert fts_query('Đà "Nẵng" OR') == '"da" "nang" "or"'


def test_snippet_highlights_folded_or_exact_words() -> None:
    text = "Thành phố Đà Nẵng nâng cao kỹ năng cho cán bộ."
    # typed without diacritics, the words side by side in the text say which spelling was meant
    assert snippet(text, "da nang") == "Thành phố [Đà] [Nẵng] nâng cao kỹ năng cho cán bộ."
    assert snippet(text, "Đà Nẵng") == "Thành phố [Đà] [Nẵng] nâng cao kỹ năng cho cán bộ."
    # never side by side: every word that folds to a query word is what the search matched
    assert snippet("Đà phát triển, nâng cao kỹ năng.", "da nang") == "[Đà] phát triển, [nâng] cao kỹ [năng]."
    assert snippet("nâng cao năng lực", "nang") == "[nâng] cao [năng] lực"
    assert snippet("Uỷ ban nhân dân", "Ủy ban", ("<b>", "</b>")) == "<b>Uỷ</b> <b>ban</b> nhân dân"
    long = " ".join(["công tác"] * 50 + ["Đà Nẵng"] + ["công tác"] * 50)
    cut = snippet(long, "da nang")
    assert cut.startswith("…") and cut.endswith("…") and "[Đà] [Nẵng]" in cut


def test_snippet_prefers_the_spelling_the_phrase_has() -> None:
    # "đã nâng" folds to "da nang" too; the story is about Đà Nẵng, which it names more often
    filler = " ".join(["công tác"] * 30)
    text = f"Tỉnh đã nâng cao chất lượng. {filler} Đoàn Đà Nẵng đến thăm, Đà Nẵng cảm ơn."
    cut = snippet(text, "da nang")
    assert "[Đà] [Nẵng] đến thăm, [Đà] [Nẵng]" in cut and "[đã]" not in cut and "[nâng]" not in cut
    # as often as each other: the spelling written as a name wins, wherever it comes
    text = f"Tỉnh đã nâng cao chất lượng. {filler} Đoàn Đà Nẵng đến thăm."
    cut = snippet(text, "da nang")
    assert "[Đà] [Nẵng]" in cut and "đã" not in cut
    # the other tone placement of the chosen spelling is the same word
    assert snippet("Uỷ ban và Ủy ban", "uy ban") == "[Uỷ] [ban] và [Ủy] [ban]"
    # a word typed with diacritics stays exact; the folded one takes the spelling beside it
    assert snippet("Đà Nẵng, đà năng", "Đà nang") == "[Đà] [Nẵng], [đà] năng"


def test_search_accepts_archive_or_connection(db) -> None:
    with Archive(db[0]) as arc:
        assert search(arc, "dan van")
    conn = sqlite3.connect(db[0])
    assert search(conn, "dan van")
    with pytest.raises(FileNotFoundError):
        search(db[0].parent / "missing.db", "x")


def test_datasette_search_box_matches_with_and_without_diacritics(db) -> None:
    # Datasette's table search runs: id in (select rowid from fts where fts match escape_fts(q))
    conn = sqlite3.connect(db[0])
    ids = db[1]

    def datasette(q: str) -> set[int]:
        rows = conn.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (escape_fts(q),))
        return {r[0] for r in rows}

    assert datasette("da nang") == {ids["old"], ids["danvan"]}
    assert datasette("Đà Nẵng") == {ids["old"], ids["danvan"]}
    assert datasette("Đà nang") == {ids["old"], ids["danvan"]}
    assert datasette("uy ban") == datasette("Uỷ ban") == datasette("Ủy ban") >= {ids["old"], ids["new"]}
    assert datasette("dân vận khéo") == {ids["danvan"]}
