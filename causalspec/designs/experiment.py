"""Design plug-in: experiment (see causalspec.designs for the registry contract)."""

from __future__ import annotations
