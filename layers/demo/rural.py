"""Demo agriculture and tourism (layers/models/rural.py): seeded, inside the current demo communes.

- Crop areas: fields and greenhouse blocks around the villages, two years of seasons; greenhouses dominate
  in Thạnh Mỹ, Lạc Lâm and Ka Đô (the district's flower and vegetable belt), rice and fodder in the south.
- Cooperatives, farms (dairy in Tu Tra and Lạc Xuân) and agricultural enterprises.
- Tourist sites and accommodation (the Đa Nhim lake, farmstays, homestays, hotels in the towns) with monthly
  visitors for 24 months: peaks at Tết, in summer and at the December flower festival.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point

from layers.demo.geometry import Commune, to_degrees
from layers.demo.records import BATCH, _short, population_2019
from layers.models import CropArea, Farm, TourismSite, VisitorCount

# Share of a commune's crop blocks under greenhouses (the flower and vegetable belt is covered).
GREENHOUSE_SHARE = {"24931": 0.7, "24940": 0.65, "24943": 0.55, "24937": 0.45, "24928": 0.35}
# Crop mix (weights) in the greenhouse belt and elsewhere.
BELT_CROPS = {"rau": 0.5, "hoa": 0.35, "dau_tay": 0.08, "atiso": 0.04, "khac": 0.03}
OPEN_CROPS = {"rau": 0.35, "lua": 0.2, "co_chan_nuoi": 0.15, "ca_phe": 0.15, "atiso": 0.05, "khac": 0.1}
SEASONS = ("dong_xuan", "he_thu", "thu_dong")
# Visitors by month of the year, relative to an average month (Tết, summer holidays, flower festival).
MONTHLY = [1.6, 1.4, 0.9, 0.8, 0.9, 1.1, 1.2, 1.1, 0.7, 0.7, 0.8, 1.5]


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return str(rng.choice(keys, p=p / p.sum()))


def _block(x: float, y: float, side_m: float, angle: float) -> shapely.Polygon:
    """A rectangular field of about side_m² turned by angle (radians), in metres."""
    w, h = side_m * 1.4, side_m / 1.4
    corners = np.array([(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return shapely.Polygon(corners @ rot.T + (x, y))


def crop_areas(communes: list[Commune], seed: int, today: dt.date, per_commune: int = 300) -> int:
    """Crop blocks of the last two years (each block planted once or twice a year)."""
    rng = np.random.default_rng(seed + 41)
    objs: list[CropArea] = []
    for commune in communes:
        share = GREENHOUSE_SHARE.get(commune.code, 0.15)
        crops = BELT_CROPS if share >= 0.45 else OPEN_CROPS
        xy = commune.points_near_centres(rng, per_commune, 1800)
        blocks = [_block(x, y, float(rng.uniform(40, 140)), float(rng.uniform(0, np.pi))) for x, y in xy]
        blocks = [b for b in blocks if commune.inner.contains(b)]
        shapes = to_degrees(np.array(blocks, dtype=object))
        for block, shape in zip(blocks, shapes, strict=True):
            greenhouse = bool(rng.random() < share)
            crop = _choice(rng, crops)
            certified = rng.random() < (0.35 if greenhouse else 0.1)
            geom = MultiPolygon(GEOSGeometry(shape.wkt, srid=4326), srid=4326)
            for year in (today.year - 1, today.year):
                seasons = ["quanh_nam"] if greenhouse else list(rng.choice(SEASONS, size=2, replace=False))
                for season in seasons:
                    objs.append(
                        CropArea(
                            crop=crop, season=season, year=year, greenhouse=greenhouse,
                            certification=("vietgap" if rng.random() < 0.85 else "globalgap") if certified else "none",
                            area_m2=round(block.area, 1), grower=f"Hộ sản xuất {_short(commune)}", geom=geom,
                            commune_id=commune.id, commune_code=commune.code, is_demo=True,
                        )
                    )  # fmt: skip
    CropArea.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def farms(communes: list[Commune], seed: int) -> int:
    """About 60 cooperatives, farms and enterprises: dairy in Tu Tra and Lạc Xuân, flowers and vegetables in
    the greenhouse belt."""
    rng = np.random.default_rng(seed + 43)
    pops = population_2019(communes)
    objs: list[Farm] = []
    for commune in communes:
        n = max(2, round(pops[commune.code] / 2500))
        belt = GREENHOUSE_SHARE.get(commune.code, 0) >= 0.45
        dairy = commune.code in ("24952", "24934")
        points = commune.points_near_centres(rng, n, 2500)
        for i, (x, y) in enumerate(points):
            kind = ("htx", "trang_trai", "doanh_nghiep", "to_hop_tac")[int(rng.choice(4, p=[0.4, 0.35, 0.1, 0.15]))]
            product = "bo_sua" if dairy and i % 2 == 0 else ("hoa" if belt and i % 3 == 0 else "rau")
            label = {"htx": "HTX", "trang_trai": "Trang trại", "doanh_nghiep": "Công ty TNHH",
                     "to_hop_tac": "Tổ hợp tác"}[kind]  # fmt: skip
            product_name = {"bo_sua": "bò sữa", "hoa": "hoa", "rau": "rau an toàn"}[product]
            point = to_degrees(shapely.Point(x, y))
            objs.append(
                Farm(
                    name=f"{label} {product_name} {_short(commune)} {i + 1}", kind=kind, product=product,
                    members=int(rng.integers(7, 120)), area_ha=round(float(rng.uniform(2, 60)), 1),
                    certification="vietgap" if rng.random() < 0.45 else "none",
                    founded=int(rng.integers(1998, 2025)), geom=Point(point.x, point.y, srid=4326),
                    commune_id=commune.id, commune_code=commune.code, is_demo=True,
                )
            )  # fmt: skip
    Farm.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def tourism_sites(communes: list[Commune], seed: int) -> int:
    """Attractions and accommodation: hotels and guesthouses in the towns, farmstays and homestays in the
    greenhouse belt, the Đa Nhim lake in Lạc Lâm / Lạc Xuân."""
    rng = np.random.default_rng(seed + 47)
    objs: list[TourismSite] = []
    for commune in communes:
        town = commune.name.startswith("Thị trấn")
        plan = {"homestay": 2, "farmstay": 1 if GREENHOUSE_SHARE.get(commune.code, 0) >= 0.35 else 0,
                "diem_tham_quan": 1, "khach_san": 2 if town else 0, "nha_nghi": 2 if town else 1}  # fmt: skip
        if commune.code in ("24940", "24934"):
            plan["khu_du_lich"] = 1
        total = sum(plan.values())
        points = list(commune.points_near_centres(rng, total, 1500))
        for kind, count in plan.items():
            for i in range(count):
                x, y = points.pop()
                point = to_degrees(shapely.Point(x, y))
                rooms = {"homestay": (3, 10), "farmstay": (4, 15), "khach_san": (20, 60), "nha_nghi": (8, 20),
                         "khu_du_lich": (30, 80)}.get(kind)  # fmt: skip
                n_rooms = int(rng.integers(*rooms)) if rooms else None
                name = {
                    "homestay": f"Homestay {_short(commune)} {i + 1}",
                    "farmstay": f"Farmstay vườn hoa {_short(commune)}",
                    "diem_tham_quan": "Hồ Đa Nhim" if commune.code == "24940" else f"Vườn hoa {_short(commune)}",
                    "khach_san": f"Khách sạn {_short(commune)} {i + 1}",
                    "nha_nghi": f"Nhà nghỉ {_short(commune)} {i + 1}",
                    "khu_du_lich": f"Khu du lịch sinh thái {_short(commune)}",
                }[kind]
                objs.append(
                    TourismSite(
                        name=name, kind=kind, rooms=n_rooms,
                        beds=round(n_rooms * float(rng.uniform(1.5, 2.5))) if n_rooms else None,
                        geom=Point(point.x, point.y, srid=4326), commune_id=commune.id, commune_code=commune.code,
                        is_demo=True,
                    )
                )  # fmt: skip
    TourismSite.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def visitors(seed: int, today: dt.date, months: int = 24) -> int:
    """Monthly visitors of every demo site for the last `months` complete months, growing 8 % a year."""
    rng = np.random.default_rng(seed + 53)
    first = dt.date(today.year, today.month, 1)
    month_starts = []
    day = first
    for _ in range(months):
        day = (day - dt.timedelta(days=1)).replace(day=1)
        month_starts.append(day)
    base = {"diem_tham_quan": 2500, "khu_du_lich": 1800, "khach_san": 700, "nha_nghi": 300, "homestay": 150,
            "farmstay": 250}  # fmt: skip
    stays = {"khach_san", "nha_nghi", "homestay", "farmstay", "khu_du_lich"}
    objs: list[VisitorCount] = []
    for site in TourismSite.objects.filter(is_demo=True).only("id", "kind", "commune_id", "commune_code"):
        scale = base[site.kind] * float(rng.uniform(0.6, 1.5))
        for month in month_starts:
            growth = 1.08 ** ((month - month_starts[-1]).days / 365)
            n = max(0, round(scale * MONTHLY[month.month - 1] * growth * float(rng.normal(1, 0.12))))
            overnight = round(n * float(rng.uniform(0.6, 0.95))) if site.kind in stays else 0
            objs.append(
                VisitorCount(site_id=site.id, month=month, visitors=n, overnight=overnight,
                             commune_id=site.commune_id, commune_code=site.commune_code, is_demo=True)
            )  # fmt: skip
    VisitorCount.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)
