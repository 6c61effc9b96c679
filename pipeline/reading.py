"""Read one submitted table (CSV in UTF-8, UTF-8 with BOM or GBK, or XLSX) and
type-check it against its Table Schema with Frictionless.

Files come from Excel on Chinese Windows, so the reader is lenient about what
Excel does (a BOM, GBK, codes typed as numbers, trailing blank rows, header
labels in Chinese or as field names) and strict about the data itself.
"""

import csv
import dataclasses
import datetime
import io
import re
import unicodedata
from pathlib import Path

from frictionless import Schema

from . import personal_data
from .problems import Problem

HEADER_SEARCH_ROWS = 10
TYPE_ZH = {
    "integer": "整数",
    "number": "数字",
    "boolean": "是/否",
    "date": "日期（如 2025-01-15）",
    "string": "文本",
}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode(raw, file):
    """Decode CSV bytes as Excel on Chinese Windows writes them, or explain why not."""
    if raw.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif raw.startswith(UTF16_BOMS):
        return None, Problem(
            file,
            "encoding",
            "文件是 UTF-16 编码；请另存为“CSV UTF-8（逗号分隔）”或 GBK 编码的 CSV",
            "the file is UTF-16; save it as 'CSV UTF-8 (comma delimited)' or as GBK CSV",
        )
    else:
        encodings = ["utf-8", "gb18030"]
    error = None
    for encoding in encodings:
        try:
            return raw.decode(encoding), None
        except UnicodeDecodeError as e:
            # Report where the encoding that read furthest broke down: that is the likely one.
            if error is None or e.start > error.start:
                error = e
    row = raw[: error.start].count(b"\n") + 1
    return None, Problem(
        file,
        "encoding",
        "无法识别文件编码：只接受 UTF-8（可带 BOM）或 GBK/GB18030",
        "unreadable encoding: only UTF-8 (with or without BOM) and GBK/GB18030 are accepted",
        row=row,
        value=repr(raw[error.start : error.start + 8]),
    )


def cell_text(value):
    """XLSX cells arrive typed; turn them into the text a CSV would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


# Sheets a workbook may carry besides the data: the templates' own instructions and code lists.
HELPER_SHEETS = {"填写说明", "说明", "代码表", "下拉列表"}
# A text cell starting with one of these is run as a formula by Excel and WPS (full-width forms
# too: an input method may type them).
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
DELIMITERS = {";": "分号", "\t": "制表符", "|": "竖线"}


def read_xlsx(path, file, schema=None):
    """Rows of the one sheet that holds data, or problems naming every other sheet with content.

    The templates' own sheets (instructions, code lists) are skipped, unless one of them
    holds the table's header, every required column of it: then rows were typed there.

    Formulas are read as formulas (not their cached results), so that a cell computed
    in Excel is reported rather than trusted: a value computed by a formula may be stale,
    and a formula in a text cell would travel on into every download.
    """
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as e:  # openpyxl raises many kinds for a broken file
        return None, [
            Problem(
                file,
                "unreadable-file",
                "无法作为 XLSX 打开（文件损坏或不是 Excel 文件）",
                f"cannot be opened as XLSX ({type(e).__name__})",
            )
        ]
    with_content = []
    for sheet in workbook.worksheets:
        rows = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        if not any(any(row) for row in rows):
            continue
        if sheet.title not in HELPER_SHEETS or holds_header(rows, schema):
            with_content.append((sheet.title, rows))
    workbook.close()
    if len(with_content) == 1:
        title, rows = with_content[0]
        if problems := merged_problems(rows, merged_ranges(path, title), file):
            return rows, problems
    if len(with_content) > 1:
        names = "、".join(f"“{name}”" for name, _ in with_content)
        return None, [
            Problem(
                file,
                "sheets",
                f"工作簿中有 {len(with_content)} 个工作表填了内容（{names}）：只能在一个工作表中填写；"
                "请把其他工作表的行合并到第一个后删除它们，以免有数据被漏读",
                f"{len(with_content)} sheets hold data ({', '.join(n for n, _ in with_content)}): "
                "put every row in one sheet and delete the others, so that no row is left out",
                value=", ".join(name for name, _ in with_content),
            )
        ]
    return (with_content[0][1] if with_content else []), []


MERGE = re.compile(r'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def column_letter(index):
    """Excel's name of a column from its 0-based position: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters):
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def merged_ranges(path, title):
    """[(first row, last row, first column, last column)] (1-based rows, 0-based columns) of
    the merged cells of the sheet named `title`, read from the workbook's XML (openpyxl's
    read-only mode does not give them)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            sheets = dict(re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook))
            target = re.search(rf'Id="{sheets[title]}"[^>]*Target="([^"]+)"', rels)
            if target is None:
                target = re.search(rf'Target="([^"]+)"[^>]*Id="{sheets[title]}"', rels)
            name = target.group(1).lstrip("/")
            name = name if name.startswith("xl/") else f"xl/{name}"
            xml = archive.read(name).decode("utf-8")
    except (KeyError, AttributeError, zipfile.BadZipFile, UnicodeDecodeError):
        return []
    return [
        (int(r1), int(r2), column_index(c1), column_index(c2))
        for c1, r1, c2, r2 in MERGE.findall(xml)
    ]


def merged_problems(rows, ranges, file):
    """One problem per merged range that reaches into the data, and the covered cells filled
    with the merged value so that they are not reported empty as well."""
    problems = []
    header = rows[0] if rows else []
    for first, last, left, right in ranges:
        if last < 2:
            continue  # a merged title above or in the header row is not data
        value = (
            rows[first - 1][left] if first - 1 < len(rows) and left < len(rows[first - 1]) else ""
        )
        names = "、".join(
            f"{column_letter(c)}「{header[c]}」"
            if c < len(header) and header[c]
            else column_letter(c)
            for c in range(left, right + 1)
        )
        where = f"第 {first}–{last} 行" if last > first else f"第 {first} 行"
        problems.append(
            Problem(
                file,
                "merged-cells",
                f"{where}的{names}是合并单元格（{column_letter(left)}{first}:{column_letter(right)}{last}）："
                "合并后只有第一格有值，其余格子是空的；请选中这些格子“取消合并”，并在每一行都填上值",
                f"rows {first}-{last} of {names} are merged cells: only the first holds a value; "
                "unmerge them and fill in every row",
                row=first,
                column=names,
                value=value,
            )
        )
        for r in range(first, last + 1):
            for c in range(left, right + 1):
                if r - 1 < len(rows) and c < len(rows[r - 1]) and not rows[r - 1][c]:
                    rows[r - 1][c] = value
    return problems


def read_csv_rows(path, file):
    text, problem = decode(Path(path).read_bytes(), file)
    if problem:
        return None, [problem]
    first_line = text.split("\n", 1)[0]
    found = max(DELIMITERS, key=first_line.count)
    if first_line.count(found) > first_line.count(","):
        return None, [
            Problem(
                file,
                "delimiter",
                f"文件用{DELIMITERS[found]}分隔，应为逗号分隔；请在 Excel 中另存为“CSV UTF-8（逗号分隔）”",
                f"the file is separated by {found!r}, not commas; save it as "
                "'CSV UTF-8 (comma delimited)'",
                row=1,
            )
        ]
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))], []


def read_cells(path, file, schema=None):
    """(all rows of the file as lists of strings, problems); rows are None when the file
    cannot be read at all."""
    path = Path(path)
    if path.stat().st_size == 0:
        return None, [Problem(file, "empty-file", "文件是空的", "the file is empty")]
    if path.suffix.lower() == ".xlsx":
        rows, problems = read_xlsx(path, file, schema)
    else:
        rows, problems = read_csv_rows(path, file)
    if rows is None:
        return None, problems
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        return None, [Problem(file, "empty-file", "文件没有任何内容", "the file has no content")]
    return without_empty_columns(rows), problems  # problems here: merged cells, read past


def without_empty_columns(rows):
    """The rows without the wholly empty columns Excel and WPS leave at the right when they
    save a CSV (a trailing comma on every line): they hold nothing, so they are dropped."""
    width = max(len(row) for row in rows)
    while width and not any(len(row) >= width and row[width - 1] for row in rows):
        width -= 1
    return [row[:width] for row in rows]


def normalise_label(label):
    """Header labels as Excel users type them: full- or half-width brackets, stray spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", label))


def holds_header(rows, schema):
    """Whether some row names every required column of the schema (by name or title)."""
    if schema is None:
        return False
    required = [
        {normalise_label(f["name"]), normalise_label(f["title"])}
        for f in schema["fields"]
        if f.get("constraints", {}).get("required")
    ]
    for row in rows:
        labels = {normalise_label(cell) for cell in row if cell}
        if required and all(names & labels for names in required):
            return True
    return False


def label_map(schema):
    """Header labels a submission may use for each field: the name or the Chinese title,
    normalised (see normalise_label)."""
    labels = {}
    for field in schema["fields"]:
        labels[normalise_label(field["name"])] = field["name"]
        labels[normalise_label(field["title"])] = field["name"]
    return labels


def match_header(rows, schema, file):
    """Map header labels to fields, looking for a header pushed below row 1."""
    labels = label_map(schema)
    header = [normalise_label(label) for label in rows[0]]
    known = [label for label in header if label in labels]
    if len(known) < len(header) / 2:
        for index, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=2):
            if sum(normalise_label(label) in labels for label in row) >= len(schema["fields"]) / 2:
                return None, [
                    Problem(
                        file,
                        "header-row",
                        f"表头应在第 1 行，但出现在第 {index} 行；请删去表头上方的行",
                        f"the header must be in row 1 but was found in row {index}; "
                        "delete the rows above it",
                        row=index,
                    )
                ]
    problems = []
    mapping = []
    seen = {}
    for position, label in enumerate(header, start=1):
        name = labels.get(label)
        if name is None:
            problems.append(
                Problem(
                    file,
                    "unknown-column",
                    f"第 {position} 列的表头不是本表的字段（编码错误时也会这样）",
                    f"column {position} is not a field of this table "
                    "(a wrong encoding shows up like this too)",
                    row=1,
                    column=label or f"#{position}",
                )
            )
        elif name in seen:
            problems.append(
                Problem(
                    file,
                    "duplicate-column",
                    f"该列与第 {seen[name]} 列重复",
                    f"the same field as column {seen[name]}",
                    row=1,
                    column=label,
                )
            )
            name = None
        else:
            seen[name] = position
        mapping.append(name)
    for field in schema["fields"]:
        if field["name"] not in seen and field.get("constraints", {}).get("required"):
            problems.append(
                Problem(
                    file,
                    "missing-column",
                    "缺少必填列",
                    "a required column is missing",
                    row=1,
                    column=f"{field['title']} ({field['name']})",
                )
            )
    return mapping, problems


def constraint_message(note, field):
    """Frictionless says 'constraint "minimum" is "0"'; say it for a person."""
    name = note.split('"')[1] if '"' in note else note
    value = field.get("constraints", {}).get(name)
    if name == "required":
        return name, "必填项为空", "a required value is empty"
    if name == "minimum":
        return name, f"小于最小值 {value}", f"below the minimum {value}"
    if name == "maximum":
        return name, f"大于最大值 {value}", f"above the maximum {value}"
    if name == "enum":
        return (
            name,
            f"不是允许的值；可选：{'、'.join(map(str, value))}",
            f"not an allowed value; one of: {', '.join(map(str, value))}",
        )
    if name == "pattern":
        digits = re.fullmatch(r"\[0-9\]\{(\d+)\}", value or "")
        if digits:
            n = digits.group(1)
            return name, f"格式不对：应为 {n} 位数字", f"wrong format: must be {n} digits"
        return name, f"格式不对（应符合 {value}）", f"wrong format (must match {value})"
    if name == "maxLength":
        return name, f"超过 {value} 个字", f"longer than {value} characters"
    return name, note, note


# What Excel shows a long number as when the column is not formatted as text.
SCIENTIFIC = re.compile(r"\d+(\.\d+)?[eE]\+?\d+")


# Degrees, minutes and seconds as officers copy them from a map or a GPS: 101°23'45.6",
# 101度23分45秒, 101°23.5′.
DMS = re.compile(
    r"\s*(\d{1,3})\s*[°度]\s*(?:(\d{1,2}(?:\.\d+)?)\s*[′'’分])?\s*"
    r"(?:(\d{1,2}(?:\.\d+)?)\s*(?:[″\"”]|秒|'')?)?\s*[NSEW东西南北]?\s*"
)
NOTHING = {"-", "—", "－", "–", "/", "无", "没有", "空", "暂无", "nil", "N/A", "n/a", "NA"}


def degrees(cell):
    """The decimal degrees of a cell written in degrees, minutes and seconds, or None."""
    found = DMS.fullmatch(cell)
    if not found or not (found.group(2) or found.group(3)):
        return None
    d, m, sec = (float(g) if g else 0.0 for g in found.groups())
    return round(d + m / 60 + sec / 3600, 5)


def hint(field_name, rule, cell, kind=None):
    """A likely cause of a broken rule, said before the rule itself: what fits the value typed."""
    if field_name in ("longitude", "latitude") and rule in ("minimum", "maximum"):
        return "坐标在楚雄州范围以外；", "coordinates outside Chuxiong; "
    if rule in ("pattern", "type") and SCIENTIFIC.fullmatch(cell):
        return (
            "Excel 把长数字显示成了科学计数法，原来的代码已经丢失；请把这一列设为“文本”格式后重新填写。",
            "Excel turned a long number into scientific notation and the code is lost; "
            "format the column as text and type the codes again. ",
        )
    if rule == "type" and kind in ("integer", "number"):
        if (value := degrees(cell)) is not None:
            return (
                f"这是度分秒写法：请改为十进制度，如 {value}（按你填的 {cell.strip()} 换算）；",
                f"degrees, minutes and seconds: use decimal degrees, e.g. {value}; ",
            )
        if cell.strip() in NOTHING:
            return (
                "如果是 0，请填 0，不要填“无”“-”或斜线；不知道的，请向数据来源核实后再填；",
                "if it is nought, type 0 (not a dash or 无); ",
            )
        if cell.strip().endswith(("%", "％")):
            return (
                f"百分比直接填数字，不带 %，如 {cell.strip().rstrip('%％')}；",
                "type a percentage as a plain number, without %; ",
            )
        if "," in cell or "，" in cell:
            return "数字里不要加千位分隔的逗号；", "no thousands separators in numbers; "
    return "", ""


_cell_readers = {}


def cell_readers(schema):
    """Frictionless's own typed cell readers for each field, built once per schema.

    Each reader parses a cell by the field's type and checks its constraints,
    returning (value, notes); notes name each rule broken. Using them directly
    rather than a Resource per file keeps the per-file cost near zero, which
    matters for the 16,000 files of a nation-sized benchmark.
    """
    cached = _cell_readers.get(id(schema))
    if cached is None or cached[0] is not schema:
        fields = Schema.from_descriptor(schema).fields
        cached = (schema, {f.name: f.create_cell_reader() for f in fields})
        _cell_readers[id(schema)] = cached
    return cached[1]


@dataclasses.dataclass
class Table:
    """What reading one file gave: typed rows, problems, and what the cross-file rules need.

    `keys` holds the primary-key values of every data row, rows with problems
    included, so that a row rejected for a bad value is still counted as
    present (a completeness rule must not report it missing as well);
    `keys_known` is false when some row's key cells could not be read (a key cell that
    broke a rule is None in `keys`).
    """

    records: list = dataclasses.field(default_factory=list)  # [(row number, {field: typed value})]
    problems: list = dataclasses.field(default_factory=list)
    rows: int = 0
    keys: list = dataclasses.field(default_factory=list)  # [{key field: typed value}]
    keys_known: bool = True
    letters: dict = dataclasses.field(default_factory=dict)  # column title -> Excel letter


# Invisible characters that have no place in a name, address or note: control characters
# (a NUL ends the text for many programs), format characters (a right-to-left override
# shows text in another order than it is stored; zero-width spaces make two equal names
# differ) and line/paragraph separators (they break JavaScript and some CSV readers). A
# line break typed with Alt+Enter is kept.
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
KEPT = {"\n"}


def invisible_characters(cell):
    text = cell.replace("\r\n", "\n")  # a line break as Windows writes it
    return [c for c in text if c not in KEPT and unicodedata.category(c) in INVISIBLE_CATEGORIES]


def invisible_problem(cell, field_spec, column, file, row_number):
    found = invisible_characters(cell) if field_spec["type"] == "string" else []
    if not found:
        return None
    codes = list(dict.fromkeys(found))
    names_zh = "、".join(f"U+{ord(c):04X}（{unicodedata.name(c, '控制字符')}）" for c in codes)
    names_en = ", ".join(
        f"U+{ord(c):04X} ({unicodedata.name(c, 'control character')})" for c in codes
    )
    shown = "".join(f"⟨U+{ord(c):04X}⟩" if c in codes else c for c in cell)
    return Problem(
        file,
        "invisible-character",
        f"含有看不见的字符 {names_zh}：它会打乱文字的显示或让下游程序出错；请删去"
        "（常见于从网页、聊天软件或 PDF 复制来的文字）",
        f"contains invisible characters {names_en}: they garble how the text shows or break "
        "programs downstream; delete them (they often come with text copied from the web, "
        "chat apps or PDFs)",
        row=row_number,
        column=column,
        value=shown,
    )


# What Excel and WPS write in a cell whose formula failed; saved as CSV they become text.
EXCEL_ERRORS = {
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#SPILL!", "#CALC!",
    "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
}  # fmt: skip


def excel_error_problem(cell, column, file, row_number):
    if cell.upper() not in EXCEL_ERRORS:
        return None
    return Problem(
        file,
        "excel-error",
        f"这是 Excel 的错误值 {cell}：算出它的公式出错了；请改正公式，再“选择性粘贴为数值”，"
        "或直接填写数字或文字",
        f"{cell} is an Excel error value: the formula behind it failed; fix it and paste "
        "the values, or type the value itself",
        row=row_number,
        column=column,
        value=cell,
    )


def formula_problem(cell, field_spec, column, file, row_number):
    if cell.startswith(("=", "\uff1d")) and field_spec["type"] != "string":
        return Problem(
            file,
            "formula",
            "这是公式：检查只读填写的数值，不计算公式；请把这一列复制后“选择性粘贴为数值”，再保存",
            "a formula: type or paste the value itself (Paste Special, Values)",
            row=row_number,
            column=column,
            value=cell,
        )
    if field_spec["type"] == "string" and cell.startswith(FORMULA_STARTS):
        return Problem(
            file,
            "formula",
            "以 = + - @ 开头的文字会被 Excel 和 WPS 当作公式执行（公式单元格也是这样）；"
            "请删去开头的符号或改写，公式请“选择性粘贴为数值”",
            "text starting with = + - or @ is run as a formula by spreadsheets (formula cells too); "
            "remove the sign or rephrase, and paste formulas as values",
            row=row_number,
            column=column,
            value=cell,
        )
    return None


MEMO_SIZE = 4096  # distinct clean cells remembered per column


class Column:
    """One column of a file: how each of its cells is read and checked.

    A cell that passes every check always gives the same value, so the values of clean
    cells are remembered (years, yes/no, small counts and remarks repeat on every row of a
    nation-sized table); a cell with a problem is checked again each time, since its
    problem names its row."""

    def __init__(self, index, field, title, reader, file):
        self.index, self.field, self.title = index, field, title
        self.reader, self.file = reader, file
        self.name = field["name"]
        self.letter = column_letter(index)
        self.clean = {}

    def read(self, cell, row_number):
        """(value, [Problem])."""
        value = self.clean.get(cell, self)
        if value is not self:
            return value, []
        value, problems = self.check(cell, row_number)
        return value, [dataclasses.replace(p, letter=self.letter) for p in problems]

    def check(self, cell, row_number):
        field, title, file = self.field, self.title, self.file
        formula = (
            excel_error_problem(cell, title, file, row_number)
            or formula_problem(cell, field, title, file, row_number)
            or invisible_problem(cell, field, title, file, row_number)
        )
        if formula:
            return None, [formula]
        value, notes = self.reader(cell)
        if notes:
            return None, [
                describe(rule, note, cell, field, title, file, row_number)
                for rule, note in notes.items()
            ]
        personal = personal_data.problems(cell, field, title, file, row_number)
        if personal:
            return None, personal
        if len(self.clean) < MEMO_SIZE:
            self.clean[cell] = value
        return value, []


TOTAL_WORDS = re.compile(r"^\s*(合\s*计|总\s*计|小\s*计|全县合计|全州合计|总计数|合计数)\b")


def total_row(row, columns, file, row_number):
    """A Problem for a row of totals typed below the data (the portal adds up itself)."""
    for column in columns:
        cell = row[column.index]
        if TOTAL_WORDS.match(cell) and column.field["type"] == "string":
            return Problem(
                file,
                "total-row",
                f"这一行是合计行（“{cell.strip()}”）：合计由门户按各行自动计算，报送表里不要合计行；"
                "请删去这一行",
                "a row of totals: the portal adds up the rows itself; delete it",
                row=row_number,
                column=column.title,
                value=cell.strip(),
                letter=column.letter,
            )
    return None


def read_table(path, schema, file):
    """Type-check a file against its schema; return a Table.

    A record maps field names to typed values. Rows with any problem are left
    out of the records, so later rules only see well-typed rows. Row numbers
    are Excel's: the header is row 1.
    """
    out = Table()
    rows, read_problems = read_cells(path, file, schema)
    if rows is None:
        out.problems = read_problems
        out.keys_known = False
        return out
    mapping, problems = match_header(rows, schema, file)
    problems = read_problems + problems
    out.problems = problems
    out.rows = sum(1 for row in rows[1:] if any(row))
    if mapping is None:
        out.keys_known = False
        return out
    if out.rows == 0:
        problems.append(
            Problem(file, "no-rows", "只有表头，没有数据行", "only a header, no data rows", row=1)
        )
        return out
    fields = {f["name"]: f for f in schema["fields"]}
    readers = cell_readers(schema)
    columns = [
        Column(i, fields[name], rows[0][i], readers[name], file)
        for i, name in enumerate(mapping)
        if name is not None
    ]
    titles = {c.name: c.title for c in columns}
    out.letters = {c.title: c.letter for c in columns}
    primary_key = [k for k in schema.get("primaryKey", []) if k in titles]
    out.keys_known = len(primary_key) == len(schema.get("primaryKey", []))
    width = len(mapping)
    seen_keys = {}
    for row_number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue  # Excel leaves blank rows; they carry nothing
        if len(row) > width and any(row[width:]):
            problems.append(
                Problem(
                    file,
                    "extra-cell",
                    "这一行的值比表头多",
                    "this row has more values than the header",
                    row=row_number,
                    value=",".join(row[width:]),
                )
            )
        row = row + [""] * (width - len(row))
        if total := total_row(row, columns, file, row_number):
            problems.append(total)
            continue
        record, row_problems = {}, []
        for column in columns:
            value, found = column.read(row[column.index], row_number)
            if found:
                row_problems += found
            else:
                record[column.name] = value
        # A key cell that broke a rule (a code in the wrong format, say) names no area: it is
        # unknown, not a different area, or the area it meant would be reported missing too.
        key = {k: record.get(k) for k in primary_key}
        if None in key.values():
            out.keys_known = False
        out.keys.append(key)
        key = tuple(key.values())
        if primary_key and None not in key:
            first = seen_keys.setdefault(key, row_number)
            if first != row_number:
                names = "、".join(titles[k] for k in primary_key)
                row_problems.append(
                    Problem(
                        file,
                        "duplicate-row",
                        f"重复：与第 {first} 行的{names}相同",
                        f"duplicate: same {', '.join(primary_key)} as row {first}",
                        row=row_number,
                    )
                )
        problems.extend(row_problems)
        if not row_problems:
            out.records.append((row_number, record))
    if any(p.rule == "missing-column" for p in problems):
        out.records = []  # the cross-file rules need every required column
        out.keys_known = False
    return out


def describe(rule, note, cell, field, column, file, row_number):
    """A Frictionless note on one cell, said for a data officer."""
    if rule == "type":
        kind = field["type"]
        if kind == "boolean":
            allowed = "、".join(field.get("trueValues", []) + field.get("falseValues", []))
            zh, en = f"应填 是/否（可用：{allowed}）", f"expected yes/no ({allowed})"
        else:
            zh, en = f"类型不对：应为{TYPE_ZH.get(kind, kind)}", f"wrong type: expected {kind}"
        hint_zh, hint_en = hint(field["name"], "type", cell, kind)
        return Problem(
            file, "type", hint_zh + zh, hint_en + en, row=row_number, column=column, value=cell
        )
    rule, zh, en = constraint_message(note, field)
    hint_zh, hint_en = hint(field["name"], rule, cell)
    return Problem(
        file, rule, hint_zh + zh, hint_en + en, row=row_number, column=column, value=cell
    )
