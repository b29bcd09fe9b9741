"""Bytes to text: charset from the BOM, the HTTP header or the page, with checks for mislabelled pages.

Vietnamese pages come as UTF-8, as windows-1258 (whose tone marks are combining characters), labelled
with the wrong charset, or in decomposed (NFD) Unicode; all leave here as NFC text.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# Above this many characters the page is cut (after stripping inline data and scripts): no news article
# is that long, and lxml and trafilatura time grow with size.
MAX_CHARS = 5_000_000
_DATA_URI = re.compile(rb"data:[\w/+.\-]+;base64,[A-Za-z0-9+/=\s]{256,}")
_SCRIPT_OR_STYLE = re.compile(rb"(<(script|style)\b[^>]*>).*?(</\2\s*>)", re.IGNORECASE | re.DOTALL)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
# C0 controls other than tab/newline/return break lxml; C1 controls only come from bad decoding.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Windows-1258 bytes of the five combining tone marks: their presence suggests a windows-1258 page.
_CP1258_TONE_BYTES = frozenset(b"\xcc\xd2\xde\xec\xf2")
# ă ơ ư đ (and capitals) in windows-1258: rare letters in Western European text.
_CP1258_LETTER_BYTES = frozenset(b"\xc3\xe3\xd5\xf5\xdd\xfd\xd0\xf0")


def shrink(data: bytes) -> bytes:
    """Removes inline data URIs and script/style bodies from a huge page, then cuts it to size."""
    if len(data) <= MAX_CHARS:
        return data
    data = _DATA_URI.sub(b"data:,", data)
    if len(data) > MAX_CHARS:
        data = _SCRIPT_OR_STYLE.sub(rb"\1\3", data)
    return data[:MAX_CHARS]


def decode_html(data: bytes | str, headers: dict | None = None) -> tuple[str, str]:
    """Returns (NFC text, name of the codec used). Never raises on bad bytes."""
    if isinstance(data, str):
        text, encoding = data, "unicode"
    else:
        data = shrink(data)
        text, encoding = _decode_bytes(data, _header_charset(headers))
    text = text[:MAX_CHARS]
    text = _CONTROL.sub("", text)
    text = _XML_DECLARATION.sub("", text, count=1)
    return unicodedata.normalize("NFC", text), encoding


def _header_charset(headers: dict | None) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if name.lower() != "content-type":
            continue
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        return http_content_type_encoding(str(value))
    return None


def _decode_bytes(data: bytes, header_charset: str | None) -> tuple[str, str]:
    bom_encoding, bom = read_bom(data)
    if bom_encoding:
        return data[len(bom) :].decode(bom_encoding, errors="replace"), bom_encoding
    declared = _usable(header_charset) or _usable(html_body_declared_encoding(data[:65536]))
    # Valid UTF-8 with non-ASCII bytes is UTF-8 whatever the label says: random windows-1258 or
    # latin-1 text is practically never valid UTF-8.
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if declared == "cp1252" and _looks_cp1258(data):
        return data.decode("cp1258", errors="replace"), "cp1258"
    if declared and declared not in {"utf-8", "ascii"}:
        return data.decode(declared, errors="replace"), declared
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="replace"), "utf-8"
    # Not UTF-8 and no other label: a Vietnamese page is then windows-1258 (or an old latin-1
    # page, which cp1258 decodes the same for the letters that matter).
    return data.decode("cp1258", errors="replace"), "cp1258"


def _usable(name: str | None) -> str | None:
    """Normalises a charset label to a Python codec name, or None when Python has no such codec."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    aliases = {"iso8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "ascii"}
    return aliases.get(codec, codec)


def _mostly_utf8(data: bytes) -> bool:
    """A few broken sequences in a page of valid multi-byte UTF-8 (a cut excerpt) keep it UTF-8."""
    text = data.decode("utf-8", errors="replace")
    errors = text.count("\ufffd")
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    if multibyte >= 10 * max(errors, 1):
        return True
    # Tone-mark bytes of windows-1258 where UTF-8 fails point the other way.
    return not any(b in _CP1258_TONE_BYTES for b in data) and multibyte > errors


def _looks_cp1258(data: bytes) -> bool:
    """A page labelled latin-1/windows-1252 whose bytes read as Vietnamese in windows-1258."""
    sample = data[:200_000]
    tones = sum(sample.count(bytes([b])) for b in _CP1258_TONE_BYTES)
    letters = sum(sample.count(bytes([b])) for b in _CP1258_LETTER_BYTES)
    return tones >= 5 and letters >= 5
