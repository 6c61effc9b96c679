"""Disclosure control for the counts of children: what may be shown, what must be hidden,
and the audit that proves no hidden count can be worked out.

Anyone can download every table and run SQL, so a number that can be derived
from what is published counts as published. The rules:

1. Publication levels (reference table publication_levels): a series appears
   only at its finest allowed level and above; below that there is no row,
   not even a zero.
2. Primary suppression: a count from 1 to THRESHOLD - 1 is hidden.
3. Complementary suppression: further non-zero cells are hidden until the audit
   passes. Candidates are tried in an order that does not depend on any count
   (level, then a fixed hash of the cell's key), so the choice itself says
   nothing about the values hidden.
4. The audit (the release gate) models an attacker who knows the method:

   - every published count, in every version ever published of the same year
     (a correction publishes a year again);
   - each county cell is the sum of its township cells and the prefecture cell
     the sum of its county cells, for every series, published or not;
   - at every area the deduplicated total is at least each category and at most
     their sum (a child may be in several categories);
   - counts are whole numbers and never negative; zeros are always shown, so a
     hidden cell is at least 1 (a hidden cell is either small, 1 to 10, or a
     complementary cell, which is never 0);
   - which township rows a correction changed (the corrections log says so):
     every other township row is the same in both versions.

   For every hidden cell an integer program finds every value it could take.
   The audit passes when no hidden cell is pinned to one value and every hidden
   cell that could be small could be any of 1 to THRESHOLD - 1 (knowing that a
   cell is small is what the threshold itself says; narrowing it inside that
   range would be a leak), and no unpublished cell of a prefecture-only series
   (HIV, street children) can be proved non-zero.

Years are audited one at a time because nothing published links two different
years (no totals over years, no flows, and no count of why cells were hidden):
the joint program over all years splits into one independent block per year,
so solving each block is exact. Versions of the same year are linked and are
always solved together.

Complementary suppression searches with linear programs (fast, re-solved from
the last basis); the release gate then re-checks everything with integer
programs, and any cell the integer attacker can narrow sends the search back
for more. Only the integer gate can pass a release.

Hidden cells are published with an empty count and the one status
`suppressed`, whatever the reason; nothing published says how many cells were
hidden for which reason.
"""

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import yaml
from scipy.sparse import coo_matrix, vstack

RULE = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "schemas" / "disclosure_rule.yaml").read_text("utf-8")
)
THRESHOLD = RULE["threshold"]
SMALL = range(1, THRESHOLD)  # the counts that are always hidden
LEVEL_RANK = {"township": 0, "county": 1, "prefecture": 2}
TOTAL = "total"
TOLERANCE = 1e-6
PINNED, NARROW, NONZERO = "pinned", "narrow", "nonzero"


def publishable(cells, finest_level):
    """Only the cells at or above each series' finest published level."""
    return {
        key: value
        for key, value in cells.items()
        if LEVEL_RANK[key[1]] >= LEVEL_RANK[finest_level[key[3]]]
    }


def primary(cells, threshold=THRESHOLD):
    """Keys of the cells whose count is small enough to identify children."""
    return {key for key, value in cells.items() if 0 < value < threshold}


def stable_order(key):
    """A fixed, value-free tiebreak: the same key always sorts the same way."""
    return hashlib.sha256("|".join(map(str, key)).encode()).hexdigest()


@dataclass(frozen=True)
class Finding:
    """A hidden cell the attacker can narrow (or an HIV/street cell proved non-zero)."""

    version: int
    key: tuple
    rule: str  # PINNED, NARROW or NONZERO
    low: float
    high: float


@dataclass
class Version:
    """One version of a year's table as the attacker sees it.

    `values` holds the published counts (None for a hidden cell); keys absent
    from it are below the series' publication level and were never shown.
    """

    values: dict

    @property
    def hidden(self):
        return {k for k, v in self.values.items() if v is None}


class Solver:
    """One HiGHS model, re-solved with new bounds and objectives.

    Thousands of small programs share one constraint matrix; keeping the model
    (and its last basis) between solves is far faster than building a new one
    each time, as scipy's linprog does. `integer=True` makes every column
    integral: the exact attacker of the release gate.
    """

    def __init__(self, matrix, equations, integer):
        matrix = matrix.tocsc()
        self.columns = matrix.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_ = self.columns
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(self.columns)
        lp.col_lower_ = np.zeros(self.columns)
        lp.col_upper_ = np.full(self.columns, highspy.kHighsInf)
        lp.row_lower_ = np.concatenate(
            [np.zeros(equations), np.full(matrix.shape[0] - equations, -highspy.kHighsInf)]
        )
        lp.row_upper_ = np.zeros(matrix.shape[0])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        if integer:
            lp.integrality_ = [highspy.HighsVarType.kInteger] * self.columns
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        if integer:
            self.highs.setOptionValue("mip_rel_gap", 0.0)
            self.highs.setOptionValue("mip_abs_gap", 0.0)
        self.highs.passModel(lp)
        self.loaded = None
        self.target = None
        self.all_columns = np.arange(self.columns, dtype=np.int32)
        self.solved = 0

    def load(self, bounds):
        if self.loaded is not bounds:
            lower, upper = bounds
            finite = np.where(np.isinf(upper), highspy.kHighsInf, upper)
            self.highs.changeColsBounds(self.columns, self.all_columns, lower, finite)
            self.loaded = bounds

    def objective(self, column, sense):
        if self.target is not None:
            self.highs.changeColCost(self.target, 0.0)
            self.target = None
        if column is not None:
            self.highs.changeColCost(column, float(sense))
            self.target = column

    def run(self):
        """Solve from the last basis; if HiGHS cannot tell (status Unknown, which warm starts
        after many bound changes occasionally give), solve once more from scratch."""
        self.solved += 1
        self.highs.run()
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kUnknown:
            self.highs.clearSolver()
            self.highs.run()
            status = self.highs.getModelStatus()
        return status

    def integral(self):
        """Whether the last solution is a whole-number point (then it is also an integer optimum)."""
        values = np.asarray(self.highs.getSolution().col_value)
        return bool(np.all(np.abs(values - np.round(values)) <= TOLERANCE))

    def extreme(self, column, bounds, sense):
        """(lowest (sense=1) or highest (sense=-1) value of one column, solution integral?)."""
        self.load(bounds)
        self.objective(column, sense)
        status = self.run()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return (float("inf") if sense < 0 else float("-inf")), True
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"program failed: {self.highs.modelStatusToString(status)}")
        return sense * self.highs.getInfo().objective_function_value, self.integral()

    def lowest_sum(self, columns, bounds):
        """(the values of one point minimising the sum of these columns, is it integral?)."""
        self.load(bounds)
        self.objective(None, 0)
        self.highs.changeColsCost(
            len(columns), np.asarray(columns, dtype=np.int32), np.ones(len(columns))
        )
        status = self.run()
        values = np.asarray(self.highs.getSolution().col_value)
        integral = self.integral()
        self.highs.changeColsCost(
            len(columns), np.asarray(columns, dtype=np.int32), np.zeros(len(columns))
        )
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"program failed: {self.highs.modelStatusToString(status)}")
        return values, integral

    def feasible_at(self, column, value, bounds):
        """(can the column take exactly `value`?, solution integral?); bounds restored after."""
        self.load(bounds)
        self.objective(None, 0)
        lower, upper = bounds
        self.highs.changeColBounds(column, float(value), float(value))
        status = self.run()
        feasible = status == highspy.HighsModelStatus.kOptimal
        integral = self.integral() if feasible else True
        high = upper[column] if np.isfinite(upper[column]) else highspy.kHighsInf
        self.highs.changeColBounds(column, float(lower[column]), float(high))
        return feasible, integral


class Attacker:
    """The linear relaxation, with the integer program behind it where the relaxation is
    not already exact.

    An optimum of the relaxation at a whole-number point is also the integer
    optimum, and an infeasible relaxation means no integer point either; the
    integer program runs only when the relaxation lands on a fractional point.
    """

    def __init__(self, matrix, equations):
        self.linear = Solver(matrix, equations, integer=False)
        self.integer = Solver(matrix, equations, integer=True)

    def extreme(self, column, bounds, sense, exact):
        value, integral = self.linear.extreme(column, bounds, sense)
        if not exact or integral:
            return value
        return self.integer.extreme(column, bounds, sense)[0]

    def feasible_at(self, column, value, bounds, exact):
        feasible, integral = self.linear.feasible_at(column, value, bounds)
        if not exact or not feasible or integral:
            return feasible
        return self.integer.feasible_at(column, value, bounds)[0]

    @property
    def solved(self):
        return self.linear.solved + self.integer.solved


class AttackerModel:
    """The constraints an attacker can write for one prefecture-year, over all its versions.

    Variables are every cell at every level for every series, published or not,
    once per version. Published cells are fixed through their bounds, so the
    same matrices serve every audit of every candidate suppression pattern.
    """

    def __init__(self, universe, children_of, versions, unchanged):
        """`unchanged[v]`: township keys whose counts are the same in versions v and v + 1."""
        self.keys = sorted(universe, key=lambda k: (LEVEL_RANK[k[1]], k[2], k[3]))
        self.versions = versions
        self.width = len(self.keys)
        self.index = {key: i for i, key in enumerate(self.keys)}
        series = sorted({k[3] for k in self.keys})
        categories = [s for s in series if s != TOTAL]
        eq_rows, eq_cols, eq_vals = [], [], []
        equations = 0
        for v in range(versions):
            base = v * self.width
            for key in self.keys:
                year, level, area, s = key
                kids = children_of.get((level, area))
                if not kids:
                    continue
                eq_rows.append(equations)
                eq_cols.append(base + self.index[key])
                eq_vals.append(1.0)
                for child_level, child in kids:
                    eq_rows.append(equations)
                    eq_cols.append(base + self.index[(year, child_level, child, s)])
                    eq_vals.append(-1.0)
                equations += 1
        for v, same in enumerate(unchanged):
            for key in sorted(same, key=self.index.get):
                eq_rows += [equations, equations]
                eq_cols += [
                    v * self.width + self.index[key],
                    (v + 1) * self.width + self.index[key],
                ]
                eq_vals += [1.0, -1.0]
                equations += 1
        ub_rows, ub_cols, ub_vals = [], [], []
        inequalities = 0
        areas = sorted({(k[0], k[1], k[2]) for k in self.keys})
        for v in range(versions):
            base = v * self.width
            for year, level, area in areas:
                total = self.index.get((year, level, area, TOTAL))
                if total is None:
                    continue
                parts = [self.index[(year, level, area, c)] for c in categories]
                for part in parts:  # category - total <= 0
                    ub_rows += [inequalities, inequalities]
                    ub_cols += [base + part, base + total]
                    ub_vals += [1.0, -1.0]
                    inequalities += 1
                ub_rows.append(inequalities)  # total - sum(categories) <= 0
                ub_cols.append(base + total)
                ub_vals.append(1.0)
                for part in parts:
                    ub_rows.append(inequalities)
                    ub_cols.append(base + part)
                    ub_vals.append(-1.0)
                inequalities += 1
        columns = versions * self.width
        a_eq = coo_matrix((eq_vals, (eq_rows, eq_cols)), shape=(equations, columns))
        a_ub = coo_matrix((ub_vals, (ub_rows, ub_cols)), shape=(inequalities, columns))
        matrix = vstack([a_eq, a_ub])
        self.relations = equations + inequalities
        self.attacker = Attacker(matrix, equations)

    def column(self, version, key):
        return version * self.width + self.index[key]

    def bounds(self, states):
        """Column bounds for one suppression state per version: (lower, upper) arrays.

        A state maps published keys to their count, or None when hidden.
        """
        lower = np.zeros(self.versions * self.width)
        upper = np.full(self.versions * self.width, np.inf)
        for v, values in enumerate(states):
            for key, value in values.items():
                i = self.column(v, key)
                if value is None:
                    lower[i] = 1.0  # zeros are always shown: a hidden cell is at least 1
                else:
                    lower[i] = upper[i] = value
        return lower, upper

    def judge(self, version, key, bounds, exact):
        """A Finding if the attacker can narrow this hidden cell, else None.

        Exact (integer) judging also checks every small value in between: a
        whole-number program can leave holes in a range.
        """
        i = self.column(version, key)
        low = self.attacker.extreme(i, bounds, 1, exact)
        high = self.attacker.extreme(i, bounds, -1, exact)
        if high - low < 1 - TOLERANCE:
            return Finding(version, key, PINNED, low, high)
        if low <= SMALL[-1] + TOLERANCE:  # the cell could be small
            if low > SMALL[0] + TOLERANCE or high < SMALL[-1] - TOLERANCE:
                return Finding(version, key, NARROW, low, high)
            if exact:
                for value in SMALL[1:-1]:
                    if not self.attacker.feasible_at(i, value, bounds, exact):
                        return Finding(version, key, NARROW, low, high)
        return None

    def audit(self, states, sensitive, exact):
        """Every Finding for these states: hidden cells, then prefecture-only series."""
        bounds = self.bounds(states)
        findings = []
        for v, values in enumerate(states):
            for key in sorted((k for k, x in values.items() if x is None), key=self.index.get):
                finding = self.judge(v, key, bounds, exact)
                if finding:
                    findings.append(finding)
        if sensitive:
            # One program first: the cells that can all be 0 at once can each be 0.
            columns = [self.column(v, key) for v, key in sensitive]
            values, integral = self.attacker.linear.lowest_sum(columns, bounds)
            for (v, key), i in zip(sensitive, columns, strict=True):
                if values[i] <= TOLERANCE and (integral or not exact):
                    continue
                low = self.attacker.extreme(i, bounds, 1, exact)
                if low > TOLERANCE:
                    findings.append(Finding(v, key, NONZERO, low, float("inf")))
        return findings

    def protects(self, finding, states, exact):
        """(safe?, score) of one earlier finding under new states; a higher score is safer."""
        bounds = self.bounds(states)
        i = self.column(finding.version, finding.key)
        if finding.rule == NONZERO:
            low = self.attacker.extreme(i, bounds, 1, exact)
            return low <= TOLERANCE, -low
        again = self.judge(finding.version, finding.key, bounds, exact)
        if again is None:
            return True, float("inf")
        spread = again.high - again.low
        covered = max(0.0, min(again.high, SMALL[-1]) - max(again.low, SMALL[0]))
        return False, (covered, spread)

    @property
    def solved(self):
        return self.attacker.solved


class CannotProtect(RuntimeError):
    """No choice of further cells to hide makes these cells safe: publish less instead."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__(
            "complementary suppression cannot protect: "
            + ", ".join(f"{f.key} {f.rule}" for f in findings)
        )


def hierarchy(cells, parent_of):
    """(level, area) -> [(child level, child area)] for the areas present in `cells`."""
    children = defaultdict(set)
    for _, level, area, _ in cells:
        parent = parent_of(level, area)
        if parent:
            children[parent].add((level, area))
    return {k: sorted(v) for k, v in children.items()}


def related(key, keys, children_of, parent_of):
    """Cells that share a relation with `key`: its parent, siblings, children, other series."""
    year, level, area, series = key
    out = {key}
    parent = parent_of(level, area)
    if parent:
        out.add((year, parent[0], parent[1], series))
        for child_level, child in children_of.get(parent, []):
            out.add((year, child_level, child, series))
    for child_level, child in children_of.get((level, area), []):
        out.add((year, child_level, child, series))
    for other in keys:
        if other[:3] == (year, level, area):
            out.add(other)
    return out


def changed_keys(cells, unchanged, parent_of):
    """Keys whose value may differ between two versions: changed township cells and every
    cell they add up into."""
    changed = set()
    for key in cells:
        if key[1] == "township" and key not in unchanged:
            level, area = key[1], key[2]
            while level is not None:
                changed.add((key[0], level, area, key[3]))
                parent = parent_of(level, area)
                level, area = parent if parent else (None, None)
    return changed


@dataclass
class YearResult:
    hidden: set
    model: AttackerModel
    seconds: float


def protect_year(
    cells,
    finest_level,
    parent_of,
    earlier=(),
    unchanged=(),
    threshold=THRESHOLD,
):
    """Suppress and audit one prefecture-year jointly with its earlier versions.

    `cells` holds the new true counts at every level; `earlier` the versions of
    this year already published (oldest first) and `unchanged[v]` the township
    keys equal in version v and v + 1 (the last pair links the newest earlier
    version to this one). Returns a YearResult, or raises CannotProtect.

    Starts from the primary suppressions plus every cell still hidden in the
    latest version (hiding it again tells nothing new); while the audit finds a
    cell that can be narrowed, hides one more published, non-zero cell of the
    new version related to it, trying the lowest level first and, within a
    level, a fixed order unrelated to any count; the first that makes the cell
    safe is taken, or else the one that helps most. Each round hides at least
    one more cell, so the loop ends.
    """
    started = time.perf_counter()
    earlier = list(earlier)
    new = len(earlier)
    published = publishable(cells, finest_level)
    children_of = hierarchy(cells, parent_of)
    model = AttackerModel(cells, children_of, new + 1, list(unchanged))
    hidden = primary(published, threshold)
    frozen = set()  # shown before and unchanged: hiding them now would hide nothing
    if earlier:
        hidden |= {k for k in earlier[-1].hidden if k in published and cells[k] > 0}
        changed = changed_keys(cells, unchanged[-1], parent_of)
        frozen = {k for k, v in earlier[-1].values.items() if v is not None and k not in changed}
    prefecture_only = [
        k for k in model.keys if finest_level[k[3]] == "prefecture" and k[1] != "prefecture"
    ]
    sensitive = [(v, k) for v in range(new) for k in prefecture_only]
    sensitive += [(new, k) for k in prefecture_only if cells[k] > 0]  # 0 is feasible: the truth

    def states(extra=()):
        chosen = hidden | set(extra)
        current = {k: (None if k in chosen else published[k]) for k in published}
        return [version.values for version in earlier] + [current]

    exact = False
    while True:
        findings = model.audit(states(), sensitive, exact)
        if not findings and not exact:
            exact = True  # the linear search is done: the integer gate decides
            findings = model.audit(states(), sensitive, exact)
        if not findings:
            return YearResult(hidden, model, time.perf_counter() - started)
        added = False
        for finding in findings:
            if model.protects(finding, states(), exact)[0]:
                continue  # an earlier addition this round already made it safe
            candidates = sorted(
                (
                    k
                    for k in related(finding.key, model.keys, children_of, parent_of)
                    if k in published and k not in hidden | frozen and cells[k] > 0
                ),
                key=lambda k: (LEVEL_RANK[k[1]], stable_order(k)),
            )
            best, best_score = None, None
            for candidate in candidates:
                safe, score = model.protects(finding, states([candidate]), exact)
                if safe:
                    best = candidate
                    break
                if best_score is None or score > best_score:
                    best, best_score = candidate, score
            if best is not None:
                hidden.add(best)
                added = True
        if not added:
            raise CannotProtect(findings)


@dataclass
class Report:
    """What the audit did. Only `summary` and `markdown` are published; they say that the
    audit passed, how many cells are hidden in all and at each level, and the attacker
    model, and nothing about why any cell is hidden."""

    cells: int = 0
    hidden_by_level: dict = field(default_factory=lambda: defaultdict(int))
    published_by_level: dict = field(default_factory=lambda: defaultdict(int))
    relations: int = 0
    programs: int = 0
    seconds_by_year: dict = field(default_factory=lambda: defaultdict(float))
    passed: bool = True
    digest: str = ""  # SHA-256 of the published cells (see digest())

    @property
    def hidden(self):
        return sum(self.hidden_by_level.values())

    def count(self, values):
        """Add a year published before and reused as it was ({key: count or None})."""
        self.cells += len(values)
        for key, value in values.items():
            self.published_by_level[key[1]] += 1
            if value is None:
                self.hidden_by_level[key[1]] += 1

    def share_hidden(self, level):
        total = self.published_by_level[level]
        return self.hidden_by_level[level] / total if total else 0.0

    def summary(self, digest, threshold=THRESHOLD):
        """The deterministic, publishable part of the report (kept in the package descriptor)."""
        return {
            "result": "PASS" if self.passed else "FAIL",
            "threshold": threshold,
            "criterion": (
                f"no hidden cell is pinned; every hidden cell that could be 1 to {threshold - 1} "
                f"could be any of 1 to {threshold - 1}; no unpublished HIV or street-children "
                "count below the prefecture can be proved non-zero"
            ),
            "attacker": (
                "knows every published count of every version of each year, the sums up the "
                "hierarchy, that the deduplicated total lies between the largest category and "
                "the sum of categories, that counts are whole and non-negative, that zeros are "
                "shown (a hidden cell is at least 1), the threshold, the publication levels and "
                "which township rows a correction changed; solves integer programs"
            ),
            "cells": self.cells,
            "hidden": self.hidden,
            "by_level": {
                level: {
                    "published": self.published_by_level[level],
                    "hidden": self.hidden_by_level[level],
                }
                for level in sorted(self.published_by_level, key=LEVEL_RANK.get)
            },
            "cells_sha256": digest,
            "cells_sha256_of": "sorted lines year|level|area_code|series_code|count|status, "
            "joined by newlines, count empty when hidden",
        }

    def markdown(self, digest, threshold=THRESHOLD):
        """A human-readable account of the audit, published in the handbook."""
        names = {"township": "乡镇", "county": "县市", "prefecture": "全州"}
        small = f"1\u5230{threshold - 1}"
        lines = [
            "| 层级 | 公布的格子 | 隐藏的格子 | 隐藏比例 |",
            "|---|---:|---:|---:|",
        ]
        for level in sorted(self.published_by_level, key=LEVEL_RANK.get):
            lines.append(
                f"| {names[level]} | {self.published_by_level[level]} | "
                f"{self.hidden_by_level[level]} | {100 * self.share_hidden(level):.1f}% |"
            )
        return "\n".join(
            [
                f"- 审计结果\uff1a**{'通过' if self.passed else '未通过'}**",
                f"- 规则\uff1a{RULE['rule_zh']}为防止推算而隐藏的格子和小数字在数据中标记相同\uff0c"
                "本报告也不区分",
                f"- 公布的格子共 {self.cells} 个\uff0c隐藏 {self.hidden} 个",
                "- 假定的攻击者\uff1a知道全部公布的数字\uff08包括同一年份的每一个已发布版本\uff09\u3001"
                "各级合计关系\u3001去重总数介于最大类别和各类别之和之间\u3001人数是非负整数\u3001"
                f"0 都会公布\uff08所以隐藏的格子至少是 1\uff09\u3001门槛 {threshold}\u3001各系列的公布层级\u3001"
                "以及更正记录中哪些乡镇的数字改过\uff1b用整数规划求每个隐藏格子可能的全部取值",
                f"- 通过的标准\uff1a没有一个隐藏格子能被确定为唯一值\uff1b凡是可能小于 {threshold} "
                f"的隐藏格子\uff0c{small}中的每一个值都仍然可能\uff1b县市和乡镇一级的艾滋病病毒感染儿童"
                "\u3001流浪儿童人数都不能被证明不为 0",
                f"- 被审计格子的 SHA-256\uff1a`{digest}`",
                "",
                *lines,
            ]
        )


def digest(rows):
    """SHA-256 of the published cells, in a form anyone can recompute from the CSV or the database."""
    lines = sorted(
        f"{r['year']}|{r['level']}|{r['area_code']}|{r['series_code']}|"
        f"{'' if r['count'] is None else r['count']}|{r['status']}"
        for r in rows
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def prefecture_key(key, parent_of):
    level, area = key[1], key[2]
    while True:
        parent = parent_of(level, area)
        if parent is None:
            return area
        level, area = parent


def protect(cells, finest_level, parent_of, history=None, threshold=THRESHOLD):
    """(published cells, hidden keys, Report) for all years and prefectures.

    `cells` holds every count at every level, published or not; `parent_of(level,
    area)` gives the (level, area) it adds up into, or None at the top.
    `history` maps a (year, prefecture) to (earlier Versions, unchanged key sets)
    for years published before and corrected now.
    """
    history = history or {}
    published = publishable(cells, finest_level)
    groups = defaultdict(dict)
    for key, value in cells.items():
        groups[(key[0], prefecture_key(key, parent_of))][key] = value
    hidden_all = set()
    report = Report(cells=len(published))
    for group_key, group in sorted(groups.items()):
        earlier, unchanged = history.get(group_key, ((), ()))
        result = protect_year(group, finest_level, parent_of, earlier, unchanged, threshold)
        report.programs += result.model.solved
        report.relations += result.model.relations
        report.seconds_by_year[group_key[0]] += result.seconds
        hidden_all |= result.hidden
    for key in published:
        report.published_by_level[key[1]] += 1
        if key in hidden_all:
            report.hidden_by_level[key[1]] += 1
    return published, hidden_all, report
