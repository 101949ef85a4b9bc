"""Cross-study synthesis: theme mappings (SSSOM), a review frame, and systematic-review feeds.

It imports ontology, store, queries and ingest's problem type. Everything it writes lives in one named
graph, `IriScheme.synthesis_graph()`, rebuilt as a whole by `loader.load_synthesis`.
"""
