"""Load the sample web (web.toml + content/*.toml) into plain dataclasses and compute article URLs.

Each family has its own URL style (see README "URL styles"); the functions here are the single source of
those URLs for templates, the server's routing and the expectations.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path(__file__).resolve().parent
WEB_TOML = SAMPLES_DIR / "web.toml"
CONTENT_DIR = SAMPLES_DIR / "content"
EXPECTED_DIR = SAMPLES_DIR / "expected"
TEMPLATES_DIR = SAMPLES_DIR / "templates"

FAMILIES = ("nukeviet", "vhv", "tandan", "liferay", "wordpress", "aspnet-ui")
PAGE_SIZE = 4
DEFAULT_PORT = 8765
VN_TZ = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Category:
    key: str
    title: str
    id: int


@dataclass(frozen=True)
class Image:
    after: int
    src: str
    caption: str = ""


@dataclass(frozen=True)
class Attachment:
    title: str
    file: str


@dataclass
class Article:
    id: int
    slug: str
    category: str
    title: str
    published: datetime | date  # aware datetime (+07:00) or a bare date when the page shows no time
    lead: str
    paragraphs: list[str]
    images: list[Image] = field(default_factory=list)
    author: str | None = None
    source: str | None = None
    views: int | None = None
    dup_group: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    date_style: str | None = None
    tags: list[str] = field(default_factory=list)
    added_seq: int = 0  # > 0 for articles added at run time: they sort before everything else

    @property
    def has_time(self) -> bool:
        return isinstance(self.published, datetime)

    @property
    def day(self) -> date:
        return self.published.date() if isinstance(self.published, datetime) else self.published

    @property
    def view_count(self) -> int:
        # Real pages always print some count; invent a stable one when the content gives none.
        return self.views if self.views is not None else 40 + (self.id * 37) % 900


@dataclass
class Footer:
    agency: str = ""
    editor: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    license: str = ""


@dataclass
class SampleSite:
    id: str
    name: str
    province: str
    kind: str
    family: str
    address: str
    domain: str
    categories: list[Category]
    footer: Footer = field(default_factory=Footer)
    encoding: str = "utf-8"  # the charset pages are served in
    unicode_form: str = "NFC"  # NFD: article text is served decomposed, like pages pasted from some editors
    articles: list[Article] = field(default_factory=list)

    def category(self, key: str) -> Category:
        for cat in self.categories:
            if cat.key == key:
                return cat
        raise KeyError(f"{self.id}: unknown category {key!r}")

    def sorted_articles(self, category: str | None = None) -> list[Article]:
        """Newest first; articles added at run time come before all others (latest added first)."""
        items = [a for a in self.articles if category is None or a.category == category]
        return sorted(items, key=_sort_key, reverse=True)


def _sort_key(article: Article) -> tuple[int, str, int]:
    return (article.added_seq, article.published.isoformat(), article.id)


# --------------------------------------------------------------------------- loading


def parse_published(value: Any) -> datetime | date:
    """TOML gives datetime/date objects or strings; a time without offset is Vietnam time."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return date.fromisoformat(text)
        dt = datetime.fromisoformat(text)
    else:
        raise ValueError(f"published: unsupported value {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VN_TZ)
    return dt.astimezone(VN_TZ)


def article_from_dict(data: dict[str, Any], site: SampleSite, *, added_seq: int = 0) -> Article:
    """Build an Article from one `[[article]]` table (or a dict given to SampleWeb.add_article)."""
    missing = [k for k in ("id", "slug", "category", "title", "published", "lead") if k not in data]
    if missing:
        raise ValueError(f"{site.id}: article {data.get('id')!r} lacks {', '.join(missing)}")
    site.category(str(data["category"]))  # raises on an unknown category
    images = [
        Image(after=int(i.get("after", 0)), src=str(i["src"]), caption=str(i.get("caption", "") or ""))
        for i in data.get("images", [])
    ]
    attachments = [Attachment(title=str(a["title"]), file=str(a["file"])) for a in data.get("attachments", [])]
    return Article(
        id=int(data["id"]),
        slug=str(data["slug"]),
        category=str(data["category"]),
        title=str(data["title"]),
        published=parse_published(data["published"]),
        lead=str(data["lead"]),
        paragraphs=[str(p) for p in data.get("paragraphs", [])],
        images=images,
        author=data.get("author") or None,
        source=data.get("source") or None,
        views=int(data["views"]) if data.get("views") is not None else None,
        dup_group=data.get("dup_group") or None,
        attachments=attachments,
        date_style=data.get("date_style") or None,
        tags=[str(t) for t in data.get("tags", [])],
        added_seq=added_seq,
    )


def load_sites(web_toml: Path | str | None = None, content_dir: Path | str | None = None) -> list[SampleSite]:
    """Read web.toml and every content/<site-id>.toml that exists (a missing file means no articles)."""
    web = tomllib.loads(Path(web_toml or WEB_TOML).read_text(encoding="utf-8"))
    content = Path(content_dir) if content_dir is not None else CONTENT_DIR
    sites = []
    for entry in web["site"]:
        site = SampleSite(
            id=entry["id"],
            name=entry["name"],
            province=entry["province"],
            kind=entry["kind"],
            family=entry["family"],
            address=entry["address"],
            domain=entry["domain"],
            categories=[Category(key=c["key"], title=c["title"], id=int(c["id"])) for c in entry["categories"]],
            footer=Footer(**entry.get("footer", {})),
            encoding=entry.get("encoding", "utf-8"),
            unicode_form=entry.get("unicode_form", "NFC"),
        )
        if site.family not in FAMILIES:
            raise ValueError(f"{site.id}: unknown family {site.family!r}")
        site.articles = load_articles(content / f"{site.id}.toml", site)
        sites.append(site)
    return sites


def load_articles(path: Path, site: SampleSite) -> list[Article]:
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    articles = [article_from_dict(item, site) for item in data.get("article", [])]
    from .datefmt import STYLES  # here: datefmt imports this module

    seen: set[int] = set()
    for article in articles:
        if article.id in seen:
            raise ValueError(f"{path}: duplicate article id {article.id}")
        if article.date_style and article.date_style not in STYLES[site.family]:
            raise ValueError(f"{path}: article {article.id}: date_style must be one of {STYLES[site.family]}")
        seen.add(article.id)
    return articles


# --------------------------------------------------------------------------- URL styles


def tandan_code(site_id: str, article_id: int) -> str:
    """Tân Dân appends a 6-character lowercase code to the page name; derive it from the id."""
    digest = hashlib.sha1(f"{site_id}:{article_id}".encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


def tandan_page_name(slug: str) -> str:
    """`hoi-nghi-dan-van` -> `Hoi-nghi-dan-van`: Tân Dân page names keep the title's first capital."""
    return slug[:1].upper() + slug[1:]


def liferay_portlet_id(site: SampleSite, cat: Category) -> str:
    """Liferay 6 Asset Publisher instance id: `101_INSTANCE_` + 12 stable alphanumerics per category."""
    digest = hashlib.sha1(f"{site.id}:{cat.key}".encode()).hexdigest()
    alnum = "".join(ch.upper() if i % 3 == 0 and ch.isalpha() else ch for i, ch in enumerate(digest))
    return f"101_INSTANCE_{alnum[:12]}"


def article_path(site: SampleSite, article: Article) -> str:
    family, cat, slug = site.family, article.category, article.slug
    if family == "nukeviet":
        return f"/vi/news/{cat}/{slug}-{article.id}.html"
    if family == "vhv":
        return f"/{cat}/{slug}.html"
    if family == "tandan":
        d = article.day
        name = tandan_page_name(slug) + tandan_code(site.id, article.id)
        return f"/portal/Pages/{d.year}-{d.month}-{d.day}/{name}.aspx"
    if family == "liferay":
        return f"/web/guest/-/{slug}"
    if family == "wordpress":
        d = article.day
        return f"/{d.year:04d}/{d.month:02d}/{d.day:02d}/{slug}/"
    if family == "aspnet-ui":
        return f"/{cat}/{slug}-{article.id}.html"
    raise ValueError(family)


def category_path(site: SampleSite, cat_key: str) -> str:
    family = site.family
    if family == "nukeviet":
        return f"/vi/news/{cat_key}/"
    if family == "tandan":
        return f"/portal/Pages/{cat_key}.aspx"
    if family == "liferay":
        return f"/web/guest/{cat_key}"
    if family == "wordpress":
        return f"/category/{cat_key}/"
    return f"/{cat_key}"  # vhv, aspnet-ui


def listing_page_url(site: SampleSite, cat_key: str, page: int) -> str:
    """URL (path + query) of page N of a category, as the family's pager prints it."""
    cat = site.category(cat_key)
    base = category_path(site, cat_key)
    family = site.family
    if family == "vhv":
        # Hưng Yên form: every page, including the first, has its own static URL.
        return f"/chuyen-muc-{cat_key}-c{cat.id}-{page}.html"
    if page == 1:
        return base
    if family == "nukeviet":
        return f"{base}page-{page}"
    if family == "tandan":
        return f"{base}?PageIndex={page}"
    if family == "liferay":
        pid = liferay_portlet_id(site, cat)
        return (
            f"{base}?p_p_id={pid}&p_p_lifecycle=0&p_p_state=normal&p_p_mode=view&p_p_col_id=column-2"
            f"&p_p_col_count=1&_{pid}_cur={page}&_{pid}_delta={PAGE_SIZE}"
        )
    if family == "wordpress":
        return f"{base}page/{page}/"
    return f"{base}?page={page}"  # aspnet-ui


def home_path(site: SampleSite) -> str:
    return "/portal/Home/default.aspx" if site.family == "tandan" else "/"


def page_count(n_items: int) -> int:
    return max(1, -(-n_items // PAGE_SIZE))


def upload_dir(site: SampleSite, article: Article | None) -> str:
    """Folder of an article's images and files, in the family's upload layout."""
    d = article.day if article is not None else date(2024, 1, 1)
    family = site.family
    if family == "nukeviet":
        return f"/uploads/news/{d.year}_{d.month:02d}/"
    if family == "vhv":
        return f"/upload/{vhv_site_id(site)}/{d:%Y%m%d}/"
    if family == "tandan":
        return f"/portal/Photos/{d:%Y-%m-%d}/"
    if family == "liferay":
        return "/documents/20182/0/"
    if family == "wordpress":
        return f"/wp-content/uploads/{d.year}/{d.month:02d}/"
    return f"/Uploads/images/{d.year}/{d.month:02d}/"


def file_dir(site: SampleSite, article: Article) -> str:
    """Folder of attachments: several families keep documents apart from photos."""
    if site.family == "vhv":
        return f"/upload/{vhv_site_id(site)}/fck/files/"
    if site.family == "tandan":
        return "/portal/VanBan/"
    if site.family == "aspnet-ui":
        return "/Uploads/files/"
    return upload_dir(site, article)


def vhv_site_id(site: SampleSite) -> str:
    """VHV numbers its sites with 7 digits (the /upload/<siteId>/ folder)."""
    return str(2000000 + int(hashlib.sha1(site.id.encode()).hexdigest()[:5], 16) % 99999)


def image_url(site: SampleSite, article: Article, src: str) -> str:
    if src.startswith("/") or "://" in src:
        return src
    return upload_dir(site, article) + src


def attachment_url(site: SampleSite, article: Article, name: str) -> str:
    if name.startswith("/") or "://" in name:
        return name
    return file_dir(site, article) + name


# --------------------------------------------------------------------------- crawl configuration


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def base_url(site: SampleSite, port: int) -> str:
    return f"http://{site.address}:{port}"


def crawl_config_toml(sites: list[SampleSite], port: int = DEFAULT_PORT) -> str:
    """The `[[site]]` entries a crawl of the sample web needs (crawler/config.py schema)."""
    lines = [
        "# Crawl configuration for the sample web (python -m crawler serve-samples).",
        f"# Generated by crawler.samples for port {port}; do not edit by hand.",
    ]
    for site in sites:
        lines += [
            "",
            "[[site]]",
            f"id = {_toml_string(site.id)}",
            f"name = {_toml_string(site.name)}",
            f"province = {_toml_string(site.province)}",
            f"kind = {_toml_string(site.kind)}",
            f"start_urls = [{_toml_string(base_url(site, port) + '/')}]",
            f"family = {_toml_string(site.family)}",
            f"aliases = [{_toml_string(site.domain)}]",
        ]
    return "\n".join(lines) + "\n"
