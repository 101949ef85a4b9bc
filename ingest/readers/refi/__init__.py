"""REFI-QDA readers: .qdpx projects and .qdc codebooks (see docs/qda-formats.md)."""

from qualkg.ingest.readers.refi.codes import read_qdc
from qualkg.ingest.readers.refi.project import read_qdpx

__all__ = ["read_qdc", "read_qdpx"]
