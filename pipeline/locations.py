"""Where a facility may be shown on the public map, and how it may be reached.

A facility that holds children in temporary custody (儿童福利机构, 未成年人救助
保护中心) is never published with an address, a point, a capacity or its own
telephone number: its row names the county's public contact instead (a
county_contacts row: the civil-affairs switchboard or the 12345 line). Hiding
the custody site is not enough if what is published around it gives it away:

- a name can be an address: 「某县社会福利中心儿童部」 names a building anyone can
  find, and so does 「某县社会福利中心特教班」 for a class the policy puts inside a
  welfare institution (儿童福利机构特教班, 四(一)) or one the county says sits in a
  custody facility (所在机构编号). Custody facilities and what sits in them are
  published under the generic name of their type in their county (「某县儿童福利机构」),
  with the county's contact, and no capacity;
- a neighbour's point says where the custody site is not, and a reason such as
  "within 500 m of a custody facility" says where it is. So no point or address
  is published for any facility in a *protected township*: the township of a
  custody facility (already public in that facility's own row), or a township
  with a facility within EXCLUSION_METRES of one. Every facility of such a
  township is withheld alike, whatever its distance, and one reason is published
  for all of them (`withheld`), so the pattern says no more than the custody
  facility's own row: which township it is in. The one residual signal, a whole
  township withheld because one of its facilities lies within a kilometre of a
  custody site across the border, is stated in the README.

A later release's rules apply to every release still served (redaction.py), so
that the points of earlier releases cannot be used to undo them.
"""

import math
from collections import defaultdict

EXCLUSION_METRES = 1_000
EARTH_RADIUS_METRES = 6_371_000
WITHHELD, NOT_GIVEN = "withheld", "not_given"
CELL_DEGREES = 0.01  # grid cells of the spatial index: about 1.1 km north-south


def distance_metres(a, b):
    """Great-circle distance between two (latitude, longitude) points in WGS-84 degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(h))


def point(row):
    if row.get("latitude") is None or row.get("longitude") is None:
        return None
    return (float(row["latitude"]), float(row["longitude"]))


class Grid:
    """Points bucketed in cells of CELL_DEGREES, so that finding the points near one looks at
    nine cells instead of every point: the co-location rule costs time in proportion to the
    number of facilities, not its square (a nation has tens of thousands)."""

    def __init__(self, points):
        self.cells = defaultdict(list)
        for p in points:
            self.cells[self.cell(p)].append(p)

    @staticmethod
    def cell(p):
        return (math.floor(p[0] / CELL_DEGREES), math.floor(p[1] / CELL_DEGREES))

    def near(self, p, metres):
        """Whether any point lies within `metres` of p (metres up to about a kilometre)."""
        # A cell is 1.1 km north-south and at least 0.9 km east-west up to latitude 35°;
        # for wider distances or latitudes, look further out.
        reach = 1 + int(metres / (111_000 * CELL_DEGREES * max(math.cos(math.radians(p[0])), 0.1)))
        row, column = self.cell(p)
        for dr in range(-reach, reach + 1):
            for dc in range(-reach, reach + 1):
                for other in self.cells.get((row + dr, column + dc), ()):
                    if distance_metres(p, other) < metres:
                        return True
        return False


def custody_rows(rows, custody_types, housed_in):
    """Rows of facilities that hold children in custody or sit inside one."""
    custody_ids = {r["facility_id"] for r in rows if r["facility_type"] in custody_types}
    return {
        r["facility_id"]
        for r in rows
        if r["facility_type"] in custody_types
        or housed_in.get(r["facility_type"]) in custody_types
        or (r.get("host_facility_id") and r["host_facility_id"] in custody_ids)
    }


def protected_townships(rows, custody_types):
    """Townships of custody facilities, and of any facility within EXCLUSION_METRES of one."""
    custody = [r for r in rows if r["facility_type"] in custody_types]
    townships = {r["township_code"] for r in custody}
    grid = Grid(p for p in map(point, custody) if p is not None)
    for row in rows:
        here = point(row)
        if here is not None and grid.near(here, EXCLUSION_METRES):
            townships.add(row["township_code"])
    return townships


def generic_names(rows, type_names, county_names):
    """{facility id: the name of its type in its county}, numbered where a county has several
    of one type (「某县特教班（2）」), in the order of their ids."""
    seen, out = defaultdict(int), {}
    for row in sorted(rows, key=lambda r: r["facility_id"]):
        base = f"{county_names[row['county_code']]}{type_names[row['facility_type']]}"
        seen[base] += 1
        out[row["facility_id"]] = base
        if seen[base] > 1:
            out[row["facility_id"]] = f"{base}（{seen[base]}）"
    return out


def publishable_rows(rows, custody_types, housed_in, contacts, type_names, county_names):
    """The facility rows as they may be published.

    `rows` are every checked facility of every county, with the submitted point;
    `housed_in` maps a facility type to the type it is housed inside, if any;
    `contacts` maps a county code to its public contact ({"name", "phone"});
    `type_names` a type code to its Chinese name; `county_names` a county code to its name.
    """
    protected = protected_townships(rows, custody_types)
    inside = custody_rows(rows, custody_types, housed_in)
    generic = generic_names(
        [r for r in rows if r["facility_id"] in inside], type_names, county_names
    )
    out = []
    for row in rows:
        custody = row["facility_id"] in inside
        if custody or row["township_code"] in protected:
            reason = WITHHELD
        elif point(row) is None:
            reason = NOT_GIVEN
        else:
            reason = None
        contact = contacts.get(row["county_code"], {}) if custody else {}
        out.append(
            {
                **row,
                "name": generic.get(row["facility_id"], row["name"]),
                "address": None if reason == WITHHELD else row.get("address"),
                "latitude": row.get("latitude") if reason is None else None,
                "longitude": row.get("longitude") if reason is None else None,
                "capacity": None if custody else row.get("capacity"),
                "hotline": contact.get("phone") if custody else row.get("hotline"),
                "hotline_owner": contact.get("name") if custody else None,
                "location_precision": "point" if reason is None else "area_only",
                "location_withheld": reason,
            }
        )
    return out


def withheld_now(old_rows, current_rows, custody_points, protected):
    """Which facility rows of an earlier release the current rules withhold more of, and how:
    {facility_id: the fields to blank or replace}.

    A facility still published takes the current decisions; one that is gone is judged by its
    old point against today's custody sites and protected townships."""
    current = {r["facility_id"]: r for r in current_rows}
    grid = Grid(custody_points)
    changes = {}
    for old in old_rows:
        now = current.get(old["facility_id"])
        fields = {}
        if now is not None:
            for name in ("address", "latitude", "longitude", "capacity"):
                if now.get(name) is None and old.get(name) is not None:
                    fields[name] = None
            for name in ("hotline", "name"):
                if now.get("hotline_owner") and old.get(name) != now.get(name):
                    fields[name] = now.get(name)
            if now.get("hotline_owner") and old.get("hotline_owner") != now["hotline_owner"]:
                fields["hotline_owner"] = now["hotline_owner"]
        else:
            here = point(old)
            if old["township_code"] in protected or (
                here is not None and grid.near(here, EXCLUSION_METRES)
            ):
                fields = {n: None for n in ("address", "latitude", "longitude") if old.get(n)}
        if old.get("location_withheld") not in (None, NOT_GIVEN, WITHHELD):
            fields["location_withheld"] = WITHHELD  # an older release's reason may locate
        if fields:
            if fields.get("latitude", 0) is None or fields.get("longitude", 0) is None:
                fields["location_precision"] = "area_only"
                fields["location_withheld"] = WITHHELD
            changes[old["facility_id"]] = fields
    return changes
