"""Article extraction: page bytes in, an Extraction (title, body, date candidates, byline...) out.

Layers: the site's selectors, the CMS family's profile, trafilatura, then the Vietnamese boilerplate
filter. See docs/architecture.md ("Extraction") for the record's fields.
"""

from .core import extract
from .model import Extraction
from .textmode import extract_text

__all__ = ["Extraction", "extract", "extract_text"]
