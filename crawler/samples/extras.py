"""The pages around the news every portal has: introduction, contact, documents, site map, tag and author pages.

Their paths are the ones the templates link to (menus, sidebars, tag lists), so a crawler following every link of
the sample web meets no dead link. None of them is an article: a crawler must not archive them as stories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .render import alias, article_view, new_documents, render
from .site import Article, SampleSite, category_path


@dataclass
class InfoPage:
    kind: str  # about, contact, sitemap, documents, document, tag, author
    title: str
    paragraphs: list[str] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    file: str = ""


# Family -> {kind: path} for the menu pages, and URL patterns of per-item pages ({} is the alias).
MENU_PATHS: dict[str, dict[str, str]] = {
    "nukeviet": {"about": "/vi/about/gioi-thieu.html", "contact": "/vi/contact/", "documents": "/vi/laws/"},
    "vhv": {"about": "/gioi-thieu", "contact": "/lien-he", "sitemap": "/so-do-cong", "documents": "/van-ban"},
    "tandan": {
        "about": "/portal/Pages/Gioi-thieu.aspx",
        "contact": "/portal/Pages/Lien-he.aspx",
        "sitemap": "/portal/Pages/So-do-cong.aspx",
        "documents": "/portal/Pages/Van-ban-chi-dao-dieu-hanh.aspx",
    },
    "liferay": {"about": "/web/guest/gioi-thieu", "documents": "/web/guest/van-ban"},
    "wordpress": {"about": "/gioi-thieu/", "contact": "/lien-he/"},
    "aspnet-ui": {"about": "/gioi-thieu", "contact": "/lien-he", "documents": "/van-ban"},
}
DOCUMENT_PATH = {
    "nukeviet": "/vi/laws/detail/{}/",
    "vhv": "/van-ban/{}.html",
    "wordpress": "/van-ban/{}/",
    "aspnet-ui": "/van-ban/{}.html",
}
TAG_PATH = {"nukeviet": "/vi/news/tag/{}", "vhv": "/tag/{}", "wordpress": "/tag/{}/"}
AUTHOR_PATH = {"wordpress": "/author/{}/"}
TITLES = {"about": "Giới thiệu", "contact": "Liên hệ", "sitemap": "Sơ đồ cổng", "documents": "Văn bản"}


def extra_pages(site: SampleSite) -> dict[str, InfoPage]:
    """{path: page} of every non-news page the site links to."""
    pages: dict[str, InfoPage] = {}
    for kind, path in MENU_PATHS[site.family].items():
        pages[path] = _menu_page(site, kind)
    doc_pattern = DOCUMENT_PATH.get(site.family)
    for doc in new_documents(site) if doc_pattern else []:
        pages[doc_pattern.format(alias(doc["number"]))] = InfoPage(
            kind="document",
            title=doc["title"],
            paragraphs=[f"Số ký hiệu: {doc['number']}", f"Ngày ban hành: {doc['date']}", "Cơ quan ban hành: UBND"],
            file=f"/uploads/van-ban/{alias(doc['number'])}.pdf",
        )
    pages.update(_grouped_pages(site, "tag", TAG_PATH, lambda a: a.tags or [site.category(a.category).title]))
    pages.update(_grouped_pages(site, "author", AUTHOR_PATH, lambda a: [a.author] if a.author else []))
    return pages


def _menu_page(site: SampleSite, kind: str) -> InfoPage:
    footer = site.footer
    page = InfoPage(kind=kind, title=TITLES[kind])
    if kind == "about":
        page.paragraphs = [f"{site.name} là kênh thông tin chính thức trên Internet.", footer.editor]
    elif kind == "contact":
        page.paragraphs = [footer.agency, f"Địa chỉ: {footer.address}", f"Điện thoại: {footer.phone}"]
        page.paragraphs.append(f"Email: {footer.email}")
    elif kind == "sitemap":
        page.links = [{"url": category_path(site, c.key), "title": c.title, "date": ""} for c in site.categories]
    else:
        doc_pattern = DOCUMENT_PATH.get(site.family)
        page.documents = [
            {**d, "url": doc_pattern.format(alias(d["number"])) if doc_pattern else ""} for d in new_documents(site)
        ]
    return page


def _grouped_pages(
    site: SampleSite, kind: str, patterns: dict[str, str], keys: Callable[[Article], list[str]]
) -> dict[str, InfoPage]:
    """Tag or author pages: the articles sharing a key, newest first, with their dates."""
    pattern = patterns.get(site.family)
    if not pattern:
        return {}
    groups: dict[str, InfoPage] = {}
    for article in site.sorted_articles():
        for key in keys(article):
            page = groups.setdefault(pattern.format(alias(key)), InfoPage(kind=kind, title=key))
            view = article_view(site, article)
            page.links.append({"url": view.url, "title": view.title, "date": view.listing_date})
    return groups


def render_extra(site: SampleSite, path: str, base_url: str) -> str | None:
    page = extra_pages(site).get(path)
    if page is None:
        return None
    return render(site, "info.html", base_url=base_url, page="info", info=page)
