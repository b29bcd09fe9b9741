"""Serve an archive with Datasette: read-only, with metadata, facets, full-text search and canned queries.

The database is opened in Datasette's normal (mutable) mode because a crawl may be writing to it (WAL
lets both run). Read-only three times over: Datasette refuses non-SELECT SQL and reads through mode=ro
connections; the plugin makes every connection to the archive ``query_only``; no canned query is writable.
Stories are shown as pages (templates/row.html).
"""

from __future__ import annotations

import json
import signal
import tempfile
from pathlib import Path
from typing import Any

import yaml

from .charts import dashboards

HERE = Path(__file__).parent
METADATA = HERE / "metadata.yml"
PLUGINS_DIR = HERE / "datasette_plugins"
TEMPLATES_DIR = HERE / "templates"  # row.html: the story page

SETTINGS = {
    # The table's search box answers in milliseconds at a million stories (datasette_plugins/
    # table_search.py), but a search sorted on a column no index serves (title, say) still sorts every
    # match: seconds for common syllables; let it finish rather than fail. A facet that cannot finish in
    # half a second is skipped (Datasette says so) instead of holding the page.
    "sql_time_limit_ms": "15000",
    "facet_time_limit_ms": "500",
    "default_page_size": "50",
    # a story's whole text in every cell makes the table unreadable; the story page shows it all
    "truncate_cells_html": "300",
    # suggestions run one query per column over the whole result: seconds on a large archive, for
    # facets metadata.yml already names
    "suggest_facets": "off",
}


def build_metadata(db_path: str | Path) -> dict[str, Any]:
    """metadata.yml with its database section keyed by the name Datasette gives ``db_path``."""
    data = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    section = data["databases"].pop("ARCHIVE")
    data["databases"][Path(db_path).stem] = section
    for query in section.get("queries", {}).values():
        if query.get("write"):
            raise ValueError("canned queries must stay read-only")
    # the stories-per-month dashboard (datasette-dashboards): its SQL and links name the database
    data.setdefault("plugins", {}).update(dashboards(Path(db_path).stem))
    return data


def datasette_args(db_path: str | Path, metadata_path: str | Path, host: str, port: int) -> list[str]:
    args = ["serve", str(db_path), "--metadata", str(metadata_path), "--plugins-dir", str(PLUGINS_DIR)]
    args += ["--template-dir", str(TEMPLATES_DIR)]
    args += ["--host", host, "--port", str(port)]
    for name, value in SETTINGS.items():
        args += ["--setting", name, value]
    return args


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run Datasette in this process until interrupted."""
    from datasette.cli import cli

    # SIGTERM (systemd, a supervisor, a test) would end the process without unwinding: the metadata folder
    # would be left behind. As SystemExit it unwinds; uvicorn restores this handler and re-raises to it.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="archive-serve-") as tmp:
        metadata_path = Path(tmp) / "metadata.json"
        metadata_path.write_text(json.dumps(build_metadata(db_path), ensure_ascii=False), encoding="utf-8")
        cli.main(datasette_args(db_path, metadata_path, host, port), prog_name="datasette", standalone_mode=False)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)
