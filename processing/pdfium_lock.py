"""One lock for every call into pdfium in a process.

pdfium is not thread-safe (pypdfium2's documentation says so): two threads of one process
opening or rendering PDFs at once can crash it. A web process serves requests in threads (a
draft read on submission, on the dossier page, at verification) and tests run a worker thread
beside the web, so every use of pdfium in this project holds :data:`PDFIUM_LOCK`. Processes are
what run PDFs in parallel (the workers); within one, they take turns.
"""

from __future__ import annotations

import threading

__all__ = ["PDFIUM_LOCK"]

PDFIUM_LOCK = threading.RLock()
