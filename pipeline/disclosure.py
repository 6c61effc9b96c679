"""Disclosure control for the children's counts.

Two rules, applied in this order:

1. Publication levels (reference table publication_levels): a series is
   published only at its finest allowed level and above; below that, no row
   at all, not even a zero.
2. Primary suppression: a published count from 1 to THRESHOLD - 1 is hidden.

A hidden cell is published with an empty count and the status `suppressed`,
the same status whatever the reason, so a reader cannot tell which hidden
cells are small.
"""

THRESHOLD = 11
LEVEL_RANK = {"township": 0, "county": 1, "prefecture": 2}


def publishable(cells, finest_level):
    """Only the cells at or above each series' finest published level."""
    return {
        key: value
        for key, value in cells.items()
        if LEVEL_RANK[key[1]] >= LEVEL_RANK[finest_level[key[3]]]
    }


def primary(cells, threshold=THRESHOLD):
    """Keys of the cells whose count is small enough to identify children."""
    return {key for key, value in cells.items() if 0 < value < threshold}


def protect(cells, finest_level, threshold=THRESHOLD):
    """(published cells, hidden keys) after publication levels and suppression."""
    published = publishable(cells, finest_level)
    return published, primary(published, threshold)
