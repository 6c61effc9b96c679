"""Pinyin keys of every county, township and village name, for the portal's search.

A resident types 「yaoan」 or 「yax」 on a phone whose Chinese input is slow, or does not know
how a village's name is written: the search finds 姚安县 by its full pinyin or its initials.
pypinyin gives each name its usual reading (place names' phrases included); a character with
other readings (长 chang/zhang, 柏 bai/bo) adds one key per other reading, so a reader who
says it either way finds it, without the product of every reading of every character.

The keys go into `_place_names` (key, kind, code), an internal table like `_columns`, with an
index on key: the portal's search asks for a key range (the typed prefix), never a scan.
"""

import functools

from pypinyin import Style, lazy_pinyin, pinyin

PLACES = (
    ("county", "counties", "county_code"),
    ("township", "townships", "township_code"),
    ("village", "villages", "village_code"),
)


@functools.lru_cache(maxsize=100_000)
def keys(name):
    """The full pinyin and the initials of each reading of a name, lower case, no tones."""
    usual = lazy_pinyin(name, errors="ignore")
    readings = [usual]
    for index, options in enumerate(pinyin(name, style=Style.NORMAL, heteronym=True)):
        if index >= len(usual):
            break
        for other in options[1:3]:
            if other != usual[index]:
                readings.append(usual[:index] + [other] + usual[index + 1 :])
    found = []
    for reading in readings:
        full = "".join(reading)
        initials = "".join(syllable[0] for syllable in reading if syllable)
        found += [full, initials]
    return tuple(dict.fromkeys(k for k in found if k))


def add(db):
    """Create `_place_names` in a sqlite-utils Database being built."""
    rows = []
    for kind, table, column in PLACES:
        if not db[table].exists():
            continue
        for code, name in db.execute(f"select [{column}], name from [{table}]").fetchall():
            rows.extend({"key": key, "kind": kind, "code": code} for key in keys(name or ""))
    db["_place_names"].insert_all(
        rows, columns={"key": str, "kind": str, "code": str}, batch_size=10_000
    )
    db["_place_names"].create_index(["key"])
