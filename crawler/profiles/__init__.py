"""CMS family profiles: one TOML file per family, data only.

Each file holds ``[detect]`` (fingerprints), ``[extract]`` (selectors for the extractor) and
``[discover]`` (URL patterns and selectors for discovery). Adding a family is adding a file.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_profile(family: str) -> dict[str, Any]:
    """The parsed profile of one family; KeyError for an unknown family."""
    name = f"{family}.toml"
    path = resources.files(__package__).joinpath(name)
    if not path.is_file():
        raise KeyError(family)
    return tomllib.loads(path.read_text(encoding="utf-8"))


@cache
def families() -> tuple[str, ...]:
    """Every family that has a profile, ``generic`` last."""
    names = sorted(
        p.name[: -len(".toml")] for p in resources.files(__package__).iterdir() if p.name.endswith(".toml")
    )
    return tuple([n for n in names if n != "generic"] + (["generic"] if "generic" in names else []))
