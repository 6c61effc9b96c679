"""Where a thing named in a table lives in the portal, and how a cell shows it.

Every county, township, village, unit, task, facility and release named in a
row links to its page; a coded value shows its Chinese label (the code stays in
the JSON and CSV, and on hover). Used by the render_cell hook for table and
query pages alike; data values themselves are never changed.
"""

from urllib.parse import quote

from markupsafe import Markup

from .labels import labelled, link

CURRENT = "chuxiong"


class Urls:
    """Links within one database: the current one, or a pinned earlier release."""

    def __init__(self, database=CURRENT, release=None):
        self.database = database
        self.pinned = database != CURRENT
        self.release = release

    def _pin(self, href):
        if self.pinned and self.release:
            return href + ("&" if "?" in href else "?") + "release=" + quote(self.release)
        return href

    def table(self, table, query=""):
        return f"/{self.database}/{table}" + (f"?{query}" if query else "")

    def row(self, table, key):
        return f"/{self.database}/{table}/{quote(str(key), safe='')}"

    def county(self, code, anchor=""):
        return self._pin(f"/county/{code}") + (f"#{anchor}" if anchor else "")

    def township(self, code, county):
        return self.county(county, f"t{code}")

    def village(self, code):
        return self._pin(f"/village/{code}")

    def unit(self, code):
        return self.row("units", code)

    def task(self, number):
        return self.row("tasks", number)

    def facility(self, facility_id):
        return self.row("facilities", facility_id)


def area_link(labels, urls, level, code, text=None):
    if level == "county" and code in labels.counties:
        return link(urls.county(code), text or labels.counties[code])
    if level == "township" and code in labels.townships:
        name, county = labels.townships[code]
        return link(urls.township(code, county), text or name)
    if level == "prefecture":
        return link("/", text or "楚雄彝族自治州")
    return None


def plain(value):
    """A cell's value: Datasette hands an expanded foreign key over as {value, label}."""
    return value.get("value") if isinstance(value, dict) else value


def get(row, key):
    try:
        return plain(row[key])
    except (IndexError, KeyError, TypeError):
        return None


def table_cell(labels, urls, table, column, value, row):
    """Markup for a cell of a published table, or None for Datasette's own rendering."""
    if value is None or value == "":
        return None
    text = str(value)
    if column == "county_code" and text in labels.counties:
        return link(urls.county(text), text, labels.counties[text])
    if column == "county_name" and get(row, "county_code"):
        return link(urls.county(get(row, "county_code")), text)
    if column == "township_code" and text in labels.townships:
        name, county = labels.townships[text]
        return link(urls.township(text, county), text, name)
    if column == "township_name" and get(row, "township_code") in labels.townships:
        return area_link(labels, urls, "township", get(row, "township_code"), text)
    if column in ("village_code", "village_name"):
        code = text if column == "village_code" else get(row, "village_code")
        if code in labels.villages:
            return link(urls.village(code), text, labels.villages[code][0])
    if column == "area_code" and get(row, "level"):
        return area_link(labels, urls, get(row, "level"), text, text)
    if column == "area_name" and get(row, "level") and get(row, "area_code"):
        return area_link(labels, urls, get(row, "level"), get(row, "area_code"), text)
    if column in ("unit_code", "successor_code", "lead_unit_code") and text in labels.units:
        return link(urls.unit(text), labels.units[text], text)
    if column in ("unit_name", "lead_unit", "unit") and text in labels.unit_codes:
        return link(urls.unit(labels.unit_codes[text]), text)
    if column == "task_no" and table != "tasks" and value in labels.tasks:
        return link(urls.task(value), f"第{value}项", labels.tasks[value])
    if column in ("task_title", "title") and table in (
        "task_progress",
        "task_leads",
        "task_progress_latest",
    ):
        number = get(row, "task_no")
        if number in labels.tasks:
            return link(urls.task(number), text)
    if column == "facility_type" and text in labels.facility_types:
        return link(urls.row("facility_types", text), labels.facility_types[text], text)
    if column == "series_code" and text in labels.series:
        return labelled(labels.series[text], text)
    if column == "release_id":
        return link(f"/-/releases#r{text}", text)
    label = labels.value_label(table, column, text)
    if label:
        return labelled(label, text)
    return None


# Canned queries name their columns in Chinese; a name column links through the code
# column the query returns beside it.
QUERY_LINKS = {
    "县市": ("县市代码", "county"),
    "乡镇": ("乡镇代码", "township"),
    "地区": ("区划代码", "area"),
    "村居委会": ("代码", "village"),
    "报告单位": ("单位代码", "unit"),
    "牵头单位": ("牵头单位代码", "unit"),
    "单位": ("单位代码", "unit"),
    "机构名称": ("机构编号", "facility"),
    "任务简称": ("任务", "task"),
}


def query_cell(labels, urls, column, value, row):
    """Markup for a cell of a canned or custom query's result, or None."""
    if value is None or value == "":
        return None
    text = str(value)
    if column == "名称" and str(get(row, "位置") or "").startswith("/"):
        return link(get(row, "位置"), text)
    if column == "位置" and text.startswith("/"):
        return link(text, "打开")
    if column == "任务" and isinstance(value, int) and value in labels.tasks:
        return link(urls.task(value), f"第{value}项", labels.tasks[value])
    target = QUERY_LINKS.get(column)
    if not target:
        return None
    code = get(row, target[0])
    if code is None:
        return None
    kind = target[1]
    if kind == "county":
        return area_link(labels, urls, "county", str(code), text)
    if kind == "township":
        return area_link(labels, urls, "township", str(code), text)
    if kind == "area":
        return area_link(
            labels, urls, "county" if len(str(code)) == 6 else "township", str(code), text
        )
    if kind == "village" and str(code) in labels.villages:
        return link(urls.village(str(code)), text)
    if kind == "unit":
        return link(urls.unit(code), text)
    if kind == "facility":
        return link(urls.facility(code), text)
    if kind == "task":
        return link(urls.task(code), text)
    return None


def render(labels, urls, table, column, value, row):
    value = plain(value)
    if table is None:
        return query_cell(labels, urls, column, value, row)
    markup = table_cell(labels, urls, table, column, value, row)
    return Markup(markup) if markup is not None else None
