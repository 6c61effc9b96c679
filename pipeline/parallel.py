"""Independent pieces of a build on every core, with the same result as one process.

A county's files are checked on their own, and each prefecture-year of the
children's counts is protected on its own; `ordered_map` runs such pieces in a
pool of forked processes and hands the results back in the order of the
inputs, so that what the build writes does not depend on how many processes
ran it (tests/test_build.py builds with one and with two and compares bytes).

Forked, not spawned: a worker starts with the parent's memory (the reference
data, the divisions) and its function, so neither is pickled; only each item
and its result cross between processes.
"""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

_function = None  # the function the workers run, inherited through fork


def _call(item):
    return _function(item)


def workers(requested=None):
    """How many processes: `requested`, else $PIPELINE_JOBS, else one per core."""
    if requested:
        return max(1, int(requested))
    if os.environ.get("PIPELINE_JOBS"):
        return max(1, int(os.environ["PIPELINE_JOBS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ordered_map(function, items, processes=1, chunksize=1, ticker=None):
    """Yield function(item) for every item, in the items' order, using `processes` processes;
    `ticker` (progress.Ticker) counts the items done."""
    global _function
    items = list(items)
    if ticker:
        ticker.start(len(items), ticker.unit)
    if processes <= 1 or len(items) <= 1:
        for item in items:
            result = function(item)
            if ticker:
                ticker.advance()
            yield result
        return
    _function = function
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(processes, len(items)), mp_context=context) as pool:
            for result in pool.map(_call, items, chunksize=chunksize):
                if ticker:
                    ticker.advance()
                yield result
    finally:
        _function = None


class Background:
    """function(item) for every item, started in worker processes while this one goes on with
    other work; `results()` waits for them and gives them in the items' order."""

    def __init__(self, function, items, processes):
        global _function
        self.items = list(items)
        self.pool = None
        if processes < 1 or not self.items:
            self.function = function
            return
        _function = function
        context = multiprocessing.get_context("fork")
        self.pool = ProcessPoolExecutor(min(processes, len(self.items)), mp_context=context)
        self.futures = [self.pool.submit(_call, item) for item in self.items]

    def results(self):
        global _function
        if self.pool is None:
            return [self.function(item) for item in self.items]
        try:
            return [future.result() for future in self.futures]
        finally:
            self.pool.shutdown()
            _function = None
