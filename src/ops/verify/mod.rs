//! The one place that decides whether a presented credential is live (SPEC §1, §3).
//!
//! Introspection, `/v1/token_details`, `/v1/check` and bearer authentication of our own API all
//! go through [`Verifier::verify`]. The answer is always the database's as of that request —
//! the grant, the user as they are now, the membership the grant was issued under, the
//! project, the app — so a change that committed is seen by the very next request on every
//! instance. [`verify`] reads all of it each time; [`Verifier`] answers from memory when the
//! credential change log proves nothing it kept has changed since (see [`cache`]; on
//! PostgreSQL through the freshness barrier of [`barrier`]).

use std::collections::BTreeSet;

use diesel::QueryResult;
use time::PrimitiveDateTime;

use crate::authz::{
    Action, CustomRole, DeployKeyGrant, DeployKeyScope, DeploymentRef, MemberGrant, ProjectRef, Resource, Statement,
    Subject, TokenScope,
};

use crate::db::DbConnection;
use crate::db::models::{deploy_keys, deployments, grants, members, roles};
use crate::domain::{Audience, DeploymentType, MemberRole, Scope};
use crate::tokens::{Credential, CredentialKind, SecretHash};

mod barrier;
mod cache;

pub use self::cache::{Freshness, Verifier};

/// A live application token and its user's current standing.
#[derive(Debug, Clone)]
pub struct AppToken {
    pub grant_id: i64,
    pub client_id: String,
    pub app_name: String,
    pub scope: Scope,
    pub user_id: i64,
    pub user_email: String,
    pub member_id: i64,
    pub team_id: i64,
    pub team_slug: String,
    pub project_id: Option<i64>,
    pub project_slug: Option<String>,
    pub role: MemberRole,
    pub custom_roles: Vec<CustomRole>,
    /// Whether the user is project admin of the token's project (project tokens only).
    pub project_admin: bool,
    pub issued_at: PrimitiveDateTime,
    pub expires_at: Option<PrimitiveDateTime>,
    pub grant_created_at: PrimitiveDateTime,
    /// The resource servers the token is bound to (RFC 8707), if any.
    pub audience: Option<Audience>,
}

/// A live deploy key: what it is, and what decisions judge it by (its actions and custom role,
/// matched against the real resource of each request: SPEC §3).
#[derive(Debug, Clone)]
pub struct DeployKey {
    pub id: i64,
    pub name: String,
    pub team_slug: String,
    pub project_id: i64,
    pub project_slug: String,
    /// `None` for a preview deploy key (`preview:<team>:<project>`).
    pub deployment: Option<DeploymentRef>,
    pub grant: DeployKeyGrant,
    pub created_at: PrimitiveDateTime,
    pub expires_at: Option<PrimitiveDateTime>,
}

impl DeployKey {
    /// The key's effective allowed actions (SPEC §4: "after the custom role") on its
    /// deployment. A preview deploy key has no deployment of its own: its actions are those on
    /// an unnamed preview deployment of its project, which the role's `name=` selectors cannot
    /// match — decisions about a real preview deployment do apply them.
    pub fn allowed_actions(&self) -> Vec<Action> {
        self.grant.effective_actions(&self.acts_at())
    }

    /// Where [`Self::allowed_actions`] are judged: the key's deployment, or an unnamed preview
    /// deployment of its project.
    pub fn acts_at(&self) -> Resource {
        let deployment = self.deployment.clone().unwrap_or(DeploymentRef {
            id: 0,
            name: String::new(),
            deployment_type: DeploymentType::Preview,
        });
        let project = ProjectRef { id: self.project_id, slug: self.project_slug.clone() };
        Resource::Deployment { team_id: self.grant.team_id, project, deployment }
    }
}

/// A deployment's admin key.
#[derive(Debug, Clone)]
pub struct AdminKey {
    pub team_id: i64,
    pub team_slug: String,
    pub project_id: i64,
    pub project_slug: String,
    pub deployment: DeploymentRef,
    pub created_at: PrimitiveDateTime,
}

#[derive(Debug, Clone)]
pub enum Verified {
    AppToken(AppToken),
    DeployKey(DeployKey),
    AdminKey(AdminKey),
}

impl Verified {
    /// The `type` name of `/v1/token_details` and `credential_type` of introspection.
    pub fn type_name(&self) -> &'static str {
        match self {
            Verified::AppToken(t) if t.scope == Scope::Team => "teamToken",
            Verified::AppToken(_) => "projectToken",
            Verified::DeployKey(_) => "deployKey",
            Verified::AdminKey(_) => "adminKey",
        }
    }

    /// Whether the credential has expired at `now` (admin keys never expire).
    pub fn expired(&self, now: PrimitiveDateTime) -> bool {
        let expires_at = match self {
            Verified::AppToken(t) => t.expires_at,
            Verified::DeployKey(k) => k.expires_at,
            Verified::AdminKey(_) => None,
        };
        expires_at.is_some_and(|at| at <= now)
    }

    pub fn team_id(&self) -> i64 {
        match self {
            Verified::AppToken(t) => t.team_id,
            Verified::DeployKey(k) => k.grant.team_id,
            Verified::AdminKey(k) => k.team_id,
        }
    }
}

fn deployment_ref(id: i64, name: String, deployment_type: &str) -> DeploymentRef {
    DeploymentRef {
        id,
        name,
        deployment_type: DeploymentType::parse(deployment_type).unwrap_or(DeploymentType::Custom),
    }
}

/// Parses a stored role's statements. They were validated when saved; a row that no longer
/// parses (impossible short of manual edits) grants nothing rather than failing the request.
pub(crate) fn custom_role(name: String, statements: &str) -> CustomRole {
    CustomRole { name, statements: Statement::parse_all(statements).unwrap_or_default() }
}

/// Whether a deploy key's stored actions are the SPEC §3 defaults, which a key created without
/// an action list is given.
fn is_default(actions: &BTreeSet<Action>) -> bool {
    actions.len() == Action::DEPLOY_KEY_DEFAULTS.len()
        && Action::DEPLOY_KEY_DEFAULTS.iter().all(|a| actions.contains(a))
}

/// Whether `presented` is a live credential at `now`, and what it is, read from the database.
pub fn verify(conn: &mut DbConnection, presented: &str, now: PrimitiveDateTime) -> QueryResult<Option<Verified>> {
    match Credential::parse(presented) {
        Some(credential) => verify_credential(conn, &credential, &credential.hash(), now),
        None => Ok(None),
    }
}

/// [`verify`] for a credential already parsed, `hash` being its storage hash.
/// When the credential stored under `hash` was revoked: the `revoked_at` its grant or deploy
/// key records (a deploy key also ends with its grant). `None` when no revocation ended it (an
/// edit, a removal, an expiry, a credential that never existed, an admin key).
fn revoked_at(
    conn: &mut DbConnection,
    credential: &Credential,
    hash: &SecretHash,
) -> QueryResult<Option<PrimitiveDateTime>> {
    match credential.kind {
        CredentialKind::AppToken(_) => Ok(grants::find_by_access_hash(conn, hash.as_str())?.and_then(|g| g.revoked_at)),
        CredentialKind::DeploymentKey { .. } | CredentialKind::PreviewProjectKey => {
            let Some(key) = deploy_keys::find_by_hash(conn, hash.as_str())? else {
                return Ok(None);
            };
            match (key.revoked_at, key.grant_id) {
                (Some(at), _) => Ok(Some(at)),
                (None, Some(grant_id)) => Ok(grants::find_by_id(conn, grant_id)?.and_then(|g| g.revoked_at)),
                (None, None) => Ok(None),
            }
        }
        CredentialKind::AdminKey { .. } => Ok(None),
    }
}

fn verify_credential(
    conn: &mut DbConnection,
    credential: &Credential,
    hash: &SecretHash,
    now: PrimitiveDateTime,
) -> QueryResult<Option<Verified>> {
    let verified = match credential.kind {
        CredentialKind::AppToken(scope) => {
            let Some(row) = grants::find_live_by_access_hash(conn, hash.as_str())? else {
                return Ok(None);
            };
            if row.scope != scope.as_str() {
                return Ok(None);
            }
            let role = MemberRole::from_stored(&row.role);
            let custom_roles = if role == MemberRole::Custom {
                roles::for_member(conn, row.member_id)?
                    .into_iter()
                    .map(|r| custom_role(r.name, &r.statements))
                    .collect()
            } else {
                Vec::new()
            };
            Verified::AppToken(AppToken {
                grant_id: row.grant_id,
                client_id: row.client_id,
                app_name: row.app_name,
                scope,
                user_id: row.user_id,
                user_email: row.user_email,
                member_id: row.member_id,
                team_id: row.team_id,
                team_slug: row.team_slug,
                project_id: row.project_id,
                project_slug: row.project_slug,
                role,
                custom_roles,
                project_admin: row.project_admin.is_some(),
                issued_at: row.access_token_issued_at,
                expires_at: row.access_token_expires_at,
                grant_created_at: row.created_at,
                audience: Audience::from_stored(row.audience.as_deref()),
            })
        }
        CredentialKind::DeploymentKey { .. } | CredentialKind::PreviewProjectKey => {
            let Some(row) = deploy_keys::find_live_by_hash(conn, hash.as_str())? else {
                return Ok(None);
            };
            let deployment = match (row.key.deployment_id, row.deployment_name, row.deployment_type) {
                (Some(id), Some(name), Some(t)) => Some(deployment_ref(id, name, &t)),
                _ => None,
            };
            let scope = match &deployment {
                Some(d) => DeployKeyScope::Deployment { project_id: row.key.project_id, deployment_id: d.id },
                None => DeployKeyScope::PreviewProject { project_id: row.key.project_id },
            };
            let actions: BTreeSet<Action> =
                row.key.allowed_actions.split_whitespace().filter_map(|a| a.parse().ok()).collect();
            let role = match (row.role_name, row.role_statements) {
                (Some(name), Some(statements)) => Some(custom_role(name, &statements)),
                _ => None,
            };
            Verified::DeployKey(DeployKey {
                id: row.key.id,
                name: row.key.name,
                team_slug: row.team_slug,
                project_id: row.key.project_id,
                project_slug: row.project_slug,
                deployment,
                grant: DeployKeyGrant {
                    team_id: row.team_id,
                    scope,
                    default_actions: is_default(&actions),
                    actions,
                    role,
                },
                created_at: row.key.created_at,
                expires_at: row.key.expires_at,
            })
        }
        CredentialKind::AdminKey { .. } => {
            let Some(row) = deployments::find_by_admin_key_hash(conn, hash.as_str())? else {
                return Ok(None);
            };
            Verified::AdminKey(AdminKey {
                team_id: row.team_id,
                team_slug: row.team_slug,
                project_id: row.deployment.project_id,
                project_slug: row.project_slug,
                created_at: row.deployment.created_at,
                deployment: deployment_ref(row.deployment.id, row.deployment.name, &row.deployment.deployment_type),
            })
        }
    };
    Ok((!verified.expired(now)).then_some(verified))
}

/// The authorization subject behind a verified credential (loads the member's project-admin
/// grants, which only decisions need).
pub fn subject(conn: &mut DbConnection, verified: &Verified) -> QueryResult<Subject> {
    Ok(match verified {
        Verified::AppToken(token) => Subject::AppToken(MemberGrant {
            team_id: token.team_id,
            role: token.role,
            custom_roles: token.custom_roles.clone(),
            project_admin_of: members::project_admin_of(conn, token.member_id)?,
            scope: match token.project_id {
                Some(project_id) => TokenScope::Project(project_id),
                None => TokenScope::Team,
            },
        }),
        Verified::DeployKey(key) => Subject::DeployKey(key.grant.clone()),
        Verified::AdminKey(key) => Subject::AdminKey { team_id: key.team_id, deployment_id: key.deployment.id },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::fixture::{DEPLOY_KEY, Fixture};

    fn allowed_actions(f: &mut Fixture) -> Vec<&'static str> {
        let Some(Verified::DeployKey(key)) = verify(&mut f.conn, DEPLOY_KEY, crate::db::now()).unwrap() else {
            panic!("a live deploy key");
        };
        key.allowed_actions().into_iter().map(Action::as_str).collect()
    }

    #[test]
    fn a_deploy_keys_allowed_actions_are_its_own_after_its_role() {
        let mut f = Fixture::seeded();
        assert_eq!(allowed_actions(&mut f), ["deployment:view"]);
        f.exec(
            r#"UPDATE custom_roles SET statements = '[
                   {"effect":"allow","actions":["env:view","logs:view"],"resource":"project:slug=web:deployment:name=acme-web-prod"},
                   {"effect":"allow","actions":["project:view"],"resource":"project:id=1"},
                   {"effect":"deny","actions":["logs:view"],"resource":"project:*:deployment:type=prod"},
                   {"effect":"allow","actions":["data:view"],"resource":"project:*:deployment:type=preview"},
                   {"effect":"allow","actions":"*","resource":"team"}]';
               UPDATE deploy_keys SET custom_role_id = 1"#,
        );
        assert_eq!(allowed_actions(&mut f), ["project:view", "deployment:view", "env:view"]);
        // As a preview deploy key of the project: `name=` cannot match, `type=` can.
        f.exec("UPDATE deploy_keys SET deployment_id = NULL, token_prefix = 'preview:acme:web'");
        assert_eq!(allowed_actions(&mut f), ["project:view", "deployment:view", "data:view"]);
    }
}
