"""What `check` is given when it is not a folder: a .zip as the officer received or sent it, a
single file, or nothing at all.

A zip is unpacked into a temporary folder and checked there, as the build would see the folder
inside it: names written by Windows in GBK are read back as GBK, and nothing may point outside
the folder, be a link, or unpack to more than MAX_BYTES. Anything else gets a Problem in words
an officer can act on, not the command line's own error.
"""

import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from .problems import Problem

MAX_BYTES = 500 * 1024 * 1024
MAX_FILES = 2000
UTF8_FLAG = 0x800


def member_name(info):
    """The name as written: zip files from Chinese Windows carry GBK names with no UTF-8 flag,
    which Python reads as cp437."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def problem(path, zh, en):
    return Problem(str(path), "not-a-folder", zh, en, value=Path(path).name)


def unpack(path, into):
    """(the folder to check inside `into`, problems)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return None, [
            problem(
                path,
                "这个文件不是完整的 .zip 压缩包（可能损坏，或只复制了一部分）：请重新压缩或直接选择文件夹",
                "not a complete .zip archive: zip it again, or choose the folder itself",
            )
        ]
    with archive:
        members = [(info, PurePosixPath(member_name(info))) for info in archive.infolist()]
        total = sum(info.file_size for info, _ in members)
        unsafe = [
            name
            for info, name in members
            if name.is_absolute()
            or ".." in name.parts
            or (info.external_attr >> 16) & 0o170000 == 0o120000  # a symbolic link
        ]
        if unsafe or total > MAX_BYTES or len(members) > MAX_FILES:
            return None, [
                problem(
                    path,
                    "压缩包里有指向文件夹以外的路径或链接，或者内容太大：请只压缩县市文件夹本身，或直接选择文件夹",
                    "the archive holds paths outside its folder, links, or too much: zip the "
                    "county folder alone, or choose the folder itself",
                )
            ]
        for info, name in members:
            target = Path(into, *name.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    entries = [p for p in Path(into).iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0], []  # the zip holds the county folder
    folder = Path(into) / Path(path).stem  # the zip holds the files themselves
    folder.mkdir()
    for entry in entries:
        entry.rename(folder / entry.name)
    return folder, []


class Target:
    """The folder to check for what the officer gave, unpacked if need be (a context manager
    that removes what it unpacked)."""

    def __init__(self, given):
        self.given = Path(given)
        self.folder, self.problems, self.temporary = None, [], None

    def __enter__(self):
        given = self.given
        if given.is_dir():
            self.folder = given
        elif not given.exists():
            self.problems = [
                problem(
                    given,
                    "找不到这个文件夹：请检查路径，或把县市文件夹（如 532301_楚雄市）直接拖到检查工具上",
                    "no such folder: check the path, or drag the county folder onto the checker",
                )
            ]
        elif given.suffix.lower() == ".zip":
            self.temporary = tempfile.mkdtemp(prefix="check-")
            self.folder, self.problems = unpack(given, self.temporary)
        else:
            self.problems = [
                problem(
                    given,
                    "这是一个文件，不是文件夹：请选择整个县市文件夹（如 532301_楚雄市），"
                    "或它的 .zip 压缩包；收到的是其他压缩格式（.rar、.7z）的，请先解压",
                    "this is a file, not a folder: choose the whole county folder or its .zip "
                    "(unpack .rar or .7z first)",
                )
            ]
        return self

    def __exit__(self, *_):
        if self.temporary:
            shutil.rmtree(self.temporary, ignore_errors=True)
