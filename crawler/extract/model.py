"""The Extraction record handed from the extractor to the date and archive stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Extraction:
    ok: bool = False
    reason: str | None = None
    title: str | None = None
    body: str = ""
    paragraphs: list[str] = field(default_factory=list)
    lead: str | None = None
    author: str | None = None
    source: str | None = None
    date_candidates: list[dict[str, str]] = field(default_factory=list)
    updated_raw: str | None = None
    images: list[dict[str, str | None]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    category: str | None = None
    view_count: int | None = None
    canonical_url: str | None = None
    family: str | None = None
    method: str | None = None
    encoding: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def set_paragraphs(self, paragraphs: list[str]) -> None:
        """Keeps body, paragraphs and lead consistent: the body is the paragraphs, lead first."""
        self.paragraphs = [p for p in paragraphs if p]
        self.body = "\n\n".join(self.paragraphs)
        if self.paragraphs and not self.lead:
            self.lead = self.paragraphs[0]

    def add_date(self, raw: str | None, source: str) -> None:
        """Adds a date candidate once; the order of calls is the order of preference."""
        if not raw:
            return
        raw = " ".join(raw.split())
        if raw and not any(c["raw"] == raw and c["source"] == source for c in self.date_candidates):
            self.date_candidates.append({"raw": raw, "source": source})
