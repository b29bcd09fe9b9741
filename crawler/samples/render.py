"""Render the sample sites' pages with Jinja2 (templates/<family>/) and compute what those pages contain.

The article page and the expectations both use `article_view`, so what the expected JSON says is what the
template prints.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import jinja2
from markupsafe import Markup

from . import datefmt
from .datefmt import DateLine
from .site import (
    PAGE_SIZE,
    TEMPLATES_DIR,
    Article,
    Category,
    SampleSite,
    article_path,
    attachment_url,
    category_path,
    home_path,
    image_url,
    liferay_portlet_id,
    listing_page_url,
    page_count,
    vhv_site_id,
)

HOME_LATEST = 6
RELATED = 5


@dataclass(frozen=True)
class Block:
    """One item of an article body: a paragraph, or an image with its (possibly empty) caption."""

    kind: str  # "p" or "img"
    text: str = ""  # paragraph text or caption
    src: str = ""  # image URL (path)
    n: int = 0  # running number (images: for ids like attachment_NN)


@dataclass
class ArticleView:
    article: Article
    site: SampleSite
    url: str
    cat: Category
    cat_url: str
    date: DateLine
    listing_date: str
    machine_date: str | None
    title: str
    lead: str
    blocks: list[Block]
    thumb: str
    attachments: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.article.id

    @property
    def author(self) -> str | None:
        return self.article.author

    @property
    def source(self) -> str | None:
        return self.article.source

    @property
    def views(self) -> int:
        return self.article.view_count

    @property
    def source_in_body(self) -> bool:
        """'Theo ...' / 'Nguồn: ...' lines are printed inside the content, as real sites do."""
        src = self.article.source or ""
        return src.startswith(("Theo", "Nguồn", "(Theo", "Nguon"))


def _text(site: SampleSite, text: str) -> str:
    return unicodedata.normalize(site.unicode_form, text)


def body_blocks(site: SampleSite, article: Article) -> list[Block]:
    """Paragraphs with images inserted after paragraph N (0 = right after the lead, i.e. first in the body)."""
    by_after: dict[int, list[Any]] = {}
    last = len(article.paragraphs)
    for img in article.images:
        by_after.setdefault(min(max(img.after, 0), last), []).append(img)
    blocks: list[Block] = []
    counter = 0

    def add_images(pos: int) -> None:
        nonlocal counter
        for img in by_after.get(pos, []):
            counter += 1
            src = image_url(site, article, img.src)
            blocks.append(Block("img", _text(site, img.caption), src, article.id * 10 + counter))

    add_images(0)
    for i, para in enumerate(article.paragraphs, start=1):
        blocks.append(Block("p", _text(site, para)))
        add_images(i)
    return blocks


def expected_paragraphs(site: SampleSite, article: Article) -> list[str]:
    """Lead first, then body paragraphs and captions in page order, NFC (the archive's normal form)."""
    items = [article.lead] + [b.text for b in body_blocks(site, article) if b.text]
    return [unicodedata.normalize("NFC", t) for t in items]


def article_view(site: SampleSite, article: Article) -> ArticleView:
    line = datefmt.date_line(site.family, article)
    blocks = body_blocks(site, article)
    first_img = next((b.src for b in blocks if b.kind == "img"), "")
    cat = site.category(article.category)
    return ArticleView(
        article=article,
        site=site,
        url=article_path(site, article),
        cat=cat,
        cat_url=category_path(site, cat.key),
        date=line,
        listing_date=datefmt.listing_date(site.family, article, line),
        machine_date=datefmt.machine_date(article, line),
        title=article.title,
        lead=_text(site, article.lead),
        blocks=blocks,
        thumb=first_img or placeholder_image(site),
        attachments=[{"title": a.title, "url": attachment_url(site, article, a.file)} for a in article.attachments],
        tags=article.tags or [cat.title],
    )


def placeholder_image(site: SampleSite) -> str:
    return {
        "nukeviet": "/themes/default/images/no_image.gif",
        "vhv": "/App/images/no-image-news.png",
        "tandan": "/portal/_layouts/15/TD.Portal/images/noimage.png",
        "liferay": "/o/egov-theme/images/no-image.png",
        "wordpress": "/wp-content/themes/mttq/images/no-thumbnail.png",
        "aspnet-ui": "/Portals/images/noimage.png",
    }[site.family]


# --------------------------------------------------------------------------- page contexts


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["b64json"] = _b64json
    env.filters["alias"] = alias
    env.globals["nfc"] = lambda s: unicodedata.normalize("NFC", s)
    return env


def alias(text: str) -> str:
    """ASCII URL alias of a Vietnamese phrase, as the CMSs build tag and page aliases."""
    folded = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_text).split()
    return "-".join(words)


def _b64json(value: Any) -> str:
    import base64

    return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()


def counters(site: SampleSite) -> dict[str, int]:
    """Visitor counter figures: stable per site so that unchanged pages stay byte-identical."""
    seed = int(hashlib.sha1(site.id.encode()).hexdigest()[:8], 16)
    return {
        "online": 20 + seed % 90,
        "today": 300 + seed % 700,
        "yesterday": 900 + seed % 500,
        "week": 9000 + seed % 8000,
        "month": 30000 + seed % 20000,
        "last_month": 40000 + seed % 9000,
        "year": 400000 + seed % 300000,
        "total": 2000000 + seed % 9000000,
    }


def thousands(n: int, sep: str = ",") -> str:
    return f"{n:,}".replace(",", sep)


def common_context(site: SampleSite, base_url: str) -> dict[str, Any]:
    latest = [article_view(site, a) for a in site.sorted_articles()[:5]]
    return {
        "site": site,
        "base": base_url,
        "home_url": home_path(site),
        "menu": [{"cat": c, "url": category_path(site, c.key)} for c in site.categories],
        "counters": counters(site),
        "thousands": thousands,
        "latest": latest,
        "vhv_site_id": vhv_site_id(site) if site.family == "vhv" else "",
        "documents": new_documents(site),
        "year": 2025,
    }


def new_documents(site: SampleSite) -> list[dict[str, str]]:
    """The 'Văn bản mới' sidebar: document numbers and dates (other dates on the page, on purpose)."""
    return [
        {
            "number": f"{100 + i * 7}/QĐ-UBND",
            "title": f"Quyết định số {100 + i * 7}/QĐ-UBND",
            "date": f"{5 + i}/11/2024",
        }
        for i in range(3)
    ]


def render(site: SampleSite, name: str, **extra: Any) -> str:
    """Render templates/<family>/<name> with the common context plus `extra`."""
    ctx = common_context(site, extra.pop("base_url"))
    ctx.update(extra)
    return environment().get_template(f"{site.family}/{name}").render(**ctx)


def render_home(site: SampleSite, base_url: str) -> str:
    views = [article_view(site, a) for a in site.sorted_articles()[:HOME_LATEST]]
    blocks = [
        {
            "cat": c,
            "url": category_path(site, c.key),
            "first_page_url": listing_page_url(site, c.key, 1),
            "articles": [article_view(site, a) for a in site.sorted_articles(c.key)[:3]],
        }
        for c in site.categories
    ]
    return render(site, "home.html", base_url=base_url, page="home", items=views, cat_blocks=blocks)


@dataclass
class Pager:
    page: int
    pages: int
    urls: dict[int, str]
    total: int

    @property
    def prev_url(self) -> str | None:
        return self.urls.get(self.page - 1)

    @property
    def next_url(self) -> str | None:
        return self.urls.get(self.page + 1)


def render_listing(
    site: SampleSite, cat_key: str, page: int, base_url: str, *, static_form: bool = False
) -> str | None:
    """Page N of a category, or None when out of range. `static_form` is VHV's /chuyen-muc-...-N.html page."""
    cat = site.category(cat_key)
    items = site.sorted_articles(cat_key)
    pages = page_count(len(items))
    if page < 1 or page > pages:
        return None
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    urls = {n: listing_page_url(site, cat_key, n) for n in range(1, pages + 1)}
    if site.family != "vhv":
        urls[1] = category_path(site, cat_key)
    pager = Pager(page=page, pages=pages, urls=urls, total=len(items))
    others = [article_view(site, a) for a in items[page * PAGE_SIZE : page * PAGE_SIZE + 5]]
    state = {
        "categoryId": cat.id,
        "layout": "Article.List.default",
        "orderBy": "publishTime DESC",
        "pageNo": page,
        "itemsPerPage": PAGE_SIZE,
        "totalItems": len(items),
    }
    return render(
        site,
        "listing.html",
        base_url=base_url,
        page="listing",
        cat=cat,
        cat_url=category_path(site, cat_key),
        items=[article_view(site, a) for a in chunk],
        others=others,
        pager=pager,
        static_form=static_form,
        pager_state=state,
        portlet_id=liferay_portlet_id(site, cat) if site.family == "liferay" else "",
    )


def render_article(site: SampleSite, article: Article, base_url: str) -> str:
    view = article_view(site, article)
    same_cat = [a for a in site.sorted_articles(article.category) if a.id != article.id]
    older = [a for a in same_cat if _age_key(a) <= _age_key(article)]
    newer = [a for a in same_cat if _age_key(a) > _age_key(article)]
    modified = datefmt.modified_time(article)
    return render(
        site,
        "article.html",
        base_url=base_url,
        page="article",
        a=view,
        cat=view.cat,
        related=[article_view(site, a) for a in older[:RELATED]],
        newer=[article_view(site, a) for a in newer[-3:]],
        meta=_meta_dates(site, article, view, modified),
        yoast=_yoast(site, view, modified, base_url) if site.family == "wordpress" else {},
    )


def _age_key(article: Article) -> tuple[str, int]:
    return (article.published.isoformat(), article.id)


def _meta_dates(site: SampleSite, article: Article, view: ArticleView, modified: datetime | None) -> dict[str, str]:
    """Head and microdata dates in the family's (sometimes broken) formats; none when the page shows no date."""
    if view.date.style == "none":
        return {}
    pub = article.published
    if not isinstance(pub, datetime):
        day = pub.isoformat()
        return {"published": day, "modified": day, "day": day}
    assert modified is not None
    meta = {
        "published": datefmt.iso_full(pub),
        "modified": datefmt.iso_full(modified),
        "day": pub.date().isoformat(),
        "nukeviet_published": datefmt.nukeviet_malformed(pub),
        "nukeviet_modified": datefmt.nukeviet_malformed(modified),
    }
    vhv = datefmt.vhv_meta_time(article)
    if vhv is not None:
        meta["vhv_published"] = datefmt.vhv_colonless(vhv)
        meta["vhv_dc_date"] = datefmt.vhv_dc_date(vhv)
    return meta


def _yoast(site: SampleSite, view: ArticleView, modified: datetime | None, base_url: str) -> dict[str, Any]:
    """Yoast SEO head data: its dates are printed in UTC (`+00:00`), unlike the theme's `time` element."""
    article = view.article
    published = modified_text = modified_local = ""
    modified_utc = ""
    if view.machine_date:
        if view.date.has_time and isinstance(article.published, datetime) and modified is not None:
            published = article.published.replace(second=0).astimezone(UTC).isoformat()
            modified_utc = modified.astimezone(UTC).isoformat()
            modified_local = datefmt.iso_full(modified)
            modified_text = datefmt.dmy(modified.date())
        else:
            published = modified_utc = modified_local = article.day.isoformat()
            modified_text = datefmt.dmy(article.day)
    url = base_url + view.url
    article_node: dict[str, Any] = {
        "@type": "Article",
        "@id": f"{url}#article",
        "isPartOf": {"@id": url},
        "headline": article.title,
        "mainEntityOfPage": {"@id": url},
        "publisher": {"@id": f"{base_url}/#organization"},
        "image": {"@id": f"{url}#primaryimage"},
        "thumbnailUrl": base_url + view.thumb,
        "articleSection": [view.cat.title],
        "inLanguage": "vi",
    }
    if article.author:
        article_node["author"] = {"name": article.author, "@id": f"{base_url}/#/schema/person/{alias(article.author)}"}
    if published:
        article_node["datePublished"] = published
        article_node["dateModified"] = modified_utc
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            article_node,
            {
                "@type": "WebPage",
                "@id": url,
                "url": url,
                "name": f"{article.title} - {site.name}",
                "isPartOf": {"@id": f"{base_url}/#website"},
                "inLanguage": "vi",
            },
            {
                "@type": "BreadcrumbList",
                "@id": f"{url}#breadcrumb",
                "itemListElement": [
                    {"@type": "ListItem", "position": 1, "name": "Trang chủ", "item": f"{base_url}/"},
                    {"@type": "ListItem", "position": 2, "name": article.title},
                ],
            },
            {
                "@type": "WebSite",
                "@id": f"{base_url}/#website",
                "url": f"{base_url}/",
                "name": site.name,
                "inLanguage": "vi",
            },
            {"@type": "Organization", "@id": f"{base_url}/#organization", "name": site.name, "url": f"{base_url}/"},
        ],
    }
    text = json.dumps(graph, ensure_ascii=False).replace("</", "<\\/")
    return {
        "published": published,
        "modified": modified_utc,
        "modified_local": modified_local,
        "modified_text": modified_text,
        "graph": Markup(text),
    }


def render_not_found(site: SampleSite, base_url: str, path: str) -> str:
    return render(site, "404.html", base_url=base_url, page="404", path=path)


# --------------------------------------------------------------------------- robots and sitemaps

ROBOTS_DISALLOW = {
    "nukeviet": ["/vi/news/print/", "/vi/news/sendmail/", "/vi/news/savefile/", "/vi/users/", "/admin/", "/vi/seek/"],
    "vhv": ["/?page=login", "/tim-kiem", "/print/"],
    "tandan": ["/_layouts/", "/portal/_catalogs/", "/portal/Pages/Tim-kiem.aspx"],
    "liferay": ["/c/", "/web/guest/tim-kiem", "/*?p_p_lifecycle=1"],
    "wordpress": ["/wp-admin/", "/?s=", "/search/"],
    "aspnet-ui": ["/DesktopModule/", "/tim-kiem", "/print/"],
}


def sitemap_path(site: SampleSite) -> str:
    return "/sitemap_index.xml" if site.family == "wordpress" else "/sitemap.xml"


def robots_txt(site: SampleSite, base_url: str) -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {p}" for p in ROBOTS_DISALLOW[site.family]]
    if site.family == "wordpress":
        lines.append("Allow: /wp-admin/admin-ajax.php")
    lines += ["", f"Sitemap: {base_url}{sitemap_path(site)}", ""]
    return "\n".join(lines)


def lastmod(article: Article) -> str:
    modified = datefmt.modified_time(article)
    return datefmt.iso_full(modified) if modified else article.day.isoformat()


def sitemap_xml(site: SampleSite, base_url: str) -> str:
    """A urlset with every article (lastmod = edit time) and the category pages."""
    rows = [f"<url><loc>{xml_escape(base_url + home_path(site))}</loc><changefreq>hourly</changefreq></url>"]
    for cat in site.categories:
        rows.append(f"<url><loc>{xml_escape(base_url + category_path(site, cat.key))}</loc></url>")
    for article in site.sorted_articles():
        loc = xml_escape(base_url + article_path(site, article))
        rows.append(f"<url><loc>{loc}</loc><lastmod>{lastmod(article)}</lastmod></url>")
    return _urlset(rows)


def sitemap_index_xml(site: SampleSite, base_url: str) -> str:
    """Yoast's index pointing at post-sitemap.xml."""
    newest = site.sorted_articles()[:1]
    mod = f"<lastmod>{lastmod(newest[0])}</lastmod>" if newest else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"<sitemap><loc>{xml_escape(base_url)}/post-sitemap.xml</loc>{mod}</sitemap>\n"
        f"<sitemap><loc>{xml_escape(base_url)}/category-sitemap.xml</loc></sitemap>\n"
        "</sitemapindex>\n"
    )


def category_sitemap_xml(site: SampleSite, base_url: str) -> str:
    return _urlset(
        [f"<url><loc>{xml_escape(base_url + category_path(site, c.key))}</loc></url>" for c in site.categories]
    )


def post_sitemap_xml(site: SampleSite, base_url: str) -> str:
    rows = []
    for article in site.sorted_articles():
        loc = xml_escape(base_url + article_path(site, article))
        rows.append(f"<url><loc>{loc}</loc><lastmod>{lastmod(article)}</lastmod></url>")
    return _urlset(rows)


def _urlset(rows: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + "\n".join(rows) + "\n</urlset>\n"
    )


def rss_xml(site: SampleSite, base_url: str) -> str:
    """A small RSS 2.0 feed of the latest items (NukeViet /vi/news/rss/, WordPress /feed/)."""
    from email.utils import format_datetime

    items = []
    for article in site.sorted_articles()[:10]:
        pub = article.published
        if not isinstance(pub, datetime):
            pub = datetime(pub.year, pub.month, pub.day, tzinfo=datefmt.VN_TZ)
        link = xml_escape(base_url + article_path(site, article))
        items.append(
            f"<item><title>{xml_escape(article.title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<description>{xml_escape(article.lead)}</description><pubDate>{format_datetime(pub)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{xml_escape(site.name)}</title><link>{xml_escape(base_url)}/</link>"
        f"<description>{xml_escape(site.name)}</description><language>vi</language>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )
