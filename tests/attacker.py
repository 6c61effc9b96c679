"""An attacker who has only the published database.

Written apart from pipeline/disclosure.py on purpose: it rebuilds the
hierarchy from the area codes alone (a township's first six digits are its
county, a county's first four digits and 00 its prefecture), writes its own
linear programs over every published figure, and reports how narrowly it can
pin each hidden count.
"""

from collections import defaultdict

import numpy as np
import sqlite_utils
from scipy.optimize import linprog


def published_tables(db_path):
    db = sqlite_utils.Database(db_path)
    series = [r["series_code"] for r in db.query("select series_code from publication_levels")]
    finest = {
        r["series_code"]: r["finest_level"] for r in db.query("select * from publication_levels")
    }
    townships = [r["township_code"] for r in db.query("select township_code from townships")]
    rows = list(db.query("select year, level, area_code, series_code, count from children_counts"))
    return series, finest, townships, rows


class Attack:
    @classmethod
    def from_database(cls, db_path):
        return cls(*published_tables(db_path))

    def __init__(self, series, finest, townships, rows):
        """rows: dicts with year, level, area_code, series_code, count (None if hidden)."""
        self.series, self.finest = series, finest
        self.known = defaultdict(dict)  # year -> {(level, area, series): count or None}
        for r in rows:
            self.known[r["year"]][(r["level"], r["area_code"], r["series_code"])] = r["count"]
        counties = sorted({t[:6] for t in townships})
        prefectures = sorted({c[:4] + "00" for c in counties})
        self.areas = (
            [("township", t) for t in townships]
            + [("county", c) for c in counties]
            + [("prefecture", p) for p in prefectures]
        )
        self.parent = {("township", t): ("county", t[:6]) for t in townships}
        self.parent.update({("county", c): ("prefecture", c[:4] + "00") for c in counties})

    def program(self, year):
        variables = [(lvl, area, s) for lvl, area in self.areas for s in self.series]
        index = {v: i for i, v in enumerate(variables)}
        eq = []
        for (lvl, area), (plvl, parea) in self.parent.items():
            for s in self.series:
                eq.append((index[(plvl, parea, s)], index[(lvl, area, s)]))
        n = len(variables)
        sums = defaultdict(list)
        for parent_var, child_var in eq:
            sums[parent_var].append(child_var)
        a_eq = np.zeros((len(sums), n))
        for row, (parent_var, kids) in enumerate(sums.items()):
            a_eq[row, parent_var] = 1
            a_eq[row, kids] = -1
        ub = []
        cats = [s for s in self.series if s != "total"]
        for lvl, area in self.areas:
            t = index[(lvl, area, "total")]
            for c in cats:
                row = np.zeros(n)
                row[index[(lvl, area, c)]], row[t] = 1, -1
                ub.append(row)
            row = np.zeros(n)
            row[t] = 1
            for c in cats:
                row[index[(lvl, area, c)]] = -1
            ub.append(row)
        known = self.known[year]
        bounds = []
        for v in variables:
            if v in known and known[v] is not None:
                bounds.append((known[v], known[v]))
            elif v in known:
                bounds.append((1, None))
            else:
                bounds.append((0, None))
        return variables, index, a_eq, np.array(ub), bounds

    def ranges(self, year, cells):
        """{cell: (low, high)} for the given (level, area, series) cells of one year."""
        variables, index, a_eq, a_ub, bounds = self.program(year)
        out = {}
        for cell in cells:
            ends = []
            for sense in (1, -1):
                cost = np.zeros(len(variables))
                cost[index[cell]] = sense
                result = linprog(
                    cost,
                    A_ub=a_ub,
                    b_ub=np.zeros(len(a_ub)),
                    A_eq=a_eq,
                    b_eq=np.zeros(len(a_eq)),
                    bounds=bounds,
                    method="highs",
                )
                ends.append(np.inf if result.status == 3 else sense * result.fun)
            out[cell] = tuple(ends)
        return out

    def hidden(self, year):
        return [k for k, v in self.known[year].items() if v is None]

    def unpublished_prefecture_only(self, year):
        only = [s for s, level in self.finest.items() if level == "prefecture"]
        return [(lvl, area, s) for lvl, area in self.areas for s in only if lvl != "prefecture"]
