"""The smallest spec the archive and CLI hostile tests write next to their data."""

SPEC = """\
version: 1
name: tiny
data: d.csv
treatment: x
outcome: y
design:
  type: experiment
dag:
  edges: [x -> y]
sensitivity:
  enabled: false
seed: 1
"""
