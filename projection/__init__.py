"""Projections of the RDF graph into other engines; today the Neo4j property graph (projection.neo4j)."""
