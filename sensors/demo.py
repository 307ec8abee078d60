"""Demo monitoring network (a `load_demo` step): eight stations of the district's environmental questions —
water quality of the Đa Nhim lake and river and a farm stream (pH, temperature, turbidity), air in Thạnh Mỹ
and among the greenhouses (PM2.5), rain, and the lake's level — with two years of hourly observations,
seeded, with daily and seasonal cycles (rainy season May–October) and a few pollution episodes.
Written with COPY (about 250,000 rows in seconds).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import TextIO

import numpy as np
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from gis_ioc.models import AdminUnit
from sensors.models import Datastream, Location, Observation, ObservedProperty, Sensor, Thing

SEED = 24931
HOURS = 2 * 365 * 24
# code: (name, definition, unit name, symbol, plausible min, max)
PROPERTIES = {
    "ph": ("pH", "http://vocab.nerc.ac.uk/collection/P01/current/PHXXZZXX/", "pH", "pH", 0.0, 14.0),
    "water_temperature": ("Nhiệt độ nước", "http://vocab.nerc.ac.uk/collection/P01/current/TEMPPR01/",
                          "độ C", "°C", -5.0, 50.0),
    "turbidity": ("Độ đục", "http://vocab.nerc.ac.uk/collection/P01/current/TURBXXXX/", "NTU", "NTU", 0.0, 4000.0),
    "pm25": ("Bụi PM2.5", "http://dd.eionet.europa.eu/vocabulary/aq/pollutant/6001", "microgam trên mét khối",
             "µg/m³", 0.0, 1000.0),
    "rain": ("Lượng mưa", "http://vocab.nerc.ac.uk/collection/P07/current/CFSN0052/", "milimét", "mm", 0.0, 500.0),
    "lake_level": ("Mực nước hồ", "http://vocab.nerc.ac.uk/collection/P01/current/ASLVZZ01/", "mét", "m",
                   900.0, 1100.0),
}  # fmt: skip
# (name, kind, commune, lon/lat offset from its centre, properties measured)
STATIONS = [
    ("Hồ Đa Nhim – đập chính", "nuoc", "24940", (0.004, 0.006), ("ph", "water_temperature", "turbidity")),
    ("Sông Đa Nhim – cầu Thạnh Mỹ", "nuoc", "24931", (0.002, -0.003), ("ph", "water_temperature", "turbidity")),
    ("Suối Ka Đô – vùng rau", "nuoc", "24943", (-0.004, 0.002), ("ph", "water_temperature", "turbidity")),
    ("Không khí Thị trấn Thạnh Mỹ", "khong_khi", "24931", (-0.002, 0.001), ("pm25",)),
    ("Không khí vùng nhà kính Lạc Lâm", "khong_khi", "24940", (-0.003, -0.004), ("pm25",)),
    ("Trạm đo mưa D'Ran", "mua", "24928", (0.003, 0.004), ("rain",)),
    ("Trạm đo mưa Ka Đơn", "mua", "24949", (0.002, -0.002), ("rain",)),
    ("Mực nước hồ Đa Nhim", "muc_nuoc", "24940", (0.005, 0.004), ("lake_level",)),
]


def _series(code: str, hours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Hourly values with a daily and a yearly cycle (hours counted from the first of the series)."""
    day = 2 * math.pi * (hours % 24) / 24
    start = timezone.localdate() - dt.timedelta(days=HOURS // 24)
    doy = (start.timetuple().tm_yday + hours / 24) % 365
    wet = ((doy > 120) & (doy < 300)).astype(float)  # rainy season, May to October
    year = 2 * math.pi * doy / 365
    noise = rng.normal(0, 1, size=hours.size)
    if code == "ph":
        return np.clip(7.2 + 0.25 * np.sin(day - 1.5) - 0.3 * wet + 0.08 * noise, 5.5, 9.0)
    if code == "water_temperature":
        return 21 + 2.5 * np.sin(year - 1.6) + 1.2 * np.sin(day - 2.0) + 0.3 * noise
    if code == "turbidity":
        spikes = (rng.random(hours.size) < 0.004 * (1 + 3 * wet)) * rng.uniform(40, 400, hours.size)
        return np.clip(8 + 15 * wet + 3 * noise + spikes, 0.5, 3000)
    if code == "pm25":
        # Drier months and evenings burn crop residue: higher; a few episodes above 50 µg/m³.
        episodes = (rng.random(hours.size) < 0.003) * rng.uniform(30, 90, hours.size)
        return np.clip(18 + 10 * (1 - wet) + 8 * np.sin(day + 0.5) + 4 * noise + episodes, 2, 400)
    if code == "rain":
        raining = rng.random(hours.size) < (0.04 + 0.16 * wet)
        return np.round(raining * rng.gamma(1.2, 3.5, hours.size), 1)
    if code == "lake_level":
        return 1040 + 3.5 * np.sin(year - 2.6) + 0.05 * noise
    raise ValueError(code)


def load(stdout: TextIO, reset: bool = False) -> None:
    """Create the stations and their observations unless demo stations exist."""
    if reset:
        clear()
    if Thing.objects.filter(is_demo=True).exists():
        stdout.write(f"  monitoring-stations    đã có / already loaded ({Observation.objects.count():,} quan trắc)")
        return
    communes = {u.code: u for u in AdminUnit.objects.current().communes()}
    if not communes:
        return
    rng = np.random.default_rng(SEED)
    started = timezone.now()
    with transaction.atomic():
        props = {}
        for code, (name, definition, _unit, _symbol, low, high) in PROPERTIES.items():
            props[code], _new = ObservedProperty.objects.get_or_create(
                code=code, defaults={"name": name, "definition": definition, "min_value": low, "max_value": high}
            )
        sensor, _new = Sensor.objects.get_or_create(
            name="Trạm tự động (mẫu)", defaults={"description": "Thiết bị quan trắc tự động, dữ liệu mẫu"}
        )
        end = timezone.now().replace(minute=0, second=0, microsecond=0)
        first = end - dt.timedelta(hours=HOURS - 1)
        hours = np.arange(HOURS)
        buffer = io.StringIO()
        rows = 0
        for name, kind, code, (dx, dy), measured in STATIONS:
            unit = communes.get(code)
            if unit is None:
                continue
            centre = unit.geom.point_on_surface
            point = Point(centre.x + dx, centre.y + dy, srid=4326)
            if not unit.geom.covers(point):
                point = centre
            thing = Thing(name=name, kind=kind, geom=point, is_demo=True, description="Trạm mẫu / demo station")
            thing.save()
            Location.objects.create(thing=thing, name=name, geom=point)
            for prop_code in measured:
                label, _d, unit_name, symbol, _lo, _hi = PROPERTIES[prop_code]
                stream = Datastream.objects.create(
                    thing=thing, sensor=sensor, observed_property=props[prop_code], name=f"{label} – {name}",
                    unit_name=unit_name, unit_symbol=symbol,
                )  # fmt: skip
                values = _series(prop_code, hours, rng)
                for h, value in zip(hours, values, strict=True):
                    when = first + dt.timedelta(hours=int(h))
                    buffer.write(
                        f"{stream.pk}\t{when.isoformat()}\t{value:.3f}\t{when.isoformat()}\t{thing.commune_id}\t"
                        f"{thing.commune_code}\tt\t{started.isoformat()}\t{started.isoformat()}\n"
                    )
                rows += HOURS
        buffer.seek(0)
        columns = ("datastream_id, phenomenon_time, result, result_time, commune_id, commune_code, is_demo, "
                   "created_at, updated_at")  # fmt: skip
        with connection.cursor() as cursor:
            with cursor.copy(f"COPY sensors_observation ({columns}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            cursor.execute("ANALYZE sensors_observation")
        _record_change()
    took = (timezone.now() - started).total_seconds()
    stdout.write(f"  monitoring-stations    {len(STATIONS)} trạm, {rows:,} quan trắc / observations   {took:5.1f} s")


def _record_change() -> None:
    from layers.models import Layer

    Layer.objects.record_change(Thing)
    Layer.objects.record_change(Observation)


def clear() -> None:
    """Delete the demo stations (their locations, datastreams and observations go with them)."""
    with transaction.atomic():
        demo = Observation.objects.filter(is_demo=True)
        demo._raw_delete(demo.db)  # 250,000 rows: one DELETE, not the ORM collector
        Thing.objects.filter(is_demo=True).delete()
        _record_change()
