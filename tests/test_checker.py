"""The officers' checker, as downloaded: built, unpacked outside the repository, installed with
no network from its own wheels, and run on broken submissions, gives exactly the verdicts of
`python -m pipeline check`.

What of Windows is tested here: that every package the check needs resolves to win_amd64
wheels (the bundle holds them) and that the launcher is GBK with CRLF line ends. What is not:
running 检查报送.bat itself, which needs a Windows machine.
"""

import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from pipeline.paths import ROOT, SAMPLE_SUBMISSIONS
from tests import test_bad_input as cases

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def checker(tmp_path_factory):
    out = tmp_path_factory.mktemp("checker")
    bundle = out / "chuxiong-checker.zip"
    subprocess.run(
        [
            sys.executable,
            "scripts/build_checker.py",
            str(bundle),
            "--platforms",
            "windows",
            "linux",
            "--pythons",
            PYTHON,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(out)
        names = archive.namelist()
    for path in (out / "chuxiong-checker").rglob("*.sh"):
        path.chmod(0o755)
    return out / "chuxiong-checker", names, bundle


def run_checker(checker_dir, folder):
    result = subprocess.run(
        [str(checker_dir / "check.sh"), str(folder), "--json"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    return result


def run_repository(folder):
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(folder), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_the_bundle_is_the_pipeline_itself_with_wheels_for_windows_and_linux(checker):
    folder, names, _ = checker
    for module in ("validate.py", "submissions.py", "reading.py", "cli.py"):
        bundled = (folder / "pipeline" / module).read_bytes()
        assert bundled == (ROOT / "pipeline" / module).read_bytes(), module
    wheels = [n for n in names if "/wheels/" in n]
    tag = PYTHON.replace(".", "")
    for package in ("pydantic_core", "pyyaml", "rpds_py"):
        assert any(package in n and f"cp{tag}" in n and "win_amd64" in n for n in wheels), package
        assert any(package in n and f"cp{tag}" in n and "manylinux" in n for n in wheels), package
    assert any(n.endswith("colorama-0.4.6-py2.py3-none-any.whl") for n in wheels)
    bat = (folder / "检查报送.bat").read_bytes()
    assert b"\r\n" in bat and "检查结果.html".encode("gbk") in bat
    assert b"3.11" in bat


@pytest.mark.parametrize(
    "name,case,code,rule",
    [c for c in cases.CASES if c[2] is not None][::3] + [("clean", lambda s: None, "532301", None)],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_the_checker_gives_the_verdicts_of_the_pipeline(checker, tmp_path, name, case, code, rule):
    folder = tmp_path / "submissions"
    shutil.copytree(SAMPLE_SUBMISSIONS, folder)
    case(folder)
    target = cases.county(folder, code)
    bundled = run_checker(checker[0], target)
    repository = run_repository(target)
    assert bundled.returncode == repository.returncode == (0 if rule is None else 1)
    verdict = json.loads(bundled.stdout)
    assert verdict == json.loads(repository.stdout)
    if rule:
        assert rule in {p["rule"] for p in verdict["problems"]}
    assert (target.parent / "检查结果.html").exists()
