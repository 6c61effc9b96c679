"""Where a facility may be shown on the public map.

A facility that holds children in temporary custody (儿童福利机构, 未成年人救助
保护中心) is never published with an address, a point or a capacity. Hiding it
is not enough if a neighbour gives it away: a special-education class inside
the welfare centre, or a rehabilitation centre next door, published at a
5-decimal point, shows where the custody site is. So a facility is published
at township level only (no address, point or capacity) when

1. its type holds children in custody;
2. its type is, by the policy's own wording, housed inside a custody facility
   (儿童福利机构特教班, 四(一)): reference table facility_types, `housed_in`;
3. the county says it is inside another facility (所在机构编号) that holds
   children in custody; or
4. its point lies within CO_LOCATION_METRES of a custody facility's point, in
   any county (the custody point is used here and published nowhere).

The reason is published (`location_withheld`) so that a reader knows why a
point is missing; it names no other facility.
"""

import math

CO_LOCATION_METRES = 500
EARTH_RADIUS_METRES = 6_371_000
CUSTODY, HOUSED_IN_CUSTODY, NEAR_CUSTODY, NOT_GIVEN = (
    "custody",
    "housed_in_custody",
    "near_custody",
    "not_given",
)


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
    return (row["latitude"], row["longitude"])


def withheld_reason(row, custody_types, housed_in, custody_points, custody_ids):
    """Why this facility's location must not be published, or None if it may be."""
    if row["facility_type"] in custody_types:
        return CUSTODY
    if housed_in.get(row["facility_type"]) in custody_types:
        return HOUSED_IN_CUSTODY
    if row.get("host_facility_id") and row["host_facility_id"] in custody_ids:
        return HOUSED_IN_CUSTODY
    here = point(row)
    if here is None:
        return NOT_GIVEN
    if any(distance_metres(here, there) < CO_LOCATION_METRES for there in custody_points):
        return NEAR_CUSTODY
    return None


def publishable_rows(rows, custody_types, housed_in):
    """The facility rows as they may be published: location withheld where a rule says so.

    `rows` are every checked facility of every county, with the submitted point;
    `housed_in` maps a facility type to the type it is housed inside, if any.
    """
    custody = [r for r in rows if r["facility_type"] in custody_types]
    custody_points = [p for p in map(point, custody) if p is not None]
    custody_ids = {r["facility_id"] for r in custody}
    out = []
    for row in rows:
        reason = withheld_reason(row, custody_types, housed_in, custody_points, custody_ids)
        shown = reason is None
        described = reason in (None, NOT_GIVEN)  # no point given: nothing to hide
        out.append(
            {
                **row,
                "address": row.get("address") if described else None,
                "latitude": row.get("latitude") if shown else None,
                "longitude": row.get("longitude") if shown else None,
                "capacity": row.get("capacity") if described else None,
                "location_precision": "point" if shown else "area_only",
                "location_withheld": reason,
            }
        )
    return out
