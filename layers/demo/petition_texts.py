"""Demo petition texts written the way residents write them, so the triage model is tested on something
real (issue 19, item 4): for each category several ways of saying it with interchangeable details, and the
noise of real intake — no diacritics (typed on a phone without a Vietnamese keyboard), typos, texting
abbreviations, a second topic in the same message, and short vague requests that could be anything.
A model that scores near 100 % here has learnt something; on one template per category it would prove nothing.
"""

from __future__ import annotations

import unicodedata

import numpy as np

PLACES = ["đầu thôn", "cuối hẻm", "gần chợ", "trước cổng trường", "cạnh nhà văn hóa thôn", "khu vực cầu treo",
          "dọc quốc lộ 27", "gần nhà thờ", "đường vào vườn rau", "khu dân cư mới", "sau trạm y tế", "gần hồ Đa Nhim"]
TIMES = ["mấy hôm nay", "từ tuần trước", "hơn một tháng nay", "đã lâu", "từ đầu mùa mưa", "tối qua", "sáng nay",
         "nhiều lần"]
ASKS = ["Đề nghị chính quyền kiểm tra xử lý.", "Mong các cơ quan chức năng sớm giải quyết.",
        "Kính đề nghị UBND xã xem xét.", "Rất mong được quan tâm.", "Đề nghị xử lý dứt điểm.",
        "Người dân rất bức xúc.", ""]
# Several ways of saying each category; {p} place, {t} time.
SAYINGS = {
    "dat_dai": [
        "Hộ bên cạnh lấn sang đất nhà tôi khoảng {n} mét, đã hòa giải ở thôn không thành",
        "Tranh chấp ranh giới thửa đất {p}, hai bên không thống nhất mốc giới",
        "Có người rào chiếm đất công {p} để trồng rau",
        "Đề nghị đo đạc lại diện tích thửa đất, sổ đỏ ghi thiếu so với thực tế",
        "Đất nhà tôi bị cấp trùng giấy chứng nhận với hộ khác",
        "San lấp, chuyển mục đích đất nông nghiệp trái phép {p}",
    ],
    "moi_truong": [
        "Rác thải đổ trộm {p} {t}, bốc mùi hôi thối",
        "Vỏ chai thuốc bảo vệ thực vật vứt bừa bãi xuống suối {p}",
        "Trại heo {p} xả nước thải ra mương, mùi hôi cả xóm",
        "Đốt rác, đốt phụ phẩm nông nghiệp gây khói bụi {t}",
        "Nước suối {p} đổi màu, cá chết {t}",
        "Xe chở rác không đến thu gom {t}, rác tồn đọng",
    ],
    "trat_tu_xay_dung": [
        "Xây nhà lưới, nhà kính không phép trên đất lúa {p}",
        "Công trình xây lấn hành lang an toàn đường bộ {p}",
        "Nhà bên cạnh xây tường lấn sang phần đất chung",
        "Xây dựng nhà ở khi chưa có giấy phép {p} {t}",
        "Đổ vật liệu xây dựng tràn ra lòng đường {p}",
    ],
    "giao_thong_ha_tang": [
        "Đường liên thôn {p} hư hỏng nặng, nhiều ổ gà, mưa xuống lầy lội",
        "Cầu dân sinh {p} xuống cấp, lan can gãy, rất nguy hiểm",
        "Đèn đường {p} không sáng {t}",
        "Mương thoát nước bị tắc, nước tràn lên mặt đường {p}",
        "Đề nghị làm gờ giảm tốc trước cổng trường, xe chạy nhanh",
        "Biển báo giao thông {p} bị đổ, chưa được dựng lại",
    ],
    "an_ninh_trat_tu": [
        "Thanh niên tụ tập uống rượu, gây ồn ào {p} đến khuya",
        "Đua xe, nẹt pô {p} vào ban đêm",
        "Trộm cắp nông sản, mất trộm bơm tưới {t}",
        "Có đối tượng lạ hay lảng vảng {p}, người dân lo lắng",
        "Đánh bạc công khai {p}",
    ],
    "y_te": [
        "Trạm y tế đóng cửa sớm, người dân khám bệnh không được",
        "Đề nghị phun thuốc diệt muỗi, trong xóm có nhiều ca sốt xuất huyết",
        "Thiếu thuốc bảo hiểm y tế ở trạm xã {t}",
        "Cơ sở bán thuốc không rõ nguồn gốc {p}",
        "Ngộ độc sau khi ăn cỗ, đề nghị kiểm tra vệ sinh an toàn thực phẩm",
    ],
    "giao_duc": [
        "Phòng học điểm trường {p} dột nát, mùa mưa học sinh phải nghỉ",
        "Trường thiếu giáo viên tiếng Anh, các cháu không được học đủ",
        "Đề nghị làm lại nhà vệ sinh của trường",
        "Thu các khoản đóng góp đầu năm học quá nhiều",
        "Đường đến điểm trường lầy lội, các cháu đi học khó khăn",
    ],
    "dien_nuoc": [
        "Mất điện liên tục {t}, ảnh hưởng tưới rau trong nhà kính",
        "Nước sinh hoạt đục, có mùi {t}",
        "Đề nghị kéo đường điện ra khu sản xuất {p}",
        "Cột điện {p} nghiêng, dây điện võng thấp rất nguy hiểm",
        "Nhà tôi không có nước máy {t}, phải mua nước",
        "Điện chập chờn làm cháy máy bơm",
    ],
    "thu_tuc_hanh_chinh": [
        "Hồ sơ xin cấp giấy chứng nhận quyền sử dụng đất nộp đã lâu chưa có kết quả",
        "Cán bộ tiếp dân thái độ không đúng mực, hướng dẫn không rõ ràng",
        "Đề nghị hướng dẫn thủ tục tách thửa, đi lại nhiều lần vẫn chưa xong",
        "Hẹn trả kết quả chứng thực nhưng đến nơi thì không có",
        "Xin giấy xác nhận hộ nghèo bị gây khó khăn",
    ],
    "khac": [
        "Chó thả rông cắn người {p}",
        "Đề nghị hỗ trợ giống cây trồng cho hộ khó khăn",
        "Xin hỗ trợ sửa nhà cho gia đình chính sách",
        "Loa phát thanh thôn mở quá to vào sáng sớm",
        "Đề nghị tổ chức lớp tập huấn trồng dâu tây",
    ],
}  # fmt: skip
# How urgent each saying is, in SAYINGS' order: 0 not urgent, 1 normal, 2 urgent (danger to people, health, or
# damage spreading now). Officers label what they read with judgement, not by this table: see labelled().
URGENCY = {
    "dat_dai": [1, 1, 1, 0, 1, 2],
    "moi_truong": [1, 2, 2, 1, 2, 1],
    "trat_tu_xay_dung": [1, 1, 1, 1, 2],
    "giao_thong_ha_tang": [1, 2, 1, 2, 1, 2],
    "an_ninh_trat_tu": [1, 2, 2, 1, 1],
    "y_te": [1, 2, 1, 2, 2],
    "giao_duc": [2, 1, 0, 1, 1],
    "dien_nuoc": [1, 1, 0, 2, 1, 1],
    "thu_tuc_hanh_chinh": [0, 1, 0, 0, 1],
    "khac": [2, 0, 0, 0, 0],
}
LEVELS = ["low", "normal", "high"]  # petitions.models.Urgency
# When it happened moves the judgement: last night or this morning is more pressing than "for a long time".
RECENT = {"tối qua", "sáng nay"}
OLD = {"hơn một tháng nay", "đã lâu"}
# What residents write when they do not say what it is about (the officer decides from elsewhere).
VAGUE = ["Đề nghị chính quyền xem xét giải quyết sớm cho dân", "Gửi lại phản ánh lần trước vẫn chưa được trả lời",
         "Mong lãnh đạo xuống làm việc với bà con", "Việc này đã báo nhiều lần nhưng chưa ai xử lý"]  # fmt: skip
ABBREVIATIONS = {" không ": " ko ", " được ": " đc ", " người ": " ng ", " đường ": " đg ", " với ": " vs ",
                 " rồi ": " r ", " gì ": " j "}  # fmt: skip


def strip_marks(text: str) -> str:
    """Vietnamese as typed without a Vietnamese keyboard: no tone marks, đ as d."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _typo(text: str, rng: np.random.Generator) -> str:
    chars = list(text)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(1, max(2, len(chars) - 1)))
        kind = rng.integers(0, 3)
        if kind == 0 and i < len(chars) - 1:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        elif kind == 1:
            del chars[i]
        else:
            chars.insert(i, chars[i - 1])
    return "".join(chars)


def write(category: str, rng: np.random.Generator) -> str:
    """One petition text of the category, as a resident might type it."""
    return _compose(category, rng)[0]


def write_labelled(category: str, rng: np.random.Generator, judge: np.random.Generator) -> tuple[str, str]:
    """A text as write() gives it (the same draws from rng) and the urgency an officer gave it: the situation's
    own urgency, moved by how recent it is, and one officer in five judging a step up or down. `judge` is a
    generator of its own, so labelling leaves the texts (and all demo data drawn after them) unchanged."""
    text, level, when = _compose(category, rng)
    if when in RECENT and judge.random() < 0.5:
        level += 1
    elif when in OLD and judge.random() < 0.5:
        level -= 1
    if judge.random() < 0.2:
        level += int(judge.choice([-1, 1]))
    return text, LEVELS[min(2, max(0, level))]


def _compose(category: str, rng: np.random.Generator) -> tuple[str, int, str]:
    """(text, the urgency of the situation it describes, its time phrase)."""
    level, when = 1, ""
    if rng.random() < 0.05:
        text = str(rng.choice(VAGUE))  # says nothing of its subject: no model should be sure of it
    else:
        index = int(rng.integers(len(SAYINGS[category])))
        place, when, n = rng.choice(PLACES), str(rng.choice(TIMES)), int(rng.integers(1, 6))  # write()'s order
        level = URGENCY[category][index]
        text = SAYINGS[category][index].format(p=place, t=when, n=n)
        if "{t}" not in SAYINGS[category][index]:
            when = ""
        if rng.random() < 0.12:  # a second topic in the same message
            other = str(rng.choice([c for c in SAYINGS if c != category]))
            second = str(rng.choice(SAYINGS[other])).format(p=rng.choice(PLACES), t=rng.choice(TIMES), n=2)
            text = f"{text}. Ngoài ra {second[0].lower()}{second[1:]}"
    ask = str(rng.choice(ASKS))
    text = f"{text}. {ask}".strip() if ask else text
    if rng.random() < 0.3:
        text = f" {text.lower()} "
        for full, short in ABBREVIATIONS.items():
            if rng.random() < 0.5:
                text = text.replace(full, short)
        text = text.strip()
    if rng.random() < 0.25:
        text = strip_marks(text)
    if rng.random() < 0.2:
        text = _typo(text, rng)
    return text, level, when
