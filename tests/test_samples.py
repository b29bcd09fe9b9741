"""The sample web: every site serves its pages in its family's markup, over real HTTP."""

from __future__ import annotations

import base64
import json
import re
import tomllib
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.robotparser import RobotFileParser

import pytest
from lxml import html as lxml_html

from crawler.samples import datefmt, expectations
from crawler.samples.server import SampleWeb, to_cp1258
from crawler.samples.site import (
    DEFAULT_PORT,
    EXPECTED_DIR,
    SAMPLES_DIR,
    VN_TZ,
    Article,
    category_path,
    crawl_config_toml,
    listing_page_url,
    load_sites,
)
from crawler.samples.synthetic import write_synthetic_content

SITE_IDS = ["dvtu-namdinh", "hungyen", "giaothuy", "danang", "mttq-danang", "anlao"]

# Strings each family's pages must carry (the detection fingerprints of the field guide).
FINGERPRINTS = {
    "nukeviet": ['content="NukeViet v4', "nv_base_siteurl", "nv_my_abbr"],
    "vhv": ["/publish/js/lib2-", "VHV.init(", 'id="whole-page"', "ModuleWrapper"],
    "tandan": ['content="Microsoft SharePoint"', "/_layouts/15/", 'id="aspnetForm"', "tandan-"],
    "liferay": ["p_p_id_", "/web/guest/", "lfr-", "Liferay"],
    "wordpress": ["/wp-content/", "/wp-json/", 'content="WordPress'],
    "aspnet-ui": ["DesktopModule/UIArticleInMenu", "__VIEWSTATE"],
}

# How to find the "next page" link on a listing page, per family.
NEXT_LINK = {
    "nukeviet": "//ul[contains(@class,'pagination')]//a[@rel='next' and @title='Trang sau']/@href",
    "vhv": "//ul[contains(@class,'pagination')]//a[contains(@class,'next')]/@href",
    "tandan": "//div[@class='tandan-paging']/a[contains(@class,'next')]/@href",
    "liferay": "//ul[contains(@class,'lfr-pagination-buttons')]/li[not(contains(@class,'disabled'))]/a[.='Tiếp']/@href",
    "wordpress": "//nav[contains(@class,'pagination')]//a[contains(@class,'next')]/@href",
    "aspnet-ui": "//div[@class='paging']/a[@class='next']/@href",
}

ITEM_LINK = {
    "nukeviet": "//div[@class='news_column']//h3/a/@href",
    "vhv": "//article[contains(@class,'article-news-default')]//a[contains(@class,'article-title')]/@href",
    "tandan": "//div[@class='tandan-channel-list']//div[@class='channel-news-title']/a/@href",
    "liferay": "//div[contains(@class,'asset-abstract')]//h3[@class='asset-title']/a/@href",
    "wordpress": "//article[contains(@class,'type-post')]//h2[@class='entry-title']/a/@href",
    "aspnet-ui": "//div[@id]/div[@class='UIListNews_Default']/div[@class='item']/a[@class='Title']/@href",
}


def fetch(url: str) -> tuple[int, str, bytes, str]:
    """(status, content type, body, final URL), following redirects; HTTP errors are returned, not raised."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read(), url


def decode(content_type: str, body: bytes) -> str:
    charset = re.search(r"charset=([\w-]+)", content_type)
    text = body.decode(charset.group(1) if charset else "utf-8")
    return unicodedata.normalize("NFC", text)


def page_text(markup: str) -> str:
    return " ".join(lxml_html.fromstring(markup).text_content().split())


@pytest.fixture(scope="module")
def synthetic_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleWeb]:
    """Synthetic content: six articles per category, so every category has two pages."""
    content = write_synthetic_content(tmp_path_factory.mktemp("content"), per_category=6)
    with SampleWeb(port=0, content_dir=content) as web:
        yield web


@pytest.fixture(scope="module")
def real_web() -> Iterator[SampleWeb]:
    with SampleWeb(port=0) as web:
        yield web


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_home_robots_sitemap_and_404(synthetic_web: SampleWeb, site_id: str) -> None:
    site = synthetic_web.sites[site_id]
    status, ctype, body, _ = fetch(synthetic_web.url(site_id, "/"))
    assert status == 200 and ctype.startswith("text/html; charset=")
    home = decode(ctype, body)
    for mark in FINGERPRINTS[site.family]:
        assert mark in home, f"{site_id}: fingerprint {mark!r} missing"
    assert "Thống kê truy cập" in home and "Địa chỉ:" in home and "Giấy phép số:" in home
    assert "khi bạn phát hành thông tin từ website này" in home
    newest = site.sorted_articles()[0]
    assert newest.title in page_text(home)

    status, ctype, body, _ = fetch(synthetic_web.url(site_id, "/robots.txt"))
    robots = body.decode()
    assert status == 200 and "User-agent: *" in robots and "Disallow: /" in robots
    sitemap_url = re.search(r"^Sitemap: (\S+)$", robots, re.M).group(1)
    assert sitemap_url.startswith(synthetic_web.base_url(site_id))
    status, ctype, body, _ = fetch(sitemap_url)
    assert status == 200 and "xml" in ctype
    if site.family == "wordpress":  # Yoast: an index pointing at post-sitemap.xml
        status, _, body, _ = fetch(re.search(rb"<loc>(\S+post-sitemap\.xml)</loc>", body).group(1).decode())
        assert status == 200
    assert body.count(b"<lastmod>") == len(site.articles)

    status, ctype, body, _ = fetch(synthetic_web.url(site_id, "/khong-co-trang-nay.html"))
    assert status == 404 and ctype.startswith("text/html")
    assert FINGERPRINTS[site.family][0] in decode(ctype, body)


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_listing_pagination_reaches_every_article(synthetic_web: SampleWeb, site_id: str) -> None:
    site = synthetic_web.sites[site_id]
    family = site.family
    for cat in site.categories:
        url = synthetic_web.url(site_id, category_path(site, cat.key))
        status, ctype, body, _ = fetch(url)
        assert status == 200
        first = decode(ctype, body)
        if family == "vhv":
            # The category page's pager is empty; its state is base64 JSON, and a plain link leads to page 2.
            assert re.search(rf'<div id="pagination{cat.id}" class="default-pagination"></div>', first)
            state = json.loads(base64.b64decode(re.search(r"decode64\('([^']+)'\)", first).group(1)))
            assert state["totalItems"] == 6 and state["itemsPerPage"] == 4
            url = synthetic_web.url(site_id, f"/chuyen-muc-{cat.key}-c{cat.id}-1.html")
        seen: list[str] = []
        pages = 0
        while url:
            status, ctype, body, _ = fetch(url)
            assert status == 200, url
            doc = lxml_html.fromstring(decode(ctype, body))
            seen += [link.replace(synthetic_web.base_url(site_id), "") for link in doc.xpath(ITEM_LINK[family])]
            pages += 1
            nxt = doc.xpath(NEXT_LINK[family])
            url = urllib.request.urljoin(url, nxt[0]) if nxt else ""
        expected = [synthetic_web.article_url(site_id, a.id) for a in site.sorted_articles(cat.key)]
        assert pages == 2
        assert [synthetic_web.base_url(site_id) + p for p in seen] == expected


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_listing_page_two_and_out_of_range(synthetic_web: SampleWeb, site_id: str) -> None:
    site = synthetic_web.sites[site_id]
    key = site.categories[0].key
    status, ctype, body, _ = fetch(synthetic_web.url(site_id, listing_page_url(site, key, 2)))
    assert status == 200
    text = page_text(decode(ctype, body))
    oldest = site.sorted_articles(key)[-1]
    assert oldest.title in text
    status, *_ = fetch(synthetic_web.url(site_id, listing_page_url(site, key, 9)))
    assert status == 404


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_articles_show_expected_content(synthetic_web: SampleWeb, site_id: str) -> None:
    site = synthetic_web.sites[site_id]
    for path, expected in expectations.expected_for_site(site).items():
        status, ctype, body, _ = fetch(synthetic_web.url(site_id, path))
        assert status == 200, path
        markup = decode(ctype, body)
        text = page_text(markup)
        assert expected["title"] in text
        for paragraph in expected["paragraphs"]:
            assert paragraph in text, f"{site_id}{path}: {paragraph[:40]!r} not on the page"
        for value in (expected["author"], expected["source"]):
            assert value is None or value in text
        for image in re.findall(r'<img[^>]+src="([^"]+\.jpg)"', markup)[:2]:
            status, ctype, body, _ = fetch(urllib.request.urljoin(synthetic_web.url(site_id, path), image))
            assert status == 200 and ctype == "image/jpeg" and body[:2] == b"\xff\xd8"


def test_checked_in_expectations_are_served(real_web: SampleWeb) -> None:
    files = sorted(EXPECTED_DIR.glob("*.json"))
    assert {f.stem for f in files} == set(SITE_IDS)
    for file in files:
        for path, expected in json.loads(file.read_text(encoding="utf-8")).items():
            assert expected["site_id"] == file.stem and expected["url_path"] == path
            status, ctype, body, _ = fetch(real_web.url(file.stem, path))
            assert status == 200, path
            text = page_text(decode(ctype, body))
            assert expected["title"] in text
            assert all(p in text for p in expected["paragraphs"]), path


def test_expectations_are_current() -> None:
    assert expectations.main(["--check"]) == 0


def test_sites_toml_is_current() -> None:
    text = (SAMPLES_DIR / "sites.toml").read_text(encoding="utf-8")
    assert text == crawl_config_toml(load_sites(), DEFAULT_PORT)
    config = tomllib.loads(text)
    assert [s["id"] for s in config["site"]] == SITE_IDS
    assert config["site"][0]["start_urls"] == ["http://127.0.0.11:8765/"]


def test_write_config_uses_the_served_port(synthetic_web: SampleWeb, tmp_path: Path) -> None:
    config = tomllib.loads(synthetic_web.write_config(tmp_path / "sites.toml").read_text(encoding="utf-8"))
    for entry in config["site"]:
        assert entry["start_urls"] == [synthetic_web.base_url(entry["id"]) + "/"]
        assert entry["family"] and entry["aliases"]


def test_added_article_comes_first(tmp_path: Path) -> None:
    content = write_synthetic_content(tmp_path, per_category=5)
    with SampleWeb(port=0, content_dir=content, site_ids=["dvtu-namdinh"]) as web:
        url = web.add_article(
            "dvtu-namdinh",
            {
                "id": 999,
                "slug": "bai-moi-dang",
                "category": "dan-van-kheo",
                "title": "Bài mới đăng trong lúc thu thập",
                "published": "2020-01-02T10:00:00+07:00",  # old date: still first, as an added article
                "lead": "Bài viết được thêm khi máy chủ đang chạy.",
                "paragraphs": ["Đoạn thân bài."],
            },
        )
        assert url.endswith("/vi/news/dan-van-kheo/bai-moi-dang-999.html")
        assert fetch(url)[0] == 200
        _, ctype, body, _ = fetch(web.url("dvtu-namdinh", "/vi/news/dan-van-kheo/"))
        links = lxml_html.fromstring(decode(ctype, body)).xpath(ITEM_LINK["nukeviet"])
        assert links[0] == "/vi/news/dan-van-kheo/bai-moi-dang-999.html"
        web.update_article("dvtu-namdinh", 999, title="Bài mới đăng (đã sửa)")
        assert "Bài mới đăng (đã sửa)" in decode(*fetch(url)[1:3])
        web.remove_article("dvtu-namdinh", 999)
        assert fetch(url)[0] == 404


def test_redirects_and_media(synthetic_web: SampleWeb) -> None:
    status, _, _, final = fetch(synthetic_web.url("giaothuy", "/"))
    assert status == 200 and final.endswith("/portal/Home/default.aspx")
    article = synthetic_web.sites["mttq-danang"].articles[0]
    status, _, _, final = fetch(synthetic_web.url("mttq-danang", f"/?p={article.id}"))
    assert status == 200 and final == synthetic_web.article_url("mttq-danang", article.id)
    status, ctype, body, _ = fetch(synthetic_web.url("danang", "/documents/20182/0/ke-hoach.pdf"))
    assert status == 200 and ctype == "application/pdf" and body.startswith(b"%PDF-")
    status, ctype, body, _ = fetch(synthetic_web.url("hungyen", "/App/images/no-image-news.png"))
    assert status == 200 and body.startswith(b"\x89PNG")


def test_windows_1258_and_nfd_sites(synthetic_web: SampleWeb) -> None:
    _, ctype, body, _ = fetch(synthetic_web.url("anlao", "/"))
    assert ctype == "text/html; charset=windows-1258"
    assert "Thống kê truy cập" not in body.decode("cp1258")  # decomposed tone marks ...
    assert "Thống kê truy cập" in unicodedata.normalize("NFC", body.decode("cp1258"))  # ... compose back
    article = synthetic_web.sites["giaothuy"].articles[0]
    _, ctype, body, _ = fetch(synthetic_web.article_url("giaothuy", article.id))
    raw = body.decode("utf-8")
    decomposed = unicodedata.normalize("NFD", article.lead)
    assert decomposed != article.lead and decomposed in raw  # the body text; head meta stays NFC


def test_cp1258_round_trip() -> None:
    text = "Ủy ban Mặt trận Tổ quốc Việt Nam: Đảng, dân vận khéo, ưu tiên, giữ gìn, “trích dẫn” – ỹ ỵ Ỷ"
    assert unicodedata.normalize("NFC", to_cp1258(text).decode("cp1258")) == text


def _article(published: date | datetime, style: str | None = None) -> Article:
    return Article(
        id=7,
        slug="x",
        category="c",
        title="T",
        published=published,
        lead="L",
        paragraphs=[],
        date_style=style,
        views=255,
    )


@pytest.mark.parametrize(
    ("family", "style", "text", "iso"),
    [
        ("nukeviet", "weekday", "Thứ hai - 15/01/2024 09:30", "2024-01-15T09:30:00+07:00"),
        ("nukeviet", "egov", "15/01/2024 09:30:00 AM", "2024-01-15T09:30:00+07:00"),
        ("vhv", "moit", "Thứ 2, 15/01/2024 | 09:30", "2024-01-15T09:30:00+07:00"),
        ("vhv", "hungyen", "15/01/2024 09:30 | Lượt xem: 255", "2024-01-15T09:30:00+07:00"),
        ("tandan", "dang-ngay", "Đăng ngày 15-01-2024 09:30", "2024-01-15T09:30:00+07:00"),
        ("liferay", "views", "15-01-2024 255", "2024-01-15"),
        ("liferay", "cap-nhat", "Cập nhật: 09:30 | 15/01/2024", "2024-01-15T09:30:00+07:00"),
        ("wordpress", "entry-date", "15/01/2024", "2024-01-15T09:30:00+07:00"),
        ("wordpress", "month-name", "Tháng Một 15, 2024", "2024-01-15T09:30:00+07:00"),
        ("aspnet-ui", "h", "15/01/2024 09h30", "2024-01-15T09:30:00+07:00"),
        ("aspnet-ui", "ch", "09:30 SA 15/01/2024", "2024-01-15T09:30:00+07:00"),
        ("aspnet-ui", "gio-phut", "9 giờ 30 phút, ngày 15/1/2024", "2024-01-15T09:30:00+07:00"),
        ("aspnet-ui", "none", "", "2024-01-15"),
    ],
)
def test_date_forms(family: str, style: str, text: str, iso: str) -> None:
    line = datefmt.date_line(family, _article(datetime(2024, 1, 15, 9, 30, tzinfo=VN_TZ), style))
    assert " ".join(line.text.split()) == text
    assert line.iso == iso


def test_date_only_articles_never_show_a_time() -> None:
    for family, styles in datefmt.STYLES.items():
        for style in styles:
            line = datefmt.date_line(family, _article(date(2024, 1, 15), style))
            assert line.iso == "2024-01-15" and not re.search(r"\d:\d\d", line.text)


def test_meta_quirks() -> None:
    published = datetime(2024, 1, 15, 9, 30, tzinfo=VN_TZ)
    assert datefmt.nukeviet_malformed(published) == "2024-01-15+0709:30:00"
    assert datefmt.vhv_colonless(published) == "2024-01-15T09:30:00+0700"
    assert datefmt.vhv_dc_date(published) == "2024-01-15+0709:30:00"


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_no_dead_internal_links(real_web: SampleWeb, site_id: str) -> None:
    """Following every link a polite crawler may follow (robots.txt obeyed) never meets a 404."""
    base = real_web.base_url(site_id)
    robots = RobotFileParser()
    robots.parse(fetch(base + "/robots.txt")[2].decode().splitlines())
    queue, seen, dead = [base + "/"], set(), []
    while queue:
        url = queue.pop()
        if url in seen or not robots.can_fetch("*", url):
            continue
        seen.add(url)
        status, ctype, body, _ = fetch(url)
        if status != 200:
            dead.append(url)
            continue
        if not ctype.startswith("text/html"):
            continue
        for href in lxml_html.fromstring(decode(ctype, body)).xpath("//a/@href"):
            target = urllib.request.urljoin(url, href).split("#")[0]
            if target.startswith(base) and not re.search(r"\.(jpg|png|gif|pdf)$", target):
                queue.append(target)
    assert len(seen) > 15 and not dead, dead
