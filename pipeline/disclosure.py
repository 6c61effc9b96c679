"""Disclosure control for the counts of children: what may be shown, what must be hidden,
and the release gate that proves no hidden count can be worked out, even by someone who
re-runs this code.

Anyone can download every table, run SQL and read this file, so a number that
can be derived from what is published, or from the fact that this method chose
to hide what it hid, counts as published. The rules:

1. Publication levels (reference table publication_levels): a series appears
   only at its finest allowed level and above; below that there is no row,
   not even a zero.
2. Primary suppression: a count from 1 to THRESHOLD - 1 is hidden.
3. Complementary suppression: first, every sum with exactly one hidden term,
   or with only small hidden terms, gets one more hidden term (decided from the
   classes alone); then further non-zero cells are hidden until an attacker who
   knows the class of every hidden cell (which are small, which are not) can
   narrow none of them (attacker_model.py). Assuming the attacker knows the
   classes is the worst the pattern itself could tell them. Candidates are tried
   lowest level first and, within a level, in a fixed order of their keys.
4. The release gate (replay.py) models the attacker the issue tracker asked for:
   one who holds every published version of every year, knows the threshold, the
   levels and this code, and may re-run the method on any table they imagine.
   Such an attacker can rule out every table on which the method would have
   hidden other cells. The gate therefore proves each conclusion impossible by
   example: for every hidden cell that could be small and every value from 1 to
   THRESHOLD - 1, it finds a whole-number table that agrees with everything
   published, holds that value, and on which the method hides exactly the cells
   it hid; likewise two values for every other hidden cell and a zero for every
   unpublished HIV or street-children count. When no complementary cell was
   needed, the class-aware integer audit of step 3 is that proof already (any
   table with the same small cells gives the same pattern).

Years are protected one at a time because nothing published links two
different years (no totals over years, no flows, and no count of why cells were
hidden); versions of the same year are linked and always solved together.

Hidden cells are published with an empty count and the one status
`suppressed`, whatever the reason; nothing published says how many cells were
hidden for which reason.
"""

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import parallel, replay
from .attacker_model import LARGE_CLASS, NARROW, NONZERO, PINNED, SMALL_CLASS, AttackerModel
from .attacker_model import Finding as Finding  # re-exported: tests and callers use it here
from .attacker_model import Version as Version
from .rules import LEVEL_RANK, RULE, SMALL, THRESHOLD

__all__ = ["Finding", "Version", "THRESHOLD", "SMALL", "PINNED", "NARROW", "NONZERO"]
TEMPLATES = Path(__file__).with_name("templates")


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


def class_of(value, threshold=THRESHOLD):
    """The bounds an attacker who knows a hidden cell's class gives it."""
    return SMALL_CLASS if 0 < value < threshold else LARGE_CLASS


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


def related(key, series_of_area, children_of, parent_of):
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
    for other in series_of_area.get((year, level, area), ()):
        out.add((year, level, area, other))
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
    # rounds of the class-aware search that added cells (0: the primaries and what the shape of
    # the pattern required were already safe; then any table with the same small cells gives
    # the same pattern, and the method's own audit is the release gate's proof)
    rounds: int = 0
    structural: int = 0  # cells the structural step added


def new_model(cells, parent_of, versions, unchanged):
    """The attacker's constraints for one prefecture-year over `versions` versions."""
    return AttackerModel(cells, hierarchy(cells, parent_of), versions, list(unchanged))


def protect_year(
    cells,
    finest_level,
    parent_of,
    earlier=(),
    unchanged=(),
    threshold=THRESHOLD,
    model=None,
):
    """Choose the cells to hide in one prefecture-year (rules 2 and 3), jointly with its
    earlier versions. This is the method the release gate replays (replay.py).

    `cells` holds the new true counts at every level; `earlier` the versions of
    this year already published (oldest first) and `unchanged[v]` the township
    keys equal in version v and v + 1 (the last pair links the newest earlier
    version to this one). `model` may be an AttackerModel already built for the
    same cells and versions (the gate re-runs the method many times on one model).
    Returns a YearResult, or raises CannotProtect.

    Starts from the primary suppressions plus every cell still hidden in the
    latest version (hiding it again tells nothing new), then hides what the shape
    of the pattern alone requires (close_structurally). While the class-aware
    audit then finds a cell that can be narrowed, it hides one more published,
    non-zero cell of the new version related to it, trying the lowest level first
    and, within a level, a fixed order unrelated to any count; the first that
    makes the cell safe, or at least narrows it less, is taken. Each round hides
    at least one more cell, so the loop ends.

    Every choice here is made so that, as far as possible, any table with the same
    small cells leads to the same pattern: the order of candidates depends on keys
    only, and the structural step on classes only. Where a choice does depend on
    counts (a sum just big enough, say), the release gate (replay.py) checks that
    an attacker who replays it still cannot narrow anything.
    """
    started = time.perf_counter()
    earlier = list(earlier)
    new = len(earlier)
    published = publishable(cells, finest_level)
    children_of = hierarchy(cells, parent_of)
    model = model or AttackerModel(cells, children_of, new + 1, list(unchanged))
    series_of_area = defaultdict(list)
    for key in model.keys:
        series_of_area[key[:3]].append(key[3])
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
    # The new version's hidden cells by class (earlier versions' classes are not known).
    classes = [{}] * new + [{}]

    def states(extra=()):
        chosen = hidden | set(extra)
        classes[new] = {k: class_of(cells[k], threshold) for k in chosen}
        current = {k: (None if k in chosen else published[k]) for k in published}
        return [version.values for version in earlier] + [current]

    structural = close_structurally(hidden, frozen, published, cells, children_of, threshold)
    exact, rounds = False, 0
    while True:
        findings = model.audit(states(), sensitive, exact, classes)
        if not findings and not exact:
            exact = True  # the linear search is done: the integer audit decides
            findings = model.audit(states(), sensitive, exact, classes)
        if not findings:
            return YearResult(hidden, model, time.perf_counter() - started, rounds, structural)
        added = False
        for finding in findings:
            safe, now = model.protects(finding, states(), exact, classes)
            if safe:
                continue  # an earlier addition this round already made it safe
            candidates = sorted(
                (
                    k
                    for k in related(finding.key, series_of_area, children_of, parent_of)
                    if k in published and k not in hidden | frozen and cells[k] > 0
                ),
                key=lambda k: (LEVEL_RANK[k[1]], stable_order(k)),
            )
            for candidate in candidates:
                safe, score = model.protects(finding, states([candidate]), exact, classes)
                if safe or score > now:
                    hidden.add(candidate)
                    added = True
                    break
        if not added:
            raise CannotProtect(findings)
        rounds += 1


def equalities(published, children_of):
    """The sums whose every term is published or hidden (none below a publication level):
    [parent key, *children keys], in a fixed order."""
    out = []
    for key in sorted(published, key=lambda k: (LEVEL_RANK[k[1]], k)):
        year, level, area, series = key
        kids = children_of.get((level, area))
        if not kids:
            continue
        terms = [(year, child_level, child, series) for child_level, child in kids]
        if all(term in published for term in terms):
            out.append([key, *terms])
    return out


def close_structurally(hidden, frozen, published, cells, children_of, threshold):
    """Hide what the shape of the pattern alone requires, whatever the counts: a sum with
    exactly one hidden term gives it away, and a sum whose hidden terms are all small says
    how small they are together. Each such sum gets one more hidden term, the first in the
    fixed order. Returns how many cells were added.

    Decided from which cells are small and which are zero alone, so the attacker who
    replays the method learns nothing from it that the classes do not already say."""
    added = 0
    sums = equalities(published, children_of)
    changed = True
    while changed:
        changed = False
        for terms in sums:
            inside = [k for k in terms if k in hidden]
            if not inside:
                continue
            if len(inside) > 1 and any(not 0 < cells[k] < threshold for k in inside):
                continue
            candidates = sorted(
                (k for k in terms if k not in hidden and k not in frozen and cells[k] > 0),
                key=lambda k: (LEVEL_RANK[k[1]], stable_order(k)),
            )
            if candidates:
                hidden.add(candidates[0])
                added += 1
                changed = True
    return added


@dataclass
class Report:
    """What the audit did. Only `summary` and `markdown` are published; they say that the
    audit passed, how many cells are hidden in all and at each level, the attacker model and
    what the gate proved, and nothing about why any cell is hidden."""

    cells: int = 0
    hidden_by_level: dict = field(default_factory=lambda: defaultdict(int))
    published_by_level: dict = field(default_factory=lambda: defaultdict(int))
    # hidden cells an attacker who replays the method can prove to be THRESHOLD or more
    provably_large_by_level: dict = field(default_factory=lambda: defaultdict(int))
    relations: int = 0
    programs: int = 0
    blocks: int = 0  # prefecture-years protected
    replayed_blocks: int = 0  # of which the gate re-ran the method on witnesses
    replays: int = 0
    seconds_by_year: dict = field(default_factory=lambda: defaultdict(float))
    protected_years: set = field(default_factory=set)  # protected in this build (not reused)
    gate_seconds: float = 0.0
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

    def levels(self):
        return sorted(self.published_by_level, key=LEVEL_RANK.get)

    def summary(self, digest, threshold=THRESHOLD):
        """The deterministic, publishable part of the report (kept in the package descriptor)."""
        model = RULE["audit"]
        return {
            "result": "PASS" if self.passed else "FAIL",
            "threshold": threshold,
            "criterion": model["criterion_en"].strip(),
            "attacker": model["attacker_en"].strip(),
            "cells": self.cells,
            "hidden": self.hidden,
            "by_level": {
                level: {
                    "published": self.published_by_level[level],
                    "hidden": self.hidden_by_level[level],
                }
                for level in self.levels()
            },
            "cells_sha256": digest,
            "cells_sha256_of": "sorted lines year|level|area_code|series_code|count|status, "
            "joined by newlines, count empty when hidden",
        }

    def markdown(self, digest, threshold=THRESHOLD):
        """A human-readable account of the audit, published in the handbook
        (pipeline/templates/disclosure_audit.md)."""
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=False
        )
        return (
            environment.get_template("disclosure_audit.md")
            .render(report=self, rule=RULE, threshold=threshold, digest=digest)
            .strip()
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


@dataclass
class BlockResult:
    """One prefecture-year, protected and through the gate."""

    key: tuple  # (year, prefecture)
    hidden: set
    seconds: float
    programs: int
    relations: int
    verdict: replay.Verdict


def protect_block(
    key, cells, finest_level, parent_of, earlier=(), unchanged=(), threshold=THRESHOLD
):
    """Protect one prefecture-year and put it through the release gate: a BlockResult, or
    CannotProtect naming what the gate (or the search) could not make safe."""
    started = time.perf_counter()
    result = protect_year(cells, finest_level, parent_of, earlier, unchanged, threshold)
    verdict = replay.verify(
        cells, finest_level, parent_of, earlier, unchanged, result, threshold, protect_year
    )
    if verdict.findings:
        raise CannotProtect(verdict.findings)
    return BlockResult(
        key,
        result.hidden,
        time.perf_counter() - started,
        result.model.solved + verdict.programs,
        result.model.relations,
        verdict,
    )


def blocks(cells, parent_of):
    """{(year, prefecture): cells of that prefecture-year}."""
    groups = defaultdict(dict)
    for key, value in cells.items():
        groups[(key[0], prefecture_key(key, parent_of))][key] = value
    return groups


def protect(
    cells, finest_level, parent_of, history=None, threshold=THRESHOLD, processes=1, ticker=None
):
    """(published cells, hidden keys, Report) for all years and prefectures.

    `cells` holds every count at every level, published or not; `parent_of(level,
    area)` gives the (level, area) it adds up into, or None at the top.
    `history` maps a (year, prefecture) to (earlier Versions, unchanged key sets)
    for years published before and corrected now. Each prefecture-year is its own
    problem: they run in `processes` processes, with the same result as in one.
    """
    history = history or {}
    published = publishable(cells, finest_level)
    report = Report(cells=len(published))
    hidden_all = set()
    failures = []

    def work(item):
        key, group = item
        earlier, unchanged = history.get(key, ((), ()))
        try:
            return protect_block(key, group, finest_level, parent_of, earlier, unchanged, threshold)
        except CannotProtect as failure:
            return failure

    items = sorted(blocks(cells, parent_of).items())
    if ticker:
        ticker.unit = "个州·年 prefecture-years"
    for result in parallel.ordered_map(work, items, processes, chunksize=8, ticker=ticker):
        if isinstance(result, CannotProtect):
            failures += result.findings
            continue
        add(report, result)
        hidden_all |= result.hidden
    if failures:
        raise CannotProtect(failures)
    for key in published:
        report.published_by_level[key[1]] += 1
        if key in hidden_all:
            report.hidden_by_level[key[1]] += 1
    return published, hidden_all, report


def add(report, result):
    """Fold one block's numbers into the report."""
    report.blocks += 1
    report.programs += result.programs
    report.relations += result.relations
    report.seconds_by_year[result.key[0]] += result.seconds
    report.protected_years.add(result.key[0])
    report.gate_seconds += result.verdict.seconds
    report.replays += result.verdict.replays
    report.replayed_blocks += result.verdict.replays > 0
    for level, count in result.verdict.provably_large_by_level.items():
        report.provably_large_by_level[level] += count
