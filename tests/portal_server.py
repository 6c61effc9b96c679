"""How the tests start the portal: the same options as `make serve`, read from the Makefile."""

import re
import shlex

from pipeline.paths import ROOT


def serve_options():
    """The `datasette serve` options of the Makefile's serve target, minus host and port."""
    makefile = (ROOT / "Makefile").read_text("utf-8")
    command = re.search(r"datasette serve (.*?)--host", makefile.replace("\\\n", " "), re.S)
    return shlex.split(command.group(1).replace("$(DB)", "").replace("build/inspect.json", ""))


def settings():
    """The --setting pairs, typed as Datasette's Python API wants them."""
    options = serve_options()
    pairs = [(options[i + 1], options[i + 2]) for i, o in enumerate(options) if o == "--setting"]
    typed = {}
    for name, value in pairs:
        if value in ("on", "off"):
            typed[name] = value == "on"
        elif value.isdigit():
            typed[name] = int(value)
        else:
            typed[name] = value
    return typed
