"""Small helpers shared by the tests."""

import hashlib
from pathlib import Path


def file_hashes(*paths):
    hashes = {}
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes
