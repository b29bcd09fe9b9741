"""The Datasette pages in a real headless Chromium (Debian's chromium, driven by Python playwright).

An archivist's session on a crawl of the sample web: type a Vietnamese query without diacritics in the
articles search box, submit, see the expected stories; open a story and read it (paragraphs, link to the
original, every sighting); use the ranked search form. Screenshots go to artifacts/screenshots/.
"""

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import chromium, datasette

from archive.normalize import fold

try:
    from test_export import crawl_sample
except ImportError:  # tests/ collected as a package
    from tests.test_export import crawl_sample

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"



@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The archive of a sample crawl, served by ``python -m archive serve``: (database URL, archive path)."""
    db = crawl_sample(tmp_path_factory.mktemp("browser"))
    with datasette(db) as (base, _):
        yield f"{base}/{db.stem}", db


@pytest.fixture(scope="module")
def page(site):
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
        tab.set_default_timeout(15000)
        yield tab


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def stories_with_words(db: Path, *words: str) -> dict[int, str]:
    """Stories whose title or text has every word, diacritics and đ folded: computed in Python, not by FTS."""
    conn = sqlite3.connect(db)
    out = {}
    for story_id, title, body in conn.execute("SELECT id, title, body FROM articles"):
        tokens = set(re.findall(r"\w+", fold(f"{title} {body}").lower()))
        if all(w in tokens for w in words):
            out[story_id] = title
    conn.close()
    return out


def shown_titles(page) -> list[str]:
    return [t.strip() for t in page.locator("table.rows-and-columns td.col-title").all_inner_texts()]


def search_box(page, base: str, query: str) -> None:
    page.goto(f"{base}/articles")
    box = page.locator("input#_search")
    box.fill(query)  # typed as a user types: no diacritics
    box.press("Enter")
    page.wait_for_load_state("load")


def test_search_box_without_diacritics(site, page) -> None:
    base, db = site
    for query, words in (("da nang", ("da", "nang")), ("dan van kheo", ("dan", "van", "kheo"))):
        expected = stories_with_words(db, *words)
        assert 0 < len(expected) <= 50  # one page of results
        search_box(page, base, query)
        assert "_search=" in page.url
        titles = shown_titles(page)
        assert sorted(titles) == sorted(expected.values()), query
        # the stories spell it with diacritics: "Đà Nẵng", "Dân vận khéo"
        assert any("Đà Nẵng" in t or "Dân vận khéo" in t for t in titles) or query == "da nang"
    search_box(page, base, "dan van kheo")
    shot(page, "search-dan-van-kheo.png")


def test_uy_ban_finds_both_spellings(site, page) -> None:
    base, db = site
    search_box(page, base, "uy ban mttq")
    titles = shown_titles(page)
    assert any("Ủy ban" in t for t in titles)
    conn = sqlite3.connect(db)
    body_old = conn.execute("SELECT count(*) FROM articles WHERE body LIKE '%Uỷ ban%' OR title LIKE '%Uỷ ban%'")
    old_spelling = body_old.fetchone()[0]
    conn.close()
    expected = stories_with_words(db, "uy", "ban", "mttq")
    assert sorted(titles) == sorted(expected.values())
    assert old_spelling == 0 or titles  # both spellings fold to "uy ban"


def test_story_page(site, page) -> None:
    base, db = site
    conn = sqlite3.connect(db)
    story_id, title, url, copies = conn.execute(
        "SELECT id, title, url, page_count FROM articles WHERE page_count > 1 ORDER BY id LIMIT 1").fetchone()
    sightings = [r[0] for r in conn.execute("SELECT url FROM pages WHERE article_id = ?", (story_id,))]
    conn.close()
    # from the search results, click through to the story
    search_box(page, base, fold(title).lower())
    page.locator("table.rows-and-columns td.col-id a", has_text=str(story_id)).first.click()
    page.wait_for_load_state("load")
    assert page.url.rstrip("/").endswith(f"/articles/{story_id}")
    assert page.locator("article.story h1").inner_text().strip() == title
    assert page.locator("article.story .story-body p").count() >= 3
    assert page.locator("a.original").get_attribute("href") == url
    rows = page.locator("section.sightings tr.sighting")
    assert rows.count() == copies == len(sightings) > 1
    links = set(page.locator("section.sightings tr.sighting a").evaluate_all("els => els.map(e => e.href)"))
    assert len(links) == len(sightings)
    assert rows.first.locator("td").first.inner_text().strip() == "canonical"
    shot(page, "story.png")


def test_ranked_search_form(site, page) -> None:
    base, db = site
    page.goto(f"{base}/search")
    page.locator("input[name=q]").fill("dan van kheo")
    page.locator("input[type=submit]").first.click()
    page.wait_for_load_state("load")
    first = page.locator("table.rows-and-columns tbody tr").first
    assert "Dân vận khéo" in first.locator("td.col-title").inner_text()
    assert page.locator("td.col-snippet b").count() > 0  # matches highlighted
    shot(page, "ranked-search.png")


def test_facets_on_site_province_kind_year(site, page) -> None:
    base, _ = site
    page.goto(f"{base}/articles")
    facets = page.locator(".facet-info").evaluate_all("els => els.map(e => e.getAttribute('data-column'))")
    assert {"site_id", "province", "kind", "published_year"} <= set(facets)
    shot(page, "articles-facets.png")
