"""Labelled evaluation of deduplication: ``python -m archive.dedup_eval``.

The labelled set is built in code, deterministically from a seed, out of the sample web's articles
(crawler/samples/content/*.toml; copies of one story share a ``dup_group``):

* every sample article, as the extractor gives it (lead, paragraphs and captions in page order);
* copies of each article as other sites republish it (positives, one ``kind`` each): ``syndicated``
  (date/counter lines, byline, "Theo ..." line, the lead's date phrase reworded), ``retitled``,
  ``trimmed`` (last paragraph dropped), ``recaptioned``, ``typography`` (old/new tone placement, quotes,
  dashes, non-breaking and zero-width characters, NFD), ``reordered`` (two paragraphs swapped),
  ``updated`` (one sentence changed), ``combined`` (retitled + trimmed + recaptioned + typography +
  "Theo ..."), ``abridged`` (the republisher's own one-line lead, the last paragraph and the photos cut)
  and ``restyled`` (another house style: "UBND" spelled out or back, "đồng chí" as "đ/c", 15-10 for 15/10);
* different stories on the same topic (negatives): the sample web's own same-topic articles, and
  ``template`` reports made from an article by putting in another place's names, people, figures and
  dates while keeping its formulaic frame (the way a district's report and its neighbour's read), plus
  ``next-year`` (the same yearly event a year on, edited from last year's text: same people, new figures
  and dates) and ``roundup`` (a digest quoting the leads of three stories).

Pairs are scored on the partition the archive builds: a pair of pages is predicted "same story" when
both pages point to one article. The stories are split (by ``dup_group``) into a dev half, used to
tune dedup.toml, and a held-out half, reported once. Each split is added page by page through
``Archive.add_page`` in random order (the real incremental path), then rebuilt with ``regroup`` (the
``python -m archive dedup`` path); both partitions are scored.

    python -m archive.dedup_eval [--split dev|held-out|all] [--orders N] [--config FILE] [--json]
    python -m archive.dedup_eval --stress                 # plus ``excerpt`` copies (half the text kept)
    python -m archive.dedup_eval --tune [--split dev]     # grid over shingle size, bands, thresholds
    python -m archive.dedup_eval --margins [--stress]     # containment of copies / others per shingle size

Exit status 0 when every run meets the issue's targets (precision >= 0.99, recall >= 0.97) and the
rebuild agrees with the incremental grouping. Tuning scores each grid point three ways: with all the
checks, with the texts alone (figures and dates checks off: a report with no figures), and on the
``excerpt`` stress copies; it also counts LSH candidates per lookup (the cost at scale, which
bench/bench_dedup.py measures properly).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import random
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from .dedup import DedupConfig, Fingerprint, fingerprint, load_config
from .normalize import retone
from .regroup import regroup
from .store import Archive

POSITIVE_KINDS = (
    "syndicated",
    "retitled",
    "trimmed",
    "recaptioned",
    "typography",
    "reordered",
    "updated",
    "combined",
    "abridged",
    "restyled",
)
NEGATIVE_KINDS = ("template", "next-year", "roundup")

# Sites that republish the sample web's stories (besides the sample sites themselves).
REPUBLISHERS = (
    {"id": "bao-namdinh", "name": "Báo Nam Định", "province": "Nam Định", "kind": "party", "domain": "baonamdinh.vn"},
    {"id": "bao-danang", "name": "Báo Đà Nẵng", "province": "Đà Nẵng", "kind": "party", "domain": "baodanang.vn"},
    {"id": "bao-hungyen", "name": "Báo Hưng Yên", "province": "Hưng Yên", "kind": "party", "domain": "baohungyen.vn"},
    {"id": "mttq-namdinh", "name": "Ủy ban MTTQ Việt Nam tỉnh Nam Định", "province": "Nam Định", "kind": "front",
     "domain": "mattran.namdinh.gov.vn"},
    {"id": "haiphong", "name": "Cổng thông tin điện tử thành phố Hải Phòng", "province": "Hải Phòng",
     "kind": "government", "domain": "haiphong.gov.vn"},
)
# Sites the same-template reports come from: other provinces and districts.
OTHER_PLACES = (
    {"id": "thaibinh", "name": "Cổng thông tin điện tử tỉnh Thái Bình", "province": "Thái Bình",
     "kind": "government", "domain": "thaibinh.gov.vn"},
    {"id": "dvtu-ninhbinh", "name": "Ban Dân vận Tỉnh ủy Ninh Bình", "province": "Ninh Bình", "kind": "party",
     "domain": "dvtu.ninhbinh.gov.vn"},
    {"id": "mttq-quangnam", "name": "Ủy ban MTTQ Việt Nam tỉnh Quảng Nam", "province": "Quảng Nam",
     "kind": "front", "domain": "mattran.quangnam.gov.vn"},
    {"id": "haihau", "name": "Cổng thông tin điện tử huyện Hải Hậu", "province": "Nam Định", "kind": "government",
     "domain": "haihau.namdinh.gov.vn"},
)

# Replacement names for same-template reports (invented; common Vietnamese syllables).
_SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi Đỗ Hồ Ngô Dương Lý Phan Trịnh Đinh Mai Tạ".split()
_MIDDLE = "Văn Thị Đức Minh Quang Thanh Hữu Ngọc Xuân Thu Kim Công Bá Tiến".split()
_GIVEN = "An Bình Cường Dũng Hải Hùng Lan Linh Nam Phong Quân Sơn Tâm Thảo Trung Tuấn Yến Hạnh Khải Lộc".split()
_PLACE_A = "Tân Hòa Yên Quảng Xuân Hải Ninh Phú Kim Thanh Vĩnh Đông Tây Bình Hưng Thạch Cẩm Long".split()
_PLACE_B = "Lập Phú Bình Lợi Trường Châu Giang Lộc Sơn Hà Thịnh Hưng Điền Thuận Khánh Phong Mỹ An".split()

_CAPTIONS = (
    "Quang cảnh hội nghị",
    "Các đại biểu dự hội nghị",
    "Đại biểu phát biểu ý kiến tại hội nghị",
    "Lãnh đạo tỉnh trao Bằng khen cho các tập thể",
    "Ảnh: Tư liệu",
    "Toàn cảnh buổi làm việc",
    "Các đại biểu chụp ảnh lưu niệm",
)
_UPDATE_CLAUSES = (
    ", đạt 100% kế hoạch đề ra",
    " theo đúng tiến độ",
    ", được cử tri đồng tình, đánh giá cao",
    " trong thời gian tới",
)

# Capitalized syllables of institutions and titles: a run made only of these is not a name to replace.
_FRAME_WORDS = frozenset(
    "ủy uỷ ban tỉnh thành huyện đảng nhân dân hội nghị mặt trận tổ quốc việt nam bí thư chủ tịch phó thường "
    "trực vụ chính phủ trung ương bộ luật chỉ thị kết luận hiến pháp ngày tháng năm quỹ bằng khen giấy đại "
    "đoàn toàn phụ nữ nông cựu chiến binh thanh niên công sở phòng văn hóa hoá thông tin truyền điện tử cổng "
    "cộng sản hồ chí minh bác xuân tết covid đề án nghị quyết một cửa bộ phận hội đồng quân sự công an trưởng "
    "viên giám đốc".split()
)
# Surnames: a run of three or more capitalized syllables starting with one is a person ("Đoàn Văn Nghị").
_SURNAME_WORDS = frozenset(
    "nguyễn trần lê phạm hoàng huỳnh vũ võ đặng bùi đỗ hồ ngô dương lý phan trịnh đinh mai tạ đoàn lưu "
    "trương lương cao chu hà kiều lã lâm quách tô thái triệu vương".split()
)
_CENTRAL_DOC = re.compile(r"-(?:NQ|CT|KL|QĐ|QĐi|TB|HD)/TW")  # central documents: every province cites the same
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DATE_PHRASE = re.compile(r"^(Sáng|Chiều|Tối|Trưa)?\s*(ngày\s+)?(\d{1,2})[-/](\d{1,2})(?:[-/](\d{4}))?", re.I)


# ---------------------------------------------------------------------------------------- documents


@dataclass
class Doc:
    """One page of the labelled set. Pages with the same ``story`` are copies of one story."""

    key: str
    story: str
    base: str  # the sample story it was made from: the split unit
    kind: str  # "sample", a positive kind, or a negative kind
    site_id: str
    url: str
    title: str
    blocks: list[tuple[str, str]]  # ("lead" | "p" | "cap" | "extra", text) in page order
    published: str
    source: str | None = None
    author: str | None = None

    @property
    def body(self) -> str:
        return "\n\n".join(text for _, text in self.blocks)

    def record(self, fetched_at: str) -> dict:
        """The page record the crawler's pipeline gives ``Archive.add_page``."""
        return {
            "url": self.url,
            "site_id": self.site_id,
            "fetched_at": fetched_at,
            "status": 200,
            "title": self.title,
            "body": self.body,
            "author": self.author,
            "source": self.source,
            "published": self.published,
            "published_raw": self.published,
            "published_source": "visible",
        }


def _sample_blocks(article) -> list[tuple[str, str]]:
    """Lead, paragraphs and captions in page order, as crawler/samples/render.body_blocks lays them out."""
    last = len(article.paragraphs)
    captions: dict[int, list[str]] = {}
    for img in article.images:
        if img.caption:
            captions.setdefault(min(max(img.after, 0), last), []).append(img.caption)
    blocks = [("lead", article.lead)] + [("cap", c) for c in captions.get(0, [])]
    for i, para in enumerate(article.paragraphs, start=1):
        blocks.append(("p", para))
        blocks += [("cap", c) for c in captions.get(i, [])]
    return [(k, unicodedata.normalize("NFC", t)) for k, t in blocks]


def sample_docs() -> tuple[list[Doc], list[dict]]:
    """The sample web's articles as pages, and its sites as ``Archive.upsert_sites`` takes them."""
    from crawler.samples.site import load_sites

    docs, sites = [], []
    for site in load_sites():
        sites.append({"id": site.id, "name": site.name, "province": site.province, "kind": site.kind,
                      "start_urls": [f"https://{site.domain}/"]})
        for art in site.articles:
            group = art.dup_group or f"{site.id}-{art.id}"
            docs.append(
                Doc(
                    key=f"{site.id}/{art.id}",
                    story=group,
                    base=group,
                    kind="sample",
                    site_id=site.id,
                    url=f"https://{site.domain}/tin-tuc/{art.slug}-{art.id}.html",
                    title=unicodedata.normalize("NFC", art.title),
                    blocks=_sample_blocks(art),
                    published=art.published.isoformat(),
                    source=art.source,
                    author=art.author,
                )
            )
    return docs, sites


def eval_sites(sample_sites: list[dict]) -> list[dict]:
    extra = [{**s, "start_urls": [f"https://{s['domain']}/"]} for s in (*REPUBLISHERS, *OTHER_PLACES)]
    return [*sample_sites, *({k: v for k, v in s.items() if k != "domain"} for s in extra)]


# ------------------------------------------------------------------------------------ text edits


def _shift(published: str, days: int) -> str:
    value = datetime.fromisoformat(published) if "T" in published else date.fromisoformat(published)
    return (value + timedelta(days=days)).isoformat()


def _retone_keeping_case(word: str, modern: bool) -> str:
    lower = word.lower()
    placed = retone(lower, modern)
    if placed == lower:
        return word
    if word.isupper():
        return placed.upper()
    return placed[:1].upper() + placed[1:] if word[:1].isupper() else placed


def flip_tones(text: str, modern: bool) -> str:
    """Put every tone mark in the modern (hoà, thuỷ) or classic (hòa, thủy) place, keeping case."""
    return re.sub(r"\w+", lambda m: _retone_keeping_case(m.group(), modern), text)


def typography(text: str, rng: random.Random) -> str:
    """The same words as another CMS stores them: tone placement, quotes, dashes, odd spaces."""
    text = flip_tones(text, modern=rng.random() < 0.7)
    text = text.replace("“", '"').replace("”", '"') if rng.random() < 0.5 else text
    text = text.replace(" - ", " – ")
    text = re.sub(r" (?=\w)", lambda m: "\u00a0" if rng.random() < 0.05 else "  " if rng.random() < 0.03 else " ",
                  text)
    text = re.sub(r"(?<=\w)(?=\w)", lambda m: "\u200b" if rng.random() < 0.002 else "", text)
    return unicodedata.normalize("NFD", text) if rng.random() < 0.3 else text


def reworded_title(doc: Doc, rng: random.Random, province: str) -> str:
    words = doc.title.split()
    lead_words = re.sub(r"^[^,]*,\s*", "", doc.blocks[0][1]).split()
    options = [
        f"{province}: {doc.title}",
        " ".join(words[2:]).capitalize() if len(words) > 6 else doc.title.upper(),
        " ".join(lead_words[:12]).rstrip(",.;"),
        doc.title.upper(),
    ]
    return rng.choice(options)


def _content_indexes(blocks: list[tuple[str, str]], kind: str = "p") -> list[int]:
    return [i for i, (k, _) in enumerate(blocks) if k == kind]


def trim_last(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop the last paragraph and what follows it (its captions)."""
    paras = _content_indexes(blocks)
    return blocks[: paras[-1]] if len(paras) >= 2 else blocks


def recaption(blocks: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """Other captions: each replaced, dropped or kept; one added where the page had none."""
    out: list[tuple[str, str]] = []
    for kind, text in blocks:
        if kind == "cap":
            roll = rng.random()
            if roll < 0.4:
                continue
            out.append((kind, rng.choice(_CAPTIONS) if roll < 0.9 else text))
        else:
            out.append((kind, text))
    if not _content_indexes(out, "cap"):
        out.insert(1, ("cap", rng.choice(_CAPTIONS)))
    return out


def reorder(blocks: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    paras = _content_indexes(blocks)
    out = list(blocks)
    if len(paras) >= 3:
        i = rng.randrange(len(paras) - 1)
        a, b = paras[i], paras[i + 1]
        out[a], out[b] = out[b], out[a]
    return out


def update_one_sentence(blocks: list[tuple[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """The editor's correction: one figure changed, or one clause added to one sentence."""
    out = list(blocks)
    i = rng.choice(_content_indexes(out) or [0])
    kind, text = out[i]
    numbers = [m for m in _NUMBER.finditer(text) if not _is_year(m.group())]
    if numbers and rng.random() < 0.6:
        m = rng.choice(numbers)
        text = text[: m.start()] + _other_number(m.group(), rng) + text[m.end() :]
    else:
        sentences = re.split(r"(?<=\.) ", text)
        j = rng.randrange(len(sentences))
        sentences[j] = sentences[j].rstrip(".") + rng.choice(_UPDATE_CLAUSES) + "."
        text = " ".join(sentences)
    out[i] = (kind, text)
    return out


def reword_date_phrase(lead: str, rng: random.Random) -> str:
    """A republisher rewrites "Chiều ngày 14/10/2024, ..." relative to its own day ("Ngày 14-10, ...")."""
    m = _DATE_PHRASE.match(lead)
    if not m:
        return lead
    day, month = int(m.group(3)), int(m.group(4))
    return rng.choice([f"Ngày {day}-{month}", f"Vừa qua, ngày {day}/{month}", f"Hôm {day}/{month}"]) + lead[m.end() :]


def syndicate(doc: Doc, rng: random.Random, origin_domain: str) -> tuple[list[tuple[str, str]], str]:
    """What a republishing site adds: counter/date lines on top, a reworded date phrase, byline and source."""
    blocks = list(doc.blocks)
    blocks[0] = ("lead", reword_date_phrase(blocks[0][1], rng))
    day = doc.published[:10].split("-")
    top = [f"Lượt xem: {rng.randint(20, 3000)}", f"Đăng ngày {day[2]}/{day[1]}/{day[0]} {rng.randint(7, 20):02d}:15"]
    source = f"{rng.choice(['Theo', 'Nguồn:'])} {origin_domain}"
    tail = [rng.choice(["PV", "Thu Hà", "Tin, ảnh: Hoàng Yến", "MINH ANH"]), source]
    return [("extra", t) for t in rng.sample(top, rng.randint(0, 2))] + blocks + [("extra", t) for t in tail], source


# House styles: one site spells out what another abbreviates, and writes dates its own way.
_STYLE_SWAPS = (
    ("UBND", "Ủy ban nhân dân"),
    ("HĐND", "Hội đồng nhân dân"),
    ("Ủy ban MTTQ Việt Nam", "Ủy ban Mặt trận Tổ quốc Việt Nam"),
    ("MTTQ", "Mặt trận Tổ quốc"),
    ("đồng chí", "đ/c"),
    ("Đồng chí", "Đ/c"),
)


def restyle(text: str, rng: random.Random) -> str:
    """Another site's house style: abbreviations spelled out or back, "đồng chí" shortened, dates with dashes."""
    for short, full in _STYLE_SWAPS:
        if rng.random() < 0.7:
            text = text.replace(short, full) if short in text else text.replace(full, short)
    return re.sub(r"\b(\d{1,2})/(\d{1,2})\b", r"\1-\2", text) if rng.random() < 0.5 else text


def abridge(doc: Doc, rng: random.Random, origin_domain: str, keep: float = 1.0) -> list[tuple[str, str]]:
    """A republisher's short version: its own one-line lead instead of the original one, no photos, the
    last paragraph cut (``keep`` < 1: only that share of the paragraphs kept, from the top)."""
    day, month = int(doc.published[8:10]), int(doc.published[5:7])
    lead = f"Ngày {day}/{month}, {doc.title[:1].lower()}{doc.title[1:]}."
    paras = [("p", t) for k, t in doc.blocks if k == "p"]
    kept = paras[: max(1, min(len(paras) - 1, round(len(paras) * keep)))]
    tail = [("extra", rng.choice(["PV", "Hồng Nhung"])), ("extra", f"Theo {origin_domain}")]
    return [("lead", lead), *kept, *tail]


# ------------------------------------------------------------------------ same-template stories


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and 1900 <= int(token) <= 2099


def _other_number(token: str, rng: random.Random) -> str:
    """A different figure of the same shape: "1.436" -> "2.917", "36,5" -> "41,2", "9" -> "14"."""
    def digits(n: int, first: bool) -> str:
        lo = 10 ** (n - 1) if first and n > 1 else 0
        return str(rng.randint(lo, 10**n - 1)).zfill(n if not first else 1)

    parts = re.split(r"([.,])", token)
    while True:
        new = "".join(p if p in ".," else digits(len(p), i == 0) for i, p in enumerate(parts))
        if new != token:
            return new


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def _place(rng: random.Random) -> str:
    return f"{rng.choice(_PLACE_A)} {rng.choice(_PLACE_B)}"


_TOKEN = re.compile(r"\w+|[^\w]+")


_SENTENCE_BREAK = re.compile(r"[.!?:;\n“\"(]")


def name_runs(text: str) -> list[str]:
    """Runs of two or more Capitalized syllables that name a person or place (not a frame word run)."""
    runs: list[list[str]] = []
    current: list[str] = []
    sentence_start = True

    def close() -> None:
        if len(current) >= 2:
            runs.append(list(current))
        current.clear()

    for tok in _TOKEN.findall(text):
        if tok[0].isalnum() or tok[0] == "_":  # a word
            capitalized = tok[0].isupper() and not tok.isupper()  # not an acronym (UBND)
            if capitalized and (current or not sentence_start):  # a sentence's first word starts no name
                current.append(tok)
            else:
                close()
            sentence_start = False
        else:  # between words: only spaces continue a name
            if tok.strip() or "\n" in tok:
                close()
            sentence_start = sentence_start or bool(_SENTENCE_BREAK.search(tok))
    close()
    return [" ".join(run) for run in runs if _is_name(run)]


def _is_name(syllables: list[str]) -> bool:
    if len(syllables) >= 3 and syllables[0].lower() in _SURNAME_WORDS:
        return True
    return any(w.lower() not in _FRAME_WORDS for w in syllables)


def template_story(doc: Doc, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    """The same report written for another place: names, people, figures and dates replaced.

    Central documents ("Nghị quyết số 25-NQ/TW") and years stay: every province cites the same ones.
    """
    texts = [doc.title] + [t for _, t in doc.blocks]
    names: dict[str, str] = {}
    for run in sorted({r for t in texts for r in name_runs(t)}, key=lambda r: (-len(r), r)):
        names[run] = _person(rng) if len(run.split()) >= 3 else _place(rng)
    days, months = set(), set()
    for text in texts:
        for m in re.finditer(r"\b(\d{1,2})[-/](\d{1,2})\b", text):
            days.add(m.group(1))
            months.add(m.group(2))
    swapped: dict[str, str] = {}  # one figure mentioned twice stays one figure

    def swap_number(m: re.Match) -> str:
        token = m.group()
        if _is_year(token) or _CENTRAL_DOC.match(m.string, m.end()):
            return token
        if token not in swapped:
            if token in days or token in months:
                value = rng.randint(1, 12) if token in months else rng.randint(1, 28)
                swapped[token] = str(value).zfill(len(token))
            else:
                swapped[token] = _other_number(token, rng)
        return swapped.get(token, token)

    def rewrite(text: str) -> str:
        for old, new in names.items():
            text = text.replace(old, new)
        return _NUMBER.sub(swap_number, text)

    return rewrite(doc.title), [(k, rewrite(t)) for k, t in doc.blocks]


def next_year_story(doc: Doc, rng: random.Random) -> tuple[str, list[tuple[str, str]]]:
    """The same unit's report of the same yearly event a year later, edited from last year's text:
    same people and places, this year's figures and dates."""
    year = int(doc.published[:4])
    swapped: dict[str, str] = {}

    def swap_number(m: re.Match) -> str:
        token = m.group()
        if _CENTRAL_DOC.match(m.string, m.end()):
            return token
        if token not in swapped:
            swapped[token] = str(int(token) + 1) if token in (str(year), str(year + 1)) else (
                token if _is_year(token) else _other_number(token, rng))
        return swapped[token]

    def rewrite(text: str) -> str:
        return _NUMBER.sub(swap_number, text)

    return rewrite(doc.title), [(k, rewrite(t)) for k, t in doc.blocks]


# ------------------------------------------------------------------------------------ the set


def _slug(doc: Doc, suffix: str) -> str:
    return f"{doc.url.rsplit('/', 1)[-1].removesuffix('.html')}-{suffix}"


def _variant(doc: Doc, kind: str, site: dict, n: int, **changes) -> Doc:
    return dataclasses.replace(
        doc,
        key=f"{doc.key}#{kind}{n}",
        kind=kind,
        site_id=site["id"],
        url=f"https://{site['domain']}/tin-tuc/{_slug(doc, f'{kind}{n}')}.html",
        **changes,
    )


def positives(doc: Doc, rng: random.Random, sites: dict[str, dict], stress: bool = False) -> list[Doc]:
    """Copies of ``doc`` as other sites republish or edit it: same story. ``stress`` adds ``excerpt``
    (half the paragraphs kept): beyond what the issue asks, reported on its own."""
    origin = sites[doc.site_id]
    others = [s for sid, s in sites.items() if sid != doc.site_id and s.get("republisher")]
    out = []

    def add(kind: str, **changes) -> None:
        site = rng.choice(others)
        published = _shift(doc.published, rng.randint(0, 3))
        out.append(_variant(doc, kind, site, len(out), published=published, **changes))

    blocks, source = syndicate(doc, rng, origin["domain"])
    add("syndicated", blocks=blocks, source=source)
    add("retitled", title=reworded_title(doc, rng, origin["province"]))
    add("trimmed", blocks=trim_last(doc.blocks))
    add("recaptioned", blocks=recaption(doc.blocks, rng))
    add("typography", blocks=[(k, typography(t, rng)) for k, t in doc.blocks], title=typography(doc.title, rng))
    add("reordered", blocks=reorder(doc.blocks, rng))
    add("updated", blocks=update_one_sentence(doc.blocks, rng))
    combined, source = syndicate(dataclasses.replace(doc, blocks=recaption(trim_last(doc.blocks), rng)), rng,
                                 origin["domain"])
    add("combined", blocks=[(k, typography(t, rng)) for k, t in combined], source=source,
        title=reworded_title(doc, rng, origin["province"]))
    add("abridged", blocks=abridge(doc, rng, origin["domain"]), source=f"Theo {origin['domain']}",
        title=reworded_title(doc, rng, origin["province"]))
    add("restyled", blocks=[(k, restyle(t, rng)) for k, t in doc.blocks])
    if stress:
        add("excerpt", blocks=abridge(doc, rng, origin["domain"], keep=0.5), source=f"Theo {origin['domain']}")
    return out


def negatives(doc: Doc, rng: random.Random, sites: dict[str, dict], pool: Sequence[Doc]) -> list[Doc]:
    """Different stories that read like ``doc``: each one a story of its own."""
    out = []
    places = [s for s in sites.values() if s.get("other_place")]
    title, blocks = template_story(doc, rng)
    new = _variant(doc, "template", rng.choice(places), 0, title=title, blocks=blocks, source=None,
                   published=_shift(doc.published, rng.randint(-20, 20)))
    out.append(dataclasses.replace(new, story=new.key))
    title, blocks = next_year_story(doc, rng)
    new = _variant(doc, "next-year", sites[doc.site_id], 0, title=title, blocks=blocks,
                   published=_shift(doc.published, 365 + rng.randint(-15, 15)))
    out.append(dataclasses.replace(new, story=new.key))
    if rng.random() < 0.25:
        others = rng.sample([d for d in pool if d.story != doc.story], 2)
        blocks = [("lead", "Điểm tin hoạt động nổi bật trong tuần.")]
        blocks += [("p", d.blocks[0][1]) for d in (doc, *others)]
        site = rng.choice([s for s in sites.values() if s.get("republisher")])
        new = _variant(doc, "roundup", site, 0, title="Điểm tin nổi bật trong tuần", blocks=blocks, source=None)
        out.append(dataclasses.replace(new, story=new.key))
    return out


@dataclass
class LabelledSet:
    docs: list[Doc]
    sites: list[dict]

    def split(self, name: str) -> list[Doc]:
        """``dev``, ``held-out`` or ``all``: stories go to one half by a hash of their sample group."""
        if name == "all":
            return list(self.docs)
        want = name == "held-out"
        return [d for d in self.docs if (hashlib.sha1(d.base.encode()).digest()[0] % 2 == 1) == want]


def build_set(seed: int = 7, stress: bool = False) -> LabelledSet:
    """The labelled set (deterministic for a seed); ``stress`` adds the ``excerpt`` copies."""
    rng = random.Random(seed)
    base, sample_sites = sample_docs()
    sites = {s["id"]: {**s, "domain": s["start_urls"][0].split("/")[2]} for s in sample_sites}
    sites.update({s["id"]: {**s, "republisher": True} for s in REPUBLISHERS})
    sites.update({s["id"]: {**s, "other_place": True} for s in OTHER_PLACES})
    docs = list(base)
    for doc in base:
        docs += positives(doc, rng, sites)
        docs += negatives(doc, rng, sites, base)
        if stress:  # its own generator: the main set stays the same with or without it
            docs += positives(doc, random.Random(f"{seed}:{doc.key}"), sites, stress=True)[-1:]
    return LabelledSet(docs, eval_sites(sample_sites))


# ---------------------------------------------------------------------------------------- scoring


@dataclass
class Scores:
    pairs: int = 0
    true_pairs: int = 0
    predicted_pairs: int = 0
    tp: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict:
        return {"pairs": self.pairs, "true_pairs": self.true_pairs, "predicted_pairs": self.predicted_pairs,
                "tp": self.tp, "fp": self.predicted_pairs - self.tp, "fn": self.true_pairs - self.tp,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise(truth: dict[str, str], predicted: dict[str, object]) -> Scores:
    """Pairwise precision/recall of a predicted partition against the labelled one (same keys)."""
    cells = Counter((truth[k], predicted[k]) for k in truth)
    return Scores(
        pairs=_pairs(len(truth)),
        true_pairs=sum(_pairs(n) for n in Counter(truth.values()).values()),
        predicted_pairs=sum(_pairs(n) for n in Counter(predicted[k] for k in truth).values()),
        tp=sum(_pairs(n) for n in cells.values()),
    )


def mistakes(docs: Sequence[Doc], predicted: dict[str, object]) -> dict[str, Counter]:
    """Per kind: pages kept apart from the main group of their story (missed) and pages whose group holds
    another story too (merged)."""
    votes: dict[str, Counter] = {}
    stories_in: dict[object, set[str]] = {}
    for d in docs:
        votes.setdefault(d.story, Counter())[predicted[d.key]] += 1
        stories_in.setdefault(predicted[d.key], set()).add(d.story)
    main = {story: counts.most_common(1)[0][0] for story, counts in votes.items()}
    missed = Counter(d.kind for d in docs if predicted[d.key] != main[d.story])
    merged = Counter(d.kind for d in docs if len(stories_in[predicted[d.key]]) > 1)
    return {"missed": missed, "merged": merged}


# ------------------------------------------------------------------------------------ running


@dataclass
class RunResult:
    incremental: Scores
    rebuilt: Scores
    agrees: bool
    seconds: float
    canonical_ok: float  # share of multi-page stories whose canonical copy is the expected page
    mistakes: dict[str, Counter] = field(default_factory=dict)
    candidates_per_lookup: float = 0.0  # LSH candidates of a near-copy lookup
    verified_per_lookup: float = 0.0  # of which verified on the texts


def build_archive(path: str | Path, docs: Sequence[Doc], sites: list[dict], cfg: DedupConfig,
                  order_seed: int = 0) -> Archive:
    """A new archive with ``docs`` added one by one in a shuffled order (fetch times follow that order)."""
    archive = Archive(path, dedup_config=cfg)
    archive.upsert_sites(sites)
    order = list(docs)
    random.Random(order_seed).shuffle(order)
    start = datetime(2026, 1, 1)
    for n, doc in enumerate(order):
        archive.add_page(doc.record((start + timedelta(minutes=n)).isoformat() + "+00:00"))
    return archive


def partition(archive: Archive, docs: Sequence[Doc]) -> dict[str, int]:
    by_url = dict(archive.conn.execute("SELECT url, article_id FROM pages").fetchall())
    return {d.key: by_url[d.url] for d in docs}


def _expected_canonical(pages: list[Doc], sites: dict[str, dict]) -> set[str]:
    """URLs acceptable as canonical: the page of the site a "Theo ..." line names, else the earliest."""
    named = {d.source.split()[-1] for d in pages if d.source}
    by_name = [d for d in pages if sites.get(d.site_id, {}).get("domain") in named]
    if by_name:
        return {d.url for d in by_name}
    first = min(d.published for d in pages)
    return {d.url for d in pages if d.published == first}


def canonical_accuracy(archive: Archive, docs: Sequence[Doc], sites: list[dict]) -> float:
    domains = {s["id"]: {"domain": s["start_urls"][0].split("/")[2]} for s in sites}
    stories: dict[str, list[Doc]] = {}
    for d in docs:
        stories.setdefault(d.story, []).append(d)
    urls = dict(archive.conn.execute("SELECT url, article_id FROM pages").fetchall())
    canon = dict(archive.conn.execute("SELECT id, url FROM articles").fetchall())
    multi = [pages for pages in stories.values() if len(pages) > 1]
    ok = sum(canon.get(urls[pages[0].url]) in _expected_canonical(pages, domains) for pages in multi)
    return ok / len(multi) if multi else 1.0


def evaluate(docs: Sequence[Doc], sites: list[dict], cfg: DedupConfig, order_seed: int = 0,
             rebuild: bool = True) -> RunResult:
    """Score the incremental path (random arrival order) and the rebuild (regroup) on ``docs``."""
    truth = {d.key: d.story for d in docs}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        archive = build_archive(Path(tmp) / "eval.db", docs, sites, cfg, order_seed)
        seconds = time.perf_counter() - started
        try:
            incremental = partition(archive, docs)
            result = RunResult(pairwise(truth, incremental), Scores(), True, seconds,
                               canonical_accuracy(archive, docs, sites), mistakes(docs, incremental))
            lookups = max(1, archive.index.counts["lookups"])
            result.candidates_per_lookup = archive.index.counts["candidates"] / lookups
            result.verified_per_lookup = archive.index.counts["verified"] / lookups
            if rebuild:
                report = regroup(archive, cfg)
                result.rebuilt = pairwise(truth, partition(archive, docs))
                result.agrees = report.agrees
        finally:
            archive.close()
    return result


# ------------------------------------------------------------------------------------- tuning

BANDINGS = ((128, 32, 4), (96, 32, 3), (120, 40, 3), (128, 64, 2), (128, 16, 8))  # num_perm, bands, rows


def text_only(cfg: DedupConfig) -> DedupConfig:
    """``cfg`` without the figures and dates checks: how well the texts alone separate the stories (the
    case of reports with fewer than three figures and no date)."""
    return dataclasses.replace(cfg, max_missing_numbers=10**9, max_date_gap_days=10**9)


def score_point(labelled: LabelledSet, stressed: LabelledSet, split: str, cfg: DedupConfig) -> dict:
    """One grid point on ``split``: full checks, text-only checks, and recall of the stress excerpts."""
    docs = labelled.split(split)
    full = evaluate(docs, labelled.sites, cfg, rebuild=False)
    plain = evaluate(docs, labelled.sites, text_only(cfg), rebuild=False)
    stress_docs = stressed.split(split)
    stress = evaluate(stress_docs, stressed.sites, cfg, rebuild=False)
    excerpts = sum(d.kind == "excerpt" for d in stress_docs)
    return {
        "shingle": cfg.shingle, "num_perm": cfg.num_perm, "bands": cfg.bands, "rows": cfg.rows,
        "min_containment": cfg.min_containment, "low_containment": cfg.low_containment,
        "precision": full.incremental.precision, "recall": full.incremental.recall, "f1": full.incremental.f1,
        "text_only_f1": plain.incremental.f1,
        "excerpt_recall": 1 - stress.mistakes["missed"]["excerpt"] / excerpts if excerpts else 1.0,
        "candidates": full.candidates_per_lookup, "verified": full.verified_per_lookup,
        "ms_per_page": 1000 * full.seconds / len(docs),
    }


def _rank(row: dict) -> tuple:
    # Targets first, then robustness when the figures cannot help, then abridged copies, then cost.
    meets = row["precision"] >= 0.99 and row["recall"] >= 0.97
    return (not meets, -round(row["f1"], 4), -round(row["text_only_f1"], 3), -round(row["excerpt_recall"], 2),
            row["candidates"])


def tune(labelled: LabelledSet, stressed: LabelledSet, split: str, base: DedupConfig) -> list[dict]:
    """Two stages on ``split``: shingle size x LSH banding at the base thresholds, then the containment
    bars at the best of those. Rows best first (see ``_rank``)."""
    stage1 = [
        score_point(labelled, stressed, split,
                    dataclasses.replace(base, shingle=k, num_perm=n, bands=b, rows=r))
        for k, (n, b, r) in itertools.product((3, 4, 5, 6, 7), BANDINGS)
    ]
    best = min(stage1, key=_rank)
    chosen = dataclasses.replace(base, shingle=best["shingle"], num_perm=best["num_perm"], bands=best["bands"],
                                 rows=best["rows"])
    stage2 = [
        score_point(labelled, stressed, split,
                    dataclasses.replace(chosen, min_containment=hi, low_containment=lo))
        for hi, lo in itertools.product((0.6, 0.7, 0.75, 0.8, 0.85, 0.9), (0.45, 0.55, 0.65, 1.0))
        if lo <= hi or lo == 1.0  # low_containment 1.0: no "similar title" rule at all
    ]
    return sorted(stage1, key=_rank) + sorted(stage2, key=_rank)


def margins(docs: Sequence[Doc], base: DedupConfig, shingles: Sequence[int] = (3, 4, 5, 6, 7)) -> list[dict]:
    """Per shingle size: the lowest containment of each kind of copy in its original, and the highest of
    each kind of different story (generated ones against their original, the sample web's against each
    other). The gap between the two is what ``min_containment`` sits in."""
    by_key = {d.key: d for d in docs}
    samples = [d for d in docs if d.kind == "sample"]
    rows = []
    for k in shingles:
        cfg = dataclasses.replace(base, shingle=k)
        prints = {d.key: fingerprint(d.body, cfg, signature=False) for d in docs}
        copies: dict[str, float] = {}
        others: dict[str, float] = {}
        pairs = [(d, by_key[d.key.split("#")[0]]) for d in docs if "#" in d.key]
        pairs += list(itertools.combinations(samples, 2))
        for a, b in pairs:
            kind = a.kind if a.kind != "sample" else ("sample-copy" if a.story == b.story else "sample-other")
            c = containment(prints[a.key], prints[b.key])
            if a.story == b.story:
                copies[kind] = min(copies.get(kind, 1.0), c)
            else:
                others[kind] = max(others.get(kind, 0.0), c)
        rows.append({"shingle": k, "copies_min": copies, "others_max": others})
    return rows


def containment(a: Fingerprint, b: Fingerprint) -> float:
    short, long_ = sorted((a, b), key=lambda f: len(f.shingles))
    return len(short.shingles & long_.shingles) / len(short.shingles) if short.shingles else 0.0


# ---------------------------------------------------------------------------------------- CLI


def describe(docs: Sequence[Doc]) -> dict:
    truth = {d.key: d.story for d in docs}
    s = pairwise(truth, truth)
    return {"pages": len(docs), "stories": len(set(truth.values())), "positive_pairs": s.true_pairs,
            "negative_pairs": s.pairs - s.true_pairs, "kinds": dict(Counter(d.kind for d in docs))}


def _report(name: str, docs: Sequence[Doc], runs: list[RunResult]) -> dict:
    return {
        "split": name,
        "set": describe(docs),
        "runs": [
            {"order_seed": n, "incremental": r.incremental.as_dict(), "rebuilt": r.rebuilt.as_dict(),
             "rebuild_agrees": r.agrees, "seconds": round(r.seconds, 2), "canonical_ok": round(r.canonical_ok, 4),
             "missed_by_kind": dict(r.mistakes["missed"]), "merged_by_kind": dict(r.mistakes["merged"])}
            for n, r in enumerate(runs)
        ],
    }


def _print_report(rep: dict) -> None:
    s = rep["set"]
    print(f"[{rep['split']}] {s['pages']} pages, {s['stories']} stories, {s['positive_pairs']} positive and "
          f"{s['negative_pairs']} negative pairs")
    for run in rep["runs"]:
        for path in ("incremental", "rebuilt"):
            m = run[path]
            print(f"  order {run['order_seed']} {path:<11} precision {m['precision']:.4f} recall {m['recall']:.4f} "
                  f"F1 {m['f1']:.4f} (tp {m['tp']}, fp {m['fp']}, fn {m['fn']})")
        print(f"  rebuild agrees: {run['rebuild_agrees']}; canonical copy as expected: {run['canonical_ok']:.3f}; "
              f"add_page of all pages: {run['seconds']:.1f} s")
        if run["missed_by_kind"] or run["merged_by_kind"]:
            print(f"  pages apart from their story: {run['missed_by_kind']}; merged with another: "
                  f"{run['merged_by_kind']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archive.dedup_eval", description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "held-out", "all"], default=None,
                        help="default: dev and held-out (tuning: dev)")
    parser.add_argument("--config", help="dedup TOML (default: archive/dedup.toml)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated variants")
    parser.add_argument("--orders", type=int, default=1, help="random arrival orders to run")
    parser.add_argument("--stress", action="store_true", help="add excerpts (half of the text kept)")
    parser.add_argument("--margins", action="store_true",
                        help="containment of each kind of copy / different story, per shingle size")
    parser.add_argument("--tune", action="store_true", help="grid search on the split; prints the best points")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    labelled = build_set(args.seed, stress=args.stress)
    if args.margins:
        for row in margins(labelled.split(args.split or "dev"), cfg):
            print(f"shingle {row['shingle']}: copies keep at least "
                  + ", ".join(f"{k} {v:.2f}" for k, v in sorted(row["copies_min"].items())))
            print("           different stories share at most "
                  + ", ".join(f"{k} {v:.2f}" for k, v in sorted(row["others_max"].items())))
        return 0
    if args.tune:
        rows = tune(labelled, build_set(args.seed, stress=True), args.split or "dev", cfg)
        if args.json:
            print(json.dumps(rows, indent=1))
        else:
            for r in rows:
                print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
        return 0
    reports = []
    for name in [args.split] if args.split else ["dev", "held-out"]:
        docs = labelled.split(name)
        runs = [evaluate(docs, labelled.sites, cfg, order_seed=o) for o in range(args.orders)]
        reports.append(_report(name, docs, runs))
    if args.json:
        print(json.dumps({"config": dataclasses.asdict(cfg), "reports": reports}, ensure_ascii=False, indent=1))
    else:
        for rep in reports:
            _print_report(rep)
    ok = all(r["incremental"]["precision"] >= 0.99 and r["incremental"]["recall"] >= 0.97 and r["rebuild_agrees"]
             for rep in reports for r in rep["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
