"""The qualkg model: OWL ontology, SKOS vocabularies, SHACL shapes and their namespaces.

Everything here is data shipped with the package; `load` finds it through importlib.resources,
so an installed (non-editable) qualkg finds it too.
"""

from qualkg.ontology.load import model_graph, ontology_graph, shapes_graph, vocabulary_graph
from qualkg.ontology.namespaces import FEATURE, MODE, PREFIXES, PRINCIPLE, QK, QKDATA, ROLE

__all__ = [
    "FEATURE",
    "MODE",
    "PREFIXES",
    "PRINCIPLE",
    "QK",
    "QKDATA",
    "ROLE",
    "model_graph",
    "ontology_graph",
    "shapes_graph",
    "vocabulary_graph",
]
