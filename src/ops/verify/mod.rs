//! The one place that decides whether a presented credential is live (SPEC §1, §3).
//!
//! Introspection, `/v1/token_details`, `/v1/check` and bearer authentication of our own API all
//! go through [`Verifier::verify`]. The answer is always the database's as of that request —
//! the grant, the user as they are now, the membership the grant was issued under, the
//! project, the app — so a change that committed is seen by the very next request on every
//! instance. [`verify`] reads all of it each time; on SQLite, [`Verifier`] first asks the
//! credential change log whether anything it cached has changed since (see [`cache`]).

use std::collections::BTreeSet;

use diesel::QueryResult;
use time::PrimitiveDateTime;

use crate::authz::{
    Action, CustomRole, DeployKeyScope, DeploymentRef, MemberGrant, ProjectRef, Resource, Statement, Subject,
    TokenScope, deploy_key_effective_actions,
};

use crate::db::DbConnection;
use crate::db::models::{deploy_keys, deployments, grants, members, roles};
use crate::domain::{DeploymentType, MemberRole, Scope};
use crate::tokens::{Credential, CredentialKind, SecretHash};

mod cache;

pub use self::cache::Verifier;

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
}

/// A live deploy key, with its effective actions.
#[derive(Debug, Clone)]
pub struct DeployKey {
    pub id: i64,
    pub name: String,
    pub team_id: i64,
    pub team_slug: String,
    pub project_id: i64,
    pub project_slug: String,
    /// `None` for a preview deploy key (`preview:<team>:<project>`).
    pub deployment: Option<DeploymentRef>,
    pub allowed_actions: BTreeSet<Action>,
    pub created_at: PrimitiveDateTime,
    pub expires_at: Option<PrimitiveDateTime>,
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
            Verified::DeployKey(k) => k.team_id,
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

/// Whether `presented` is a live credential at `now`, and what it is, read from the database.
pub fn verify(conn: &mut DbConnection, presented: &str, now: PrimitiveDateTime) -> QueryResult<Option<Verified>> {
    match Credential::parse(presented) {
        Some(credential) => verify_credential(conn, &credential, &credential.hash(), now),
        None => Ok(None),
    }
}

/// [`verify`] for a credential already parsed, `hash` being its storage hash.
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
            let project = ProjectRef { id: row.key.project_id, slug: row.project_slug.clone() };
            // A preview deploy key acts on its project's preview deployments: its role's
            // statements are matched against such a deployment.
            let context = Resource::Deployment {
                team_id: row.team_id,
                project,
                deployment: deployment.clone().unwrap_or(DeploymentRef {
                    id: 0,
                    name: String::new(),
                    deployment_type: DeploymentType::Preview,
                }),
            };
            let base: Vec<Action> = row.key.allowed_actions.split_whitespace().filter_map(|a| a.parse().ok()).collect();
            let role = match (row.role_name, row.role_statements) {
                (Some(name), Some(statements)) => Some(custom_role(name, &statements)),
                _ => None,
            };
            Verified::DeployKey(DeployKey {
                id: row.key.id,
                name: row.key.name,
                team_id: row.team_id,
                team_slug: row.team_slug,
                project_id: row.key.project_id,
                project_slug: row.project_slug,
                deployment,
                allowed_actions: deploy_key_effective_actions(&base, role.as_ref(), &context),
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
        Verified::DeployKey(key) => Subject::DeployKey {
            team_id: key.team_id,
            scope: match &key.deployment {
                Some(d) => DeployKeyScope::Deployment(d.id),
                None => DeployKeyScope::PreviewProject(key.project_id),
            },
            actions: key.allowed_actions.clone(),
        },
        Verified::AdminKey(key) => Subject::AdminKey { team_id: key.team_id, deployment_id: key.deployment.id },
    })
}
