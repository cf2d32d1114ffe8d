"""Pure processing of uploads: intake, decoding, checks, OCR, classification, fields.

No Flask, no peewee: bytes and frozen dataclasses in, frozen dataclasses out. The entry point
for a queue worker is :func:`processing.pipeline.analyse`; the shared contract is
:mod:`processing.spec`. Submodules are imported explicitly (OpenCV and the OCR engines are
heavy, and the web layer only needs :mod:`processing.intake`).
"""

__all__ = [
    "checks",
    "classify",
    "fields",
    "imaging",
    "intake",
    "outline",
    "pdf",
    "pipeline",
    "spec",
    "text",
]
