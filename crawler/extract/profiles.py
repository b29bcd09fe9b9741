"""CMS family profiles: the [detect] and [extract] tables of crawler/profiles/<family>.toml, and the
selector helpers that apply them.

A selector is CSS, or XPath when prefixed with "xpath:". Lists are tried in order; a bad selector (from a
hand-written site config) is skipped, never raised.
"""

from __future__ import annotations

import logging
import re
import threading
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.cssselect import CSSSelector

logger = logging.getLogger(__name__)

PROFILES_DIR = Path(__file__).resolve().parent.parent / "profiles"
GENERIC = "generic"
EXTRACT_KEYS = (
    "title", "date", "updated", "lead", "body", "author", "source", "category", "views",
    "attachments", "junk", "distrust_dates", "author_meta",
)  # fmt: skip


@dataclass(frozen=True)
class Detect:
    generator: tuple[str, ...] = ()
    html: tuple[str, ...] = ()
    selectors: tuple[str, ...] = ()
    url: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    threshold: int = 2


@dataclass(frozen=True)
class Profile:
    family: str
    label: str
    detect: Detect
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    caption_after_image: bool = False

    def get(self, key: str) -> tuple[str, ...]:
        return self.selectors.get(key, ())


@lru_cache(maxsize=2)
def load_profiles(directory: str | None = None) -> dict[str, Profile]:
    """All profiles by family id, generic included; cached."""
    profiles: dict[str, Profile] = {}
    for path in sorted(Path(directory or PROFILES_DIR).glob("*.toml")):
        try:
            profile = _parse_profile(path)
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as error:
            logger.warning("profile %s unreadable: %s", path, error)
            continue
        profiles[profile.family] = profile
    return profiles


def _parse_profile(path: Path) -> Profile:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    family = data.get("family") or path.stem
    detect_raw = data.get("detect") or {}
    detect = Detect(
        generator=tuple(detect_raw.get("generator", ())),
        html=tuple(detect_raw.get("html", ())),
        selectors=tuple(detect_raw.get("selectors", ())),
        url=tuple(detect_raw.get("url", ())),
        require=tuple(detect_raw.get("require", ())),
        threshold=int(detect_raw.get("threshold", 2)),
    )
    extract_raw = data.get("extract") or {}
    selectors = {key: as_selector_list(extract_raw.get(key)) for key in EXTRACT_KEYS if key in extract_raw}
    return Profile(
        family=family,
        label=data.get("label", family),
        detect=detect,
        selectors=selectors,
        caption_after_image=bool(extract_raw.get("caption_after_image", False)),
    )


def get_profile(family: str | None) -> Profile | None:
    return load_profiles().get(family) if family else None


def as_selector_list(value: Any) -> tuple[str, ...]:
    """A site config may give one selector or a list."""
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v)


@lru_cache(maxsize=2048)
def _compile(selector: str) -> etree.XPath | None:
    try:
        if selector.startswith("xpath:"):
            return etree.XPath(selector[len("xpath:") :])
        return CSSSelector(selector)
    except Exception as error:  # cssselect and lxml raise several kinds of parse errors
        logger.warning("bad selector %r: %s", selector, error)
        return None


# A selector of one class or one class substring, with or without a tag (".sapo", "div.author",
# "[class*=file]"): answered from an index of the page's class attributes, built once per page, instead of
# an XPath walk over the page (or the body) each time: an extraction asks some eighty of them.
_SIMPLE = re.compile(
    r"""(?P<tag>[a-z][a-z0-9]*)?(?:\.(?P<cls>-?[_a-zA-Z][\w-]*)|\[class\*=(?P<q>["']?)(?P<sub>[^"'\]\\\s]+)(?P=q)\])"""
)
_XML_SPACE = re.compile(r"[ \t\r\n]+")  # what XPath's normalize-space splits on (not NBSP)
_local = threading.local()


class _ClassIndex:
    """The elements of a page that have a class attribute, in page order, and by class name."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.classed = [(el, cls) for el in root.iter() if isinstance(el.tag, str) and (cls := el.get("class"))]
        self.by_class: dict[str, list[Any]] = {}
        for el, cls in self.classed:
            for name in dict.fromkeys(_XML_SPACE.split(cls)):
                if name:
                    self.by_class.setdefault(name, []).append(el)

    def select(self, match: re.Match[str], within: Any) -> list[Any]:
        """The matches in `within` (the page's root or an element of the page, itself included)."""
        tag, cls, sub = match.group("tag"), match.group("cls"), match.group("sub")
        if cls is not None:
            nodes = self.by_class.get(cls, [])
        else:
            nodes = [el for el, value in self.classed if sub in value]
        return [el for el in nodes if (tag is None or el.tag == tag) and _inside(el, within, self.root)]


def _top(node: Any) -> Any:
    ancestors = list(node.iterancestors())
    return ancestors[-1] if ancestors else node


def _inside(node: Any, within: Any, root: Any) -> bool:
    """`node` is still in the page (extraction drops junk and leads from it) and inside `within`."""
    ancestors = list(node.iterancestors())
    if (ancestors[-1] if ancestors else node) is not root:
        return False
    return within is root or node is within or any(parent is within for parent in ancestors)


def _class_index(root: Any) -> _ClassIndex:
    index = getattr(_local, "index", None)
    if index is None or index.root is not root:
        index = _local.index = _ClassIndex(root)
    return index


def select_all(root: Any, selector: str) -> list[Any]:
    simple = _SIMPLE.fullmatch(selector)
    if simple is not None and isinstance(root.tag, str):
        return _class_index(_top(root)).select(simple, root)
    compiled = _compile(selector)
    if compiled is None:
        return []
    try:
        result = compiled(root)
    except Exception as error:  # evaluation errors on odd trees: skip the selector
        logger.debug("selector %r failed: %s", selector, error)
        return []
    return [node for node in result if isinstance(node, etree._Element)] if isinstance(result, list) else []


@lru_cache(maxsize=256)
def _union(selectors: tuple[str, ...]) -> tuple[etree.XPath | None, tuple[str, ...]]:
    """One XPath for all the CSS selectors of `selectors` that compile, or None if none does, and the
    `xpath:` ones, which are evaluated alone (they may select other things than elements)."""
    paths = []
    for selector in selectors:
        if selector.startswith("xpath:"):
            continue
        compiled = _compile(selector)
        if compiled is not None:
            paths.append(f"({compiled.path})")
    union = None
    if paths:
        try:
            union = etree.XPath(" | ".join(paths))
        except etree.XPathError:  # pragma: no cover - each part compiled alone
            union = None
    return union, tuple(s for s in selectors if s.startswith("xpath:") or (union is None and _compile(s) is not None))


def select_any(root: Any, selectors: tuple[str, ...]) -> list[Any]:
    """The nodes any of `selectors` matches, each once (the CSS ones in document order, in one pass of
    libxml2 instead of one call each): for removing them all, where their order does not matter."""
    union, alone = _union(tuple(selectors))
    nodes: list[Any] = []
    if union is not None:
        try:
            nodes = [node for node in union(root) if isinstance(node, etree._Element)]
        except Exception as error:  # evaluation errors on odd trees: each selector on its own
            logger.debug("selectors %r failed together: %s", selectors, error)
            return select_every(root, selectors)
    if alone:
        seen = {id(node) for node in nodes}
        nodes += [node for node in select_every(root, alone) if id(node) not in seen]
    return nodes


def select_first(root: Any, selectors: tuple[str, ...], accept: Any = None) -> Any | None:
    """The first node, over the selectors in order, that `accept(node)` approves (default: any)."""
    for selector in selectors:
        for node in select_all(root, selector):
            if accept is None or accept(node):
                return node
    return None


def select_every(root: Any, selectors: tuple[str, ...]) -> list[Any]:
    """All nodes matched by any selector, each once, in selector order."""
    seen: set[int] = set()
    nodes = []
    for selector in selectors:
        for node in select_all(root, selector):
            if id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
    return nodes


def merged(key: str, *profiles: Profile | None, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Selectors for `key`: the site's first, then each profile's in order, without repeats."""
    out: list[str] = list(extra)
    for profile in profiles:
        if profile:
            out.extend(s for s in profile.get(key) if s not in out)
    return tuple(out)
