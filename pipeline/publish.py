"""Write the published Frictionless data packages, byte for byte the same for the same inputs.

Each package is a folder with one CSV per table (UTF-8, LF, header of field
names) and a datapackage.json that carries the schemas, the licence, the
sources, the "as of" date, the sample-data flag, and each file's size and
SHA-256, so a reader can check that what Datasette serves is what was published.
"""

import csv
import datetime
import hashlib
import json
from pathlib import Path

from . import schemas
from .paths import SAMPLE_NOTICE, SAMPLE_NOTICE_EN
from .reading import FORMULA_STARTS


def format_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


class TableWriter:
    """Stream rows into a CSV and remember its size and hash for the descriptor."""

    def __init__(self, folder, name, schema, header=True):
        self.name = name
        self.schema = schema
        self.fields = schemas.field_names(schema)
        self.text_fields = {f["name"] for f in schema["fields"] if f["type"] == "string"}
        self.path = Path(folder) / f"{name}.csv"
        self.file = open(self.path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.file, lineterminator="\n")
        if header:
            self.writer.writerow(self.fields)
        self.rows = 0

    def write(self, row):
        values = [format_value(row.get(f)) for f in self.fields]
        for name, value in zip(self.fields, values, strict=True):
            if name in self.text_fields and value.startswith(FORMULA_STARTS):
                # The submission check refuses such text; reaching here is a bug, and a
                # package must never carry a formula into a spreadsheet.
                raise ValueError(
                    f"{self.name}.{name}: text that a spreadsheet would run: {value!r}"
                )
        self.writer.writerow(values)
        self.rows += 1

    def write_all(self, rows):
        for row in rows:
            self.write(row)
        return self

    @classmethod
    def join(cls, folder, name, schema, chunks):
        """The table made of a header and chunks written without one (by other processes), in
        the order given; the chunks are removed. Returns the resource descriptor."""
        writer = cls(folder, name, schema)
        writer.file.flush()
        with open(writer.path, "ab") as out:
            for chunk in chunks:
                with open(chunk, "rb") as f:
                    while block := f.read(1 << 20):
                        out.write(block)
                Path(chunk).unlink()
        writer.file.close()
        return writer.close()

    def close(self):
        if not self.file.closed:
            self.file.close()
        digest = hashlib.sha256()
        with open(self.path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        return {
            "name": self.name,
            "path": self.path.name,
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "bytes": self.path.stat().st_size,
            "hash": f"sha256:{digest.hexdigest()}",
            "schema": self.schema,
        }


def package_descriptor(name, spec, resources, *, sample, as_of, policy_source, licenses):
    title = spec["title"]
    description = spec["description"].strip()
    if sample:
        title = f"【示例数据】{title}"
        description = (
            f"{SAMPLE_NOTICE}。本数据包由固定随机种子生成,仅用于演示门户功能。"
            f" / {SAMPLE_NOTICE_EN}.\n\n{description}"
        )
    descriptor = {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "description": description,
        "licenses": [licenses["data"]],
        "sources": [policy_source],
        "sample": sample,
        "resources": resources,
    }
    if spec.get("from_submissions"):
        descriptor["sources"] = [
            policy_source,
            {
                "title": "示例数据生成脚本 scripts/generate_sample.py"
                if sample
                else "各县市、州直单位报送数据"
            },
        ]
        descriptor["as_of"] = as_of
    return descriptor


def write_descriptor(folder, descriptor):
    with open(Path(folder) / "datapackage.json", "w", encoding="utf-8", newline="\n") as f:
        json.dump(descriptor, f, ensure_ascii=False, indent=2)
        f.write("\n")
