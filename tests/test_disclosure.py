"""Disclosure control holds against an attacker who knows the rules and reads everything
published, across all years and every version of a year."""

import csv
import hashlib
import json
import random
import re
import sys
import zipfile
from collections import defaultdict

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import aggregate, disclosure, locations, replay, validate
from pipeline.paths import ROOT, SAMPLE_SUBMISSIONS
from tests.attacker import Attack, ReplayAttack

THRESHOLD = disclosure.THRESHOLD


def sample_truth(folder=SAMPLE_SUBMISSIONS):
    checked = validate.validate(folder)
    assert checked.ok, [p.format() for p in checked.problems]
    rows = [row for tables in checked.tables.values() for row in tables.get("children_counts", [])]
    geo = checked.divisions
    return aggregate.children_cells(rows, geo), checked.lookups["finest_level"], geo


@pytest.fixture(scope="module")
def truth():
    """The unprotected counts of the sample, at every level (what the attacker wants)."""
    return sample_truth()


def as_rows(published, hidden):
    return [
        {
            "year": k[0],
            "level": k[1],
            "area_code": k[2],
            "series_code": k[3],
            "count": None if k in hidden else v,
        }
        for k, v in published.items()
    ]


def test_an_attacker_who_replays_the_method_learns_nothing_from_the_sample(built, truth):
    """The shipped sample, year by year: hypotheses about which hidden cells are small, each
    tested by re-running the published method on tables that agree with everything shown."""
    cells, finest, geo = truth
    attack = Attack.from_database(built.db)
    method = replaying(finest, geo.parent_of)
    for year in sorted(attack.known):
        if attack.hidden(year):
            assert ReplayAttack(attack, method).leaks(year, cells) == [], year


def test_the_integer_attacker_learns_nothing_from_the_published_database(built, truth):
    cells, _, _ = truth
    attack = Attack.from_database(built.db)
    hidden = 0
    for year in sorted(attack.known):
        assert attack.leaks(year, cells) == [], year
        hidden += len(attack.hidden(year))
        for level, area, series in attack.hidden(year):
            assert cells[(year, level, area, series)] > 0  # zeros are always shown
    assert hidden >= 5, "the sample should exercise suppression"


def test_nothing_published_says_why_a_cell_is_hidden(built, handbook, download_zip):
    """Only that cells are hidden, how many, and the attacker model: no count of primary ones."""
    descriptor = json.loads((built.data / "children" / "datapackage.json").read_text("utf-8"))
    audit = descriptor["disclosure_audit"]
    assert set(audit) == {
        "result",
        "threshold",
        "criterion",
        "attacker",
        "cells",
        "hidden",
        "by_level",
        "cells_sha256",
        "cells_sha256_of",
    }
    assert audit["hidden"] == sum(level["hidden"] for level in audit["by_level"].values())
    forbidden = re.compile(
        r"primary[_ ]suppression|complementary[_ ]suppressions? *[:=]|因人数小于|其中 ?\d+ ?个"
        r"|补充隐藏了 ?\d+"
    )
    texts = {
        "audit.md": (built.db.parent / "disclosure-audit.md").read_text("utf-8"),
        "handbook audit page": (handbook / "site" / "reference" / "audit.html").read_text("utf-8"),
    }
    for path in built.data.rglob("*.json"):
        texts[str(path)] = path.read_text("utf-8")
    with zipfile.ZipFile(download_zip) as archive:
        for name in archive.namelist():
            if name.endswith((".json", ".md")):
                texts[name] = archive.read(name).decode("utf-8")
    for name, text in texts.items():
        assert not forbidden.search(text), (name, forbidden.search(text).group(0))


def canonical_hash(rows):
    lines = sorted(
        f"{r['year']}|{r['level']}|{r['area_code']}|{r['series_code']}|"
        f"{'' if r['count'] in (None, '') else int(r['count'])}|{r['status']}"
        for r in rows
    )
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_database_and_csv_hold_exactly_the_audited_cells(built):
    descriptor = json.loads((built.data / "children" / "datapackage.json").read_text("utf-8"))
    audit = descriptor["disclosure_audit"]
    assert audit["result"] == "PASS"
    with open(built.data / "children" / "children_counts.csv", encoding="utf-8") as f:
        assert canonical_hash(csv.DictReader(f)) == audit["cells_sha256"]
    db = sqlite_utils.Database(built.db)
    assert canonical_hash(db.query("select * from children_counts")) == audit["cells_sha256"]


def test_hidden_share_by_level_is_moderate(built):
    audit = json.loads((built.data / "children" / "datapackage.json").read_text("utf-8"))[
        "disclosure_audit"
    ]
    for level, row in audit["by_level"].items():
        assert row["hidden"] <= 0.35 * row["published"], level


def naive_two_per_group(cells, published, parent_of):
    """The common heuristic alone: every sum with a hidden part gets a second hidden part."""
    hidden = disclosure.primary({k: cells[k] for k in published})
    groups = defaultdict(list)
    for key in published:
        parent = parent_of(key[1], key[2])
        if parent:
            groups[(key[0], parent, key[3])].append(key)
    changed = True
    while changed:
        changed = False
        for members in groups.values():
            inside = [k for k in members if k in hidden]
            if len(inside) == 1:
                others = sorted(
                    (k for k in members if k not in hidden and cells[k] > 0),
                    key=lambda k: (cells[k], k),
                )
                if others:
                    hidden.add(others[0])
                    changed = True
    return hidden


def rural_county_fixture(truth, year=2025, county="532325"):
    """The sample's figures for one year, with two of a county's townships made small and rural.

    In rural townships nearly every child in difficulty is in a minimum-living-allowance
    family, so the deduplicated total sits just above the 低保 count: township A has 7
    such children (hidden) among 12 in difficulty; B, the county's smallest other
    township, 11 among 12. Figures at county and prefecture are summed again so the
    table stays consistent.
    """
    cells, finest, geo = truth
    cells = {k: v for k, v in cells.items() if k[0] == year}
    first, *others = geo.townships_by_county[county]
    second = min(others, key=lambda t: cells[(year, "township", t, "low_income")])
    none = dict.fromkeys(["unsupported", "severe_illness", "guardianship", "hiv", "street"], 0)
    made_up = {
        first: {**none, "low_income": 7, "orphan": 2, "severe_disability": 3, "total": 12},
        second: {**none, "low_income": 11, "orphan": 1, "severe_disability": 1, "total": 12},
    }
    for township, values in made_up.items():
        for series, value in values.items():
            cells[(year, "township", township, series)] = value
    return resum(cells, geo.parent_of), finest, geo


def resum(cells, parent_of):
    """Recompute every county and prefecture cell from the township cells."""
    cells = {k: (0 if k[1] != "township" else v) for k, v in cells.items()}
    for (y, level, area, series), value in list(cells.items()):
        if level == "township":
            parent = parent_of(level, area)
            cells[(y, *parent, series)] += value
            cells[(y, *parent_of(*parent), series)] += value
    return cells


def findings_for(cells, finest, geo, hidden):
    published = disclosure.publishable(cells, finest)
    model = disclosure.AttackerModel(cells, disclosure.hierarchy(cells, geo.parent_of), 1, [])
    state = {k: (None if k in hidden else v) for k, v in published.items()}
    return model.audit([state], [], exact=True)


def test_the_two_per_group_heuristic_alone_fails_the_audit(truth):
    cells, finest, geo = rural_county_fixture(truth)
    published = disclosure.publishable(cells, finest)
    hidden = naive_two_per_group(cells, published, geo.parent_of)
    findings = findings_for(cells, finest, geo, hidden)
    assert any(f.rule in ("narrow", "pinned") and f.key[3] == "low_income" for f in findings)


def test_the_suppressor_protects_the_same_fixture(truth):
    cells, finest, geo = rural_county_fixture(truth)
    _, hidden, report = disclosure.protect(cells, finest, geo.parent_of)
    assert report.passed
    assert findings_for(cells, finest, geo, hidden) == []


def test_knowing_the_number_of_small_cells_would_have_pinned_two(truth):
    """The leak found in the first release: with the count of small cells published, an
    attacker pins a pair whose sum is fixed. The audit's criterion now rejects any model in
    which a could-be-small cell loses part of 1 to 10, and that count is published nowhere."""
    cells, finest, geo = truth
    year = 2018
    group = {k: v for k, v in cells.items() if k[0] == year}
    published = disclosure.publishable(group, finest)
    result = disclosure.protect_year(group, finest, geo.parent_of)
    model = result.model
    state = {k: (None if k in result.hidden else v) for k, v in published.items()}
    bounds = model.bounds([state])
    for key in result.hidden:
        column = model.column(0, key)
        for value in disclosure.SMALL:
            # every small value stays possible for every hidden cell that could be small
            if model.attacker.extreme(column, bounds, 1, True) <= 10:
                assert model.attacker.feasible_at(column, value, bounds, True), (key, value)


# Property: on random hierarchical tables, the suppressor always ends with a passing audit,
# and an integer attacker written separately agrees.


@st.composite
def tables(draw):
    counties = draw(st.integers(2, 4))
    layout = [draw(st.integers(1, 4)) for _ in range(counties)]
    categories = ["a", "b", "c"]
    cells = {}
    townships = []
    for c, n in enumerate(layout):
        for t in range(n):
            code = f"5399{c:02d}{t + 1:03d}"
            townships.append(code)
            parts = {k: draw(st.integers(0, 40)) for k in categories}
            biggest, everything = max(parts.values()), sum(parts.values())
            parts["total"] = draw(st.integers(biggest, everything))
            for k, v in parts.items():
                cells[(2020, "township", code, k)] = v
    for (year, _, code, k), v in list(cells.items()):
        for key in ((year, "county", code[:6], k), (year, "prefecture", "539900", k)):
            cells[key] = cells.get(key, 0) + v
    finest = {"total": "township", "a": "township", "b": "county", "c": "prefecture"}
    return cells, finest, townships


def parent_of(level, code):
    return {"township": ("county", code[:6]), "county": ("prefecture", code[:4] + "00")}.get(level)


def protected_or_refused(cells, finest, **history):
    """The method and the release gate on one prefecture-year, as the build runs them."""
    try:
        return disclosure.protect_block(
            (2020, "539900"),
            cells,
            finest,
            parent_of,
            history.get("earlier", ()),
            history.get("unchanged", ()),
        )
    except disclosure.CannotProtect as failure:
        # A refusal names the cells that block publication; only an HIV-like count that is
        # the sole explanation of a hidden total, or a correction that cannot be hidden, does.
        assert failure.findings and all(f.key in cells for f in failure.findings)
        return None


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_suppression_always_passes_an_independent_integer_attack(table):
    cells, finest, townships = table
    result = protected_or_refused(cells, finest)
    if result is None:
        return
    published = disclosure.publishable(cells, finest)
    attack = Attack(["total", "a", "b", "c"], finest, townships, as_rows(published, result.hidden))
    assert attack.leaks(2020, cells) == []


def replaying(finest, parent):
    """The published method as an attacker runs it on a table they imagine."""
    return lambda table: disclosure.protect_year(table, finest, parent).hidden


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_an_attacker_who_replays_the_method_narrows_nothing(table):
    """Random hierarchies: the attacker re-runs the method under every hypothesis about which
    hidden cells are small and keeps the hypotheses that give the published pattern back."""
    cells, finest, townships = table
    result = protected_or_refused(cells, finest)
    if result is None or len(result.hidden) > 8:
        return
    published = disclosure.publishable(cells, finest)
    attack = Attack(["total", "a", "b", "c"], finest, townships, as_rows(published, result.hidden))
    assert ReplayAttack(attack, replaying(finest, parent_of)).leaks(2020, cells) == []


def leaky_pattern():
    """A prefecture of four counties, one small, and a method that hides the small county
    with whichever sibling makes the sum just big enough: the choice depends on the counts."""
    finest = {"total": "county", "a": "prefecture"}  # every child in category a
    counties = {"539901": 4, "539902": 15, "539903": 30, "539904": 40}
    cells = {}
    for series in finest:
        cells |= {(2020, "county", c, series): v for c, v in counties.items()}
        cells[(2020, "prefecture", "539900", series)] = sum(counties.values())
    parent = {"county": ("prefecture", "539900")}

    def leaky(table, *_, **__):
        county = {k: v for k, v in table.items() if k[1] == "county" and k[3] == "total"}
        small = {k for k, v in county.items() if 0 < v < THRESHOLD}
        others = sorted((v, k) for k, v in county.items() if k not in small)
        return small | {others[0][1]} if small and others else small

    return cells, finest, (lambda level, area: parent.get(level)), leaky


def test_the_replaying_attacker_and_the_gate_catch_a_method_whose_choice_leaks():
    """Both attackers can fail: hiding the smallest other county tells that it is the
    smallest, and with the sum published that bounds the small county from above."""
    cells, finest, parent, leaky = leaky_pattern()
    hidden = leaky(cells)
    published = disclosure.publishable(cells, finest)
    attack = Attack(["total", "a"], finest, [], as_rows(published, hidden))
    attack.parent = {
        ("county", c): ("prefecture", "539900") for c in ("539901", "539902", "539903", "539904")
    }
    attack.areas = [*attack.parent, ("prefecture", "539900")]
    attack.townships = []
    assert ReplayAttack(attack, leaky).leaks(2020, cells)

    class Result:
        pass

    result = Result()
    result.hidden, result.rounds = hidden, 1
    result.model = disclosure.new_model(cells, parent, 1, [])

    def method(table, *args, model=None, **kwargs):
        again = Result()
        again.hidden = leaky(table)
        return again

    verdict = replay.verify(cells, finest, parent, [], [], result, THRESHOLD, method)
    assert verdict.findings, "the gate must refuse a pattern whose choice narrows a small count"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.data())
def test_a_corrected_year_learns_nothing_by_differencing(table, data):
    """Publish a year, correct one township, publish again: the attacker holds both versions
    and knows which township changed, and still cannot narrow any hidden count."""
    cells, finest, townships = table
    first = protected_or_refused(cells, finest)
    if first is None:
        return
    published = disclosure.publishable(cells, finest)
    old = {k: (None if k in first.hidden else v) for k, v in published.items()}
    township = data.draw(st.sampled_from(townships))
    delta = data.draw(st.integers(-3, 3))
    corrected = dict(cells)
    for series in ("a", "total"):
        key = (2020, "township", township, series)
        corrected[key] = max(0, cells[key] + delta)
    corrected[(2020, "township", township, "total")] = max(
        corrected[(2020, "township", township, s)] for s in ("a", "b", "c")
    ) + min(corrected[(2020, "township", township, s)] for s in ("a", "b", "c"))
    corrected = resum(corrected, parent_of)
    unchanged = {
        (2020, "township", t, s)
        for t in townships
        if t != township
        for s in ("total", "a", "b", "c")
    }
    second = protected_or_refused(
        corrected, finest, earlier=[disclosure.Version(old)], unchanged=[unchanged]
    )
    if second is None:
        return
    new_published = disclosure.publishable(corrected, finest)
    attack = Attack(
        ["total", "a", "b", "c"],
        finest,
        townships,
        as_rows(published, first.hidden),
        later=[as_rows(new_published, second.hidden)],
        changed=[{(2020, township)}],
    )
    assert attack.leaks(2020, corrected) == []


def test_a_correction_that_leaks_by_differencing_is_repaired(truth):
    """A township's total moves by 3: suppressed on its own, the new version lets anyone
    subtract the county totals of the two versions and pin the township."""
    cells, finest, geo = truth
    year = 2025
    old_cells = {k: v for k, v in cells.items() if k[0] == year}
    first = disclosure.protect_year(old_cells, finest, geo.parent_of)
    published = disclosure.publishable(old_cells, finest)
    old = {k: (None if k in first.hidden else v) for k, v in published.items()}
    # the correction: a township whose total is published, made small enough to be hidden
    township = next(
        k[2]
        for k in sorted(published)
        if k[1] == "township" and k[3] == "total" and old[k] is not None and 14 <= old[k] <= 30
    )
    new_cells = dict(old_cells)
    key = (year, "township", township, "total")
    new_cells[key] = new_cells[(year, "township", township, "low_income")] = 8
    for series in ("orphan", "hiv", "unsupported", "severe_disability", "severe_illness"):
        new_cells[(year, "township", township, series)] = 0
    for series in ("street", "guardianship"):
        new_cells[(year, "township", township, series)] = 0
    new_cells = resum(new_cells, geo.parent_of)
    unchanged = {k for k in old_cells if k[1] == "township" and k[2] != township}
    alone = disclosure.protect_year(new_cells, finest, geo.parent_of)
    naive = {k: (None if k in alone.hidden else new_cells[k]) for k in published}
    model = disclosure.AttackerModel(
        new_cells, disclosure.hierarchy(new_cells, geo.parent_of), 2, [unchanged]
    )
    assert model.audit([old, naive], [], exact=True), "suppressed alone, the correction leaks"
    joint = disclosure.protect_year(
        new_cells, finest, geo.parent_of, earlier=[disclosure.Version(old)], unchanged=[unchanged]
    )
    repaired = {k: (None if k in joint.hidden else new_cells[k]) for k in published}
    assert model.audit([old, repaired], [], exact=True) == []
    assert joint.hidden - alone.hidden


@pytest.mark.parametrize("seed", [1, 2, 3, 33, 2017, 20251231])
def test_other_sample_draws_are_protected(seed, truth):
    """The generator with other seeds: different small cells, same guarantees."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import generate_sample

    _, finest, geo = truth
    seats = {
        row["county_code"]: row
        for row in csv.DictReader(open(ROOT / "sources" / "divisions" / "county_seats.csv"))
    }
    rng = random.Random(seed)
    rows = []
    for index, code in enumerate(sorted(geo.counties)):
        county = generate_sample.County(
            code, "x", geo, seats[code], random.Random(rng.getrandbits(64)), index
        )
        rows += county.children_counts()
    cells = aggregate.children_cells(rows, geo)
    published, hidden, report = disclosure.protect(cells, finest, geo.parent_of)
    assert report.passed
    attack = Attack(list(finest), finest, sorted(geo.townships), as_rows(published, hidden))
    for year in (2017, 2021, 2025):
        assert attack.leaks(year, cells) == [], (seed, year)


# Co-location: a published point never gives a custody site away.


def test_nothing_near_or_inside_a_custody_facility_is_published_at_a_point(built):
    """No published point within the exclusion distance of a custody site, none in a custody
    site's township, one reason for every withheld point, and no name, capacity or line of a
    custody site or of what sits inside one."""
    checked = validate.validate(SAMPLE_SUBMISSIONS)
    lookups = checked.lookups
    submitted = [row for tables in checked.tables.values() for row in tables.get("facilities", [])]
    custody = [r for r in submitted if r["facility_type"] in lookups["custody_types"]]
    points = [locations.point(r) for r in custody if locations.point(r)]
    custody_townships = {r["township_code"] for r in custody}
    assert points
    db = sqlite_utils.Database(built.db)
    shown = list(db.query("select * from facilities where latitude is not null"))
    assert shown
    for row in shown:
        here = (row["latitude"], row["longitude"])
        nearest = min(locations.distance_metres(here, there) for there in points)
        assert nearest >= locations.EXCLUSION_METRES, (row["name"], nearest)
        assert row["township_code"] not in custody_townships, row["name"]
    reasons = {r["location_withheld"] for r in db.query("select location_withheld from facilities")}
    assert reasons <= {None, "withheld", "not_given"}
    for row in db.query("select * from facilities where location_withheld = 'withheld'"):
        assert row["latitude"] is None and row["longitude"] is None and row["address"] is None
    submitted_by_id = {f"{r['facility_id']}": r for r in submitted}
    inside = [
        r
        for r in db.query("select * from facilities")
        if r["facility_type"] in lookups["custody_types"] or r["facility_type"] == "special_class"
    ]
    assert inside
    for row in inside:
        original = submitted_by_id[row["facility_id"]]
        assert row["capacity"] is None and row["hotline_owner"], row["facility_id"]
        assert row["hotline"] != original["hotline"]
        assert row["name"] == row["county_name"] + row["facility_type_name"] or row[
            "name"
        ].startswith(row["county_name"] + row["facility_type_name"] + "（")
        assert "社会福利中心" not in row["name"]


def test_co_location_rules():
    custody_types, housed_in = {"welfare_institution"}, {"special_class": "welfare_institution"}
    types = {
        "welfare_institution": "儿童福利机构",
        "special_class": "特教班",
        "rehab_center": "残疾儿童康复中心",
        "special_school": "特殊教育学校",
    }
    county = {"county_code": "532301"}
    home = {
        "facility_id": "1-A",
        "facility_type": "welfare_institution",
        "name": "甲县社会福利中心儿童部",
    }
    home.update(latitude=25.0, longitude=101.5, address="x", capacity=40, township_code="T1")
    home.update(hotline="0878-1234567", **county)
    rows = [
        home,
        {
            "facility_id": "1-B",
            "facility_type": "special_class",
            "latitude": 25.3,
            "longitude": 101.9,
        },
        {
            "facility_id": "1-C",
            "facility_type": "rehab_center",
            "latitude": 25.008,
            "longitude": 101.5,
        },
        {
            "facility_id": "1-D",
            "facility_type": "rehab_center",
            "latitude": 25.3,
            "longitude": 101.5,
        },
        {"facility_id": "1-E", "facility_type": "special_school", "host_facility_id": "1-A"},
        {"facility_id": "1-F", "facility_type": "special_school", "capacity": 9, "address": "y"},
        {
            "facility_id": "1-G",
            "facility_type": "rehab_center",
            "latitude": 25.2,
            "longitude": 101.6,
        },
    ]
    townships = {"1-B": "T2", "1-C": "T3", "1-D": "T4", "1-E": "T2", "1-F": "T5", "1-G": "T1"}
    for row in rows[1:]:
        row.update(county, township_code=townships[row["facility_id"]], name=row["facility_id"])
    contacts = {"532301": {"name": "楚雄市民政局", "phone": "12345"}}
    out = {
        r["facility_id"]: r
        for r in locations.publishable_rows(
            rows, custody_types, housed_in, contacts, types, {"532301": "楚雄市"}
        )
    }
    assert out["1-A"]["location_withheld"] == "withheld" and out["1-A"]["capacity"] is None
    assert out["1-A"]["name"] == "楚雄市儿童福利机构" and out["1-A"]["hotline"] == "12345"
    assert out["1-B"]["location_withheld"] == "withheld" and out["1-B"]["name"] == "楚雄市特教班"
    assert out["1-C"]["location_withheld"] == "withheld"  # about 890 m away, another township
    assert out["1-D"]["location_withheld"] is None and out["1-D"]["location_precision"] == "point"
    assert out["1-E"]["location_withheld"] == "withheld" and out["1-E"]["hotline_owner"]
    assert out["1-F"]["location_withheld"] == "not_given" and out["1-F"]["capacity"] == 9
    # 1-G is 22 km away but in the custody facility's township: withheld alike
    assert out["1-G"]["location_withheld"] == "withheld" and out["1-G"]["latitude"] is None


def test_the_spatial_index_costs_time_in_proportion_to_the_facilities():
    """Twice the prefectures (twice the facilities over twice the land, as in the nation-sized
    set) about doubles the work (distance computations); it does not quadruple it."""
    rng = random.Random(7)

    def facilities(n):
        return [
            {
                "facility_id": f"F{i}",
                "facility_type": "welfare_institution" if i % 10 == 0 else "township_station",
                "township_code": f"T{i // 5}",
                "latitude": 24.3 + rng.random() * 2,
                "longitude": 90 + rng.random() * 1.7 * n / 2000,
            }
            for i in range(n)
        ]

    calls = []
    original = locations.distance_metres

    def counting(a, b):
        calls.append(1)
        return original(a, b)

    locations.distance_metres = counting
    try:
        counts = []
        for n in (2000, 4000):
            calls.clear()
            locations.protected_townships(facilities(n), {"welfare_institution"})
            counts.append(len(calls))
    finally:
        locations.distance_metres = original
    assert counts[1] < 2.6 * counts[0], counts
