"""Reproducible analysis archives (minimal first version): write, then verify by re-running.

An archive is a folder of text files; reading one never executes anything from it.
"""

from ._core import VerifyReport, archive, verify
from ._diff import diff

__all__ = ["archive", "verify", "diff", "VerifyReport"]
