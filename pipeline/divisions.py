"""The administrative hierarchy (prefecture > county > township > village) in memory.

Submissions are checked against it and counts are rolled up along it. The
divisions come from the committed extract in sources/divisions/ (or, for the
synthetic benchmark sets, from the folder the generator wrote).
"""

import csv
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .paths import DIVISIONS_SOURCES, PREFECTURE_CODE, PREFECTURE_NAME


@dataclass
class Divisions:
    counties: dict = field(default_factory=dict)  # code -> row
    townships: dict = field(default_factory=dict)  # code -> row
    villages: dict = field(default_factory=dict)  # code -> row
    villages_by_county: dict = field(default_factory=dict)  # county code -> [village codes]
    townships_by_county: dict = field(default_factory=dict)  # county code -> [township codes]

    def area_name(self, level, code):
        if level == "prefecture":
            return PREFECTURE_NAME if code == PREFECTURE_CODE else f"合成地区{code}"
        table = self.counties if level == "county" else self.townships
        return table[code]["name"]

    def parent_of(self, level, code):
        """The (level, code) an area's counts add up into, or None for a prefecture."""
        if level == "township":
            return ("county", self.townships[code]["county_code"])
        if level == "county":
            return ("prefecture", prefecture_of(code))
        return None


class Village:
    """One village or residents' committee, kept small: a nation has 600,000 of them, and a
    dict per row would take half a gigabyte in the build and again in each worker. Read like
    the CSV row it came from (village["name"], village.get("township_code"))."""

    __slots__ = ("village_code", "township_code", "county_code", "name", "kind", "code_system")

    def __init__(self, row):
        self.village_code = row["village_code"]
        # The codes of townships and counties and the two kinds repeat: one string each.
        self.township_code = sys.intern(row["township_code"])
        self.county_code = sys.intern(row["county_code"])
        self.name = row["name"]
        self.kind = sys.intern(row["kind"])
        self.code_system = sys.intern(row.get("code_system") or "")

    def __getitem__(self, key):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key, default=None):
        return getattr(self, key, default)


def prefecture_of(county_code):
    """Prefecture code of a county: its first four digits and 00 (532301 -> 532300).

    The synthetic benchmark sets are several prefectures side by side; this
    keeps each one's counts apart.
    """
    return county_code[:4] + "00"


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


def load(folder=DIVISIONS_SOURCES):
    folder = Path(folder)
    divisions = Divisions()
    seats = {}
    if (folder / "county_seats.csv").exists():
        seats = {row["county_code"]: row for row in read_csv(folder / "county_seats.csv")}
    outlines = {}
    if (folder / "county_boundaries.geojson").exists():
        collection = json.loads((folder / "county_boundaries.geojson").read_text("utf-8"))
        outlines = {f["properties"]["county_code"]: f for f in collection["features"]}
    for row in read_csv(folder / "counties.csv"):
        seat = seats.get(row["county_code"], {})
        outline = outlines.get(row["county_code"])
        divisions.counties[row["county_code"]] = {
            **row,
            "seat_name": seat.get("seat_name") or None,
            "latitude": float(seat["latitude"]) if seat.get("latitude") else None,
            "longitude": float(seat["longitude"]) if seat.get("longitude") else None,
            "coordinate_source": (
                "项目根据公开地图整理的县市政府驻地约略位置(WGS-84,0.01度)" if seat else None
            ),
            "former_code": seat.get("former_code") or None,
            "former_name": seat.get("former_name") or None,
            "change_note": seat.get("change_note") or None,
            "label_longitude": outline["properties"]["label_longitude"] if outline else None,
            "label_latitude": outline["properties"]["label_latitude"] if outline else None,
            "boundary": json.dumps(outline["geometry"], separators=(",", ":")) if outline else None,
        }
        divisions.villages_by_county[row["county_code"]] = []
        divisions.townships_by_county[row["county_code"]] = []
    for row in read_csv(folder / "townships.csv"):
        divisions.townships[row["township_code"]] = row
        divisions.townships_by_county[row["county_code"]].append(row["township_code"])
    for row in read_csv(folder / "villages.csv"):
        village = Village(row)
        divisions.villages[village.village_code] = village
        divisions.villages_by_county[village.county_code].append(village.village_code)
    return divisions
