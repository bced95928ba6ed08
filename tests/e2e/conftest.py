"""Session fixtures: one database (a fresh SQLite file, or a throwaway PostgreSQL database when
E2E_DATABASE is a PostgreSQL admin URL) and one `portcullis serve` on it for the whole session."""

import os
import secrets
import tempfile
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from helpers import HTTP_TIMEOUT, Portcullis, portcullis_bin


@pytest.fixture(scope="session")
def database_url():
    kind = os.environ.get("E2E_DATABASE", "sqlite") or "sqlite"
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="portcullis-e2e-") as directory:
            yield f"sqlite://{directory}/portcullis.db"
    elif kind.startswith(("postgres://", "postgresql://")):
        yield from _throwaway_postgres_database(kind)
    else:
        raise pytest.UsageError(f"E2E_DATABASE must be 'sqlite' or a postgres:// admin URL, not {kind!r}")


def _throwaway_postgres_database(admin_url: str):
    import psycopg

    name = f"e2e_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def portcullis(database_url):
    """The running server and the operator CLI on its database."""
    if not portcullis_bin().is_file():
        pytest.exit(f"no portcullis binary at {portcullis_bin()} (run `cargo build` or set PORTCULLIS_BIN)", 2)
    server = Portcullis(database_url)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def metadata(portcullis):
    """The server's RFC 8414 metadata: the only source of endpoint URLs for the clients."""
    response = requests.get(portcullis.url("/.well-known/oauth-authorization-server"), timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="session")
def backend(portcullis):
    """Backend credentials (client_id, client_secret) for introspection."""
    return portcullis.create_backend()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item (`item.report_call`) for fixtures to look at."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
