"""SQLite archive of Vietnamese provincial government, Party and Fatherland Front news.

Python API: ``Archive`` (store.py) to add pages, ``search`` (search.py) to query; CLI: ``python -m archive``.
"""

from .search import search
from .store import AddResult, Archive

__all__ = ["AddResult", "Archive", "search"]
