//! A test world: one database, one server, and builders for the things tests need.

use reqwest::blocking::{Client, Response};
use serde_json::Value;

use crate::harness::{self, PASSWORD, Server, TestDb, browser, cli, http, location, param, pkce, unique};

pub struct World {
    pub server: Server,
    pub db: TestDb,
}

#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub struct Backend {
    pub id: String,
    pub secret: String,
}

/// What the consent asks for.
#[derive(Debug, Clone)]
pub enum Grant<'a> {
    Project { team: &'a str, project: &'a str },
    Team { team: &'a str },
}

impl World {
    pub fn new() -> World {
        World::with_env(&[])
    }

    pub fn with_env(env: &[(&str, &str)]) -> World {
        let db = TestDb::new();
        let server = Server::start(&db.url, env);
        World { server, db }
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// A connection to the test's database, for asserting what was (not) written.
    pub fn conn(&self) -> portcullis::db::DbConnection {
        let url: portcullis::db::DatabaseUrl = self.db.url.parse().expect("database URL");
        portcullis::db::pool::open(&url).expect("open the test database")
    }

    /// Runs an operator command that must succeed.
    pub fn cli(&self, args: &[&str]) -> Value {
        cli(&self.db.url, args).unwrap_or_else(|e| panic!("portcullis {args:?} failed: {e}"))
    }

    pub fn user(&self) -> String {
        let email = format!("{}@example.com", unique("user"));
        self.cli(&["admin", "user", "create", "--email", &email, "--name", "Test User", "--password", PASSWORD]);
        email
    }

    pub fn team(&self, owner: &str) -> String {
        let slug = unique("team");
        self.cli(&["admin", "team", "create", "--slug", &slug, "--name", &format!("Team {slug}"), "--owner", owner]);
        slug
    }

    pub fn member(&self, team: &str, email: &str, role: &str) {
        self.cli(&["admin", "member", "add", "--team", team, "--email", email, "--role", role]);
    }

    pub fn project(&self, team: &str) -> String {
        let slug = unique("proj");
        self.cli(&[
            "admin",
            "project",
            "create",
            "--team",
            team,
            "--slug",
            &slug,
            "--name",
            &format!("Project {slug}"),
        ]);
        slug
    }

    /// Registers a deployment of `deployment_type` (`prod`, `dev`, `preview`, `custom`); its name.
    pub fn deployment(&self, team: &str, project: &str, deployment_type: &str) -> String {
        let out = self.cli(&[
            "admin",
            "deployment",
            "create",
            "--team",
            team,
            "--project",
            project,
            "--type",
            deployment_type,
        ]);
        out["name"].as_str().unwrap().to_owned()
    }

    /// `admin deploy-key create` with `args`: the output (with the key, shown once).
    pub fn deploy_key(&self, args: &[&str]) -> Value {
        let mut full = vec!["admin", "deploy-key", "create", "--name", "CI"];
        full.extend_from_slice(args);
        self.cli(&full)
    }

    fn create_app(&self, team: &str, extra: &[&str]) -> App {
        let redirect_uri = format!("https://{}.client.example/callback", unique("app"));
        self.app_with_uris(team, &[&redirect_uri], extra)
    }

    /// An app registered with exactly `uris` (the first is its [`App::redirect_uri`]) and the
    /// extra `admin app create` flags.
    pub fn app_with_uris(&self, team: &str, uris: &[&str], extra: &[&str]) -> App {
        let mut args = vec!["admin", "app", "create", "--team", team, "--name", "Test Integration"];
        for uri in uris {
            args.extend(["--redirect-uri", uri]);
        }
        args.extend_from_slice(extra);
        let out = self.cli(&args);
        App {
            client_id: out["client_id"].as_str().unwrap().to_owned(),
            secret: out["client_secret"].as_str().map(str::to_owned),
            redirect_uri: uris[0].to_owned(),
        }
    }

    /// A confidential app with non-expiring tokens.
    pub fn app(&self, team: &str) -> App {
        self.create_app(team, &[])
    }

    pub fn public_app(&self, team: &str) -> App {
        self.create_app(team, &["--public"])
    }

    /// A confidential app with expiring tokens and refresh tokens.
    pub fn expiring_app(&self, team: &str) -> App {
        self.create_app(team, &["--token-ttl", "3600"])
    }

    pub fn backend(&self) -> Backend {
        let out = self.cli(&["admin", "backend", "create", "--name", "Platform API"]);
        Backend {
            id: out["client_id"].as_str().unwrap().to_owned(),
            secret: out["client_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// A browser logged in as `email`.
    pub fn login(&self, email: &str) -> Client {
        let client = browser();
        let response =
            client.post(self.url("/login")).form(&[("email", email), ("password", PASSWORD)]).send().expect("login");
        assert_eq!(response.status(), 303, "login as {email} failed");
        client
    }

    /// The authorization request's query for `app` (with PKCE, state "st-1", `scope`).
    pub fn authorize_query(&self, app: &App, scope: &str, challenge: &str) -> Vec<(String, String)> {
        [
            ("response_type", "code"),
            ("client_id", app.client_id.as_str()),
            ("redirect_uri", app.redirect_uri.as_str()),
            ("scope", scope),
            ("state", "st-1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Shows the consent page and submits it with `choice` (e.g. team, project, decision).
    pub fn consent(&self, browser: &Client, query: &[(String, String)], choice: &[(&str, &str)]) -> Response {
        let page = browser.get(self.url("/oauth/authorize")).query(query).send().expect("authorize");
        assert_eq!(page.status(), 200, "consent page expected");
        let mut form = harness::hidden_inputs(&page.text().unwrap());
        form.extend(choice.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        browser.post(self.url("/oauth/authorize")).form(&form).send().expect("consent")
    }

    /// Logs `email` in, approves `grant` for `app`; returns (code, verifier).
    pub fn code_for(&self, email: &str, app: &App, grant: Grant) -> (String, String) {
        let browser = self.login(email);
        self.code_in(&browser, app, grant)
    }

    pub fn code_in(&self, browser: &Client, app: &App, grant: Grant) -> (String, String) {
        let (verifier, challenge) = pkce();
        let (scope, choice) = match grant {
            Grant::Project { team, project } => {
                ("project", vec![("team", team), ("project", project), ("decision", "approve")])
            }
            Grant::Team { team } => ("team", vec![("team", team), ("decision", "approve")]),
        };
        let response = self.consent(browser, &self.authorize_query(app, scope, &challenge), &choice);
        assert_eq!(response.status(), 303, "approval failed: {}", response.text().unwrap_or_default());
        let redirect = location(&response);
        let code = param(&redirect, "code").unwrap_or_else(|| panic!("no code in {redirect}"));
        (code, verifier)
    }

    /// Redeems a code with the app's credentials (Basic for confidential apps).
    pub fn exchange(&self, app: &App, code: &str, verifier: &str) -> Response {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", app.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        self.post_as(app, "/oauth/token", &form)
    }

    /// Posts `form` and the app's `client_id` to `path` as the app: with its secret by Basic
    /// when it is confidential, as a public client otherwise.
    pub fn post_as(&self, app: &App, path: &str, form: &[(&str, &str)]) -> Response {
        let mut form = form.to_vec();
        form.push(("client_id", &app.client_id));
        let request = http().post(self.url(path)).form(&form);
        match &app.secret {
            Some(secret) => request.basic_auth(&app.client_id, Some(secret)),
            None => request,
        }
        .send()
        .expect("request as the app")
    }

    /// The full flow: the token response JSON for `email` granting `grant` to `app`.
    pub fn tokens(&self, email: &str, app: &App, grant: Grant) -> Value {
        let (code, verifier) = self.code_for(email, app, grant);
        let response = self.exchange(app, &code, &verifier);
        assert_eq!(response.status(), 200, "token exchange failed");
        response.json().unwrap()
    }

    pub fn access_token(&self, email: &str, app: &App, grant: Grant) -> String {
        self.tokens(email, app, grant)["access_token"].as_str().unwrap().to_owned()
    }

    pub fn introspect(&self, backend: &Backend, token: &str) -> Value {
        let response = http()
            .post(self.url("/oauth/introspect"))
            .basic_auth(&backend.id, Some(&backend.secret))
            .form(&[("token", token)])
            .send()
            .expect("introspect");
        assert_eq!(response.status(), 200);
        response.json().unwrap()
    }

    pub fn is_active(&self, backend: &Backend, token: &str) -> bool {
        let answer = self.introspect(backend, token);
        if answer["active"] == false {
            assert_eq!(
                answer,
                serde_json::json!({ "active": false }),
                "inactive must be exactly {{\"active\": false}}"
            );
        }
        answer["active"] == true
    }

    /// A user with a team and a project: (email, team, project).
    pub fn owner_with_project(&self) -> (String, String, String) {
        let email = self.user();
        let team = self.team(&email);
        let project = self.project(&team);
        (email, team, project)
    }
}

/// The usual starting point: an owner with a team, a project and a confidential app.
pub struct Scene {
    pub world: World,
    pub email: String,
    pub team: String,
    pub project: String,
    pub app: App,
}

impl Scene {
    pub fn new() -> Scene {
        let world = World::new();
        let (email, team, project) = world.owner_with_project();
        let app = world.app(&team);
        Scene { world, email, team, project, app }
    }

    /// A fresh code for the owner's project: (code, verifier).
    pub fn code(&self) -> (String, String) {
        self.world.code_for(&self.email, &self.app, Grant::Project { team: &self.team, project: &self.project })
    }
}
