"""The article extractor (crawler.extract): family pages, page texts, encodings, not-articles, size and
fuzzing. Fixtures: tests/fixtures/extract/<name>.html with a hand-labelled <name>.json beside it, and
tests/fixtures/extract-text/<name>.txt + .json (page texts, no HTML)."""

from __future__ import annotations

import json
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extract import Extraction, extract, extract_text
from crawler.extract.__main__ import main as cli_main
from crawler.extract.boilerplate import classify, filter_lines, load_rules
from crawler.extract.decode import decode_html
from crawler.extract.detect import detect_family
from crawler.extract.fields import peel_credits, view_count_from_text
from crawler.extract.profiles import load_profiles

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
TEXT_FIXTURES = Path(__file__).parent / "fixtures" / "extract-text"
SAMPLES_EXPECTED = Path(__file__).resolve().parents[1] / "crawler" / "samples" / "expected"
PAGE_URL = "https://example.gov.vn/tin-tuc/bai-viet-123.html"

LABELLED = sorted(path.stem for path in FIXTURES.glob("*.json"))
LABELLED_TEXTS = sorted(path.stem for path in TEXT_FIXTURES.glob("*.json"))


def fixture_html(name: str) -> bytes:
    return (FIXTURES / f"{name}.html").read_bytes()


def labels(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def assert_no_boilerplate(paragraphs: list[str]) -> None:
    for paragraph in paragraphs:
        rule = classify(paragraph)
        assert rule is None, f"boilerplate ({rule.kind}) left in body: {paragraph!r}"


TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def to_cp1258(text: str) -> bytes:
    """windows-1258 bytes: letters missing from the code page as base letter + combining tone byte."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        decomposed = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
        tones = "".join(c for c in decomposed if c in TONE_MARKS)
        out.append((base + tones).encode("cp1258"))
    return b"".join(out)


# ---- family pages ----


@pytest.mark.parametrize("name", LABELLED)
def test_family_page_fields(name: str) -> None:
    expected = labels(name)
    result = extract(fixture_html(name), PAGE_URL)
    assert result.ok, result.reason
    assert result.title == expected["title"]
    assert result.paragraphs == expected["paragraphs"]
    assert result.lead == expected["paragraphs"][0]
    assert result.body == "\n\n".join(expected["paragraphs"])
    assert result.author == expected["author"]
    assert result.source == expected["source"]
    assert result.family == expected["family"]


@pytest.mark.parametrize("name", LABELLED)
def test_family_page_secondary_fields(name: str) -> None:
    expected = labels(name)
    result = extract(fixture_html(name), PAGE_URL)
    visible = [c["raw"] for c in result.date_candidates if c["source"] == "visible"]
    assert visible and visible[0] == expected["visible_date"]
    if "view_count" in expected:
        assert result.view_count == expected["view_count"]
    if "category" in expected:
        assert result.category == expected["category"]
    if "captions" in expected:
        assert [image["caption"] for image in result.images if image["caption"]] == expected["captions"]
    if "method" in expected:
        assert result.method == expected["method"]
    else:
        assert result.method == f"profile:{expected['family']}"
    raws = {c["raw"] for c in result.date_candidates}
    for distrusted in expected.get("not_dates", []):
        assert distrusted not in raws
    assert len(result.attachments) == expected.get("attachments", len(result.attachments))


@pytest.mark.parametrize("name", LABELLED)
def test_no_boilerplate_survives(name: str) -> None:
    result = extract(fixture_html(name), PAGE_URL)
    assert_no_boilerplate(result.paragraphs)
    assert result.author not in result.paragraphs
    assert result.source not in result.paragraphs


def test_images_and_attachments_are_absolute() -> None:
    result = extract(fixture_html("nukeviet"), PAGE_URL)
    assert result.images == [
        {"src": "https://example.gov.vn/uploads/news/2024_07/so-ket-1.jpg", "caption": "Quang cảnh hội nghị"}
    ]
    assert result.attachments == [
        {
            "url": "https://example.gov.vn/vi/news/tin-hoat-dong/so-ket-412.html?download=1&id=1",
            "title": "Báo cáo sơ kết 6 tháng",
        },
        {"url": "https://example.gov.vn/uploads/news/2024_07/bao-cao-so-ket.pdf", "title": "Tải về"},
    ]
    assert result.canonical_url.endswith("so-ket-cong-tac-dan-van-6-thang-dau-nam-2024-412.html")


def test_nukeviet_dates_skip_the_edit_time_microdata() -> None:
    result = extract(fixture_html("nukeviet"), PAGE_URL)
    assert result.date_candidates[0] == {"raw": "Thứ sáu - 12/07/2024 16:20", "source": "visible"}
    assert {"raw": "2024-07-12+0716:20:00", "source": "meta"} in result.date_candidates
    assert result.updated_raw == "2024-07-15+0708:05:11"


def test_first_sentence_and_jsonld_candidates() -> None:
    result = extract(fixture_html("wordpress"), PAGE_URL)
    sources = [c["source"] for c in result.date_candidates]
    assert sources[0] == "visible"
    assert "jsonld" in sources and "first_sentence" in sources
    # <time class="updated"> is the modification time, not a publication date.
    assert "2025-08-19T08:00:00+07:00" not in {c["raw"] for c in result.date_candidates}


def test_title_without_site_suffix() -> None:
    assert extract(fixture_html("tandan")).title == labels("tandan")["title"]
    html = "<html><head><title>Hội nghị tổng kết năm 2024 | Cổng thông tin điện tử huyện X</title></head><body>"
    html += (
        "<div><p>"
        + "Nội dung bài viết về hội nghị tổng kết công tác năm 2024 của huyện. " * 5
        + "</p></div></body></html>"
    )
    assert extract(html).title == "Hội nghị tổng kết năm 2024"


def test_site_selectors_come_first() -> None:
    html = """<html><body><div class="hd">Tiêu đề giả</div><div class="tieu-de">Hội nghị cán bộ chủ chốt xã</div>
    <div class="ngay">03/02/2025</div><div class="noi-dung"><p>Sáng 3/2/2025, Đảng ủy xã tổ chức hội nghị cán bộ
    chủ chốt để quán triệt nhiệm vụ năm 2025.</p><div class="quang-cao">Quảng cáo bán hàng</div>
    <p>Hội nghị thống nhất các chỉ tiêu trọng tâm về kinh tế, văn hóa và xây dựng Đảng.</p></div>
    <div class="tg">Minh Hằng</div></body></html>"""
    selectors = {"title": ".tieu-de", "date": [".ngay"], "body": ".noi-dung", "author": ".tg", "junk": [".quang-cao"]}
    result = extract(html, PAGE_URL, selectors=selectors)
    assert result.method == "site"
    assert result.title == "Hội nghị cán bộ chủ chốt xã"
    assert result.author == "Minh Hằng"
    assert result.date_candidates[0] == {"raw": "03/02/2025", "source": "visible"}
    assert result.paragraphs == [
        "Sáng 3/2/2025, Đảng ủy xã tổ chức hội nghị cán bộ chủ chốt để quán triệt nhiệm vụ năm 2025.",
        "Hội nghị thống nhất các chỉ tiêu trọng tâm về kinh tế, văn hóa và xây dựng Đảng.",
    ]


def test_forced_family_and_bad_selectors_do_not_break() -> None:
    html = fixture_html("nukeviet").replace(b"NukeViet", b"CMS").replace(b"nv_", b"xx_")
    forced = extract(html, PAGE_URL, family="nukeviet")
    assert forced.family == "nukeviet" and forced.method == "profile:nukeviet"
    assert forced.paragraphs == labels("nukeviet")["paragraphs"]
    weird = extract(fixture_html("vhv"), PAGE_URL, selectors={"body": "div[[[", "title": "xpath://*["})
    assert weird.ok and weird.title == labels("vhv")["title"]


def test_profiles_have_detect_and_extract_tables() -> None:
    profiles = load_profiles()
    for family in ("nukeviet", "vhv", "tandan", "sharepoint", "aspnet-ui", "liferay", "wordpress"):
        profile = profiles[family]
        assert profile.detect.html or profile.detect.generator
        assert profile.get("title") and profile.get("body")


def test_detection_on_markers_only() -> None:
    from crawler.extract.core import parse_html

    def family_of(html: str) -> str | None:
        return detect_family(parse_html(html), html)

    assert (
        family_of('<html><head><meta name="generator" content="NukeViet v4.5"></head><body>x</body></html>')
        == "nukeviet"
    )
    assert family_of('<html><body class="single-post"><link href="/wp-content/a.css">x</body></html>') == "wordpress"
    assert family_of("<html><body><p>Trang tin không rõ nền tảng</p></body></html>") is None


# ---- page texts ----


@pytest.mark.parametrize("name", LABELLED_TEXTS)
def test_page_text_fields(name: str) -> None:
    expected = json.loads((TEXT_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    result = extract_text((TEXT_FIXTURES / f"{name}.txt").read_text(encoding="utf-8"))
    assert result.ok
    assert result.title == expected["title"]
    assert result.paragraphs == expected["paragraphs"]
    assert result.author == expected["author"]
    assert result.source == expected["source"]
    assert result.view_count == expected["view_count"]
    assert [c["raw"] for c in result.date_candidates if c["source"] == "visible"] == expected["visible_dates"]
    assert_no_boilerplate(result.paragraphs)


def test_page_text_empty() -> None:
    assert extract_text("").reason == "empty"
    assert extract_text("Thống kê truy cập\nHôm nay: 3\n").reason == "no-body"


# ---- the boilerplate filter ----


def test_every_rule_matches_its_example() -> None:
    for rule in load_rules():
        assert classify(rule.example) is rule, rule.example


@pytest.mark.parametrize(
    "line",
    [
        "Trong tuần, người dân có thể gọi điện thoại: 0236 3821 158 để phản ánh các vấn đề về môi trường.",
        "Theo Chủ tịch UBND thành phố, để công tác dân vận đạt hiệu quả cần đổi mới phương pháp.",
        "Hôm nay, 15/10, Ban Dân vận tổ chức gặp mặt các điển hình dân vận khéo.",
        "Văn bản mới ban hành đã quy định rõ trách nhiệm của người đứng đầu.",
        "Tổng số hộ nghèo giảm 120 hộ so với năm trước.",
        "Quang cảnh hội nghị",
        "THANH THẢO",
    ],
)
def test_content_is_not_boilerplate(line: str) -> None:
    assert classify(line) is None


def test_address_line_alone_is_content_but_not_in_a_footer() -> None:
    notice = [
        "Ủy ban nhân dân xã thông báo lịch tiếp công dân tháng 5 như sau, mời bà con đến đúng giờ.",
        "Địa chỉ: Nhà văn hóa thôn Đông, xã Giao Tân",
        "Thời gian: 8 giờ sáng thứ Năm hằng tuần.",
    ]
    assert filter_lines(notice).kept == [0, 1, 2]
    footer = [
        "Bài viết nội dung đầy đủ về hội nghị tổng kết công tác năm của ủy ban nhân dân xã.",
        "Địa chỉ: 10-12 Trần Phú, Hải Châu",
        "Điện thoại: 0236.3821.158",
        "Email: a@danang.gov.vn",
    ]
    assert filter_lines(footer).kept == [0]


def test_end_rules_cut_only_after_content() -> None:
    lines = [
        "Thống kê truy cập",
        "Hôm nay: 5",
        "Tiêu đề bài viết mới",
        "Nội dung bài viết dài hơn sáu mươi ký tự để đủ làm nội dung chính.",
        "Tin liên quan",
        "Một bài khác",
        "Bài nữa",
    ]
    assert filter_lines(lines).kept == [2, 3]


def test_credits_and_view_counts() -> None:
    assert peel_credits(["Đoạn văn.", "Hoàng Mai", "Trung tâm VH-TT-TT Giao Thủy"])[1].author == (
        "Hoàng Mai - Trung tâm VH-TT-TT Giao Thủy"
    )
    count, credits = peel_credits(["Đoạn văn.", "THANH THẢO (Theo danang.gov.vn)"])
    assert (count, credits.author, credits.source) == (1, "THANH THẢO", "Theo danang.gov.vn")
    assert peel_credits(["Đoạn văn.", "Nguồn: Báo Nhân Dân"])[1].source == "Nguồn: Báo Nhân Dân"
    assert peel_credits(["Đoạn một.", "Theo kế hoạch, hội nghị sẽ diễn ra trong hai ngày, từ 12 đến 13/9."])[0] == 0
    assert view_count_from_text("12-09-2023 255") == 255
    assert view_count_from_text("Thứ 4, 30/09/2026 | 16:06 | Lượt xem: 1.234") == 1234
    assert view_count_from_text("Thứ hai - 15/01/2024 09:30") is None


# ---- encodings ----


def test_windows_1258_declared_mislabelled_and_unlabelled() -> None:
    source = fixture_html("unknown").decode("utf-8")
    reference = extract(source, PAGE_URL)
    declared = to_cp1258(source.replace('<meta charset="utf-8">', '<meta charset="windows-1258">'))
    says_utf8 = to_cp1258(source)
    unlabelled = to_cp1258(source.replace('<meta charset="utf-8">', ""))
    says_latin1 = to_cp1258(source.replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">'))
    for data, headers in (
        (declared, None),
        (says_utf8, {"Content-Type": "text/html; charset=utf-8"}),
        (unlabelled, None),
        (says_latin1, None),
    ):
        result = extract(data, PAGE_URL, headers=headers)
        assert result.encoding == "cp1258"
        assert (result.title, result.paragraphs, result.author) == (
            reference.title,
            reference.paragraphs,
            reference.author,
        )


def test_utf8_labelled_as_something_else() -> None:
    result = extract(fixture_html("mislabelled"), PAGE_URL, headers={"Content-Type": "text/html; charset=ISO-8859-1"})
    assert result.encoding == "utf-8"
    assert result.title == "Lễ phát động Tết trồng cây đời đời nhớ ơn Bác Hồ"
    assert result.paragraphs[1].startswith("Ngay sau lễ phát động, cán bộ, đoàn viên")


def test_nfd_page_gives_the_nfc_extraction() -> None:
    reference = extract(fixture_html("nukeviet"), PAGE_URL)
    decomposed = unicodedata.normalize("NFD", fixture_html("nukeviet").decode("utf-8")).encode("utf-8")
    assert extract(decomposed, PAGE_URL).to_dict() == reference.to_dict()
    text = (TEXT_FIXTURES / "footer-source.txt").read_text(encoding="utf-8")
    assert extract_text(unicodedata.normalize("NFD", text)).to_dict() == extract_text(text).to_dict()


def test_decode_bom_and_broken_utf8() -> None:
    assert decode_html("\ufeff<p>Chào</p>".encode("utf-8-sig"))[1] == "utf-8"
    page = ("<p>" + "Nội dung tiếng Việt có dấu đầy đủ. " * 20 + "</p>").encode("utf-8")
    text, encoding = decode_html(page[:-7] + b"\xff\xfe" + page[-7:])
    assert encoding == "utf-8" and "Nội dung" in text


# ---- pages that are not articles ----


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty", "empty"),
        ("whitespace", "empty"),
        ("login", "login-page"),
        ("incapsula", "challenge"),
        ("spa-shell", "js-shell"),
    ],
)
def test_not_articles(name: str, reason: str) -> None:
    result = extract(fixture_html(name), PAGE_URL)
    assert not result.ok and result.reason == reason
    assert result.paragraphs == [] and result.body == ""


def test_login_box_beside_an_article_is_an_article() -> None:
    result = extract(fixture_html("sidebar-login"), PAGE_URL)
    assert result.ok and result.title == "Ra mắt câu lạc bộ phụ nữ khởi nghiệp"
    assert result.date_candidates[0] == {"raw": "08/03/2025", "source": "visible"}


def test_wall_cookies_on_a_real_article_are_not_a_challenge() -> None:
    result = extract(fixture_html("vhv"), PAGE_URL, headers={"Set-Cookie": "incap_ses_12=a; visid_incap_9=b"})
    assert result.ok


def test_broken_markup() -> None:
    result = extract(fixture_html("broken"), PAGE_URL)
    assert result.ok and result.title == "Hội thi tìm hiểu pháp luật cho thanh niên"
    assert result.paragraphs[0].startswith("Sáng 26/3/2024, Huyện đoàn Vụ Bản tổ chức Hội thi")
    assert result.paragraphs[-1].startswith("Kết quả, Ban tổ chức đã trao giải Nhất")
    assert_no_boilerplate(result.paragraphs)


# ---- size ----


def test_five_megabyte_page() -> None:
    page = fixture_html("unknown").decode("utf-8")
    item = (
        "<li><a href='/tin-tuc/bai-{0}.html'>Tin tức số {0} về hoạt động của Ủy ban nhân dân xã</a> (12/09/2023)</li>"
    )
    sidebar = "<ul>" + "".join(item.format(i) for i in range(40_000)) + "</ul>"
    big = page.replace('<div id="right">', '<div id="right">' + sidebar).encode("utf-8")
    assert len(big) > 5_000_000
    started = time.process_time()  # CPU time: a bound against blow-ups, not a speed figure (see bench/)
    result = extract(big, PAGE_URL)
    assert time.process_time() - started < 15
    assert result.ok and result.paragraphs == labels("unknown")["paragraphs"]


def test_huge_inline_data_is_stripped_before_parsing() -> None:
    page = fixture_html("unknown").decode("utf-8")
    huge = page.replace("<body>", "<body><img src='data:image/png;base64," + "A" * 30_000_000 + "'>").encode()
    started = time.process_time()
    result = extract(huge, PAGE_URL)
    assert time.process_time() - started < 10
    assert result.ok and result.title == labels("unknown")["title"]


# ---- never raises ----

SEED_PAGES = [fixture_html(name) for name in ("nukeviet", "vhv", "tandan", "broken", "unknown")]
TAGS = [
    "<p>",
    "</p>",
    "<div class='bodytext'>",
    "</div>",
    "<br>",
    "<table><tr><td>",
    "<h1>",
    "<img src=x>",
    "<figure><figcaption>",
    "<script>",
    "<!--",
    "<title>",
    "&nbsp;",
    "\x00",
    "<?xml version='1.0'?>",
    "\ufeff",
]


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    page = bytearray(draw(st.sampled_from(SEED_PAGES)))
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(page)))
        action = draw(st.sampled_from(["cut", "insert", "bytes"]))
        if action == "cut":
            page = page[:position] + page[position + draw(st.integers(0, 5000)) :]
        elif action == "insert":
            page[position:position] = draw(st.sampled_from(TAGS)).encode("utf-8")
        else:
            page[position:position] = draw(st.binary(max_size=40))
    return bytes(page)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pages())
def test_extract_never_raises_on_mutated_pages(page: bytes) -> None:
    result = extract(page, PAGE_URL)
    assert isinstance(result, Extraction)
    assert result.ok == bool(result.paragraphs)
    json.dumps(result.to_dict(), ensure_ascii=False)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=2000)))
def test_extract_never_raises_on_noise(data: bytes | str) -> None:
    assert isinstance(extract(data), Extraction)
    if isinstance(data, str):
        assert isinstance(extract_text(data), Extraction)


# ---- command line ----


def test_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli_main([str(tmp_path / "missing.html")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert cli_main([str(FIXTURES / "vhv.html"), "--url", PAGE_URL]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["title"] == labels("vhv")["title"]
    assert {"published", "author", "source", "body"} <= set(output)
    assert cli_main(["--text", str(TEXT_FIXTURES / "date-views.txt")]) == 0
    assert json.loads(capsys.readouterr().out)["author"] == "Đăng Khoa - Đài Tiên Lãng"


# ---- the sample web ----


def sample_pages() -> list[tuple[str, str, dict]]:
    pages = []
    for path in sorted(SAMPLES_EXPECTED.glob("*.json")):
        for url_path, expected in json.loads(path.read_text(encoding="utf-8")).items():
            pages.append((path.stem, url_path, expected))
    return pages


def test_sample_web_articles() -> None:
    from crawler.samples.server import SiteRouter
    from crawler.samples.site import load_sites

    sites = {site.id: site for site in load_sites()}
    mismatches = []
    pages = sample_pages()
    for site_id, url_path, expected in pages:
        site = sites[site_id]
        base = f"http://{site.address}:8765"
        response = SiteRouter(site, base).respond(url_path)
        result = extract(response.body, base + url_path, headers={"Content-Type": response.content_type})
        got = {key: getattr(result, key) for key in ("title", "paragraphs", "author", "source")}
        if got != {key: expected.get(key) for key in got}:
            mismatches.append(f"{site_id} {url_path}")
        assert_no_boilerplate(result.paragraphs)
    assert pages and not mismatches, mismatches


TITLE_HP = "Xã Hòa Phong tổ chức hội nghị tổng kết công tác dân vận năm 2024"


@pytest.mark.parametrize(
    ("items", "title", "expected"),
    [
        (["Trang chủ", "Tin tức - Sự kiện", "Xã Hòa Phong tổ chức hội nghị..."], TITLE_HP, "Tin tức - Sự kiện"),
        (["Trang chủ", "Tin tức - Sự kiện", "Xã Hòa Phong tổ chức hội nghị tổng kết công"], TITLE_HP,
         "Tin tức - Sự kiện"),
        (["Trang chủ", "Tin tức", TITLE_HP.upper()], TITLE_HP, "Tin tức"),
        (["Trang chủ", "Tin tức"], "Tin tức hội nghị tổng kết", "Tin tức"),  # the title starts with it
        (["Trang chủ", "Tin..."], TITLE_HP, "Tin..."),
    ],
)
def test_breadcrumb_category_is_never_the_title(items, title, expected):
    from crawler.extract.fields import category_from_breadcrumb

    assert category_from_breadcrumb(items, title) == expected


def test_generic_page_caption_in_the_paragraph_of_its_picture():
    """No family profile: trafilatura reads the page; a picture and the line under it in one <p>
    (``<img><br><em>caption</em>``) give the picture its caption."""
    paragraphs = "".join(
        f"<p>Đoạn {i}: các thôn đã vận động nhân dân hiến đất mở rộng đường giao thông nông thôn, làm mới nhiều "
        f"tuyến đường bê tông và xây dựng thêm nhà văn hóa thôn trong năm qua.</p>" for i in range(5)
    )
    html = (
        "<html><head><title>Hội nghị tổng kết công tác dân vận</title></head><body><div class='content'>"
        "<h1>Hội nghị tổng kết công tác dân vận</h1>" + paragraphs +
        "<p><img src='/images/hoinghi.jpg' alt='ảnh'><br><em>Quang cảnh hội nghị tổng kết</em></p>"
        + paragraphs + "</div></body></html>"
    )
    result = extract(html.encode(), "https://xa.example.gov.vn/tin-tuc/1")
    assert result.ok and result.method == "generic"
    assert [(i["src"], i["caption"]) for i in result.images] == [
        ("https://xa.example.gov.vn/images/hoinghi.jpg", "Quang cảnh hội nghị tổng kết")
    ]
    assert "Quang cảnh hội nghị tổng kết" in result.body  # captions are article content
