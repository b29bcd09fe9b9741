import pytest

from crawler.config import Site
from crawler.discovery import Link, next_pages, page_links, rules_for


def site(**kw) -> Site:
    base = dict(id="s", name="S", province="P", kind="government", start_urls=("http://example.gov.vn/",))
    base.update(kw)
    return Site(**base)


@pytest.mark.parametrize(
    ("family", "path", "kind"),
    [
        ("nukeviet", "/vi/news/tin-tuc-su-kien-421/hoi-nghi-tap-huan-26895.html", "article"),
        ("nukeviet", "/vi/news/tin-tuc-su-kien-421/", "listing"),
        ("nukeviet", "/vi/news/tin-tuc-su-kien-421/page-2", "pagination"),
        ("nukeviet", "/vi/news/print/tin-tuc/hoi-nghi-26895.html", None),
        ("vhv", "/tin-tuc/phat-trien-nang-luong/ky-ket-chuong-trinh-phoi-hop.html", "article"),
        ("vhv", "/chuyen-muc-tin-tuc-su-kien-c14-2.html", "pagination"),
        ("tandan", "/portal/Pages/2024-10-15/Hoi-nghi-tap-huan-cong-tac-dan-vana1b2c3.aspx", "article"),
        ("tandan", "/portal/Pages/Tin-tuc-su-kien.aspx?PageIndex=2", "pagination"),
        ("liferay", "/web/guest/-/hoi-nghi-tap-huan-cong-tac-dan-van", "article"),
        ("liferay", "/web/guest/tin-tuc?_news_WAR_portlet_cur=2", "pagination"),
        ("wordpress", "/2024/10/15/hoi-nghi-tap-huan/", "article"),
        ("wordpress", "/category/tin-hoat-dong/page/2/", "pagination"),
        ("wordpress", "/wp-login.php", None),
        ("aspnet-ui", "/tin-tuc/hoi-nghi-tap-huan-cong-tac-dan-van-1234.html", "article"),
        ("aspnet-ui", "/tin-tuc?page=3", "pagination"),
    ],
)
def test_family_rules_classify_real_url_shapes(family, path, kind):
    assert rules_for(site(), family).classify("http://example.gov.vn" + path) == kind


def test_site_patterns_override_family():
    rules = rules_for(site(article_patterns=(r"^/bai-viet/\d+$",)), "nukeviet")
    assert rules.classify("http://example.gov.vn/bai-viet/42") == "article"
    assert rules.classify("http://example.gov.vn/vi/news/cat/slug-12.html") != "article"


def test_links_carry_the_listing_date_of_their_own_item_only():
    html = """
    <div class="news_column"><div class="panel-body">
      <h3><a href="/vi/news/tin/bai-mot-101.html">Bài một</a></h3>
      <ul class="list-inline"><li>15/01/2024 09:30:00</li><li>Đã xem: 5</li></ul>
    </div><div class="panel-body">
      <h3><a href="/vi/news/tin/bai-hai-102.html">Bài hai</a></h3>
    </div></div>
    <ul class="related"><li><a href="/vi/news/tin/bai-ba-103.html">Bài ba</a> <em>(3/4/2021)</em></li></ul>
    <a href="http://other.gov.vn/vi/news/tin/bai-ngoai-104.html">elsewhere</a>
    <a href="/vi/news/tin/page-2" rel="next">Sau</a>
    """
    links = page_links(html, "http://example.gov.vn/vi/news/tin/", rules_for(site(), "nukeviet"),
                       ("example.gov.vn",))
    by_url = {link.url.rsplit("/", 1)[1]: link for link in links}
    assert by_url["bai-mot-101.html"].listing_date == "15/01/2024 09:30:00"
    assert by_url["bai-hai-102.html"].listing_date is None
    assert by_url["bai-ba-103.html"].listing_date == "3/4/2021"
    assert "bai-ngoai-104.html" not in by_url
    assert by_url["page-2"].kind == "pagination"


@pytest.mark.parametrize(
    ("family", "path", "chain", "number"),
    [
        ("nukeviet", "/vi/news/tin/page-12", "/vi/news/tin/page-{n}", 12),
        ("vhv", "/chuyen-muc-tin-tuc-c14-3.html", "/chuyen-muc-tin-tuc-c14-{n}.html", 3),
        ("tandan", "/portal/Pages/Tin.aspx?PageIndex=4", "/portal/Pages/Tin.aspx?PageIndex={n}", 4),
        ("liferay", "/web/guest/tin?_101_INSTANCE_AB_cur=5&_101_INSTANCE_AB_delta=4",
         "/web/guest/tin?_101_INSTANCE_AB_cur={n}&_101_INSTANCE_AB_delta=4", 5),
        ("wordpress", "/category/tin/page/6/", "/category/tin/page/{n}/", 6),
        ("aspnet-ui", "/tin-tuc?page=7", "/tin-tuc?page={n}", 7),
    ],
)
def test_pagination_urls_give_their_chain_and_page_number(family, path, chain, number):
    page = rules_for(site(), family).page_of("http://example.gov.vn" + path)
    assert page is not None
    assert (page.chain, page.number) == ("http://example.gov.vn" + chain, number)


def test_a_listing_follows_one_page_at_a_time():
    rules = rules_for(site(), "aspnet-ui")
    pager = [Link(f"http://example.gov.vn/tin-tuc?page={n}", "pagination") for n in (1, 2, 3, 4, 5, 500)]
    more = [Link("http://example.gov.vn/thong-bao?page=2", "pagination")]
    first = next_pages(pager + more, "http://example.gov.vn/tin-tuc", rules)
    assert sorted(link.url for link, _ in first) == [
        "http://example.gov.vn/thong-bao?page=2", "http://example.gov.vn/tin-tuc?page=2",
    ]
    third = next_pages(pager, "http://example.gov.vn/tin-tuc?page=3", rules)
    assert [link.url for link, _ in third] == ["http://example.gov.vn/tin-tuc?page=4"]
    assert next_pages(pager[:3], "http://example.gov.vn/tin-tuc?page=3", rules) == []


@pytest.mark.parametrize(
    ("family", "path"),
    [
        ("wordpress", "/2024/01/"),
        ("wordpress", "/2024/01/15/"),
        ("generic", "/lich-cong-tac?tuan=12"),
        ("generic", "/lich-lam-viec/tuan-52.html"),
        ("generic", "/tin-tuc?date=2024-01-01"),
        ("nukeviet", "/vi/news/tin-tuc/?ngay=15"),
    ],
)
def test_calendars_and_date_archives_are_denied(family, path):
    assert rules_for(site(), family).classify("http://example.gov.vn" + path) is None


def test_an_empty_date_filter_in_a_pager_is_not_a_calendar():
    rules = rules_for(site(), "generic")
    assert rules.classify("http://example.gov.vn/tin-tuc?date=&EventID=0&Page=3") == "pagination"


def test_unknown_cms_slug_only_articles_are_told_by_headline_and_date():
    """No site or family pattern: a link reading as a news item (a headline, a title slug, a date beside it)
    is an article; menu and category links (short names, no date) stay listings."""
    html = """
    <ul class="menu"><li><a href="/tin-tuc/hoat-dong-cua-xa">Hoạt động của xã</a></li>
      <li><a href="/tin-tuc/tin-hoat-dong-cua-uy-ban-nhan-dan-xa">Tin hoạt động của Ủy ban nhân dân xã</a></li></ul>
    <ul class="list-news">
      <li><a href="/tin-tuc/xa-hoa-phong-to-chuc-hoi-nghi-tong-ket-cong-tac-dan-van">Xã Hòa Phong tổ chức hội nghị
        tổng kết công tác dân vận</a> <span class="date">(20/12/2024)</span></li>
      <li><a href="/tin-tuc/ra-mat-mo-hinh-dan-van-kheo-thon-phong-nam/">Ra mắt mô hình dân vận khéo thôn Phong
        Nam</a> <span class="date">18/12/2024</span></li>
      <li><a href="/tin-tuc/hop-mat">Họp mặt kỷ niệm ngày thành lập Mặt trận</a> <span>15/12/2024</span></li>
    </ul>
    """
    links = {link.url.rstrip("/").rsplit("/", 1)[1]: link for link in page_links(
        html, "http://xa.example.gov.vn/tin-tuc", rules_for(site(), None), ("xa.example.gov.vn",))}
    assert links["xa-hoa-phong-to-chuc-hoi-nghi-tong-ket-cong-tac-dan-van"].kind == "article"
    assert links["xa-hoa-phong-to-chuc-hoi-nghi-tong-ket-cong-tac-dan-van"].listing_date == "20/12/2024"
    assert links["ra-mat-mo-hinh-dan-van-kheo-thon-phong-nam"].kind == "article"
    assert links["hoat-dong-cua-xa"].kind == "listing"
    assert links["tin-hoat-dong-cua-uy-ban-nhan-dan-xa"].kind == "listing"  # a headline's length, no date
    assert links["hop-mat"].kind == "listing"  # no title slug: not guessed
    # A family's own article patterns are never second-guessed.
    family = page_links(html, "http://xa.example.gov.vn/tin-tuc", rules_for(site(), "nukeviet"),
                        ("xa.example.gov.vn",))
    assert all(link.kind != "article" for link in family)
