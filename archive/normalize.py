"""Text normalization shared by deduplication and search.

Three levels, each built on the previous one:

* ``clean``: what we store. The page's own spelling is kept (tone placement, curly quotes, dashes); only
  invisible noise is removed (zero-width characters, odd spaces, decomposed Unicode, ragged whitespace).
* ``comparison_form``: what we compare. Lowercase, quotes/dashes unified and the tone mark of every
  syllable put in one standard place, so "Uỷ ban"/"Ủy ban" or "hoà"/"hòa" compare equal.
* ``fold``: what we search without diacritics. All diacritics removed and đ/Đ mapped to d/D (SQLite's
  ``remove_diacritics`` does not touch đ because it is a separate letter, not d plus a mark).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Zero-width characters and the soft hyphen: invisible, but they split words for tokenizers and hashes.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
# NBSP, en/em/thin spaces, ideographic space, tabs: CMS editors paste them everywhere.
_ODD_SPACES = re.compile(r"[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\u0085]")
_SPACE_RUN = re.compile(r" {2,}")
_BLANK_RUN = re.compile(r"\n{3,}")

_QUOTES = str.maketrans(
    {
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
        "\u2033": '"', "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u0060": "'", "\u00b4": "'", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
        "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2026": "...",
    }
)

# The five Vietnamese tone marks as combining characters (NFD). The other marks (circumflex, breve,
# horn) belong to the vowel letter itself and never move.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aăâeêioôơuưy")
_MODIFIED = frozenset("ăâêôơư")
_CONSONANTS = frozenset("bcdđghklmnpqrstvxfjwz")
_CODAS = frozenset({"", "c", "ch", "m", "n", "ng", "nh", "p", "t"})
_WORD = re.compile(r"\w+")


def clean(text: str | None) -> str:
    """Return ``text`` in NFC with invisible characters removed and whitespace tidied.

    Lines are kept (paragraphs are separated by one blank line); inside a line, runs of spaces become
    one space. Spelling, quotes and dashes are left exactly as the page had them.
    """
    if not text:
        return ""
    text = text.translate(_INVISIBLE)
    # NFC after removing invisibles: a zero-width char between a letter and its mark blocks composition.
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _ODD_SPACES.sub(" ", text)
    lines = [_SPACE_RUN.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def _split_syllable(base: str) -> tuple[str, str, str] | None:
    """Split a toneless lowercase syllable into onset, vowel nucleus and coda; None if not Vietnamese."""
    start = 0
    # "qu" and "gi" before another vowel: the u/i is part of the consonant (quý, giá, giường).
    if base[:2] in ("qu", "gi") and len(base) > 2 and base[2] in _VOWELS:
        start = 2
    while start < len(base) and base[start] not in _VOWELS:
        start += 1
    end = start
    while end < len(base) and base[end] in _VOWELS:
        end += 1
    onset, nucleus, coda = base[:start], base[start:end], base[end:]
    if not nucleus or len(nucleus) > 3 or coda not in _CODAS:
        return None
    if any(c not in _CONSONANTS for c in onset if c not in "ui"):
        return None
    return onset, nucleus, coda


def _tone_position(nucleus: str, coda: str, modern: bool) -> int:
    """Index in ``nucleus`` that carries the tone mark."""
    marked = [i for i, c in enumerate(nucleus) if c in _MODIFIED]
    if marked:  # a vowel with its own mark takes the tone: tiếng, người, thuở
        return marked[-1]
    if coda or len(nucleus) == 1:  # closed syllable: last vowel (hoàng, toán, huỳnh)
        return len(nucleus) - 1
    if len(nucleus) == 3:  # oai, oay, uya, uyu: middle vowel (ngoài, xoáy, khuỷu)
        return 1
    # Open two-vowel nucleus: the one case where spelling conventions differ. Classic placement puts the
    # tone on the first vowel everywhere (hòa, khỏe, thủy, mùa); the "modern" rule moves it to the second
    # vowel for oa, oe and uy only (hoà, khoẻ, thuỷ).
    if modern and nucleus in ("oa", "oe", "uy"):
        return 1
    return 0


@lru_cache(maxsize=65536)
def retone(word: str, modern: bool = False) -> str:
    """Put the tone mark of a lowercase Vietnamese syllable in its standard place.

    Classic placement (hòa, thủy, khỏe) by default, the newer one (hoà, thuỷ, khoẻ) with ``modern``.
    Words that are not a single Vietnamese syllable with one tone mark are returned unchanged.
    """
    decomposed = unicodedata.normalize("NFD", word)
    tones = [c for c in decomposed if c in _TONES]
    if len(tones) != 1:
        return word
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    parts = _split_syllable(base)
    if parts is None:
        return word
    onset, nucleus, coda = parts
    pos = len(onset) + _tone_position(nucleus, coda, modern)
    marked = unicodedata.normalize("NFC", unicodedata.normalize("NFD", base[pos]) + tones[0])
    return base[:pos] + marked + base[pos + 1 :]


def tone_variants(word: str) -> set[str]:
    """Both accepted spellings of a lowercase syllable (one element when placement is not ambiguous)."""
    return {retone(word), retone(word, modern=True)}


def comparison_form(text: str | None, *, cleaned: bool = False) -> str:
    """Return the form used to compare texts: clean, lowercase, quotes/dashes unified, tones placed.

    Line structure is kept so that callers can still drop whole lines (counters, bylines). ``cleaned``:
    the text is already ``clean``'s output (deduplication's lines are), skip cleaning it again.
    """
    text = (text or "") if cleaned else clean(text)
    text = text.lower().translate(_QUOTES)
    return _WORD.sub(lambda m: retone(m.group()), text)


class _FoldTable(dict):
    """``str.translate`` table built as characters are met: each character without its marks (NFD, the
    nonspacing marks dropped), đ/Đ as d/D. Folding character by character equals folding the decomposed
    string, and the translation runs in C: a Python loop over every character was a tenth of add_page."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFD", chr(code))
        folded = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        self[code] = folded.replace("đ", "d").replace("Đ", "D")
        return self[code]


_FOLD = _FoldTable()


def fold(text: str | None) -> str:
    """Strip every diacritic and map đ/Đ to d/D: "Đà Nẵng" -> "Da Nang". Case is kept."""
    if not text:
        return ""
    return unicodedata.normalize("NFC", text.translate(_FOLD))


def words(text: str | None) -> list[str]:
    """Word tokens (Vietnamese syllables, numbers) of ``text`` in order."""
    return _WORD.findall(text or "")
