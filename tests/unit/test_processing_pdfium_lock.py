"""pdfium is not thread-safe: every door into it in a process waits for the one lock."""

from __future__ import annotations

import threading

import pytest

from processing.pdfium_lock import PDFIUM_LOCK
from tests.support.signing import make_agreement_pdf


def _waits_for_the_lock(call) -> object:
    """Run ``call`` in a thread while this thread holds the lock: it must not finish until the
    lock is released, and must finish after."""
    result: dict = {}
    worker = threading.Thread(target=lambda: result.setdefault("value", call()), daemon=True)
    with PDFIUM_LOCK:
        worker.start()
        worker.join(0.5)
        assert worker.is_alive(), "called pdfium without the lock"
    worker.join(30)
    assert not worker.is_alive()
    return result["value"]


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_agreement_pdf(pages=2)


def test_the_text_layer_waits_for_the_lock(pdf):
    from processing.pdf import text_layer

    assert "PERJANJIAN" in _waits_for_the_lock(lambda: text_layer(pdf)).upper()


def test_rendering_waits_for_the_lock(pdf):
    from processing.pdf import render_pdf

    assert len(_waits_for_the_lock(lambda: render_pdf(pdf, dpi=30))) == 2


def test_intake_of_a_pdf_waits_for_the_lock(pdf):
    from processing.intake import inspect_upload

    assert _waits_for_the_lock(lambda: inspect_upload(pdf, declared_name="pp.pdf")).media_type == "application/pdf"


def test_reading_a_draft_waits_for_the_lock(pdf):
    from pengesahan.services.drafts import read_draft_text

    assert _waits_for_the_lock(lambda: read_draft_text(pdf)).strip()


def test_many_threads_reading_and_rendering_at_once_all_get_their_pages(pdf):
    from processing.pdf import render_pdf, text_layer

    results: list = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        len(render_pdf(pdf, dpi=30)) if i % 2 else text_layer(pdf).count("\f") + 1)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [2] * 12
