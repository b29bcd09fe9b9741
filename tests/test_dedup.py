import dataclasses
import sqlite3

import pytest

from archive.dedup import (
    DEDUP_DDL,
    DedupConfig,
    NearIndex,
    SiteMatcher,
    band_keys,
    canonical_url,
    choose_canonical,
    content_lines,
    estimated_containment,
    exact_key,
    figures,
    fingerprint,
    load_config,
    page_key,
    verify,
)

try:
    from test_archive_corpus import (
        STORY_A,
        STORY_A_EXACT,
        STORY_A_NEAR,
        STORY_B,
        TITLE_A,
        TITLE_A_NEAR,
        TITLE_B,
    )
except ImportError:  # tests/ collected as a package
    from tests.test_archive_corpus import (
        STORY_A,
        STORY_A_EXACT,
        STORY_A_NEAR,
        STORY_B,
        TITLE_A,
        TITLE_A_NEAR,
        TITLE_B,
    )

CFG = load_config()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://QuangNam.gov.vn/tin-tuc/a.html?utm_source=fb&utm_medium=x#top", "https://quangnam.gov.vn/tin-tuc/a.html"),
        ("https://quangnam.gov.vn/a.html?fbclid=IwAR0&id=5", "https://quangnam.gov.vn/a.html?id=5"),
        ("https://quangnam.gov.vn/a.html?zarsrc=30&gclid=x&_ga=1.2&id=5", "https://quangnam.gov.vn/a.html?id=5"),
        ("https://quangnam.gov.vn/a.html?PHPSESSID=abc&sid=9&b=2&a=1", "https://quangnam.gov.vn/a.html?a=1&b=2"),
        ("https://quangnam.gov.vn/a.jsp;jsessionid=ABC123?id=5", "https://quangnam.gov.vn/a.jsp?id=5"),
        ("http://quangnam.gov.vn:80/tin tức/Đà-Nẵng.html", "http://quangnam.gov.vn/tin%20t%E1%BB%A9c/%C4%90%C3%A0-N%E1%BA%B5ng.html"),
        ("https://quangnam.gov.vn", "https://quangnam.gov.vn/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
    assert canonical_url(expected) == expected


def test_page_key_honours_rel_canonical_only_within_the_site() -> None:
    url = "https://quangnam.gov.vn/Default.aspx?tabid=5&ItemID=77"
    same = "https://www.quangnam.gov.vn/tin-tuc/tong-ket-77.html"
    assert page_key(url, same) == same  # www. or not, the same site
    assert page_key(url, "/tin-tuc/tong-ket-77.html") == "https://quangnam.gov.vn/tin-tuc/tong-ket-77.html"
    assert page_key(url, "https://baoquangnam.vn/tong-ket-77.html") == canonical_url(url)  # other site
    assert page_key(url, "https://baoquangnam.vn/tong-ket-77.html", ["baoquangnam.vn"]).startswith("https://baoquangnam")
    assert page_key(url, "https://quangnam.gov.vn/") == canonical_url(url)  # home page in every canonical tag
    assert page_key(url, None) == canonical_url(url)


def test_content_lines_drop_counters_dates_sources_and_byline() -> None:
    lines = content_lines(STORY_A_EXACT)
    assert lines[0].startswith("Sáng 28/12")
    assert lines[-1].startswith("Dịp này")
    assert not any(line.startswith(("Lượt xem", "Đăng ngày", "Theo ", "PV")) for line in lines)
    # a sentence that begins with "Theo" is content, not a source line
    body = "Theo Chủ tịch UBND tỉnh, năm 2024 tỉnh phấn đấu giải ngân 100% kế hoạch vốn đầu tư công được giao."
    assert content_lines(body) == [body]


def test_exact_key_equal_for_copies_and_different_for_other_stories() -> None:
    assert exact_key(STORY_A) == exact_key(STORY_A_EXACT)
    assert exact_key(STORY_A) != exact_key(STORY_A_NEAR)
    assert exact_key(STORY_A) != exact_key(STORY_B)


def test_near_copy_verified() -> None:
    a, near = fingerprint(STORY_A, CFG), fingerprint(STORY_A_NEAR, CFG)
    verdict = verify(near, a, CFG, titles=(TITLE_A_NEAR, TITLE_A), published=("2023-12-29", "2023-12-28"))
    assert verdict.same, verdict
    assert verdict.containment > 0.9


def test_same_topic_different_story_is_not_a_copy() -> None:
    a, b = fingerprint(STORY_A, CFG), fingerprint(STORY_B, CFG)
    assert not verify(b, a, CFG, titles=(TITLE_B, TITLE_A)).same
    # even when the signatures were (wrongly) close, the second check on the texts refuses
    forced = verify(b, a, CFG, titles=(TITLE_B, TITLE_A), jaccard=1.0)
    assert not forced.same and forced.containment < CFG.low_containment


def test_copies_far_apart_in_time_are_different_stories() -> None:
    a = fingerprint(STORY_A, CFG)
    verdict = verify(a, a, CFG, published=("2023-12-28", "2024-12-28"))
    assert not verdict.same and verdict.why == "dates"


def test_numbers_must_agree() -> None:
    changed = STORY_A_NEAR
    for old, new in (("46", "52"), ("827", "903"), ("356", "288"), ("41", "37"), ("1.245", "1.310"), ("112", "97"),
                     ("18", "11"), ("28/12", "20/12")):
        changed = changed.replace(old, new)
    verdict = verify(fingerprint(changed, CFG), fingerprint(STORY_A, CFG), CFG, jaccard=1.0)
    assert not verdict.same and verdict.why == "numbers"


def test_short_texts_are_not_near_matched() -> None:
    assert not fingerprint("Đang cập nhật nội dung", CFG).near_ok


def test_lsh_index_in_sqlite_finds_candidates_and_forgets_removed() -> None:
    conn = sqlite3.connect(":memory:")
    for ddl in DEDUP_DDL:
        conn.execute(ddl)
    index = NearIndex(conn, CFG)
    index.add(1, fingerprint(STORY_A, CFG))
    index.add(2, fingerprint(STORY_B, CFG))
    assert conn.execute("SELECT count(*) FROM dedup_bands").fetchone()[0] == 2 * CFG.bands
    found = index.candidates(fingerprint(STORY_A_NEAR, CFG))
    assert found and found[0].article_id == 1 and found[0].jaccard > 0.6
    assert all(c.article_id != 2 or c.containment < CFG.min_estimated_containment for c in found)
    index.remove(1)
    assert conn.execute("SELECT count(*) FROM dedup_bands WHERE article_id = 1").fetchone()[0] == 0
    assert not any(c.article_id == 1 for c in index.candidates(fingerprint(STORY_A_NEAR, CFG)))
    sql = "EXPLAIN QUERY PLAN SELECT article_id FROM dedup_bands WHERE band = 1 AND key = 2"
    plan = " ".join(r[-1] for r in conn.execute(sql))
    assert "PRIMARY KEY" in plan or "INDEX" in plan


def test_band_keys_are_deterministic_signed_64_bit() -> None:
    sig = fingerprint(STORY_A, CFG).signature
    keys = band_keys(sig, CFG)
    assert keys == band_keys(sig.copy(), CFG)
    assert len(keys) == CFG.bands and all(-(2**63) <= k < 2**63 for _, k in keys)


def test_config_is_read_from_toml_and_checked(tmp_path) -> None:
    assert CFG.bands * CFG.rows == CFG.num_perm
    assert DedupConfig.from_json(CFG.to_json()) == CFG
    bad = tmp_path / "bad.toml"
    bad.write_text("[minhash]\nnum_perm = 64\n[lsh]\nbands = 10\nrows = 4\n")
    with pytest.raises(ValueError, match="bands"):
        load_config(bad)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[match]\nthreshold = 0.5\n")
    with pytest.raises(ValueError, match="unknown"):
        load_config(unknown)
    other = dataclasses.replace(CFG, shingle=3)
    assert fingerprint(STORY_A, other).shingles != fingerprint(STORY_A, CFG).shingles


def test_site_matcher_and_canonical_choice() -> None:
    matcher = SiteMatcher(
        [
            {"id": "qn-gov", "name": "Cổng thông tin điện tử tỉnh Quảng Nam", "domains": ["quangnam.gov.vn"]},
            {"id": "qn-mttq", "name": "MTTQ Quảng Nam", "domains": ["mattran.quangnam.gov.vn"]},
            {"id": "qn-bao", "name": "Báo Quảng Nam", "domains": ["baoquangnam.vn"], "aliases": ["Báo Quảng Nam"]},
        ]
    )
    assert matcher.named("Theo quangnam.gov.vn") == {"qn-gov"}
    assert matcher.named("Nguồn: mattran.quangnam.gov.vn") == {"qn-mttq"}
    assert matcher.named("Theo BÁO QUẢNG NAM") == {"qn-bao"}
    assert matcher.named("Theo TTXVN") == set()
    # domains given as aliases (the crawler's sites.toml does that) match as domains, whole
    by_alias = SiteMatcher(
        [
            {"id": "danang", "name": "Cổng thông tin điện tử thành phố Đà Nẵng", "aliases": ["danang.gov.vn"]},
            {"id": "mttq-danang", "name": "MTTQ thành phố Đà Nẵng", "aliases": ["mattran.danang.gov.vn"]},
        ]
    )
    assert by_alias.named("Nguồn: mattran.danang.gov.vn") == {"mttq-danang"}
    assert by_alias.named("Theo danang.gov.vn") == {"danang"}
    assert by_alias.named("Theo Cổng thông tin điện tử thành phố Đà Nẵng") == {"danang"}
    pages = [
        {"url": "u1", "site_id": "qn-mttq", "published": "2023-12-28", "seq": 1, "source": None},
        {"url": "u2", "site_id": "qn-bao", "published": "2023-12-27T20:00:00+07:00", "seq": 2, "source": None},
        {"url": "u3", "site_id": "qn-gov", "published": None, "seq": 3, "source": None},
    ]
    assert choose_canonical(pages, matcher)["url"] == "u2"  # earliest published
    pages[0]["source"] = "Theo quangnam.gov.vn"
    assert choose_canonical(pages, matcher)["url"] == "u3"  # the site a copy names as its source


def test_figures_are_whole_numbers_with_thousands_separators_dropped() -> None:
    lines = ["Vận động 1.436 mô hình, 36,5 tỷ đồng; 1436 hộ; ngày 06/04/2022; Quyết định số 2806-QĐ/TU"]
    assert figures(lines) == {"1436", "36,5", "6", "4", "2022", "2806"}


def test_one_corrected_figure_is_still_the_same_story() -> None:
    corrected = STORY_A.replace("46 tỷ đồng", "46,5 tỷ đồng")
    verdict = verify(fingerprint(corrected, CFG), fingerprint(STORY_A, CFG), CFG)
    assert verdict.same and verdict.number_overlap < 1.0


def test_estimated_containment_sees_an_abridged_copy() -> None:
    # a copy keeping half of the original: Jaccard 0.5, containment of the copy in the original 1.0
    assert estimated_containment(0.5, 100, 200) == pytest.approx(1.0)
    assert estimated_containment(0.05, 300, 300) == pytest.approx(0.0952, abs=1e-3)
    assert estimated_containment(0.5, 0, 200) == 0.0


def test_candidates_are_counted_and_scored_in_one_pass() -> None:
    conn = sqlite3.connect(":memory:")
    for ddl in DEDUP_DDL:
        conn.execute(ddl)
    index = NearIndex(conn, CFG)
    for aid in range(1, 4):
        index.add(aid, fingerprint(STORY_A, CFG))
    found = index.candidates(fingerprint(STORY_A_NEAR, CFG))
    assert [c.article_id for c in found] == [1, 2, 3]
    assert all(c.containment >= c.jaccard for c in found)  # the copy is the shorter text
    assert index.counts["lookups"] == 1 and index.counts["candidates"] == 3
