"""An MCP-style agent host (SPEC §7): configured with nothing but the issuer URL, it discovers the
server's metadata, identifies itself with a Client ID Metadata Document it serves itself (no
registration), asks for a token bound to an MCP server with an RFC 8707 `resource`, and the MCP
server checks the token's audience by introspection and `/v1/check`. Authlib is the client."""

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session

from helpers import HTTP_TIMEOUT, UserAgent, assert_token_format, create_workspace, introspect, query_params


class _Host(BaseHTTPRequestHandler):
    """The agent host's own web server: its client metadata document, and nothing else."""

    document: dict = {}
    fetches = 0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path != "/oauth/client.json":
            self.send_error(404)
            return
        type(self).fetches += 1
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "max-age=600")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_an_agent_with_only_the_issuer_url_gets_a_resource_bound_project_token(portcullis, backend, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # everything here is plain http on loopback
    workspace = create_workspace(portcullis)
    mcp_server = f"http://127.0.0.1:{secrets.randbelow(20000) + 20000}/mcp"
    portcullis.cli("admin", "resource", "create", "--uri", mcp_server)

    host, host_url = _serve(_Host)
    try:
        client_id = f"{host_url}/oauth/client.json"
        redirect_uri = f"{host_url}/oauth/callback"
        _Host.document = {"client_id": client_id, "client_name": "Agent Host", "redirect_uris": [redirect_uri],
                          "token_endpoint_auth_method": "none", "client_uri": host_url}

        # Discovery from the issuer alone (RFC 8414).
        issuer = portcullis.base_url.rstrip("/")
        metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=HTTP_TIMEOUT).json()
        assert metadata["client_id_metadata_document_supported"] is True
        assert "none" in metadata["token_endpoint_auth_methods_supported"]

        agent = OAuth2Session(client_id=client_id, scope="project", redirect_uri=redirect_uri,
                              code_challenge_method="S256", token_endpoint_auth_method="none",
                              token_endpoint=metadata["token_endpoint"])
        verifier = secrets.token_urlsafe(48)
        url, state = agent.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier,
                                                    resource=mcp_server)

        user = UserAgent(portcullis, workspace.user)
        page = user.open_consent(url).text
        assert urlsplit(host_url).hostname in page, "the consent page names the document's host"
        assert mcp_server in page, "and the resource server the token will be for"
        location = user.consent(url, team=workspace.team, project=workspace.project)
        assert location.startswith(redirect_uri + "?"), location
        assert query_params(location)["state"] == state

        token = agent.fetch_token(authorization_response=location, code_verifier=verifier, resource=mcp_server)
        assert_token_format(token["access_token"], workspace.team, workspace.project)
        assert token["expires_in"] == 3600 and token["refresh_token"], "a public client's token expires"
        assert _Host.fetches == 1, "the document was fetched once and cached"

        # The MCP server's side: introspection says who the token is for, /v1/check holds it to that.
        answer = introspect(portcullis, backend, token["access_token"])
        assert answer["active"] is True
        assert answer["aud"] == mcp_server
        assert answer["client_id"] == client_id
        assert answer["project_slug"] == workspace.project

        def check(resource_server):
            response = requests.post(portcullis.url("/v1/check"), auth=backend, timeout=HTTP_TIMEOUT, json={
                "token": token["access_token"], "action": "project:view",
                "resource": {"team": workspace.team, "project": workspace.project},
                "resource_server": resource_server})
            assert response.status_code == 200, response.text
            return response.json()

        assert check(mcp_server)["allowed"] is True
        assert check("http://127.0.0.1:1/elsewhere") == {"allowed": False, "reason": "wrong_audience"}

        # Refreshing keeps the binding.
        refreshed = agent.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
        assert introspect(portcullis, backend, refreshed["access_token"])["aud"] == mcp_server
    finally:
        host.shutdown()
