"""What the portal's pages show, as small pure modules the plugins call: figures from the
database, SVG charts and maps, Chinese labels and links for cells, search, the DCAT catalogue,
request limits, and CSV that spreadsheets cannot run."""
