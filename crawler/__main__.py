"""``python -m crawler``: the crawler's command line."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    crawl = commands.add_parser("crawl", help="discover, fetch, extract, deduplicate and store")
    crawl.add_argument("--sites", required=True, help="the sites file (TOML)")
    crawl.add_argument("--db", help="the SQLite archive (created if absent); with --redis optional and only read")
    crawl.add_argument("--site", action="append", metavar="ID", help="crawl only this site (repeatable)")
    crawl.add_argument(
        "--backfill", action="store_true", help="walk every listing to its end, within the [crawler.backfill] limits"
    )
    crawl.add_argument("--log-file", help="also log to this file, rotated at 10 MB")
    crawl.add_argument("--redis", metavar="URL", help="share the crawl with other crawlers through this Redis "
                       "(redis://host:6379/0); pages go to Redis for `python -m archive ingest`")
    crawl.add_argument("--redis-idle", type=float, metavar="SECONDS", help="with --redis: close once the shared "
                       "queue has stayed empty this long (default 30)")

    demo = commands.add_parser("demo", help="serve the sample web, crawl it, print a summary")
    demo.add_argument("--db", default="archive.db", help="the archive to write (default archive.db)")
    demo.add_argument("--port", type=int, default=8765, help="port of the sample web (0: any free port)")
    demo.add_argument("--fresh", action="store_true", help="delete the archive first")

    sites = commands.add_parser("sites", help="check a sites file, or probe a page")
    sites_commands = sites.add_subparsers(dest="sites_command", required=True)
    check = sites_commands.add_parser("check", help="validate a sites file")
    check.add_argument("--sites", required=True, help="the sites file (TOML)")
    probe = sites_commands.add_parser("probe", help="fetch a page and show what would be extracted")
    probe.add_argument("url")
    probe.add_argument("--json", action="store_true", help="print JSON")
    probe.add_argument("--sites", help="the sites file: its User-Agent, and the rules of the site the URL is on")

    report = commands.add_parser("report", help="write the HTML crawl report (per site, over the last runs)")
    report.add_argument("--db", required=True, help="the SQLite archive")
    report.add_argument("--out", required=True, help="the HTML file to write")
    report.add_argument("--runs", type=int, default=30, help="how many recent runs to chart (default 30)")
    report.add_argument("--silent-days", type=int, default=14, help="days without a new story before a site "
                        "is listed as silent (default 14)")
    report.add_argument("--failure-threshold", type=float, default=0.5, help="share of failed article fetches "
                        "above which a run failed, as in the crawler's config (default 0.5)")

    serve = commands.add_parser("serve-samples", help="serve the bundled sample web on loopback addresses")
    serve.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve-samples"]:
        # The sample server has its own options; pass them through untouched.
        from crawler.samples.server import main as serve_main

        return serve_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "crawl" and not (args.db or args.redis):
        parser.error("crawl: --db is required (optional only with --redis)")
    if args.command == "crawl":
        from crawler.crawl import main_crawl

        return main_crawl(args)
    if args.command == "sites":
        from crawler.sites import main_check, main_probe

        if args.sites_command == "check":
            return main_check(args.sites)
        return main_probe(args.url, args.json, sites_path=args.sites)
    if args.command == "demo":
        from crawler.demo import main_demo

        return main_demo(args.db, args.port, args.fresh)
    if args.command == "report":
        from crawler.report import main_report

        return main_report(args.db, args.out, args.runs, args.silent_days, args.failure_threshold)
    return 2


if __name__ == "__main__":
    sys.exit(main())
