import re
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from pipeline import build
from pipeline.paths import DATA, DIVISIONS_SOURCES, POLICY_TEXT, ROOT, SAMPLE_SUBMISSIONS


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The bundled sample built once into a temporary place (data/ in the repo is not touched),
    on top of the committed data and its release history, as `make build` would."""
    root = tmp_path_factory.mktemp("built")
    shutil.copytree(DATA, root / "data")
    summary = build.build(
        SAMPLE_SUBMISSIONS,
        DIVISIONS_SOURCES,
        root / "data",
        root / "chuxiong.db",
        quiet=True,
        releases_dir=root / "releases",
    )
    return SimpleNamespace(
        data=root / "data",
        db=root / "chuxiong.db",
        zip=root / "downloads" / "chuxiong-open-data.zip",
        releases=root / "releases",
        summary=summary,
    )


@pytest.fixture(scope="session")
def policy():
    """The policy text with OCR line-break spaces removed, for substring checks."""
    return re.sub(r"\s+", "", POLICY_TEXT.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def handbook(built, tmp_path_factory):
    """The handbook, generated from the built data and built strictly: site/ and offline/."""
    out = tmp_path_factory.mktemp("handbook")
    subprocess.run(
        [
            sys.executable,
            "scripts/build_handbook.py",
            "--database",
            str(built.db),
            "--audit",
            str(built.db.parent / "disclosure-audit.md"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    env = {"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"}
    for name, offline in (("site", "false"), ("offline", "true")):
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out / name)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**env, "HANDBOOK_OFFLINE": offline},
        )
        assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def portal_metadata(tmp_path_factory):
    """build/metadata.json as `make build` writes it, in a temporary place."""
    out = tmp_path_factory.mktemp("metadata") / "metadata.json"
    subprocess.run([sys.executable, "scripts/build_metadata.py", str(out)], cwd=ROOT, check=True)
    return out


@pytest.fixture(scope="session")
def download_zip(built):
    """build/downloads/chuxiong-open-data.zip as the build writes it."""
    return built.zip
