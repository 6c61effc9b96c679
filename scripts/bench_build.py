"""Benchmark the build on a synthetic set against a plain `frictionless validate` of the same files.

    python scripts/bench_build.py --scale 14        # province-sized: about 15,000 village units
    python scripts/bench_build.py --scale 543       # nation-sized: about 600,000

Prints wall time and peak memory of the build (run as a child process, so its
memory is its own) and of the baseline, and their ratio. The baseline is what a
data team would run without this pipeline: Frictionless validating each
submitted file on its own, with the schema it infers, and nothing else.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BASELINE = """
import sys
from pathlib import Path
from frictionless import Resource
root = Path(sys.argv[1])
files = sorted(p for p in root.rglob("*") if p.suffix in (".csv", ".xlsx"))
reports = [Resource(path=str(p.relative_to(root)), basepath=str(root)).validate() for p in files]
rows = sum(r.tasks[0].stats.get("rows") or 0 for r in reports)
invalid = sum(not r.valid for r in reports)
print(f"{len(files)} files, {rows} rows, {invalid} invalid by their inferred schemas")
"""


def timed(command):
    """(seconds, peak resident MB, output) of one command, via GNU time. The peak is the
    largest of the process and any of its children (GNU time reports the largest single one;
    the build's own table below gives each step and its workers)."""
    started = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "peak_kb=%M", *command], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(result.stdout[-2000:] + result.stderr[-2000:])
    peak_kb = int(result.stderr.rsplit("peak_kb=", 1)[1].split()[0])
    return seconds, peak_kb / 1024, result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=14)
    parser.add_argument("--workdir", help="reuse a generated set (default: a temporary folder)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-"))
    if not (work / "submissions").exists():
        subprocess.run(
            [
                sys.executable,
                "scripts/generate_sample.py",
                "--scale",
                str(args.scale),
                "--out",
                str(work),
            ],
            cwd=ROOT,
            check=True,
        )
    build_s, build_mb, build_out = timed(
        [
            sys.executable,
            "-m",
            "pipeline",
            "build",
            "--quiet",
            "--json",
            "--submissions",
            str(work / "submissions"),
            "--divisions",
            str(work / "divisions"),
            "--data-dir",
            str(work / "out" / "data"),
            "--database",
            str(work / "out" / "chuxiong.db"),
        ]
    )
    summary = json.loads(build_out)
    base_s, base_mb, base_out = timed([sys.executable, "-c", BASELINE, str(work / "submissions")])
    base_out = base_out.strip().splitlines()[-1:]
    villages = sum(1 for _ in open(work / "divisions" / "villages.csv", encoding="utf-8")) - 1
    print(f"village units: {villages:,}; processes: {summary['processes']}")
    print()
    print("| step | seconds | peak MB (build) | peak MB (largest worker) |")
    print("|---|---:|---:|---:|")
    for step in summary["steps"]:
        workers = step["workers_peak_mb"] or ""
        print(f"| {step['step']} | {step['seconds']:.1f} | {step['peak_mb']} | {workers} |")
    print()
    gate = summary["gate"]
    print(
        f"release gate: {gate['blocks']} prefecture-years, {gate['replayed_blocks']} re-run on "
        f"witnesses ({gate['replays']} re-runs, {gate['seconds']} s)"
    )
    print(
        f"pipeline build (validate + rules + aggregate + disclosure + gate + packages + SQLite): "
        f"{build_s:.1f} s, peak {build_mb:.0f} MB"
    )
    print(
        f"plain frictionless validate of the same files ({' '.join(base_out)}): "
        f"{base_s:.1f} s, peak {base_mb:.0f} MB"
    )
    print(f"ratio build / plain validate: {build_s / base_s:.2f}")


if __name__ == "__main__":
    main()
