"""Tiny but valid image and document bytes, generated in code so the repository ships no binaries."""

from __future__ import annotations

import hashlib
import struct
import zlib


def _shade(name: str) -> int:
    """A stable grey level per file name, so different images have different bytes."""
    return 60 + hashlib.sha1(name.encode()).digest()[0] % 140


def png_bytes(name: str, width: int = 16, height: int = 12) -> bytes:
    """A flat-coloured RGB PNG."""
    level = _shade(name)
    rgb = bytes((level, (level * 3) % 256, 255 - level))
    raw = b"".join(b"\x00" + rgb * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value: int, length: int) -> None:
        for i in range(length - 1, -1, -1):
            self.acc = (self.acc << 1) | ((value >> i) & 1)
            self.n += 1
            if self.n == 8:
                self._emit()

    def _emit(self) -> None:
        self.out.append(self.acc)
        if self.acc == 0xFF:  # byte stuffing inside entropy-coded data
            self.out.append(0)
        self.acc = 0
        self.n = 0

    def flush(self) -> bytes:
        while self.n:
            self.write(1, 1)  # pad with one bits
        return bytes(self.out)


def jpeg_bytes(name: str, width: int = 16, height: int = 16) -> bytes:
    """A flat grey baseline JPEG (one component, DC-only blocks).

    Huffman tables are minimal: DC symbols {0: '0', category: '10'} and AC {EOB: '0'}; that is enough for
    every block since only the first block has a non-zero DC difference.
    """
    level = _shade(name)
    dc = (level - 128) * 8  # DC coefficient of a flat 8x8 block with quantiser 1
    category = abs(dc).bit_length()
    bits_value = dc if dc >= 0 else dc + (1 << category) - 1
    blocks = ((width + 7) // 8) * ((height + 7) // 8)

    writer = _BitWriter()
    for i in range(blocks):
        if i == 0 and category:
            writer.write(0b10, 2)
            writer.write(bits_value, category)
        else:
            writer.write(0, 1)  # DC difference 0
        writer.write(0, 1)  # EOB: all AC coefficients zero
    scan = writer.flush()

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    app0 = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + bytes([1] * 64))
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
    dc_counts = bytes([1, 1] + [0] * 14)
    dht_dc = segment(0xC4, b"\x00" + dc_counts + bytes([0, category]))
    ac_counts = bytes([1] + [0] * 15)
    dht_ac = segment(0xC4, b"\x10" + ac_counts + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + app0 + dqt + sof + dht_dc + dht_ac + sos + scan + b"\xff\xd9"


def gif_bytes(name: str) -> bytes:
    """A 1x1 GIF (placeholders like no_image.gif)."""
    level = _shade(name)
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00"
        + bytes((level, level, level))
        + b"\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def pdf_bytes(title: str) -> bytes:
    """A one-page PDF showing the title (ASCII-folded: the base-14 fonts have no Vietnamese glyphs)."""
    safe = title.encode("ascii", "replace").decode().replace("\\", "").replace("(", "[").replace(")", "]")
    stream = f"BT /F1 14 Tf 40 780 Td ({safe}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def media_for(path: str) -> tuple[str, bytes] | None:
    """(content type, bytes) for a media path by its extension, or None when it is not a media file."""
    lower = path.lower()
    ext = lower[lower.rfind(".") :] if "." in lower.rsplit("/", 1)[-1] else ""
    if ext not in MEDIA_TYPES:
        return None
    name = path.rsplit("/", 1)[-1]
    if ext in (".jpg", ".jpeg"):
        return MEDIA_TYPES[ext], jpeg_bytes(path)
    if ext == ".png":
        return MEDIA_TYPES[ext], png_bytes(path)
    if ext == ".gif":
        return MEDIA_TYPES[ext], gif_bytes(path)
    return MEDIA_TYPES[ext], pdf_bytes(name)  # documents are served as PDF bytes whatever their name says
