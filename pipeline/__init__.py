"""pgo-pipeline: OGP (PGO) action-plan self-assessment reports as open data.

Stages, one module each: :mod:`pipeline.ingest` (report text to curated Parquet),
:mod:`pipeline.validate`, :mod:`pipeline.compute`, :mod:`pipeline.publish`; the
command line is :mod:`pipeline.cli`.
"""

__version__ = "0.1.0"
