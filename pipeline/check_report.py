"""The result of a check as a page a data officer can open, print or send back.

Rendered from pipeline/templates/check_report.html with Jinja2 (autoescaped:
a cell's value is shown as text, never as markup).
"""

import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .problems import grouped

TEMPLATES = Path(__file__).with_name("templates")


def render(folder, checked, now=None):
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("check_report.html").render(
        folder=str(folder),
        checked_at=(now or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M"),
        reporting_year=checked.reporting_year,
        summaries=checked.summaries,
        problems=checked.problems,
        groups=[g.as_dict() for g in grouped(checked.problems)],
    )


def write(path, folder, checked):
    Path(path).write_text(render(folder, checked), encoding="utf-8")
    return path
