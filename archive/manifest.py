"""The manifest of a dump: a Frictionless Data Package (``datapackage.json``) next to the dumped file.

One resource per dumped file: path, format, mediatype, bytes, ``hash`` ("sha256:<hex>"), the Table Schema
of its rows (tabular formats), the row count, and how it was made (command, filters, time) with the crawl
dates it covers. Several dumps written to one folder share one package: a dump replaces the resource with
its own path and keeps the others, so ``datapackage.json`` always describes the files beside it.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .export import ExportResult
    from .search import Filters

PROFILE = "data-package"
MEDIATYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "sqlite": "application/vnd.sqlite3",
    "warc": "application/warc",
}
LICENSES = [
    {
        "name": "other-at",
        "title": "Texts © their publishers (Vietnamese government, Party and Fatherland Front bodies); "
        "archived and shared for research",
    }
]
SOURCES = [{"title": "Public web sites of Vietnamese provincial government, Party and Fatherland Front bodies"}]


def resource_name(path: Path) -> str:
    """A Frictionless resource name (lowercase, digits, '-', '_', '.') from a file name."""
    return re.sub(r"[^a-z0-9._-]+", "-", path.name.lower()).strip("-") or "dump"


def table_schema() -> dict[str, Any]:
    from .export import STORY_FIELDS

    fields = []
    for f in STORY_FIELDS:
        item: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
        if f.type == "datetime":
            item["format"] = "any"  # ISO 8601 with an offset ("+00:00"), not only the default "Z" form
        fields.append(item)
    return {"fields": fields, "primaryKey": ["id"]}


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed: ``python -m archive export ...`` when run from the CLI."""
    argv = list(sys.argv if argv is None else argv)
    if argv and argv[0].endswith(("archive/__main__.py", "archive\\__main__.py")):
        argv = ["python", "-m", "archive", *argv[1:]]
    return shlex.join(argv)


def resource(result: ExportResult, filters: Filters, command: list[str] | None) -> dict[str, Any]:
    path = result.path
    res: dict[str, Any] = {
        "name": resource_name(path),
        "path": path.name,
        "format": result.format,
        "mediatype": MEDIATYPES[result.format],
        "encoding": "utf-8",
        "bytes": result.bytes,
        "hash": f"sha256:{result.sha256}",
        "rows": result.rows,
    }
    if path.suffix == ".gz":
        res["compression"] = "gz"
    if result.format in ("jsonl", "csv", "parquet"):
        res["profile"] = "tabular-data-resource" if result.format == "csv" else "data-resource"
        res["schema"] = table_schema()
    if result.format == "csv":
        res["dialect"] = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True}
    if result.format in ("sqlite", "warc"):
        res.pop("encoding")
    res["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    res["command"] = command_line(command)
    res["filters"] = filters.as_dict()
    res["coverage"] = result.coverage
    res.update(result.details)  # crawls summary; tables (sqlite); records (warc)
    res["seconds"] = round(result.seconds, 3)
    return res


def write_manifest(result: ExportResult, filters: Filters, command: list[str] | None = None) -> Path:
    """Add (or replace) the dump's resource in ``datapackage.json`` beside it; returns the manifest path."""
    manifest = result.manifest
    package: dict[str, Any] = {}
    if manifest.exists():
        try:
            package = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError:
            package = {}  # a broken manifest is replaced: it described nothing reliably
    new = resource(result, filters, command)
    # other dumps in the folder stay listed, unless their file is gone
    kept = [
        r
        for r in package.get("resources", [])
        if r.get("path") != new["path"] and (manifest.parent / str(r.get("path", ""))).is_file()
    ]
    names = {r.get("name") for r in kept}
    while new["name"] in names:  # names must be unique within a package
        new["name"] += "-1"
    package.update(
        {
            "profile": PROFILE,
            "name": package.get("name") or "vn-provincial-news-archive",
            "title": "Vietnamese provincial government, Party and Fatherland Front news (archive dump)",
            "description": "Stories archived from Vietnamese provincial news sites; one row per story with its "
            "canonical URL, every sighting and the site's metadata.",
            "created": new["created"],
            "licenses": LICENSES,
            "sources": SOURCES,
            "resources": [*kept, new],
        }
    )
    manifest.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest
