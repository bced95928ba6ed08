//! The life of a grant: consent → authorization code → tokens → refresh → revocation.
//! (RFC 6749 §4.1 and §6, RFC 7009, and SPEC §4's token endpoint rules.)

use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::audit::{self, Actor, Event};
use super::projects;
use super::{OpError, OpResult};
use crate::authz::{Action, MemberGrant, ProjectRef, Resource, TokenScope, decide};
use crate::db::DbConnection;
use crate::db::models::apps::{self, App};
use crate::db::models::{codes, grants, members, projects as project_rows, refresh_tokens, roles, teams, users};
use crate::domain::{DisplayName, MemberRole, Scope, Slug};
use crate::tokens::credential::{project_token, team_token};
use crate::tokens::{Credential, CredentialKind, SecretHash, generate_secret};

/// Lifetimes and limits from configuration.
#[derive(Debug, Clone, Copy)]
pub struct GrantPolicy {
    pub code_ttl: Duration,
    pub refresh_ttl: Duration,
    pub unverified_app_team_limit: i64,
}

/// The project an approval grants, for project scope.
pub enum ProjectChoice<'a> {
    None,
    Existing(&'a Slug),
    New { slug: &'a Slug, name: &'a DisplayName },
}

/// A user's approval on the consent page, already validated against the authorization request.
pub struct Approval<'a> {
    pub app: &'a App,
    pub user_id: i64,
    pub team: &'a Slug,
    pub project: ProjectChoice<'a>,
    pub scope: Scope,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
}

/// Why the server refuses the approval; shown to the user or sent to the client as
/// `access_denied`.
fn refuse(message: impl Into<String>) -> OpError {
    OpError::Forbidden(message.into())
}

/// The user's authority in a team as a decision subject (scope: the whole team).
fn member_subject(conn: &mut DbConnection, member: &members::Member) -> OpResult<crate::authz::Subject> {
    let role = MemberRole::from_stored(&member.role);
    let custom_roles = if role == MemberRole::Custom {
        roles::for_member(conn, member.id)?
            .into_iter()
            .map(|r| crate::authz::CustomRole {
                name: r.name,
                statements: crate::authz::Statement::parse_all(&r.statements).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(crate::authz::Subject::AppToken(MemberGrant {
        team_id: member.team_id,
        role,
        custom_roles,
        project_admin_of: members::project_admin_of(conn, member.id)?,
        scope: TokenScope::Team,
    }))
}

/// Records the user's approval and returns a fresh authorization code. Checks, on the server,
/// that the user belongs to the team (and may see or create the project), and refuses early
/// when the unverified-app team limit is already reached (redemption enforces it, under the
/// app's lock). Creating a new project and issuing the code are one transaction.
pub fn approve(conn: &mut DbConnection, actor: &Actor, approval: &Approval, policy: &GrantPolicy) -> OpResult<String> {
    let code = generate_secret();
    let code_hash = SecretHash::of(&code);
    conn.write_transaction(|conn| {
        let now = crate::db::now();
        let team = teams::find_by_slug(conn, approval.team.as_str())?
            .ok_or_else(|| refuse("you are not a member of that team"))?;
        let member = members::find(conn, team.id, approval.user_id)?
            .ok_or_else(|| refuse("you are not a member of that team"))?;
        let subject = member_subject(conn, &member)?;
        check_unverified_limit(conn, approval.app, team.id, policy)?;

        let project = match (&approval.project, approval.scope) {
            (ProjectChoice::None, Scope::Team) => {
                if !decide(&subject, Action::TeamView, &Resource::Team { team_id: team.id }, None).allowed {
                    return Err(refuse("your role in this team cannot grant team-wide access"));
                }
                None
            }
            (ProjectChoice::Existing(slug), Scope::Project) => {
                let project = project_rows::find(conn, team.id, slug.as_str())?
                    .ok_or_else(|| OpError::Invalid(format!("no project {slug} in team {}", team.slug)))?;
                let resource = Resource::Project {
                    team_id: team.id,
                    project: ProjectRef { id: project.id, slug: project.slug.clone() },
                };
                if !decide(&subject, Action::ProjectView, &resource, None).allowed {
                    return Err(refuse("your role in this team does not include that project"));
                }
                Some(project)
            }
            (ProjectChoice::New { slug, name }, Scope::Project) => {
                if !decide(&subject, Action::ProjectCreate, &Resource::Team { team_id: team.id }, None).allowed {
                    return Err(refuse("your role in this team cannot create projects"));
                }
                Some(projects::create_in_tx(conn, actor, &team, slug, name)?)
            }
            (_, Scope::Project) => return Err(OpError::Invalid("choose a project or create one".into())),
            (_, Scope::Team) => return Err(OpError::Invalid("a team-wide grant has no project".into())),
        };

        codes::create(
            conn,
            &codes::NewCode {
                code_hash: code_hash.as_str(),
                app_id: approval.app.id,
                user_id: approval.user_id,
                team_id: team.id,
                project_id: project.as_ref().map(|p| p.id),
                scope: approval.scope.as_str(),
                redirect_uri: approval.redirect_uri,
                code_challenge: approval.code_challenge,
                created_at: now,
                expires_at: now + policy.code_ttl,
            },
        )?;
        audit::record(
            conn,
            actor,
            Event {
                action: "consent.approve",
                target_type: "oauth_app",
                target_id: approval.app.client_id.clone(),
                team_id: Some(team.id),
                details: json!({ "scope": approval.scope.as_str(), "project_id": project.as_ref().map(|p| p.id) }),
            },
        )?;
        Ok(code.clone())
    })
}

/// An unverified app may be authorized by at most N distinct teams (SPEC §2).
fn check_unverified_limit(conn: &mut DbConnection, app: &App, team_id: i64, policy: &GrantPolicy) -> OpResult<()> {
    if app.verified_at.is_some() {
        return Ok(());
    }
    let (teams, includes_this_one) = apps::authorized_teams(conn, app.id, team_id)?;
    if !includes_this_one && teams >= policy.unverified_app_team_limit {
        return Err(refuse(format!(
            "this application is unverified and already authorized by {teams} teams, its limit"
        )));
    }
    Ok(())
}

/// The live (unexpired) authorization code `code`, redeemed or not. Reads only: the caller
/// checks the client, the redirect URI and the PKCE verifier against it before
/// [`redeem_code`] spends it, so a presentation that fails those checks changes nothing.
pub fn find_code(conn: &mut DbConnection, code: &str, now: PrimitiveDateTime) -> OpResult<Option<codes::Code>> {
    let hash = SecretHash::of(code);
    Ok(codes::find_by_hash(conn, hash.as_str())?.filter(|row| row.expires_at > now))
}

/// What redeeming a checked authorization code did.
#[derive(Debug)]
pub enum Redeemed {
    Issued(IssuedTokens),
    /// The code is spent, but the user can no longer grant this access.
    Refused,
    /// Already redeemed: the grant issued from the first redemption has been revoked.
    Replayed,
}

/// Spends `code` (RFC 6749 §4.1.2: single use; a reuse revokes what the first use issued)
/// and, in the same transaction, issues its grant: re-checks the user, the membership and
/// the limits at this moment, creates the grant with its one access token (and a refresh
/// token for apps with expiring tokens), and links it to the code. Exactly one of any number
/// of concurrent redemptions issues; the others are replays.
pub fn redeem_code(
    conn: &mut DbConnection,
    app: &App,
    code: &codes::Code,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Redeemed> {
    conn.write_transaction(|conn| {
        // Locks in the order of the module doc of `ops`: membership, app, code, grant.
        let member = match members::find(conn, code.team_id, code.user_id)? {
            Some(member) if members::lock(conn, member.id)? => Some(member),
            _ => None,
        };
        if app.verified_at.is_none() {
            apps::lock(conn, app.id)?;
        }
        if !codes::claim(conn, code.id, now)? {
            if let Some(grant_id) = codes::mark_replayed(conn, code.id, now)? {
                revoke_in_tx(conn, &Actor::System, grant_id, "code_replayed")?;
            }
            return Ok(Redeemed::Replayed);
        }
        // Read after the membership lock: a disable that took it first is seen here.
        let user = users::find_by_id(conn, code.user_id)?;
        let team = teams::find_by_id(conn, code.team_id)?;
        let (Some(user), Some(team), Some(member)) = (user, team, member) else {
            return Ok(Redeemed::Refused);
        };
        if user.disabled_at.is_some() || check_unverified_limit(conn, app, team.id, policy).is_err() {
            return Ok(Redeemed::Refused);
        }
        let project = match code.project_id {
            Some(id) => match project_rows::find_by_id(conn, id)? {
                Some(project) => Some(project),
                None => return Ok(Redeemed::Refused),
            },
            None => None,
        };
        let scope = Scope::parse(&code.scope)?;
        let access_token = mint_access_token(&team.slug, project.as_ref().map(|p| p.slug.as_str()));
        let access_hash = SecretHash::of(&access_token);
        let ttl = app.token_ttl_seconds.map(Duration::seconds);
        let grant = grants::create(
            conn,
            &grants::NewGrant {
                app_id: app.id,
                user_id: user.id,
                team_id: team.id,
                project_id: project.as_ref().map(|p| p.id),
                member_id: member.id,
                scope: scope.as_str(),
                access_token_hash: access_hash.as_str(),
                access_token_issued_at: now,
                access_token_expires_at: ttl.map(|ttl| now + ttl),
                created_at: now,
            },
        )?;
        let refresh_token = match ttl {
            Some(_) => Some(new_refresh_token(conn, grant.id, now, policy)?),
            None => None,
        };
        codes::link_grant(conn, code.id, grant.id)?;
        let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
        audit::record(
            conn,
            &actor,
            Event {
                action: "grant.issue",
                target_type: "grant",
                target_id: grant.id.to_string(),
                team_id: Some(team.id),
                details: json!({ "user_id": user.id, "scope": scope.as_str(), "project_id": grant.project_id }),
            },
        )?;
        Ok(Redeemed::Issued(IssuedTokens { access_token, refresh_token, expires_in: app.token_ttl_seconds, scope }))
    })
}

/// Tokens handed to a client.
#[derive(Debug)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
    pub scope: Scope,
}

fn mint_access_token(team_slug: &str, project_slug: Option<&str>) -> String {
    let secret = generate_secret();
    match project_slug {
        Some(project) => project_token(team_slug, project, &secret),
        None => team_token(team_slug, &secret),
    }
}

fn new_refresh_token(
    conn: &mut DbConnection,
    grant_id: i64,
    now: PrimitiveDateTime,
    policy: &GrantPolicy,
) -> OpResult<String> {
    let token = generate_secret();
    refresh_tokens::create(
        conn,
        &refresh_tokens::NewRefreshToken {
            grant_id,
            token_hash: SecretHash::of(&token).as_str(),
            created_at: now,
            expires_at: now + policy.refresh_ttl,
        },
    )?;
    Ok(token)
}

/// Why a refresh was refused (RFC 6749 §5.2).
#[derive(Debug)]
pub enum RefreshRefused {
    InvalidGrant,
    InvalidScope,
}

/// `grant_type=refresh_token` (RFC 6749 §6) with rotation: both tokens are replaced, the old
/// access token stops at once, and presenting a rotated refresh token again revokes the grant
/// (RFC 9700 §4.14.2). Membership is re-checked as on every use. Locks in the order of the
/// module doc of `ops`: membership, grant, refresh token.
pub fn refresh(
    conn: &mut DbConnection,
    app: &App,
    presented: &str,
    requested_scope: Option<&str>,
    policy: &GrantPolicy,
    client_ip: Option<String>,
    now: PrimitiveDateTime,
) -> OpResult<Result<IssuedTokens, RefreshRefused>> {
    let hash = SecretHash::of(presented);
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    conn.write_transaction(|conn| {
        let Some(token) = refresh_tokens::find_by_hash(conn, hash.as_str())? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        let Some(grant) = grants::find_by_id(conn, token.grant_id)? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        if grant.app_id != app.id {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if token.rotated_at.is_some() {
            revoke_in_tx(conn, &actor, grant.id, "refresh_token_reused")?;
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if grant.revoked_at.is_some() || token.expires_at <= now {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        // Scopes are "project" or "team" and a grant has exactly one, so the only narrowing
        // available is asking for the same scope again.
        if let Some(requested) = requested_scope
            && requested != grant.scope
        {
            return Ok(Err(RefreshRefused::InvalidScope));
        }
        let Some(token_info) = live_standing(conn, &grant)? else {
            return Ok(Err(RefreshRefused::InvalidGrant));
        };
        let access_token = mint_access_token(&token_info.0, token_info.1.as_deref());
        let expires_at = app.token_ttl_seconds.map(|ttl| now + Duration::seconds(ttl));
        // Only a live grant's token is replaced: a revocation that committed since the grant
        // was read leaves nothing to hand out.
        if grants::replace_access_token(conn, grant.id, SecretHash::of(&access_token).as_str(), now, expires_at)? != 1 {
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        if !refresh_tokens::claim(conn, token.id, now)? {
            // Lost a race with another use of the same token: that is reuse too.
            revoke_in_tx(conn, &actor, grant.id, "refresh_token_reused")?;
            return Ok(Err(RefreshRefused::InvalidGrant));
        }
        let refresh_token = new_refresh_token(conn, grant.id, now, policy)?;
        audit::record(
            conn,
            &actor,
            Event {
                action: "grant.refresh",
                target_type: "grant",
                target_id: grant.id.to_string(),
                team_id: Some(grant.team_id),
                details: json!({}),
            },
        )?;
        Ok(Ok(IssuedTokens {
            access_token,
            refresh_token: Some(refresh_token),
            expires_in: app.token_ttl_seconds,
            scope: Scope::parse(&grant.scope)?,
        }))
    })
}

/// The slugs a grant's tokens are minted with, if its user is still enabled and still holds
/// the membership the grant was issued under (and its project still exists).
fn live_standing(conn: &mut DbConnection, grant: &grants::Grant) -> OpResult<Option<(String, Option<String>)>> {
    let Some(member_id) = grant.member_id else {
        return Ok(None);
    };
    // The user is read after the membership lock: a disable that took it first is seen here.
    if !members::lock(conn, member_id)? {
        return Ok(None);
    }
    if users::find_by_id(conn, grant.user_id)?.is_none_or(|u| u.disabled_at.is_some()) {
        return Ok(None);
    }
    let Some(team) = teams::find_by_id(conn, grant.team_id)? else {
        return Ok(None);
    };
    let project_slug = match grant.project_id {
        Some(id) => match project_rows::find_by_id(conn, id)? {
            Some(project) => Some(project.slug),
            None => return Ok(None),
        },
        None => None,
    };
    Ok(Some((team.slug, project_slug)))
}

fn revoke_in_tx(conn: &mut DbConnection, actor: &Actor, grant_id: i64, reason: &str) -> OpResult<bool> {
    let Some(grant) = grants::find_by_id(conn, grant_id)? else {
        return Ok(false);
    };
    let revoked = grants::revoke(conn, grant_id, reason, crate::db::now())?;
    if revoked {
        audit::record(
            conn,
            actor,
            Event {
                action: "grant.revoke",
                target_type: "grant",
                target_id: grant_id.to_string(),
                team_id: Some(grant.team_id),
                details: json!({ "reason": reason, "user_id": grant.user_id }),
            },
        )?;
    }
    Ok(revoked)
}

/// RFC 7009: the app that holds `token` (an access or a refresh token) revokes it, which
/// revokes its grant. Unknown tokens and other apps' tokens change nothing.
pub fn revoke_token(conn: &mut DbConnection, app: &App, token: &str, client_ip: Option<String>) -> OpResult<()> {
    let actor = Actor::App { client_id: app.client_id.clone(), client_ip };
    conn.write_transaction(|conn| {
        let grant = match Credential::parse(token) {
            Some(credential @ Credential { kind: CredentialKind::AppToken(_), .. }) => {
                grants::find_by_access_hash(conn, credential.hash().as_str())?
            }
            Some(_) => None,
            None => match refresh_tokens::find_by_hash(conn, SecretHash::of(token).as_str())? {
                Some(refresh) => grants::find_by_id(conn, refresh.grant_id)?,
                None => None,
            },
        };
        if let Some(grant) = grant.filter(|g| g.app_id == app.id) {
            revoke_in_tx(conn, &actor, grant.id, "revoked_by_app")?;
        }
        Ok(())
    })
}

/// A person revokes a grant from the pages: their own, or any on a team they administer.
/// Anything else looks exactly like a grant that does not exist.
pub fn revoke_as_user(conn: &mut DbConnection, actor: &Actor, user_id: i64, grant_id: i64) -> OpResult<()> {
    conn.write_transaction(|conn| {
        let grant = grants::find_by_id(conn, grant_id)?.filter(|g| g.revoked_at.is_none());
        let Some(grant) = grant else {
            return Err(OpError::NotFound("no such authorization".into()));
        };
        let allowed = grant.user_id == user_id
            || members::find(conn, grant.team_id, user_id)?
                .is_some_and(|m| MemberRole::from_stored(&m.role) == MemberRole::Admin);
        if !allowed {
            return Err(OpError::NotFound("no such authorization".into()));
        }
        let reason = if grant.user_id == user_id { "revoked_by_user" } else { "revoked_by_team_admin" };
        revoke_in_tx(conn, actor, grant.id, reason)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    //! Expiry, with the clock passed in: no test sleeps.

    use super::*;
    use crate::db::DatabaseUrl;
    use crate::db::models::credential_changes;
    use crate::domain::{AppName, DisplayName, Email, Password, RedirectUris};
    use crate::ops::{self, verify};
    use crate::tokens::SecretHash;

    const POLICY: GrantPolicy = GrantPolicy {
        code_ttl: Duration::minutes(10),
        refresh_ttl: Duration::days(30),
        unverified_app_team_limit: 100,
    };

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
        let user =
            ops::users::create(&mut conn, &actor, &email, &name, &Password::parse("long-enough").unwrap()).unwrap();
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
            let approval = Approval {
                app: &self.app,
                user_id: self.user_id,
                team: &self.team,
                project: ProjectChoice::Existing(&self.project),
                scope: Scope::Project,
                redirect_uri: "https://c.example/cb",
                code_challenge: None,
            };
            approve(&mut self.conn, &Actor::Cli, &approval, &POLICY).unwrap()
        }

        fn redeem(&mut self, code: &str) -> Redeemed {
            let now = crate::db::now();
            let row = find_code(&mut self.conn, code, now).unwrap().expect("a live code");
            redeem_code(&mut self.conn, &self.app, &row, &POLICY, None, now).unwrap()
        }

        fn tokens(&mut self) -> IssuedTokens {
            let code = self.code();
            let Redeemed::Issued(tokens) = self.redeem(&code) else { panic!("fresh code") };
            tokens
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
        let DbConnection::Sqlite(sqlite) = &mut f.conn else { panic!("the fixture is SQLite") };
        let before = credential_changes::head(sqlite).unwrap();
        let tokens = f.tokens();
        let DbConnection::Sqlite(sqlite) = &mut f.conn else { panic!("the fixture is SQLite") };
        assert_eq!(credential_changes::head(sqlite).unwrap(), before, "issuing a grant changes no answer");
        let refresh_token = tokens.refresh_token.unwrap();
        let refreshed = refresh(&mut f.conn, &f.app, &refresh_token, None, &POLICY, None, crate::db::now()).unwrap();
        assert!(refreshed.is_ok());
        let DbConnection::Sqlite(sqlite) = &mut f.conn else { panic!("the fixture is SQLite") };
        let logged: Vec<_> =
            credential_changes::after(sqlite, before).unwrap().into_iter().map(|c| c.token_hash).collect();
        assert_eq!(logged, vec![Some(SecretHash::of(&tokens.access_token).into_string())]);
    }

    #[test]
    fn refresh_tokens_expire_after_their_ttl() {
        let mut f = fixture();
        let tokens = f.tokens();
        let refresh_token = tokens.refresh_token.unwrap();
        let later = crate::db::now() + POLICY.refresh_ttl + Duration::seconds(1);
        let refused = refresh(&mut f.conn, &f.app, &refresh_token, None, &POLICY, None, later).unwrap();
        assert!(matches!(refused, Err(RefreshRefused::InvalidGrant)));
        let refreshed = refresh(&mut f.conn, &f.app, &refresh_token, None, &POLICY, None, crate::db::now()).unwrap();
        assert!(refreshed.is_ok(), "still valid now");
    }
}
