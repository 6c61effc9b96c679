"""Personal data in free text: refused at the door, before anything is published.

Submissions are counts that counties already aggregate; the per-child ledger (一人一
档案) never enters this project. A data officer may still type a child's name and age,
an identity number or a diagnosis into a remark or a progress narrative, and the
portal would publish it. So every free-text cell (a text column with no fixed list
of values and no fixed format) is scanned for the patterns in
schemas/personal_data.yaml: identity card numbers (18 digits with a valid check
digit, or 15), mobile numbers, a name next to an age, a reference to one person
(「张某」, 「该童」), a diagnosis next to a person or a small count, and a count of
children from 1 to 10. Each finding is a Problem naming the cell and quoting what
was found. This module is pure Python: the officers' checker runs it offline.
"""

import datetime
import re
from functools import cache

import yaml

from .paths import SCHEMAS
from .problems import Problem

CHINESE_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
CHINESE_NUMBERS |= {"八": 8, "九": 9, "十": 10}
CLAUSE = re.compile(r"[。；;！!？?\n]")
AGE = r"(?<![—\-~至到－\d])(\d{1,2}|[一二两三四五六七八九十]{1,3})\s*周?岁(?![以至到—\-~－半])"


@cache
def rules():
    """The patterns, compiled once from schemas/personal_data.yaml."""
    data = yaml.safe_load((SCHEMAS / "personal_data.yaml").read_text("utf-8"))
    surname = f"[{data['surnames']}]"
    given = r"[\u4e00-\u9fff]{1,2}(?<![村镇乡县市区街社州省局院所站校园])"
    count_words = "|".join(map(re.escape, data["child_words"]))
    not_after = "|".join(map(re.escape, data["not_children_after"]))
    count = r"(\d{1,2}|[一二两三四五六七八九十])"
    changes = "|".join(map(re.escape, data["count_changes"]))
    return {
        "messages": data["messages"],
        "id-number": re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?![\dXx])"),
        "mobile": re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"),
        "name-age": re.compile(
            rf"{surname}(?:某{{1,2}}|[xX×*＊]{{1,2}}|{given})[，,、（(\s]*{AGE}"
        ),
        "person": re.compile(
            rf"{surname}某{{1,2}}|" + "|".join(map(re.escape, data["person_refs"]))
        ),
        "person-age": re.compile(
            "(" + "|".join(map(re.escape, data["person_words"])) + rf")[^，,。；;]{{0,4}}?{AGE}"
        ),
        "diagnosis": re.compile("|".join(map(re.escape, data["diagnoses"])), re.IGNORECASE),
        "small-count": re.compile(
            rf"(?<![\d.])(?:{count}\s*[名个位人][^，,。；;\d]{{0,4}}?(?:{count_words})(?!{not_after})"
            rf"|(?:{count_words})(?!{not_after})[^，,。；;\d]{{0,3}}?{count}\s*[名个位人]"
            rf"|(?:{changes}){count}\s*[名人])"
        ),
    }


def number(text):
    return int(text) if text.isdigit() else sum(CHINESE_NUMBERS.get(c, 0) for c in text) or 0


def valid_id(digits):
    """Whether a run of 18 (or 15) digits reads as an identity card number: an area code, then
    a real birth date. The check digit is not required: a number with one digit mistyped is
    still someone's number."""
    try:
        if len(digits) == 18:
            born = datetime.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
        else:
            born = datetime.date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))
    except ValueError:
        return False
    return digits[0] in "123456789" and 1900 <= born.year <= datetime.date.today().year


def small_count(match):
    value = next(g for g in match.groups() if g)
    return 1 <= number(value) <= 10


def findings(text):
    """[(kind, the part found)] in one cell's text, in a fixed order."""
    patterns = rules()
    out = []
    for match in patterns["id-number"].finditer(text):
        if valid_id(match.group(0)):
            out.append(("id-number", match.group(0)))
    out += [("mobile", m.group(0)) for m in patterns["mobile"].finditer(text)]
    for clause in CLAUSE.split(text):
        named = [m.group(0) for m in patterns["name-age"].finditer(clause)]
        out += [("name-age", n) for n in named]
        persons = named + [m.group(0) for m in patterns["person"].finditer(clause)]
        ages = [m.group(0) for m in patterns["person-age"].finditer(clause)]
        counts = [m.group(0) for m in patterns["small-count"].finditer(clause) if small_count(m)]
        out += [("person", p) for p in persons] + [("person", a) for a in ages]
        diagnoses = [m.group(0) for m in patterns["diagnosis"].finditer(clause)]
        if diagnoses and (persons or ages or counts):
            out.append(("diagnosis", clause.strip()))
        out += [("small-count", c) for c in counts]
    return list(dict.fromkeys(out))


def is_free_text(field):
    """A text column with no list of values and no format: where anything can be typed."""
    constraints = field.get("constraints", {})
    return field["type"] == "string" and "enum" not in constraints and "pattern" not in constraints


def problems(cell, field, column, file, row_number):
    """Problems for a free-text cell that holds personal data (one per kind found)."""
    if not cell or not is_free_text(field):
        return []
    messages = rules()["messages"]
    out, seen = [], set()
    found_all = findings(cell)
    if any(kind == "name-age" for kind, _ in found_all):
        seen.add("person")  # the name and age say it already
    for kind, found in found_all:
        if kind in seen:
            continue
        seen.add(kind)
        shown = found if kind != "id-number" else found[:6] + "…" + found[-2:]
        out.append(
            Problem(
                file,
                "personal-data",
                messages[kind]["zh"].format(found=shown),
                messages[kind]["en"].format(found=shown),
                row=row_number,
                column=column,
                value=shown,
            )
        )
    return out
