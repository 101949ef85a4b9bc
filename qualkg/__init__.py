"""qualkg: coded qualitative excerpts as one validated knowledge graph (composition root)."""

from qualkg.session import QualKG, connect

__all__ = ["QualKG", "connect"]
