"""Generate the synthetic sample submissions (示例数据,非真实统计) from a fixed seed.

No real figures are available to this project, so the portal ships with
synthetic submissions shaped like real ones: every county of Chuxiong,
2017 to 2025, in the same templates a county data officer fills in, in the
encodings Excel on Chinese Windows produces (UTF-8 with BOM, GBK, XLSX).
Children's homes and supervisors spread over the years, some counties miss the
2020 target, some tasks run late. Every row says it is sample data.

    python scripts/generate_sample.py                     # the bundled sample
    python scripts/generate_sample.py --scale 14 --out /tmp/province
    python scripts/generate_sample.py --scale 543 --out /tmp/nation

--scale K copies the prefecture's geography K times under synthetic codes (a
province-sized set at about 15,000 village units, a nation-sized one at about
600,000), for benchmarks. It writes the submissions to OUT/submissions and the
matching divisions to OUT/divisions:

    python -m pipeline build --submissions OUT/submissions --divisions OUT/divisions \
        --data-dir OUT/data --database OUT/chuxiong.db
"""

import argparse
import csv
import datetime
import io
import math
import random
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import build_templates  # noqa: E402

from pipeline import divisions as divisions_module  # noqa: E402
from pipeline import geometry, reference, schemas  # noqa: E402
from pipeline.paths import (  # noqa: E402
    DIVISIONS_SOURCES,
    PREFECTURE_CODE,
    SAMPLE_NOTICE,
    SAMPLE_SUBMISSIONS,
)
from pipeline.xlsx import save_reproducibly  # noqa: E402

SEED = 20171130
REPORTING_YEAR = 2025
YEARS = range(2017, REPORTING_YEAR + 1)
# The county that sends the reporting year's figures late: the portal flags it.
LATE = {"532328": datetime.date(2026, 5, 12)}
REMARK = SAMPLE_NOTICE
# Children per village committee (about 2.4 million people, 22% under 18, 1,106 committees).
CHILDREN_PER_VILLAGE = 480
# Share of children in each category in 2017, and the yearly drift of that share.
RATES = {
    "orphan": (0.0026, -0.04),
    "hiv": (0.00008, -0.05),
    "unsupported": (0.0012, 0.10),
    "severe_disability": (0.0048, 0.01),
    "severe_illness": (0.0016, 0.02),
    "low_income": (0.052, -0.08),
    "street": (0.00002, -0.10),
    "guardianship": (0.00035, 0.03),
}
FORMATS = ["csv-bom", "csv-gbk", "csv-utf8", "xlsx"]


def poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def titles(table):
    return [field["title"] for field in schemas.submission(table)["fields"]]


def write_table(folder, table, rows, fmt, templates=None):
    """Write a submission the way a county would: UTF-8 with BOM, GBK, plain UTF-8, or the
    county's prefilled XLSX template filled in (`templates`: the folder of its templates).

    `rows` are dicts by field name, in the order the county would list them.
    """
    names = [field["name"] for field in schemas.submission(table)["fields"]]
    if fmt == "xlsx":
        fill_template(templates / f"{table}.xlsx", folder / f"{table}.xlsx", names, rows)
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(titles(table))
    writer.writerows([row.get(name, "") for name in names] for row in rows)
    encoding = {"csv-bom": "utf-8-sig", "csv-gbk": "gbk", "csv-utf8": "utf-8"}[fmt]
    (folder / f"{table}.csv").write_bytes(buffer.getvalue().encode(encoding))


def fill_template(template, path, names, rows):
    """Fill a county's prefilled template as its data officer would: the locked year and
    code cells are matched, the others typed in; a template without rows gets them appended."""
    from openpyxl import load_workbook

    workbook = load_workbook(template)
    sheet = workbook["数据"]
    prefilled = {}
    for index in range(2, sheet.max_row + 1):
        key = (sheet.cell(index, 1).value, sheet.cell(index, 2).value)
        if key[0] is not None:
            prefilled[key] = index
    next_row = 2
    for row in rows:
        key = (row.get(names[0]), row.get(names[1]))
        index = prefilled.get(key)
        if index is None:
            index, next_row = next_row, next_row + 1
        for column, name in enumerate(names, start=1):
            value = row.get(name)
            if value not in (None, "") and (index not in prefilled.values() or column > 3):
                sheet.cell(index, column, value)
    save_reproducibly(workbook, path)


def scaled_divisions(geo, scale):
    """The real divisions plus scale - 1 synthetic copies under made-up codes."""
    counties, townships, villages = [], [], []
    for copy in range(scale):
        prefix = None if copy == 0 else f"{60 + copy // 100:02d}{copy % 100:02d}"
        suffix = "" if copy == 0 else f"(合成副本{copy})"

        def recode(code, prefix=prefix):
            return code if prefix is None else prefix + code[4:]

        for code in sorted(geo.counties):
            c = geo.counties[code]
            counties.append(
                [recode(code), c["name"] + suffix, "synthetic" if copy else c["code_system"]]
            )
        for code in sorted(geo.townships):
            t = geo.townships[code]
            townships.append(
                [
                    recode(code),
                    recode(t["county_code"]),
                    t["name"],
                    t["kind"],
                    "synthetic" if copy else t["code_system"],
                ]
            )
        for code in sorted(geo.villages):
            v = geo.villages[code]
            villages.append(
                [
                    recode(code),
                    recode(v["township_code"]),
                    recode(v["county_code"]),
                    v["name"],
                    v["kind"],
                    "synthetic" if copy else v["code_system"],
                ]
            )
    return counties, townships, villages


def write_divisions(out, counties, townships, villages, seats):
    out.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("counties", ["county_code", "name", "code_system"], counties),
        ("townships", ["township_code", "county_code", "name", "kind", "code_system"], townships),
        (
            "villages",
            ["village_code", "township_code", "county_code", "name", "kind", "code_system"],
            villages,
        ),
    ):
        with open(out / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    shutil.copy(seats, out / "county_seats.csv")


class County:
    """Everything one county submits, drawn from one seeded generator."""

    def __init__(self, code, name, geo, seat, rng, index):
        self.code, self.name, self.geo, self.rng = code, name, geo, rng
        self.seat = seat
        self.townships = geo.townships_by_county[code]
        self.villages = geo.villages_by_county[code]
        # A few counties lag on children's homes; one lags on supervisors.
        self.home_pace = [0.40, 0.30, 0.18, 0.27, 0.35, 0.16, 0.32, 0.22, 0.34, 0.24][index % 10]
        self.supervisor_pace = [0.9, 0.8, 0.7, 0.85, 0.6, 0.75, 0.9, 0.35, 0.8, 0.7][index % 10]

    def village_coverage(self):
        rows = []
        for code in self.villages:
            village = self.geo.villages[code]
            urban = village["kind"] == "residents_committee"
            pace = min(0.95, self.home_pace * (1.3 if urban else 1.0))
            opened = None
            for year in range(2016, 2026):
                if opened is None and self.rng.random() < (0.08 if year == 2016 else pace * 0.55):
                    opened = year
            start = None
            for year in YEARS:
                if start is None and self.rng.random() < self.supervisor_pace:
                    start = year
            extra = 1 if self.rng.random() < 0.15 else 0
            for year in YEARS:
                has_home = opened is not None and opened <= year
                supervisors = (1 + extra) if start is not None and start <= year else 0
                rows.append(
                    {
                        "year": year,
                        "village_code": code,
                        "has_childrens_home": "是" if has_home else "否",
                        "home_year_opened": opened if has_home else "",
                        "supervisors": supervisors,
                        "remarks": REMARK,
                    }
                )
        rows.sort(key=lambda r: (r["year"], r["village_code"]))
        return rows

    def children_counts(self):
        rows = []
        for code in self.townships:
            size = CHILDREN_PER_VILLAGE * max(
                1, sum(1 for v in self.villages if self.geo.villages[v]["township_code"] == code)
            )
            size *= self.rng.lognormvariate(0, 0.5)
            weight = {c: self.rng.uniform(0.5, 1.6) for c in RATES}
            for year in YEARS:
                counts = {}
                for category, (rate, drift) in RATES.items():
                    lam = size * rate * weight[category] * (1 + drift) ** (year - 2017)
                    counts[category] = poisson(self.rng, lam)
                biggest, everything = max(counts.values()), sum(counts.values())
                total = biggest + round((everything - biggest) * self.rng.uniform(0.75, 0.9))
                rows.append(
                    {
                        "year": year,
                        "township_code": code,
                        **counts,
                        "total": total,
                        "remarks": REMARK,
                    }
                )
        rows.sort(key=lambda r: (r["year"], r["township_code"]))
        return rows

    def point(self, spread):
        """A made-up point near the county seat, inside the county's outline where there is one."""
        outline = geometry.load().get("5323" + self.code[4:])
        for _ in range(200):
            lat = float(self.seat["latitude"]) + self.rng.uniform(-spread, spread)
            lon = float(self.seat["longitude"]) + self.rng.uniform(-spread, spread)
            if outline is None or geometry.contains(outline[1], (lon, lat)):
                break
        return round(min(max(lon, 100.8), 102.45), 5), round(min(max(lat, 24.25), 26.45), 5)

    def facilities(self):
        rows = []
        rng = self.rng
        number = 0

        def add(kind, name, township, spread, capacity, opened, services, host=""):
            nonlocal number
            number += 1
            lon, lat = self.point(spread)
            # A number of the right shape, so that the sample goes through the same checks as
            # real data; the build never publishes a sample number as it is (it could be
            # someone's): packages.facility_rows shows it as 「0878-*****12（示例号码，不能拨打）」.
            hotline = f"0878-{rng.randrange(2, 10)}{rng.randrange(10**6):06d}"
            address = f"{self.geo.townships[township]['name']}(示例地址)"
            rows.append(
                {
                    "facility_id": f"F{number:03d}",
                    "facility_type": kind,
                    "name": name,
                    "township_code": township,
                    "host_facility_id": host,
                    "address": address,
                    "longitude": lon,
                    "latitude": lat,
                    "capacity": capacity,
                    "year_opened": opened,
                    "services": services,
                    "hotline": hotline,
                    "remarks": REMARK,
                }
            )

        seat_township = self.townships[0]
        add(
            "儿童福利指导中心",
            f"{self.name}儿童福利指导中心",
            seat_township,
            0.02,
            "",
            rng.choice([2018, 2018, 2019, 2020]),
            "政策指导、个案会商、业务培训",
        )
        add(
            "未成年人救助保护中心",
            f"{self.name}未成年人救助保护中心",
            seat_township,
            0.02,
            rng.randrange(10, 40),
            rng.choice([2012, 2014, 2016, 2018]),
            "临时庇护、监护评估、家庭寻亲",
        )
        welfare_centre = ""
        if rng.random() < 0.5:
            welfare_centre = f"F{number + 1:03d}"
            add(
                "儿童福利机构",
                f"{self.name}社会福利中心儿童部",
                seat_township,
                0.02,
                rng.randrange(30, 120),
                rng.choice([2010, 2013, 2015]),
                "孤残儿童养育、康复、特殊教育",
            )
        if rng.random() < 0.5:
            add(
                "残疾儿童康复中心",
                f"{self.name}残疾儿童康复中心",
                seat_township,
                0.03,
                rng.randrange(20, 80),
                rng.choice([2016, 2018, 2019, 2021]),
                "康复训练、辅具适配、家长培训",
            )
        if rng.random() < 0.6:
            add(
                "特殊教育学校",
                f"{self.name}特殊教育学校",
                seat_township,
                0.03,
                rng.randrange(80, 300),
                rng.choice([2009, 2012, 2015, 2017]),
                "特殊教育、送教上门、职业教育",
            )
        if welfare_centre and rng.random() < 0.6:  # the policy's 儿童福利机构特教班: inside one
            add(
                "特教班",
                f"{self.name}社会福利中心特教班",
                seat_township,
                0.02,
                rng.randrange(10, 30),
                rng.choice([2018, 2019, 2020]),
                "机构内和社会残疾儿童特殊教育",
                host=welfare_centre,
            )
        for township in self.townships:
            if rng.random() < 0.9:
                add(
                    "儿童福利服务工作站",
                    f"{self.geo.townships[township]['name']}儿童福利服务工作站",
                    township,
                    0.25,
                    "",
                    rng.choice([2018, 2019, 2019, 2020, 2021, 2022]),
                    "困境儿童信息台账、政策咨询、转介服务",
                )
        return rows


TASK_PLANS = {
    # task: status path from 2018 on, one letter a year (n not started, o on track,
    # l lagging, v overdue, c completed). consistent() then applies the rules the portal's
    # flags claim: past its due date a task is completed or overdue; without one, never overdue.
    1: "oooooooo",
    2: "oooooooo",
    3: "oooooooo",
    4: "oooloooo",
    5: "oloooooo",
    6: "oocccccc",
    7: "ollllooc",
    8: "oolvvvvv",
    9: "oooccccc",
    10: "oocccccc",
    11: "nllllllo",
    12: "oooooooo",
    13: "oooooooo",
    14: "nlllllll",
    15: "oooooooo",
}
STATUS = {"n": "未启动", "o": "按期推进", "l": "滞后", "v": "逾期未完成", "c": "已完成"}
NARRATIVE = {
    "n": "本年度尚未启动,已列入下一年度工作计划。",
    "o": "按计划推进,已完成年度阶段性工作。",
    "l": "进度滞后于计划,主要原因是人员和经费未完全到位,已提出整改措施。",
    "v": "已超过完成时限仍未完成,已报州人民政府督办。",
    "c": "已全部完成,转入常态化管理。",
}


def consistent(letter, period, due):
    """The status a report may carry in a period, given the task's due date (or None)."""
    if due is None and letter == "v":
        return "l"
    if due is not None and period > due.year and letter not in "cv":
        return "v"
    if due is not None and period < due.year and letter == "v":
        return "l"
    return letter


def successor_of(unit, lookups):
    """The unit that carries a unit's tasks on after the 2019 reform (itself if none)."""
    for change in lookups["tables"]["unit_changes"]:
        if change["unit_code"] == unit and change["kind"] == "renamed":
            return change["successor_code"]
    return unit


def task_progress(rng, lookups, due, coverage_by_year):
    """Every unit responsible for a task reports on it every period: the annex's units, their
    successors after the 2019 reform, and the unit that took over part of task 2's work."""
    names = lookups["unit_names"]
    rows = []
    reached = {}  # (task, unit) -> the percent of the last period: progress does not fall
    for period in range(2018, REPORTING_YEAR + 1):
        reporters = list(lookups["expected_reporters"](period))
        if period >= 2019:
            reporters.append((2, "medical_security"))
        for task_no, unit_code in sorted(reporters):
            status = consistent(TASK_PLANS[task_no][period - 2018], period, due[task_no])
            if status == "o" and rng.random() < 0.08:
                status = "l"
            percent = {"n": 0, "c": 100}.get(status)
            if percent is None:
                share = (period - 2017) / 9
                percent = round(
                    min(95, 100 * share * rng.uniform(0.6 if status != "o" else 0.9, 1.05))
                )
            before = reached.get((task_no, successor_of(unit_code, lookups)), 0)
            percent = max(percent, before) if status != "n" else percent
            reached[(task_no, successor_of(unit_code, lookups))] = percent
            indicator_name, indicator_value = "", ""
            if task_no == 8:
                indicator_name = "儿童之家覆盖率(%)"
                indicator_value = coverage_by_year[period]
            reported = f"{period + 1}-01-{rng.randrange(10, 28):02d}"
            rows.append(
                {
                    "period": period,
                    "task_no": task_no,
                    "unit": names[unit_code],
                    "status": STATUS[status],
                    "percent_complete": percent,
                    "indicator_name": indicator_name,
                    "indicator_value": indicator_value,
                    "narrative": NARRATIVE[status],
                    "reported_on": reported,
                    "remarks": REMARK,
                }
            )
    return rows


def submission_dates(code, rng):
    """When the county sent each year's figures: before the 31 March deadline, except LATE."""
    dates = {}
    for year in YEARS:
        due = datetime.date(year + 1, 3, 31)
        dates[year] = due - datetime.timedelta(days=rng.randrange(3, 70))
    if code in LATE:
        dates[REPORTING_YEAR] = LATE[code]
    return dates


def generate(out, scale=1, seed=SEED):
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    geo = divisions_module.load(DIVISIONS_SOURCES)
    seats_file = DIVISIONS_SOURCES / "county_seats.csv"
    if scale > 1:
        write_divisions(out / "divisions", *scaled_divisions(geo, scale), seats_file)
        geo = divisions_module.load(out / "divisions")
        out = out / "submissions"
    out.mkdir(parents=True)
    templates = Path(tempfile.mkdtemp(prefix="templates-"))
    if scale == 1:
        build_templates.county_templates(templates, REPORTING_YEAR)
    seats = {row["county_code"]: row for row in csv.DictReader(open(seats_file, encoding="utf-8"))}
    rng = random.Random(seed)
    dates_rng = random.Random(seed + 2)
    homes, villages = {}, {}
    for index, code in enumerate(sorted(geo.counties)):
        county = County(
            code,
            geo.counties[code]["name"],
            geo,
            seats["5323" + code[4:]],
            random.Random(rng.getrandbits(64)),
            index,
        )
        folder = out / f"{code}_{county.name}"
        folder.mkdir()
        fmt = FORMATS[index % len(FORMATS)] if scale == 1 else "csv-utf8"
        county_templates = templates / "counties" / folder.name
        coverage = county.village_coverage()
        for row in coverage:
            homes[row["year"]] = homes.get(row["year"], 0) + (row["has_childrens_home"] == "是")
            villages[row["year"]] = villages.get(row["year"], 0) + 1
        for table, rows in (
            ("village_coverage", coverage),
            ("children_counts", county.children_counts()),
            ("facilities", county.facilities()),
        ):
            write_table(folder, table, rows, fmt, county_templates)
        with open(folder / "submission.yml", "w", encoding="utf-8") as f:
            yaml.safe_dump(
                {
                    "reporting_year": REPORTING_YEAR,
                    "submitted_on": submission_dates(code, dates_rng),
                },
                f,
                allow_unicode=True,
                sort_keys=True,
            )
    tables, _ = reference.load()
    lookups = reference.lookups(tables)
    due = {t["task_no"]: t["due_date"] for t in tables["tasks"]}
    coverage_by_year = {y: round(100 * homes[y] / villages[y], 1) for y in homes}
    folder = out / f"{PREFECTURE_CODE}_州直单位"
    folder.mkdir()
    write_table(
        folder,
        "task_progress",
        task_progress(random.Random(seed + 1), lookups, due, coverage_by_year),
        "csv-bom",
    )
    shutil.rmtree(templates)
    manifest = {
        "sample": True,
        "notice": f"{SAMPLE_NOTICE}。由 scripts/generate_sample.py 以固定种子 {seed} 生成。",
        "notice_en": "Synthetic sample data, not real statistics.",
        "reporting_year": REPORTING_YEAR,
        "seed": seed,
        "scale": scale,
    }
    with open(out / "submission.yml", "w", encoding="utf-8") as f:
        yaml.safe_dump(manifest, f, allow_unicode=True, sort_keys=True)
    (out / "README.md").write_text(
        f"# 示例数据（非真实统计）\n\n本文件夹中的全部报送都是合成的示例数据，由 "
        f"`python scripts/generate_sample.py` 以固定随机种子 {seed} 生成，形状与真实报送相同，"
        "但不是任何县市的真实统计。填写 XLSX 的县市用的是各县市的预填模板"
        "（data/templates/counties/）。\n\nSynthetic sample data, not real statistics.\n",
        encoding="utf-8",
    )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(SAMPLE_SUBMISSIONS))
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    out = generate(args.out, args.scale, args.seed)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
