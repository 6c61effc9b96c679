"""An attacker who has only what is published, and knows the rules.

Written apart from pipeline/disclosure.py on purpose: it rebuilds the
hierarchy from the area codes alone (a township's first six digits are its
county, a county's first four digits and 00 its prefecture), writes its own
integer programs (scipy's milp) over every published figure of every version
of a year, and reports every value each hidden count could take.

What it knows: every published count; sums up the hierarchy; the
deduplicated total lies between the largest category and the sum; counts
are whole and non-negative; zeros are shown, so a hidden cell is at least 1
(the threshold rule: a hidden cell is small, 1 to 10, or a complementary
cell, which is never 0); the publication levels; and, between two versions
of a year, which township rows a correction changed.
"""

import itertools
from collections import defaultdict

import numpy as np
import sqlite_utils
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

SMALL = range(1, 11)


def published_tables(db_path):
    db = sqlite_utils.Database(db_path)
    finest = {
        r["series_code"]: r["finest_level"] for r in db.query("select * from publication_levels")
    }
    townships = [r["township_code"] for r in db.query("select township_code from townships")]
    rows = list(db.query("select year, level, area_code, series_code, count from children_counts"))
    return list(finest), finest, townships, rows


class Attack:
    @classmethod
    def from_database(cls, db_path):
        return cls(*published_tables(db_path))

    def __init__(self, series, finest, townships, rows, later=(), changed=()):
        """rows: dicts with year, level, area_code, series_code, count (None if hidden).

        `later`: further versions' rows, oldest first; `changed[v]`: the (year,
        township) rows a correction changed between version v and v + 1.
        """
        self.series, self.finest = series, finest
        self.versions = [self.index_rows(rows)] + [self.index_rows(r) for r in later]
        self.changed = [set(c) for c in changed]
        counties = sorted({t[:6] for t in townships})
        prefectures = sorted({c[:4] + "00" for c in counties})
        self.townships = townships
        self.areas = (
            [("township", t) for t in townships]
            + [("county", c) for c in counties]
            + [("prefecture", p) for p in prefectures]
        )
        self.parent = {("township", t): ("county", t[:6]) for t in townships}
        self.parent.update({("county", c): ("prefecture", c[:4] + "00") for c in counties})
        self._programs = {}

    @staticmethod
    def index_rows(rows):
        known = defaultdict(dict)  # year -> {(level, area, series): count or None}
        for r in rows:
            count = r["count"]
            known[int(r["year"])][(r["level"], r["area_code"], r["series_code"])] = (
                None if count in (None, "") else int(count)
            )
        return known

    @property
    def known(self):
        return self.versions[-1]

    def program(self, year):
        if year not in self._programs:
            self._programs[year] = self.build_program(year)
        return self._programs[year]

    def build_program(self, year):
        cells = [(lvl, area, s) for lvl, area in self.areas for s in self.series]
        n_cells = len(cells)
        versions = len(self.versions)
        index = {(v, c): v * n_cells + i for v in range(versions) for i, c in enumerate(cells)}
        n = versions * n_cells
        rows, lower, upper = [], [], []

        def add(coefficients, low, high):
            rows.append(coefficients)
            lower.append(low)
            upper.append(high)

        cats = [s for s in self.series if s != "total"]
        for v in range(versions):
            children = defaultdict(list)
            for area, parent in self.parent.items():
                children[parent].append(area)
            for parent, kids in children.items():
                for s in self.series:
                    add(
                        {index[(v, (*parent, s))]: 1, **{index[(v, (*k, s))]: -1 for k in kids}},
                        0,
                        0,
                    )
            for lvl, area in self.areas:
                t = index[(v, (lvl, area, "total"))]
                for c in cats:
                    add({index[(v, (lvl, area, c))]: 1, t: -1}, -np.inf, 0)
                add({t: 1, **{index[(v, (lvl, area, c))]: -1 for c in cats}}, -np.inf, 0)
        for v, changed in enumerate(self.changed):
            for t in self.townships:
                if (year, t) not in changed:
                    for s in self.series:
                        cell = ("township", t, s)
                        add({index[(v, cell)]: 1, index[(v + 1, cell)]: -1}, 0, 0)
        matrix = lil_matrix((len(rows), n))
        for r, coefficients in enumerate(rows):
            for column, value in coefficients.items():
                matrix[r, column] = value
        low, high = np.zeros(n), np.full(n, np.inf)
        for v, known in enumerate(self.versions):
            for cell, value in known.get(year, {}).items():
                i = index[(v, cell)]
                if value is None:
                    low[i] = 1
                else:
                    low[i] = high[i] = value
        constraint = LinearConstraint(matrix.tocsr(), lower, upper)
        return index, n, constraint, low, high

    def solve(self, program, cell_index, sense=0, fix=None):
        index, n, constraint, low, high = program
        cost = np.zeros(n)
        cost[cell_index] = sense
        low, high = low.copy(), high.copy()
        if fix is not None:
            low[cell_index] = high[cell_index] = fix
        return milp(
            cost,
            constraints=constraint,
            integrality=np.ones(n),
            bounds=Bounds(low, high),
            options={"mip_rel_gap": 0},
        )

    def ranges(self, year, cells, version=-1):
        """{cell: (low, high)} of the given (level, area, series) cells of one version."""
        program = self.program(year)
        version = version % len(self.versions)
        out = {}
        for cell in cells:
            i = program[0][(version, cell)]
            ends = []
            for sense in (1, -1):
                result = self.solve(program, i, sense)
                if result.status in (3, 4):  # unbounded (4: HiGHS could not tell which)
                    assert self.solve(program, i).status == 0, "the published data is infeasible"
                    ends.append(sense * -np.inf)
                else:
                    assert result.status == 0, result.message
                    ends.append(sense * result.fun)
            out[cell] = tuple(ends)
        return out

    def possible_small_values(self, year, cell, version=-1):
        """Which of 1 to 10 the cell could be."""
        program = self.program(year)
        i = program[0][(version % len(self.versions), cell)]
        return {v for v in SMALL if self.solve(program, i, fix=v).status == 0}

    def hidden(self, year, version=-1):
        return [k for k, v in self.versions[version].get(year, {}).items() if v is None]

    def unpublished_prefecture_only(self):
        only = [s for s, level in self.finest.items() if level == "prefecture"]
        return [(lvl, area, s) for lvl, area in self.areas for s in only if lvl != "prefecture"]

    def leaks(self, year, truth=None):
        """Every hidden cell of every version the attacker can narrow: [(version, cell, why)].

        A hidden cell leaks when it is pinned, or when it is small (1 to 10; with no
        `truth`, or in an earlier version, when it could be) but not every one of 1 to
        10 is possible: telling a count of 11 or more from some small values tells
        nothing about children the threshold protects. `truth` (the true counts of the
        last version) also lets the HIV/street check skip cells that are truly 0.
        """
        out = []
        for v in range(len(self.versions)):
            hidden = self.hidden(year, v)
            for cell, (low, high) in self.ranges(year, hidden, v).items():
                if high - low < 1 - 1e-6:
                    out.append((v, cell, f"pinned {low}..{high}"))
                elif low <= 10 + 1e-6 and (
                    truth is None
                    or v < len(self.versions) - 1
                    or 1 <= truth.get((year, *cell), 1) <= 10
                ):
                    possible = self.possible_small_values(year, cell, v)
                    if possible != set(SMALL):
                        out.append((v, cell, f"small values narrowed to {sorted(possible)}"))
        last = len(self.versions) - 1
        sensitive = [
            c
            for c in self.unpublished_prefecture_only()
            if truth is None or truth.get((year, *c), 1) > 0
        ]
        program = self.program(year)
        columns = [program[0][(last, c)] for c in sensitive]
        # One program first: if all of them can be 0 at once, each of them can be 0.
        index, n, constraint, low, high = program
        cost = np.zeros(n)
        cost[columns] = 1
        together = milp(
            cost, constraints=constraint, integrality=np.ones(n), bounds=Bounds(low, high)
        )
        doubtful = [c for c, i in zip(sensitive, columns, strict=True) if together.x[i] > 0.5]
        for cell, (low, _) in self.ranges(year, doubtful, last).items():
            if low > 1e-6:
                out.append((last, cell, f"provably non-zero ({low})"))
        return out


class ReplayAttack:
    """An attacker who also re-runs the method, as anyone can from the repository.

    For each hypothesis about which hidden cells are small (1 to 10) and which are
    not, it takes whole-number tables that agree with everything published under
    that hypothesis (the corners of the hypothesis: each hidden cell at its
    lowest and highest, and a table with no objective), runs the published method
    (`method(table)` returns the hidden set) on each, and keeps the hypothesis when
    one of them gives the published pattern back. What it then believes about a
    hidden cell is every value the kept hypotheses allow.

    Written apart from pipeline/replay.py (which proves safety by finding one
    table per value); this one works the way the issue that asked for it did.
    """

    def __init__(self, attack, method, max_hidden=10):
        self.attack, self.method, self.max_hidden = attack, method, max_hidden

    def table(self, program, x, year):
        index = program[0]
        cells = {}
        for (v, (level, area, series)), i in index.items():
            if v == len(self.attack.versions) - 1:
                cells[(year, level, area, series)] = int(round(x[i]))
        return cells

    def hypothesis_program(self, year, small):
        index, n, constraint, low, high = self.attack.program(year)
        low, high = low.copy(), high.copy()
        last = len(self.attack.versions) - 1
        for cell in self.attack.hidden(year, last):
            i = index[(last, cell)]
            if cell in small:
                low[i], high[i] = 1, 10
            else:
                low[i], high[i] = 11, np.inf
        return index, n, constraint, low, high

    def corners(self, program, year):
        """Tables of one hypothesis: with no objective, then each hidden cell at its extremes."""
        index, n, constraint, low, high = program
        last = len(self.attack.versions) - 1
        objectives = [np.zeros(n)]
        for cell in self.attack.hidden(year, last):
            for sense in (1, -1):
                cost = np.zeros(n)
                cost[index[(last, cell)]] = sense
                objectives.append(cost)
        bounds = Bounds(low, np.where(np.isinf(high), 10**6, high))
        for cost in objectives:
            result = milp(cost, constraints=constraint, integrality=np.ones(n), bounds=bounds)
            if result.status == 0:
                yield result.x

    def consistent_hypotheses(self, year):
        hidden = sorted(self.attack.hidden(year))
        assert len(hidden) <= self.max_hidden, "too many hidden cells to enumerate"
        published = {c for c, v in self.attack.known.get(year, {}).items() if v is not None}
        kept = []
        for size in range(len(hidden) + 1):
            for small in itertools.combinations(hidden, size):
                program = self.hypothesis_program(year, set(small))
                for x in self.corners(program, year):
                    table = self.table(program, x, year)
                    try:
                        again = self.method(table)
                    except Exception:  # noqa: BLE001 - the method refuses this table
                        continue
                    again = {(k[1], k[2], k[3]) for k in again}
                    if again == set(hidden) and not again & published:
                        kept.append((set(small), program))
                        break
        return kept

    def leaks(self, year, truth):
        """[(cell, why)] for every hidden cell the replaying attacker narrows: a cell truly
        from 1 to 10 that cannot be every value from 1 to 10, or any hidden cell pinned."""
        kept = self.consistent_hypotheses(year)
        assert kept, f"{year}: no hypothesis reproduces the published pattern"
        out = []
        for cell in sorted(self.attack.hidden(year)):
            possible = set()
            ends = []
            for small, program in kept:
                index, n, constraint, low, high = program
                i = index[(len(self.attack.versions) - 1, cell)]
                for value in range(1, 11) if cell in small else ():
                    if value in possible:
                        continue
                    fixed_low, fixed_high = low.copy(), high.copy()
                    fixed_low[i] = fixed_high[i] = value
                    if (
                        milp(
                            np.zeros(n),
                            constraints=constraint,
                            integrality=np.ones(n),
                            bounds=Bounds(fixed_low, fixed_high),
                        ).status
                        == 0
                    ):
                        possible.add(value)
                for sense in (1, -1):
                    cost = np.zeros(n)
                    cost[i] = sense
                    result = milp(
                        cost,
                        constraints=constraint,
                        integrality=np.ones(n),
                        bounds=Bounds(low, high),
                    )
                    ends.append(np.inf if result.status in (3, 4) else sense * result.fun)
            if max(ends) - min(ends) < 1 - 1e-6:
                out.append((cell, f"pinned at {min(ends)}"))
            true = truth[(year, *cell)]
            if 1 <= true <= 10 and possible != set(SMALL):
                out.append((cell, f"small values narrowed to {sorted(possible)}"))
        return out
