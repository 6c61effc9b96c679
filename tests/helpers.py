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


# The eight categories of children in difficulty, in the policy's order (二（一）to 二（八）).
CATEGORY_NAMES = (
    "孤儿",
    "艾滋病病毒感染儿童",
    "事实无人抚养儿童",
    "重残儿童",
    "重病儿童",
    "贫困家庭儿童",
    "流浪儿童",
    "家庭监护缺失或监护不当儿童",
)

# The ten county-level units of Chuxiong, as the official list names them (禄丰市 since 2021).
COUNTY_NAMES = (
    "楚雄市",
    "禄丰市",
    "双柏县",
    "牟定县",
    "南华县",
    "姚安县",
    "大姚县",
    "永仁县",
    "元谋县",
    "武定县",
)
