"""The P3MI API's request budget: per token, counted in the queues' Redis so that every web process
spends from one budget, told in headers, and no reason for the API to stop when Redis does."""

from __future__ import annotations

import logging

import pytest

from pengesahan.web.api.ratelimit import RATE_LIMIT_EXTENSION
from tests.support.api import ApiClient, company_client, error_of
from tests.support.app import prepared_app
from tests.support.reliability import count_round_trips


@pytest.fixture
def api(client):
    return company_client(client, "PT Maju")


def test_a_token_over_its_budget_is_refused_with_the_limit_and_when_to_retry(app, api, client):
    app.config["API_RATE_LIMIT"] = "3/minute"
    for remaining in (2, 1, 0):
        response = api.get("/dossiers")
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    error = error_of(api.get("/dossiers"), 429, "rate_limited")
    assert "3 per 1 minute" in error["details"]["limit"]
    refused = api.get("/dossiers")
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Another company's token has its own budget.
    assert company_client(client, "PT Lain").get("/dossiers").status_code == 200


def test_requests_are_counted_before_the_token_is_checked(app, client):
    app.config["API_RATE_LIMIT"] = "2/minute"
    revoked = ApiClient(client, "token-yang-tidak-ada", company_id=0)
    assert [revoked.get("/dossiers").status_code for _ in range(3)] == [401, 401, 429]


def test_an_address_making_up_tokens_is_refused_once_its_failures_are_spent(app, api, client):
    # A fresh made-up token has a fresh token budget: the address's failures must stop it.
    app.config["API_AUTH_FAILURE_LIMIT"] = "3/minute"
    guesses = [ApiClient(client, f"tebakan-{n}", company_id=0).get("/dossiers") for n in range(5)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429, 429]
    assert "3 per 1 minute" in error_of(guesses[-1], 429, "rate_limited")["details"]["limit"]
    assert 0 < int(guesses[-1].headers["Retry-After"]) <= 60
    # Refused before the token is read: the company's own token from that address waits too,
    assert api.get("/dossiers").status_code == 429
    # and another address is not concerned.
    elsewhere = {"REMOTE_ADDR": "203.0.113.7"}
    assert api.get("/dossiers", environ_base=elsewhere).status_code == 200
    assert ApiClient(client, "tebakan-lain", 0).get("/dossiers", environ_base=elsewhere).status_code == 401


def test_requests_with_a_valid_token_spend_no_failures(app, api, client):
    app.config["API_AUTH_FAILURE_LIMIT"] = "2/minute"
    assert all(api.get("/dossiers").status_code == 200 for _ in range(4))
    assert ApiClient(client, "tebakan", company_id=0).get("/dossiers").status_code == 401


def test_every_web_process_spends_from_the_same_budget(app, api, settings):
    app.config["API_RATE_LIMIT"] = "2/minute"
    assert api.get("/dossiers").status_code == 200
    with prepared_app(settings, API_RATE_LIMIT="2/minute") as second_process:
        from_second = ApiClient(second_process.test_client(), api.token, api.company_id)
        assert from_second.get("/dossiers").status_code == 200
        error_of(from_second.get("/dossiers"), 429, "rate_limited")
    error_of(api.get("/dossiers"), 429, "rate_limited")


def test_the_api_answers_while_redis_does_not(app, tmp_path, settings, caplog):
    from app import create_app

    down = settings.replace(redis_url=f"unix://{tmp_path}/tidak-ada.sock")
    without_redis = create_app({"TESTING": True, "API_RATE_LIMIT": "1/minute"}, settings=down)
    api = company_client(without_redis.test_client(), "PT Maju")
    with caplog.at_level(logging.WARNING, logger="pengesahan.web.api.ratelimit"):
        assert [api.get("/dossiers").status_code for _ in range(3)] == [200, 200, 200]
    assert "Redis did not answer" in caplog.text


def test_a_request_spends_its_budget_in_one_round_trip_to_redis(app, api):
    # Four before (the address's failures, the spending, the count left, the window's end):
    # a fifth of an upload's cost in the API.
    limiter = count_round_trips(app.extensions[RATE_LIMIT_EXTENSION])
    assert api.get("/dossiers").status_code == 200  # the script is loaded into Redis once
    limiter.round_trips = 0
    response = api.get("/dossiers")
    assert response.status_code == 200
    assert limiter.round_trips == 1
    assert int(response.headers["X-RateLimit-Remaining"]) == int(response.headers["X-RateLimit-Limit"]) - 2


def test_a_window_ends_even_for_a_counter_left_without_an_expiry(app, api):
    from redis import Redis

    from pengesahan.records.people import hash_token
    from pengesahan.web.api.ratelimit import KEY_PREFIX

    app.config["API_RATE_LIMIT"] = "2/minute"
    server = Redis.from_url(app.config["SETTINGS"].redis_url)
    assert api.get("/dossiers").status_code == 200
    budget = f"{KEY_PREFIX}:token:{hash_token(api.token)}:2/1/minute"
    server.persist(budget)  # as if the write of its expiry had been lost
    assert server.ttl(budget) == -1
    assert api.get("/dossiers").status_code == 200
    assert 0 < server.ttl(budget) <= 60


def test_the_budget_is_counted_again_by_a_redis_restarted_empty(app, api):
    # A restarted Redis knows neither the counters nor the script: the script is sent again.
    from redis import Redis

    from pengesahan.web.api.ratelimit import KEY_PREFIX

    server = Redis.from_url(app.config["SETTINGS"].redis_url)
    app.config["API_RATE_LIMIT"] = "5/minute"
    assert api.get("/dossiers").headers["X-RateLimit-Remaining"] == "4"
    server.script_flush()
    for key in server.scan_iter(f"{KEY_PREFIX}:*"):
        server.delete(key)
    response = api.get("/dossiers")
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "4"
