"""How the portal runs: the Datasette app (app.py), one server process (worker.py), and the
production stack of nginx in front of supervised workers (prod.py)."""
