"""What an attacker can work out from a suppression pattern: the integer programs of the audit.

Variables are every cell at every level for every series, published or not,
once per published version of a year. Published cells are fixed through their
bounds, so one constraint matrix serves every audit of every candidate pattern:

- each county cell is the sum of its township cells and the prefecture cell the
  sum of its county cells, for every series, published or not;
- at every area the deduplicated total is at least each category and at most
  their sum (a child may be in several categories);
- counts are whole and never negative; zeros are always shown, so a hidden cell
  is at least 1;
- between two versions of a year, the township cells a correction did not name
  are equal.

A hidden cell may also carry its class: small (1 to THRESHOLD - 1) or not
(THRESHOLD or more). The method chooses its pattern as if the attacker knew
every hidden cell's class (the worst the pattern itself could tell them); the
release gate (replay.py) then checks what an attacker who replays the method
can really conclude.
"""

from dataclasses import dataclass

import highspy
import numpy as np
from scipy.sparse import coo_matrix, vstack

from .rules import LEVEL_RANK, SMALL, TOTAL

TOLERANCE = 1e-6
PINNED, NARROW, NONZERO = "pinned", "narrow", "nonzero"
# The bounds of a hidden cell by class; a cell of unknown class is at least 1.
SMALL_CLASS = (float(SMALL[0]), float(SMALL[-1]))
LARGE_CLASS = (float(SMALL[-1] + 1), np.inf)
ANY_CLASS = (1.0, np.inf)


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
        if not integer:
            # Thousands of re-solves that change only one cost (and now and then the bounds):
            # the last basis stays primal feasible, so primal simplex goes on from it in a few
            # iterations, where the default (dual) starts over (0.3 ms a solve against 2.4 ms
            # on the sample's largest block).
            self.highs.setOptionValue("presolve", "off")
            self.highs.setOptionValue("simplex_strategy", 4)
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
        self.matrix = vstack([a_eq, a_ub]).tocsc()
        self.equations = equations
        self.relations = equations + inequalities
        self.attacker = Attacker(self.matrix, equations)

    def column(self, version, key):
        return version * self.width + self.index[key]

    def bounds(self, states, classes=None):
        """Column bounds for one suppression state per version: (lower, upper) arrays.

        A state maps published keys to their count, or None when hidden. `classes[v]`,
        when given, maps a hidden key of version v to its (low, high) bounds by class;
        a hidden cell of no known class is at least 1 (zeros are always shown).
        """
        lower = np.zeros(self.versions * self.width)
        upper = np.full(self.versions * self.width, np.inf)
        for v, values in enumerate(states):
            known = classes[v] if classes else None
            for key, value in values.items():
                i = self.column(v, key)
                if value is None:
                    lower[i], upper[i] = known.get(key, ANY_CLASS) if known else ANY_CLASS
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

    def audit(self, states, sensitive, exact, classes=None):
        """Every Finding for these states: hidden cells, then prefecture-only series."""
        bounds = self.bounds(states, classes)
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

    def protects(self, finding, states, exact, classes=None):
        """(safe?, score) of one earlier finding under new states; a higher score is safer."""
        bounds = self.bounds(states, classes)
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
