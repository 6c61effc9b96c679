"""Releases of real data: ids and notes computed by diffing, corrections of released years with a
joint audit of every version, the store that keeps each release byte for byte, freshness."""

import csv
import datetime
import hashlib
import io
import json
import shutil

import pytest
import yaml

from pipeline import build
from pipeline.paths import DIVISIONS_SOURCES, SAMPLE_SUBMISSIONS
from pipeline.problems import InputRejected
from pipeline.reading import decode
from tests.attacker import Attack
from tests.helpers import CATEGORY_NAMES, file_hashes

FIRST, SECOND = datetime.date(2026, 12, 1), datetime.date(2026, 12, 5)
YEAR, COUNTY = 2024, "532322"


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Site:
    """A real (not sample) submissions folder outside the repository, and where it publishes."""

    def __init__(self, root):
        self.root = root
        self.submissions = root / "submissions"
        shutil.copytree(SAMPLE_SUBMISSIONS, self.submissions)
        manifest = self.submissions / "submission.yml"
        data = yaml.safe_load(manifest.read_text("utf-8"))
        data["sample"] = False
        manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        self.data, self.db, self.store = (
            root / "data",
            root / "build" / "chuxiong.db",
            root / "releases",
        )

    def build(self, today):
        return build.build(
            self.submissions,
            DIVISIONS_SOURCES,
            self.data,
            self.db,
            quiet=True,
            today=today,
            releases_dir=self.store,
        )

    def county(self, code=COUNTY):
        return next(self.submissions.glob(f"{code}_*"))

    def edit_children(self, change):
        path = self.county() / "children_counts.csv"
        raw = path.read_bytes()
        text, _ = decode(raw, path.name)
        rows = list(csv.reader(io.StringIO(text)))
        township = change(rows)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        path.write_bytes(
            out.getvalue().encode("utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else "utf-8")
        )
        return township

    def add_correction(self, township, year=YEAR, reason="重复统计"):
        path = self.submissions / "corrections.csv"
        header = "更正编号,更正日期,更正的表,年份或报告期,乡镇、村（居）委会代码或任务序号,更正原因,发现途径\r\n"
        existing = path.read_text("utf-8-sig") if path.exists() else header
        number = existing.count("\n")
        line = (
            f"C2026-{number:03d},2026-12-03,children_counts,{year},{township},{reason},县市自查\r\n"
        )
        path.write_text(existing + line, encoding="utf-8-sig")


def bump(rows, year=YEAR, by=1):
    """Add `by` to one township's 贫困家庭儿童 and its total in one year; return the township."""
    header = rows[0]
    low, total = header.index("贫困家庭儿童"), header.index("困境儿童总数（去重）")
    for row in rows[1:]:
        if row[0] == str(year) and int(row[low]) > 30:
            row[low] = str(int(row[low]) + by)
            row[total] = str(int(row[total]) + by)
            return row[1]
    raise AssertionError("no township to change")


def attack_on(site, first, second, township):
    """The outside attacker holding both published versions of YEAR and knowing which
    township the correction changed."""
    finest = {
        r["series_code"]: r["finest_level"]
        for r in read(site.data / "reference" / "publication_levels.csv")
    }
    townships = [t["township_code"] for t in read(DIVISIONS_SOURCES / "townships.csv")]
    return Attack(
        list(finest), finest, townships, first, later=[second], changed=[{(YEAR, township)}]
    )


@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    """Release 1, then a correction of a released year and release 2."""
    site = Site(tmp_path_factory.mktemp("site"))
    first = site.build(FIRST)
    kept = {
        name: digest(site.store / first["release"] / name)
        for name in ("chuxiong.db", "chuxiong-open-data.zip", "manifest.json")
    }
    first_rows = read(site.data / "children" / "children_counts.csv")
    township = site.edit_children(bump)
    site.add_correction(township)
    second = site.build(SECOND)
    return site, first, second, kept, first_rows, township


def test_a_first_real_build_is_release_one_of_its_day(tmp_path):
    site = Site(tmp_path)
    summary = site.build(FIRST)
    assert summary["release"] == "2026-12-01.1" and summary["new_release"]
    [row] = read(site.data / "releases" / "releases.csv")
    assert row["notes"] == "首次发布。" and row["sample"] == "false"
    assert (site.store / "current").resolve().name == "2026-12-01.1"
    manifest = json.loads((site.store / "2026-12-01.1" / "manifest.json").read_text("utf-8"))
    for name, entry in manifest["files"].items():
        path = site.store / "2026-12-01.1" / name if "/" not in name else site.data / name[5:]
        assert digest(path) == entry["sha256"], name
    again = site.build(FIRST)
    assert again["release"] == "2026-12-01.1" and not again["new_release"]


def test_a_released_year_changed_without_a_correction_is_refused(tmp_path):
    site = Site(tmp_path)
    site.build(FIRST)
    before = file_hashes(site.data, site.db, site.store)
    site.edit_children(bump)
    with pytest.raises(InputRejected) as rejected:
        site.build(SECOND)
    [problem] = rejected.value.problems
    assert problem.rule == "released-year" and problem.value == YEAR
    assert "corrections.csv" in problem.zh and "correction" in problem.en
    assert file_hashes(site.data, site.db, site.store) == before


def test_the_second_release_lists_exactly_the_correction(corrected):
    site, first, second, _, _, township = corrected
    assert second["release"] == "2026-12-05.1" and second["new_release"]
    releases = read(site.data / "releases" / "releases.csv")
    assert [r["release_id"] for r in releases] == [first["release"], second["release"]]
    assert releases[1]["previous_release"] == first["release"] and releases[1]["corrections"] == "1"
    changes = [
        r
        for r in read(site.data / "releases" / "release_changes.csv")
        if r["release_id"] == second["release"]
    ]
    assert {(r["table_name"], r["year"]) for r in changes} == {("children_counts", str(YEAR))}
    [log] = read(site.data / "releases" / "corrections.csv")
    assert (log["release_id"], log["code"], log["year"]) == (second["release"], township, str(YEAR))
    assert log["reason"] == "重复统计" and log["area_name"]
    assert "更正" in releases[1]["notes"] and "children_counts" in releases[1]["notes"]


def test_the_first_release_stays_downloadable_byte_for_byte(corrected):
    site, first, _, kept, _, _ = corrected
    for name, value in kept.items():
        assert digest(site.store / first["release"] / name) == value, name
    assert (site.store / "current").resolve().name == "2026-12-05.1"


def test_the_history_keeps_both_versions_and_an_attacker_learns_nothing(corrected):
    site, first, second, _, first_rows, township = corrected
    history = read(site.data / "releases" / "children_counts_history.csv")
    old = [r for r in history if r["release_id"] == first["release"] and r["year"] == str(YEAR)]
    new = [r for r in history if r["release_id"] == second["release"]]
    assert {r["year"] for r in new} == {str(YEAR)}
    fields = ("year", "level", "area_code", "series_code", "count", "status")
    assert sorted(tuple(r[f] for f in fields) for r in old) == sorted(
        tuple(r[f] for f in fields) for r in first_rows if r["year"] == str(YEAR)
    )
    assert len(old) == len(new)
    assert attack_on(site, old, new, township).leaks(YEAR) == []


def test_a_correction_that_would_leak_by_differencing_is_repaired(tmp_path):
    """A township total that was published moves into the small range: hidden alone, the
    county totals of the two versions would give it away; the joint audit hides more."""
    site = Site(tmp_path)
    site.build(FIRST)

    def make_small(rows):
        header = rows[0]
        total = header.index("困境儿童总数（去重）")
        categories = [header.index(t) for t in CATEGORY_NAMES]
        for row in rows[1:]:
            if row[0] == str(YEAR) and 12 <= int(row[total]) <= 60:
                for index in categories:
                    row[index] = "0"
                row[header.index("贫困家庭儿童")] = "6"
                row[total] = "6"
                return row[1]
        raise AssertionError("no township to change")

    township = site.edit_children(make_small)
    site.add_correction(township, reason="填报错误")
    summary = site.build(SECOND)
    history = read(site.data / "releases" / "children_counts_history.csv")
    versions = [
        [r for r in history if r["release_id"] == release and r["year"] == str(YEAR)]
        for release in (f"{FIRST}.1", summary["release"])
    ]
    assert attack_on(site, versions[0], versions[1], township).leaks(YEAR) == []
    hidden = [r for r in versions[1] if r["status"] == "suppressed"]
    assert any(r["area_code"] == township for r in hidden)
    assert len(hidden) > len([r for r in versions[0] if r["status"] == "suppressed"])
    # what the correction cost is said in words in the release notes
    shown_before = {
        (r["level"], r["area_code"], r["series_code"])
        for r in versions[0]
        if r["status"] == "published"
    }
    withdrawn = [
        r for r in hidden if (r["level"], r["area_code"], r["series_code"]) in shown_before
    ]
    assert withdrawn
    notes = read(site.data / "releases" / "releases.csv")[-1]["notes"]
    assert f"此前公布的 {len(withdrawn)} 个人数现在隐藏" in notes


def test_a_correction_of_a_year_never_published_is_refused(tmp_path):
    site = Site(tmp_path)
    site.build(FIRST)
    site.add_correction("532322100", year=2030)
    with pytest.raises(InputRejected) as rejected:
        site.build(SECOND)
    assert {p.rule for p in rejected.value.problems} >= {"correction"}


def test_the_late_county_is_flagged_with_its_days(built):
    rows = read(built.data / "releases" / "submission_status.csv")
    late = [r for r in rows if r["status"] == "late"]
    assert late == [
        {
            "submitter_code": "532328",
            "submitter_name": "元谋县",
            "year": "2025",
            "due_on": "2026-03-31",
            "submitted_on": "2026-05-12",
            "status": "late",
            "days_late": "42",
            "gap_reason": "",
        }
    ]
    assert {r["status"] for r in rows} == {"on_time", "late"}


def test_a_declared_gap_is_published_with_its_reason(tmp_path):
    site = Site(tmp_path)
    folder = site.county("532329")
    shutil.rmtree(folder)
    manifest = site.submissions / "submission.yml"
    data = yaml.safe_load(manifest.read_text("utf-8"))
    data["gaps"] = [{"county": "532329", "table": "all", "year": "all", "reason": "尚未报送"}]
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    site.build(FIRST)
    rows = [
        r
        for r in read(site.data / "releases" / "submission_status.csv")
        if r["submitter_code"] == "532329"
    ]
    assert rows and all(r["status"] == "gap" and r["gap_reason"] == "尚未报送" for r in rows)


def test_a_page_cited_from_the_first_release_keeps_its_numbers(corrected, portal_metadata):
    """The portal serves every release: /v<first>/… and /county/…?release=<first> show the
    numbers as first published, /chuxiong/… the corrected ones, each page says which."""
    import asyncio

    from serving.app import make_datasette, release_route

    site, first, second, _, first_rows, township = corrected
    ds = make_datasette(site.store, portal_metadata)
    asyncio.run(ds.invoke_startup())

    def get(path):
        response = asyncio.run(ds.client.get(path))
        assert response.status_code == 200, (path, response.status_code)
        return response

    def counts(database):
        path = f"/{database}/children_counts.json?area_code={township}&year={YEAR}&_shape=array"
        return sorted((r["series_code"], r["count"]) for r in get(path).json())

    then = sorted(
        (r["series_code"], int(r["count"]) if r["count"] else None)
        for r in first_rows
        if r["area_code"] == township and r["year"] == str(YEAR)
    )
    assert counts(release_route(first["release"])) == then
    assert counts("chuxiong") != then
    pinned = get(f"/county/{COUNTY}?release={first['release']}").text
    assert "您在看历史版本 " + first["release"] in pinned
    assert f"?release={first['release']}" in pinned or release_route(first["release"]) in pinned
    assert "历史版本" not in get(f"/county/{COUNTY}").text
    assert asyncio.run(ds.client.get(f"/county/{COUNTY}?release=2001-01-01.1")).status_code == 404


def test_the_current_release_is_citable_the_day_it_is_published(corrected, portal_metadata):
    """On the day a release is published its fixed address already answers, the page offers it
    under 「引用本页」, and after the next release the same address still shows those numbers."""
    import asyncio
    import html
    import re

    from serving.app import make_datasette, release_route

    site, first, second, _, first_rows, township = corrected

    def served(release):
        ds = make_datasette(site.store, portal_metadata, release=release)
        asyncio.run(ds.invoke_startup())
        return ds

    def cited(ds, path):
        response = asyncio.run(ds.client.get(path))
        assert response.status_code == 200, path
        found = re.search(r'<a class="cite-url" href="([^"]+)"', response.text)
        return html.unescape(found.group(1)), response.text

    day_one = served(first["release"])
    address, page = cited(day_one, f"/chuxiong/children_counts?area_code={township}")
    assert address == f"/{release_route(first['release'])}/children_counts?area_code={township}"
    assert "[DS/OL]. 版本 " + first["release"] in page
    as_json = address.replace("/children_counts?", "/children_counts.json?") + "&_shape=array"
    then = asyncio.run(day_one.client.get(as_json))
    then_page = cited(day_one, address)[1]
    assert "即当前版本" in then_page and "<h1>困境儿童人数" in then_page

    later = served(second["release"])
    now = asyncio.run(later.client.get(as_json))
    assert now.status_code == 200 and now.json() == then.json()
    later_page = cited(later, address)[1]
    assert "您在看历史版本 " + first["release"] in later_page
    assert "<h1>困境儿童人数" in later_page  # the pinned release's tables keep their titles
    county_address, _ = cited(later, f"/county/{COUNTY}")
    assert county_address == f"/county/{COUNTY}?release={second['release']}"
    assert "即当前版本" in cited(later, county_address)[1]


def test_a_new_custody_site_is_not_given_away_by_any_kept_release(tmp_path, portal_metadata):
    """A county adds a custody facility 200 m from a township station whose point release 1
    published. Release 2 withholds the station's point, and so does every kept release: the
    database (old values vacuumed out of the file), the zip and the pages at /v<release 1>/;
    the manifest says what was rewritten and by which release."""
    import asyncio
    import zipfile

    import sqlite_utils

    from serving.app import make_datasette, release_route

    site = Site(tmp_path)
    first = site.build(FIRST)
    db = sqlite_utils.Database(site.db)
    csv_counties = {p.parent.name[:6] for p in site.submissions.glob("*/facilities.csv")}
    with_welfare = {
        r["county_code"]
        for r in db.query(
            "select county_code from facilities where facility_type = ?", ["welfare_institution"]
        )
    }
    csv_counties -= with_welfare  # a county has one child welfare institution at most
    station = next(
        r
        for r in db.query(
            "select * from facilities where latitude is not null "
            "and facility_type = 'township_station' order by facility_id"
        )
        if r["county_code"] in csv_counties
    )
    path = site.county(station["county_code"]) / "facilities.csv"
    raw = path.read_bytes()
    text, _ = decode(raw, path.name)
    rows = list(csv.reader(io.StringIO(text)))
    rows.append(
        ["F900", "儿童福利机构", "新设的儿童福利院", station["township_code"], "", "", ""]
        + [f"{station['longitude'] + 0.002:.5f}", f"{station['latitude']:.5f}"]
        + ["20", "2026", "临时庇护", "0878-2123456", ""]
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    encoding = "utf-8-sig" if raw[:3] == b"\xef\xbb\xbf" else "utf-8"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        encoding = "gbk"
    path.write_bytes(out.getvalue().encode(encoding))
    second = site.build(SECOND)
    in_township = db.execute(
        "select count(*) from facilities where township_code = ? and latitude is not null",
        [station["township_code"]],
    ).fetchone()[0]
    assert second["new_release"] and second["redacted"] == {first["release"]: in_township}
    old = site.store / first["release"]
    for folder in (old, site.store / second["release"]):
        row = sqlite_utils.Database(folder / "chuxiong.db")["facilities"].get(
            station["facility_id"]
        )
        assert row["latitude"] is None and row["longitude"] is None and row["address"] is None
        assert row["location_withheld"] == "withheld"
    assert f"{station['latitude']}".encode() not in (old / "chuxiong.db").read_bytes()
    with zipfile.ZipFile(old / "chuxiong-open-data.zip") as archive:
        name = next(n for n in archive.namelist() if n.endswith("facilities/facilities.csv"))
        published = {
            r["facility_id"]: r for r in csv.DictReader(io.StringIO(archive.read(name).decode()))
        }
    assert published[station["facility_id"]]["latitude"] == ""
    manifest = json.loads((old / "manifest.json").read_text("utf-8"))
    assert manifest["redactions"][0]["by_release"] == second["release"]
    for name in ("chuxiong.db", "chuxiong-open-data.zip"):
        assert digest(old / name) == manifest["files"][name]["sha256"], name
    ds = make_datasette(site.store, portal_metadata)
    asyncio.run(ds.invoke_startup())
    route = release_route(first["release"])
    response = asyncio.run(
        ds.client.get(f"/{route}/facilities/{station['facility_id']}.json?_shape=objects")
    )
    assert response.status_code == 200
    [served] = response.json()["rows"]
    assert served["latitude"] is None and served["longitude"] is None
