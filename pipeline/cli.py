"""Command line: a thin layer over pipeline.build.

python -m pipeline build [--submissions DIR] ...   build and publish
python -m pipeline check FOLDER                    check a submission, publish nothing
"""

import json
import sys

import click

from .paths import DATA, DATABASE, DIVISIONS_SOURCES, SAMPLE_SUBMISSIONS
from .problems import InputRejected

EXIT_REJECTED = 1


@click.group()
def cli():
    """楚雄州困境儿童保障数据:构建与检查 / Chuxiong children-in-difficulty data: build and check."""


@cli.command()
@click.option(
    "--submissions",
    type=click.Path(file_okay=False),
    default=str(SAMPLE_SUBMISSIONS),
    show_default=True,
    help="报送文件夹 / folder of submissions, one sub-folder per county",
)
@click.option(
    "--divisions",
    type=click.Path(exists=True, file_okay=False),
    default=str(DIVISIONS_SOURCES),
    show_default=True,
    help="行政区划 / folder with counties.csv, townships.csv, villages.csv",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=str(DATA),
    show_default=True,
    help="数据包输出位置 / where the published packages go",
)
@click.option(
    "--database",
    type=click.Path(dir_okay=False),
    default=str(DATABASE),
    show_default=True,
    help="数据库输出位置 / where the SQLite database goes",
)
@click.option("--quiet", is_flag=True, help="不显示进度 / no progress display")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="进程数（默认每个处理器核心一个） / processes (default: one per core)",
)
@click.option(
    "--json", "as_json", is_flag=True, help="以 JSON 输出摘要或问题 / machine-readable output"
)
def build(submissions, divisions, data_dir, database, quiet, jobs, as_json):
    """校验、汇总、披露控制并发布 / Validate, aggregate, protect and publish."""
    from . import build as build_module

    try:
        summary = build_module.build(
            submissions, divisions, data_dir, database, quiet=quiet, processes=jobs
        )
    except InputRejected as rejected:
        report(rejected.problems, as_json)
        sys.exit(EXIT_REJECTED)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    sample = "(示例数据 / sample data)" if summary["sample"] else ""
    click.echo(
        f"构建完成 / build complete {sample}\n"
        f"  报送文件夹 submitters: {summary['submitters']}\n"
        f"  数据截至 as of: {summary['as_of']}\n"
        f"  服务机构 facilities: {summary['facilities']}\n"
        f"  村(居)委会·年 village-years: {summary['village_years']}\n"
        f"  儿童人数格子 count cells: {summary['cells']}, 隐藏 suppressed: {summary['hidden']}\n"
        f"  数据包 packages: {', '.join(summary['packages'])} -> {data_dir}\n"
        f"  数据库 database: {summary['database']}\n"
        f"  用时 time: {summary['seconds']}s（{summary['processes']} 个进程 processes）"
    )
    for step in summary["steps"]:
        click.echo(f"    {step['seconds']:>7.1f} s {step['peak_mb']:>6} MB  {step['step']}")


@cli.command()
@click.argument("folder", type=click.Path())
@click.option(
    "--divisions",
    type=click.Path(exists=True, file_okay=False),
    default=str(DIVISIONS_SOURCES),
    show_default=True,
    help="行政区划 / folder with counties.csv, townships.csv, villages.csv",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出问题 / machine-readable output")
@click.option(
    "--report",
    type=click.Path(dir_okay=False),
    help="把检查结果另存为网页 / also write the result as an HTML page",
)
def check(folder, divisions, as_json, report):
    """只检查、不发布 / Check one county's folder, or its .zip (or all), publishing nothing."""
    from . import check_report, unpack, validate

    with unpack.Target(folder) as target:
        if target.problems:
            checked = validate.Validation(problems=target.problems)
        else:
            checked = validate.validate(target.folder, divisions)
        if report:
            check_report.write(report, folder, checked)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": checked.ok,
                    "files": [s.__dict__ for s in checked.summaries],
                    "problems": [p.as_dict() for p in checked.problems],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo("\n".join(["各文件 / files:"] + [s.format() for s in checked.summaries]))
        if checked.ok:
            click.echo("检查通过，没有发现问题。 / Check passed: no problems found.")
        else:
            click.echo(InputRejected(checked.problems).report(), err=True)
    if not checked.ok:
        sys.exit(EXIT_REJECTED)


def report(problems, as_json):
    if as_json:
        click.echo(json.dumps([p.as_dict() for p in problems], ensure_ascii=False, indent=2))
    else:
        click.echo(InputRejected(problems).report(), err=True)
