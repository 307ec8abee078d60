"""Word lists for plausible demo records (names, business lines, procedures, petition texts)."""

from __future__ import annotations

SURNAMES = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Ma", "Touneh", "Ya", "Bon", "K'",
]  # fmt: skip
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Hoài", "Kim"]
GIVEN = [
    "An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Hương", "Lan", "Linh", "Long", "Mai",
    "Nam", "Nga", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Yến", "Khánh", "Nhung", "Phương",
]  # fmt: skip

BUSINESS_LINES = [
    ("Bán lẻ tạp hóa", "Tạp hóa", 300_000),
    ("Ăn uống", "Quán ăn", 500_000),
    ("Cà phê, giải khát", "Cà phê", 400_000),
    ("Sửa chữa xe máy", "Sửa xe", 200_000),
    ("Vật tư nông nghiệp", "Vật tư nông nghiệp", 800_000),
    ("Thu mua nông sản", "Nông sản", 1_000_000),
    ("May mặc", "May đo", 150_000),
    ("Cắt tóc, làm đẹp", "Salon", 150_000),
    ("Điện thoại – điện máy", "Điện máy", 700_000),
    ("Vận tải hàng hóa", "Vận tải", 600_000),
    ("Xay xát", "Xay xát", 250_000),
    ("Vật liệu xây dựng", "Vật liệu xây dựng", 900_000),
    ("Nhà nghỉ", "Nhà nghỉ", 1_200_000),
    ("Bán lẻ rau, hoa", "Rau hoa", 200_000),
]

# (code, name, field, statutory working days) — demo procedure list modelled on the national catalogue.
PROCEDURES = [
    ("1.001612", "Đăng ký đất đai, cấp Giấy chứng nhận lần đầu", "Đất đai", 30),
    ("1.004227", "Đăng ký biến động quyền sử dụng đất", "Đất đai", 10),
    ("1.001766", "Chuyển mục đích sử dụng đất", "Đất đai", 15),
    ("1.009994", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Xây dựng", 15),
    ("2.000986", "Đăng ký thành lập hộ kinh doanh", "Hộ kinh doanh", 3),
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", 5),
    ("1.000656", "Đăng ký khai tử", "Hộ tịch", 1),
    ("2.000635", "Chứng thực bản sao từ bản chính", "Chứng thực", 1),
    ("1.003605", "Trợ cấp người có công với cách mạng", "Người có công", 20),
    ("1.001758", "Trợ cấp xã hội hàng tháng", "Bảo trợ xã hội", 20),
    ("1.008953", "Xác nhận hộ nghèo, hộ cận nghèo", "Giảm nghèo", 7),
]
# How often each procedure is filed (same order).
PROCEDURE_WEIGHTS = [6, 10, 4, 5, 4, 18, 6, 4, 30, 2, 3, 3]

# Petition texts: layers/demo/petition_texts.py (varied, noisy, as residents write them).
PETITION_WEIGHTS = {
    "dat_dai": 18, "moi_truong": 16, "trat_tu_xay_dung": 10, "giao_thong_ha_tang": 16, "an_ninh_trat_tu": 6,
    "y_te": 4, "giao_duc": 4, "dien_nuoc": 12, "thu_tuc_hanh_chinh": 8, "khac": 6,
}  # fmt: skip

VILLAGES = [
    "Thôn Lạc Thạnh",
    "Thôn Nghĩa Hiệp",
    "Thôn Quảng Hiệp",
    "Thôn Ka Đê",
    "Thôn Châu Sơn",
    "Thôn Đường Mới",
    "Thôn Tân Lập",
    "Thôn Kinh Tế",
    "Thôn Suối Thông",
    "Thôn Hòa Bình",
    "Thôn Lạc Quảng",
    "Thôn Diom",
]
