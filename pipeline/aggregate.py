"""Roll village and township figures up to county and prefecture, per year.

Coverage counters stream in a village at a time (a nation-sized set has
600,000 villages); children's counts arrive per township and are summed up
the hierarchy exactly, since each child lives in one township.
"""

from collections import defaultdict

from .divisions import prefecture_of
from .submissions import CATEGORY_FIELDS

SERIES = ("total", *CATEGORY_FIELDS)
LEVELS = ("township", "county", "prefecture")


class CoverageTally:
    """Counts of villages, homes and supervisors per (year, township)."""

    def __init__(self):
        self.by_township = defaultdict(lambda: [0, 0, 0, 0])

    def add(self, row):
        counts = self.by_township[(row["year"], row["township_code"])]
        counts[0] += 1
        counts[1] += row["has_childrens_home"]
        counts[2] += row["supervisors"] > 0
        counts[3] += row["supervisors"]

    def years(self):
        return sorted({year for year, _ in self.by_township})

    def rows(self, divisions, targets, data_source):
        """coverage_by_area rows for every township, county and the prefecture."""
        totals = defaultdict(lambda: [0, 0, 0, 0])
        for (year, township), counts in self.by_township.items():
            county = divisions.townships[township]["county_code"]
            for key in (
                (year, "township", township, county),
                (year, "county", county, county),
                (year, "prefecture", prefecture_of(county), None),
            ):
                total = totals[key]
                for i, value in enumerate(counts):
                    total[i] += value
        rank = {level: i for i, level in enumerate(LEVELS)}
        for (year, level, code, county), (villages, homes, supervised, supervisors) in sorted(
            totals.items(), key=lambda item: (item[0][0], rank[item[0][1]], item[0][2])
        ):
            home_target = targets.get(("home_coverage", year))
            supervisor_target = targets.get(("supervisor_coverage", year))
            yield {
                "year": year,
                "level": level,
                "area_code": code,
                "area_name": divisions.area_name(level, code),
                "county_code": county,
                "villages": villages,
                "villages_with_home": homes,
                "home_coverage_pct": percent(homes, villages),
                "home_target_pct": home_target,
                "meets_home_target": meets(homes, villages, home_target),
                "villages_with_supervisor": supervised,
                "supervisor_coverage_pct": percent(supervised, villages),
                "supervisor_target_pct": supervisor_target,
                "meets_supervisor_target": meets(supervised, villages, supervisor_target),
                "supervisors": supervisors,
                "data_source": data_source,
            }


def percent(part, whole):
    return round(100 * part / whole, 1) if whole else None


def meets(part, whole, target):
    """Compare in whole numbers so that 50.0% against a 50% target never rounds the wrong way."""
    if target is None or not whole:
        return None
    return 100 * part >= target * whole


def children_cells(township_rows, divisions):
    """{(year, level, area_code, series): count} for every level, from township rows."""
    cells = defaultdict(int)
    for row in township_rows:
        county = divisions.townships[row["township_code"]]["county_code"]
        for series in SERIES:
            value = row[series]
            cells[(row["year"], "township", row["township_code"], series)] += value
            cells[(row["year"], "county", county, series)] += value
            cells[(row["year"], "prefecture", prefecture_of(county), series)] += value
    return dict(cells)
