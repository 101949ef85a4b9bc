"""qualkg: coded qualitative excerpts as one validated knowledge graph (composition root)."""

from importlib.metadata import version

from qualkg.session import QualKG, connect

__version__ = version("qualkg")
__all__ = ["QualKG", "__version__", "connect"]
