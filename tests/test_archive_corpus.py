"""Hand-written Vietnamese test texts (government news style) shared by the archive tests.

STORY_A is a provincial Fatherland Front year-end report; its copies are what syndication produces.
STORY_B is a different report on the same occasion in another province, written from the same
template: much shared phrasing, different people, places and figures. It must never merge with A.
"""

from __future__ import annotations

import unicodedata

A_P1 = (
    "Sáng 28/12, Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Quảng Nam tổ chức hội nghị tổng kết công tác Mặt trận "
    "năm 2023, triển khai chương trình phối hợp và thống nhất hành động năm 2024. Dự hội nghị có đồng chí "
    "Nguyễn Văn Minh, Phó Bí thư Thường trực Tỉnh ủy; đồng chí Trần Thị Hoa, Chủ tịch Ủy ban MTTQ Việt Nam "
    "tỉnh cùng đại diện các sở, ban, ngành và 18 huyện, thị xã, thành phố."
)
A_P2 = (
    "Năm 2023, Mặt trận các cấp trong tỉnh đã chủ động đổi mới nội dung, phương thức hoạt động, hướng mạnh "
    "về khu dân cư. Cuộc vận động “Toàn dân đoàn kết xây dựng nông thôn mới, đô thị văn minh” tiếp tục được "
    "triển khai sâu rộng; toàn tỉnh có 1.245 khu dân cư đạt chuẩn khu dân cư kiểu mẫu, tăng 112 khu so với "
    "năm 2022."
)
A_CAPTION = "Quang cảnh hội nghị"
A_P3 = (
    "Quỹ “Vì người nghèo” các cấp vận động được hơn 46 tỷ đồng, hỗ trợ xây mới và sửa chữa 827 nhà Đại "
    "đoàn kết cho hộ nghèo, hộ cận nghèo. Công tác giám sát và phản biện xã hội được thực hiện có trọng tâm, "
    "trọng điểm với 356 cuộc giám sát, góp ý 41 dự thảo văn bản của cấp ủy, chính quyền."
)
A_P4 = (
    "Phát biểu chỉ đạo tại hội nghị, đồng chí Nguyễn Văn Minh ghi nhận những kết quả mà Mặt trận các cấp đạt "
    "được trong năm qua. Đồng chí đề nghị trong năm 2024, Mặt trận tiếp tục phát huy vai trò nòng cốt trong "
    "tập hợp, xây dựng khối đại đoàn kết toàn dân tộc, tăng cường nắm bắt tình hình nhân dân, kịp thời phản "
    "ánh tâm tư, nguyện vọng chính đáng của nhân dân với cấp ủy, chính quyền."
)
A_P5 = (
    "Dịp này, Ủy ban MTTQ Việt Nam tỉnh tặng Bằng khen cho 25 tập thể và 40 cá nhân có thành tích xuất sắc "
    "trong công tác Mặt trận năm 2023; đồng thời ký kết chương trình phối hợp và thống nhất hành động giữa "
    "các tổ chức thành viên năm 2024."
)
TITLE_A = "Ủy ban MTTQ Việt Nam tỉnh Quảng Nam tổng kết công tác Mặt trận năm 2023"
STORY_A = "\n\n".join([A_P1, A_P2, A_CAPTION, A_P3, A_P4, A_P5, "THU HÀ"])

# The same story as another site republishes it: date and view counter lines, the old tone placement
# ("Uỷ ban"), non-breaking spaces, its own byline and a source line.
STORY_A_EXACT = "\n\n".join(
    [
        "Đăng ngày 29/12/2023 08:15",
        "Lượt xem: 1.024",
        A_P1.replace("Ủy ban", "Uỷ ban").replace("Việt Nam", "Việt\u00a0Nam"),
        A_P2,
        A_CAPTION,
        A_P3,
        A_P4,
        A_P5,
        "PV",
        "Theo quangnam.gov.vn",
    ]
)

# A syndicated copy edited on the way: reworded title, other caption, last paragraph dropped.
TITLE_A_NEAR = "Quảng Nam: Mặt trận các cấp vận động hơn 46 tỷ đồng cho người nghèo"
STORY_A_NEAR = "\n\n".join(
    [A_P1, A_P2, "Đại biểu dự hội nghị tổng kết công tác Mặt trận năm 2023", A_P3, A_P4, "Theo Báo Quảng Nam"]
)

TITLE_B = "Ủy ban MTTQ Việt Nam tỉnh Bình Định tổng kết công tác Mặt trận năm 2023"
STORY_B = "\n\n".join(
    [
        "Chiều 27/12, Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh Bình Định tổ chức hội nghị tổng kết công tác Mặt "
        "trận năm 2023, triển khai chương trình phối hợp và thống nhất hành động năm 2024. Dự hội nghị có đồng "
        "chí Lê Kim Toàn, Phó Bí thư Thường trực Tỉnh ủy; đồng chí Hồ Thị Lan, Chủ tịch Ủy ban MTTQ Việt Nam "
        "tỉnh cùng đại diện các sở, ban, ngành và 11 huyện, thị xã, thành phố.",
        "Trong năm, Mặt trận các cấp trong tỉnh đã bám sát nhiệm vụ chính trị của địa phương, tập trung tuyên "
        "truyền, vận động các tầng lớp nhân dân thực hiện tốt chủ trương của Đảng, chính sách, pháp luật của "
        "Nhà nước. Cuộc vận động “Toàn dân đoàn kết xây dựng nông thôn mới, đô thị văn minh” gắn với phong "
        "trào thi đua “Bình Định chung sức xây dựng nông thôn mới”; có thêm 9 xã đạt chuẩn nông thôn mới nâng "
        "cao.",
        "Quang cảnh hội nghị",
        "Các cấp Mặt trận đã vận động Quỹ “Vì người nghèo” được 31 tỷ đồng, hỗ trợ xây dựng 514 nhà Đại đoàn "
        "kết, tặng 12.000 suất quà cho hộ nghèo nhân dịp Tết. Mặt trận tỉnh chủ trì 198 cuộc giám sát, tổ chức "
        "17 hội nghị phản biện xã hội đối với dự thảo nghị quyết của HĐND tỉnh.",
        "Phát biểu tại hội nghị, đồng chí Lê Kim Toàn đánh giá cao kết quả công tác Mặt trận năm 2023. Đồng chí "
        "yêu cầu Mặt trận các cấp tiếp tục phát huy vai trò nòng cốt trong tập hợp, xây dựng khối đại đoàn kết "
        "toàn dân tộc, làm tốt công tác giám sát, phản biện xã hội, tham gia xây dựng Đảng, xây dựng chính "
        "quyền trong sạch, vững mạnh.",
        "Nhân dịp này, 18 tập thể và 30 cá nhân được nhận Bằng khen của Ủy ban MTTQ Việt Nam tỉnh vì có thành "
        "tích xuất sắc trong công tác Mặt trận năm 2023.",
        "MINH ANH",
    ]
)

# Short stories for search.
TITLE_COURT = "Tòa án nhân dân tỉnh xét xử lưu động vụ án cố ý gây thương tích"
STORY_COURT = (
    "Ngày 15/3, Tòa án nhân dân tỉnh Thanh Hóa mở phiên tòa xét xử lưu động vụ án cố ý gây thương tích tại "
    "xã Quảng Phú. Hội đồng xét xử tuyên án 5 năm tù đối với bị cáo. Bản án nhằm răn đe, phòng ngừa chung."
)
TITLE_SAFETY = "Bảo đảm an ninh, an toàn giao thông dịp Tết"
STORY_SAFETY = (
    "Ban An toàn giao thông tỉnh yêu cầu các lực lượng bảo đảm an ninh, an toàn giao thông dịp Tết. Công an "
    "các huyện tăng cường tuần tra, kiểm soát; vận động nhân dân an tâm đón Tết an toàn, an vui."
)
TITLE_OLD_SPELLING = "Uỷ ban nhân dân huyện Hoà Vang họp phiên thường kỳ tháng 6"
STORY_OLD_SPELLING = (
    "Sáng 30/6, Uỷ ban nhân dân huyện Hoà Vang, thành phố Đà Nẵng họp phiên thường kỳ, đánh giá tình hình "
    "kinh tế - xã hội 6 tháng đầu năm, công tác thuỷ lợi và phòng chống thiên tai."
)
TITLE_NEW_SPELLING = "Ủy ban nhân dân tỉnh Hòa Bình triển khai nhiệm vụ quý III"
STORY_NEW_SPELLING = (
    "Chiều 3/7, Ủy ban nhân dân tỉnh Hòa Bình tổ chức hội nghị triển khai nhiệm vụ quý III, tập trung giải "
    "ngân vốn đầu tư công và chăm lo sức khỏe nhân dân."
)
TITLE_DAN_VAN = "Ban Dân vận Thành ủy tập huấn công tác dân vận"
STORY_DAN_VAN = (
    "Ngày 5/4, Ban Dân vận Thành ủy Đà Nẵng tổ chức hội nghị tập huấn công tác dân vận cho cán bộ cơ sở, "
    "hướng dẫn thực hiện phong trào thi đua “Dân vận khéo” năm 2024."
)

SEARCH_STORIES = [
    ("court", TITLE_COURT, STORY_COURT, "2024-03-15", "th-gov"),
    ("safety", TITLE_SAFETY, STORY_SAFETY, "2024-02-01", "th-gov"),
    ("old", TITLE_OLD_SPELLING, STORY_OLD_SPELLING, "2023-06-30", "dn-gov"),
    ("new", TITLE_NEW_SPELLING, STORY_NEW_SPELLING, "2023-07-03", "hb-gov"),
    ("danvan", TITLE_DAN_VAN, STORY_DAN_VAN, "2022-04-05", "dn-mttq"),
]

SITES = [
    {
        "id": "qn-gov",
        "name": "Cổng thông tin điện tử tỉnh Quảng Nam",
        "province": "Quảng Nam",
        "kind": "government",
        "family": "tandan",
        "start_urls": ["https://quangnam.gov.vn/"],
        "aliases": ["Cổng TTĐT Quảng Nam"],
    },
    {
        "id": "qn-mttq",
        "name": "Ủy ban MTTQ Việt Nam tỉnh Quảng Nam",
        "province": "Quảng Nam",
        "kind": "front",
        "family": "nukeviet",
        "start_urls": ["https://mattran.quangnam.gov.vn/"],
        "aliases": [],
    },
    {
        "id": "qn-bao",
        "name": "Báo Quảng Nam",
        "province": "Quảng Nam",
        "kind": "party",
        "start_urls": ["https://baoquangnam.vn/"],
        "aliases": ["Báo Quảng Nam"],
    },
    {
        "id": "bd-mttq",
        "name": "Ủy ban MTTQ Việt Nam tỉnh Bình Định",
        "province": "Bình Định",
        "kind": "front",
        "start_urls": ["https://mttq.binhdinh.gov.vn/"],
    },
    {"id": "th-gov", "name": "Cổng TTĐT Thanh Hóa", "province": "Thanh Hóa", "kind": "government",
     "start_urls": ["https://thanhhoa.gov.vn/"]},
    {"id": "dn-gov", "name": "Cổng TTĐT Đà Nẵng", "province": "Đà Nẵng", "kind": "government",
     "start_urls": ["https://danang.gov.vn/"]},
    {"id": "hb-gov", "name": "Cổng TTĐT Hòa Bình", "province": "Hòa Bình", "kind": "government",
     "start_urls": ["https://hoabinh.gov.vn/"]},
    {"id": "dn-mttq", "name": "MTTQ Đà Nẵng", "province": "Đà Nẵng", "kind": "front",
     "start_urls": ["https://mttq.danang.gov.vn/"]},
]

_HOSTS = {s["id"]: s["start_urls"][0].rstrip("/") for s in SITES}


def url_for(site_id: str, slug: str) -> str:
    return f"{_HOSTS[site_id]}/tin-tuc/{slug}.html"


def record(site_id: str, slug: str, title: str, body: str, published: str | None = "2023-12-28", **extra) -> dict:
    """A page record as the crawler's ArchivePipeline builds it (docs/architecture.md)."""
    rec = {
        "url": url_for(site_id, slug),
        "site_id": site_id,
        "fetched_at": "2024-01-02T03:04:05+00:00",
        "status": 200,
        "title": title,
        "body": body,
        "lead": None,
        "author": None,
        "source": None,
        "published": published,
        "published_raw": published,
        "published_source": "visible",
        "updated": None,
        "canonical_url": None,
        "images": [{"src": "/img/1.jpg", "caption": "Quang cảnh hội nghị"}],
        "attachments": [],
        "category": "Tin hoạt động",
        "view_count": 12,
        "family": "nukeviet",
        "method": "profile:nukeviet",
        "reason": None,
        "raw": f"<html><body><h1>{title}</h1><p>{body}</p></body></html>".encode(),
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "encoding": "utf-8",
    }
    rec.update(extra)
    return rec


def test_corpus_texts_are_nfc_and_long_enough() -> None:
    for text in (STORY_A, STORY_A_NEAR, STORY_B):
        assert unicodedata.is_normalized("NFC", text.replace("\u00a0", " "))
        assert len(text.split()) > 150
