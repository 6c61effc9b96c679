"""The divisions extract: official codes, complete, consistent."""

from pipeline import divisions
from tests.helpers import COUNTY_NAMES


def test_counts_and_codes():
    geo = divisions.load()
    assert len(geo.counties) == 10
    assert len(geo.townships) == 103
    assert len(geo.villages) == 1106
    assert all(code.startswith("5323") for code in geo.counties)
    for code, township in geo.townships.items():
        assert code[:6] == township["county_code"]
    for code, village in geo.villages.items():
        assert code[:9] == village["township_code"]
        assert code[:6] == village["county_code"]
        expected = "residents_committee" if int(code[9:]) < 200 else "village_committee"
        assert village["kind"] == expected


def test_lufeng_became_a_city_in_2021():
    county = divisions.load().counties["532302"]
    assert county["name"] == "禄丰市"
    assert county["former_code"] == "532331"
    assert county["former_name"] == "禄丰县"


def test_known_names():
    geo = divisions.load()
    assert {c["name"] for c in geo.counties.values()} == set(COUNTY_NAMES)
    assert geo.townships["532301101"]["name"] == "鹿城镇"


def test_county_seats_inside_the_prefecture():
    for county in divisions.load().counties.values():
        assert 24.2 <= county["latitude"] <= 26.5
        assert 100.7 <= county["longitude"] <= 102.6
        assert county["coordinate_source"]
