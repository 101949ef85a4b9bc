"""qualkg: coded qualitative excerpts as one validated knowledge graph (composition root).

`qualkg.connect()` opens the configured store for Python use (`qualkg.session`); the session is
imported on first use, so `import qualkg.<layer>` and the CLI's start stay light.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qualkg.session import QualKG, connect

__version__ = version("qualkg")
__all__ = ["QualKG", "__version__", "connect"]


def __getattr__(name: str) -> Any:
    if name in ("QualKG", "connect"):
        from qualkg import session

        return getattr(session, name)
    raise AttributeError(f"module 'qualkg' has no attribute {name!r}")
