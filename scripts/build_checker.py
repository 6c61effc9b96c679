"""Bundle the submission checker that county data officers run on their own computers.

    python scripts/build_checker.py [OUT]                 # default build/downloads/chuxiong-checker.zip
    python scripts/build_checker.py OUT --platforms linux --pythons 3.11   # what the tests run

The checker is this repository's own pipeline package, not a second copy of the rules:
the zip holds pipeline/, the schemas, the reference data and the divisions, exactly as
in the repository, plus an offline wheelhouse of the packages `pipeline check` imports
(Frictionless, openpyxl, PyYAML, click and what they need) and two launchers:

    检查报送.bat   Windows: drag a county folder onto it, or double-click and paste the path
    check.sh      Linux:   ./check.sh FOLDER

On first use a launcher makes a virtual environment inside the checker's folder and installs
the wheels from the wheelhouse with no network; then it runs `python -m pipeline check
FOLDER --report 检查结果.html` and opens the report. Windows needs Python 3.11, 3.12 or 3.13
installed (python.org's installer, or the office's software centre): no registry this project
may use carries a Windows Python to bundle.

Wheels are fetched from PyPI with pip (cached by pip between runs), pinned by requirements.txt.
"""

import argparse
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "downloads" / "chuxiong-checker.zip"
PREFIX = "chuxiong-checker"
FIXED_TIME = (2017, 11, 30, 0, 0, 0)
# What `python -m pipeline check` imports; pip resolves the rest, pinned by requirements.txt.
PACKAGES = ["frictionless", "openpyxl", "PyYAML", "click", "colorama"]
PYTHONS = ("3.11", "3.12", "3.13")
TARGETS = {
    "windows": [("win_amd64", version) for version in PYTHONS],
    "linux": [("manylinux2014_x86_64", version) for version in PYTHONS],
}
CODE = ["pipeline", "schemas", "sources/reference", "sources/divisions"]
SKIP = {"__pycache__"}


def pins():
    """{lower-case name: pinned requirement} from requirements.txt."""
    out = {}
    for line in (ROOT / "requirements.txt").read_text("utf-8").splitlines():
        if "==" in line and not line.startswith("#"):
            out[line.split("==")[0].strip().lower().replace("_", "-")] = line.strip()
    return out


def download(wheels, platforms, pythons):
    """Every wheel the check needs, for each target platform and Python version."""
    pinned = pins()
    requirements = [pinned[name.lower()] for name in PACKAGES]
    constraints = wheels.parent / "constraints.txt"
    constraints.write_text("\n".join(pinned.values()) + "\n", encoding="utf-8")
    for platform in platforms:
        for tag, version in TARGETS[platform]:
            if version not in pythons:
                continue
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--only-binary=:all:",
                    "--platform",
                    tag,
                    "--python-version",
                    version,
                    "--implementation",
                    "cp",
                    "--constraint",
                    str(constraints),
                    "--dest",
                    str(wheels),
                    *requirements,
                ],
                capture_output=True,
                text=True,
            )
            if result.returncode:
                sys.exit(f"pip download failed for {tag} {version}:\n{result.stderr[-3000:]}")
    return requirements


def add(archive, name, content, executable=False):
    info = zipfile.ZipInfo(f"{PREFIX}/{name}", FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o755 if executable else 0o644) << 16
    archive.writestr(info, content)


def launchers_folder():
    return ROOT / "scripts" / "checker"


def build(out=OUT, platforms=("windows", "linux"), pythons=PYTHONS):
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        wheels = Path(work) / "wheels"
        requirements = download(wheels, platforms, pythons)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for part in CODE:
                for path in sorted((ROOT / part).rglob("*")):
                    if path.is_file() and not SKIP & set(path.parts):
                        add(archive, str(path.relative_to(ROOT)), path.read_bytes())
            for path in sorted(wheels.iterdir()):
                add(archive, f"wheels/{path.name}", path.read_bytes())
            add(archive, "requirements-checker.txt", "\n".join(requirements) + "\n")
            for path in sorted(launchers_folder().iterdir()):
                content = path.read_bytes()
                if path.suffix == ".bat":  # cmd.exe on Chinese Windows reads GBK, CRLF
                    content = content.decode("utf-8").replace("\n", "\r\n").encode("gbk")
                add(archive, path.name, content, executable=path.suffix == ".sh")
        out.write_bytes(buffer.getvalue())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=str(OUT))
    parser.add_argument(
        "--platforms", nargs="+", default=["windows", "linux"], choices=sorted(TARGETS)
    )
    parser.add_argument("--pythons", nargs="+", default=list(PYTHONS), choices=PYTHONS)
    args = parser.parse_args()
    out = build(Path(args.out), args.platforms, args.pythons)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
