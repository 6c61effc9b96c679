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

    def merge(self, counts):
        """Add another tally's {(year, township): [villages, homes, supervised, supervisors]}."""
        for key, values in counts.items():
            total = self.by_township[key]
            for i, value in enumerate(values):
                total[i] += value

    def years(self):
        return sorted({year for year, _ in self.by_township})

    def rows(self, divisions, targets, data_source):
        """coverage_by_area rows for every township, county and the prefecture (the prefecture
        only for years in which every county reported: a sum over some counties is not its total)."""
        totals = defaultdict(lambda: [0, 0, 0, 0])
        present = complete_prefectures(
            ((year, divisions.townships[t]["county_code"]) for year, t in self.by_township),
            divisions,
        )
        for (year, township), counts in self.by_township.items():
            county = divisions.townships[township]["county_code"]
            keys = [(year, "township", township, county), (year, "county", county, county)]
            if (year, prefecture_of(county)) in present:
                keys.append((year, "prefecture", prefecture_of(county), None))
            for key in keys:
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
                "county_name": divisions.counties[county]["name"] if county else None,
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


def complete_prefectures(year_counties, divisions):
    """{(year, prefecture)} for which every county of the prefecture is among `year_counties`."""
    seen = defaultdict(set)
    for year, county in year_counties:
        seen[(year, prefecture_of(county))].add(county)
    expected = defaultdict(set)
    for county in divisions.counties:
        expected[prefecture_of(county)].add(county)
    return {key for key, counties in seen.items() if counties == expected[key[1]]}


def compact(row):
    """A township's counts as a tuple (year, township code, then SERIES in order): a nation
    has half a million of them, and a tuple takes a fifth of a dict's memory."""
    return (row["year"], row["township_code"], *(row[series] for series in SERIES))


def children_cells(township_rows, divisions):
    """{(year, level, area_code, series): count} for every level, from township rows (dicts,
    or tuples made by compact()); the prefecture only for years in which every county
    reported."""
    cells = defaultdict(int)
    township_rows = [r if isinstance(r, tuple) else compact(r) for r in township_rows]
    counties = [(row[0], divisions.townships[row[1]]["county_code"]) for row in township_rows]
    present = complete_prefectures(counties, divisions)
    for row, (year, county) in zip(township_rows, counties, strict=True):
        prefecture = prefecture_of(county)
        for index, series in enumerate(SERIES, start=2):
            value = row[index]
            cells[(year, "township", row[1], series)] += value
            cells[(year, "county", county, series)] += value
            if (year, prefecture) in present:
                cells[(year, "prefecture", prefecture, series)] += value
    return dict(cells)
