"""Official land-use codes (Luật Đất đai 2013; Circular 27/2018/TT-BTNMT), grouped as the law groups them."""

from __future__ import annotations

AGRICULTURAL = "nong_nghiep"
NON_AGRICULTURAL = "phi_nong_nghiep"
UNUSED = "chua_su_dung"

# code -> (Vietnamese name, group)
LAND_USE_CODES: dict[str, tuple[str, str]] = {
    "LUC": ("Đất chuyên trồng lúa nước", AGRICULTURAL),
    "LUK": ("Đất trồng lúa nước còn lại", AGRICULTURAL),
    "LUN": ("Đất lúa nương", AGRICULTURAL),
    "BHK": ("Đất bằng trồng cây hàng năm khác", AGRICULTURAL),
    "NHK": ("Đất nương rẫy trồng cây hàng năm khác", AGRICULTURAL),
    "CLN": ("Đất trồng cây lâu năm", AGRICULTURAL),
    "RSX": ("Đất rừng sản xuất", AGRICULTURAL),
    "RPH": ("Đất rừng phòng hộ", AGRICULTURAL),
    "RDD": ("Đất rừng đặc dụng", AGRICULTURAL),
    "NTS": ("Đất nuôi trồng thủy sản", AGRICULTURAL),
    "LMU": ("Đất làm muối", AGRICULTURAL),
    "NKH": ("Đất nông nghiệp khác", AGRICULTURAL),
    "ONT": ("Đất ở tại nông thôn", NON_AGRICULTURAL),
    "ODT": ("Đất ở tại đô thị", NON_AGRICULTURAL),
    "TSC": ("Đất xây dựng trụ sở cơ quan", NON_AGRICULTURAL),
    "DTS": ("Đất xây dựng trụ sở của tổ chức sự nghiệp", NON_AGRICULTURAL),
    "CQP": ("Đất quốc phòng", NON_AGRICULTURAL),
    "CAN": ("Đất an ninh", NON_AGRICULTURAL),
    "DVH": ("Đất xây dựng cơ sở văn hóa", NON_AGRICULTURAL),
    "DYT": ("Đất xây dựng cơ sở y tế", NON_AGRICULTURAL),
    "DGD": ("Đất xây dựng cơ sở giáo dục và đào tạo", NON_AGRICULTURAL),
    "DTT": ("Đất xây dựng cơ sở thể dục thể thao", NON_AGRICULTURAL),
    "DGT": ("Đất giao thông", NON_AGRICULTURAL),
    "DTL": ("Đất thủy lợi", NON_AGRICULTURAL),
    "DNL": ("Đất công trình năng lượng", NON_AGRICULTURAL),
    "DCH": ("Đất chợ", NON_AGRICULTURAL),
    "SKK": ("Đất khu công nghiệp", NON_AGRICULTURAL),
    "SKC": ("Đất cơ sở sản xuất phi nông nghiệp", NON_AGRICULTURAL),
    "TMD": ("Đất thương mại, dịch vụ", NON_AGRICULTURAL),
    "SKS": ("Đất sử dụng cho hoạt động khoáng sản", NON_AGRICULTURAL),
    "TON": ("Đất cơ sở tôn giáo", NON_AGRICULTURAL),
    "TIN": ("Đất cơ sở tín ngưỡng", NON_AGRICULTURAL),
    "NTD": ("Đất làm nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng", NON_AGRICULTURAL),
    "SON": ("Đất sông, ngòi, kênh, rạch, suối", NON_AGRICULTURAL),
    "MNC": ("Đất có mặt nước chuyên dùng", NON_AGRICULTURAL),
    "DKV": ("Đất khu vui chơi, giải trí công cộng", NON_AGRICULTURAL),
    "PNK": ("Đất phi nông nghiệp khác", NON_AGRICULTURAL),
    "BCS": ("Đất bằng chưa sử dụng", UNUSED),
    "DCS": ("Đất đồi núi chưa sử dụng", UNUSED),
    "NCS": ("Núi đá không có rừng cây", UNUSED),
}

LAND_USE_CHOICES = [(code, f"{code} – {name}") for code, (name, _group) in LAND_USE_CODES.items()]


def group_of(code: str) -> str | None:
    """The legal group (agricultural, non-agricultural, unused) of a land-use code, or None if unknown."""
    entry = LAND_USE_CODES.get(code.upper().strip())
    return entry[1] if entry else None
