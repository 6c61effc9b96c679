"""The schemas are themselves checked: valid Table Schemas, no unknown keys, no flow mappings
(where an ASCII comma silently cuts a description and makes a bogus key), and every
description ends where its author meant it to."""

import json
import re

import pytest
import yaml
from frictionless import Schema

from pipeline.paths import DATA, SCHEMAS

SCHEMA_FILES = sorted(SCHEMAS.glob("*/*.yaml"))
TOP_LEVEL = {"title", "description", "fields", "primaryKey", "foreignKeys", "missingValues"}
FIELD_KEYS = {
    "name",
    "title",
    "type",
    "format",
    "description",
    "constraints",
    "trueValues",
    "falseValues",
    "example",
    "rdfType",
    "categories",
}
CONSTRAINTS = {
    "required",
    "unique",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
}
PAIRS = {"(": ")", "\uff08": "\uff09", "\u201c": "\u201d", "[": "]", "`": "`"}


def balanced(text):
    stack = []
    for ch in text:
        if stack and ch == PAIRS[stack[-1]]:
            stack.pop()
        elif ch in PAIRS:
            stack.append(ch)
        elif ch in PAIRS.values():
            return False
    return not stack


WORDING_FILES = sorted((SCHEMAS.parent / "sources" / "handbook").glob("*.yaml")) + [
    SCHEMAS / "packages.yaml",
    SCHEMAS / "disclosure_rule.yaml",
    SCHEMAS / "problem_rules.yaml",
]


@pytest.mark.parametrize("path", SCHEMA_FILES + WORDING_FILES, ids=lambda p: p.name)
def test_no_flow_mappings(path):
    """`{name: x, description: a, b}` parses as description 'a' plus a key 'b': so no flow maps."""
    for event in yaml.parse(path.read_text("utf-8")):
        if isinstance(event, yaml.events.MappingStartEvent):
            assert not event.flow_style, (str(path), str(event.start_mark))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_schema_is_a_valid_table_schema_with_known_keys(path):
    descriptor = yaml.safe_load(path.read_text("utf-8"))
    assert set(descriptor) <= TOP_LEVEL, set(descriptor) - TOP_LEVEL
    assert Schema.validate_descriptor(descriptor).valid
    for field in descriptor["fields"]:
        assert set(field) <= FIELD_KEYS, (field["name"], set(field) - FIELD_KEYS)
        assert set(field.get("constraints", {})) <= CONSTRAINTS, field["name"]
        for key in ("title", "description"):
            if key in field:
                assert isinstance(field[key], str) and field[key].strip(), (field["name"], key)
        if "categories" in field:  # Table Schema v2: every allowed value has a Chinese label
            values = [c["value"] for c in field["categories"]]
            assert values == field["constraints"]["enum"], field["name"]
            assert all(re.search("[\u4e00-\u9fff]", c["label"]) for c in field["categories"])


def descriptions():
    for path in SCHEMA_FILES:
        descriptor = yaml.safe_load(path.read_text("utf-8"))
        yield f"{path.parent.name}/{path.name}", descriptor.get("description", "")
        for field in descriptor["fields"]:
            yield f"{path.parent.name}/{path.name}:{field['name']}", field.get("description", "")


@pytest.mark.parametrize("where,text", list(descriptions()), ids=lambda x: str(x)[:40])
def test_every_description_ends_where_it_was_meant_to(where, text):
    if not text:
        return
    assert balanced(text), where
    assert not re.search(r"[,\uff0c\u3001;\uff1b:\uff1a(\uff08]\s*$", text), where
    if " / " in text:
        chinese, english = text.split(" / ", 1)
        assert chinese.strip() and english.strip(), where


def test_published_descriptors_carry_no_stray_keys():
    for path in DATA.glob("*/datapackage.json"):
        for resource in json.loads(path.read_text("utf-8"))["resources"]:
            for field in resource["schema"]["fields"]:
                assert set(field) <= FIELD_KEYS, (path, field["name"], set(field) - FIELD_KEYS)
                assert all(value is not None for value in field.values()), (path, field["name"])
