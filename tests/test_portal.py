"""The database served by Datasette, through Datasette's own test client."""

import asyncio

import pytest
import yaml
from datasette.app import Datasette

from pipeline.paths import ROOT


@pytest.fixture(scope="module")
def datasette(built):
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text("utf-8"))
    return Datasette([], immutables=[str(built.db)], metadata=metadata)


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_home_page_shows_the_sample_notice(datasette):
    home = get(datasette, "/")
    assert home.status_code == 200
    assert "示例数据,非真实统计" in home.text


def test_children_counts_api_never_returns_a_small_count(datasette):
    rows, path = [], "/chuxiong/children_counts.json?_size=max"
    while path:
        page = get(datasette, path).json()
        rows += [dict(zip(page["columns"], row, strict=True)) for row in page["rows"]]
        path = page["next_url"] and page["next_url"].split("localhost", 1)[-1]
    assert (
        len(rows)
        == get(datasette, "/chuxiong/children_counts.json").json()["filtered_table_rows_count"]
    )
    assert not [r for r in rows if r["count"] is not None and 1 <= r["count"] <= 10]
    sql = get(
        datasette,
        "/chuxiong.json?_shape=array&sql=select+count(*)+n+from+children_counts+where+count+between+1+and+10",
    ).json()
    assert sql == [{"n": 0}]
