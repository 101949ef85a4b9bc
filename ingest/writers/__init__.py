"""Writers: a study in the store back out to the files QDA tools read (decision 0090)."""

from qualkg.ingest.writers.qdpx import QdpxExport, StudyNotFound, export_qdpx

__all__ = ["QdpxExport", "StudyNotFound", "export_qdpx"]
