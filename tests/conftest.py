import sys
from pathlib import Path

# Make ``tests.parity._cases`` importable as ``parity._cases`` when pytest runs from the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent))
