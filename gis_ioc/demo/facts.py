"""Figures of Huyện Đơn Dương's communes (GSO 2024 codes, 2009/2019 census), from the project's brief.

They seed the demo district; boundaries are generated around the interior points (gis_ioc.demo.communes).
"""

from __future__ import annotations

from typing import NamedTuple


class CommuneFact(NamedTuple):
    code: str
    name: str
    name_ascii: str
    unit_type: str  # "thi_tran" or "xa"
    lon: float
    lat: float
    area_km2: float
    pop_2009: int
    pop_2019: int


PROVINCE = ("68", "Tỉnh Lâm Đồng", "Lam Dong")
DISTRICT = ("677", "Huyện Đơn Dương", "Don Duong")

COMMUNES: list[CommuneFact] = [
    CommuneFact("24928", "Thị trấn D'Ran", "D'Ran", "thi_tran", 108.621, 11.8751, 137.403, 14197, 14196),
    CommuneFact("24931", "Thị trấn Thạnh Mỹ", "Thanh My", "thi_tran", 108.489, 11.7687, 20.807, 9142, 13487),
    CommuneFact("24934", "Xã Lạc Xuân", "Lac Xuan", "xa", 108.6084, 11.7798, 103.474, 10444, 13836),
    CommuneFact("24937", "Xã Đạ Ròn", "Da Ron", "xa", 108.4586, 11.7807, 32.715, 9133, 9672),
    CommuneFact("24940", "Xã Lạc Lâm", "Lac Lam", "xa", 108.5178, 11.7897, 20.858, 7744, 9758),
    CommuneFact("24943", "Xã Ka Đô", "Ka Do", "xa", 108.6031, 11.7238, 87.789, 9333, 12947),
    CommuneFact("24946", "Xã Quảng Lập", "Quang Lap", "xa", 108.5098, 11.7459, 9.72, 3885, 5381),
    CommuneFact("24949", "Xã Ka Đơn", "Ka Don", "xa", 108.4922, 11.7061, 36.521, 6619, 8669),
    CommuneFact("24952", "Xã Tu Tra", "Tu Tra", "xa", 108.431, 11.6998, 73.523, 9634, 13326),
    CommuneFact("24955", "Xã Pró", "Pro", "xa", 108.5806, 11.687, 88.981, 4287, 6009),
]
