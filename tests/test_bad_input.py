"""Broken submissions get a precise error in Chinese and English, and nothing is published."""

import csv
import io
import subprocess
import sys

import pytest
from openpyxl import load_workbook

from pipeline import build
from pipeline.paths import DIVISIONS_SOURCES, ROOT
from pipeline.problems import InputRejected
from pipeline.reading import decode
from tests.helpers import file_hashes


def edit_csv(path, change):
    """Rewrite a CSV in the encoding it came in, after `change(rows)` edits its rows."""
    raw = path.read_bytes()
    text, problem = decode(raw, path.name)
    assert problem is None
    rows = list(csv.reader(io.StringIO(text)))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    path.write_bytes(out.getvalue().encode(encoding))


def set_cell(rows, row, title, value):
    rows[row - 1][rows[0].index(title)] = value


def problems_of(folder):
    return build.check(folder, DIVISIONS_SOURCES)


def only(problems, rule):
    found = [p for p in problems if p.rule == rule]
    assert found, [p.format() for p in problems]
    return found


def test_the_sample_county_passes(county_folder):
    assert problems_of(county_folder()) == []


def test_a_gbk_submission_passes(county_folder):
    folder = county_folder("532302")
    assert (folder / "children_counts.csv").read_bytes()[:2] != b"\xef\xbb"
    assert problems_of(folder) == []


def test_missing_column(county_folder):
    folder = county_folder()
    edit_csv(folder / "village_coverage.csv", lambda rows: [r.pop(4) for r in rows])
    [p] = only(problems_of(folder), "missing-column")
    assert p.file.endswith("village_coverage.csv") and p.row == 1
    assert "儿童福利督导员人数" in p.column and "supervisors" in p.column
    assert "缺少必填列" in p.zh and "missing" in p.en


def test_wrong_type(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))
    [p] = only(problems_of(folder), "type")
    assert (p.row, p.column, p.value) == (5, "孤儿", "十二")
    assert "整数" in p.zh and "integer" in p.en


def test_unknown_township_code(county_folder):
    folder = county_folder()
    edit_csv(folder / "facilities.csv", lambda rows: set_cell(rows, 3, "所在乡镇代码", "532322999"))
    [p] = only(problems_of(folder), "unknown-code")
    assert (p.row, p.column, p.value) == (3, "所在乡镇代码", "532322999")


def test_village_of_another_county(county_folder):
    folder = county_folder()
    edit_csv(
        folder / "village_coverage.csv",
        lambda rows: set_cell(rows, 4, "村(居)委会代码", "532301101001"),
    )
    problems = problems_of(folder)
    [p] = only(problems, "unknown-code")
    assert (p.row, p.value) == (4, "532301101001") and "532322" in p.zh
    # the village whose row was overwritten is now missing for that year
    assert only(problems, "incomplete")[0].value == 2017


def test_duplicate_row(county_folder):
    folder = county_folder()
    edit_csv(folder / "village_coverage.csv", lambda rows: rows.append(list(rows[2])))
    [p] = only(problems_of(folder), "duplicate-row")
    lines = (folder / "village_coverage.csv").read_text("utf-8").splitlines()
    assert p.row == len(lines) and "第 3 行" in p.zh and "row 3" in p.en


def test_negative_count(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 2, "重残儿童", "-3"))
    [p] = only(problems_of(folder), "minimum")
    assert (p.row, p.column, p.value) == (2, "重残儿童", "-3")


def test_total_below_a_category(county_folder):
    folder = county_folder()
    edit_csv(
        folder / "children_counts.csv", lambda rows: set_cell(rows, 6, "困境儿童总数(去重)", "1")
    )
    [p] = only(problems_of(folder), "total-too-small")
    assert (p.row, p.column) == (6, "困境儿童总数(去重)")


def test_total_above_the_sum(county_folder):
    folder = county_folder()
    edit_csv(
        folder / "children_counts.csv",
        lambda rows: set_cell(rows, 6, "困境儿童总数(去重)", "99999"),
    )
    only(problems_of(folder), "total-too-large")


def test_home_opened_after_the_year(county_folder):
    folder = county_folder()

    def change(rows):
        for i, row in enumerate(rows[1:], start=2):
            if row[2] == "是" and row[0] == "2018":
                row[3] = "2024"
                change.row = i
                return

    edit_csv(folder / "village_coverage.csv", change)
    [p] = only(problems_of(folder), "date-order")
    assert (p.row, p.column, p.value) == (change.row, "儿童之家建成年份", 2024)


def test_no_home_but_an_opening_year(county_folder):
    folder = county_folder()

    def change(rows):
        for row in rows[1:]:
            if row[2] == "否":
                row[3] = "2017"
                return

    edit_csv(folder / "village_coverage.csv", change)
    only(problems_of(folder), "contradiction")


def test_year_in_the_future(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 2, "年份", "2099"))
    problems = problems_of(folder)
    [p] = only(problems, "future-date")
    assert (p.row, p.column, p.value) == (2, "年份", 2099)


def test_year_before_the_policy(county_folder):
    folder = county_folder()
    edit_csv(folder / "village_coverage.csv", lambda rows: set_cell(rows, 2, "年份", "2015"))
    [p] = only(problems_of(folder), "minimum")
    assert (p.row, p.column) == (2, "年份") and "2017" in p.zh


def test_report_date_out_of_range(tmp_path):
    import shutil

    from pipeline.paths import SAMPLE_SUBMISSIONS

    folder = tmp_path / "532300_州直单位"
    shutil.copytree(next(SAMPLE_SUBMISSIONS.glob("532300_*")), folder)
    edit_csv(folder / "task_progress.csv", lambda rows: set_cell(rows, 2, "报送日期", "2016-05-01"))
    [p] = only(problems_of(folder), "minimum")
    assert (p.row, p.column) == (2, "报送日期")


def test_unit_not_responsible_for_the_task(tmp_path):
    import shutil

    from pipeline.paths import SAMPLE_SUBMISSIONS

    folder = tmp_path / "532300_州直单位"
    shutil.copytree(next(SAMPLE_SUBMISSIONS.glob("532300_*")), folder)

    def change(rows):
        for i, row in enumerate(rows[1:], start=2):
            if row[1] == "3":
                row[2] = "州总工会"
                change.row = i
                return

    edit_csv(folder / "task_progress.csv", change)
    [p] = only(problems_of(folder), "not-responsible")
    assert (p.row, p.column, p.value) == (change.row, "责任单位", "州总工会")


def test_coordinates_outside_chuxiong(county_folder):
    folder = county_folder()
    edit_csv(folder / "facilities.csv", lambda rows: set_cell(rows, 2, "经度", "99.5"))
    [p] = only(problems_of(folder), "minimum")
    assert (p.row, p.column) == (2, "经度")
    assert "楚雄州范围以外" in p.zh and "outside Chuxiong" in p.en


def test_undecodable_bytes(county_folder):
    folder = county_folder()
    path = folder / "children_counts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b"\x80\xff"
    path.write_bytes(b"\n".join(lines))
    [p] = only(problems_of(folder), "encoding")
    assert p.row == 4 and "GBK" in p.zh and "UTF-8" in p.en


def test_utf16_file(county_folder):
    folder = county_folder()
    path = folder / "facilities.csv"
    path.write_bytes(path.read_text("utf-8").encode("utf-16"))
    [p] = only(problems_of(folder), "encoding")
    assert "UTF-16" in p.zh


def test_empty_file(county_folder):
    folder = county_folder()
    (folder / "facilities.csv").write_bytes(b"")
    [p] = only(problems_of(folder), "empty-file")
    assert p.file.endswith("facilities.csv")


def test_header_only(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: rows[1:].clear() or del_rows(rows))
    [p] = only(problems_of(folder), "no-rows")
    assert p.row == 1


def del_rows(rows):
    del rows[1:]


def test_xlsx_header_in_the_wrong_row(county_folder):
    folder = county_folder("532327")
    path = folder / "village_coverage.xlsx"
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    sheet.insert_rows(1, 2)
    sheet["A1"] = "永仁县村(居)委会覆盖情况"
    workbook.save(path)
    [p] = only(problems_of(folder), "header-row")
    assert p.row == 3 and "第 3 行" in p.zh and "row 3" in p.en


def test_xlsx_with_codes_typed_as_numbers_passes(county_folder):
    folder = county_folder("532327")
    path = folder / "village_coverage.xlsx"
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].value = int(row[0].value)
    workbook.save(path)
    assert problems_of(folder) == []


def test_unknown_file_and_folder(county_folder):
    folder = county_folder()
    (folder / "children.csv").write_text("x\n1\n", encoding="utf-8")
    (folder.parent / "123456_某县").mkdir()
    problems = problems_of(folder.parent)
    assert {"unknown-file", "unknown-code"} <= {p.rule for p in problems}


def test_every_error_is_listed_in_one_run(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))
    edit_csv(folder / "facilities.csv", lambda rows: set_cell(rows, 2, "经度", "99.5"))
    edit_csv(folder / "village_coverage.csv", lambda rows: rows.append(list(rows[2])))
    rules = {p.rule for p in problems_of(folder)}
    assert {"type", "minimum", "duplicate-row"} <= rules


def test_check_command_prints_both_languages(county_folder):
    folder = county_folder()
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "children_counts.csv" in result.stderr
    assert "第 5 行" in result.stderr and "row 5" in result.stderr
    assert "孤儿" in result.stderr and "十二" in result.stderr
    assert "未发布任何内容" in result.stderr and "nothing was published" in result.stderr


def test_a_failed_build_leaves_the_published_files_untouched(county_folder, tmp_path):
    folder = county_folder()
    county_folder("532323")  # two counties: one county alone would be its own prefecture
    out, db = tmp_path / "published", tmp_path / "published.db"
    build.build(folder.parent, DIVISIONS_SOURCES, out, db, quiet=True)
    before = file_hashes(out, db)
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))
    with pytest.raises(InputRejected) as rejected:
        build.build(folder.parent, DIVISIONS_SOURCES, out, db, quiet=True)
    assert rejected.value.problems[0].rule == "type"
    assert file_hashes(out, db) == before
    assert not list(tmp_path.glob(".staging-*"))


def test_a_released_year_is_frozen(county_folder, tmp_path):
    """Real (not sample) data: changing a year already published is refused, data untouched."""
    folder = county_folder()
    county_folder("532323")
    assert not (folder.parent / "submission.yml").exists()  # these count as real submissions
    out, db = tmp_path / "published", tmp_path / "published.db"
    build.build(folder.parent, DIVISIONS_SOURCES, out, db, quiet=True)
    before = file_hashes(out, db)

    def add_one(rows):
        column = rows[0].index("贫困家庭儿童")
        rows[2][column] = str(int(rows[2][column]) + 1)
        total = rows[0].index("困境儿童总数(去重)")
        rows[2][total] = str(int(rows[2][total]) + 1)

    edit_csv(folder / "children_counts.csv", add_one)
    with pytest.raises(InputRejected) as rejected:
        build.build(folder.parent, DIVISIONS_SOURCES, out, db, quiet=True)
    [problem] = rejected.value.problems
    assert problem.rule == "released-year" and problem.value == 2017
    assert "已经发布" in problem.zh and "frozen" in problem.en
    assert file_hashes(out, db) == before
