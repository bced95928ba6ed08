"""Interoperability: Authlib's OAuth2Session, an independent OAuth 2.0 client, configured only from
the server's RFC 8414 metadata, completes the authorization code flow with PKCE (S256) for each
kind of client, and refreshes an expiring token."""

import secrets

import pytest
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from helpers import UserAgent, assert_token_format, create_workspace, introspect, query_params

REDIRECT_URI = "https://client.example.test/oauth/callback"


@pytest.fixture
def workspace(portcullis):
    return create_workspace(portcullis)


def oauth_client(metadata, app, redirect_uri=REDIRECT_URI, scope="project", **kwargs) -> OAuth2Session:
    """An Authlib client for `app`, knowing the server only through its metadata."""
    client = OAuth2Session(
        client_id=app["client_id"],
        client_secret=app.get("client_secret"),
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint=metadata["token_endpoint"],
        **kwargs,
    )
    client.sent = []  # the token endpoint requests Authlib made, to check its client authentication
    client.hooks["response"].append(lambda response, **_: client.sent.append(response.request))
    return client


def authorize(portcullis, metadata, client, workspace, *, project=None):
    """The whole code flow: Authlib builds the request, the user logs in and approves, Authlib
    redeems the code from the redirect. Returns the token response."""
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    assert query_params(url)["code_challenge_method"] == "S256"

    location = UserAgent(portcullis, workspace.user).consent(url, team=workspace.team, project=project)

    assert location.startswith(client.redirect_uri + "?"), location
    params = query_params(location)
    assert params["state"] == state
    assert params["iss"] == metadata["issuer"]  # RFC 9207
    return client.fetch_token(authorization_response=location, code_verifier=verifier)


def test_metadata_is_valid_rfc8414(portcullis, metadata, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the test server is plain http on loopback
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["issuer"] == portcullis.base_url
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert set(metadata["scopes_supported"]) == {"project", "team"}
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        metadata["token_endpoint_auth_methods_supported"])


@pytest.mark.parametrize("scope", ["project", "team"])
def test_confidential_client_secret_basic(portcullis, metadata, workspace, scope):
    app = portcullis.create_app(workspace.team, REDIRECT_URI)
    client = oauth_client(metadata, app, scope=scope)

    project = workspace.project if scope == "project" else None
    token = authorize(portcullis, metadata, client, workspace, project=project)

    assert client.sent[-1].headers["Authorization"].startswith("Basic ")
    assert "client_secret" not in client.sent[-1].body
    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == scope
    assert_token_format(token["access_token"], workspace.team, project)
    assert "refresh_token" not in token and "expires_in" not in token  # tokens do not expire by default


def test_confidential_client_secret_post(portcullis, metadata, workspace, backend):
    app = portcullis.create_app(workspace.team, REDIRECT_URI)
    client = oauth_client(metadata, app, token_endpoint_auth_method="client_secret_post")

    token = authorize(portcullis, metadata, client, workspace, project=workspace.project)

    assert "Authorization" not in client.sent[-1].headers
    assert "client_secret=" in client.sent[-1].body
    assert_token_format(token["access_token"], workspace.team, workspace.project)
    details = introspect(portcullis, backend, token["access_token"])
    assert details["active"] is True
    assert details["client_id"] == app["client_id"]
    assert details["username"] == workspace.user.email
    assert (details["team_slug"], details["project_slug"]) == (workspace.team, workspace.project)


def test_public_client_with_pkce(portcullis, metadata, workspace):
    # A native app: registered loopback URI, any port at request time (RFC 8252 §7.3).
    app = portcullis.create_app(workspace.team, "http://127.0.0.1/callback", public=True)
    assert "client_secret" not in app
    redirect_uri = f"http://127.0.0.1:{secrets.choice(range(49152, 65536))}/callback"
    client = oauth_client(metadata, app, redirect_uri=redirect_uri)
    assert client.token_endpoint_auth_method == "none"

    token = authorize(portcullis, metadata, client, workspace, project=workspace.project)

    assert "Authorization" not in client.sent[-1].headers
    assert_token_format(token["access_token"], workspace.team, workspace.project)


def test_public_client_without_pkce_is_refused(portcullis, metadata, workspace):
    app = portcullis.create_app(workspace.team, "http://127.0.0.1/callback", public=True)
    client = oauth_client(metadata, app, redirect_uri="http://127.0.0.1/callback")
    url, state = client.create_authorization_url(metadata["authorization_endpoint"])  # no code_verifier
    assert "code_challenge" not in query_params(url)

    user_agent = UserAgent(portcullis, workspace.user)
    user_agent.login()
    response = user_agent.get(url)

    assert response.status_code == 303
    params = query_params(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert (params["state"], params["iss"]) == (state, metadata["issuer"])


def test_refresh_rotates_tokens(portcullis, metadata, workspace, backend):
    app = portcullis.create_app(workspace.team, REDIRECT_URI, token_ttl=3600)
    client = oauth_client(metadata, app)

    first = dict(authorize(portcullis, metadata, client, workspace, project=workspace.project))
    assert 0 < first["expires_in"] <= 3600
    assert first["refresh_token"]

    second = dict(client.refresh_token(metadata["token_endpoint"]))

    assert_token_format(second["access_token"], workspace.team, workspace.project)
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]  # rotated
    assert introspect(portcullis, backend, first["access_token"]) == {"active": False}
    current = introspect(portcullis, backend, second["access_token"])
    assert current["active"] is True
    assert current["client_id"] == app["client_id"]
    assert introspect(portcullis, backend, second["refresh_token"]) == {"active": False}  # not a bearer credential
