"""Table Schemas and package definitions, read from schemas/.

The schemas are data: the build validates with them, publishes them inside
each datapackage.json, types the database columns from them, and generates the
templates and field guide from them, so there is one place to change a rule.
"""

from functools import cache

import yaml

from .paths import SCHEMAS

SUBMISSION_TABLES = ("facilities", "village_coverage", "children_counts", "task_progress")


@cache
def load(relative_path):
    """A schema descriptor (a plain dict) from a path relative to schemas/."""
    with open(SCHEMAS / relative_path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def submission(table):
    return load(f"submissions/{table}.yaml")


@cache
def packages():
    with open(SCHEMAS / "packages.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def resource_schema(resource_name):
    """The published schema of a resource, found by its name in any package."""
    for package in packages()["packages"].values():
        for resource in package["resources"]:
            if resource["name"] == resource_name:
                return load(resource["schema"])
    raise KeyError(resource_name)


def field_names(schema):
    return [field["name"] for field in schema["fields"]]
