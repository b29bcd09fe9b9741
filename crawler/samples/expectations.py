"""Write or check crawler/samples/expected/<site-id>.json: what an archive should extract from each article.

    python -m crawler.samples.expectations            # (re)write the files from content/*.toml
    python -m crawler.samples.expectations --check    # exit 1 when a checked-in file is stale

Values come from the same helpers the templates print with (render.article_view / datefmt.date_line), so the
expected date is the date the page shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any

from . import render
from .site import EXPECTED_DIR, SampleSite, article_path, load_sites


def _nfc(value: str | None) -> str | None:
    return unicodedata.normalize("NFC", value) if value is not None else None


def expected_for_site(site: SampleSite) -> dict[str, dict[str, Any]]:
    """{url_path: expectation} for every article of a site."""
    result: dict[str, dict[str, Any]] = {}
    for article in site.sorted_articles():
        view = render.article_view(site, article)
        path = article_path(site, article)
        result[path] = {
            "title": _nfc(article.title),
            "published": view.date.iso,
            "author": _nfc(article.author),
            "source": _nfc(article.source),
            "paragraphs": render.expected_paragraphs(site, article),
            "dup_group": article.dup_group or f"{site.id}-{article.id}",
            "url_path": path,
            "site_id": site.id,
            "date_style": view.date.style,
        }
    return result


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def build_all(content_dir: Path | str | None = None) -> dict[str, str]:
    """{site_id: JSON text} for all sites (empty object for a site without content)."""
    return {site.id: dumps(expected_for_site(site)) for site in load_sites(content_dir=content_dir)}


def write_all(out_dir: Path | str = EXPECTED_DIR, content_dir: Path | str | None = None) -> list[Path]:
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for site_id, text in build_all(content_dir).items():
        path = target / f"{site_id}.json"
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def check_all(out_dir: Path | str = EXPECTED_DIR, content_dir: Path | str | None = None) -> list[str]:
    """Names of the expectation files that are missing or differ from what the content gives."""
    stale = []
    for site_id, text in build_all(content_dir).items():
        path = Path(out_dir) / f"{site_id}.json"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.samples.expectations", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the checked-in files instead of writing")
    parser.add_argument("--content-dir", type=Path, default=None)
    parser.add_argument("--out-dir", type=Path, default=EXPECTED_DIR)
    args = parser.parse_args(argv)
    if args.check:
        stale = check_all(args.out_dir, args.content_dir)
        if stale:
            print(
                f"stale expectations: {', '.join(stale)}; run python -m crawler.samples.expectations", file=sys.stderr
            )
            return 1
        print("expectations are current", file=sys.stderr)
        return 0
    for path in write_all(args.out_dir, args.content_dir):
        count = len(json.loads(path.read_text(encoding="utf-8")))
        print(f"{path}: {count} articles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
