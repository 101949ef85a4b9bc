"""Cross-study synthesis: theme mappings (SSSOM), a review frame, and systematic-review feeds.

Sits beside `queries` in the layering: it imports ontology, store and queries only. Everything it
writes lives in one named graph, `{base}graph/synthesis`, rebuilt as a whole by `loader.load_synthesis`
from the bundled frame and mapping files; study graphs are never touched.
"""
