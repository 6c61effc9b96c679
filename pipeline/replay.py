"""The release gate: what an attacker who re-runs the method can conclude, checked by example.

An attacker who reads this repository can take any table they imagine, run
disclosure.protect_year on it, and discard the table if the method would have
hidden other cells than it did. What they can still believe is the set of
whole-number tables that agree with everything published *and* on which the
method reproduces every published pattern. Their conclusions are safe exactly
when that set holds, for each hidden cell, enough different values.

The gate shows this by example. For each hidden cell whose true count is small
(and, in earlier versions, each that could be small) and each value from 1 to
THRESHOLD - 1, it looks for a witness: a whole-number table, as close as
possible to the true one, that agrees with every published figure of every
version, holds that value in that cell, and on which the method, re-run,
hides exactly what was hidden. For every other hidden cell it needs two
witnesses with different values, and for every unpublished HIV or
street-children count below the prefecture a witness with 0. A witness is a
proof: the attacker cannot rule out a table on which everything they can check
comes out as published. Where none is found, the gate fails and the build
stops.

Witnesses are searched over hypotheses about which hidden cells are small: the
true classes first, then with one class changed, then two; each hypothesis
gives an integer program (HiGHS) whose optimum is the nearest table under it.

When the class-aware search added nothing (the primaries, and what the shape
of the pattern required from the classes alone, were already safe) and no
earlier version exists, every table with the same small cells gives the same
pattern: the structural step reads only classes and zeros, and the audit only
published figures and classes (a count that can be proved non-zero is
non-zero in every table, so which unpublished counts the method checks makes
no difference). The class-aware integer audit the method ran is then already
the proof, and the gate re-runs nothing.

The gate also counts the hidden cells that no witness can make small: an
attacker who replays the method can prove those are THRESHOLD or more. That
count is published per level; it is something anyone with this code can
compute, and knowing a count is THRESHOLD or more says less than publishing it.
"""

import itertools
import time
from collections import defaultdict
from dataclasses import dataclass, field

import highspy
import numpy as np

from .attacker_model import (
    ANY_CLASS,
    LARGE_CLASS,
    NARROW,
    NONZERO,
    PINNED,
    SMALL_CLASS,
    TOLERANCE,
    AttackerModel,
    Finding,
)
from .rules import LEVEL_RANK, SMALL

MAX_FLIPS = 2  # hypotheses: the true classes, then up to two hidden cells' classes changed
MAX_HYPOTHESES = 64
OTHER_VALUES = 6  # tries for a second value of a hidden cell that is not small
NUDGES = (-1, 1, -2, 2)


@dataclass
class Verdict:
    findings: list = field(default_factory=list)
    replays: int = 0
    witnesses: int = 0
    programs: int = 0
    seconds: float = 0.0
    provably_large_by_level: dict = field(default_factory=lambda: defaultdict(int))


class Witnesses:
    """Whole-number tables that satisfy the attacker's constraints, nearest to a reference.

    One HiGHS model per prefecture-year: the cells x (integer) and, for each, its
    distance d to the reference (d >= x - ref, d >= ref - x); the objective is the
    sum of distances. Bounds on x carry what is published and the hypothesis tried.
    """

    def __init__(self, model: AttackerModel, reference):
        n = model.versions * model.width
        matrix = model.matrix.tocoo()
        rows, cols, vals = list(matrix.row), list(matrix.col), list(matrix.data)
        m = matrix.shape[0]
        row_lower = [0.0] * model.equations + [-highspy.kHighsInf] * (m - model.equations)
        row_upper = [0.0] * m
        for i in range(n):
            # d_i - x_i >= -ref_i   and   d_i + x_i >= ref_i
            for sign, bound in ((-1.0, -reference[i]), (1.0, reference[i])):
                rows += [m, m]
                cols += [n + i, i]
                vals += [1.0, sign]
                row_lower.append(float(bound))
                row_upper.append(highspy.kHighsInf)
                m += 1
        order = np.lexsort((np.asarray(rows), np.asarray(cols)))
        cols_sorted = np.asarray(cols)[order]
        lp = highspy.HighsLp()
        lp.num_col_ = 2 * n
        lp.num_row_ = m
        lp.col_cost_ = np.concatenate([np.zeros(n), np.ones(n)])
        lp.col_lower_ = np.zeros(2 * n)
        lp.col_upper_ = np.full(2 * n, highspy.kHighsInf)
        lp.row_lower_ = np.asarray(row_lower)
        lp.row_upper_ = np.asarray(row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(cols_sorted, np.arange(2 * n + 1)).astype(np.int32)
        lp.a_matrix_.index_ = np.asarray(rows)[order].astype(np.int32)
        lp.a_matrix_.value_ = np.asarray(vals)[order]
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n + [
            highspy.HighsVarType.kContinuous
        ] * n
        self.n = n
        self.rows = m - 2 * n  # the attacker's own constraints come first
        self.integer = highspy.Highs()
        self.linear = highspy.Highs()
        for highs in (self.integer, self.linear):
            highs.setOptionValue("output_flag", False)
        self.integer.setOptionValue("mip_rel_gap", 0.0)
        self.integer.passModel(lp)
        lp.integrality_ = []
        self.linear.passModel(lp)
        self.columns = np.arange(n, dtype=np.int32)
        self.solved = 0

    def aim(self, reference):
        """Measure distance from another reference table (the right-hand sides of the d rows)."""
        lower = np.empty(2 * self.n)
        lower[0::2], lower[1::2] = -reference, reference
        rows = np.arange(self.rows, self.rows + 2 * self.n, dtype=np.int32)
        upper = np.full(2 * self.n, highspy.kHighsInf)
        for highs in (self.integer, self.linear):
            highs.changeRowsBounds(2 * self.n, rows, lower, upper)

    def nearest(self, lower, upper):
        """The nearest whole-number table within these bounds, or None if there is none.

        The linear relaxation first: with whole-number data its optimum is usually already
        a whole-number table, and then it is the integer optimum too."""
        finite = np.where(np.isinf(upper), highspy.kHighsInf, upper)
        self.solved += 1
        self.linear.changeColsBounds(self.n, self.columns, lower, finite)
        self.linear.run()
        status = self.linear.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self.linear.getSolution().col_value[: self.n])
        if np.all(np.abs(x - np.round(x)) <= TOLERANCE):
            return np.round(x).astype(np.int64)
        self.solved += 1
        self.integer.changeColsBounds(self.n, self.columns, lower, finite)
        self.integer.run()
        if self.integer.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self.integer.getSolution().col_value[: self.n])
        return np.round(x).astype(np.int64)


def verify(cells, finest_level, parent_of, earlier, unchanged, result, threshold, method):
    """The gate for one prefecture-year protected by `method` (disclosure.protect_year) into
    `result`: a Verdict whose findings are empty when every conclusion is disproved."""
    started = time.perf_counter()
    earlier = list(earlier)
    new = len(earlier)
    model = result.model
    published = {k for k in cells if LEVEL_RANK[k[1]] >= LEVEL_RANK[finest_level[k[3]]]}
    new_state = {k: (None if k in result.hidden else cells[k]) for k in published}
    states = [version.values for version in earlier] + [new_state]
    verdict = Verdict()
    true_class = {
        k: (SMALL_CLASS if 0 < cells[k] < threshold else LARGE_CLASS) for k in result.hidden
    }
    if result.rounds == 0 and not earlier:
        # The class-aware integer audit of the method is the proof (see the module's docstring);
        # what remains is which hidden cells no table with the same classes makes small.
        for key in result.hidden:
            if true_class[key] == LARGE_CLASS:
                verdict.provably_large_by_level[key[1]] += 1
        verdict.seconds = time.perf_counter() - started
        return verdict
    prefecture_only = [
        k for k in model.keys if finest_level[k[3]] == "prefecture" and k[1] != "prefecture"
    ]
    reference = np.concatenate(
        [np.asarray([cells[k] for k in model.keys], dtype=float)] * model.versions
    )
    witnesses = Witnesses(model, reference)
    base_lower, base_upper = model.bounds(states)
    hidden_by_version = [sorted(v.hidden, key=model.index.get) for v in earlier]
    hidden_by_version.append(sorted(result.hidden, key=model.index.get))
    covered = defaultdict(set)  # (version, key) -> values some reproducing witness holds
    tried = {}  # witness bytes -> reproduces?
    models = {new: model}

    def reproduces(x):
        """Does the method, re-run on the table x, hide in every version what was hidden?"""
        signature = x.tobytes()
        if signature in tried:
            return tried[signature]
        verdict.replays += 1
        ok = True
        for v in range(model.versions):
            table = {k: int(x[model.column(v, k)]) for k in model.keys}
            if v not in models:
                models[v] = AttackerModel(
                    table, dict(_hierarchy(model, table, parent_of)), v + 1, list(unchanged[:v])
                )
            try:
                again = method(
                    table,
                    finest_level,
                    parent_of,
                    earlier[:v],
                    unchanged[:v],
                    threshold,
                    model=models[v],
                )
            except Exception:  # noqa: BLE001 - CannotProtect: this table is not a witness
                ok = False
                break
            if again.hidden != set(hidden_by_version[v]):
                ok = False
                break
        tried[signature] = ok
        if ok:
            verdict.witnesses += 1
            for v, keys in enumerate(hidden_by_version):
                for k in keys:
                    covered[(v, k)].add(int(x[model.column(v, k)]))
            for v in range(model.versions):
                for k in prefecture_only:
                    covered[(v, k)].add(int(x[model.column(v, k)]))
        return ok

    def hypotheses(fixed_key):
        """Class bounds for the newest version's hidden cells: the true classes, then with one
        or two changed (never `fixed_key`'s, which its target value decides), then none."""
        keys = [k for k in hidden_by_version[new] if k != fixed_key]
        yield dict(true_class)
        count = 1
        for flips in range(1, MAX_FLIPS + 1):
            for chosen in itertools.combinations(keys, flips):
                if count >= MAX_HYPOTHESES:
                    break
                changed = dict(true_class)
                for k in chosen:
                    changed[k] = SMALL_CLASS if true_class[k] == LARGE_CLASS else LARGE_CLASS
                count += 1
                yield changed
        yield {k: ANY_CLASS for k in true_class}

    def search(version, key, low, high):
        """A reproducing witness with the cell in [low, high]; True if one was found."""
        if any(low <= value <= high for value in covered[(version, key)]):
            return True
        column = model.column(version, key)
        # Aim the other small hidden cells at values no witness has given them yet, so that
        # each witness found proves as much as it can.
        aimed = reference.copy()
        for k in hidden_by_version[new]:
            if k != key and true_class[k] == SMALL_CLASS:
                missing = [v for v in SMALL if v not in covered[(new, k)]]
                if missing:
                    aimed[model.column(new, k)] = missing[len(missing) // 2]
        for v in range(model.versions):
            for k in prefecture_only:
                if 0 not in covered[(v, k)]:
                    aimed[model.column(v, k)] = 0
        witnesses.aim(aimed)
        for classes in hypotheses(key if version == new else None):
            lower, upper = base_lower.copy(), base_upper.copy()
            for k, (a, b) in classes.items():
                i = model.column(new, k)
                lower[i], upper[i] = a, b
            # the target decides the class of the cell it is about
            lower[column] = max(base_lower[column], low)
            upper[column] = min(base_upper[column], high)
            if lower[column] > upper[column]:
                continue
            x = witnesses.nearest(lower, upper)
            if x is None:
                continue
            if reproduces(x):
                return True
            # The nearest table may sit on an edge where the method happens to stop sooner
            # (two small cells summing to exactly the threshold, say): nudge one other
            # hidden cell at a time away from it.
            for k in hidden_by_version[new]:
                i = model.column(new, k)
                if i == column:
                    continue
                for step in NUDGES:
                    value = x[i] + step
                    if value < lower[i] or value > upper[i]:
                        continue
                    nudged_lower, nudged_upper = lower.copy(), upper.copy()
                    nudged_lower[i] = nudged_upper[i] = value
                    y = witnesses.nearest(nudged_lower, nudged_upper)
                    if y is not None and reproduces(y):
                        return True
        return False

    if not earlier:
        # The true table is a witness of its own.
        reproduces(np.asarray([cells[k] for k in model.keys], dtype=np.int64))
    for v, keys in enumerate(hidden_by_version):
        for key in keys:
            truly_small = v == new and true_class[key] == SMALL_CLASS
            could_be_small = truly_small or (
                v < new
                and model.attacker.extreme(model.column(v, key), (base_lower, base_upper), 1, False)
                <= SMALL[-1] + TOLERANCE
            )
            if could_be_small:
                for value in SMALL:
                    if not search(v, key, value, value):
                        verdict.findings.append(Finding(v, key, NARROW, value, value))
                        break
            else:
                if v == new and not search(v, key, SMALL[0], SMALL[-1]):
                    verdict.provably_large_by_level[key[1]] += 1
                if not second_value(v, key, covered, search, cells.get(key)):
                    verdict.findings.append(Finding(v, key, PINNED, 0, 0))
    for v in range(model.versions):
        for key in prefecture_only:
            if v == new and cells[key] == 0:
                continue  # the true table is a witness with 0
            if not search(v, key, 0, 0):
                verdict.findings.append(Finding(v, key, NONZERO, 1, float("inf")))
    verdict.programs = witnesses.solved
    verdict.seconds = time.perf_counter() - started
    return verdict


def second_value(version, key, covered, search, truth):
    """Whether reproducing witnesses give this cell at least two different values."""
    if len(covered[(version, key)]) >= 2:
        return True
    seen = next(iter(covered[(version, key)]), truth if truth is not None else SMALL[-1] + 1)
    for step in range(1, OTHER_VALUES + 1):
        for value in (seen + step, seen - step):
            if value >= 1 and search(version, key, value, value):
                return True
    return len(covered[(version, key)]) >= 2


def _hierarchy(model, table, parent_of):
    """(level, area) -> children, for building a model of an earlier version."""
    children = defaultdict(set)
    for _, level, area, _ in model.keys:
        parent = parent_of(level, area)
        if parent:
            children[parent].add((level, area))
    return {k: sorted(v) for k, v in children.items()}
