"""One-line progress reports on stderr for phases that take more than a few seconds."""

import sys
import time


class Progress:
    """`with Progress("NNLS baseline", total=534) as progress: ... progress.update(1)`.

    Prints a start line, a line at most every `interval` seconds while working, and
    a closing line with the elapsed time, so logs show that a long phase is alive.
    """

    def __init__(self, label, total=None, interval=5.0, stream=None):
        self.label = label
        self.total = total
        self.interval = interval
        self.stream = stream or sys.stderr
        self.done = 0

    def __enter__(self):
        self.started = self._last = time.perf_counter()
        self._print(f"{self.label} …" if self.total is None else f"{self.label}: 0/{self.total}")
        return self

    def update(self, count=1):
        self.done += count
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            of = f"/{self.total}" if self.total is not None else ""
            self._print(f"{self.label}: {self.done}{of} ({now - self.started:.0f} s)")

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self._print(f"{self.label}: done in {time.perf_counter() - self.started:.1f} s")
        return False

    def _print(self, text):
        print(f"mlkit: {text}", file=self.stream, flush=True)
