"""Sketch maps (示意图) as SVG: county outlines, a choropleth, points of facilities.

The outlines are simplified (sources/divisions/SOURCE.md) and every map says it
is a sketch: a map of administrative boundaries shown to the public in China
needs a map-review number (审图号), which a sketch on this portal does not have.
A plain equirectangular projection, scaled by the cosine of the latitude, is
close enough over one prefecture.
"""

import json
import math
from html import escape

from .charts import esc, open_svg

WIDTH = 340


class Projection:
    def __init__(self, bounds, width=WIDTH, margin=8):
        west, south, east, north = bounds
        self.west, self.north = west, north
        self.scale_x = math.cos(math.radians((south + north) / 2))
        span_x = (east - west) * self.scale_x
        span_y = north - south
        self.factor = (width - 2 * margin) / span_x
        self.margin = margin
        self.width = width
        self.height = span_y * self.factor + 2 * margin

    def __call__(self, lon, lat):
        x = self.margin + (lon - self.west) * self.scale_x * self.factor
        y = self.margin + (self.north - lat) * self.factor
        return x, y


def polygons(geometry):
    shape = json.loads(geometry) if isinstance(geometry, str) else geometry
    return shape["coordinates"] if shape["type"] == "MultiPolygon" else [shape["coordinates"]]


def bounds(outlines, pad=0.02):
    points = [pt for shape in outlines for polygon in shape for ring in polygon for pt in ring]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def path(shape, project):
    parts = []
    for polygon in shape:
        for ring in polygon:
            coords = [project(lon, lat) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in coords) + "Z")
    return "".join(parts)


def choropleth(counties, title, description, link=None):
    """The prefecture's counties, each filled by its class ("meets", "below" or "none"), with
    its name and figure, each a link to the county's page. `counties`: dicts with code, name,
    boundary, label_longitude, label_latitude, css, caption."""
    shapes = [polygons(c["boundary"]) for c in counties if c.get("boundary")]
    if not shapes:
        return ""
    project = Projection(bounds(shapes))
    parts = open_svg(project.width, project.height, title, description, "map choropleth")
    parts[0] = parts[0].replace('role="img" ', 'role="group" ')
    for county in counties:
        if not county.get("boundary"):
            continue
        shape = polygons(county["boundary"])
        x, y = project(county["label_longitude"], county["label_latitude"])
        name = f"{county['name']}：{county['caption']}"
        body = (
            f'<path d="{path(shape, project)}" class="county {county["css"]}"/>'
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" class="name">{esc(county["name"])}</text>'
            f'<text x="{x:.1f}" y="{y + 15:.1f}" text-anchor="middle" class="figure">{esc(county["caption"])}</text>'
        )
        if link:
            parts.append(
                f'<a href="{escape(link(county), quote=True)}" aria-label="{esc(name)}">{body}</a>'
            )
        else:
            parts.append(f"<g>{body}</g>")
    parts.append("</svg>")
    return "".join(parts)


def facility_map(outline, neighbours, points, title, description):
    """One county's outline (and its neighbours', faint) with numbered facility points.
    `points`: dicts with number, longitude, latitude, css."""
    shape = polygons(outline)
    project = Projection(bounds([shape], pad=0.03))
    parts = open_svg(project.width, project.height, title, description, "map facilities")
    for other in neighbours:
        parts.append(f'<path d="{path(polygons(other), project)}" class="neighbour"/>')
    parts.append(f'<path d="{path(shape, project)}" class="county focus"/>')
    for point in points:
        x, y = project(point["longitude"], point["latitude"])
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="9" class="point {point["css"]}"/>'
            f'<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" class="number">'
            f"{point['number']}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def distance_km(a, b):
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(math.sqrt(h))
