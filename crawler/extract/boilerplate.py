"""Text-level Vietnamese boilerplate filter.

The patterns are data (``boilerplate.toml`` beside this module): this module only loads them and applies
them to a list of lines or paragraphs, in page order.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_PATH = Path(__file__).with_name("boilerplate.toml")
DEFAULT_MAX_LEN = 160
# Article text must have been kept before an "end" rule may cut the rest: a counter heading above the
# title is dropped alone, not taken for the end of the article.
MIN_CONTENT_BEFORE_END = 60

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    action: str
    example: str
    max_len: int = DEFAULT_MAX_LEN
    cluster: bool = False
    upper: bool = False

    def matches(self, line: str) -> bool:
        if len(line) > self.max_len or (self.upper and line != line.upper()):
            return False
        return self.pattern.search(line) is not None


@dataclass
class FilterResult:
    kept: list[int]
    removed: list[tuple[int, Rule]]


@lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> tuple[Rule, ...]:
    """Reads and compiles the rules; cached, so edit the TOML and restart."""
    data = tomllib.loads(Path(path or RULES_PATH).read_text(encoding="utf-8"))
    rules = []
    for raw in data.get("rule", []):
        rules.append(
            Rule(
                kind=raw["kind"],
                pattern=re.compile(raw["pattern"], re.IGNORECASE),
                action=raw.get("action", "drop"),
                example=raw["example"],
                max_len=int(raw.get("max_len", DEFAULT_MAX_LEN)),
                cluster=bool(raw.get("cluster", False)),
                upper=bool(raw.get("upper", False)),
            )
        )
    return tuple(rules)


def normalize_line(text: str) -> str:
    """Collapses whitespace (including no-break spaces) the way the rules expect."""
    return _SPACE.sub(" ", text.replace("\u00a0", " ")).strip()


def classify(line: str, rules: tuple[Rule, ...] | None = None) -> Rule | None:
    """The first rule that matches the line, or None for (presumed) content."""
    line = normalize_line(line)
    if not line:
        return None
    for rule in rules or load_rules():
        if rule.matches(line):
            return rule
    return None


def is_boilerplate(line: str) -> bool:
    return classify(line) is not None


def filter_lines(lines: list[str], rules: tuple[Rule, ...] | None = None) -> FilterResult:
    """Splits line indices into kept and removed (with the rule that removed each), in order."""
    rules = rules or load_rules()
    matched = [classify(line, rules) for line in lines]
    _release_lonely_cluster_matches(lines, matched)
    kept: list[int] = []
    removed: list[tuple[int, Rule]] = []
    content_chars = 0
    for index, rule in enumerate(matched):
        if rule is None:
            kept.append(index)
            content_chars += len(lines[index].strip())
            continue
        removed.append((index, rule))
        if rule.action == "end" and content_chars >= MIN_CONTENT_BEFORE_END:
            removed.extend((rest, rule) for rest in range(index + 1, len(lines)))
            break
    return FilterResult(kept=kept, removed=removed)


def _release_lonely_cluster_matches(lines: list[str], matched: list[Rule | None]) -> None:
    """A 'cluster' rule only holds when the nearest non-empty line before or after is boilerplate too."""
    for index, rule in enumerate(matched):
        if rule is None or not rule.cluster:
            continue
        neighbours = [_neighbour(lines, matched, index, step) for step in (-1, 1)]
        if all(neighbour is None for neighbour in neighbours):
            matched[index] = None


def _neighbour(lines: list[str], matched: list[Rule | None], index: int, step: int) -> Rule | None:
    position = index + step
    while 0 <= position < len(lines):
        if lines[position].strip():
            return matched[position]
        position += step
    return None
