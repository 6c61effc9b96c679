"""Files a spreadsheet opens right: an XLSX with typed cells, and a CSV for Excel.

A journalist's Excel turns a 12-digit village code into 5.32E+11 and a code with a
leading 0 into another number; WPS and LibreOffice do the same or worse. So:

- the XLSX (openpyxl, write-only: rows go to a temporary file, not memory) has Chinese
  headers, codes and other text as text cells, counts as numbers, dates as dates, and
  a second sheet, 说明, with what the table is, the conditions, the release, the fixed
  address, the licence and every column's meaning;
- the Excel CSV has the Chinese headers and writes a code as ="532301100201", which
  Excel and WPS show as the text it is (the plain CSV and the JSON keep API names and
  raw values, for programs).

Pure functions of a column list and rows: portal/exports.py finds them.
"""

import datetime
import re
import tempfile
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from . import words
from .csv_safety import defuse_field

WORDING = words.EXPORTS
EXCEL_MAX_ROWS = 1_048_576
CELL_MAX_CHARS = 32_767
DIGITS = re.compile(r"\d+")
DATE = re.compile(r"\d{4}-\d\d-\d\d")
# Characters XML 1.0 cannot carry; openpyxl refuses a cell holding one.
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    name: str  # the API name (the plain CSV's and the JSON's)
    title: str  # the Chinese header
    kind: str = "any"  # a Table Schema type, or "any" for a query's column
    description: str = ""
    labels: dict = None  # a coded column's Chinese names: a spreadsheet is read by people


def typed(value, column):
    """A cell's value as the spreadsheet should hold it: text stays text (codes above all),
    a count a number, a date a date."""
    if value is None or value == "":
        return None
    if column.labels and str(value) in column.labels:
        return column.labels[str(value)]
    if column.kind == "date" and isinstance(value, str) and DATE.fullmatch(value):
        return datetime.date.fromisoformat(value)
    if column.kind == "boolean" and value in (0, 1):
        return bool(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str):
        if len(value) > CELL_MAX_CHARS:
            return WORDING["too_long"]
        return defuse_field(ILLEGAL.sub("", value), False)
    return value


def excel_csv_field(value, column):
    """A field of the Excel CSV: a code (text of digits) as ="…", so Excel keeps it text."""
    if value is None:
        return ""
    if column.labels and str(value) in column.labels:
        return column.labels[str(value)]
    if isinstance(value, str) and column.kind in ("string", "any") and DIGITS.fullmatch(value):
        return f'="{value}"'
    return defuse_field(value, False) if isinstance(value, str) else value


class XlsxWriter:
    """An XLSX written row by row into a temporary file (constant memory for any length)."""

    def __init__(self, columns):
        self.columns = columns
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(WORDING["sheets"]["data"])
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, column.title)
            cell.font = bold
            header.append(cell)
        for index, column in enumerate(columns):
            width = max(8, min(40, 2 * len(column.title) + 2))
            self.sheet.column_dimensions[get_column_letter(index + 1)].width = width
        self.sheet.append(header)
        self.rows = 0

    def append(self, row):
        cells = []
        for value, column in zip(row, self.columns, strict=True):
            value = typed(value, column)
            if isinstance(value, datetime.date):
                cell = WriteOnlyCell(self.sheet, value)
                cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            else:
                cells.append(value)
        self.sheet.append(cells)
        self.rows += 1

    def append_all(self, rows):
        for row in rows:
            self.append(row)

    def note(self, text):
        """A last row that says something about the file (that it is incomplete)."""
        cell = WriteOnlyCell(self.sheet, text)
        cell.font = Font(bold=True, color="B00020")
        self.sheet.append([cell])

    def finish(self, about):
        """The 说明 sheet, then the file's bytes."""
        words = WORDING["about"]
        sheet = self.book.create_sheet(WORDING["sheets"]["about"])
        sheet.column_dimensions["A"].width = 18
        sheet.column_dimensions["B"].width = 30
        sheet.column_dimensions["C"].width = 10
        sheet.column_dimensions["D"].width = 80
        bold = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")
        for key, value in about:
            label = WriteOnlyCell(sheet, words.get(key, key))
            label.font = bold
            text = WriteOnlyCell(sheet, typed(value, Column(key, key, "string")))
            text.alignment = wrap
            sheet.append([label, text])
        sheet.append([])
        heading = WriteOnlyCell(sheet, words["columns"])
        heading.font = bold
        sheet.append([heading])
        header = []
        for key in ("column_title", "column_name", "column_type", "column_description"):
            cell = WriteOnlyCell(sheet, words[key])
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for column in self.columns:
            sheet.append(
                [
                    column.title,
                    column.name,
                    WORDING["types"].get("labelled" if column.labels else column.kind, column.kind),
                    column.description or "",
                ]
            )
        with tempfile.TemporaryFile() as out:
            self.book.save(out)
            out.seek(0)
            return out.read()


def citation(title, release, url, cited_on=None, escape=str):
    """The reference to a page or a file (exports.yaml's `citation`); `escape` lets a template
    mark the date and the address for its script."""
    released_on = release.get("released_on") or ""
    sample = str(release.get("sample")).lower() in ("1", "true")
    return WORDING["citation"].format(
        publisher=escape(WORDING["publisher"]),
        title=escape(title),
        sample=escape(WORDING["citation_sample"]) if sample else "",
        release=escape(release.get("release_id") or ""),
        year=escape(released_on[:4]),
        released_on=escape(released_on),
        cited_on=cited_on if cited_on is not None else escape(released_on),
        url=url if escape is str else escape(url),
    )
