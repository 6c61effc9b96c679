"""Step 1 of a build: read and check every submission, and what was published before.

The same check as `python -m pipeline check` (validate.py) runs over the whole
submissions folder. Checked rows go straight to where the next steps want them:
village coverage is streamed to the staging package as it is read (a
nation-sized set is never held in memory at once) and tallied per township;
facilities, children's counts and task reports are small and kept. The
corrections of released years are read against the history under data/.
Nothing here writes outside the staging folder; any problem stops the build.
"""

from dataclasses import dataclass, field
from pathlib import Path

from . import aggregate, corrections, divisions, history, manifest, schemas, validate
from .paths import ROOT, SAMPLE_NOTICE
from .problems import InputRejected, Problem
from .publish import TableWriter


@dataclass
class Intake:
    """Everything the later steps need from the inputs."""

    checked: validate.Validation
    geo: divisions.Divisions
    sample: bool
    notice: str  # the data_source of rows not from one submitter
    facilities: list = field(default_factory=list)
    children_rows: list = field(default_factory=list)  # aggregate.compact() tuples
    progress_rows: list = field(default_factory=list)
    tally: aggregate.CoverageTally = field(default_factory=aggregate.CoverageTally)
    coverage_resource: dict = field(default_factory=dict)
    fixes: list = field(default_factory=list)
    published_before: history.Published = field(default_factory=history.Published)

    @property
    def lookups(self):
        return self.checked.lookups

    @property
    def as_of(self):
        return f"{max(self.tally.years())}-12-31"


def outside_repository(submissions_dir, top):
    """Real submissions hold every count before suppression and the custody sites' addresses:
    they must never be where git could record them. Only sample data may live in the repository."""
    folder = Path(submissions_dir).resolve()
    if top.sample or (folder != ROOT and ROOT not in folder.parents):
        return []
    return [
        Problem(
            str(submissions_dir),
            "inside-repository",
            "真实报送不能放在项目文件夹内（否则可能被 git 记录并公开）；请把报送放在项目以外的文件夹，"
            "如 /srv/chuxiong/submissions，再用 --submissions 指定。只有标明 sample: true 的示例数据可以放在项目内",
            "real submissions must not be inside the project folder (git could record and publish "
            "them); keep them outside, e.g. /srv/chuxiong/submissions, and pass --submissions. "
            "Only sample data (sample: true) may live in the repository",
        )
    ]


def names_of(row, geo):
    """The names beside the codes of a row (county, township, village), for the packages."""
    out = {}
    if row.get("county_code"):
        out["county_name"] = geo.counties[row["county_code"]]["name"]
    if row.get("township_code"):
        out["township_name"] = geo.townships[row["township_code"]]["name"]
    if row.get("village_code"):
        out["village_name"] = geo.villages[row["village_code"]]["name"]
    return out


def read(submissions_dir, divisions_dir, data_dir, out, today, processes=1, ticker=None):
    """Check everything and stage the coverage rows under `out`; return an Intake or raise
    InputRejected with every problem found.

    Each submitter is checked in one of `processes` processes, which writes its village
    coverage rows to a chunk of its own; the chunks are joined in submitter order, so the
    staged table is byte for byte the same whatever the number of processes."""
    top, problems = manifest.read(submissions_dir)
    if problems := problems or outside_repository(submissions_dir, top):
        raise InputRejected(problems)
    geo = divisions.load(divisions_dir)
    county_names = {code: row["name"] for code, row in geo.counties.items()}
    (out / "coverage").mkdir(parents=True, exist_ok=True)
    chunks = out.parent / "chunks"
    chunks.mkdir(parents=True, exist_ok=True)
    schema = schemas.resource_schema("village_coverage")
    kept = Intake(
        checked=None,
        geo=geo,
        sample=top.sample,
        notice=SAMPLE_NOTICE if top.sample else "各县市报送",
    )
    written = []

    def stage(code, tables):
        """In the process that checked `code`: its coverage rows to a chunk, the rest back."""
        source = SAMPLE_NOTICE if top.sample else f"{county_names.get(code, '州直单位')}报送"
        tally = aggregate.CoverageTally()
        rows = sorted(
            tables.get("village_coverage", []), key=lambda r: (r["village_code"], r["year"])
        )
        chunk = None
        if rows:
            chunk = TableWriter(chunks, code, schema, header=False)
            for row in rows:
                tally.add(row)
                chunk.write({**row, **names_of(row, geo), "data_source": source})
            chunk.close()
            chunk = chunk.path
        return {
            "chunk": chunk,
            "tally": dict(tally.by_township),
            "facilities": [{**r, "data_source": source} for r in tables.get("facilities", [])],
            "children": [aggregate.compact(r) for r in tables.get("children_counts", [])],
            "progress": [{**r, "data_source": source} for r in tables.get("task_progress", [])],
        }

    def collect(code, staged):
        if staged["chunk"]:
            written.append(staged["chunk"])
        kept.tally.merge(staged["tally"])
        kept.facilities += staged["facilities"]
        kept.children_rows += staged["children"]
        kept.progress_rows += staged["progress"]

    kept.checked = validate.validate(
        submissions_dir,
        divisions_dir,
        today,
        consume=stage,
        collect=collect,
        processes=processes,
        ticker=ticker,
    )
    kept.coverage_resource = TableWriter.join(out / "coverage", "village_coverage", schema, written)
    kept.published_before = history.load(data_dir)
    fixes, problems = corrections.read(
        submissions_dir, geo, kept.checked.lookups, kept.published_before.years
    )
    earlier_ids = {c["correction_id"] for c in kept.published_before.corrections}
    kept.fixes = [c for c in fixes if c.correction_id not in earlier_ids]
    if kept.checked.problems or problems:
        raise InputRejected(kept.checked.problems + problems)
    if not kept.tally.years():
        raise InputRejected(
            [Problem(str(submissions_dir), "no-coverage", "没有覆盖情况数据", "no coverage data")]
        )
    return kept
