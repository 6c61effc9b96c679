"""County outlines, and whether a submitted point lies in its county.

Pure Python on purpose: the officers' checker runs this code on county office
computers, and a point-in-polygon test and a distance to an edge are a dozen
lines, where a geometry library would add compiled packages for every
Windows Python to the checker's download. The outlines are simplified sketches
(sources/divisions/SOURCE.md), so a point is accepted within TOLERANCE_METRES
outside its county's outline.
"""

import json
import math
from functools import cache
from pathlib import Path

from .paths import DIVISIONS_SOURCES

BOUNDARIES = "county_boundaries.geojson"
TOLERANCE_METRES = 2_000
METRES_PER_DEGREE = 111_320


@cache
def load(folder=DIVISIONS_SOURCES):
    """{county code: (name, [polygon as [ring as [(lon, lat)]]])}; empty when there is no file."""
    path = Path(folder) / BOUNDARIES
    if not path.exists():
        return {}
    collection = json.loads(path.read_text("utf-8"))
    out = {}
    for feature in collection["features"]:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        out[feature["properties"]["county_code"]] = (
            feature["properties"]["name"],
            [[[tuple(point) for point in ring] for ring in polygon] for polygon in polygons],
        )
    return out


def in_ring(point, ring):
    """Ray casting: does a horizontal ray from the point cross the ring an odd number of times?"""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def contains(polygons, point):
    """Inside one of the polygons and outside its holes."""
    return any(
        in_ring(point, polygon[0]) and not any(in_ring(point, hole) for hole in polygon[1:])
        for polygon in polygons
    )


def segment_metres(point, a, b):
    """Distance from a point to a segment, on a local flat projection (fine over a county)."""
    scale = math.cos(math.radians(point[1]))

    def flat(p):
        return (
            (p[0] - point[0]) * scale * METRES_PER_DEGREE,
            (p[1] - point[1]) * METRES_PER_DEGREE,
        )

    (ax, ay), (bx, by) = flat(a), flat(b)
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
    return math.hypot(ax + t * dx, ay + t * dy)


def distance_metres(polygons, point):
    """0 inside, else the distance to the nearest edge."""
    if contains(polygons, point):
        return 0.0
    return min(
        segment_metres(point, a, b)
        for polygon in polygons
        for ring in polygon
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def county_at(boundaries, point):
    """The code of the county whose outline holds the point, or None."""
    for code, (_, polygons) in boundaries.items():
        if contains(polygons, point):
            return code
    return None
