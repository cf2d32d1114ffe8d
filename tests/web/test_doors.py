"""An app that ``flask`` builds to run one of its commands gets its web doors (admin, portal,
API) with its first request: ``--help``, the worker and the maintenance commands never import
them, and a visitor or a built-in command (``run``, ``routes``) sees every page as before."""

from __future__ import annotations

import subprocess
import sys
import threading

import click
from flask import Flask
from flask.cli import FlaskGroup

from pengesahan.doors import defer_doors, open_doors
from tests.support.app import prepared_app
from tests.support.reliability import ROOT, process_env

WEB_BLUEPRINTS = {"admin", "portal", "auth", "verify"}


def test_an_app_built_for_a_command_serves_every_page_from_its_first_request(settings):
    with click.Context(FlaskGroup()), prepared_app(settings) as app:
        assert not WEB_BLUEPRINTS & set(app.blueprints)
        client = app.test_client()
        assert client.get("/verifikasi").status_code == 200
        assert WEB_BLUEPRINTS <= set(app.blueprints)
        assert client.get("/admin/").status_code == 302  # to the login page, as always


def test_an_app_built_by_a_server_or_a_test_has_its_doors_at_once(app):
    assert WEB_BLUEPRINTS <= set(app.blueprints)


def test_open_doors_adds_them_before_the_first_request(settings):
    with click.Context(FlaskGroup()), prepared_app(settings) as app:
        open_doors(app)
        assert WEB_BLUEPRINTS <= set(app.blueprints)
        open_doors(app)  # a second call changes nothing
        assert app.test_client().get("/verifikasi").status_code == 200


def test_concurrent_first_requests_add_the_doors_once():
    app = Flask(__name__)
    added = []
    start = threading.Barrier(8)

    def add_doors(app):
        added.append(True)

        @app.get("/")
        def index():
            return "ok"

    defer_doors(app, add_doors)
    statuses = []

    def first_request():
        start.wait()
        statuses.append(app.test_client().get("/").status_code)

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert added == [True]
    assert statuses == [200] * 8


def _flask(settings, redis_url, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "flask", "--app", "app", *args],
                          cwd=ROOT, env=process_env(settings, redis_url), capture_output=True, text=True,
                          timeout=120)


def test_flask_help_lists_the_commands_without_importing_the_web(settings, redis_url):
    done = _flask(settings, redis_url, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    for command in ("up", "worker", "db", "ltv", "verify", "routes"):
        assert f"\n  {command} " in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not {"flask_admin", "flask_smorest", "admin", "pengesahan.web"} & imported


def test_flask_routes_still_lists_every_page(settings, redis_url):
    done = _flask(settings, redis_url, "routes")
    assert done.returncode == 0, done.stderr[-2000:]
    for rule in ("/verifikasi", "/admin/", "/portal/", "/api/v1/dossiers"):
        assert rule in done.stdout
