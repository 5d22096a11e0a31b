"""A dependency-free progress bar for long loops (stderr; silent unless asked)."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """``Progress(total, label, enabled)``; call ``step()`` each iteration and ``close()`` at the end."""

    def __init__(self, total: int, label: str, enabled: bool = False, stream=None) -> None:
        self.total, self.label, self.enabled = max(int(total), 1), label, enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self._last = 0.0
        self._start = time.perf_counter()

    def step(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1 and self.done < self.total:
            return
        self._last = now
        width = 30
        filled = int(width * self.done / self.total)
        self.stream.write(f"\r{self.label:<24} [{'#' * filled}{'.' * (width - filled)}] "
                          f"{self.done}/{self.total} {now - self._start:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
