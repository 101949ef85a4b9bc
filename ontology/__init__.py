"""The qualkg model: OWL ontology, SKOS vocabularies, SHACL shapes and their namespaces.

Everything here is data shipped with the package; `load` finds it through importlib.resources,
so an installed (non-editable) qualkg finds it too.
"""

from ontology.load import ontology_graph, shapes_graph, vocabulary_graph, model_graph
from ontology.namespaces import QK, QKDATA, ROLE, FEATURE, MODE, PRINCIPLE, PREFIXES

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
