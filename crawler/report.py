"""The operator's crawl report: one static HTML file, drawn from the archive's ``crawls`` and ``pages`` tables.

Per site, over the last N runs (30 by default): article pages fetched, new stories, copies found and errors,
each as a small inline-SVG bar chart with one mark per run. Sites that need a look come first: those that
failed their latest run (the crawl's own exit rule, ``crawler.crawl.failed_sites``) and those gone silent
(no new page of a story for ``silent_days`` days). The file has no script and loads nothing: it opens from
disk, offline, and can be mailed.

    python -m crawler report --db archive.db --out report.html [--runs 30] [--silent-days 14]

``write_report`` is the same from Python (the cron wrapper calls it after each run).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2

TEMPLATE = "report_template.html"
DEFAULT_RUNS = 30
DEFAULT_SILENT_DAYS = 14
DEFAULT_FAILURE_THRESHOLD = 0.5  # CrawlerOptions.failure_threshold's default; the cron wrapper passes its own
VIETNAM = timezone(timedelta(hours=7), "ICT")

# The charted figures: (key, Vietnamese label). "errors" sums article and listing errors of every kind.
METRICS = (("fetched", "Trang bài đã tải"), ("new", "Tin mới"), ("copy", "Bản sao"), ("errors", "Lỗi"))

# Geometry of one small chart: one slot per run, bars scaled to the largest value of that site and figure.
SLOT, BAR, HEIGHT = 6, 4, 34


@dataclass
class Run:
    id: int
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    sites: list[str]
    figures: dict[str, dict[str, Any]]  # per crawled site, errors shaped as {kind: count}

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass
class Mark:
    x: int
    y: int
    height: int
    state: str  # "ok", "zero", "failed" (the site failed that run) or "absent" (not crawled, or unfinished)
    title: str
    run: int
    value: int | None


@dataclass
class Spark:
    metric: str
    label: str
    marks: list[Mark]
    total: int
    last: int | None
    width: int
    height: int = HEIGHT


@dataclass
class SiteReport:
    id: str
    name: str
    province: str
    kind: str
    state: str  # "failed", "silent" or "ok"
    reasons: list[str]
    last_story: datetime | None
    failed_runs: int
    sparks: list[Spark] = field(default_factory=list)


@dataclass
class Report:
    db: str
    generated_at: datetime
    runs: list[Run]
    sites: list[SiteReport]
    silent_days: int
    failure_threshold: float
    totals_last: dict[str, int]
    totals_window: dict[str, int]

    @property
    def attention(self) -> list[SiteReport]:
        return [s for s in self.sites if s.state != "ok"]


# ------------------------------------------------------------------------------------------------ reading


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def shape_counts(counts: dict[str, Any]) -> dict[str, Any]:
    """A site's figures with ``errors`` and ``listing_errors`` as ``{kind: n}`` dicts. Older runs stored
    them flat (``"error:timeout": 3``); both shapes are read so the history stays comparable."""
    shaped: dict[str, Any] = {k: v for k, v in counts.items() if ":" not in k}
    for key, prefix in (("errors", "error:"), ("listing_errors", "listing_error:")):
        kinds = dict(counts.get(key) or {})
        for name, n in counts.items():
            if name.startswith(prefix):
                kinds[name[len(prefix):]] = kinds.get(name[len(prefix):], 0) + n
        shaped[key] = kinds
    return shaped


def value_of(counts: dict[str, Any], metric: str) -> int:
    if metric == "errors":
        return sum(counts["errors"].values()) + sum(counts["listing_errors"].values())
    return int(counts.get(metric) or 0)


def load_runs(conn: sqlite3.Connection, limit: int) -> list[Run]:
    """The last ``limit`` crawls, oldest first."""
    rows = conn.execute(
        "SELECT id, started_at, finished_at, status, sites, figures FROM crawls ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    runs = []
    for run_id, started, finished, status, sites_json, figures_json in reversed(rows):
        sites = [str(s) for s in json.loads(sites_json or "[]")]
        raw = json.loads(figures_json or "{}")
        # Only the run's own sites: the figures also hold "_total", "_elapsed_seconds" and "outcomes".
        # A crawled site missing from the figures answered nothing (older runs left such sites out).
        figures = {site: shape_counts(raw.get(site) or {}) for site in sites} if figures_json else {}
        runs.append(Run(run_id, _time(started), _time(finished), status or "", sites, figures))
    return runs


def last_story_times(conn: sqlite3.Connection) -> dict[str, datetime]:
    """When each site last gave the archive a story page (new story or copy): its newest first fetch."""
    rows = conn.execute(
        "SELECT site_id, max(first_fetched) FROM pages WHERE article_id IS NOT NULL GROUP BY site_id"
    ).fetchall()
    return {site: t for site, value in rows if (t := _time(value)) is not None}


def site_info(conn: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    rows = conn.execute("SELECT id, name, province, kind FROM sites").fetchall()
    return {site: (name or site, province or "", kind or "") for site, name, province, kind in rows}


# ----------------------------------------------------------------------------------------------- judging


def failed_in(run: Run, site: str, threshold: float) -> bool:
    """The crawl's own exit rule, so the report and the exit status never disagree."""
    from crawler.crawl import failed_sites

    return bool(failed_sites({site: run.figures[site]}, [SimpleNamespace(id=site)], threshold))


def failure_reason(run: Run, site: str, threshold: float) -> str:
    counts = run.figures[site]
    errors = sum(counts["errors"].values())
    fetched = int(counts.get("fetched") or 0)
    when = _vn(run.started_at)
    if fetched + int(counts.get("listing_pages") or 0) == 0:
        return f"lần chạy #{run.id} ({when}): không trang nào phản hồi"
    return (
        f"lần chạy #{run.id} ({when}): {errors} lỗi trên {fetched} trang bài "
        f"(quá ngưỡng {threshold:.0%})"
    )


def judge(
    site: str, runs: list[Run], failed: set[int], last_story: datetime | None, now: datetime, silent_days: int,
    threshold: float,
) -> tuple[str, list[str]]:
    """(state, reasons) of one site: failed when its latest finished run failed, else silent when no story
    page came from it for more than ``silent_days`` days."""
    finished = [r for r in runs if r.finished and site in r.figures]
    reasons, state = [], "ok"
    if finished and finished[-1].id in failed:
        state = "failed"
        reasons.append("Lỗi: " + failure_reason(finished[-1], site, threshold))
    if last_story is None:
        reasons.append("Im lặng: chưa có tin bài nào trong kho")
    elif now - last_story > timedelta(days=silent_days):
        days = (now - last_story).days
        reasons.append(f"Im lặng: không có tin mới {days} ngày (lần cuối {_vn(last_story)})")
    if state == "ok" and reasons:
        state = "silent"
    return state, reasons


# ---------------------------------------------------------------------------------------------- drawing


def spark(site: str, metric: str, label: str, runs: list[Run], failed: set[int]) -> Spark:
    values = [value_of(r.figures[site], metric) if r.finished and site in r.figures else None for r in runs]
    peak = max([v for v in values if v is not None] + [1])
    marks = []
    for i, (run, value) in enumerate(zip(runs, values, strict=True)):
        when = _vn(run.started_at)
        if value is None:
            why = "không chạy trang này" if run.finished else f"chưa xong ({run.status or 'không rõ'})"
            marks.append(Mark(i * SLOT, 0, HEIGHT, "absent", f"#{run.id} {when}: {why}", run.id, None))
            continue
        # a zero still gets a 1-pixel mark: one mark per run, and a visible baseline
        height = max(1, round(value / peak * (HEIGHT - 2))) if value else 1
        state = "failed" if run.id in failed else ("ok" if value else "zero")
        title = f"#{run.id} {when}: {label.lower()} {value}" + (" (lần chạy lỗi)" if run.id in failed else "")
        if metric == "errors" and value:
            kinds = {**run.figures[site]["errors"], **run.figures[site]["listing_errors"]}
            title += " — " + ", ".join(f"{k} {n}" for k, n in kinds.items())
        marks.append(Mark(i * SLOT, HEIGHT - height, height, state, title, run.id, value))
    present = [v for v in values if v is not None]
    return Spark(metric, label, marks, sum(present), present[-1] if present else None, max(len(runs), 1) * SLOT)


def totals(runs: list[Run]) -> dict[str, int]:
    out = {metric: 0 for metric, _ in METRICS}
    for run in runs:
        for counts in run.figures.values():
            for metric in out:
                out[metric] += value_of(counts, metric)
    return out


# ---------------------------------------------------------------------------------------------- the API


def build_report(
    db_path: str | Path,
    runs: int = DEFAULT_RUNS,
    silent_days: int = DEFAULT_SILENT_DAYS,
    *,
    failure_threshold: float = DEFAULT_FAILURE_THRESHOLD,
    now: datetime | None = None,
) -> Report:
    """What the report shows, read from the archive at ``db_path`` (opened read-only)."""
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no such archive file: {path}")
    now = now or datetime.now(UTC)
    conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'crawls'").fetchone():
            raise sqlite3.DatabaseError(f"{path} is not an archive (no crawls table)")
        window = load_runs(conn, max(runs, 1))
        story_times = last_story_times(conn)
        info = site_info(conn)
    finally:
        conn.close()
    site_ids = sorted({s for run in window for s in run.sites})
    sites = []
    for site in site_ids:
        name, province, kind = info.get(site, (site, "", ""))
        failed = {r.id for r in window if r.finished and site in r.figures and failed_in(r, site, failure_threshold)}
        last_story = story_times.get(site)
        state, reasons = judge(site, window, failed, last_story, now, silent_days, failure_threshold)
        report = SiteReport(site, name, province, kind, state, reasons, last_story, len(failed))
        report.sparks = [spark(site, metric, label, window, failed) for metric, label in METRICS]
        sites.append(report)
    # failed first, then silent (the longest silence first), then the rest by id
    order = {"failed": 0, "silent": 1, "ok": 2}
    oldest = datetime.min.replace(tzinfo=UTC)
    sites.sort(key=lambda s: (order[s.state], (s.last_story or oldest) if s.state == "silent" else oldest, s.id))
    finished = [r for r in window if r.finished]
    return Report(
        str(path), now, window, sites, silent_days, failure_threshold,
        totals(finished[-1:]), totals(finished),
    )


def render_report(report: Report) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vn"] = _vn
    return env.get_template(TEMPLATE).render(
        report=report, metrics=METRICS, bar=BAR, duration=_duration, run_totals=totals
    )


def write_report(
    db_path: str | Path,
    out_path: str | Path,
    runs: int = DEFAULT_RUNS,
    silent_days: int = DEFAULT_SILENT_DAYS,
    *,
    failure_threshold: float = DEFAULT_FAILURE_THRESHOLD,
    now: datetime | None = None,
) -> Path:
    """Write the HTML report of the archive at ``db_path`` to ``out_path``; returns the written path.

    The file is replaced in one step, so a browser reloading it never sees half a report."""
    html = render_report(
        build_report(db_path, runs, silent_days, failure_threshold=failure_threshold, now=now)
    )
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def main_report(db: str, out: str, runs: int, silent_days: int, failure_threshold: float) -> int:
    """``python -m crawler report``: 0 when written, 2 when the archive cannot be read."""
    try:
        path = write_report(db, out, runs, silent_days, failure_threshold=failure_threshold)
    except (OSError, sqlite3.DatabaseError) as exc:
        print(f"report: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


# ---------------------------------------------------------------------------------------------- helpers


def _vn(value: datetime | None) -> str:
    """A time as Vietnamese operators read it: Vietnam time, day first."""
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") if value else "?"


def _duration(run: Run) -> str:
    if not (run.started_at and run.finished_at):
        return "—"
    seconds = int((run.finished_at - run.started_at).total_seconds())
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
