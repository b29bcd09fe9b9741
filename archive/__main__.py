"""Command line: python -m archive {search,serve,dedup,versions,stats,reextract,ingest,export} --db FILE ...

Errors (missing file, bad arguments) print one line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

BOLD = ("\033[1m", "\033[0m")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the whole usage block; one line is enough and keeps scripts' logs readable
        self.exit(2, f"{self.prog}: error: {message}\n")


class UsageError(Exception):
    """A problem with the user's input: reported in one line, exit status 2."""


def _existing_db(path: str) -> str:
    """``path`` if it is an archive file; opening a random SQLite file as an Archive would add tables."""
    if not Path(path).is_file():
        raise UsageError(f"no such archive file: {path}")
    try:
        conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"{path} is not an SQLite database ({exc})") from None
    if version < 1 or "articles" not in tables:
        raise UsageError(f"{path} is not an archive (no articles table)")
    return path


def _cmd_search(args: argparse.Namespace) -> int:
    from .search import search

    query = " ".join(args.query)
    tty = sys.stdout.isatty() and not args.json
    try:
        results = search(
            _existing_db(args.db),
            query,
            site=args.site,
            province=args.province,
            kind=args.kind,
            since=args.since,
            until=args.until,
            limit=args.limit,
            markers=BOLD if tty else ("[", "]"),
            window=None if args.all else "auto",
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if args.json:
        json.dump(results, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if not results:
        print("no results")
        return 0
    for n, r in enumerate(results, 1):
        date = (r["published"] or "")[:10] or "----------"
        copies = f"  ({r['copies']} copies)" if (r["copies"] or 1) > 1 else ""
        print(f"{n:>3}. {date}  {r['site_id']}  {r['title']}{copies}")
        print(f"     {r['url']}")
        print(f"     {r['snippet']}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    serve(_existing_db(args.db), host=args.host, port=args.port)
    return 0


def _cmd_dedup(args: argparse.Namespace) -> int:
    from .dedup import load_config
    from .regroup import regroup
    from .store import Archive

    cfg = load_config(args.config) if args.config else None
    with Archive(_existing_db(args.db)) as archive:
        report = regroup(archive, cfg, check_only=args.check)
    print(report.summary())
    return 0 if report.agrees else 1


def _cmd_versions(args: argparse.Namespace) -> int:
    from .store import Archive

    with Archive(_existing_db(args.db)) as archive:
        if args.story.isdigit():
            article_id = int(args.story)
        else:  # a page URL, in any form: the story it belongs to
            page = archive.page(args.story)
            if page is None or page["article_id"] is None:
                raise UsageError(f"no archived story at {args.story}")
            article_id = page["article_id"]
        story = archive.article(article_id)
        if story is None:
            raise UsageError(f"no story with id {article_id}")
        history = archive.version_history(article_id)
    if not args.full:
        for page in history:
            for version in page["versions"]:
                version.pop("body")
    if args.json:
        print(json.dumps({"id": article_id, "title": story["title"], "url": story["url"], "pages": history},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"story {article_id}: {story['title']}")
    for page in history:
        mark = "  (canonical)" if page["canonical"] else ""
        print(f"  {page['url']}  [{page['site_id']}]{mark}")
        for v in page["versions"]:
            what = v["change"]["summary"] if v["change"] else "first text"
            print(f"    v{v['version']}  {v['fetched_at']}  {v['words']:>5} words  {what}")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from .store import Archive

    with Archive(_existing_db(args.db)) as archive:
        figures = archive.stats()
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:>9}: {value}")
    return 0


def _cmd_reextract(args: argparse.Namespace) -> int:
    from .reextract import ReextractUsageError, run

    try:
        return run(
            _existing_db(args.db),
            sites_file=args.sites,
            site_id=args.site,
            limit=args.limit,
            dry_run=args.dry_run,
            as_json=args.json,
        )
    except ReextractUsageError as exc:
        raise UsageError(str(exc)) from None


def _cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import main_ingest

    return main_ingest(
        args.redis, args.db, once=args.once, until_idle=args.until_idle, requeue_dead=args.requeue_dead
    )


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export
    from .search import Filters

    try:
        filters = Filters.of(args.site, args.province, args.kind, args.since, args.until, args.query)
        result = export(
            _existing_db(args.db),
            args.format,
            args.out,
            filters,
            progress=False if args.quiet else None,
            command=["python", "-m", "archive", *(args.argv or [])],
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    unit = "captures" if args.format == "warc" else "stories"
    rate = result.rows / result.seconds if result.seconds else 0
    print(
        f"{result.path}: {result.rows:,} {unit}, {result.bytes:,} bytes, {result.seconds:.1f} s "
        f"({rate:,.0f}/s), sha256 {result.sha256[:16]}…; manifest {result.manifest}"
    )
    return 0


def _filter_options(p: argparse.ArgumentParser) -> None:
    """Story filters shared by search and export; site, province and kind may be repeated (any matches)."""
    p.add_argument("--site", action="append", help="site id of the story's canonical copy (repeatable)")
    p.add_argument("--province", action="append", help="province, as in sites.toml (repeatable)")
    p.add_argument("--kind", action="append", choices=["government", "front", "party"], help="(repeatable)")
    p.add_argument("--since", help="published on or after YYYY[-MM[-DD]]")
    p.add_argument("--until", help="published on or before YYYY[-MM[-DD]] (inclusive)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m archive", description="Archive of Vietnamese provincial news.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("search", help="full-text search, with or without diacritics")
    p.add_argument("--db", required=True)
    p.add_argument("--json", action="store_true", help="print results as JSON")
    _filter_options(p)
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--all", action="store_true", help="rank every match (default: the 2,000 most recently "
                   "archived matches, 200 with a filter: the same on small archives, quicker on big ones)")
    p.add_argument("query", nargs="+")
    p.set_defaults(func=_cmd_search)

    p = sub.add_parser("serve", help="browse the archive with Datasette (read-only)")
    p.add_argument("--db", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("dedup", help="rebuild story groups from scratch and compare with the stored ones")
    p.add_argument("--db", required=True)
    p.add_argument("--config", help="dedup TOML (default: archive/dedup.toml)")
    p.add_argument("--check", action="store_true", help="only report, write nothing")
    p.set_defaults(func=_cmd_dedup)

    p = sub.add_parser("versions", help="the texts of a story as its pages changed, with what changed")
    p.add_argument("--db", required=True)
    p.add_argument("--json", action="store_true")
    p.add_argument("--full", action="store_true", help="include each version's body")
    p.add_argument("story", help="story id, or the URL of one of its pages")
    p.set_defaults(func=_cmd_versions)

    p = sub.add_parser("stats", help="counts of sites, pages, stories, copies, versions, rejected")
    p.add_argument("--db", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_stats)

    p = sub.add_parser("reextract", help="read the stored raw pages again with the current extractor")
    p.add_argument("--db", required=True)
    p.add_argument("--sites", help="crawl config (TOML) with the sites' own selectors (default: stored family)")
    p.add_argument("--site", help="only this site id")
    p.add_argument("--limit", type=int, help="at most N pages, in arrival order")
    p.add_argument("--dry-run", action="store_true", help="only report, write nothing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_reextract)

    p = sub.add_parser("ingest", help="the one writer of crawls run with --redis: pages from Redis to the archive")
    p.add_argument("--redis", required=True, metavar="URL", help="the crawlers' Redis, e.g. redis://host:6379/0")
    p.add_argument("--db", required=True, help="the SQLite archive (created if absent)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="store what is queued now and exit")
    mode.add_argument("--until-idle", type=float, metavar="SECONDS",
                      help="exit once no crawler is alive and nothing came for SECONDS (default: run until stopped)")
    p.add_argument("--requeue-dead", action="store_true", help="first put the dead letters back in the queue")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("export", help="dump stories (jsonl, csv, parquet), a snapshot (sqlite) or captures (warc)")
    p.add_argument("--db", required=True)
    p.add_argument("--format", required=True, choices=["jsonl", "csv", "parquet", "sqlite", "warc"])
    p.add_argument("--out", required=True, help="file to write (.gz: compressed jsonl/csv/warc); "
                   "datapackage.json is written beside it")
    _filter_options(p)
    p.add_argument("--query", help="only stories matching this full-text query")
    p.add_argument("--quiet", action="store_true", help="no progress bar even on a terminal")
    p.set_defaults(func=_cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # recorded in export manifests
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"python -m archive {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.DatabaseError, OSError) as exc:
        print(f"python -m archive {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
