#!/usr/bin/env sh
# 报送检查工具（Linux）：./check.sh 县市文件夹
# First use: a virtual environment in .venv/, installed from wheels/ with no network.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
folder=${1:?"用法 usage: ./check.sh 县市文件夹 (e.g. ./check.sh 532301_楚雄市)"}
python=${PYTHON:-python3}
if [ ! -x "$here/.venv/bin/python" ]; then
  echo "第一次使用：正在安装检查工具（不需要联网）…… / first use: installing, offline" >&2
  "$python" -m venv "$here/.venv"
  "$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
    --find-links "$here/wheels" -r "$here/requirements-checker.txt"
fi
# a folder, or a .zip of one, or a mistake the checker explains: all made absolute first
case "$folder" in /*) ;; *) folder="$(pwd)/$folder" ;; esac
report="$(dirname "$folder")/检查结果.html"
cd "$here"
status=0
shift
"$here/.venv/bin/python" -m pipeline check "$folder" --report "$report" "$@" || status=$?
echo "检查结果已另存为 / report written to: $report" >&2
exit $status
