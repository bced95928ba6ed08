"""A real browser (Debian's headless Chromium through Selenium and /usr/bin/chromedriver) goes through
login and consent and really lands on the client's redirect URI, served by a tiny local server."""

import secrets
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from helpers import (HTTP_TIMEOUT, UserAgent, assert_token_format, create_workspace, exchange_code,
                     pkce_pair, query_params, unique)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 30


# --- fixtures ------------------------------------------------------------------------------------


class CallbackServer(ThreadingHTTPServer):
    """The client's redirect URI: answers 200 on /callback and records each query string."""

    def __init__(self):
        self.queries = []
        super().__init__(("127.0.0.1", 0), self._Handler)

    @property
    def redirect_uri(self):
        return f"http://127.0.0.1:{self.server_address[1]}/callback"

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path, _, query = self.path.partition("?")
            if path != "/callback":
                self.send_error(404)
                return
            self.server.queries.append(query)
            body = b"<!doctype html><title>Client callback</title><p>Authorization received.</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass


@pytest.fixture
def callback_server():
    server = CallbackServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(request):
    """A fresh headless Chromium (own profile, so no cookies from other tests). When the test
    fails, what the browser showed is saved as artifacts/<test>-failure.png."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("Chromium is missing: apt-get install -y chromium chromium-driver")
    with tempfile.TemporaryDirectory(prefix="portcullis-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-dev-shm-usage", "--no-first-run", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={profile}", "--window-size=1024,1200"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(WAIT_SECONDS)
        try:
            yield driver
            report = getattr(request.node, "report_call", None)
            if report is not None and report.failed:
                save_page_screenshot(driver, ARTIFACTS / f"{request.node.name}-failure.png")
        finally:
            driver.quit()


@pytest.fixture
def two_team_workspace(portcullis):
    """A user in two teams, each with a project, so the team picker matters."""
    workspace = create_workspace(portcullis)
    other_team = portcullis.create_team(workspace.user)
    projects = {workspace.team: workspace.project, other_team: portcullis.create_project(other_team)}
    return workspace, projects


# --- helpers -------------------------------------------------------------------------------------


def authorization_url(metadata, client_id, redirect_uri, challenge, scope="project"):
    state = secrets.token_urlsafe(16)
    query = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                       "scope": scope, "state": state, "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    return f"{metadata['authorization_endpoint']}?{query}", state


def wait(driver):
    return WebDriverWait(driver, WAIT_SECONDS)


def log_in(driver, user):
    """On the login page the server sent us to: fill in the form and submit it."""
    wait(driver).until(lambda d: "/login" in d.current_url)
    driver.find_element(By.NAME, "email").send_keys(user.email)
    password = driver.find_element(By.NAME, "password")
    password.send_keys(user.password)
    password.submit()
    wait(driver).until(lambda d: d.find_elements(By.NAME, "team") or d.find_elements(By.CSS_SELECTOR, "[role=alert]"))
    alerts = driver.find_elements(By.CSS_SELECTOR, "[role=alert]")
    if alerts:
        pytest.fail(f"the login was refused ({driver.title}): {alerts[0].text!r}")


def choose_team(driver, team):
    """Picks `team`; the page's script reloads the consent page with `team=<slug>`."""
    select = driver.find_element(By.NAME, "team")
    if Select(select).first_selected_option.get_attribute("value") == team:
        return
    Select(select).select_by_value(team)
    wait(driver).until(expected_conditions.staleness_of(select))
    wait(driver).until(lambda d: f"team={team}" in d.current_url)
    selected = Select(driver.find_element(By.NAME, "team")).first_selected_option
    assert selected.get_attribute("value") == team


def save_page_screenshot(driver, path):
    """Saves the whole page (the window is stretched to its height first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, driver.execute_script("return document.documentElement.scrollHeight") + 100)
    assert driver.save_screenshot(str(path))


def approve(driver, redirect_uri):
    """Clicks Approve and waits until the browser is at the redirect URI; returns its query."""
    driver.find_element(By.CSS_SELECTOR, "button[name=decision][value=approve]").click()
    wait(driver).until(lambda d: d.current_url.startswith(redirect_uri + "?"))
    return query_params(driver.current_url)


def assert_landed(params, callback_server, state, metadata):
    assert params.keys() >= {"code", "state", "iss"}
    assert params["state"] == state
    assert params["iss"] == metadata["issuer"]
    assert [query_params("?" + query) for query in callback_server.queries] == [params]


# --- tests ---------------------------------------------------------------------------------------


def test_browser_login_pick_team_and_project(portcullis, metadata, browser, callback_server, two_team_workspace):
    workspace, projects = two_team_workspace
    app = portcullis.create_app(workspace.team, callback_server.redirect_uri)
    verifier, challenge = pkce_pair()
    url, state = authorization_url(metadata, app["client_id"], callback_server.redirect_uri, challenge)

    browser.get(url)
    log_in(browser, workspace.user)
    initial = Select(browser.find_element(By.NAME, "team")).first_selected_option.get_attribute("value")
    team = next(slug for slug in projects if slug != initial)  # the team not shown first
    choose_team(browser, team)
    Select(browser.find_element(By.NAME, "project")).select_by_value(projects[team])
    save_page_screenshot(browser, ARTIFACTS / "consent.png")
    params = approve(browser, callback_server.redirect_uri)

    assert_landed(params, callback_server, state, metadata)
    assert "Authorization received" in browser.page_source
    token = exchange_code(metadata, app, params["code"], callback_server.redirect_uri, verifier)
    assert_token_format(token["access_token"], team, projects[team])


def test_browser_creates_project_on_consent(portcullis, metadata, browser, callback_server):
    workspace = create_workspace(portcullis)
    app = portcullis.create_app(workspace.team, callback_server.redirect_uri)
    verifier, challenge = pkce_pair()
    url, state = authorization_url(metadata, app["client_id"], callback_server.redirect_uri, challenge)
    new_project = unique("new")

    browser.get(url)
    log_in(browser, workspace.user)
    browser.find_element(By.NAME, "new_project_name").send_keys(f"Project {new_project}")
    browser.find_element(By.NAME, "new_project_slug").send_keys(new_project)
    params = approve(browser, callback_server.redirect_uri)

    assert_landed(params, callback_server, state, metadata)
    token = exchange_code(metadata, app, params["code"], callback_server.redirect_uri, verifier)
    assert_token_format(token["access_token"], workspace.team, new_project)


def test_consent_page_security_headers(portcullis, metadata):
    workspace = create_workspace(portcullis)
    app = portcullis.create_app(workspace.team, "https://client.example.test/callback")
    _, challenge = pkce_pair()
    url, _ = authorization_url(metadata, app["client_id"], "https://client.example.test/callback", challenge)

    page = UserAgent(portcullis, workspace.user).open_consent(url)

    assert 'name="decision"' in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_browser_logs_out_through_the_page(portcullis, browser):
    workspace = create_workspace(portcullis)
    browser.get(portcullis.url("/logout"))
    assert "You are not logged in" in browser.page_source
    browser.find_element(By.LINK_TEXT, "Log in").click()
    wait(browser).until(lambda d: "/login" in d.current_url)
    browser.get(portcullis.url("/login?next=/logout"))
    browser.find_element(By.NAME, "email").send_keys(workspace.user.email)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(workspace.user.password)
    password.submit()
    wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "main form[action='/logout'] button"))
    assert browser.get_cookie("portcullis_session") is not None

    browser.find_element(By.CSS_SELECTOR, "main form[action='/logout'] button").click()
    wait(browser).until(lambda d: "You are logged out" in d.page_source)
    assert browser.get_cookie("portcullis_session") is None
    browser.get(portcullis.url("/settings/authorized-apps"))
    wait(browser).until(lambda d: "/login" in d.current_url)


def check(portcullis, backend, token, action, deployment):
    """`POST /v1/check` with the backend credential: is `action` on `deployment` allowed?"""
    response = requests.post(portcullis.url("/v1/check"), auth=backend, timeout=HTTP_TIMEOUT,
                             json={"token": token, "action": action, "resource": {"deployment": deployment}})
    assert response.status_code == 200, response.text
    return response.json()["allowed"]


def test_browser_creates_copies_and_revokes_a_deploy_key(portcullis, backend, browser):
    workspace = create_workspace(portcullis)
    deployment = portcullis.cli("admin", "deployment", "create", "--team", workspace.team,
                                "--project", workspace.project, "--type", "prod")["name"]
    settings = portcullis.url(f"/teams/{workspace.team}/settings")
    name = unique("ci")

    # The settings land on deploy keys, through the login page.
    browser.get(settings)
    wait(browser).until(lambda d: "/login" in d.current_url)
    browser.find_element(By.NAME, "email").send_keys(workspace.user.email)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(workspace.user.password)
    password.submit()
    wait(browser).until(lambda d: d.current_url.endswith("/settings/deploy-keys"))
    assert browser.find_element(By.CSS_SELECTOR, "nav[aria-label='Team settings'] [aria-current=page]").text == "Deploy keys"

    browser.find_element(By.ID, "name").send_keys(name)
    Select(browser.find_element(By.ID, "target")).select_by_value(f"deployment:{deployment}")
    Select(browser.find_element(By.ID, "expires_in")).select_by_visible_text("7 days")
    browser.find_element(By.CSS_SELECTOR, "form[method=post] button.primary").click()

    # Shown once, in a readonly input, with a Copy button that puts it on the clipboard.
    field = wait(browser).until(lambda d: d.find_element(By.ID, "credential"))
    key = field.get_attribute("value")
    assert field.get_attribute("readonly") is not None
    assert key.startswith(f"prod:{deployment}|")
    assert f"PORTCULLIS_DEPLOY_KEY={key}" in browser.find_element(By.CSS_SELECTOR, "pre.ci-line").text
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": portcullis.url("/").rstrip("/"),
        "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
    })
    browser.find_element(By.CSS_SELECTOR, "button[data-copy=credential]").click()
    wait(browser).until(lambda d: "Copied" in d.find_element(By.ID, "copy-status").text)
    copied = browser.execute_async_script("navigator.clipboard.readText().then(arguments[arguments.length - 1])")
    assert copied == key
    save_page_screenshot(browser, ARTIFACTS / "deploy-key-created.png")

    assert check(portcullis, backend, copied, "deployment:deploy", deployment) is True

    # Readable on a phone: nothing wider than the screen but the scrolling table.
    browser.get(f"{settings}/deploy-keys")
    browser.set_window_size(375, 800)
    overflow = browser.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 375px screen"
    browser.set_window_size(1024, 1200)

    # Revoke through the confirmation page.
    browser.find_element(By.CSS_SELECTOR, f"a[aria-label^='Revoke {name} ']").click()
    wait(browser).until(lambda d: d.current_url.endswith("/revoke"))
    assert name in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, "main form button.danger").click()
    wait(browser).until(lambda d: "Deploy key revoked" in d.page_source)
    assert check(portcullis, backend, copied, "deployment:deploy", deployment) is False
