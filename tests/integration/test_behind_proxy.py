"""`flask up` behind a reverse proxy: waitress hands the proxy's X-Forwarded-For to the app, which
reads the client's address from it only when the proxy is trusted (TRUSTED_PROXIES)."""

from __future__ import annotations

import requests

from pengesahan.cli.run import waitress_options
from tests.support.app import prepared_app, served


def _statuses_of_two_clients_guessing_tokens(settings) -> list[int]:
    with prepared_app(settings, API_AUTH_FAILURE_LIMIT="1/minute") as application, \
            served(application, **waitress_options(settings)) as base:
        return [requests.get(f"{base}/api/v1/dossiers", timeout=30,
                             headers={"Authorization": f"Bearer tebakan-{client}", "X-Forwarded-For": client}).status_code
                for client in ("198.51.100.1", "198.51.100.2")]


def test_behind_a_trusted_proxy_each_client_has_its_own_address(settings):
    assert _statuses_of_two_clients_guessing_tokens(settings.replace(trusted_proxies=1)) == [401, 401]


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    assert _statuses_of_two_clients_guessing_tokens(settings) == [401, 429]
