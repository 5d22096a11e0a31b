"""Reproducible analysis archives: write (atomically, never over someone's files), then verify by re-running.

An archive is a flat folder (or .zip) of regular files; reading one never executes anything from it, never
follows a link in it and never extracts a zip to disk (docs/archive.md, docs/security.md).
"""

from causalspec.archive._core import archive
from causalspec.archive._diff import diff
from causalspec.archive._verify import VerifyReport, verify

__all__ = ["archive", "verify", "diff", "VerifyReport"]
