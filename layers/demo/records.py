"""Demo point layers and tabular records, written with multi-row INSERTs (bulk_create in batches).

Counts follow the population of each commune (census figures of AdminUnitPopulation), so densities and
per-10,000 statistics look like a real district's.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
from django.contrib.gis.geos import Point
from django.utils import timezone

from gis_ioc.models import AdminUnitPopulation
from layers.demo import names, petition_texts
from layers.demo.geometry import Commune, to_degrees
from layers.models import BudgetRevenue, Dossier, HealthFacility, HouseholdBusiness, Indicator, School

BATCH = 2000
_ALPHABET = list("23456789ABCDEFGHJKLMNPQRSTUVWXYZ")


def population_2019(communes: list[Commune]) -> dict[str, int]:
    """Census population per current commune (the merged commune carries its predecessors' sum)."""
    rows = AdminUnitPopulation.objects.filter(unit_id__in=[c.id for c in communes], year=2019)
    by_id = {r.unit_id: r.population for r in rows}
    return {c.code: by_id.get(c.id, 8000) for c in communes}


def population_in(communes: list[Commune], year: int) -> dict[str, float]:
    """Population per commune in a year, growing at each commune's 2009–2019 census rate."""
    rows = AdminUnitPopulation.objects.filter(unit_id__in=[c.id for c in communes], year__in=[2009, 2019])
    census: dict[int, dict[int, int]] = {}
    for r in rows:
        census.setdefault(r.unit_id, {})[r.year] = r.population
    result = {}
    for c in communes:
        p = census.get(c.id, {})
        p19 = p.get(2019, 8000)
        rate = (p19 / p[2009]) ** 0.1 if p.get(2009) else 1.015
        result[c.code] = p19 * rate ** (year - 2019)
    return result


def _split(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split a total over communes proportionally to the weights (largest remainders)."""
    s = sum(weights.values())
    raw = {k: total * w / s for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[: total - sum(out.values())]:
        out[k] += 1
    return out


def _points(commune: Commune, rng: np.random.Generator, n: int, sigma_m: float) -> list[Point]:
    xy = commune.points_near_centres(rng, n, sigma_m)
    import shapely

    return [Point(p.x, p.y, srid=4326) for p in to_degrees(shapely.points(xy))]


def _short(commune: Commune) -> str:
    return commune.name.removeprefix("Thị trấn ").removeprefix("Xã ")


def _person(rng: np.random.Generator) -> str:
    return " ".join(rng.choice(x) for x in (names.SURNAMES, names.MIDDLE, names.GIVEN)).replace("K' ", "K'")


def schools(communes: list[Commune], seed: int) -> int:
    """About 70 schools: kindergartens, primary and lower-secondary per commune, upper-secondary in towns."""
    rng = np.random.default_rng(seed + 11)
    pops = population_2019(communes)
    objs: list[School] = []
    ratio = {"mam_non": 15, "tieu_hoc": 20, "thcs": 18, "thpt": 20, "lien_cap": 16}
    size = {"mam_non": (150, 350), "tieu_hoc": (300, 700), "thcs": (400, 900), "thpt": (900, 1500),
            "lien_cap": (250, 600)}  # fmt: skip
    label = {"mam_non": "Mầm non", "tieu_hoc": "Tiểu học", "thcs": "THCS", "thpt": "THPT", "lien_cap": "Liên cấp"}
    biggest = sorted(communes, key=lambda c: -pops[c.code])
    for commune in communes:
        pop = pops[commune.code]
        plan = {"mam_non": 2 + pop // 12000, "tieu_hoc": 2 + math.ceil(pop / 13000), "thcs": 1}
        if commune in biggest[:4]:
            plan["thpt"] = 1
        if commune in biggest[:2]:
            plan["lien_cap"] = 1
            plan["mam_non"] += 2
        total = sum(plan.values())
        points = _points(commune, rng, total, 1300)
        for level, count in plan.items():
            for i in range(count):
                pupils = int(rng.integers(*size[level]))
                private = level == "lien_cap" or (level == "mam_non" and i >= 3)
                suffix = f" {i + 1}" if count > 1 else ""
                objs.append(
                    School(
                        name=f"Trường {label[level]} {'tư thục ' if private else ''}{_short(commune)}{suffix}",
                        level=level, ownership="private" if private else "public", pupils=pupils,
                        teachers=max(3, round(pupils / ratio[level] * rng.uniform(0.85, 1.15))),
                        classrooms=max(3, round(pupils / 32)), figures_year=2024, geom=points.pop(),
                        commune_id=commune.id, commune_code=commune.code, is_demo=True,
                    )
                )  # fmt: skip
    School.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def health_facilities(communes: list[Commune], seed: int) -> int:
    """25 facilities: a health station per commune, the district centre, two regional clinics, pharmacies."""
    rng = np.random.default_rng(seed + 12)
    pops = population_2019(communes)
    by_code = {c.code: c for c in communes}
    plan: list[tuple[Commune, str, str, tuple[int, int, int]]] = []
    for c in communes:
        plan.append(
            (c, "tram_y_te", f"Trạm Y tế {c.name.replace('Thị trấn', 'thị trấn').replace('Xã', 'xã')}", (5, 1, 6))
        )
    town = by_code.get("24931", communes[0])
    plan.append((town, "ttyt_huyen", "Trung tâm Y tế huyện Đơn Dương", (180, 38, 260)))
    plan.append((town, "benh_vien", "Bệnh viện Đa khoa tư nhân Đơn Dương", (60, 12, 90)))
    for code, title in [("24928", "Phòng khám Đa khoa khu vực D'Ran"), ("24943", "Phòng khám Đa khoa khu vực Ka Đô")]:
        plan.append((by_code.get(code, communes[0]), "pkdk_khu_vuc", title, (15, 4, 22)))
    for i, (code, n) in enumerate(sorted(_split(12, {k: float(v) for k, v in pops.items()}).items())):
        for j in range(n):
            plan.append(
                (by_code[code], "nha_thuoc", f"Nhà thuốc {names.GIVEN[(i * 5 + j) % len(names.GIVEN)]}", (0, 0, 2))
            )
    objs = []
    for commune, kind, title, (beds, doctors, staff) in plan:
        objs.append(
            HealthFacility(
                name=title, facility_type=kind, beds=beds, doctors=doctors, staff=staff,
                geom=_points(commune, rng, 1, 900)[0], commune_id=commune.id, commune_code=commune.code, is_demo=True,
            )
        )  # fmt: skip
    HealthFacility.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def household_businesses(communes: list[Commune], seed: int, today: dt.date, total: int = 3000) -> int:
    """3,000 registered household businesses, clustered in the villages."""
    rng = np.random.default_rng(seed + 13)
    split = _split(total, {k: float(v) for k, v in population_2019(communes).items()})
    objs = []
    number = 0
    start = dt.date(2005, 1, 1).toordinal()
    for commune in communes:
        points = _points(commune, rng, split[commune.code], 1000)
        for geom in points:
            number += 1
            line, short, tax = names.BUSINESS_LINES[int(rng.integers(len(names.BUSINESS_LINES)))]
            owner = _person(rng)
            status = rng.choice(["active", "suspended", "closed"], p=[0.85, 0.07, 0.08])
            objs.append(
                HouseholdBusiness(
                    name=f"{short} {owner.split()[-1]}", business_line=line,
                    registration_number=f"42D8{number:06d}",
                    registration_date=dt.date.fromordinal(int(rng.integers(start, today.toordinal()))),
                    status=status, monthly_tax=Decimal(int(tax * rng.uniform(0.5, 2.0) / 1000) * 1000),
                    owner_name=owner, owner_id_number=f"068{int(rng.integers(10**8, 10**9)):09d}",
                    owner_phone=f"09{int(rng.integers(10**7, 10**8)):08d}",
                    address=f"{rng.choice(names.VILLAGES)}, {commune.name}", geom=geom,
                    commune_id=commune.id, commune_code=commune.code, is_demo=True,
                )
            )  # fmt: skip
    HouseholdBusiness.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def petitions(communes: list[Commune], seed: int, today: dt.date, total: int = 5000) -> int:
    """5,000 petitions over the last 24 months: most resolved, recent ones open, some overdue."""
    from petitions.models import CategoryDeadline, Petition

    rng = np.random.default_rng(seed + 14)
    judge = np.random.default_rng(seed + 114)  # the officers' urgency labels (petition_texts.write_labelled)
    categories = list(names.PETITION_WEIGHTS)
    weights = np.array([names.PETITION_WEIGHTS[c] for c in categories], dtype=float)
    deadline = {c: CategoryDeadline.days_for(c) for c in categories}
    split = _split(total, {k: float(v) for k, v in population_2019(communes).items()})
    tz = timezone.get_current_timezone()
    now = timezone.now()
    first = dt.datetime.combine(today - dt.timedelta(days=730), dt.time(7), tzinfo=tz)
    has_source = any(f.name == "source" for f in Petition._meta.get_fields())
    has_urgency = any(f.name == "urgency" for f in Petition._meta.get_fields())
    objs = []
    for commune in communes:
        for geom in _points(commune, rng, split[commune.code], 1600):
            category = str(rng.choice(categories, p=weights / weights.sum()))
            received = first + dt.timedelta(days=int(rng.integers(0, 730)), hours=float(rng.uniform(0, 10)))
            due = received + dt.timedelta(days=deadline[category])
            status, resolved = _petition_outcome(rng, received, due, now)
            code = "PA-" + "".join(rng.choice(_ALPHABET, size=8))  # the draws in the order they always had
            text, urgency = petition_texts.write_labelled(category, rng, judge)
            extra = {"source": "demo"} if has_source else {}
            # An officer judges urgency when verifying: petitions nobody has looked at yet have none.
            if has_urgency:
                extra["urgency"] = "" if status == "received" else urgency
            objs.append(
                Petition(
                    tracking_code=code, category=category, description=text,
                    geom=geom, received_at=received, due_at=due, status=status, resolved_at=resolved,
                    reporter_name=_person(rng), reporter_phone=f"09{int(rng.integers(10**7, 10**8)):08d}",
                    commune_id=commune.id, commune_code=commune.code, is_demo=True, **extra,
                )
            )  # fmt: skip
    Petition.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def _petition_outcome(
    rng: np.random.Generator, received: dt.datetime, due: dt.datetime, now: dt.datetime
) -> tuple[str, dt.datetime | None]:
    allowed = (due - received).days
    took = dt.timedelta(days=float(rng.lognormal(math.log(allowed * 0.6), 0.5)))
    roll = rng.random()
    if received + took > now:  # not finished yet
        if roll < 0.04 and due < now:
            return "in_progress", None
        return str(rng.choice(["received", "verified", "assigned", "in_progress"])), None
    if roll < 0.04:
        return "rejected", None
    if roll < 0.07:
        return "duplicate", None
    if roll < 0.10:  # forgotten: open and overdue
        return str(rng.choice(["assigned", "in_progress"])), None
    return ("closed" if roll > 0.92 else "resolved"), received + took


def dossiers(communes: list[Commune], seed: int, today: dt.date, total: int = 20000) -> int:
    """20,000 administrative-procedure dossiers over 36 months (tabular: located by commune)."""
    rng = np.random.default_rng(seed + 15)
    split = _split(total, {k: float(v) for k, v in population_2019(communes).items()})
    weights = np.array(names.PROCEDURE_WEIGHTS, dtype=float)
    weights /= weights.sum()
    first = today.toordinal() - 1095
    objs = []
    for commune in communes:
        picks = rng.choice(len(names.PROCEDURES), size=split[commune.code], p=weights)
        days = rng.integers(0, 1096, size=len(picks))
        rolls = rng.random(size=len(picks))
        for pick, day, roll in zip(picks, days, rolls, strict=True):
            code, title, field, working_days = names.PROCEDURES[pick]
            received = dt.date.fromordinal(first + int(day))
            due = received + dt.timedelta(days=math.ceil(working_days * 7 / 5))
            status, resolved = _dossier_outcome(rng, float(roll), received, due, working_days, today)
            objs.append(
                Dossier(
                    procedure_code=code, procedure_name=title, field=field, received_date=received, due_date=due,
                    resolved_date=resolved, status=status, commune_id=commune.id, commune_code=commune.code,
                    is_demo=True,
                )
            )  # fmt: skip
    Dossier.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def _dossier_outcome(
    rng: np.random.Generator, roll: float, received: dt.date, due: dt.date, days: int, today: dt.date
) -> tuple[str, dt.date | None]:
    span = (due - received).days
    if roll < 0.86:
        resolved = received + dt.timedelta(days=int(rng.integers(0, span + 1)))
    elif roll < 0.95:
        resolved = due + dt.timedelta(days=int(rng.integers(1, 15)))
    elif roll < 0.97:
        resolved = received + dt.timedelta(days=int(rng.integers(0, min(span, 3) + 1)))
        return ("returned", resolved) if resolved <= today else ("processing", None)
    else:
        return ("processing" if days > 1 else "received"), None
    if resolved > today:
        return "processing", None
    return "resolved", resolved


def revenue(communes: list[Commune], seed: int, today: dt.date) -> int:
    """36 months of planned and collected revenue per commune and source (VND), ending this month."""
    rng = np.random.default_rng(seed + 16)
    per_capita_year = {"thue": 420_000, "phi_le_phi": 60_000, "dat_dai": 300_000, "khac": 45_000}
    spread = {"thue": 0.10, "phi_le_phi": 0.15, "dat_dai": 0.45, "khac": 0.30}
    pops = population_2019(communes)
    month0 = today.replace(day=1)
    months = [_add_months(month0, -k) for k in range(35, -1, -1)]
    objs = []
    for commune in communes:
        for month in months:
            season = 1.0 + 0.25 * math.cos((month.month - 12) / 12 * 2 * math.pi)  # year-end collection peak
            for source, per_capita in per_capita_year.items():
                planned = pops[commune.code] * per_capita / 12 * season
                actual = max(0.0, planned * rng.normal(1.0, spread[source]))
                objs.append(
                    BudgetRevenue(
                        month=month, source=source, planned=Decimal(round(planned, -3)),
                        actual=Decimal(round(actual, -3)), commune_id=commune.id, commune_code=commune.code,
                        is_demo=True,
                    )
                )  # fmt: skip
    BudgetRevenue.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)


def _add_months(day: dt.date, n: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def indicators(communes: list[Commune], seed: int, today: dt.date) -> int:
    """Ten years of socio-economic indicators per commune (the last ten complete years)."""
    rng = np.random.default_rng(seed + 17)
    years = list(range(today.year - 10, today.year))
    objs = []
    for commune in communes:
        poor0 = rng.uniform(7, 14)
        income0 = rng.uniform(28, 36)
        insured0 = rng.uniform(78, 86)
        crop = rng.uniform(0.25, 0.45)
        for k, year in enumerate(years):
            pop = population_in([commune], year)[commune.code]
            hh = pop / rng.uniform(3.7, 3.95)
            poor = max(0.6, poor0 * (0.83**k) + rng.normal(0, 0.3))
            values = {
                "population": (round(pop), "người"),
                "households": (round(hh), "hộ"),
                "poor_household_rate": (round(poor, 2), "%"),
                "near_poor_rate": (round(poor * rng.uniform(0.8, 1.2), 2), "%"),
                "income_per_capita": (round(income0 * 1.075**k, 1), "triệu đồng/năm"),
                "labour_force": (round(pop * rng.uniform(0.58, 0.63)), "người"),
                "crop_area": (round(commune.shape.area / 10_000 * crop * rng.uniform(0.95, 1.05)), "ha"),
                "health_insurance_rate": (round(min(99.0, insured0 + 1.3 * k), 1), "%"),
            }
            for code, (value, unit) in values.items():
                objs.append(
                    Indicator(
                        code=code, year=year, value=value, unit=unit, commune_id=commune.id,
                        commune_code=commune.code, is_demo=True,
                    )
                )  # fmt: skip
    Indicator.objects.bulk_create(objs, batch_size=BATCH)
    return len(objs)
