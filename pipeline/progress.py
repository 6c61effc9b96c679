"""What a build is doing, for the person waiting on it: steps, counts, time left, memory.

On a terminal each long step shows a progress bar with counts and an estimate
of the time left (rich); in a log or CI it prints one line when a step starts,
one every few seconds while it runs, and one when it ends. Every step's
seconds and peak memory (this process's and its worker processes') are kept
for the build's summary and the benchmark's table.
"""

import contextlib
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

LOG_EVERY_SECONDS = 5.0
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_mb():
    """The most memory this process has held since the last reset (VmHWM), in MB."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():
    """Start counting the peak afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    with contextlib.suppress(OSError):
        CLEAR_REFS.write_text("5")


def children_peak_mb():
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    peak_mb: float = 0.0
    workers_peak_mb: float = 0.0


@dataclass
class Progress:
    """Steps numbered out of `total`; `quiet` prints nothing; `bar` forces or forbids bars
    (default: bars on a terminal)."""

    quiet: bool = False
    total: int = 7
    bar: bool | None = None
    steps: list = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self):
        if self.bar is None:
            self.bar = sys.stderr.isatty()

    def say(self, text):
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def step(self, name):
        """A step: yields a Ticker for its counts; records its time and peak memory."""
        number = len(self.steps) + 1
        reset_peak()
        workers_before = children_peak_mb()
        began = time.perf_counter()
        ticker = Ticker(self, f"[{number}/{self.total}] {name}")
        self.say(f"[{number}/{self.total}] {name} …")
        try:
            yield ticker
        finally:
            ticker.close()
        seconds = time.perf_counter() - began
        # RUSAGE_CHILDREN keeps the largest of all finished children: it grew in this step only
        # if a worker of this step was the largest so far.
        workers = children_peak_mb()
        record = Step(name, seconds, peak_mb(), workers if workers > workers_before else 0.0)
        self.steps.append(record)
        detail = f"  {ticker.result}" if ticker.result else ""
        workers = (
            f"，最大的工作进程 largest worker {workers:.0f} MB" if record.workers_peak_mb else ""
        )
        self.say(
            f"[{number}/{self.total}] {name}：完成 done{detail}  "
            f"({seconds:.1f} s, {record.peak_mb:.0f} MB{workers})"
        )

    def elapsed(self):
        return time.perf_counter() - self.started

    def table(self):
        """[{step, seconds, peak_mb, workers_peak_mb}] for the summary."""
        return [
            {
                "step": s.name,
                "seconds": round(s.seconds, 1),
                "peak_mb": round(s.peak_mb),
                "workers_peak_mb": round(s.workers_peak_mb),
            }
            for s in self.steps
        ]


class Ticker:
    """Counts within one step: a bar on a terminal, a line every few seconds in a log."""

    def __init__(self, progress, label):
        self.progress, self.label = progress, label
        self.total, self.done = None, 0
        self.unit = ""
        self.result = ""
        self.last_line = time.perf_counter()
        self.began = self.last_line
        self.bar = None

    def start(self, total, unit=""):
        self.total, self.done, self.unit = total, 0, unit
        if self.progress.bar and not self.progress.quiet and total:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(unit),
                TimeElapsedColumn(),
                TextColumn("剩余 left"),
                TimeRemainingColumn(),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=total)

    def advance(self, count=1):
        self.done += count
        if self.bar:
            self.bar.update(self.task, completed=self.done)
            return
        now = time.perf_counter()
        if now - self.last_line >= LOG_EVERY_SECONDS and not self.progress.quiet:
            self.last_line = now
            if self.total:
                rate = self.done / (now - self.began) if now > self.began else 0
                left = (self.total - self.done) / rate if rate else 0
                self.progress.say(
                    f"    {self.label}：{self.done:,}/{self.total:,} {self.unit}"
                    f"（{now - self.began:.0f} s，约剩 {left:.0f} s / about {left:.0f} s left）"
                )
            else:
                self.progress.say(f"    {self.label}：{self.done:,} {self.unit}")

    def close(self):
        if self.bar:
            self.bar.stop()
            self.bar = None
