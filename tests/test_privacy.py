"""Real submissions never enter the repository: the build refuses them there, git ignores them,
and nothing that looks like a submission is tracked outside the sample."""

import shutil
import subprocess
import uuid

import pytest
import yaml

from pipeline import build
from pipeline.paths import DIVISIONS_SOURCES, ROOT, SAMPLE_SUBMISSIONS
from pipeline.problems import InputRejected
from tests.helpers import file_hashes

SUBMISSION_FILES = ("facilities", "village_coverage", "children_counts", "task_progress")


def tracked(*paths):
    out = subprocess.run(
        ["git", "ls-files", "-z", *paths], cwd=ROOT, capture_output=True, check=True
    ).stdout
    return [p for p in out.decode().split("\0") if p]


@pytest.fixture
def real_folder_inside_repository():
    folder = ROOT / "sources" / "submissions" / f"real-{uuid.uuid4().hex[:8]}"
    shutil.copytree(SAMPLE_SUBMISSIONS, folder)
    manifest = yaml.safe_load((folder / "submission.yml").read_text("utf-8"))
    manifest["sample"] = False
    (folder / "submission.yml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    yield folder
    shutil.rmtree(folder)


def test_the_build_refuses_real_submissions_inside_the_repository(
    real_folder_inside_repository, tmp_path
):
    data, db = tmp_path / "data", tmp_path / "chuxiong.db"
    with pytest.raises(InputRejected) as rejected:
        build.build(real_folder_inside_repository, DIVISIONS_SOURCES, data, db, quiet=True)
    [problem] = rejected.value.problems
    assert problem.rule == "inside-repository"
    assert "项目以外" in problem.zh and "outside" in problem.en
    assert not db.exists() and not list(data.rglob("*.csv"))


def test_git_ignores_anything_but_the_sample_under_submissions(real_folder_inside_repository):
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(real_folder_inside_repository / "submission.yml")],
        cwd=ROOT,
    )
    assert ignored.returncode == 0
    sample = subprocess.run(
        ["git", "check-ignore", "-q", str(SAMPLE_SUBMISSIONS / "submission.yml")], cwd=ROOT
    )
    assert sample.returncode == 1


def test_no_non_sample_submission_is_tracked():
    """Every tracked file under sources/submissions sits in a folder marked sample, and no file
    named like a submission is tracked anywhere else but the blank templates and the
    published (suppressed) packages."""
    for path in tracked("sources/submissions"):
        parts = path.split("/")
        folder = ROOT / "sources" / "submissions" / parts[2]
        manifest = yaml.safe_load((folder / "submission.yml").read_text("utf-8"))
        assert manifest.get("sample") is True, path
    for path in tracked():
        name, _, suffix = path.rsplit("/", 1)[-1].rpartition(".")
        if (
            name in SUBMISSION_FILES
            and suffix in ("csv", "xlsx", "xls")
            and not path.startswith("sources/submissions/sample/")
        ):
            assert path.startswith(
                (
                    "data/templates/",
                    "data/children/",
                    "data/facilities/",
                    "data/coverage/",
                    "data/progress/",
                )
            ), path


def test_a_failed_guard_leaves_the_published_data_untouched(real_folder_inside_repository):
    before = file_hashes(ROOT / "data")
    with pytest.raises(InputRejected):
        build.build(real_folder_inside_repository, quiet=True)
    assert file_hashes(ROOT / "data") == before
