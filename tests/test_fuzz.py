"""Bad input: property-based fuzzing (hypothesis) of the extractor, the charset decoder, the date normalizer,
discovery's sitemap/feed/link readers and the config loader. No exception escapes (and none is swallowed
inside: the extractor's and the date parser's own safety nets must not be what saves them), nothing hangs
(every call is bounded by an alarm), dates are never in the future, and a config runs no code.

Each target runs FUZZ_EXAMPLES examples (default 120; the whole file stays well under 30 s).
``python bench/fuzz_long.py --minutes N`` runs the same properties (``TARGETS``) for longer.
"""

from __future__ import annotations

import os
import re
import signal
import time
import tomllib
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crawler.dates as dates
from crawler.config import FAMILIES, ConfigError, Site, load_config, parse_config
from crawler.discovery import feed_items, page_links, rules_for, sitemap_entries
from crawler.extract import Extraction, extract
from crawler.extract.decode import decode_html

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "extract"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
CALL_SECONDS = 10  # one call taking longer than this is a hang
VN = timezone(timedelta(hours=7))
NOW = datetime(2024, 6, 15, 10, 30, tzinfo=VN)
CASES: Counter[str] = Counter()  # examples run per target (reported by bench/fuzz_long.py)


@contextmanager
def bounded(seconds: float = CALL_SECONDS) -> Iterator[None]:
    """Fail (instead of hanging) when the body takes more than ``seconds`` of CPU time: what is bounded here
    only computes, and CPU time, unlike the wall clock, does not grow when the machine is busy elsewhere."""

    def alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s of CPU time")

    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# ---------------------------------------------------------------------------------------------- strategies

SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.html"))]
FRAGMENTS = [
    "<html>", "</html>", "<head>", "<body>", "</body>", "<title>", "</title>", "<h1>", "</h1>", "<h2 class=title>",
    "<p>", "</p>", "<div>", "</div>", '<div class="content">', '<div class="detail-content">', "<article>",
    "<span>", "</span>", "<br>", "<table><tr><td>", "</td></tr></table>", "<ul><li>", "<a href='/tin/1.html'>",
    "</a>", "<img src=x.jpg alt='Ảnh: TTXVN'>", "<figure><figcaption>Chú thích</figcaption></figure>",
    "<script>", "</script>", "<style>p{}</style>", "<!--", "-->", "<![CDATA[", "]]>", "<?xml version='1.0'?>",
    "<!DOCTYPE html>", '<meta charset="windows-1258">', '<meta charset="utf-8">', "<base href='http://x.vn/'>",
    '<meta http-equiv="Content-Type" content="text/html; charset=bogus-99">', "<link rel=canonical href='//a/b'>",
    '<meta property="article:published_time" content="2024-13-45T99:99">', '<time datetime="2023-02-30">',
    '<script type="application/ld+json">{"datePublished": [1, {"x": null}], "author": {"name": 5}}</script>',
    '<script type="application/ld+json">{"@graph": [[[[]]]]</script>', "<input type=password>",
    "<form action=/dang-nhap>", "Ngày 12/3/2024", "Cập nhật: 08:15 | 31/02/2024", "Thứ hai, 15/01/2024 09:30",
    "Sáng 3-4,", "Theo baochinhphu.vn", "Nguồn: UBND tỉnh", "Tác giả: Nguyễn Văn A", "Lượt xem: 1.234",
    "Ủy ban nhân dân", "Mặt trận Tổ quốc", "đường", "Đà Nẵng", "&amp;", "&#x1F600;", "&#0;", "&#xD800;", "&nbsp;",
    "\u0300", "\u0301\u0323", "\x00", "\ufeff", "\u202e", "\r\n", "\t", " ", "<", ">", '"', "'", "=", "&",
]
LABELS = ["utf-8", "UTF8", "windows-1258", "cp1258", "iso-8859-1", "latin-1", "utf-16", "gb2312", "bogus-99", "",
          "x-user-defined", "utf-7", "ascii"]
CODECS = ["utf-8", "cp1258", "latin-1", "utf-16", "utf-16-le", "cp1252", "koi8-r"]
SELECTORS = [None, {"title": "h1", "body": ".content"}, {"body": "div > p", "date": "time", "junk": [".x", "script"]},
             {"title": "h1.title", "date": ".date", "body": ".content", "author": ".author", "source": ".source"}]

tag_soup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=120).map("".join)


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    """A real page with random cuts, insertions, duplications and flipped bytes."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        size = draw(st.integers(1, 2000))
        op = draw(st.sampled_from(["cut", "insert", "dup", "flip", "truncate"]))
        if op == "cut":
            del data[at:at + size]
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.binary(max_size=200), tag_soup.map(lambda t: t.encode("utf-8"))))
        elif op == "dup":
            data[at:at] = data[at:at + size] * draw(st.integers(1, 5))
        elif op == "flip":
            data[at] ^= draw(st.integers(1, 255))
        else:
            del data[at:]
    return bytes(data)


@st.composite
def encoded_text(draw: st.DrawFn) -> bytes:
    text = draw(tag_soup)
    return text.encode(draw(st.sampled_from(CODECS)), errors="replace")


page_bytes = st.one_of(st.binary(max_size=3000), mutated_page(), encoded_text(), tag_soup.map(str.encode))
headers = st.one_of(
    st.none(),
    st.sampled_from(LABELS).map(lambda label: {"Content-Type": f"text/html; charset={label}"}),
    st.dictionaries(st.text(max_size=20), st.text(max_size=60), max_size=4),
)

NUMBER = st.one_of(st.integers(-5, 40).map(str), st.integers(0, 99999).map(str), st.sampled_from(["00", "0", "٣"]))
DATE_WORDS = ["Ngày", "ngày", "tháng", "năm", "Thứ hai", "Thứ Bảy", "Chủ nhật", "CN", "Cập nhật", "Đăng ngày",
              "lúc", "sáng", "chiều", "tối", "đêm", "giờ", "phút", "GMT+7", "(GMT+07:00)", "UTC", "AM", "PM", "h",
              "hôm qua", "hôm nay", "trước", "giờ trước", "ngày trước", "tuần", "Tháng Giêng", "âm lịch", "Tết",
              "January", "Thg 3", "T3", "|", "-", "/", ".", ",", ":", " ", "T", "+07:00", "Z", "lượt xem", "Lượt xem:"]
date_like = st.lists(st.one_of(NUMBER, st.sampled_from(DATE_WORDS)), min_size=1, max_size=14).map(" ".join)
date_text = st.one_of(date_like, st.text(max_size=80), date_like.map(lambda t: t.replace(" ", "")))
references = st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2100, 12, 31)))
nows = st.one_of(st.just(NOW), st.datetimes(datetime(1995, 1, 1), datetime(2035, 1, 1),
                                             timezones=st.sampled_from([UTC, VN])))
candidates = st.lists(
    st.fixed_dictionaries({"raw": date_text, "source": st.sampled_from(
        ["visible", "meta", "jsonld", "url", "listing", "first_sentence", "sitemap", "bogus"])}),
    max_size=6,
)

KEYS = ["id", "name", "province", "kind", "start_urls", "family", "aliases", "allowed_domains", "selectors",
        "article_patterns", "listing_patterns", "deny_patterns", "download_delay", "concurrency", "max_pages",
        "max_listing_pages", "max_page_number", "recheck_days", "verified", "notes", "enabled", "contact",
        "timeout", "retries", "user_agent", "backfill", "failure_threshold", "log_file", "title", "body"]
CODE = ["__import__('os').system('touch {marker}')", "!!python/object/apply:os.system ['touch {marker}']",
        "$(touch {marker})", "`touch {marker}`", "{{{{ self.__init__.__globals__ }}}}", "${{jndi:ldap://x}}"]
toml_scalar = st.one_of(
    st.text(max_size=40), st.sampled_from(CODE), st.integers(-10**20, 10**20), st.floats(), st.booleans(),
    st.sampled_from(["government", "front", "party", "http://127.0.0.1/", "nukeviet", "h1", "[", "(a+)+$"]),
    st.datetimes(), st.dates(),
)
toml_value = st.recursive(
    toml_scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)),
    max_leaves=20,
)
site_table = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), toml_value, max_size=10)
config_data = st.dictionaries(
    st.sampled_from(["site", "crawler", "sites", "x"]),
    st.one_of(st.lists(site_table, max_size=3), site_table, toml_value),
    max_size=3,
)
VALID_SITE = (
    '[[site]]\nid = "a"\nname = "A"\nprovince = "P"\nkind = "front"\nstart_urls = ["http://127.0.0.1/"]\n'
)
toml_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(st.sampled_from([VALID_SITE, "[crawler]\n", "timeout = 0\n", "[[site]]\n", 'id = "b"\n',
                                        "x = [1, [2, [3", "'''", '"""', "a.b.c = 1\n", "= =\n", "\\u0000"]),
                       st.text(max_size=40)), max_size=12).map("".join),
)


# ---------------------------------------------------------------------------------------------- properties


def check_extract(data: bytes, headers: dict | None, selectors: dict | None, family: str | None) -> None:
    CASES["extract"] += 1
    with bounded():
        result = extract(data, "http://127.0.0.1/tin/bai-1.html", selectors=selectors, headers=headers, family=family)
    assert isinstance(result, Extraction)
    assert not (result.reason or "").startswith("error"), result.reason  # no crash caught inside either
    if result.ok:
        assert result.body and result.paragraphs
    for text in (result.title, result.body, result.lead, result.author, result.source):
        assert text is None or (isinstance(text, str) and unicodedata.is_normalized("NFC", text))
    result.to_dict()


def check_decode(data: bytes, headers: dict | None) -> None:
    CASES["decode"] += 1
    with bounded():
        text, encoding = decode_html(data, headers)
    assert isinstance(text, str) and isinstance(encoding, str)
    assert unicodedata.is_normalized("NFC", text)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text)


def check_parse_date(text: str, reference: date | None, now: datetime) -> None:
    CASES["dates"] += 1
    with bounded():
        parsed = dates.parse_date(text, reference=reference, now=now)
    if parsed is None:
        return
    value = datetime.fromisoformat(parsed.iso) if parsed.has_time else date.fromisoformat(parsed.iso)
    assert parsed.day <= now.astimezone(VN).date() + timedelta(days=1), (text, parsed.iso, now)  # never future
    assert (value.date() if isinstance(value, datetime) else value) == parsed.day


def check_choose(cands: list[dict], now: datetime) -> None:
    CASES["dates"] += 1
    with bounded():
        choice = dates.choose_published(cands, now=now)
    if choice is None:
        return
    day = date.fromisoformat(choice.iso[:10])
    assert day <= now.astimezone(VN).date() + timedelta(days=1), (cands, choice)
    assert choice.raw in {c["raw"] for c in cands} or choice.raw


def check_config(data: dict) -> None:
    CASES["config"] += 1
    with bounded():
        try:
            config = parse_config(data)
        except ConfigError:
            return
    assert config.sites and all(isinstance(site, Site) for site in config.sites)


def check_config_text(text: str, folder: Path) -> None:
    CASES["config"] += 1
    path = folder / "sites.toml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))  # lone surrogates make invalid UTF-8: also a case
    with bounded():
        try:
            load_config(path)
        except ConfigError:
            pass


SITE = Site(id="s", name="S", province="P", kind="government", start_urls=("http://127.0.0.1/",))


def check_discovery(data: bytes) -> None:
    CASES["discovery"] += 1
    with bounded():
        entries = sitemap_entries(data)
        items = feed_items(data)
        text = data.decode("utf-8", "replace")
        links = page_links(text, "http://127.0.0.1/tin/", rules_for(SITE, None), SITE.hosts) if text.strip() else []
    assert all(isinstance(e.url, str) for e in entries)
    assert all(isinstance(url, str) for url, _ in items)
    assert all(link.url.startswith("http://127.0.0.1") for link in links)  # never another host


xml_bytes = st.one_of(
    page_bytes,
    st.lists(st.one_of(st.sampled_from([
        '<?xml version="1.0"?>', "<urlset>", "</urlset>", "<sitemapindex>", "<url><loc>", "</loc></url>",
        "<sitemap><loc>", "</loc></sitemap>", "<rss><channel>", "<item><link>", "</link></item>", "<entry>",
        "<link href='http://127.0.0.9/x'/>", "</entry>", "<lastmod>2024-99-99</lastmod>", "&lol;",
        '<!DOCTYPE x [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>', "&lol2;", "http://127.0.0.1/tin/1.html",
        "<pubDate>Mon, 32 Foo 2024</pubDate>", '<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;",
    ]), st.text(max_size=20)), max_size=40).map(lambda parts: "".join(parts).encode()),
)

TARGETS: dict[str, tuple[Callable[..., None], dict[str, Any]]] = {
    "extract": (check_extract, {"data": page_bytes, "headers": headers, "selectors": st.sampled_from(SELECTORS),
                                "family": st.sampled_from([None, "bogus", *FAMILIES])}),
    "decode": (check_decode, {"data": page_bytes, "headers": headers}),
    "parse_date": (check_parse_date, {"text": date_text, "reference": references, "now": nows}),
    "choose_published": (check_choose, {"cands": candidates, "now": nows}),
    "config": (check_config, {"data": config_data}),
    "discovery": (check_discovery, {"data": xml_bytes}),
}


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=False, database=None,
                    suppress_health_check=list(HealthCheck))


# ---------------------------------------------------------------------------------------------- tests


@pytest.fixture(autouse=True)
def internal_errors_raise(monkeypatch):
    """The date parser's safety net (log and return None) would hide a crash from the fuzzer."""
    monkeypatch.setattr(dates, "RAISE_INTERNAL_ERRORS", True)


@pytest.mark.parametrize("target", list(TARGETS))
def test_no_exception_escapes_and_nothing_hangs(target):
    check, strategies = TARGETS[target]
    started = time.monotonic()
    given(**strategies)(fuzz_settings(EXAMPLES)(check))()
    print(f"\nfuzz {target}: {EXAMPLES} examples in {time.monotonic() - started:.1f} s")


PATHOLOGICAL = {
    "100,000 nested divs": b"<html><body>" + b"<div>" * 100_000 + "Nội dung bài viết. ".encode() * 50,
    "50,000 unclosed <p><b><i>": b"<p><b><i>x" * 50_000,
    "one 6 MB paragraph": b"<div class=content><p>" + "chữ ".encode() * 1_200_000 + b"</p></div>",
    "2 MB of <": b"<" * 2_000_000,
    "1 MB of &#": b"&#" * 500_000,
    "200,000 attributes": b"<div " + b"a=1 " * 200_000 + b">x</div>",
    "20,000 nested tables": b"<table><tr><td>" * 20_000,
    "an unclosed comment": b"<!--" + b"x" * 3_000_000,
    "an unclosed script": b"<script>" + b"x" * 3_000_000,
    "an unclosed title": b"<title>" + "tiêu đề ".encode() * 300_000,
    "5 MB of NUL": b"\0" * 5_000_000,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_pathological_pages_are_read_in_bounded_time(name):
    """Pages the fuzzer would take long to build: each is read (or rejected) in seconds, without an error."""
    started = time.process_time()  # CPU time: a machine busy with other work does not change it
    with bounded(20):
        result = extract(PATHOLOGICAL[name], "http://127.0.0.1/tin/bai-1.html")
    assert not (result.reason or "").startswith("error"), result.reason
    assert time.process_time() - started < 15, name


@fuzz_settings(max(EXAMPLES // 2, 20))
@given(text=toml_text)
def test_any_sites_file_loads_or_fails_with_config_error(tmp_path_factory, text):
    check_config_text(text, tmp_path_factory.mktemp("cfg", numbered=True))


@fuzz_settings(max(EXAMPLES // 2, 20))
@given(code=st.sampled_from(CODE), key=st.sampled_from(["name", "province", "notes", "family", "id", "contact"]))
def test_a_config_never_runs_its_strings(tmp_path_factory, code, key):
    folder = tmp_path_factory.mktemp("code", numbered=True)
    marker = folder / "ran"
    text = code.format(marker=marker)
    site = {"id": "a", "name": "A", "province": "P", "kind": "front", "start_urls": ["http://127.0.0.1/"],
            "notes": ""}
    values = {**site, key: text} if key in site else site
    body = "".join(f"{k} = {toml_string(v)}\n" for k, v in values.items())
    crawler = f"[crawler]\ncontact = {toml_string(text)}\n" if key == "contact" else ""
    path = folder / "sites.toml"
    path.write_text(f"{crawler}[[site]]\n{body}", encoding="utf-8")
    try:
        config = load_config(path)
    except ConfigError:
        config = None
    assert not marker.exists()
    if config is not None and key in ("name", "province", "notes"):
        assert getattr(config.sites[0], key) == text  # just a string


def toml_string(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_string(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def test_toml_string_round_trips():
    assert tomllib.loads(f"x = {toml_string(CODE[0])}")["x"] == CODE[0]


CODE_RUNNERS = re.compile(
    r"(?<![.\w])(?:eval|exec|compile)\s*\(|\bpickle\.loads?\b|\bmarshal\.loads?\b|\byaml\.(?:load|unsafe_load|full_load)\s*\(|"
    r"\bshelve\.open\b|\bimportlib\.import_module\s*\(|\b__import__\s*\(|\bsubprocess\b|\bos\.system\s*\("
)
# Where such a call is fine: its argument is fixed in the code, never from a config or a page.
ALLOWED = {
    ("crawler/demo.py", "subprocess"),  # runs `python -m crawler crawl` with the demo's own arguments
    ("crawler/samples/__init__.py", "importlib"),  # the package's own submodules, lazily
}


def test_no_code_runner_reads_config_or_pages():
    """Nothing in the crawler or the archive evaluates, unpickles or yaml-loads what it reads."""
    found = []
    for path in sorted([*ROOT.glob("crawler/**/*.py"), *ROOT.glob("archive/**/*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for match in CODE_RUNNERS.finditer(code):
                name = match.group(0).split("(")[0].split(".")[0].strip()
                if (rel, name) not in ALLOWED:
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, found
