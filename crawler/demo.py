"""The demo: serve the bundled sample web, crawl it into an archive, and say how to browse it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


def main_demo(db: str, port: int, fresh: bool) -> int:
    from crawler.samples.server import SampleWeb

    db_path = Path(db)
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp, SampleWeb(port=port) as web:
        config = Path(tmp) / "sample-sites.toml"
        web.write_config(config)
        print(f"demo: sample web serving {len(web.sites)} sites on 127.0.0.11-{10 + len(web.sites)}:{web.port}")
        status = subprocess.call(
            [sys.executable, "-m", "crawler", "crawl", "--sites", str(config), "--db", str(db_path)]
        )
    if status != 0:
        print(f"demo: the crawl exited with status {status}", file=sys.stderr)
        return status
    print()
    print("Browse the archive in Datasette:")
    print(f"  {Path(sys.executable).parent / 'python'} -m archive serve --db {db_path}    (then open http://127.0.0.1:8001/)")
    print("Search it from the shell:")
    print(f"  {Path(sys.executable).parent / 'python'} -m archive search --db {db_path} 'dan van'")
    return 0
