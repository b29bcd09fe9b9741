"""A one-line progress bar on stderr for exports, drawn only when stderr is a terminal (logs and pipes stay clean)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """``with Progress("jsonl", total) as bar: bar.update(n)``; ``total`` may be None (no bar, a count)."""

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str = "rows",
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.done = 0
        self.start = time.monotonic()
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        # redrawing costs a write syscall: five times a second is plenty for a human
        if self.enabled and now - self._drawn >= 0.2:
            self._drawn = now
            self._draw(now)

    def set(self, done: int) -> None:
        self.update(done - self.done)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * WIDTH)
            left = (self.total - self.done) / rate if rate > 0 else 0
            line = (
                f"\r{self.label} [{bar:<{WIDTH}}] {self.done:,}/{self.total:,} {self.unit} "
                f"{frac:4.0%}  {rate:,.0f}/s  {left:,.0f}s left "
            )
        else:
            line = f"\r{self.label} {self.done:,} {self.unit}  {rate:,.0f}/s  {elapsed:,.0f}s "
        self.stream.write(line)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False
