"""The policy's reference data: validated as a Frictionless package, then indexed for the rules.

The CSVs in sources/reference/ are transcribed from the policy by hand; the
schemas in schemas/reference/ hold their keys and constraints. A broken
transcription stops the build like a broken submission does.
"""

from frictionless import Package, Resource, Schema

from . import schemas
from .paths import REFERENCE_SOURCES, SOURCES
from .problems import from_report


def validate_package(resources_spec, source_folder, file_prefix):
    """Validate CSVs as one package (so foreign keys between them are checked)."""
    resources = [
        Resource(
            path=spec["file"],
            name=spec["name"],
            schema=Schema.from_descriptor(spec["schema"]),
            encoding="utf-8",
        )
        for spec in resources_spec
    ]
    package = Package(resources=resources, basepath=str(source_folder))
    problems = from_report(package.validate(), file_prefix)
    tables = {}
    if not problems:
        for resource in package.resources:
            with resource:
                tables[resource.name] = [row.to_dict() for row in resource.row_stream]
    return tables, problems


def load():
    """({table: rows}, problems) for every reference table."""
    spec = schemas.packages()["packages"]["reference"]["resources"]
    resources = [
        {
            "name": r["name"],
            "schema": schemas.load(r["schema"]),
            "file": r["source"].split("/", 1)[1],
        }
        for r in spec
    ]
    return validate_package(
        resources, REFERENCE_SOURCES, str(REFERENCE_SOURCES.relative_to(SOURCES))
    )


def task_roles(tables):
    """(role_of(task, unit, period), expected_reporters(period)) with the units' successors.

    A unit renamed in a reform (州卫计委 -> 州卫健委) carries its roles over from the
    year of the change; a unit that took over part of a task's work (州医保局, task 2)
    may report on that task as a partner. Reports under the annex's own names stay valid.
    """
    roles = {(r["task_no"], r["unit_code"]): r["role"] for r in tables["task_units"]}
    changes = tables["unit_changes"]

    def role_of(task, unit, period):
        if (task, unit) in roles:
            return roles[(task, unit)]
        for change in changes:
            if change["successor_code"] != unit or period < change["year"]:
                continue
            if change["kind"] == "renamed" and (task, change["unit_code"]) in roles:
                return roles[(task, change["unit_code"])]
            tasks = {int(n) for n in (change["tasks"] or "").split(",") if n.strip()}
            if change["kind"] == "function_transferred" and task in tasks:
                return "partner"
        return None

    def expected_reporters(period):
        renamed = {
            c["unit_code"]: c["successor_code"]
            for c in changes
            if c["kind"] == "renamed" and period >= c["year"]
        }
        return sorted((task, renamed.get(unit, unit)) for task, unit in roles)

    return role_of, expected_reporters


def lookups(tables):
    """The indexes the submission rules need, built once from the reference tables."""
    chosen = {}
    for t in tables["targets"]:
        if t["chosen"]:
            chosen[(t["target_code"], t["year"])] = t["value"]
    role_of, expected_reporters = task_roles(tables)
    return {
        "tables": tables,
        "role_of": role_of,
        "expected_reporters": expected_reporters,
        "unit_names": {u["unit_code"]: u["name"] for u in tables["units"]},
        "task_due": {t["task_no"]: t["due_date"] for t in tables["tasks"]},
        "schedule": {s["table"]: s for s in tables["reporting_schedule"]},
        "facility_type_codes": {t["name"]: t["type_code"] for t in tables["facility_types"]},
        "custody_types": {
            t["type_code"] for t in tables["facility_types"] if t["holds_children_in_custody"]
        },
        "housed_in": {
            t["type_code"]: t["housed_in"] for t in tables["facility_types"] if t["housed_in"]
        },
        "per_county": {
            t["type_code"]: t["per_county"] for t in tables["facility_types"] if t["per_county"]
        },
        "unit_codes": {u["name"]: u["unit_code"] for u in tables["units"]},
        "task_roles": {(r["task_no"], r["unit_code"]): r["role"] for r in tables["task_units"]},
        "targets": chosen,
        "finest_level": {p["series_code"]: p["finest_level"] for p in tables["publication_levels"]},
        "series_names": {p["series_code"]: p["name"] for p in tables["publication_levels"]},
    }
