"""Design plug-in: panel (see causalspec.designs for the registry contract)."""

from __future__ import annotations
