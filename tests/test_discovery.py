import pytest

from crawler.config import Site
from crawler.discovery import page_links, rules_for


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
