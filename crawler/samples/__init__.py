"""The sample web: six imitation Vietnamese government news sites, one per CMS family (see README.md).

Public API (imported lazily, so `python -m crawler.samples.server` and `.expectations` run without warnings):
- `SampleWeb` (server.py): serve the sites in-process, `base_url(site_id)`, `write_config(path)`,
  `add_article(site_id, data)`, `update_article(...)`, `remove_article(...)`; `main(argv)` is serve-samples.
- `load_sites(web_toml=None, content_dir=None)` (site.py): the sites and their articles as dataclasses.
- `article_path(site, article)` and friends (site.py): URLs in each family's style.
- `expected_for_site(site)` (expectations.py): what an archive should extract from each article.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SampleWeb": "server",
    "main": "server",
    "expected_for_site": "expectations",
    "Article": "site",
    "SampleSite": "site",
    "article_path": "site",
    "category_path": "site",
    "crawl_config_toml": "site",
    "listing_page_url": "site",
    "load_sites": "site",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
