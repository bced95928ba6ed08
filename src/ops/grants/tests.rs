//! Expiry, with the clock passed in: no test sleeps.

use super::*;
use crate::db::DatabaseUrl;
use crate::db::models::{credential_changes, grants};
use crate::domain::Slug;
use crate::domain::{AppName, DisplayName, Email, Password, RedirectUris};
use crate::ops::Actor;
use crate::ops::{self, verify};
use crate::tokens::SecretHash;

const POLICY: GrantPolicy = GrantPolicy {
    code_ttl: Duration::minutes(10),
    refresh_ttl: Duration::days(30),
    unverified_app_team_limit: 100,
    public_token_ttl_seconds: 3600,
    device_code_ttl: Duration::minutes(10),
};

/// A refresh that asks for nothing beyond the grant.
const ASK_NOTHING: RefreshAsk = RefreshAsk { scope: None, audience: None };

struct Fixture {
    _dir: tempfile::TempDir,
    conn: DbConnection,
    app: App,
    user_id: i64,
    team: Slug,
    project: Slug,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url: DatabaseUrl = format!("sqlite://{}", dir.path().join("t.db").display()).parse().unwrap();
    let (mut conn, _) = crate::db::pool::connect_and_migrate(&url).unwrap();
    let actor = Actor::Cli;
    let email = Email::parse("ada@example.com").unwrap();
    let name = DisplayName::parse("Ada").unwrap();
    let user = ops::users::create(&mut conn, &actor, &email, &name, &Password::parse("long-enough").unwrap()).unwrap();
    let (team, project) = (Slug::parse("acme").unwrap(), Slug::parse("web").unwrap());
    ops::teams::create(&mut conn, &actor, &team, &name, &email).unwrap();
    ops::projects::create(&mut conn, &actor, &team, &project, &name).unwrap();
    let created = ops::apps::create(
        &mut conn,
        &actor,
        &ops::apps::NewAppParams {
            team: &team,
            name: &AppName::parse("Expiring").unwrap(),
            redirect_uris: &RedirectUris::parse(&["https://c.example/cb"]).unwrap(),
            public: false,
            token_ttl: Some(3600),
        },
    )
    .unwrap();
    let app = apps::find_by_client_id(&mut conn, &created.client_id).unwrap().unwrap();
    Fixture { _dir: dir, conn, app, user_id: user.id, team, project }
}

impl Fixture {
    fn code(&mut self) -> String {
        self.code_for(Scope::Project)
    }

    /// A code for a grant on the fixture's project, or team-wide.
    fn code_for(&mut self, scope: Scope) -> String {
        let approval = Approval {
            app: &self.app,
            user_id: self.user_id,
            team: &self.team,
            project: match scope {
                Scope::Project => ProjectChoice::Existing(&self.project),
                Scope::Team => ProjectChoice::None,
            },
            scope,
            redirect_uri: "https://c.example/cb",
            code_challenge: None,
            resources: None,
        };
        approve(&mut self.conn, &Actor::Cli, &approval, &POLICY).unwrap()
    }

    fn redeem(&mut self, code: &str) -> Redeemed {
        let now = crate::db::now();
        let row = find_code(&mut self.conn, code, now).unwrap().expect("a live code");
        redeem_code(&mut self.conn, &self.app, &row, None, &POLICY, None, now).unwrap()
    }

    fn tokens(&mut self) -> IssuedTokens {
        self.tokens_for(Scope::Project)
    }

    fn tokens_for(&mut self, scope: Scope) -> IssuedTokens {
        let code = self.code_for(scope);
        let Redeemed::Issued(tokens) = self.redeem(&code) else { panic!("fresh code") };
        tokens
    }

    /// The id of the grant whose access token is `token`.
    fn grant_of(&mut self, token: &str) -> i64 {
        grants::find_by_access_hash(&mut self.conn, SecretHash::of(token).as_str()).unwrap().expect("its grant").id
    }

    /// The fixture's user revokes `grant_id` through the application token `token` (as `/v1`
    /// does).
    fn revoke_through(&mut self, token: &str, grant_id: i64) -> OpResult<()> {
        let actor = Actor::Token {
            credential: token.to_owned().into(),
            client_id: self.app.client_id.clone(),
            user_id: self.user_id,
            client_ip: None,
        };
        revoke(&mut self.conn, &actor, grant_id)
    }
}

#[test]
fn codes_expire_after_their_ttl() {
    let mut f = fixture();
    let code = f.code();
    let later = crate::db::now() + POLICY.code_ttl + Duration::seconds(1);
    assert!(find_code(&mut f.conn, &code, later).unwrap().is_none());
    assert!(matches!(f.redeem(&code), Redeemed::Issued(_)));
    assert!(matches!(f.redeem(&code), Redeemed::Replayed));
}

/// Finding a code is what every check before redemption does: it must spend nothing.
#[test]
fn finding_a_code_does_not_spend_it() {
    let mut f = fixture();
    let code = f.code();
    for _ in 0..3 {
        let row = find_code(&mut f.conn, &code, crate::db::now()).unwrap().unwrap();
        assert!(row.redeemed_at.is_none());
    }
    assert!(matches!(f.redeem(&code), Redeemed::Issued(_)));
}

#[test]
fn access_tokens_of_expiring_apps_stop_at_their_expiry() {
    let mut f = fixture();
    let tokens = f.tokens();
    assert_eq!(tokens.expires_in, Some(3600));
    let now = crate::db::now();
    assert!(verify::verify(&mut f.conn, &tokens.access_token, now).unwrap().is_some());
    let after = now + Duration::seconds(3601);
    assert!(verify::verify(&mut f.conn, &tokens.access_token, after).unwrap().is_none());
}

/// Issuing and refreshing are frequent: they must not empty the verification caches.
#[test]
fn issuing_logs_no_change_and_a_refresh_names_only_the_rotated_token() {
    let mut f = fixture();
    let before = credential_changes::head(&mut f.conn).unwrap();
    let tokens = f.tokens();
    assert_eq!(credential_changes::head(&mut f.conn).unwrap(), before, "issuing a grant changes no answer");
    let refresh_token = tokens.refresh_token.unwrap();
    let refreshed =
        refresh(&mut f.conn, &f.app, &refresh_token, &ASK_NOTHING, &POLICY, None, crate::db::now()).unwrap();
    assert!(refreshed.is_ok());
    let logged: Vec<_> =
        credential_changes::after(&mut f.conn, before).unwrap().into_iter().map(|c| c.token_hash).collect();
    assert_eq!(logged, vec![Some(SecretHash::of(&tokens.access_token).into_string())]);
}

#[test]
fn refresh_tokens_expire_after_their_ttl() {
    let mut f = fixture();
    let tokens = f.tokens();
    let refresh_token = tokens.refresh_token.unwrap();
    let later = crate::db::now() + POLICY.refresh_ttl + Duration::seconds(1);
    let refused = refresh(&mut f.conn, &f.app, &refresh_token, &ASK_NOTHING, &POLICY, None, later).unwrap();
    assert!(matches!(refused, Err(RefreshRefused::InvalidGrant)));
    let refreshed =
        refresh(&mut f.conn, &f.app, &refresh_token, &ASK_NOTHING, &POLICY, None, crate::db::now()).unwrap();
    assert!(refreshed.is_ok(), "still valid now");
}

/// An application token revokes what its user's role allows within the token's scope (SPEC §2):
/// a team admin's project token ends grants on its project but never a team-wide one (only the
/// team's admins, acting on the whole team, reach those); their team token does.
#[test]
fn tokens_revoke_grants_within_their_scope() {
    let mut f = fixture();
    let project_token = f.tokens().access_token;
    let team_token = f.tokens_for(Scope::Team).access_token;
    let (on_project, team_wide) = {
        let other = f.tokens().access_token;
        (f.grant_of(&other), f.grant_of(&team_token))
    };
    let refused = f.revoke_through(&project_token, team_wide);
    assert!(matches!(refused, Err(OpError::NotFound(_))), "{refused:?}");
    f.revoke_through(&project_token, on_project).unwrap();
    let again = f.revoke_through(&project_token, on_project);
    assert!(matches!(again, Err(OpError::NotFound(_))), "a revoked grant is gone");
    f.revoke_through(&team_token, team_wide).unwrap();
    let own = f.grant_of(&project_token);
    let after = f.revoke_through(&team_token, own);
    assert!(matches!(after, Err(OpError::NotFound(_))), "a revoked token acts no more: {after:?}");
}
