"""The running server checked against its own OpenAPI document (`/v1/openapi.json`) by an
independent tool, Schemathesis: for every documented operation it generates requests (valid and
hostile) and checks that no answer is a server error and every answer — status, content type,
headers and body — is one the document describes. Run with each kind of credential the
operations take, so that answers past authentication are checked too."""

import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest

from helpers import UserAgent, create_workspace, exchange_code, pkce_pair, query_params

REDIRECT_URI = "https://client.example.test/oauth/callback"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
])


def schemathesis(portcullis, *args: str, config: Path | None = None) -> None:
    binary = str(Path(sys.executable).parent / "schemathesis")
    command = [
        binary, *(["--config-file", str(config)] if config else []), "run", portcullis.url("/v1/openapi.json"),
        "--checks", CHECKS, "--max-examples", "40", "--generation-deterministic", *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"schemathesis {' '.join(args[:2])}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


@pytest.fixture(scope="module")
def credentials(portcullis, metadata):
    """A project token (an admin's), a deploy key and backend credentials."""
    workspace = create_workspace(portcullis)
    app = portcullis.create_app(workspace.team, REDIRECT_URI)
    verifier, challenge = pkce_pair()
    url = metadata["authorization_endpoint"] + "?" + urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": "project", "state": secrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    location = UserAgent(portcullis, workspace.user).consent(url, team=workspace.team, project=workspace.project)
    token = exchange_code(metadata, app, query_params(location)["code"], REDIRECT_URI, verifier)["access_token"]
    deployment = portcullis.cli("admin", "deployment", "create", "--team", workspace.team, "--project",
                                workspace.project, "--type", "dev")["name"]
    key = portcullis.cli("admin", "deploy-key", "create", "--deployment", deployment, "--name", "schemathesis")["key"]
    backend_id, backend_secret = portcullis.create_backend()
    return {"token": token, "key": key, "backend": f"{backend_id}:{backend_secret}"}


def test_the_document_is_served_as_openapi_3_1(portcullis):
    import requests

    document = requests.get(portcullis.url("/v1/openapi.json"), timeout=10).json()
    assert document["openapi"].startswith("3.1")
    create = document["paths"]["/v1/deploy_keys"]["post"]["operationId"]
    assert "DeployKey" in create and "create" in create


def test_decisions_conform_to_the_document(portcullis, credentials):
    schemathesis(portcullis, "--include-path", "/v1/check", "--auth", credentials["backend"])


def test_application_token_operations_conform_to_the_document(portcullis, credentials):
    schemathesis(portcullis, "--exclude-path", "/v1/check", "--header", f"Authorization: Bearer {credentials['token']}")


def test_deploy_key_operations_conform_to_the_document(portcullis, credentials):
    schemathesis(portcullis, "--exclude-path", "/v1/check", "--header", f"Authorization: Bearer {credentials['key']}")


def test_a_team_admins_session_operations_conform_to_the_document(portcullis, tmp_path):
    """Signed in as a team admin, with the CSRF header, and the path parameters pinned to that
    team's real objects: the answers past authorization (lists, creations, validation errors,
    conflicts, deletions) are checked too, not only 404s for made-up slugs."""
    workspace = create_workspace(portcullis)
    app = portcullis.create_app(workspace.team, REDIRECT_URI)
    member = portcullis.create_user()
    portcullis.cli("admin", "member", "add", "--team", workspace.team, "--email", member.email, "--role", "developer")
    portcullis.cli("admin", "role", "create", "--team", workspace.team, "--name", "viewer", "--statements",
                   '[{"effect": "allow", "actions": ["project:view"], "resource": "project:*"}]')
    agent = UserAgent(portcullis, workspace.user)
    agent.login()
    me = agent.get("/v1/me").json()
    member_id = next(m["user_id"] for m in agent.get(f"/v1/teams/{workspace.team}/members").json()["items"]
                     if m["email"] == member.email)
    cookie = "; ".join(f"{c.name}={c.value}" for c in agent.http.cookies)
    config = tmp_path / "schemathesis.toml"
    config.write_text("\n".join([
        "[parameters]",
        f'"path.team" = "{workspace.team}"',
        f'"path.project" = "{workspace.project}"',
        f'"path.client_id" = "{app["client_id"]}"',
        f'"path.user_id" = {member_id}',
        '"path.name" = "viewer"',
    ]) + "\n")
    schemathesis(portcullis, "--include-path-regex", "^/v1/(me|teams)", "--header", f"Cookie: {cookie}",
                 "--header", f"X-CSRF-Token: {me['csrf_token']}", config=config)


def test_unauthenticated_answers_conform_to_the_document(portcullis):
    schemathesis(portcullis)
