"""The sample generator and the templates are reproducible and say what they are."""

import csv
import subprocess
import sys

from pipeline import build, schemas
from pipeline.paths import DATA, ROOT, SAMPLE_SUBMISSIONS
from pipeline.reading import decode
from tests.helpers import file_hashes


def relative(hashes, root):
    return {k.split(str(root) + "/", 1)[1]: v for k, v in hashes.items()}


def run(*args):
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT, capture_output=True)


def test_sample_is_reproducible_from_its_seed(tmp_path):
    out = tmp_path / "sample"
    run("scripts/generate_sample.py", "--out", str(out))
    assert relative(file_hashes(out), out) == relative(
        file_hashes(SAMPLE_SUBMISSIONS), SAMPLE_SUBMISSIONS
    ), "sources/submissions/sample is stale: run `make sample` and commit it"


def test_every_sample_row_is_labelled():
    for path in SAMPLE_SUBMISSIONS.glob("*/*.csv"):
        text, problem = decode(path.read_bytes(), path.name)
        assert problem is None
        rows = list(csv.DictReader(text.splitlines()))
        assert rows and all(r["备注"] == "示例数据,非真实统计" for r in rows), path
    assert "示例数据" in (SAMPLE_SUBMISSIONS / "README.md").read_text("utf-8")
    assert "sample: true" in (SAMPLE_SUBMISSIONS / "submission.yml").read_text("utf-8")


def test_sample_covers_all_counties_and_years():
    folders = sorted(p.name[:6] for p in SAMPLE_SUBMISSIONS.iterdir() if p.is_dir())
    assert len(folders) == 11 and folders[0] == "532300"
    suffixes = {p.suffix for p in SAMPLE_SUBMISSIONS.glob("*/*.*")}
    assert suffixes == {".csv", ".xlsx", ".yml"}


def test_scaled_sample_builds(tmp_path):
    out = tmp_path / "scaled"
    run("scripts/generate_sample.py", "--out", str(out), "--scale", "2")
    with open(out / "divisions" / "villages.csv", encoding="utf-8") as f:
        assert sum(1 for _ in f) - 1 == 2 * 1106
    summary = build.build(
        out / "submissions", out / "divisions", tmp_path / "data", tmp_path / "db", quiet=True
    )
    assert summary["village_years"] == 2 * 1106 * 9


def test_templates_match_the_schemas(tmp_path):
    run("scripts/build_templates.py")  # idempotent: rewrites data/templates/ in place
    before = file_hashes(DATA / "templates")
    run("scripts/build_templates.py")
    assert file_hashes(DATA / "templates") == before
    guide = (DATA / "templates" / "README.md").read_text("utf-8")
    for table in schemas.SUBMISSION_TABLES:
        schema = schemas.submission(table)
        header = (DATA / "templates" / f"{table}.csv").read_bytes()
        assert header.startswith(b"\xef\xbb\xbf")
        assert header.decode("utf-8-sig").strip().split(",") == [
            f["title"] for f in schema["fields"]
        ]
        for field in schema["fields"]:
            assert f"`{field['name']}`" in guide


def test_county_templates_are_prefilled_locked_and_validated():
    from openpyxl import load_workbook

    from pipeline import divisions

    geo = divisions.load()
    folder = DATA / "templates" / "counties"
    assert sorted(p.name[:6] for p in folder.iterdir()) == ["532300", *sorted(geo.counties)]
    workbook = load_workbook(folder / "532301_楚雄市" / "village_coverage.xlsx")
    sheet = workbook["数据"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["年份", "村（居）委会代码", "村（居）委会名称"]
    villages = geo.villages_by_county["532301"]
    assert sheet.max_row - 1 == len(villages) * 9  # 2017 to 2025
    assert sheet.cell(2, 3).value == geo.villages[villages[0]]["name"]
    assert sheet.protection.sheet
    assert sheet.cell(2, 2).protection.locked and not sheet.cell(2, 4).protection.locked
    rules = {(v.type, v.formula1, v.formula2) for v in sheet.data_validations.dataValidation}
    assert ("list", '"是,否"', None) in rules
    assert ("whole", "0", "20") in rules and ("whole", "2000", "2100") in rules
    facilities = load_workbook(folder / "532301_楚雄市" / "facilities.xlsx")
    lists = [v.formula1 for v in facilities["数据"].data_validations.dataValidation]
    assert any(f.startswith("代码表!") for f in lists)
    assert facilities["代码表"].sheet_state == "hidden"
    tasks = load_workbook(folder / "532300_州直单位" / "task_progress.xlsx")["数据"]
    units = {(r[0], r[2]) for r in tasks.iter_rows(min_row=2, values_only=True)}
    assert (2018, "州卫计委") in units and (2019, "州卫健委") in units
    assert (2019, "州卫计委") not in units


def test_the_sample_went_through_the_county_templates():
    from openpyxl import load_workbook

    workbook = load_workbook(next(SAMPLE_SUBMISSIONS.glob("532323_*")) / "children_counts.xlsx")
    assert "填写说明" in workbook.sheetnames and workbook["数据"].data_validations.dataValidation
    assert workbook["数据"]["C1"].value == "乡镇名称"
