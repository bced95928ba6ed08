"""A real browser (Debian's headless Chromium through Selenium and /usr/bin/chromedriver) goes through
login and consent and really lands on the client's redirect URI, served by a tiny local server; a
team admin registers an OAuth app in the team settings and revokes its grant there; and every page
on the way passes axe-core (no serious or critical violation), fits a 375 px wide screen and
reaches the tab bar before the main form with the keyboard."""

import secrets
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from helpers import (HTTP_TIMEOUT, UserAgent, assert_token_format, create_workspace, exchange_code,
                     introspect, pkce_pair, query_params, unique)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Pinned in package.json / package-lock.json; run.sh installs it (`npm ci`).
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 375
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


def axe_violations(driver):
    """Runs axe-core on the current page: its serious and critical violations."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: npm ci --prefix tests/e2e")
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(AXE.read_text())
    results = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations), e => done({error: String(e)}));")
    assert not isinstance(results, dict), f"axe.run failed: {results}"
    return [v for v in results if v["impact"] in ("serious", "critical")]


def describe(violations):
    return "\n".join(
        f"  {v['impact']} {v['id']}: {v['help']} ({v['helpUrl']})\n"
        + "\n".join(f"    {node['target']}: {node['failureSummary']}" for node in v["nodes"])
        for v in violations)


def emulate(driver, width=None, scheme="light"):
    """Emulates a viewport `width` CSS pixels wide (a phone's, with its viewport meta tag; None:
    the window's own) and `prefers-color-scheme: <scheme>` (the stylesheet has a dark palette)."""
    if width is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def accessibility_problems(driver, name):
    """What keeps the current page from passing: axe-core's serious and critical violations at
    desktop and at phone width, in light and dark colors, and anything wider than a 375 px
    screen. Printed as found."""
    problems = []
    try:
        for width, scheme in ((None, "light"), (PHONE_WIDTH, "light"), (None, "dark")):
            emulate(driver, width, scheme)
            label = f"{name} at {width or 'desktop'} width, {scheme}"
            if width is not None:
                assert driver.execute_script("return window.innerWidth") == width
                scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
                if scroll_width > width:
                    problems.append(f"{label}: {scroll_width}px wide")
            violations = axe_violations(driver)
            if violations:
                print(f"axe on {label} ({driver.current_url}):\n{describe(violations)}")
                problems.append(f"{label}: axe {', '.join(v['id'] for v in violations)}")
    finally:
        emulate(driver)
    return problems


def assert_accessible(driver, name):
    problems = accessibility_problems(driver, name)
    assert not problems, "\n".join(problems)


def focus_order(driver, url, limit=40):
    """Where the keyboard goes from the top of the freshly loaded page at `url`: for each Tab,
    "tabs" (the team settings tab bar), "form" (a form in the page's main content) or "other"."""
    driver.get(url)
    assert driver.execute_script("return document.activeElement === document.body")
    order = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        order.append(driver.execute_script(
            "const e = document.activeElement;"
            "return e.closest('nav.tabs') ? 'tabs' : e.closest('main form') ? 'form' : 'other'"))
    return order


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


def test_team_admin_registers_an_app_authorizes_it_and_revokes_the_grant(
        portcullis, metadata, backend, browser, callback_server, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback
    workspace = create_workspace(portcullis)
    settings = portcullis.url(f"/teams/{workspace.team}/settings")
    app_name = f"Browser app {unique('x')}"

    # Sent to the login page on the way to the apps tab.
    browser.get(f"{settings}/apps")
    wait(browser).until(lambda d: "/login" in d.current_url)
    assert_accessible(browser, "login")
    browser.find_element(By.NAME, "email").send_keys(workspace.user.email)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(workspace.user.password)
    password.submit()
    wait(browser).until(lambda d: d.current_url == f"{settings}/apps")
    assert_accessible(browser, "apps")

    # Register it: the client id and the secret are shown once.
    browser.find_element(By.ID, "name").send_keys(app_name)
    browser.find_element(By.ID, "redirect_uris").send_keys(callback_server.redirect_uri)
    browser.find_element(By.CSS_SELECTOR, "main form[method=post] button.primary").click()
    secret_field = wait(browser).until(lambda d: d.find_element(By.ID, "credential"))
    facts = dict(zip((dt.text for dt in browser.find_elements(By.CSS_SELECTOR, ".facts dt")),
                     (dd.text for dd in browser.find_elements(By.CSS_SELECTOR, ".facts dd"))))
    client_id, client_secret = facts["Client ID"], secret_field.get_attribute("value")
    assert client_id and client_secret
    assert_accessible(browser, "app secret shown once")

    # Authlib builds the authorization request and redeems the code with that secret; the
    # consent is approved in the browser, which is still signed in.
    client = OAuth2Session(client_id=client_id, client_secret=client_secret, scope="project",
                           redirect_uri=callback_server.redirect_uri, code_challenge_method="S256",
                           token_endpoint=metadata["token_endpoint"])
    verifier = secrets.token_urlsafe(48)
    url, state = client.create_authorization_url(metadata["authorization_endpoint"], code_verifier=verifier)
    browser.get(url)
    wait(browser).until(lambda d: d.find_elements(By.NAME, "team"))
    assert app_name in browser.find_element(By.TAG_NAME, "main").text
    Select(browser.find_element(By.NAME, "project")).select_by_value(workspace.project)
    assert_accessible(browser, "consent")
    params = approve(browser, callback_server.redirect_uri)
    assert_landed(params, callback_server, state, metadata)
    token = client.fetch_token(authorization_response=browser.current_url, code_verifier=verifier)
    access_token = token["access_token"]
    assert_token_format(access_token, workspace.team, workspace.project)
    answer = introspect(portcullis, backend, access_token)
    assert answer["active"] is True and answer["client_id"] == client_id

    # Revoke the grant from the team's page: the very next introspection says inactive.
    browser.get(f"{settings}/authorized-apps")
    assert browser.find_element(By.CSS_SELECTOR, "nav.tabs [aria-current=page]").text == "Authorizations"
    assert_accessible(browser, "team authorizations")
    browser.find_element(By.CSS_SELECTOR, f"button[aria-label^='Revoke {app_name} ']").click()
    wait(browser).until(lambda d: "Access revoked" in d.page_source)
    assert app_name not in browser.find_element(By.TAG_NAME, "main").text
    assert introspect(portcullis, backend, access_token) == {"active": False}


def test_every_team_settings_page_passes_axe_fits_a_phone_and_tabs_to_the_tab_bar_first(portcullis, browser):
    workspace = create_workspace(portcullis)
    team = workspace.team
    other = portcullis.create_user()
    portcullis.cli("admin", "member", "add", "--team", team, "--email", other.email, "--role", "developer")
    deployment = portcullis.cli("admin", "deployment", "create", "--team", team, "--project", workspace.project,
                                "--type", "dev")["name"]
    portcullis.cli("admin", "role", "create", "--team", team, "--name", "viewer", "--statements",
                   '[{"effect":"allow","actions":["project:view"],"resource":"project:*"}]')
    app = portcullis.create_app(team, "https://client.example.test/callback")
    portcullis.cli("admin", "deploy-key", "create", "--deployment", deployment, "--name", "ci")
    settings = portcullis.url(f"/teams/{team}/settings")

    browser.get(portcullis.url("/login?next=/settings/authorized-apps"))
    browser.find_element(By.NAME, "email").send_keys(workspace.user.email)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(workspace.user.password)
    password.submit()
    wait(browser).until(lambda d: d.current_url.endswith("/settings/authorized-apps"))
    assert_accessible(browser, "authorized applications")

    browser.get(f"{settings}/members")
    tabs = ["members", "projects", "apps", "deploy-keys", "deployments", "roles", "authorized-apps", "audit"]
    offered = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "nav.tabs a")]
    assert offered == [f"{settings}/{tab}" for tab in tabs], f"the tab bar offers {offered}"
    member_links = [a.get_attribute("href") for a in browser.find_elements(
        By.CSS_SELECTOR, f"main a[href^='/teams/{team}/settings/members/']")]
    assert member_links, "the other member can be changed and removed"
    browser.get(f"{settings}/deploy-keys")
    key_revoke = browser.find_element(By.CSS_SELECTOR, "main a[href$='/revoke']").get_attribute("href")
    pages = offered + member_links + [key_revoke] + [
        f"{settings}/apps/{app['client_id']}",  # app edit
        f"{settings}/apps/{app['client_id']}/secret",  # confirmation pages
        f"{settings}/apps/{app['client_id']}/delete",
        f"{settings}/projects/{workspace.project}",
        f"{settings}/projects/{workspace.project}/delete",
        f"{settings}/roles/viewer",
        f"{settings}/roles/viewer/delete",
        f"{settings}/deployments/{deployment}/delete",
    ]
    problems = []
    for page in pages:
        browser.get(page)
        assert browser.find_elements(By.CSS_SELECTOR, "nav.tabs"), f"{page} has the tab bar"
        problems += accessibility_problems(browser, page.removeprefix(settings))
    assert not problems, "\n".join(problems)

    # The keyboard meets the tab bar before the form of the page.
    for page in (f"{settings}/members", f"{settings}/apps", f"{settings}/deploy-keys"):
        order = focus_order(browser, page)
        assert "tabs" in order and "form" in order, f"{page}: Tab reaches {order}"
        assert order.index("tabs") < order.index("form"), f"{page}: Tab order {order}"


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


def test_a_cli_logs_in_with_the_device_flow_approved_in_the_browser(portcullis, metadata, backend, browser):
    """RFC 8628 driven by Authlib on the device's side and Chromium on the user's: the code
    from verification_uri_complete is pre-filled, the consent shows it, and the grant is an
    ordinary one — listed under the device's name and revoked from the authorized-apps page."""
    import time

    from authlib.integrations.base_client.errors import OAuthError

    workspace = create_workspace(portcullis)
    app = portcullis.create_app(workspace.team, "http://127.0.0.1/unused", public=True)
    assert metadata["device_authorization_endpoint"] == portcullis.url("/oauth/device_authorization")
    grant_type = "urn:ietf:params:oauth:grant-type:device_code"
    assert grant_type in metadata["grant_types_supported"]

    device = OAuth2Session(client_id=app["client_id"], token_endpoint_auth_method="none",
                           token_endpoint=metadata["token_endpoint"])
    started = device.post(metadata["device_authorization_endpoint"], timeout=HTTP_TIMEOUT, withhold_token=True,
                          data={"client_id": app["client_id"], "scope": "project", "device_name": "e2e laptop"})
    assert started.status_code == 200, started.text
    started = started.json()

    def poll():
        return device.fetch_token(metadata["token_endpoint"], grant_type=grant_type,
                                  device_code=started["device_code"])

    with pytest.raises(OAuthError) as pending:
        poll()
    assert pending.value.error == "authorization_pending"
    polled_at = time.monotonic()

    browser.get(started["verification_uri_complete"])
    wait(browser).until(lambda d: "/login" in d.current_url)
    browser.find_element(By.NAME, "email").send_keys(workspace.user.email)
    password = browser.find_element(By.NAME, "password")
    password.send_keys(workspace.user.password)
    password.submit()
    code_input = wait(browser).until(lambda d: d.find_element(By.NAME, "user_code"))
    assert code_input.get_attribute("value") == started["user_code"]
    assert_accessible(browser, "device code entry")
    code_input.submit()
    wait(browser).until(lambda d: d.find_elements(By.NAME, "team"))
    assert browser.find_element(By.ID, "user-code").text == started["user_code"]
    Select(browser.find_element(By.NAME, "project")).select_by_value(workspace.project)
    assert_accessible(browser, "device consent")
    browser.find_element(By.CSS_SELECTOR, "button[name=decision][value=approve]").click()
    wait(browser).until(lambda d: "Device connected" in d.page_source)
    assert_accessible(browser, "device connected")

    time.sleep(max(0.0, started["interval"] + 0.5 - (time.monotonic() - polled_at)))
    token = poll()
    assert_token_format(token["access_token"], workspace.team, workspace.project)
    assert token["expires_in"] == 3600 and token["refresh_token"]
    answer = introspect(portcullis, backend, token["access_token"])
    assert answer["active"] is True and answer["client_id"] == app["client_id"]

    browser.get(portcullis.url("/settings/authorized-apps"))
    browser.find_element(By.CSS_SELECTOR, f"button[aria-label^='Revoke {app['name']} on e2e laptop']").click()
    wait(browser).until(lambda d: "Access revoked" in d.page_source)
    assert introspect(portcullis, backend, token["access_token"]) == {"active": False}
