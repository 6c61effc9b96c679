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

    def format(self):
        where_zh = [f"文件 {self.file}"]
        where_en = [f"file {self.file}"]
        if self.row is not None:
            where_zh.append(f"第 {self.row} 行")
            where_en.append(f"row {self.row}")
        if self.column:
            where_zh.append(f"列「{self.column}」")
            where_en.append(f"column '{self.column}'")
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


class InputRejected(Exception):
    """Raised when the inputs have problems; nothing has been published."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the inputs")

    def report(self, limit=None):
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [p.format() for p in shown]
        if limit is not None and len(self.problems) > limit:
            rest = len(self.problems) - limit
            lines.append(f"……另有 {rest} 个问题未显示 / {rest} more not shown")
        header = (
            f"发现 {len(self.problems)} 个问题，未发布任何内容。"
            f" / Found {len(self.problems)} problem(s); nothing was published."
        )
        return "\n".join([header, *lines])
