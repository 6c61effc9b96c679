"""The build pipeline: county submissions in, Frictionless packages and one SQLite database out."""
