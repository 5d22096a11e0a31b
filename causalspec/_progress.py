"""Progress bars for long loops (refutations, bootstraps, placebos, specification curves, parity cases).

A thin wrapper over ``tqdm`` so every loop in the package draws the same bar and a caller only says whether
anyone is watching: ``enabled=False`` (the default) writes nothing at all, and no tqdm object is made.
"""

from __future__ import annotations

import io
import os
import sys

from tqdm import tqdm

__all__ = ["Progress"]


class Progress:
    """``Progress(total, label, enabled, stream)``; call ``step(n)`` as work is done and ``close()`` at the end.

    Also a context manager (``with Progress(...) as bar: ...`` closes the bar even when the loop raises).  The
    bar goes to ``stream`` (default: ``sys.stderr`` at the time the bar is made), labelled ``label`` and showing
    ``done/total``; ``done`` counts the steps whether or not a bar is drawn.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> with Progress(3, "placebos", enabled=True, stream=out) as bar:
    ...     for _ in range(3):
    ...         bar.step()
    >>> "placebos" in out.getvalue() and "3/3" in out.getvalue()
    True
    """

    def __init__(self, total: int, label: str, enabled: bool = False, stream=None) -> None:
        self.total, self.label, self.enabled = max(int(total), 1), label, bool(enabled)
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._bar = None
        if self.enabled:
            # mininterval keeps a fast loop from spending its time redrawing; the final count is always drawn.
            # A terminal that reports no size (some CI ptys say 0 x 0) would hide the bar: assume 80 x 24.
            width = {"dynamic_ncols": True} if _columns(self.stream) else {"ncols": 80, "nrows": 24}
            self._bar = tqdm(total=self.total, desc=label, file=self.stream, leave=True, mininterval=0.1,
                             unit="step", **width)

    def step(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None  # closing twice (a finally after an explicit close) is harmless

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _columns(stream) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 0
