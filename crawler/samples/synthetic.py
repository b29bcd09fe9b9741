"""Synthetic content files for tests and template work: every category gets enough articles for 2+ pages.

The prose is filler; the real sample content lives in content/<site-id>.toml.
"""

from __future__ import annotations

from pathlib import Path

from .site import load_sites

_SENTENCES = (
    "Hội nghị đã thống nhất các nhiệm vụ trọng tâm trong thời gian tới",
    "Các đại biểu tập trung thảo luận những giải pháp nâng cao hiệu quả công tác dân vận",
    "Ban Thường trực đề nghị các địa phương tiếp tục bám sát cơ sở, lắng nghe ý kiến của nhân dân",
    "Phong trào thi đua được triển khai rộng khắp tại các xã, thị trấn",
    "Kết quả đạt được góp phần củng cố khối đại đoàn kết toàn dân tộc",
)


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def synthetic_toml(site_id: str, categories: list[str], per_category: int = 6) -> str:
    out = []
    n = 0
    for ci, cat in enumerate(categories):
        for k in range(per_category):
            n += 1
            aid = 100 + n
            day = 1 + (n * 3) % 27
            month = 1 + (n % 11)
            timed = n % 4 != 0
            published = f"2024-{month:02d}-{day:02d}" + (
                f"T{7 + n % 10:02d}:{(n * 7) % 60:02d}:00+07:00" if timed else ""
            )
            paragraphs = [f"{_SENTENCES[(n + j) % len(_SENTENCES)]} (đoạn {j + 1} bài {aid})." for j in range(3)]
            out.append("[[article]]")
            out.append(f"id = {aid}")
            out.append(f'slug = "bai-viet-thu-nghiem-{site_id}-{aid}"')
            out.append(f'category = "{cat}"')
            out.append(f"title = {_toml_str(f'Bài viết thử nghiệm số {aid} của chuyên mục {ci + 1}')}")
            out.append(f'published = "{published}"')
            out.append(f"lead = {_toml_str(f'Sáng {day}-{month}, hội nghị số {aid} diễn ra tại hội trường.')}")
            out.append("paragraphs = [" + ", ".join(_toml_str(p) for p in paragraphs) + "]")
            out.append(
                f'images = [{{ after = {k % 3}, src = "anh-{aid}.jpg", caption = "Quang cảnh hội nghị {aid}" }}]'
            )
            if k % 2 == 0:
                out.append(f"author = {_toml_str('THANH THẢO' if k % 4 == 0 else 'Tin, ảnh: Mai Phương')}")
            if k % 3 == 1:
                out.append(f"source = {_toml_str('Theo danang.gov.vn')}")
            if k == 2:
                out.append(f'attachments = [{{ title = "Kế hoạch số {aid}-KH", file = "ke-hoach-{aid}.pdf" }}]')
            out.append("")
    return "\n".join(out)


def write_synthetic_content(directory: Path | str, per_category: int = 6) -> Path:
    """Write content/<site-id>.toml for every site of web.toml into `directory` and return it."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    for site in load_sites(content_dir=target / "__none__"):
        text = synthetic_toml(site.id, [c.key for c in site.categories], per_category)
        (target / f"{site.id}.toml").write_text(text, encoding="utf-8")
    return target
