"""What was published before: read from the committed packages under data/.

data/ always holds the latest release; its `releases` package holds the list of
releases, the corrections log, and every published version of the children's
counts (children_counts_history), so that a build on any clone knows every
version an attacker may have kept and audits a corrected year against all of
them, and can tell which years are already released.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .disclosure import Version

YEAR_COLUMNS = {
    "village_coverage": ("coverage", "year"),
    "children_counts": ("children", "year"),
    "task_progress": ("progress", "period"),
}


def rows(data_dir, package, resource):
    path = Path(data_dir) / package / f"{resource}.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Published:
    releases: list = field(default_factory=list)  # rows of releases.csv, oldest first
    corrections: list = field(default_factory=list)  # rows of corrections.csv
    changes: list = field(default_factory=list)  # rows of release_changes.csv
    history_rows: list = field(default_factory=list)  # rows of children_counts_history.csv
    children: dict = field(default_factory=dict)  # year -> [(release id, {key: count or None})]
    years: dict = field(default_factory=dict)  # table -> set of released years

    @property
    def latest(self):
        return self.releases[-1] if self.releases else None

    def versions(self, year, prefecture_of):
        """{prefecture: (earlier Versions, unchanged township key sets between them)} of a year.

        Two consecutive versions are linked (their unchanged townships are equal) only
        when the later one came with corrections naming the townships it changed; a
        version published without (sample data regenerated) is linked to nothing.
        """
        chain = self.children.get(year, [])
        out = {}
        for index, (release, values) in enumerate(chain):
            groups = defaultdict(dict)
            for key, value in values.items():
                groups[prefecture_of(key)][key] = value
            for prefecture, group in groups.items():
                earlier, links = out.setdefault(prefecture, ([], []))
                if index:
                    links.append(self.unchanged(year, release, group))
                earlier.append(Version(group))
        return out

    def unchanged(self, year, release, group):
        """Township keys of `group` not corrected in `release` (none if it brought no
        correction for this year)."""
        corrected = {
            c["code"]
            for c in self.corrections
            if c["release_id"] == release
            and c["table_name"] == "children_counts"
            and int(c["year"]) == year
        }
        if not corrected:
            return set()
        return {k for k in group if k[1] == "township" and k[2] not in corrected}


def load(data_dir):
    published = Published(
        releases=rows(data_dir, "releases", "releases"),
        corrections=rows(data_dir, "releases", "corrections"),
        changes=rows(data_dir, "releases", "release_changes"),
        history_rows=rows(data_dir, "releases", "children_counts_history"),
    )
    order = {r["release_id"]: i for i, r in enumerate(published.releases)}
    versions = defaultdict(dict)  # (year, release) -> {key: count or None}
    for row in published.history_rows:
        year = int(row["year"])
        key = (year, row["level"], row["area_code"], row["series_code"])
        versions[(year, row["release_id"])][key] = int(row["count"]) if row["count"] else None
    for (year, release), values in sorted(versions.items(), key=lambda i: order[i[0][1]]):
        published.children.setdefault(year, []).append((release, values))
    for table, (package, column) in YEAR_COLUMNS.items():
        published.years[table] = {int(r[column]) for r in rows(data_dir, package, table)}
    return published
