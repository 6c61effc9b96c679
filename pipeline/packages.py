"""Steps 3 and 5 of a build: write the data packages into the staging folder, and validate them.

One folder per package (schemas/packages.yaml), one CSV per table, each written
by publish.TableWriter in a fixed order so that the same inputs give the same
bytes; then every package is validated with Frictionless against the schema it
carries before anything is published.
"""

import csv
from pathlib import Path

from frictionless import Package

from . import locations, parallel, schemas
from .divisions import prefecture_of
from .intake import names_of
from .paths import PREFECTURE_CODE, SAMPLE_PHONE
from .problems import Problem, from_report
from .publish import TableWriter, package_descriptor, write_descriptor


def table(folder, name, rows, schema=None):
    """Write one table; return its resource descriptor."""
    folder.mkdir(parents=True, exist_ok=True)
    return (
        TableWriter(folder, name, schema or schemas.resource_schema(name)).write_all(rows).close()
    )


def county_contacts(lookups, geo):
    """{county code: {"name", "phone"}}: each county's public contact (reference table
    county_contacts), the prefecture's row standing in for a county without one of its own."""
    rows = {r["county_code"]: r for r in lookups["tables"]["county_contacts"]}
    out = {}
    for county in geo.counties:
        row = rows.get(county) or rows.get(prefecture_of(county)) or rows.get(PREFECTURE_CODE)
        if row:
            out[county] = {"name": row["contact_name"], "phone": row["phone"]}
    return out


def facility_rows(intake):
    """The facilities as they may be published (pipeline/locations.py), with names beside codes."""
    lookups, geo = intake.lookups, intake.geo
    type_names = {code: name for name, code in lookups["facility_type_codes"].items()}
    rows = locations.publishable_rows(
        intake.facilities,
        lookups["custody_types"],
        lookups["housed_in"],
        county_contacts(lookups, geo),
        type_names,
        {code: c["name"] for code, c in geo.counties.items()},
    )
    if intake.sample:
        rows = [
            {**row, "hotline": masked(row["hotline"])} if not row.get("hotline_owner") else row
            for row in rows
        ]
    return sorted(
        (
            {**row, **names_of(row, geo), "facility_type_name": type_names[row["facility_type"]]}
            for row in rows
        ),
        key=lambda r: r["facility_id"],
    )


def masked(hotline):
    """A sample telephone number as the portal shows it: 「0878-*****23（示例号码，不能拨打）」."""
    if not hotline:
        return hotline
    area, _, local = hotline.rpartition("-")
    local = "*" * max(len(local) - 2, 0) + local[-2:]
    return f"{area}-{local}{SAMPLE_PHONE}" if area else f"{local}{SAMPLE_PHONE}"


def progress_rows(intake):
    lookups = intake.lookups
    titles = {t["task_no"]: t["title"] for t in lookups["tables"]["tasks"]}
    rows = [
        {
            **row,
            "task_title": titles[row["task_no"]],
            "unit_name": lookups["unit_names"][row["unit_code"]],
        }
        for row in intake.progress_rows
    ]
    return sorted(rows, key=lambda r: (r["period"], r["task_no"], r["unit_code"]))


def write_all(out, intake, children):
    """Every package but `releases`: {package: descriptor}, and the published facility rows.
    The children's counts were staged by protection.py; their audit goes in the descriptor."""
    audit = children.audit
    spec = schemas.packages()
    geo = intake.geo
    facilities = facility_rows(intake)
    resources = {
        "coverage": [
            intake.coverage_resource,
            table(
                out / "coverage",
                "coverage_by_area",
                intake.tally.rows(geo, intake.lookups["targets"], intake.notice),
            ),
        ],
        "children": [children.resource],
        "facilities": [table(out / "facilities", "facilities", facilities)],
        "progress": [table(out / "progress", "task_progress", progress_rows(intake))],
        "reference": [
            table(
                out / "reference",
                r["name"],
                intake.lookups["tables"][r["name"]],
                schemas.load(r["schema"]),
            )
            for r in spec["packages"]["reference"]["resources"]
        ],
        "divisions": [
            table(out / "divisions", "counties", (geo.counties[c] for c in sorted(geo.counties))),
            table(
                out / "divisions", "townships", (geo.townships[c] for c in sorted(geo.townships))
            ),
            table(out / "divisions", "villages", (geo.villages[c] for c in sorted(geo.villages))),
        ],
    }
    descriptors = {
        name: describe(out, name, resources[name], intake, audit)
        for name in spec["packages"]
        if name != "releases"
    }
    return descriptors, facilities


def custody_sites(intake):
    """(points of the custody facilities, protected townships), for redaction.py: kept only in
    memory, never published."""
    custody = [
        r for r in intake.facilities if r["facility_type"] in intake.lookups["custody_types"]
    ]
    points = [p for p in map(locations.point, custody) if p is not None]
    return points, locations.protected_townships(intake.facilities, intake.lookups["custody_types"])


def describe(out, name, resources, intake, audit):
    """Write a package's datapackage.json; return the descriptor."""
    spec = schemas.packages()
    package_spec = spec["packages"][name]
    descriptor = package_descriptor(
        name,
        package_spec,
        resources,
        sample=intake.sample and package_spec.get("from_submissions", False),
        as_of=intake.as_of,
        policy_source=spec["policy_source"],
        licenses=spec["licenses"],
    )
    if name == "children":
        descriptor["disclosure_audit"] = audit.summary(audit.digest)
    write_descriptor(out / name, descriptor)
    return descriptor


LARGE_TABLE_BYTES = 100 * 1024 * 1024


def keys_unique(path, key_fields, order, package):
    """Problems for rows out of their declared order, or with a primary key seen before (which,
    in order, is the row just before)."""
    last, problems = None, []
    with open(path, encoding="utf-8", newline="") as f:
        for number, row in enumerate(csv.DictReader(f), start=2):
            position = tuple(row[k] for k in order)
            broken = None
            if last is not None and position < last:
                broken = ("行的顺序不对", "rows out of their declared order")
            elif position == last and set(key_fields) <= set(order):
                broken = ("主键重复", "duplicate primary key")
            if broken:
                problems.append(
                    Problem(
                        f"data/{package}/{Path(path).name}",
                        "primary-key",
                        f"发布前校验失败（程序错误，请报告）：{broken[0]}",
                        f"the package failed validation before publishing (a bug): {broken[1]}",
                        row=number,
                        value="|".join(row[k] for k in key_fields),
                    )
                )
                if len(problems) >= 100:
                    break
            last = position
    return problems


def validate(out, processes=1, ticker=None, background=False):
    """Problems Frictionless finds in the staged packages (none, unless the build has a bug).

    Every table is validated once, with the schema its package carries (types, constraints,
    primary key, and foreign keys to the other tables of its package), one table per process,
    the largest first. With `background`, returns a parallel.Background at once (the build
    makes the database meanwhile); its results() are lists of problems."""
    items = []
    for name in schemas.packages()["packages"]:
        package = Package(str(out / name / "datapackage.json"))
        for resource in package.resources:
            items.append((resource.bytes or 0, name, resource.name))
    items.sort(key=lambda item: (-item[0], item[1], item[2]))
    orders = {
        r["name"]: r["order"]
        for p in schemas.packages()["packages"].values()
        for r in p["resources"]
        if r.get("order")
    }
    if ticker:
        ticker.unit = "张表 tables"

    def check(item):
        size, name, resource = item
        package = Package(str(out / name / "datapackage.json"))
        table = package.get_resource(resource)
        problems = []
        order = orders.get(resource)
        if size > LARGE_TABLE_BYTES and table.schema.primary_key and order:
            # Frictionless remembers every key it has seen to find duplicates: for a nation's
            # five million coverage rows that is a gigabyte. The build writes such a table
            # in a declared order (packages.yaml), so a duplicate sits next to its twin:
            # the order and the keys are checked here in one pass.
            problems += keys_unique(out / name / table.path, table.schema.primary_key, order, name)
            table.schema.primary_key = []
        report = table.validate()
        return problems + from_report(
            report,
            f"data/{name}",
            "发布前校验失败（程序错误，请报告）：",
            "the package failed validation before publishing (a bug): ",
        )

    if background:
        return parallel.Background(check, items, processes)
    problems = []
    for found in parallel.ordered_map(check, items, processes, ticker=ticker):
        problems += found
    return problems
