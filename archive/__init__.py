"""SQLite archive of Vietnamese provincial government, Party and Fatherland Front news.

Python API: ``Archive`` (store.py) to add pages, ``search`` (search.py) to query; CLI: ``python -m archive``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .search import search

if TYPE_CHECKING:
    from .store import AddResult, Archive

__all__ = ["AddResult", "Archive", "search"]


def __getattr__(name: str) -> Any:
    # Lazy: `python -m archive search` should not pay for numpy/datasketch, which only the store needs.
    if name in ("Archive", "AddResult"):
        from . import store

        return getattr(store, name)
    raise AttributeError(name)
