import re
import shutil
from types import SimpleNamespace

import pytest

from pipeline import build
from pipeline.paths import DIVISIONS_SOURCES, POLICY_TEXT, SAMPLE_SUBMISSIONS


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """The bundled sample built once into a temporary place (data/ in the repo is not touched)."""
    root = tmp_path_factory.mktemp("built")
    summary = build.build(
        SAMPLE_SUBMISSIONS, DIVISIONS_SOURCES, root / "data", root / "chuxiong.db", quiet=True
    )
    return SimpleNamespace(data=root / "data", db=root / "chuxiong.db", summary=summary)


@pytest.fixture(scope="session")
def policy():
    """The policy text with OCR line-break spaces removed, for substring checks."""
    return re.sub(r"\s+", "", POLICY_TEXT.read_text(encoding="utf-8"))


@pytest.fixture
def county_folder(tmp_path):
    """A copy of one county's sample submission, to break in a test."""

    def copy(code="532322"):
        source = next(SAMPLE_SUBMISSIONS.glob(f"{code}_*"))
        target = tmp_path / "submissions" / source.name
        shutil.copytree(source, target)
        return target

    return copy
