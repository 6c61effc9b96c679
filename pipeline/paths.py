"""Where things live. Inputs in sources/, rules in schemas/, outputs in data/ and build/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"
SCHEMAS = ROOT / "schemas"
DATA = ROOT / "data"
BUILD = ROOT / "build"
DATABASE = BUILD / "chuxiong.db"

REFERENCE_SOURCES = SOURCES / "reference"
DIVISIONS_SOURCES = SOURCES / "divisions"
SAMPLE_SUBMISSIONS = SOURCES / "submissions" / "sample"
POLICY_TEXT = ROOT.parent / "shared" / "policy" / "chuzhengfa-2017-33.txt"

PREFECTURE_CODE = "532300"
PREFECTURE_NAME = "楚雄彝族自治州"
SAMPLE_NOTICE = "示例数据,非真实统计"
SAMPLE_NOTICE_EN = "Synthetic sample data, not real statistics"
# A sample telephone number is published with its middle digits masked and this after it, so
# that no one dials a number that may be someone's.
SAMPLE_PHONE = "（示例号码，不能拨打）"
