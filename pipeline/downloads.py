"""The data download: every package, the templates, a README and a data dictionary, in one zip.

Byte-identical for the same data (fixed timestamps, sorted entries). The README
and the dictionary are rendered from pipeline/templates/ with what the packages'
own descriptors say, so they cannot disagree with the data.
"""

import json
import shutil
import zipfile
from pathlib import Path

import jinja2

PREFIX = "chuxiong-open-data"
FIXED_TIME = (2017, 11, 30, 0, 0, 0)
TEMPLATES = Path(__file__).with_name("templates")
TYPE_ZH = {
    "integer": "整数",
    "number": "数字",
    "boolean": "布尔（true/false）",
    "date": "日期",
    "string": "文本",
}


def descriptors(data_dir):
    for path in sorted(Path(data_dir).glob("*/datapackage.json")):
        yield path.parent.name, json.loads(path.read_text("utf-8"))


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def dictionary_context(data_dir):
    packages = []
    for name, descriptor in descriptors(data_dir):
        resources = []
        for resource in descriptor["resources"]:
            schema = resource["schema"]
            fields = []
            for field in schema["fields"]:
                description = field.get("description", "")
                enum = field.get("constraints", {}).get("enum")
                if enum:
                    description += f"（取值：{'、'.join(map(str, enum))}）"
                fields.append(
                    {
                        "name": field["name"],
                        "title": field.get("title", ""),
                        "type": TYPE_ZH.get(field["type"], field["type"]),
                        "description": cell(description),
                    }
                )
            resources.append(
                {
                    "path": resource["path"],
                    "description": schema.get("description", ""),
                    "key": "、".join(schema.get("primaryKey", [])),
                    "fields": fields,
                }
            )
        packages.append({**descriptor, "name": name, "resources": resources})
    return packages


def render(template, **context):
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True
    )
    return environment.get_template(template).render(**context)


def entry(name):
    info = zipfile.ZipInfo(f"{PREFIX}/{name}", FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def add(archive, name, content):
    archive.writestr(entry(name), content)


def add_file(archive, name, path):
    """A file copied into the zip a block at a time (a nation's tables do not fit in memory
    twice over), with a fixed time so that the same files give the same zip."""
    large = Path(path).stat().st_size > 1 << 30
    with open(path, "rb") as source, archive.open(entry(name), "w", force_zip64=large) as target:
        shutil.copyfileobj(source, target, 1 << 20)


def build(out, data_dir, templates_dir, release_id):
    """Write the zip of the packages under `data_dir` and the templates under `templates_dir`."""
    data_dir, out = Path(data_dir), Path(out)
    found = dict(descriptors(data_dir))
    as_of = max((d.get("as_of", "") for d in found.values()), default="")
    sample = any(d.get("sample") for d in found.values())
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as archive:
        add(
            archive,
            "README.md",
            render("download_readme.md", sample=sample, as_of=as_of, release_id=release_id),
        )
        add(
            archive,
            "DATA-DICTIONARY.md",
            render(
                "data_dictionary.md",
                packages=dictionary_context(data_dir),
                release_id=release_id,
            ),
        )
        files = [(p, p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file()]
        if templates_dir and Path(templates_dir).exists():
            files += [
                (p, Path("templates") / p.relative_to(templates_dir))
                for p in Path(templates_dir).rglob("*")
                if p.is_file()
            ]
        for path, name in sorted(files, key=lambda item: str(item[1])):
            if not any(part.startswith(".") for part in name.parts):
                add_file(archive, str(name), path)
    return out
