"""Disclosure control for the counts of children: what may be shown, what must be hidden,
and the audit that proves no hidden count can be worked out.

Anyone can download every table and run SQL, so a number that can be derived
from what is published counts as published. The rules:

1. Publication levels (reference table publication_levels): a series appears
   only at its finest allowed level and above; below that there is no row,
   not even a zero.
2. Primary suppression: a count from 1 to THRESHOLD - 1 is hidden.
3. Complementary suppression: further cells are hidden until the audit passes.
4. The audit (the release gate): for every hidden cell, two linear programs
   find the lowest and highest value consistent with everything published.
   It passes when every small hidden count has at least THRESHOLD possible
   values, no hidden cell is pinned to one value, and no unpublished cell of a
   prefecture-only series (HIV, street children) can be proved non-zero.

What the attacker is assumed to know, per prefecture and year (years are not
linked: nothing is published across years):

- every published count;
- each county cell is the sum of its township cells and the prefecture cell the
  sum of its county cells, for every series (published or not);
- at every area the deduplicated total is at least each category and at most
  their sum (a child may be in several categories);
- counts are non-negative, and a hidden cell at a level where zeros are shown
  is at least 1 (complementary suppression never hides a zero, so this holds).

Hidden cells are published with an empty count and the one status
`suppressed`, whatever the reason.
"""

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy.sparse import coo_matrix, vstack

THRESHOLD = 11
LEVEL_RANK = {"township": 0, "county": 1, "prefecture": 2}
TOTAL = "total"
TOLERANCE = 1e-6


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


@dataclass
class Range:
    low: float
    high: float

    def values(self):
        """How many whole numbers the cell could be."""
        if self.high == float("inf"):
            return float("inf")
        return int(np.floor(self.high + TOLERANCE) - np.ceil(self.low - TOLERANCE)) + 1


@dataclass
class Finding:
    key: tuple
    rule: str  # "narrow", "pinned" or "nonzero"
    range: Range


@dataclass
class AuditResult:
    passed: bool
    findings: list


class Problem:
    """The linear constraints an attacker can write for one prefecture and year.

    Variables are every cell at every level for every series, published or
    not; published cells are fixed by their bounds, so the same matrices serve
    every audit of every candidate suppression pattern.
    """

    def __init__(self, cells, published, children_of):
        self.keys = sorted(cells, key=lambda k: (LEVEL_RANK[k[1]], k[2], k[3]))
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.cells = cells
        self.published = published
        series = sorted({k[3] for k in self.keys})
        categories = [s for s in series if s != TOTAL]
        rows, cols, vals = [], [], []
        equations = 0
        for key in self.keys:
            year, level, area, s = key
            kids = children_of.get((level, area))
            if not kids:
                continue
            rows.append(equations)
            cols.append(self.index[key])
            vals.append(1.0)
            for child_level, child in kids:
                rows.append(equations)
                cols.append(self.index[(year, child_level, child, s)])
                vals.append(-1.0)
            equations += 1
        self.a_eq = coo_matrix((vals, (rows, cols)), shape=(equations, len(self.keys))).tocsr()
        rows, cols, vals = [], [], []
        inequalities = 0
        areas = sorted({(k[0], k[1], k[2]) for k in self.keys})
        for year, level, area in areas:
            total = self.index.get((year, level, area, TOTAL))
            if total is None:
                continue
            parts = [self.index[(year, level, area, c)] for c in categories]
            for part in parts:  # category - total <= 0
                rows += [inequalities, inequalities]
                cols += [part, total]
                vals += [1.0, -1.0]
                inequalities += 1
            rows.append(inequalities)  # total - sum(categories) <= 0
            cols.append(total)
            vals.append(1.0)
            for part in parts:
                rows.append(inequalities)
                cols.append(part)
                vals.append(-1.0)
            inequalities += 1
        self.a_ub = coo_matrix((vals, (rows, cols)), shape=(inequalities, len(self.keys))).tocsr()
        self.relations = equations + inequalities
        self.solved = 0
        self.solver = Solver(self.a_eq, self.a_ub)

    def bounds(self, hidden):
        """Column bounds for a suppression pattern: (lower, upper) arrays."""
        lower = np.zeros(len(self.keys))
        upper = np.full(len(self.keys), np.inf)
        for i, key in enumerate(self.keys):
            if key in self.published and key not in hidden:
                lower[i] = upper[i] = self.cells[key]
            elif key in self.published:
                lower[i] = 1.0  # zeros are shown here, so a hidden cell is >= 1
        return lower, upper

    def extreme(self, key, bounds, sense):
        """The lowest (sense=1) or highest (sense=-1) value of one cell."""
        self.solved += 1
        return self.solver.extreme(self.index[key], bounds, sense)

    def range(self, key, bounds):
        return Range(self.extreme(key, bounds, 1), self.extreme(key, bounds, -1))

    def audit(self, hidden, sensitive_unpublished, threshold=THRESHOLD):
        """Check every hidden cell, and every unpublished cell of a prefecture-only series."""
        bounds = self.bounds(hidden)
        findings = []
        for key in sorted(hidden, key=self.index.get):
            r = self.range(key, bounds)
            small = 0 < self.cells[key] < threshold
            if r.high - r.low < 1 - TOLERANCE:
                findings.append(Finding(key, "pinned", r))
            elif small and r.values() < threshold:
                findings.append(Finding(key, "narrow", r))
        for key in sensitive_unpublished:
            if self.cells[key] == 0:
                continue  # the true figures are a feasible point with this cell at 0
            low = self.extreme(key, bounds, 1)
            if low > TOLERANCE:
                findings.append(Finding(key, "nonzero", Range(low, float("inf"))))
        return AuditResult(not findings, findings)


class Solver:
    """One HiGHS model per prefecture-year, re-solved with new bounds and objectives.

    Thousands of small programs share the same constraint matrix; keeping the
    model (and its last basis) between solves is far faster than building a
    new one for each, as scipy's linprog does.
    """

    def __init__(self, a_eq, a_ub):
        matrix = vstack([a_eq, a_ub]).tocsc()
        self.columns = matrix.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_ = self.columns
        lp.num_row_ = matrix.shape[0]
        lp.col_cost_ = np.zeros(self.columns)
        lp.col_lower_ = np.zeros(self.columns)
        lp.col_upper_ = np.full(self.columns, highspy.kHighsInf)
        lp.row_lower_ = np.concatenate(
            [np.zeros(a_eq.shape[0]), np.full(a_ub.shape[0], -highspy.kHighsInf)]
        )
        lp.row_upper_ = np.zeros(matrix.shape[0])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.passModel(lp)
        self.loaded = None
        self.target = None
        self.all_columns = np.arange(self.columns, dtype=np.int32)

    def extreme(self, column, bounds, sense):
        lower, upper = bounds
        if self.loaded is not bounds:
            finite = np.where(np.isinf(upper), highspy.kHighsInf, upper)
            self.highs.changeColsBounds(self.columns, self.all_columns, lower, finite)
            self.loaded = bounds
        if self.target is not None:
            self.highs.changeColCost(self.target, 0.0)
        self.highs.changeColCost(column, float(sense))
        self.target = column
        self.highs.run()
        status = self.highs.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return float("inf") if sense < 0 else float("-inf")
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"linear program failed: {self.highs.modelStatusToString(status)}")
        return sense * self.highs.getInfo().objective_function_value


def hierarchy(cells, parent_of):
    """(level, area) -> [(child level, child area)] for the areas present in `cells`."""
    children = defaultdict(set)
    for _, level, area, _ in cells:
        parent = parent_of(level, area)
        if parent:
            children[parent].add((level, area))
    return {k: sorted(v) for k, v in children.items()}


def related(key, problem, children_of, parent_of):
    """Published cells that share a relation with `key`: the candidates to hide beside it."""
    year, level, area, series = key
    out = set()
    parent = parent_of(level, area)
    if parent:
        out.add((year, parent[0], parent[1], series))
        for child_level, child in children_of.get(parent, []):
            out.add((year, child_level, child, series))
    for child_level, child in children_of.get((level, area), []):
        out.add((year, child_level, child, series))
    for other in problem.keys:
        if other[:3] == (year, level, area):
            out.add(other)
    out.discard(key)
    return [k for k in out if k in problem.published]


class CannotProtect(RuntimeError):
    """No choice of further cells to hide makes these cells safe: publish less instead."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__(
            "complementary suppression cannot protect: "
            + ", ".join(f"{f.key} {f.rule}" for f in findings)
        )


def protection(problem, finding, bounds, cells, threshold):
    """(safe?, score) of one audited cell under a suppression pattern; a higher score is safer."""
    key = finding.key
    if finding.rule == "nonzero":
        low = problem.extreme(key, bounds, 1)
        return low <= TOLERANCE, -low
    r = problem.range(key, bounds)
    values = r.values() if r.high - r.low >= 1 - TOLERANCE else 0
    needed = threshold if 0 < cells[key] < threshold else 2
    return values >= needed, values


def protect_year(cells, published, finest_level, parent_of, threshold=THRESHOLD):
    """Suppress and audit one prefecture-year: (hidden keys, AuditResult, Problem).

    Start from the primary suppressions; while the audit finds a cell that can be
    worked out (or narrowed, or an HIV/street count proved non-zero below the
    prefecture), hide one more published, non-zero cell that shares a relation
    with it, preferring low levels and small counts, and choosing the first that
    makes the cell safe (or else the one that helps most). Each round hides at
    least one more cell, so the loop ends.
    """
    children_of = hierarchy(cells, parent_of)
    problem = Problem(cells, published, children_of)
    hidden = primary({k: cells[k] for k in published}, threshold)
    sensitive = [
        k
        for k in problem.keys
        if k not in published and finest_level[k[3]] == "prefecture" and k[1] != "prefecture"
    ]
    while True:
        result = problem.audit(hidden, sensitive, threshold)
        if result.passed:
            return hidden, result, problem
        added = False
        for finding in result.findings:
            if protection(problem, finding, problem.bounds(hidden), cells, threshold)[0]:
                continue  # an earlier addition this round already made it safe
            candidates = sorted(
                (
                    k
                    for k in related(finding.key, problem, children_of, parent_of)
                    if k not in hidden and cells[k] > 0
                ),
                key=lambda k: (LEVEL_RANK[k[1]], cells[k], k),
            )
            best, best_score = None, None
            for candidate in candidates:
                trial = problem.bounds(hidden | {candidate})
                safe, score = protection(problem, finding, trial, cells, threshold)
                if safe:
                    best = candidate
                    break
                if best_score is None or score > best_score:
                    best, best_score = candidate, score
            if best is not None:
                hidden.add(best)
                added = True
        if not added:
            raise CannotProtect(result.findings)


@dataclass
class Report:
    """What the audit did, for the build summary and the handbook."""

    cells: int = 0
    hidden_by_level: dict = field(default_factory=lambda: defaultdict(int))
    published_by_level: dict = field(default_factory=lambda: defaultdict(int))
    primary: int = 0
    relations: int = 0
    programs: int = 0
    seconds_by_year: dict = field(default_factory=lambda: defaultdict(float))
    passed: bool = True

    def share_hidden(self, level):
        total = self.published_by_level[level]
        return self.hidden_by_level[level] / total if total else 0.0

    def summary(self, digest, threshold=THRESHOLD):
        """The deterministic part of the report, kept in the package descriptor."""
        return {
            "result": "PASS" if self.passed else "FAIL",
            "threshold": threshold,
            "cells": self.cells,
            "primary_suppressions": self.primary,
            "by_level": {
                level: {
                    "published": self.published_by_level[level],
                    "hidden": self.hidden_by_level[level],
                }
                for level in sorted(self.published_by_level, key=LEVEL_RANK.get)
            },
            "relations": self.relations,
            "linear_programs": self.programs,
            "cells_sha256": digest,
            "cells_sha256_of": "sorted lines year|level|area_code|series_code|count|status, "
            "joined by newlines, count empty when hidden",
        }

    def markdown(self, digest, threshold=THRESHOLD):
        """A human-readable account of the audit, published in the handbook."""
        names = {"township": "乡镇", "county": "县市", "prefecture": "全州"}
        lines = [
            "| 层级 | 公布的格子 | 隐藏的格子 | 隐藏比例 |",
            "|---|---:|---:|---:|",
        ]
        for level in sorted(self.published_by_level, key=LEVEL_RANK.get):
            lines.append(
                f"| {names[level]} | {self.published_by_level[level]} | "
                f"{self.hidden_by_level[level]} | {100 * self.share_hidden(level):.1f}% |"
            )
        years = "、".join(
            f"{year}年 {seconds:.1f} 秒" for year, seconds in sorted(self.seconds_by_year.items())
        )
        return "\n".join(
            [
                f"- 审计结果:**{'通过 PASS' if self.passed else '未通过 FAIL'}**",
                f"- 门槛:1 到 {threshold - 1} 的人数一律隐藏",
                f"- 公布的格子共 {self.cells} 个,其中 {self.primary} 个因人数小于 {threshold} 而隐藏,"
                f"其余隐藏的格子是为防止推算而补充隐藏的",
                f"- 攻击者可用的关系(等式和不等式):{self.relations} 条",
                f"- 求解的线性规划:{self.programs} 个",
                f"- 各年份用时:{years}",
                f"- 被审计格子的 SHA-256:`{digest}`",
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


def protect(cells, finest_level, parent_of, threshold=THRESHOLD):
    """(published cells, hidden keys, Report) for all years and prefectures.

    `cells` holds every count at every level, published or not; `parent_of(level,
    area)` gives the (level, area) it adds up into, or None at the top.
    """
    published = publishable(cells, finest_level)
    groups = defaultdict(dict)
    for key, value in cells.items():
        groups[(key[0], prefecture_key(key, parent_of))][key] = value
    hidden_all = set()
    report = Report(cells=len(published))
    report.primary = len(primary(published, threshold))
    for (year, _), group in sorted(groups.items()):
        started = time.perf_counter()
        group_published = {k for k in group if k in published}
        hidden, result, problem = protect_year(
            group, group_published, finest_level, parent_of, threshold
        )
        report.programs += problem.solved
        report.relations += problem.relations
        report.seconds_by_year[year] += time.perf_counter() - started
        report.passed &= result.passed
        hidden_all |= hidden
    for key in published:
        report.published_by_level[key[1]] += 1
        if key in hidden_all:
            report.hidden_by_level[key[1]] += 1
    return published, hidden_all, report


def prefecture_key(key, parent_of):
    level, area = key[1], key[2]
    while True:
        parent = parent_of(level, area)
        if parent is None:
            return area
        level, area = parent
