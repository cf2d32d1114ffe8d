"""The environment `flask up` gives its workers."""

from __future__ import annotations

from pengesahan.cli.run import worker_environment


def test_several_workers_get_one_ocr_thread_each_unless_the_operator_chose(monkeypatch):
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    alone = worker_environment({"REDIS_URL": "redis://x"}, 1)
    assert alone["REDIS_URL"] == "redis://x" and "OMP_THREAD_LIMIT" not in alone
    assert worker_environment({}, 3)["OMP_THREAD_LIMIT"] == "1"
    monkeypatch.setenv("OMP_THREAD_LIMIT", "2")
    assert worker_environment({}, 3)["OMP_THREAD_LIMIT"] == "2"
