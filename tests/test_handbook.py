"""The handbook builds strictly and says where its figures come from."""

import subprocess
import sys

from pipeline.paths import ROOT


def test_mkdocs_build_strict(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    index = (site / "index.html").read_text("utf-8")
    assert "示例数据" in index
    submit = (site / "submit.html").read_text("utf-8")
    assert "village_coverage" in submit and "儿童福利督导员人数" in submit
