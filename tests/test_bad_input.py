"""Broken submissions get a precise error in Chinese and English, and nothing is published.

Every case here is checked twice, through `check` on the county's folder and through a
build of the whole set, and both must give the same problems: the officers' check and the
build are one code path (pipeline/validate.py).
"""

import csv
import datetime
import io
import shutil
import subprocess
import sys

import pytest
import yaml
from openpyxl import load_workbook

from pipeline import build
from pipeline.paths import DIVISIONS_SOURCES, ROOT, SAMPLE_SUBMISSIONS
from pipeline.problems import InputRejected
from pipeline.reading import decode
from tests.helpers import file_hashes

TODAY = datetime.date(2026, 11, 29)


def edit_csv(path, change):
    """Rewrite a CSV in the encoding it came in, after `change(rows)` edits its rows."""
    raw = path.read_bytes()
    text, problem = decode(raw, path.name)
    assert problem is None
    rows = list(csv.reader(io.StringIO(text)))
    change(rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        try:
            raw.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gbk"
    path.write_bytes(out.getvalue().encode(encoding))


def set_cell(rows, row, title, value):
    rows[row - 1][rows[0].index(title)] = value


def column(rows, title):
    return rows[0].index(title)


def only(problems, rule):
    found = [p for p in problems if p.rule == rule]
    assert found, [p.format() for p in problems]
    return found


@pytest.fixture
def submissions(tmp_path):
    """A copy of the whole bundled sample (with its submission.yml), to break."""
    target = tmp_path / "submissions"
    shutil.copytree(SAMPLE_SUBMISSIONS, target)
    return target


def county(submissions, code="532322"):
    return next(submissions.glob(f"{code}_*"))


def check(folder):
    return build.check(folder, DIVISIONS_SOURCES, today=TODAY)


def build_problems(submissions, tmp_path):
    """What a build of the whole set refuses ([] if it publishes)."""
    try:
        build.build(
            submissions,
            DIVISIONS_SOURCES,
            tmp_path / "out" / "data",
            tmp_path / "out" / "chuxiong.db",
            quiet=True,
            today=TODAY,
        )
    except InputRejected as rejected:
        return rejected.problems
    return []


# --- each case breaks one thing; (case, county, rule expected or None) -----------------------


def missing_year(s):
    edit_csv(
        county(s) / "village_coverage.csv",
        lambda rows: rows.__setitem__(slice(1, None), [r for r in rows[1:] if r[0] != "2025"]),
    )


def missing_year_declared(s):
    missing_year(s)
    own = county(s) / "submission.yml"
    manifest = yaml.safe_load(own.read_text("utf-8"))
    manifest["gaps"] = [{"table": "village_coverage", "year": 2025, "reason": "数据尚在核对"}]
    own.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def missing_county(s):
    shutil.rmtree(county(s, "532329"))


def second_sheet(s):
    path = county(s, "532323") / "village_coverage.xlsx"
    workbook = load_workbook(path)
    data = workbook["数据"]
    extra = workbook.create_sheet("Sheet2")
    extra.append([c.value for c in data[1]])
    for row in list(data.iter_rows(min_row=data.max_row - 9, values_only=True)):
        extra.append(row)
    data.delete_rows(data.max_row - 9, 10)
    workbook.save(path)


def rows_typed_into_the_instructions_sheet(s):
    path = county(s, "532323") / "village_coverage.xlsx"
    workbook = load_workbook(path)
    data, instructions = workbook["数据"], workbook["填写说明"]
    instructions.append([c.value for c in data[1]])  # below the instructions, header and all
    for row in list(data.iter_rows(min_row=data.max_row - 4, values_only=True)):
        instructions.append(row)
    data.delete_rows(data.max_row - 4, 5)
    workbook.save(path)


def formula_csv(s):
    edit_csv(
        county(s) / "facilities.csv",
        lambda rows: set_cell(rows, 3, "机构名称", '=HYPERLINK("http://x","y")'),
    )


def formula_plus(s):
    edit_csv(
        county(s) / "children_counts.csv",
        lambda rows: set_cell(rows, 4, "备注", "+cmd|' /C calc'!A0"),
    )


def set_xlsx_cell(path, cell, value):
    """Type one value into a workbook's data sheet, as an officer would in Excel."""
    workbook = load_workbook(path)
    workbook["数据"][cell] = value
    workbook.save(path)


def formula_cell_xlsx(s):
    set_xlsx_cell(county(s, "532323") / "facilities.xlsx", "C2", '=HYPERLINK("http://x","y")')


def excel_error_in_xlsx(s):
    set_xlsx_cell(county(s, "532323") / "children_counts.xlsx", "D3", "#DIV/0!")


def excel_error_saved_as_csv(s):
    edit_csv(county(s) / "facilities.csv", lambda rows: set_cell(rows, 2, "机构名称", "#N/A"))


def old_excel_file(s):
    folder = county(s)
    (folder / "facilities.csv").rename(folder / "facilities.xls")


def numbers_file(s):
    folder = county(s)
    (folder / "children_counts.csv").rename(folder / "children_counts.numbers")


def opening_year_changes(s):
    def change(rows):
        code = column(rows, "村（居）委会代码")
        opened = column(rows, "儿童之家建成年份")
        homes = [r for r in rows[1:] if r[opened]]
        first = homes[0][code]
        later = [r for r in homes if r[code] == first][-1]
        later[opened] = str(int(later[opened]) + 1) if int(later[opened]) < 2017 else "2016"

    edit_csv(county(s) / "village_coverage.csv", change)


def point_in_kunming(s):
    def change(rows):
        set_cell(rows, 2, "经度", "102.47")  # 安宁, in Kunming: inside the old bounding box
        set_cell(rows, 2, "纬度", "24.92")

    edit_csv(county(s) / "facilities.csv", change)


def swapped_coordinates(s):
    def change(rows):
        lon, lat = rows[1][column(rows, "经度")], rows[1][column(rows, "纬度")]
        set_cell(rows, 2, "经度", lat)
        set_cell(rows, 2, "纬度", lon)

    edit_csv(county(s) / "facilities.csv", change)


def type_error_only(s):
    edit_csv(county(s) / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))


def semicolons(s):
    path = county(s) / "children_counts.csv"
    text, _ = decode(path.read_bytes(), path.name)
    path.write_bytes(text.replace(",", ";").encode("utf-8-sig"))


def tabs(s):
    path = county(s) / "facilities.csv"
    text, _ = decode(path.read_bytes(), path.name)
    path.write_bytes(text.replace(",", "\t").encode("utf-8-sig"))


def former_township_code(s):
    edit_csv(
        county(s, "532302") / "children_counts.csv",
        lambda rows: set_cell(rows, 2, "乡镇代码", "532331100"),
    )


def name_does_not_match(s):
    set_xlsx_cell(county(s, "532323") / "children_counts.xlsx", "C2", "另一个镇")


def on_track_after_due(s):
    def change(rows):
        for row in rows[1:]:
            if row[0] == "2023" and row[1] == "8":
                row[column(rows, "进展状态")] = "按期推进"
                row[column(rows, "完成进度（%）")] = "80"
                return

    edit_csv(county(s, "532300") / "task_progress.csv", change)


def overdue_without_due_date(s):
    def change(rows):
        for row in rows[1:]:
            if row[0] == "2023" and row[1] == "3":
                row[column(rows, "进展状态")] = "逾期未完成"
                return

    edit_csv(county(s, "532300") / "task_progress.csv", change)


def successor_name_after_reform(s):
    """Reports under 州卫健委 from 2019 are in the sample; 州卫计委 for 2017-2018 too."""


def invisible_nul(s):
    edit_csv(
        county(s) / "facilities.csv", lambda rows: set_cell(rows, 2, "机构名称", "儿童之家\x00")
    )


def right_to_left_override(s):
    edit_csv(
        county(s) / "facilities.csv", lambda rows: set_cell(rows, 3, "地址", "妥甸镇\u202e路号")
    )


def zero_width_space_in_a_task_note(s):
    edit_csv(
        county(s, "532300") / "task_progress.csv",
        lambda rows: set_cell(rows, 2, rows[0][-1], "按计划\u200b推进"),
    )


def code_in_scientific_notation(s):
    edit_csv(
        county(s) / "children_counts.csv",
        lambda rows: set_cell(rows, 2, "乡镇代码", "5.32322E+08"),
    )


def child_named_in_a_remark(s):
    edit_csv(
        county(s) / "facilities.csv",
        lambda rows: set_cell(rows, 3, "备注", "服务对象张小明，8岁，艾滋病病毒感染"),
    )


def identity_number_in_a_narrative(s):
    edit_csv(
        county(s, "532300") / "task_progress.csv",
        lambda rows: set_cell(rows, 2, "进展说明", "已为 53230120100512345X 办理基本生活费"),
    )


def small_count_with_diagnosis_in_xlsx(s):
    path = county(s, "532323") / "facilities.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["数据"]
    remarks = next(c.column_letter for c in sheet[1] if c.value == "备注")
    sheet[f"{remarks}2"] = "本年收治白血病患儿3名"
    workbook.save(path)


def person_reference_in_services(s):
    edit_csv(
        county(s) / "facilities.csv",
        lambda rows: set_cell(rows, 2, "服务内容", "为李某某家庭提供临时庇护"),
    )


def last_years_folder_sent_again(s):
    """大姚县 sends last year's folder: it says reporting_year 2024 and has no 2025 rows."""
    folder = county(s, "532326")
    for name in ("village_coverage", "children_counts"):
        edit_csv(
            folder / f"{name}.csv",
            lambda rows: rows.__setitem__(slice(1, None), [r for r in rows[1:] if r[0] != "2025"]),
        )
    own = folder / "submission.yml"
    manifest = yaml.safe_load(own.read_text("utf-8"))
    manifest["reporting_year"] = 2024
    manifest["submitted_on"] = {y: d for y, d in manifest["submitted_on"].items() if y < 2025}
    own.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")


def facility_again_under_a_new_id(s):
    def change(rows):
        kind = column(rows, "机构类型")
        centre = next(r for r in rows[1:] if r[kind] == "未成年人救助保护中心")
        rows.append([*centre[:1], *centre[1:]])
        rows[-1][0] = "F099"

    edit_csv(county(s) / "facilities.csv", change)


def hotline_lost_its_leading_zero(s):
    edit_csv(county(s) / "facilities.csv", lambda rows: set_cell(rows, 3, "服务热线", "8780000707"))


def mobile_as_a_hotline(s):
    edit_csv(
        county(s) / "facilities.csv", lambda rows: set_cell(rows, 3, "服务热线", "13912345678")
    )


def merged_year_cells(s):
    path = county(s, "532323") / "village_coverage.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["数据"]
    for row in range(3, 10):
        sheet.cell(row, 1).value = None
    sheet.merge_cells("A2:A9")
    workbook.save(path)


def formula_totals_in_xlsx(s):
    path = county(s, "532323") / "children_counts.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["数据"]
    total = next(c.column for c in sheet[1] if c.value == "困境儿童总数（去重）")
    for row in range(2, sheet.max_row + 1):
        sheet.cell(row, total).value = f"=SUM(D{row}:K{row})"
    workbook.save(path)


def degrees_minutes_seconds(s):
    edit_csv(county(s) / "facilities.csv", lambda rows: set_cell(rows, 3, "经度", "101°38'21.3\""))


def empty_trailing_columns(s):
    path = county(s) / "children_counts.csv"
    text, _ = decode(path.read_bytes(), path.name)
    path.write_bytes(text.replace("\r\n", ",,,\r\n").encode("utf-8-sig"))


def dash_for_nought(s):
    edit_csv(county(s) / "children_counts.csv", lambda rows: set_cell(rows, 4, "孤儿", "-"))


def a_row_of_totals(s):
    def change(rows):
        rows.append(["2025", "合计", *[""] * (len(rows[0]) - 2)])

    edit_csv(county(s) / "children_counts.csv", change)


def percent_sign(s):
    edit_csv(
        county(s, "532300") / "task_progress.csv",
        lambda rows: set_cell(rows, 2, "完成进度（%）", "50%"),
    )


def progress_falls(s):
    def change(rows):
        percent, task, unit, period = (
            column(rows, "完成进度（%）"),
            column(rows, "任务序号"),
            column(rows, "责任单位"),
            column(rows, "报告期"),
        )
        target = next(r for r in rows[1:] if r[period] == "2024" and r[task] == "1")
        target[percent] = "1"
        assert target[unit]

    edit_csv(county(s, "532300") / "task_progress.csv", change)


CASES = [
    ("missing-year", missing_year, "532322", "missing-year"),
    ("missing-year-declared", missing_year_declared, "532322", None),
    ("missing-county", missing_county, None, "missing-county"),
    ("second-sheet", second_sheet, "532323", "sheets"),
    ("rows-in-instructions", rows_typed_into_the_instructions_sheet, "532323", "sheets"),
    ("formula-csv", formula_csv, "532322", "formula"),
    ("formula-plus", formula_plus, "532322", "formula"),
    ("formula-cell-xlsx", formula_cell_xlsx, "532323", "formula"),
    ("old-excel", old_excel_file, "532322", "file-format"),
    ("numbers", numbers_file, "532322", "file-format"),
    ("opening-year", opening_year_changes, "532322", "opening-year-changed"),
    ("kunming", point_in_kunming, "532322", "outside-county"),
    ("swapped", swapped_coordinates, "532322", "coordinates-swapped"),
    ("type-error-only", type_error_only, "532322", "type"),
    ("semicolons", semicolons, "532322", "delimiter"),
    ("tabs", tabs, "532322", "delimiter"),
    ("former-code", former_township_code, "532302", "former-code"),
    ("name-mismatch", name_does_not_match, "532323", "name-mismatch"),
    ("on-track-after-due", on_track_after_due, "532300", "contradiction"),
    ("overdue-without-due", overdue_without_due_date, "532300", "contradiction"),
    ("excel-error-xlsx", excel_error_in_xlsx, "532323", "excel-error"),
    ("excel-error-csv", excel_error_saved_as_csv, "532322", "excel-error"),
    ("invisible-nul", invisible_nul, "532322", "invisible-character"),
    ("right-to-left-override", right_to_left_override, "532322", "invisible-character"),
    ("zero-width-space", zero_width_space_in_a_task_note, "532300", "invisible-character"),
    ("scientific-notation", code_in_scientific_notation, "532322", "pattern"),
    ("child-named", child_named_in_a_remark, "532322", "personal-data"),
    ("identity-number", identity_number_in_a_narrative, "532300", "personal-data"),
    ("diagnosis-small-count", small_count_with_diagnosis_in_xlsx, "532323", "personal-data"),
    ("person-reference", person_reference_in_services, "532322", "personal-data"),
    ("last-years-folder", last_years_folder_sent_again, "532326", "reporting-year"),
    ("facility-again", facility_again_under_a_new_id, "532322", "duplicate-facility"),
    ("hotline-leading-zero", hotline_lost_its_leading_zero, "532322", "hotline"),
    ("mobile-hotline", mobile_as_a_hotline, "532322", "hotline"),
    ("merged-cells", merged_year_cells, "532323", "merged-cells"),
    ("formula-totals", formula_totals_in_xlsx, "532323", "formula"),
    ("degrees-minutes-seconds", degrees_minutes_seconds, "532322", "type"),
    ("empty-trailing-columns", empty_trailing_columns, "532322", None),
    ("dash-for-nought", dash_for_nought, "532322", "type"),
    ("row-of-totals", a_row_of_totals, "532322", "total-row"),
    ("percent-sign", percent_sign, "532300", "type"),
    ("progress-falls", progress_falls, "532300", "progress-fell"),
]


@pytest.mark.parametrize("name,case,code,rule", CASES, ids=[c[0] for c in CASES])
def test_check_and_build_refuse_alike(name, case, code, rule, submissions, tmp_path):
    case(submissions)
    built = build_problems(submissions, tmp_path)
    if code is not None:
        checked = check(county(submissions, code))
        assert [p.as_dict() for p in checked] == [p.as_dict() for p in built]
    if rule is None:
        assert built == []
        return
    found = only(built, rule)
    for problem in found:
        assert problem.file and problem.zh and problem.en
        assert not (tmp_path / "out" / "chuxiong.db").exists()


def test_personal_data_is_named_by_cell_and_kind(submissions):
    child_named_in_a_remark(submissions)
    problems = check(county(submissions))
    assert {p.rule for p in problems} == {"personal-data"}
    assert all((p.row, p.column) == (3, "备注") for p in problems)
    assert any("姓名和年龄" in p.zh and "张小明" in p.zh for p in problems)
    assert any("病名" in p.zh for p in problems)


def test_a_correction_reason_is_one_of_a_fixed_list_and_the_note_is_not_published(
    submissions, tmp_path
):
    """Free text in a published reason could say 「补报2名」: the reason is chosen from a list,
    and the officer's note stays with the submissions."""
    header = "更正编号,更正日期,更正的表,年份或报告期,乡镇、村（居）委会代码或任务序号,更正原因,发现途径,内部说明\r\n"
    (submissions / "corrections.csv").write_text(
        header + "C1,2026-11-20,children_counts,2024,532322101,补报2名,县市自查,\r\n",
        encoding="utf-8-sig",
    )
    problems = build_problems(submissions, tmp_path)
    assert any(p.rule == "enum" and p.column == "更正原因" for p in problems)


def test_only_the_county_out_of_step_is_blamed_and_told_what_is_due(submissions, tmp_path):
    last_years_folder_sent_again(submissions)
    problems = build_problems(submissions, tmp_path)
    assert [(p.rule, p.file) for p in problems] == [
        ("reporting-year", "532326_大姚县/submission.yml")
    ]
    assert "2025 年度的数据应于 2026-03-31 前报送" in problems[0].zh
    assert "只报到 2024 年" in problems[0].zh


def test_a_second_custody_centre_is_named_twice_over(submissions):
    facility_again_under_a_new_id(submissions)
    rules = {p.rule: p for p in check(county(submissions))}
    assert set(rules) == {"duplicate-facility", "one-per-county"}
    assert "同一个机构填了两次" in rules["duplicate-facility"].zh
    assert "未成年人救助保护中心" in rules["one-per-county"].zh


def test_a_hotline_without_its_zero_gets_the_number_back(submissions):
    hotline_lost_its_leading_zero(submissions)
    [p] = check(county(submissions))
    assert "0878-0000707" in p.zh and "文本" in p.zh and p.letter


def test_merged_cells_are_named_once_not_as_empty_cells(submissions):
    merged_year_cells(submissions)
    problems = check(county(submissions, "532323"))
    assert [p.rule for p in problems] == ["merged-cells"]
    assert "A2:A9" in problems[0].zh and "取消合并" in problems[0].zh and "年份" in problems[0].zh


def test_formulas_are_named_and_said_once_for_the_column(submissions):
    formula_totals_in_xlsx(submissions)
    problems = check(county(submissions, "532323"))
    assert {p.rule for p in problems} == {"formula"}
    report = InputRejected(problems).report()
    assert report.count("[像公式的文字 formula]") == 1
    assert "选择性粘贴为数值" in report and f"（{len(problems)} 处）" in report
    assert "第 2–" in report and "列 L「困境儿童总数（去重）」" in report


def test_degrees_minutes_seconds_are_converted_for_the_officer(submissions):
    degrees_minutes_seconds(submissions)
    [p] = check(county(submissions))
    assert "十进制度" in p.zh and "101.63925" in p.zh


def test_value_fitting_hints(submissions):
    dash_for_nought(submissions)
    a_row_of_totals(submissions)
    percent_sign(submissions)
    problems = check(county(submissions)) + check(county(submissions, "532300"))
    said = " ".join(p.zh for p in problems)
    assert "如果是 0，请填 0" in said and "合计行" in said and "不带 %" in said
    assert "列 D「孤儿」" in InputRejected(problems).report()


def test_a_zip_is_checked_like_its_folder_and_other_files_are_explained(submissions, tmp_path):
    folder = county(submissions)
    hotline_lost_its_leading_zero(submissions)
    archive = shutil.make_archive(
        str(tmp_path / "532322_双柏县"), "zip", folder.parent, folder.name
    )
    report = tmp_path / "检查结果.html"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", archive, "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "区号前的 0 丢了" in result.stderr
    assert "区号前的 0 丢了" in report.read_text("utf-8")
    for given, said in (
        (folder / "facilities.csv", "这是一个文件，不是文件夹"),
        (tmp_path / "no-such-folder", "找不到这个文件夹"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "pipeline", "check", str(given), "--report", str(report)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 1 and said in result.stderr, result.stderr
        assert "Invalid value" not in result.stderr and said in report.read_text("utf-8")


def test_a_missing_year_names_file_and_year(submissions):
    missing_year(submissions)
    [p] = only(check(county(submissions)), "missing-year")
    assert p.file == "532322_双柏县/village_coverage.csv" and p.value == 2025
    assert "2025" in p.zh and "submission.yml" in p.zh


def test_a_type_error_is_not_reported_as_a_missing_township(submissions):
    type_error_only(submissions)
    problems = check(county(submissions))
    assert [p.rule for p in problems] == ["type"]


def test_a_code_excel_turned_into_scientific_notation_gets_one_hint(submissions):
    code_in_scientific_notation(submissions)
    [problem] = check(county(submissions))  # the township it meant is not called missing too
    assert (problem.rule, problem.row, problem.column) == ("pattern", 2, "乡镇代码")
    assert "科学计数法" in problem.zh and "scientific notation" in problem.en
    assert "9 位数字" in problem.zh


def test_invisible_characters_are_named_and_shown(submissions):
    right_to_left_override(submissions)
    [problem] = check(county(submissions))
    assert (problem.row, problem.column) == (3, "地址")
    assert "U+202E" in problem.zh and "RIGHT-TO-LEFT OVERRIDE" in problem.en
    assert problem.value == "妥甸镇⟨U+202E⟩路号"


def test_a_line_break_inside_a_cell_is_kept(submissions):
    folder = county(submissions)
    edit_csv(
        folder / "facilities.csv",
        lambda rows: set_cell(rows, 2, "服务内容", "临时庇护\r\n家庭寻亲"),
    )
    assert check(folder) == []


def test_swapped_coordinates_get_one_hint(submissions):
    swapped_coordinates(submissions)
    problems = check(county(submissions))
    assert [p.rule for p in problems] == ["coordinates-swapped"]
    assert "对调" in problems[0].zh and problems[0].row == 2


def test_a_point_in_kunming_is_outside_the_county(submissions):
    point_in_kunming(submissions)
    [p] = check(county(submissions))
    assert p.rule == "outside-county" and "楚雄州以外" in p.zh and p.row == 2


def test_wrong_formats_are_named_with_the_way_to_resave(submissions):
    old_excel_file(submissions)
    [p] = check(county(submissions))
    assert p.rule == "file-format" and p.value == "facilities.xls"
    assert "旧版 Excel" in p.zh and "另存为" in p.zh and ".xlsx" in p.zh


def test_a_second_sheet_is_refused_by_name(submissions):
    second_sheet(submissions)
    [p] = check(county(submissions, "532323"))
    assert p.rule == "sheets" and "Sheet2" in p.zh and "数据" in p.zh


def test_a_folder_without_a_county_code_is_not_a_false_pass(submissions, tmp_path):
    plain = tmp_path / "my_data"
    shutil.copytree(county(submissions), plain)
    [p] = check(plain)
    assert p.rule == "folder-name" and "532301_楚雄市" in p.zh
    empty = tmp_path / "empty"
    empty.mkdir()
    assert [p.rule for p in check(empty)] == ["no-submissions"]


def test_the_former_lufeng_county_code_is_explained(submissions):
    folder = county(submissions, "532302")
    folder.rename(folder.with_name("532331_禄丰县"))
    problems = check(submissions)
    [p] = only(problems, "former-code")
    assert "532302" in p.zh and "禄丰市" in p.zh and "2021" in p.zh


def test_today_names_of_units_are_accepted(submissions):
    text = (county(submissions, "532300") / "task_progress.csv").read_bytes().decode("utf-8-sig")
    assert "州卫健委" in text and "州医保局" in text and "州卫计委" in text
    assert check(county(submissions, "532300")) == []


def test_the_sample_county_passes(submissions):
    assert check(county(submissions)) == []


def test_a_gbk_submission_passes(submissions):
    folder = county(submissions, "532302")
    assert (folder / "children_counts.csv").read_bytes()[:2] != b"\xef\xbb"
    assert check(folder) == []


def test_missing_column(submissions):
    folder = county(submissions)

    def drop(rows):
        index = column(rows, "儿童福利督导员人数")
        for row in rows:
            row.pop(index)

    edit_csv(folder / "village_coverage.csv", drop)
    problems = check(folder)
    [p] = only(problems, "missing-column")
    assert [q.rule for q in problems] == ["missing-column"]  # and no follow-on errors
    assert p.file.endswith("village_coverage.csv") and p.row == 1
    assert "儿童福利督导员人数" in p.column and "supervisors" in p.column


def test_wrong_type(submissions):
    type_error_only(submissions)
    [p] = only(check(county(submissions)), "type")
    assert (p.row, p.column, p.value) == (5, "孤儿", "十二")
    assert "整数" in p.zh and "integer" in p.en


def test_unknown_township_code(submissions):
    folder = county(submissions)
    edit_csv(folder / "facilities.csv", lambda rows: set_cell(rows, 3, "所在乡镇代码", "532322999"))
    [p] = only(check(folder), "unknown-code")
    assert (p.row, p.column, p.value) == (3, "所在乡镇代码", "532322999")


def test_village_of_another_county(submissions):
    folder = county(submissions)
    edit_csv(
        folder / "village_coverage.csv",
        lambda rows: set_cell(rows, 4, "村（居）委会代码", "532301101001"),
    )
    problems = check(folder)
    [p] = only(problems, "unknown-code")
    assert (p.row, p.value) == (4, "532301101001") and "532322" in p.zh
    # the village whose row was overwritten is now missing for that year
    assert only(problems, "incomplete")[0].value == 2017


def test_duplicate_row(submissions):
    folder = county(submissions)
    edit_csv(folder / "village_coverage.csv", lambda rows: rows.append(list(rows[2])))
    [p] = only(check(folder), "duplicate-row")
    lines = (folder / "village_coverage.csv").read_text("utf-8").splitlines()
    assert p.row == len(lines) and "第 3 行" in p.zh and "row 3" in p.en


def test_negative_count(submissions):
    folder = county(submissions)
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 2, "重残儿童", "-3"))
    [p] = only(check(folder), "minimum")
    assert (p.row, p.column, p.value) == (2, "重残儿童", "-3")


def test_total_below_and_above(submissions):
    folder = county(submissions)
    edit_csv(
        folder / "children_counts.csv", lambda rows: set_cell(rows, 6, "困境儿童总数（去重）", "1")
    )
    [p] = only(check(folder), "total-too-small")
    assert (p.row, p.column) == (6, "困境儿童总数（去重）")
    edit_csv(
        folder / "children_counts.csv",
        lambda rows: set_cell(rows, 6, "困境儿童总数（去重）", "99999"),
    )
    only(check(folder), "total-too-large")


def test_home_opened_after_the_year(submissions):
    folder = county(submissions)

    def change(rows):
        for i, row in enumerate(rows[1:], start=2):
            if row[column(rows, "是否建有儿童之家")] == "是" and row[0] == "2018":
                row[column(rows, "儿童之家建成年份")] = "2024"
                change.row = i
                return

    edit_csv(folder / "village_coverage.csv", change)
    problems = check(folder)
    [p] = only(problems, "date-order")
    assert (p.row, p.column, p.value) == (change.row, "儿童之家建成年份", 2024)


def test_year_in_the_future_and_before_the_policy(submissions):
    folder = county(submissions)
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 2, "年份", "2099"))
    [p] = only(check(folder), "future-date")
    assert (p.row, p.column, p.value) == (2, "年份", 2099)
    edit_csv(folder / "village_coverage.csv", lambda rows: set_cell(rows, 2, "年份", "2015"))
    [p] = only(check(folder), "minimum")
    assert (p.row, p.column) == (2, "年份") and "2017" in p.zh


def test_unit_not_responsible_for_the_task(submissions):
    folder = county(submissions, "532300")

    def change(rows):
        for i, row in enumerate(rows[1:], start=2):
            if row[1] == "3":
                row[2] = "州总工会"
                change.row = i
                return

    edit_csv(folder / "task_progress.csv", change)
    [p] = only(check(folder), "not-responsible")
    assert (p.row, p.column, p.value) == (change.row, "责任单位", "州总工会")


def test_undecodable_bytes_and_utf16(submissions):
    folder = county(submissions)
    path = folder / "children_counts.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3] + b"\x80\xff"
    path.write_bytes(b"\n".join(lines))
    [p] = only(check(folder), "encoding")
    assert p.row == 4 and "GBK" in p.zh and "UTF-8" in p.en
    path = folder / "facilities.csv"
    path.write_bytes(path.read_text("utf-8-sig").encode("utf-16"))
    assert any("UTF-16" in p.zh for p in only(check(folder), "encoding"))


def test_empty_file_and_header_only(submissions):
    folder = county(submissions)
    (folder / "facilities.csv").write_bytes(b"")
    [p] = only(check(folder), "empty-file")
    assert p.file.endswith("facilities.csv")
    edit_csv(folder / "children_counts.csv", lambda rows: rows.__delitem__(slice(1, None)))
    [p] = only(check(folder), "no-rows")
    assert p.row == 1


def test_xlsx_header_in_the_wrong_row(submissions):
    folder = county(submissions, "532327")
    path = folder / "children_counts.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["数据"]
    sheet.protection.sheet = False
    sheet.insert_rows(1, 2)
    sheet["A1"] = "永仁县困境儿童人数"
    workbook.save(path)
    [p] = only(check(folder), "header-row")
    assert p.row == 3 and "第 3 行" in p.zh and "row 3" in p.en


def test_xlsx_with_codes_typed_as_numbers_passes(submissions):
    folder = county(submissions, "532327")
    path = folder / "village_coverage.xlsx"
    workbook = load_workbook(path)
    sheet = workbook["数据"]
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].value = int(row[0].value)
    workbook.save(path)
    assert check(folder) == []


def test_headers_with_half_width_brackets_are_read(submissions):
    """Titles are written with full-width brackets; what Excel users type is accepted too."""
    folder = county(submissions)

    def half_width(rows):
        rows[0] = [label.replace("（", "(").replace("）", ")") + " " for label in rows[0]]

    edit_csv(folder / "village_coverage.csv", half_width)
    text = (folder / "village_coverage.csv").read_bytes().decode("utf-8-sig")
    assert "村(居)委会代码 " in text.splitlines()[0]
    assert check(folder) == []


def test_unknown_file_and_folder(submissions):
    folder = county(submissions)
    (folder / "children.csv").write_text("x\n1\n", encoding="utf-8")
    (submissions / "123456_某县").mkdir()
    problems = check(submissions)
    assert {"unknown-file", "unknown-code"} <= {p.rule for p in problems}


def test_a_folder_or_link_in_place_of_a_file_is_refused_not_skipped(submissions, tmp_path):
    folder = county(submissions)
    (folder / "facilities.csv").unlink()
    (folder / "facilities.csv").mkdir()  # nothing read, and nothing said, would be a false pass
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("secret\n", encoding="utf-8")
    (folder / "village_coverage.csv").unlink()
    (folder / "village_coverage.csv").symlink_to(outside)
    (folder / "old").mkdir()
    problems = check(folder)
    assert sorted((p.file, p.rule) for p in problems) == [
        ("532322_双柏县/facilities.csv", "not-a-file"),
        ("532322_双柏县/old", "not-a-file"),
        ("532322_双柏县/village_coverage.csv", "not-a-file"),
    ]
    assert not any("secret" in p.format() for p in problems)


@pytest.mark.parametrize(
    "text,words",
    [
        ("reporting_year: 2025\nsubmitted_on: 2026-13-45\n", "真实存在的日期"),
        ("reporting_year: 2025\nsubmitted_on: [2026-01-19]\n", "submitted_on 应是"),
        ("reporting_year: 2025\nsubmitted_on: 2027-01-01\n", "晚于今天"),
        ("reporting_year: 2025\nsubmitted_on: 2025-06-01\n", "2026 年才能报送"),
        ("reporting_year: 2026\n", "还没有结束"),
        ("reporting_year: 2025\ngaps:\n  table: children_counts\n", "gaps 应是列表"),
        ("reporting_year: 2025\ngaps: 数据尚在核对\n", "gaps 应是列表"),
    ],
)
def test_a_wrong_submission_yml_gets_one_clear_problem(submissions, text, words):
    folder = county(submissions)
    (folder / "submission.yml").write_text(text, encoding="utf-8")
    [problem] = check(folder)  # no "missing year" for each year up to a reporting year not ended
    assert (problem.file, problem.rule) == ("532322_双柏县/submission.yml", "manifest")
    assert words in problem.zh
    assert not any("\u4e00" <= c <= "\u9fff" for c in problem.en), problem.en


def test_every_error_is_listed_in_one_run(submissions):
    folder = county(submissions)
    edit_csv(folder / "children_counts.csv", lambda rows: set_cell(rows, 5, "孤儿", "十二"))
    edit_csv(folder / "facilities.csv", lambda rows: set_cell(rows, 2, "经度", "99.5"))
    edit_csv(folder / "village_coverage.csv", lambda rows: rows.append(list(rows[2])))
    rules = {p.rule for p in check(folder)}
    assert {"type", "minimum", "duplicate-row"} <= rules


def test_check_command_prints_both_languages_tags_and_file_summaries(submissions, tmp_path):
    folder = county(submissions)
    type_error_only(submissions)
    report = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(folder), "--report", str(report)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert "[类型不对 type]" in result.stderr
    assert "第 5 行" in result.stderr and "row 5" in result.stderr
    assert "孤儿" in result.stderr and "十二" in result.stderr
    assert "未发布任何内容" in result.stderr and "nothing was published" in result.stderr
    assert "532322_双柏县/children_counts.csv：读取 72 行 rows, 1 个问题" in result.stdout
    page = report.read_text("utf-8")
    assert "十二" in page and "类型不对" in page and "<table" in page


def test_a_failed_build_leaves_the_published_files_untouched(submissions, tmp_path):
    out, db = tmp_path / "published", tmp_path / "published.db"
    build.build(submissions, DIVISIONS_SOURCES, out, db, quiet=True, today=TODAY)
    before = file_hashes(out, db)
    type_error_only(submissions)
    with pytest.raises(InputRejected) as rejected:
        build.build(submissions, DIVISIONS_SOURCES, out, db, quiet=True, today=TODAY)
    assert rejected.value.problems[0].rule == "type"
    assert file_hashes(out, db) == before
    assert not list(tmp_path.glob(".staging-*"))
