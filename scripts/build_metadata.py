"""Write the metadata Datasette serves: metadata.yml plus what the Table Schemas already say.

    python scripts/build_metadata.py [OUT]     # default build/metadata.json

metadata.yml holds what is written by hand (titles, canned queries, facets);
each table's and column's description is taken from the published packages'
Table Schemas, so it is written once, in the schema. metadata.yml wins where
both say something. Done at build time, not per request: Datasette looks
metadata up dozens of times for every page.
"""

import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DATABASE = "chuxiong"
OUT = ROOT / "build" / "metadata.json"
ENUM_NAMES = {
    "level": {"township": "乡镇", "county": "县市", "prefecture": "全州"},
    "status": {"published": "公布", "suppressed": "隐藏"},
    "role": {"lead": "牵头单位", "partner": "配合单位"},
}


def column_description(field):
    parts = [field.get("title", "")]
    if field.get("description"):
        parts.append(field["description"])
    enum = field.get("constraints", {}).get("enum")
    if enum:
        names = ENUM_NAMES.get(field["name"], {})
        parts.append(
            "取值:" + "、".join(f"{v}({names[v]})" if v in names else str(v) for v in enum)
        )
    return "。".join(p for p in parts if p)


def from_schemas():
    tables = {}
    for path in sorted(DATA.glob("*/datapackage.json")):
        descriptor = json.loads(path.read_text("utf-8"))
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            description = schema.get("description", "").split(" / ")[0]
            if descriptor.get("sample"):
                description = f"【示例数据,非真实统计】{description}"
            tables[resource["name"]] = {
                "description": f"{description}(数据包:{descriptor['name']})",
                "columns": {f["name"]: column_description(f) for f in schema["fields"]},
            }
    return tables


def merge(generated, written):
    """Deep merge; the hand-written value wins."""
    out = dict(generated)
    for key, value in written.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def build(out=OUT):
    written = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    generated = {"databases": {DATABASE: {"tables": from_schemas()}}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(merge(generated, written), ensure_ascii=False, indent=2, sort_keys=True) + "\n",
        encoding="utf-8",
    )
    return out


if __name__ == "__main__":
    print(f"wrote {build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)}")
