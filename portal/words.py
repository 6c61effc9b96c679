"""Interface words kept as data (portal/interface.yaml, portal/exports.yaml), read once."""

from pathlib import Path

import yaml

HERE = Path(__file__).parent
INTERFACE = yaml.safe_load((HERE / "interface.yaml").read_text("utf-8"))
EXPORTS = yaml.safe_load((HERE / "exports.yaml").read_text("utf-8"))
SYNONYMS = yaml.safe_load((HERE / "synonyms.yaml").read_text("utf-8"))
