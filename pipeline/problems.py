"""Problems found in the inputs, as typed objects a person can act on.

A data officer reads these, so each one names the file, the row (as Excel
numbers it: the header is row 1), the column, the value, and the rule broken,
in Chinese and in English. The build collects every problem in one run
rather than stopping at the first, so a submission is fixed in one go.
"""

from dataclasses import dataclass
from functools import cache

import yaml

from .paths import SCHEMAS

ZH_COMMA, ZH_COLON = "\uff0c", "\uff1a"


@cache
def rule_names():
    """{rule tag: (Chinese name, English name, what to do)}, from schemas/problem_rules.yaml."""
    with open(SCHEMAS / "problem_rules.yaml", encoding="utf-8") as f:
        return {r["rule"]: (r["zh"], r["en"], r["fix"]) for r in yaml.safe_load(f)}


def tag(rule):
    """The bracketed tag printed before a problem: its Chinese name, then the rule's code."""
    names = rule_names().get(rule)
    return f"[{names[0]} {rule}]" if names else f"[{rule}]"


@dataclass(frozen=True)
class Problem:
    file: str
    rule: str
    zh: str
    en: str
    row: int | None = None
    column: str | None = None
    value: object = None
    letter: str | None = None  # the column as Excel names it (D), when the file has one

    def where(self, rows=None):
        """(Chinese, English) of where the problem is: file, row (or rows), column."""
        where_zh = [f"文件 {self.file}"]
        where_en = [f"file {self.file}"]
        if rows:
            where_zh.append(f"第 {rows} 行")
            where_en.append(f"rows {rows}")
        elif self.row is not None:
            where_zh.append(f"第 {self.row} 行")
            where_en.append(f"row {self.row}")
        if self.column:
            where_zh.append(
                f"列 {self.letter}「{self.column}」" if self.letter else f"列「{self.column}」"
            )
            where_en.append(
                f"column {self.letter} '{self.column}'"
                if self.letter
                else f"column '{self.column}'"
            )
        return where_zh, where_en

    def format(self):
        where_zh, where_en = self.where()
        value = ""
        if self.value not in (None, ""):
            value = f"\n    值 value: {self.value!s}"
        return (
            f"{tag(self.rule)} {ZH_COMMA.join(where_zh)}{ZH_COLON}{self.zh}\n"
            f"    {', '.join(where_en)}: {self.en}{value}"
        )

    def as_dict(self):
        names = rule_names().get(self.rule, (self.rule, self.rule, ""))
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "letter": self.letter,
            "rule": self.rule,
            "rule_zh": names[0],
            "zh": self.zh,
            "en": self.en,
            "fix": names[2],
        }


@dataclass(frozen=True)
class FileSummary:
    """One line per file read: how many data rows, how many problems."""

    file: str
    rows: int
    problems: int

    def format(self):
        verdict = "通过 OK" if not self.problems else f"{self.problems} 个问题 problem(s)"
        return f"  {self.file}{ZH_COLON}读取 {self.rows} 行 rows, {verdict}"


def from_report(report, folder, zh_prefix="", en_prefix=""):
    """A Frictionless validation report's errors as Problems, one per error, in file order."""
    return [
        Problem(
            f"{folder}/{task.name}.csv",
            error.type,
            zh_prefix + error.message,
            en_prefix + error.message,
            row=getattr(error, "row_number", None),
            column=getattr(error, "field_name", None),
            value=getattr(error, "cell", None),
        )
        for task in report.tasks
        for error in task.errors
    ]


SHOWN_PER_GROUP = 3


@dataclass
class Group:
    """Problems of one kind in one column of one file, on consecutive rows or not: said once,
    with the rows and how many (「第 2–82 行，列 D「总数」：这是公式……（81 处）」)."""

    problems: list

    @property
    def first(self):
        return self.problems[0]

    def rows(self):
        """The rows as ranges: "2–82、90"."""
        numbers = sorted({p.row for p in self.problems if p.row is not None})
        spans, start = [], None
        for i, n in enumerate(numbers):
            if start is None:
                start = n
            if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
                spans.append(f"{start}–{n}" if n != start else f"{n}")
                start = None
        return "、".join(spans)

    def values(self):
        shown = [str(p.value) for p in self.problems[:SHOWN_PER_GROUP] if p.value not in (None, "")]
        more = len(self.problems) - SHOWN_PER_GROUP
        return "、".join(shown) + (f"……（另有 {more} 处）" if more > 0 and shown else "")

    def format(self):
        if len(self.problems) == 1:
            return self.first.format()
        where_zh, where_en = self.first.where(self.rows())
        count = len(self.problems)
        value = f"\n    值 values: {self.values()}" if self.values() else ""
        return (
            f"{tag(self.first.rule)} {ZH_COMMA.join(where_zh)}{ZH_COLON}{self.first.zh}"
            f"（{count} 处）\n    {', '.join(where_en)}: {self.first.en} ({count} cells){value}"
        )

    def as_dict(self):
        return self.first.as_dict() | {
            "rows": self.rows(),
            "count": len(self.problems),
            "values": self.values(),
        }


def grouped(problems):
    """Problems said once per kind: the same rule, message and column of one file together,
    in the order the first of each was found; whole-file problems (no row) first, since a
    file that cannot be read is the first thing to fix."""
    groups = {}
    for p in problems:
        if p.row is None:
            key = ("file", id(p))
        else:
            key = (p.file, p.rule, p.column, p.zh, p.en)
        groups.setdefault(key, []).append(p)
    out = [Group(g) for g in groups.values()]
    return sorted(out, key=lambda g: g.first.row is not None)


class InputRejected(Exception):
    """Raised when the inputs have problems; nothing has been published."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the inputs")

    def report(self, limit=None):
        groups = grouped(self.problems)
        shown = groups if limit is None else groups[:limit]
        lines = [g.format() for g in shown]
        if limit is not None and len(groups) > limit:
            rest = len(groups) - limit
            lines.append(f"……另有 {rest} 类问题未显示 / {rest} more kinds not shown")
        header = (
            f"发现 {len(self.problems)} 个问题，未发布任何内容。"
            f" / Found {len(self.problems)} problem(s); nothing was published."
        )
        return "\n".join([header, *lines])
