"""Helpers shared by the end-to-end tests: the `portcullis` process and CLI, test data, the
HTML forms of the login and consent pages, and the user's side of the flow (login + consent)
scripted with `requests`."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple"
HTTP_TIMEOUT = 30
# The URL-safe alphabet of a credential's secret part (SPEC §3).
SECRET = r"[A-Za-z0-9._-]+"


def portcullis_bin() -> Path:
    path = Path(os.environ.get("PORTCULLIS_BIN", "target/debug/portcullis"))
    return path if path.is_absolute() else REPO_ROOT / path


def unique(prefix: str) -> str:
    """A slug-safe name no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


# --- the server and its operator CLI -------------------------------------------------------------


class Portcullis:
    """The `portcullis` binary bound to one database: its operator CLI and one running server."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.bin = str(portcullis_bin())
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None

    def _env(self) -> dict:
        return {**os.environ, "PORTCULLIS_LOG": os.environ.get("E2E_SERVER_LOG", "warn"),
                # The agent test serves its client metadata document on loopback (SPEC §7).
                "PORTCULLIS_CLIENT_METADATA_ALLOW_LOOPBACK": "true"}

    def cli(self, *args: str) -> dict:
        """Runs `portcullis --database-url URL ARGS...` and returns the JSON object it prints."""
        result = subprocess.run(
            [self.bin, "--database-url", self.database_url, *args],
            capture_output=True, text=True, env=self._env(), timeout=120,
        )
        if result.returncode != 0:
            raise AssertionError(f"portcullis {' '.join(args)} failed: {result.stderr.strip()}")
        return json.loads(result.stdout)

    def start(self, timeout: float = 60) -> str:
        """Starts `portcullis serve` on a free port and returns its base URL."""
        self.process = subprocess.Popen(
            [self.bin, "--database-url", self.database_url, "serve", "--bind", "127.0.0.1:0"],
            stdout=subprocess.PIPE, text=True, env=self._env(),
        )
        found = threading.Event()

        def read_stdout():
            for line in self.process.stdout:
                match = re.match(r"portcullis listening on (\S+)", line)
                if match and not found.is_set():
                    self.base_url = match.group(1)
                    found.set()

        threading.Thread(target=read_stdout, daemon=True).start()
        if not found.wait(timeout):
            self.stop()
            raise RuntimeError("portcullis serve did not report its address")
        return self.base_url

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path)

    # --- test data ---

    def create_user(self) -> "User":
        email = f"{unique('user')}@example.com"
        self.cli("admin", "user", "create", "--email", email, "--name", "E2E User", "--password", PASSWORD)
        return User(email, PASSWORD)

    def create_team(self, owner: "User") -> str:
        slug = unique("team")
        self.cli("admin", "team", "create", "--slug", slug, "--name", f"Team {slug}", "--owner", owner.email)
        return slug

    def create_project(self, team: str) -> str:
        slug = unique("proj")
        self.cli("admin", "project", "create", "--team", team, "--slug", slug, "--name", f"Project {slug}")
        return slug

    def create_app(self, team: str, redirect_uri: str, *, public: bool = False,
                   token_ttl: int | None = None) -> dict:
        args = ["admin", "app", "create", "--team", team, "--name", unique("App"), "--redirect-uri", redirect_uri]
        if public:
            args.append("--public")
        if token_ttl is not None:
            args += ["--token-ttl", str(token_ttl)]
        return self.cli(*args)

    def create_backend(self) -> tuple[str, str]:
        backend = self.cli("admin", "backend", "create", "--name", unique("backend"))
        return backend["client_id"], backend["client_secret"]


@dataclasses.dataclass
class User:
    email: str
    password: str


@dataclasses.dataclass
class Workspace:
    """A user who belongs to one team holding one project."""
    user: User
    team: str
    project: str


def create_workspace(portcullis: Portcullis) -> Workspace:
    user = portcullis.create_user()
    team = portcullis.create_team(user)
    return Workspace(user, team, portcullis.create_project(team))


# --- OAuth bits ----------------------------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    """A PKCE (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def query_params(url: str) -> dict[str, str]:
    """The query parameters of a URL, each with its single value."""
    params = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(values) == 1 for values in params.values()), f"repeated parameter in {url}"
    return {name: values[0] for name, values in params.items()}


def assert_token_format(token: str, team: str, project: str | None = None) -> None:
    prefix = f"project:{team}:{project}" if project else f"team:{team}"
    assert re.fullmatch(re.escape(prefix) + r"\|" + SECRET, token), f"{token!r} is not {prefix}|<secret>"


def introspect(portcullis: Portcullis, backend: tuple[str, str], token: str) -> dict:
    """RFC 7662 introspection with backend credentials (HTTP Basic)."""
    response = requests.post(portcullis.url("/oauth/introspect"), data={"token": token},
                             auth=backend, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()


def exchange_code(metadata: dict, app: dict, code: str, redirect_uri: str, verifier: str) -> dict:
    """Redeems an authorization code at the token endpoint (client_secret_basic)."""
    response = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "code_verifier": verifier},
        auth=(app["client_id"], app["client_secret"]), timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- pages ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Form:
    action: str | None = None
    hidden: dict[str, str] = dataclasses.field(default_factory=dict)
    # select name -> list of (value, selected) of its options
    selects: dict[str, list[tuple[str, bool]]] = dataclasses.field(default_factory=dict)

    def selected(self, select: str) -> str | None:
        return next((value for value, selected in self.selects.get(select, []) if selected), None)

    def options(self, select: str) -> list[str]:
        return [value for value, _ in self.selects.get(select, [])]


class _FormParser(HTMLParser):
    """Reads the first <form> of a page (posting to `action`, when given; signed-in pages also
    have the account block's logout form): its hidden inputs and selects."""

    def __init__(self, action: str | None = None):
        super().__init__()
        self.action = action
        self.form: Form | None = None
        self._done = False
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if self._done:
            return
        if tag == "form" and self.form is None:
            if self.action is None or attrs.get("action") == self.action:
                self.form = Form(action=attrs.get("action"))
        elif self.form is None:
            return
        elif tag == "input" and attrs.get("type") == "hidden":
            self.form.hidden[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self._select = attrs["name"]
            self.form.selects[self._select] = []
        elif tag == "option" and self._select:
            self.form.selects[self._select].append((attrs.get("value", ""), "selected" in attrs))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "form" and self.form is not None:
            self._done = True


def parse_form(html: str, action: str | None = None) -> Form:
    parser = _FormParser(action)
    parser.feed(html)
    assert parser.form is not None, "the page has no form"
    return parser.form


class UserAgent:
    """The user's side of the flow with `requests`: a cookie jar, and redirects followed by hand so
    that the final redirect to the client's redirect URI is never fetched."""

    def __init__(self, portcullis: Portcullis, user: User):
        self.portcullis = portcullis
        self.user = user
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(self.portcullis.url(url), allow_redirects=False, timeout=HTTP_TIMEOUT)

    def post(self, url: str, data: dict) -> requests.Response:
        return self.http.post(self.portcullis.url(url), data=data, allow_redirects=False,
                              timeout=HTTP_TIMEOUT)

    def login(self, login_url: str = "/login") -> requests.Response:
        """Fills in and submits the login form at `login_url`; returns the 303 that follows."""
        login_page = self.get(login_url)
        assert login_page.status_code == 200, login_page.text
        fields = parse_form(login_page.text).hidden  # carries `next`
        response = self.post("/login", {**fields, "email": self.user.email, "password": self.user.password})
        assert response.status_code == 303, f"login failed: {response.status_code} {response.text}"
        return response

    def open_consent(self, authorization_url: str) -> requests.Response:
        """Starts the authorization request, logs in when sent to /login, and returns the consent page."""
        response = self.get(authorization_url)
        if response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/login":
            response = self.get(self.login(response.headers["Location"]).headers["Location"])
        assert response.status_code == 200, f"expected the consent page, got {response.status_code}: {response.text}"
        return response

    def consent(self, authorization_url: str, *, team: str, project: str | None = None,
                decision: str = "approve") -> str:
        """Logs in, approves (or denies) for `team` (and `project`), and returns the redirect Location.
        `team` must be the one the page selects (a user with one team)."""
        form = parse_form(self.open_consent(authorization_url).text, action="/oauth/authorize")
        assert form.selected("team") == team, f"{team} is not the selected team: {form.selects.get('team')}"
        fields = {**form.hidden, "team": team, "decision": decision}
        if project is not None:
            assert project in form.options("project"), f"{project} is not offered: {form.options('project')}"
            fields["project"] = project
        response = self.post(form.action, fields)
        assert response.status_code == 303, f"consent: {response.status_code} {response.text}"
        return response.headers["Location"]
