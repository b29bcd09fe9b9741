"""Generated stories that read like provincial news, for the crawl and storage benchmarks.

The sentences, leads and titles of the sample web (crawler/samples/content/*.toml, written for this project)
are recombined into new stories: 3 to 6 paragraphs of 1 to 3 sentences each, numbers redrawn, a lead that
dates the story. Two stories share few sentences, so they are distinct stories for deduplication, with the
vocabulary, lengths and word frequencies of the real pages. Every ``copy_every``-th story is a republished
copy of one of the previous stories (another site when stories are dealt round-robin over sites), with a
"Theo ..." source line, as on the real web.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "crawler" / "samples" / "content"
VN_TZ = timezone(timedelta(hours=7))
_SENTENCE = re.compile(r"(?<=[.!?…])\s+(?=[A-ZÀ-ỸĐ“\"])")
_NUMBER = re.compile(r"\d+")
_DAY_PART = ("Sáng", "Chiều", "Ngày", "Tối")
AUTHORS = ("THANH THẢO", "Tin, ảnh: Mai Phương", "Hoàng Yến", "MINH TRANG", "Quang Vinh", "Thu Hà")
SOURCES = ("danang.gov.vn", "hungyen.gov.vn", "namdinh.gov.vn", "mattran.org.vn", "dangcongsan.vn")


@dataclass(frozen=True)
class Pool:
    titles: tuple[str, ...]
    leads: tuple[str, ...]  # each without its opening "Sáng 3-4," (the story's own date goes there)
    sentences: tuple[str, ...]
    captions: tuple[str, ...]


@cache
def pool() -> Pool:
    titles, leads, sentences, captions = [], [], [], []
    for path in sorted(CONTENT.glob("*.toml")):
        for article in tomllib.loads(path.read_text(encoding="utf-8")).get("article", []):
            titles.append(article["title"])
            lead = article["lead"]
            leads.append(lead.split(", ", 1)[1] if ", " in lead[:40] else lead)
            for paragraph in article.get("paragraphs", []):
                sentences += [s.strip() for s in _SENTENCE.split(paragraph) if len(s.strip()) > 30]
            captions += [i.get("caption", "") for i in article.get("images", []) if i.get("caption")]
    return Pool(tuple(titles), tuple(leads), tuple(sentences), tuple(captions))


def _numbers(text: str, rng: Random) -> str:
    """Every number redrawn: a day or month stays one (1 to 12), a year stays a year of the archive's span,
    others keep their number of digits."""

    def redraw(match: re.Match[str]) -> str:
        digits = match.group()
        if len(digits) <= 2 and int(digits) <= 31:
            return str(rng.randint(1, 12))
        if len(digits) == 4 and digits[:2] in ("19", "20"):
            return str(rng.randint(2015, 2026))
        return str(rng.randint(10 ** (len(digits) - 1), 10 ** len(digits) - 1))

    return _NUMBER.sub(redraw, text)


def story(k: int, seed: int = 0, copy_every: int = 12) -> dict[str, Any]:
    """Story number k (stable for a seed): title, lead, paragraphs, published, author, source, captions."""
    if copy_every and k % copy_every == copy_every - 1 and k >= 5:
        original = story(k - 5, seed, copy_every=0)
        domain = SOURCES[k % len(SOURCES)]
        return {**original, "source": f"Theo {domain}", "copy_of": k - 5}
    rng = Random(seed * 1_000_003 + k)
    p = pool()
    published = datetime(2026, 11, 1, 8, 0, tzinfo=VN_TZ) - timedelta(minutes=37 * k + rng.randint(0, 30))
    day_part = rng.choice(_DAY_PART)
    lead = f"{day_part} {published.day}-{published.month}, {_numbers(rng.choice(p.leads), rng)}"
    paragraphs = [
        " ".join(_numbers(rng.choice(p.sentences), rng) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(3, 6))
    ]
    return {
        "title": _numbers(rng.choice(p.titles), rng),
        "lead": lead,
        "paragraphs": paragraphs,
        "published": published,
        "author": rng.choice(AUTHORS) if rng.random() < 0.6 else None,
        "source": None,
        "caption": rng.choice(p.captions) if p.captions else "",
    }


def story_text(s: dict[str, Any]) -> str:
    """The text an extractor should give back: lead, then paragraphs, a blank line between."""
    return "\n\n".join([s["lead"], *s["paragraphs"]])


# ------------------------------------------------------------------------------------------ sample web content


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return '"' + value.isoformat() + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(type(value))


def article_table(s: dict[str, Any], article_id: int, category: str) -> str:
    """One ``[[article]]`` of a sample-web content file (crawler/samples/README.md schema)."""
    fields: dict[str, Any] = {
        "id": article_id,
        "slug": f"tin-bai-{article_id}",
        "category": category,
        "title": s["title"],
        "published": s["published"],
        "lead": s["lead"],
        "paragraphs": s["paragraphs"],
        "images": [{"after": 1, "src": f"anh-{article_id}.jpg", "caption": s["caption"]}],
    }
    for key in ("author", "source"):
        if s.get(key):
            fields[key] = s[key]
    return "[[article]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields.items())


def write_sample_content(directory: Path, articles: int, seed: int = 0) -> Path:
    """content/<site-id>.toml files for the sample web: `articles` stories dealt round-robin over the six
    sites and, within a site, over its categories."""
    from crawler.samples.site import load_sites

    sites = load_sites(content_dir=directory / "__none__")
    tables: dict[str, list[str]] = {site.id: [] for site in sites}
    for k in range(articles):
        site = sites[k % len(sites)]
        n = len(tables[site.id])
        category = site.categories[n % len(site.categories)].key
        tables[site.id].append(article_table(story(k, seed), 100_000 + k, category))
    directory.mkdir(parents=True, exist_ok=True)
    for site_id, items in tables.items():
        (directory / f"{site_id}.toml").write_text("\n".join(items), encoding="utf-8")
    return directory
