"""python -m crawler.extract [--url URL] [--text] [--family F] FILE: print the Extraction as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import extract, extract_text


def _published(candidates: list[dict[str, str]]) -> dict[str, Any] | None:
    """The date stage's choice, when crawler.dates is there (it is another stage: optional here)."""
    try:
        from crawler.dates import choose_published
    except ImportError:
        return None
    try:
        choice = choose_published(candidates)
    except Exception as error:  # a bug in the date stage should not hide the extraction
        return {"error": f"{type(error).__name__}: {error}"}
    if choice is None:
        return None
    return {"iso": choice.iso, "raw": choice.raw, "source": choice.source, "reason": choice.reason}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.extract", description=__doc__)
    parser.add_argument("file", help="a saved page (HTML), or a page text with --text")
    parser.add_argument("--url", help="the page's address (resolves links, helps detection)")
    parser.add_argument("--text", action="store_true", help="the file is page text, not HTML")
    parser.add_argument("--family", help="force a CMS family (nukeviet, vhv, tandan, ...)")
    args = parser.parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    if args.text:
        result = extract_text(path.read_text(encoding="utf-8", errors="replace"))
    else:
        result = extract(path.read_bytes(), args.url, family=args.family)
    data = result.to_dict()
    output = {
        "title": data["title"],
        "published": _published(data["date_candidates"]),
        "author": data["author"],
        "source": data["source"],
        **{key: value for key, value in data.items() if key not in {"title", "author", "source"}},
    }
    json.dump(output, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
