"""The causal-graph stage: DAGs, d-separation, adjustment sets, instruments, node roles.

Pure Python, no data.  Every algorithm treats ``a <-> b`` as a latent common cause
and never places a latent node in an adjustment or conditioning set.  A DAG is read from
edge strings (:meth:`DAG.from_edges`), dagitty text (:meth:`DAG.from_dagitty`), Graphviz DOT
(:func:`from_dot`) or GML (:func:`from_gml`); no text is ever evaluated.
"""

from causalspec.graph._adjustment import adjustment_sets, front_door_sets, is_adjustment_set, optimal_adjustment_set
from causalspec.graph._dag import DAG
from causalspec.graph._dot import from_dot
from causalspec.graph._edges import edge_pattern
from causalspec.graph._gml import from_gml
from causalspec.graph._implications import implied_conditional_independencies, instrumental_variables
from causalspec.graph._paths import Path, paths
from causalspec.graph._roles import Role, node_roles
from causalspec.graph._separation import d_separated

__all__ = [
    "DAG",
    "Path",
    "Role",
    "adjustment_sets",
    "d_separated",
    "edge_pattern",
    "from_dot",
    "from_gml",
    "front_door_sets",
    "implied_conditional_independencies",
    "instrumental_variables",
    "is_adjustment_set",
    "node_roles",
    "optimal_adjustment_set",
    "paths",
]
