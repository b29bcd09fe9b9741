"""A misbehaving news site on loopback, for the reliability tests (tests/test_faults.py, test_security.py).

``FaultSite`` serves one site on 127.0.0.31 (any free port): a home page linking one article per fault,
a robots.txt naming a billion-laughs sitemap and a sitemap that lists a foreign URL, and an RSS feed that
does too. ``OffsiteServer`` (127.0.0.32) is the "other site" that redirects, sitemaps and links point to:
it counts every request it gets, and must get none.

Each article path exercises one fault (``FAULTS``): a flaky 503 or 500 that recovers on the next try, a
hang beyond the timeout, a connection reset, a truncated body, windows-1258 bytes labelled UTF-8 and the
reverse, no charset, malformed HTML, a 50 MB page (with and without Content-Length), a gzip bomb, a
redirect loop, a redirect to another site, login, captcha and bot-wall pages, and a story that answers 404
once ``gone`` is set (the second crawl). Every article body is its own text, so none is taken for a copy.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
import unicodedata
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from crawler.samples.server import to_cp1258

VN_TZ = timezone(timedelta(hours=7))
FAULT_HOST = "127.0.0.31"
OFFSITE_HOST = "127.0.0.32"
BIG_PAGE = 50 * 2**20  # 50 MB: over the crawler's DOWNLOAD_MAXSIZE (32 MB)
BOMB_MEMBER = 64 * 2**20  # one gzip member: 64 MB of zeros (about 64 KB compressed)
BOMB_MEMBERS = 160  # ... repeated: 10 GB of zeros in about 10 MB on the wire
HANG_SECONDS = 8  # longer than the test config's timeout; bounded so the server thread ends

# fault -> what the crawl must make of it: ("archived", None) or ("failed"/"rejected", reason kind)
FAULTS: dict[str, tuple[str, str | None]] = {
    "ok": ("archived", None),
    "flaky-503": ("archived", None),
    "flaky-500": ("archived", None),
    "cp1258-labelled-utf8": ("archived", None),
    "utf8-labelled-cp1258": ("archived", None),
    "cp1258-no-charset": ("archived", None),
    "utf8-no-charset": ("archived", None),
    "malformed": ("archived", None),
    "gzip-ok": ("archived", None),
    "redirect-inside": ("archived", None),
    "gone": ("archived", None),  # 404 on the second crawl: kept, marked gone
    "recheck-reset": ("archived", None),  # its re-check in the second crawl is reset: kept, error noted
    "always-500": ("failed", "http-500"),
    "hang": ("failed", "timeout"),
    "reset": ("failed", "connection-lost"),
    "truncated": ("failed", "truncated"),
    "huge": ("failed", "too-large"),
    "huge-stream": ("failed", "too-large"),
    "gzip-bomb": ("failed", "too-large"),
    "redirect-loop": ("failed", "redirect-loop"),
    "redirect-offsite": ("failed", "redirect-offsite"),
    "members-only": ("rejected", "login-page"),
    "captcha": ("rejected", "challenge"),
    "incapsula": ("rejected", "challenge"),
    "empty": ("rejected", "empty"),
}
SITEMAP_ONLY = "sitemap-only"  # a good article listed only in the sitemap

SYLLABLES = (
    "an ba bàn bảo bếp biển bình bộ cán cảng cầu chợ chính công cơ dân dự đào đất đê điện đình đồng đường "
    "gạo giao hàng hải hạt hòa học hội huyện kênh khánh khoa kinh lãnh làng lúa lực mạng mía muối mùa nam "
    "nghề ngư nhà nông nước phố phúc quận quê rau ruộng sản sông tàu tân thành thép thôn thủy tiền tỉnh "
    "trạm trường tuyến văn vốn vụ vườn xã xanh xóm xuân y yên"
).split()


def story(name: str) -> tuple[str, list[str]]:
    """A title and four paragraphs of words of their own (seeded by the fault's name)."""
    rng = random.Random(name)
    def sentence(words: int) -> str:
        text = " ".join(rng.choice(SYLLABLES) for _ in range(words))
        return text[0].upper() + text[1:] + "."
    title = f"Tin {name}: " + " ".join(rng.choice(SYLLABLES) for _ in range(8))
    paragraphs = [" ".join(sentence(rng.randint(10, 16)) for _ in range(4)) for _ in range(4)]
    return unicodedata.normalize("NFC", title), paragraphs


def published(name: str) -> datetime:
    """``gone`` and ``recheck-reset`` are recent (the second crawl re-checks them); the others a month old."""
    days = 1 if name in ("gone", "recheck-reset") else 30 + len(name)
    return (datetime.now(VN_TZ) - timedelta(days=days)).replace(hour=8, minute=30, second=0, microsecond=0)


def article_html(name: str, charset_meta: str | None = "utf-8") -> str:
    title, paragraphs = story(name)
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>"
        f'<div class="menu"><a href="/">Trang chủ</a></div>'
        f'<h1 class="title">{title}</h1><div class="date">{published(name):%d/%m/%Y %H:%M}</div>'
        f'<div class="content">{body}</div></body></html>'
    )


def malformed_html(name: str) -> bytes:
    """Unclosed tags, stray closers, a NUL, bytes that are no UTF-8 and garbage after the end."""
    title, paragraphs = story(name)
    paras = "".join(f"<p>{p}<b><i>" for p in paragraphs)  # never closed
    html = (
        f"<html><head><title>{title}</title><meta charset=utf-8></head><body></td></tr><table><tr>"
        f'<h1 class="title">{title}</h1 <div class="date">{published(name):%d/%m/%Y %H:%M}</div>'
        f'<div class="content" id=x y=>{paras}</div></span></font><script>var x = "</div>'
    )
    return html.encode("utf-8") + b"\x00\xff\xfe<<>>&&&#xZZ;</html></html>\x81"


def login_html() -> str:
    return (
        '<html><head><meta charset="utf-8"><title>Đăng nhập hệ thống</title></head><body>'
        '<h1 class="title">Đăng nhập</h1><div class="content"><form action="/dang-nhap" method="post">'
        '<p>Tên đăng nhập <input name="u"></p><p>Mật khẩu <input type="password" name="p"></p>'
        '<button>Đăng nhập</button></form></div></body></html>'
    )


def captcha_html() -> str:
    return (
        '<html><head><meta charset="utf-8"><title>Xác minh bảo mật</title>'
        '<script src="https://www.google.com/recaptcha/api.js" async defer></script></head><body>'
        '<h1 class="title">Vui lòng xác nhận bạn không phải là người máy</h1>'
        '<div class="content"><p>Hệ thống phát hiện truy cập bất thường từ địa chỉ của bạn. Vui lòng nhập mã '
        'xác nhận để tiếp tục xem nội dung.</p><form method="post"><div class="g-recaptcha" '
        'data-sitekey="6LdTest"></div><img src="/captcha.ashx" alt="captcha"><input name="captcha">'
        '<button>Tiếp tục</button></form></div></body></html>'
    )


def incapsula_html() -> str:
    return (
        '<html style="height:100%"><head><META NAME="ROBOTS" CONTENT="NOINDEX, NOFOLLOW">'
        '<meta name="format-detection" content="telephone=no"></head><body style="margin:0px;height:100%">'
        '<iframe id="main-iframe" src="/_Incapsula_Resource?CWUDNSAI=9&xinfo=1-2-0&incident_id=7-8&edet=12" '
        'frameborder=0 width="100%" height="100%">Request unsuccessful. Incapsula incident ID: 7-8</iframe>'
        "</body></html>"
    )


def billion_laughs() -> bytes:
    """A sitemap whose one <loc> would expand to 10**9 "lol"s (3 GB) if entities were resolved."""
    entities = ['<!ENTITY lol0 "lol">']
    for level in range(1, 10):
        entities.append(f'<!ENTITY lol{level} "' + f"&lol{level - 1};" * 10 + '">')
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE urlset [\n' + "\n".join(entities) + "\n]>\n"
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>&lol9;</loc></url></urlset>"
    ).encode()


@cache
def gzip_bomb() -> bytes:
    """10 GB of zeros as a gzip stream of about 10 MB: one 64 MB member repeated (gzip allows several
    members; readers concatenate them). Built once, in memory, in well under a second."""
    member = gzip.compress(b"\0" * BOMB_MEMBER, compresslevel=9, mtime=0)
    return member * BOMB_MEMBERS


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: Any


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        owner.note(self.path, dict(self.headers.items()))
        try:
            owner.answer(self)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    # helpers for FaultSite.answer
    def send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def reset(self) -> None:
        """Close with RST (SO_LINGER 0) without a byte of answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


class _Base:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server: _Server | None = None

    def note(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.hits[path] += 1
            self.requests.append((path, headers))

    def start(self) -> Any:
        server = _Server((self.host, 0), _Handler)
        server.owner = self
        self.server = server
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base(self) -> str:
        assert self.server is not None
        return f"http://{self.host}:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path


class OffsiteServer(_Base):
    """Another site: the crawler must never ask it anything."""

    host = OFFSITE_HOST

    def answer(self, h: _Handler) -> None:
        name = h.path.rsplit("/", 1)[-1].removesuffix(".html") or "offsite"
        h.send(200, article_html(f"offsite-{name}").encode())


class FaultSite(_Base):
    host = FAULT_HOST

    def __init__(self, offsite: OffsiteServer) -> None:
        super().__init__()
        self.offsite = offsite
        self.gone = False  # set before the second crawl: "gone" answers 404, "recheck-reset" resets

    def article_path(self, name: str) -> str:
        return f"/bai/{name}.html"

    def config_toml(self, **crawler: Any) -> str:
        options = {
            "contact": '"fault-tests@example.org"', "download_delay": "0", "autothrottle": "false",
            "timeout": "2", "retries": "1", "recheck_days": "7",
        }
        options.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in crawler.items()})
        return "[crawler]\n" + "".join(f"{k} = {v}\n" for k, v in options.items()) + f"""
[[site]]
id = "faulty"
name = "Cổng thông tin thử lỗi"
province = "Thử nghiệm"
kind = "government"
family = "generic"
start_urls = ["{self.base}/"]
article_patterns = ["^/bai/"]
listing_patterns = ["^/chuyen-muc/"]
selectors = {{ title = "h1.title", date = ".date", body = ".content" }}
"""

    def home(self) -> str:
        links = "".join(f'<li><a href="{self.article_path(n)}">{story(n)[0]}</a></li>' for n in FAULTS)
        foreign = f'<li><a href="{self.offsite.url("/bai/linked-from-home.html")}">Tin nơi khác</a></li>'
        return (
            '<html><head><meta charset="utf-8"><title>Cổng thông tin thử lỗi</title>'
            '<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body>'
            f'<ul class="news">{links}{foreign}</ul></body></html>'
        )

    def answer(self, h: _Handler) -> None:  # noqa: C901 (one branch per fault reads best)
        path = h.path
        tries = self.hits[path]
        if path == "/":
            return h.send(200, self.home().encode())
        if path == "/robots.txt":
            text = f"User-agent: *\nAllow: /\nSitemap: {self.base}/bomb.xml\nSitemap: {self.base}/sitemap.xml\n"
            return h.send(200, text.encode(), "text/plain")
        if path == "/bomb.xml":
            return h.send(200, billion_laughs(), "application/xml")
        if path == "/sitemap.xml":
            locs = [self.url(self.article_path(SITEMAP_ONLY)), self.offsite.url("/bai/in-sitemap.html")]
            urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return h.send(200, body.encode(), "application/xml")
        if path == "/rss.xml":
            item = f"<item><title>x</title><link>{self.offsite.url('/bai/in-feed.html')}</link></item>"
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{item}</channel></rss>'
            return h.send(200, body.encode(), "application/rss+xml")
        if not path.startswith("/bai/"):
            return h.send(404, b"<h1>Not found</h1>")
        name = path[len("/bai/"):].removesuffix(".html")
        if name == "flaky-503" and tries == 1:
            return h.send(503, b"<h1>Service Unavailable</h1>", headers={"Retry-After": "0"})
        if name == "flaky-500" and tries == 1:
            return h.send(500, b"<h1>Internal Server Error</h1>")
        if name == "always-500":
            return h.send(500, b"<h1>Internal Server Error</h1>")
        if name == "hang":
            time.sleep(HANG_SECONDS)
            return h.send(200, article_html(name).encode())
        if name == "reset":
            return h.reset()
        if name == "truncated":
            body = article_html(name).encode()
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(body) + 5000))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return None
        if name in ("huge", "huge-stream"):
            return self._huge(h, known_length=name == "huge")
        if name == "gzip-bomb":
            return h.send(200, gzip_bomb(), headers={"Content-Encoding": "gzip"})
        if name == "gzip-ok":
            return h.send(200, gzip.compress(article_html(name).encode()), headers={"Content-Encoding": "gzip"})
        if name == "redirect-loop":
            return h.send(302, b"", headers={"Location": "/bai/redirect-loop-b.html"})
        if name == "redirect-loop-b":
            return h.send(302, b"", headers={"Location": self.url("/bai/redirect-loop.html")})
        if name == "redirect-offsite":
            return h.send(302, b"", headers={"Location": self.offsite.url("/bai/redirected-here.html")})
        if name == "redirect-inside":
            return h.send(301, b"", headers={"Location": "/bai/moved-here.html"})
        if name == "moved-here":
            return h.send(200, article_html("redirect-inside").encode())
        if name == "cp1258-labelled-utf8":
            return h.send(200, to_cp1258(article_html(name, None)), "text/html; charset=utf-8")
        if name == "utf8-labelled-cp1258":
            html = article_html(name, "windows-1258").encode()
            return h.send(200, html, "text/html; charset=windows-1258")
        if name == "cp1258-no-charset":
            return h.send(200, to_cp1258(article_html(name, None)), "text/html")
        if name == "utf8-no-charset":
            return h.send(200, article_html(name, None).encode(), "text/html")
        if name == "malformed":
            return h.send(200, malformed_html(name), "text/html; charset=utf-8")
        if name == "gone" and self.gone:
            return h.send(404, b"<h1>Not found</h1>")
        if name == "recheck-reset" and self.gone:
            return h.reset()
        if name == "members-only":
            return h.send(200, login_html().encode())
        if name == "captcha":
            return h.send(200, captcha_html().encode())
        if name == "incapsula":
            return h.send(200, incapsula_html().encode(), headers={"Set-Cookie": "visid_incap_1=abc; path=/"})
        if name == "empty":
            return h.send(200, b"")
        if name in FAULTS or name == SITEMAP_ONLY:
            return h.send(200, article_html(name).encode())
        return h.send(404, b"<h1>Not found</h1>")

    def _huge(self, h: _Handler, known_length: bool) -> None:
        """50 MB of article page, written in 1 MB pieces until the client hangs up."""
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        if known_length:
            h.send_header("Content-Length", str(BIG_PAGE))
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        h.close_connection = True
        chunk = (b"<p>" + b"x" * 1016 + b"</p>\n") * 1024  # 1 MB
        head = article_html("huge").encode()
        h.wfile.write(head)
        sent = len(head)
        while sent < BIG_PAGE:
            piece = chunk[: BIG_PAGE - sent]
            h.wfile.write(piece)
            sent += len(piece)


SECRET_COOKIE = "s3cr3t-session-7f1e"  # a session the bounds site hands out: it must reach no dump


class BoundsSite(_Base):
    """A site whose links, redirects, meta refreshes, sitemaps and feed all try to lead to OffsiteServer.

    Articles ``/bai/ok-N.html`` are good; ``/bai/to-*.html`` redirect (or meta-refresh) off the site, some
    through an on-site hop first. Every answer sets a session cookie (``SECRET_COOKIE``). Its config names no
    CMS family: the crawl detects it from the first listing page.
    """

    host = FAULT_HOST
    REDIRECTS = {
        "to-301": (301, "{off}/bai/a.html"),
        "to-302": (302, "{off}/bai/b.html"),
        "to-307": (307, "{off}/bai/c.html"),
        "to-308": (308, "{off}/bai/d.html"),
        "to-scheme-relative": (302, "//{off_host}/bai/e.html"),
        "to-userinfo": (302, "http://{here_host}@{off_host}/bai/f.html"),
        "to-hop": (302, "/bai/hop.html"),
        "hop": (301, "{off}/bai/g.html"),
    }

    def __init__(self, offsite: OffsiteServer) -> None:
        super().__init__()
        self.offsite = offsite

    def config_toml(self) -> str:
        return f"""[crawler]
contact = "bounds-tests@example.org"
download_delay = 0
autothrottle = false
timeout = 3
retries = 0
failure_threshold = 0.9  # most of its articles lead away: that is the point, not a failed site

[[site]]
id = "bounds"
name = "Cổng thông tin biên giới"
province = "Thử nghiệm"
kind = "government"
start_urls = ["{self.base}/"]
article_patterns = ["^/bai/"]
listing_patterns = ["^/chuyen-muc/"]
selectors = {{ title = "h1.title", date = ".date", body = ".content" }}
"""

    def answer(self, h: _Handler) -> None:
        off, off_host = self.offsite.base, self.offsite.base.split("//", 1)[1]
        here_host = self.base.split("//", 1)[1]
        path = h.path
        cookie = {"Set-Cookie": f"PHPSESSID={SECRET_COOKIE}; path=/; HttpOnly"}
        if path == "/":
            links = [f"/bai/ok-{n}.html" for n in range(3)] + [f"/bai/{name}.html" for name in self.REDIRECTS
                                                                if name != "hop"]
            links += ["/bai/meta-refresh.html", "/chuyen-muc/base.html", "/chuyen-muc/moved.html",
                      "/chuyen-muc/self-refresh.html",
                      f"{off}/bai/linked.html", f"//{off_host}/bai/scheme-relative.html",
                      f"http://{here_host}@{off_host}/bai/userinfo.html",
                      f"http://{off_host.replace(':', '.:', 1)}/bai/dot.html"]  # 127.0.0.32.:port
            items = "".join(f'<li><a href="{link}">Tin {n}</a></li>' for n, link in enumerate(links))
            html = (f'<html><head><meta charset="utf-8"><link rel="alternate" type="application/rss+xml" '
                    f'href="/rss.xml"><link rel="alternate" type="application/atom+xml" href="{off}/atom.xml">'
                    f"</head><body><ul>{items}</ul></body></html>")
            return h.send(200, html.encode(), headers=cookie)
        if path == "/robots.txt":
            text = f"User-agent: *\nAllow: /\nSitemap: {off}/sitemap.xml\nSitemap: {self.base}/sitemap-index.xml\n"
            return h.send(200, text.encode(), "text/plain")
        if path == "/sitemap-index.xml":
            body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{off}/sitemap-2.xml</loc></sitemap>"
                    f"<sitemap><loc>{self.base}/sitemap-1.xml</loc></sitemap></sitemapindex>")
            return h.send(200, body.encode(), "application/xml")
        if path == "/sitemap-1.xml":
            locs = [f"{off}/bai/in-sitemap.html", f"{self.base}/bai/ok-sitemap.html"]
            urls = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
            body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return h.send(200, body.encode(), "application/xml")
        if path == "/rss.xml":
            items = "".join(f"<item><title>x</title><link>{link}</link></item>"
                            for link in (f"{off}/bai/in-feed.html", f"{self.base}/bai/ok-feed.html"))
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
            return h.send(200, body.encode(), "application/rss+xml")
        if path == "/chuyen-muc/base.html":  # relative links resolved against another site
            html = (f'<html><head><base href="{off}/"></head><body><a href="bai/base-relative.html">x</a>'
                    f'<a href="/chuyen-muc/more.html">y</a></body></html>')
            return h.send(200, html.encode())
        if path == "/chuyen-muc/self-refresh.html":  # a listing that reloads itself every 30 s
            html = ('<html><head><meta http-equiv="refresh" content="30; url=/chuyen-muc/self-refresh.html"></head>'
                    '<body><a href="/bai/ok-refresh.html">Tin</a></body></html>')
            return h.send(200, html.encode())
        if path == "/chuyen-muc/moved.html":  # a listing that moved to another site
            return h.send(302, b"", headers={"Location": f"{off}/chuyen-muc/moved.html"})
        name = path.rsplit("/", 1)[-1].removesuffix(".html")
        if name in self.REDIRECTS:
            status, location = self.REDIRECTS[name]
            location = location.format(off=off, off_host=off_host, here_host=here_host)
            return h.send(status, b"", headers={"Location": location, **cookie})
        if name == "meta-refresh":
            html = f'<html><head><meta http-equiv="refresh" content="0; url={off}/bai/refreshed.html"></head></html>'
            return h.send(200, html.encode())
        if path.startswith("/bai/ok-"):
            return h.send(200, article_html(f"bounds-{name}").encode(), headers=cookie)
        return h.send(404, b"<h1>Not found</h1>")
