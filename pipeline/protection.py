"""Step 2 of a build: the children's counts to publish, under disclosure control.

The counts arrive per township and are summed up the hierarchy (aggregate.py);
pipeline/disclosure.py decides what is hidden and audits it. What this step
adds is history: a year released before is reused exactly as published unless
corrections name its townships; a corrected year is protected and audited
jointly with every earlier version of it; and no released cell may change
without a correction.
"""

from . import aggregate, corrections, disclosure
from .problems import InputRejected, Problem


def protect(intake):
    """(rows of children_counts, disclosure.Report) for the intake."""
    cells = aggregate.children_cells(intake.children_rows, intake.geo)
    rows, audit = protect_children(
        cells,
        intake.geo,
        intake.lookups,
        intake.published_before,
        intake.fixes,
        intake.sample,
        intake.notice,
    )
    audit.digest = disclosure.digest(rows)
    return rows, audit


def protect_children(cells, geo, lookups, published_before, fixes, sample, notice):
    """The children's counts to publish, and the audit Report.

    A year released before is reused exactly as published unless corrections name
    its townships; a corrected year is suppressed and audited jointly with every
    earlier version of it; a new year is suppressed on its own. The new counts of a
    released year must agree with every published cell no correction touches.

    Sample data is exempt: it is synthetic, regenerated at will, and protected afresh
    by the current method on every build (its earlier versions were made from other
    synthetic figures, or by an earlier method, and link to nothing).
    """
    finest = lookups["finest_level"]
    frozen, history_by_group, problems = {}, {}, []
    for year in sorted({k[0] for k in cells}):
        chain = None if sample else published_before.children.get(year)
        if not chain:
            continue
        latest = chain[-1][1]
        corrected = corrections.township_codes(fixes, year)
        changed = disclosure.changed_keys(
            {k: v for k, v in cells.items() if k[0] == year},
            {k for k in cells if k[0] == year and k[1] == "township" and k[2] not in corrected},
            geo.parent_of,
        )
        moved = [
            k for k, v in latest.items() if v is not None and k not in changed and cells.get(k) != v
        ]
        if moved:
            problems.append(released_year_problem(year, moved, geo, lookups))
            continue
        if not corrected and not moved:
            frozen[year] = latest
            continue
        group_versions = published_before.versions(
            year, lambda key: disclosure.prefecture_key(key, geo.parent_of)
        )
        for prefecture, (earlier, links) in group_versions.items():
            unchanged = {
                k
                for k in cells
                if k[0] == year
                and k[1] == "township"
                and k[2] not in corrected
                and disclosure.prefecture_key(k, geo.parent_of) == prefecture
            }
            history_by_group[(year, prefecture)] = (
                earlier,
                [*links, unchanged if corrected else set()],
            )
    if problems:
        raise InputRejected(problems)
    fresh = {k: v for k, v in cells.items() if k[0] not in frozen}
    try:
        published, hidden, audit = disclosure.protect(
            fresh, finest, geo.parent_of, history=history_by_group
        )
    except disclosure.CannotProtect as failure:
        raise InputRejected(
            cannot_protect(f, geo, lookups["series_names"]) for f in failure.findings
        ) from failure
    for values in frozen.values():
        for key, value in values.items():
            published[key] = value
            if value is None:
                hidden.add(key)
        audit.count(values)
    level_rank = {level: i for i, level in enumerate(aggregate.LEVELS)}
    series_rank = {s: i for i, s in enumerate(aggregate.SERIES)}
    ordered = sorted(published, key=lambda k: (k[0], level_rank[k[1]], k[2], series_rank[k[3]]))
    rows = [
        {
            "year": key[0],
            "level": key[1],
            "area_code": key[2],
            "series_code": key[3],
            "area_name": geo.area_name(key[1], key[2]),
            "count": None if key in hidden else published[key],
            "status": "suppressed" if key in hidden else "published",
            "data_source": notice,
        }
        for key in ordered
    ]
    return rows, audit


def released_year_problem(year, moved, geo, lookups):
    shown = "、".join(
        f"{geo.area_name(k[1], k[2])}{lookups['series_names'][k[3]]}" for k in sorted(moved)[:5]
    )
    return Problem(
        "children_counts",
        "released-year",
        f"{year} 年的困境儿童人数已经发布，新报送改变了 {len(moved)} 个已公布的格子（{shown}……），"
        "但 corrections.csv 没有写明更正了哪些乡镇；请为每个改动的乡镇写一条更正（原因、日期）",
        f"{year} was already released and {len(moved)} published cells would change with no "
        "correction naming their townships; add a correction row (reason, date) for each",
        value=year,
    )


def cannot_protect(finding, geo, series_names):
    """A Problem naming the cell that no suppression pattern can protect."""
    year, level, area, series = finding.key
    name = geo.area_name(level, area)
    rule_zh = {"pinned": "可被唯一确定", "narrow": "可能取值被缩小", "nonzero": "可被证明不为0"}
    version = "" if finding.version == 0 else "（与此前发布的版本一起看）"
    return Problem(
        "children_counts",
        "disclosure-audit",
        f"披露控制无法保护 {year} 年{name}（{area}）的“{series_names[series]}”人数"
        f"（{rule_zh[finding.rule]}）{version}：任何补充隐藏都不够，请在更高层级公布该系列或合并地区，"
        "或核对报送的数字",
        f"disclosure control cannot protect the {series} count of {area} in {year} "
        f"({finding.rule}): no further suppression is enough; publish the series at a coarser "
        "level, merge areas or check the submitted figures",
        column=series,
        value=year,
    )
