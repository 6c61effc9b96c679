"""The disclosure rule's numbers, read once from schemas/disclosure_rule.yaml (its one wording)."""

from pathlib import Path

import yaml

RULE = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "schemas" / "disclosure_rule.yaml").read_text("utf-8")
)
THRESHOLD = RULE["threshold"]
SMALL = range(1, THRESHOLD)  # the counts that are always hidden
LEVEL_RANK = {"township": 0, "county": 1, "prefecture": 2}
TOTAL = "total"
