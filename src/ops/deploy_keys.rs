//! Deploy keys (SPEC §3): service credentials for CI, scoped to one deployment
//! (`prod:` / `dev:` / `preview:` / `custom:<deployment>`) or to a project's preview deployments
//! (`preview:<team>:<project>`), with a limited set of deployment actions, optionally extended
//! by a custom role, optionally expiring. Only the hash of a key is stored; the key is returned
//! once, by [`create`].
//!
//! A key made by a person (an operator, a team admin in the pages) is a service credential: it
//! outlives its creator's membership. A key an application mints through its project token
//! ([`create_for_app`]) is linked to that grant, and verification requires the grant to be live,
//! so whatever ends the grant (revocation, the user's removal, the app's deletion — which
//! deletes the grant and, by cascade, the key) ends the key in the same transaction.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;
use time::{Duration, PrimitiveDateTime};

use super::audit::{self, Actor, Event};
use super::decisions::ResourceName;
use super::users::require_by_email;
use super::verify::{self, Verified};
use super::{OpError, OpResult, access, projects, rfc3339, teams};
use crate::authz::{Action, DeploymentRef, ProjectRef, Resource, ResourceKind, Subject, decide};
use crate::db::models::deploy_keys::{self, KeyListing, ListFor, NewDeployKey};
use crate::db::models::roles::CustomRoleRow;
use crate::db::models::{deployments, members};
use crate::db::{DbConnection, now};
use crate::domain::{DeploymentName, DeploymentType, DisplayName, Email, Invalid, RoleName, Scope, Slug};
use crate::telemetry::metrics::{self, TokenKind};
use crate::tokens::credential::{deployment_key, preview_project_key};
use crate::tokens::{SecretHash, generate_secret};

/// The shortest expiry a key may be given (SPEC §3: at least 30 minutes ahead).
pub const MIN_EXPIRES_IN: i64 = 30 * 60;
/// The longest: ten years. A key that should never expire is given no expiry.
pub const MAX_EXPIRES_IN: i64 = 10 * 366 * 24 * 60 * 60;

/// Where a new key acts.
#[derive(Debug, Clone)]
pub enum KeyTarget {
    /// `<type>:<deployment>`, the type being the deployment's.
    Deployment(DeploymentName),
    /// `preview:<team>:<project>`.
    PreviewProject { team: Slug, project: Slug },
}

/// A key's own allowed actions: SPEC §3's defaults, or an explicit list of deployment actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyActions(BTreeSet<Action>);

impl KeyActions {
    /// `None` or an empty list: the defaults. Every named action must be a deployment action.
    pub fn new(explicit: Option<&[Action]>) -> Result<KeyActions, Invalid> {
        match explicit {
            None | Some([]) => Ok(KeyActions(Action::DEPLOY_KEY_DEFAULTS.iter().copied().collect())),
            Some(list) => {
                if let Some(wrong) = list.iter().find(|a| a.kind() != ResourceKind::Deployment) {
                    return Err(Invalid(format!(
                        "a deploy key's actions must be deployment actions; {wrong} is a {} action",
                        match wrong.kind() {
                            ResourceKind::Team => "team",
                            _ => "project",
                        }
                    )));
                }
                Ok(KeyActions(list.iter().copied().collect()))
            }
        }
    }

    /// Space-separated, as stored.
    fn stored(&self) -> String {
        self.0.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ")
    }
}

/// How long a new key lives: at least 30 minutes (SPEC §3), at most ten years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpiresIn(i64);

impl ExpiresIn {
    pub fn seconds(seconds: i64) -> Result<ExpiresIn, Invalid> {
        if seconds < MIN_EXPIRES_IN {
            Err(Invalid(format!(
                "a deploy key must expire at least {MIN_EXPIRES_IN} seconds (30 minutes) ahead, not {seconds}"
            )))
        } else if seconds > MAX_EXPIRES_IN {
            Err(Invalid(format!("a deploy key expires at most {MAX_EXPIRES_IN} seconds (ten years) ahead")))
        } else {
            Ok(ExpiresIn(seconds))
        }
    }

    /// For a command-line flag.
    pub fn parse(value: &str) -> Result<ExpiresIn, Invalid> {
        let seconds = value.parse().map_err(|_| Invalid(format!("{value:?} is not a number of seconds")))?;
        ExpiresIn::seconds(seconds)
    }

    fn after(self, now: PrimitiveDateTime) -> PrimitiveDateTime {
        now + Duration::seconds(self.0)
    }
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewKeyParams {
    pub target: KeyTarget,
    pub name: DisplayName,
    pub actions: KeyActions,
    pub role: Option<RoleName>,
    pub expires_in: Option<ExpiresIn>,
}

/// A key as listed (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyOut {
    pub id: i64,
    pub name: String,
    /// `prod`, `dev`, `preview` or `custom`: the key's prefix type.
    #[serde(rename = "type")]
    pub key_type: String,
    /// The part before `|`, e.g. `prod:happy-otter-123`, as issued.
    pub prefix: String,
    pub team: String,
    pub project: String,
    /// Absent for a project's preview deploy key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// The key's own actions (a role may add and remove some where it applies).
    pub actions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Email of the person who made it, while that user exists.
    pub created_by: Option<String>,
    /// The application that minted it through a user's grant, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minted_by_app: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// `active`, `expired`, `revoked`, or `grant_ended` (its grant was revoked).
    #[schema(value_type = String)]
    pub status: &'static str,
    #[serde(skip)]
    pub project_id: i64,
    #[serde(skip)]
    pub team_id: i64,
}

impl KeyOut {
    fn from_listing(listing: KeyListing, now: PrimitiveDateTime) -> KeyOut {
        let KeyListing {
            key,
            team_id,
            team_slug,
            project_slug,
            deployment_name,
            role_name,
            created_by,
            grant_revoked_at,
            app_client_id,
        } = listing;
        let status = if key.revoked_at.is_some() {
            "revoked"
        } else if grant_revoked_at.is_some() {
            "grant_ended"
        } else if key.expires_at.is_some_and(|at| at <= now) {
            "expired"
        } else {
            "active"
        };
        KeyOut {
            id: key.id,
            name: key.name,
            key_type: key.token_prefix.split(':').next().unwrap_or_default().to_owned(),
            prefix: key.token_prefix,
            team: team_slug,
            project: project_slug,
            deployment: deployment_name,
            actions: key.allowed_actions.split_whitespace().map(str::to_owned).collect(),
            role: role_name,
            created_by,
            minted_by_app: app_client_id,
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            expires_at: key.expires_at.map(rfc3339),
            revoked_at: key.revoked_at.or(grant_revoked_at).map(rfc3339),
            status,
            project_id: key.project_id,
            team_id,
        }
    }

    pub fn is_active(&self) -> bool {
        self.status == "active"
    }

    /// What the key acts on, by name: its deployment, or (preview project key) its project.
    /// Managing the key means `deployKey:manage` there.
    pub fn acts_on(&self) -> Result<ResourceName, Invalid> {
        Ok(match &self.deployment {
            Some(deployment) => ResourceName::Deployment(DeploymentName::parse(deployment)?),
            None => ResourceName::Project(Slug::parse(&self.team)?, Slug::parse(&self.project)?),
        })
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedKeyOut {
    /// The whole credential, shown once; only its hash is stored.
    pub key: String,
    #[serde(flatten)]
    pub listing: KeyOut,
}

/// Where a new key will act, looked up as it is now.
struct Placement {
    team_id: i64,
    team_slug: String,
    project: ProjectRef,
    deployment: Option<DeploymentRef>,
}

impl Placement {
    fn find(conn: &mut DbConnection, target: &KeyTarget) -> OpResult<Placement> {
        match target {
            KeyTarget::Deployment(name) => {
                let found = deployments::find_in_context_by_name(conn, name.as_str())?
                    .ok_or_else(|| OpError::NotFound(format!("no deployment named {name}")))?;
                Ok(Placement {
                    team_id: found.team_id,
                    team_slug: found.team_slug,
                    project: ProjectRef { id: found.deployment.project_id, slug: found.project_slug },
                    deployment: Some(DeploymentRef {
                        id: found.deployment.id,
                        deployment_type: DeploymentType::parse(&found.deployment.deployment_type)?,
                        name: found.deployment.name,
                    }),
                })
            }
            KeyTarget::PreviewProject { team, project } => {
                let team = teams::require(conn, team)?;
                let project = projects::require_in(conn, &team, project)?;
                Ok(Placement {
                    team_id: team.id,
                    team_slug: team.slug,
                    project: ProjectRef { id: project.id, slug: project.slug },
                    deployment: None,
                })
            }
        }
    }

    /// The resource the key acts on: its deployment, or (preview project key) its project.
    fn resource(&self) -> Resource {
        match &self.deployment {
            Some(deployment) => Resource::Deployment {
                team_id: self.team_id,
                project: self.project.clone(),
                deployment: deployment.clone(),
            },
            None => Resource::Project { team_id: self.team_id, project: self.project.clone() },
        }
    }

    fn mint(&self) -> String {
        let secret = generate_secret();
        match &self.deployment {
            Some(d) => deployment_key(d.deployment_type, &d.name, &secret),
            None => preview_project_key(&self.team_slug, &self.project.slug, &secret),
        }
    }
}

/// Who made a key: a person, or an application through a grant.
enum Maker {
    Person(Option<i64>),
    App { grant_id: i64, user_id: i64 },
}

fn insert(
    conn: &mut DbConnection,
    actor: &Actor,
    placement: &Placement,
    params: &NewKeyParams,
    role: Option<&CustomRoleRow>,
    maker: Maker,
) -> OpResult<CreatedKeyOut> {
    let now = now();
    let expires_at = params.expires_in.map(|e| e.after(now));
    let key = placement.mint();
    let prefix = key.split_once('|').map(|(prefix, _)| prefix).unwrap_or_default();
    let (grant_id, created_by_user_id) = match maker {
        Maker::Person(user_id) => (None, user_id),
        Maker::App { grant_id, user_id } => (Some(grant_id), Some(user_id)),
    };
    let row = deploy_keys::create(
        conn,
        &NewDeployKey {
            token_hash: SecretHash::of(&key).as_str(),
            token_prefix: prefix,
            name: params.name.as_str(),
            project_id: placement.project.id,
            deployment_id: placement.deployment.as_ref().map(|d| d.id),
            allowed_actions: &params.actions.stored(),
            custom_role_id: role.map(|r| r.id),
            grant_id,
            created_by_user_id,
            expires_at,
            created_at: now,
        },
    )?;
    audit::record(
        conn,
        actor,
        Event {
            action: "deploy_key.create",
            target_type: "deploy_key",
            target_id: row.id.to_string(),
            team_id: Some(placement.team_id),
            details: json!({
                "name": row.name,
                "prefix": row.token_prefix,
                "actions": row.allowed_actions,
                "role": role.map(|r| r.name.as_str()),
                "expires_at": expires_at.map(rfc3339),
                "grant_id": grant_id,
            }),
        },
    )?;
    let listing = show_in(conn, row.id)?;
    Ok(CreatedKeyOut { key, listing })
}

/// Creates a key as an operator (trusted: no bound but the team's), recorded as made by
/// `created_by`, who must be a member of the key's team.
pub fn create(
    conn: &mut DbConnection,
    actor: &Actor,
    params: &NewKeyParams,
    created_by: Option<&Email>,
) -> OpResult<CreatedKeyOut> {
    issuing(conn, |conn| {
        let placement = Placement::find(conn, &params.target)?;
        let role = role_in(conn, &placement, params.role.as_ref())?;
        let creator = match created_by {
            Some(email) => {
                let user = require_by_email(conn, email)?;
                if members::find(conn, placement.team_id, user.id)?.is_none() {
                    return Err(OpError::Invalid(format!(
                        "{email} is not a member of team {}, so cannot be recorded as the key's creator",
                        placement.team_slug
                    )));
                }
                Some(user.id)
            }
            None => None,
        };
        insert(conn, actor, &placement, params, role.as_ref(), Maker::Person(creator))
    })
}

fn role_in(conn: &mut DbConnection, placement: &Placement, name: Option<&RoleName>) -> OpResult<Option<CustomRoleRow>> {
    let Some(name) = name else {
        return Ok(None);
    };
    crate::db::models::roles::find(conn, placement.team_id, name.as_str())?
        .map(Some)
        .ok_or_else(|| OpError::NotFound(format!("no role {name} in team {}", placement.team_slug)))
}

/// Creates a key for `subject` — a signed-in member, or an application token's user — who may
/// grant no more than they have (SPEC §2): they must hold `deployKey:manage` where the key
/// acts, and every action the new key has there, judged by the verification the key will meet
/// (its own actions after its role, project-level statements included); a preview deploy key
/// also needs them to hold `deployment:create` on the project. A refusal rolls the key back.
fn create_bounded(
    conn: &mut DbConnection,
    actor: &Actor,
    placement: &Placement,
    params: &NewKeyParams,
    subject: &Subject,
    who: &str,
    maker: Maker,
) -> OpResult<CreatedKeyOut> {
    let resource = placement.resource();
    let may = |action: Action, at: &Resource| decide(subject, action, at, Some("release")).allowed;
    if !may(Action::DeployKeyManage, &resource) {
        return Err(OpError::Forbidden(format!("{who} may not manage deploy keys here (deployKey:manage)")));
    }
    let role = role_in(conn, placement, params.role.as_ref())?;
    let created = insert(conn, actor, placement, params, role.as_ref(), maker)?;
    let Some(Verified::DeployKey(key)) = verify::verify(conn, &created.key, now())? else {
        return Err(OpError::Internal(anyhow::anyhow!("a deploy key just created does not verify")));
    };
    let mut needs: Vec<(Action, Resource)> =
        key.allowed_actions().into_iter().map(|action| (action, key.acts_at())).collect();
    if key.deployment.is_none() {
        needs.push((Action::DeploymentCreate, resource));
    }
    match needs.iter().find(|(action, at)| !may(*action, at)) {
        Some((beyond, _)) => Err(OpError::Forbidden(format!(
            "{who} may not grant {beyond} here, and a key holds no more than its maker"
        ))),
        None => Ok(created),
    }
}

/// Creates a key as the signed-in member `user_id` (the pages), bounded by their standing now.
pub fn create_as_member(
    conn: &mut DbConnection,
    actor: &Actor,
    user_id: i64,
    params: &NewKeyParams,
) -> OpResult<CreatedKeyOut> {
    issuing(conn, |conn| {
        let placement = Placement::find(conn, &params.target)?;
        let subject = access::member(conn, user_id, placement.team_id)?.ok_or_else(OpError::no_such_team)?;
        create_bounded(conn, actor, &placement, params, &subject, "you", Maker::Person(Some(user_id)))
    })
}

/// Creates a key through an application's project token (`presented`), on behalf of the
/// token's user, bounded by their standing, and linked to the token's grant.
///
/// The user's standing is read inside the transaction, after locking the membership (the lock
/// order of `ops`): a removal either commits first, and the token no longer verifies, or waits
/// and then revokes the grant, which ends the key. The key may act only within the token's
/// project.
pub fn create_for_app(
    conn: &mut DbConnection,
    actor: &Actor,
    presented: &str,
    params: &NewKeyParams,
) -> OpResult<CreatedKeyOut> {
    issuing(conn, |conn| {
        let now = now();
        let member_id = match verify::verify(conn, presented, now)? {
            Some(Verified::AppToken(token)) => token.member_id,
            _ => return Err(OpError::Forbidden("only an application's project token can mint deploy keys".into())),
        };
        members::lock(conn, member_id)?;
        let Some(verified) = verify::verify(conn, presented, now)? else {
            return Err(OpError::Forbidden("the token is no longer active".into()));
        };
        let Verified::AppToken(token) = &verified else {
            return Err(OpError::Forbidden("the token is no longer active".into()));
        };
        if token.scope != Scope::Project {
            return Err(OpError::Forbidden("only a project token can mint deploy keys".into()));
        }
        let placement = Placement::find(conn, &params.target)?;
        if Some(placement.project.id) != token.project_id {
            return Err(OpError::Forbidden("a token mints deploy keys only in its own project".into()));
        }
        let subject = verify::subject(conn, &verified)?;
        let maker = Maker::App { grant_id: token.grant_id, user_id: token.user_id };
        create_bounded(conn, actor, &placement, params, &subject, &token.user_email, maker)
    })
}

/// Runs a key-creating use case in one transaction and, once it committed, counts the key.
fn issuing(
    conn: &mut DbConnection,
    create: impl FnOnce(&mut DbConnection) -> OpResult<CreatedKeyOut>,
) -> OpResult<CreatedKeyOut> {
    conn.write_transaction(create).inspect(|_| metrics::issued(TokenKind::DeployKey, 1))
}

fn show_in(conn: &mut DbConnection, id: i64) -> OpResult<KeyOut> {
    let listing = deploy_keys::list(conn, ListFor::Key(id))?
        .pop()
        .ok_or_else(|| OpError::NotFound(format!("no deploy key with id {id}")))?;
    Ok(KeyOut::from_listing(listing, now()))
}

/// One key, by id.
pub fn show(conn: &mut DbConnection, id: i64) -> OpResult<KeyOut> {
    show_in(conn, id)
}

/// A team's keys (or one project's), newest first.
pub fn list(conn: &mut DbConnection, team: &Slug, project: Option<&Slug>) -> OpResult<Vec<KeyOut>> {
    let team = teams::require(conn, team)?;
    if let Some(slug) = project {
        let project = projects::require_in(conn, &team, slug)?;
        return list_in_project(conn, project.id);
    }
    let now = now();
    Ok(deploy_keys::list(conn, ListFor::Team(team.id))?.into_iter().map(|l| KeyOut::from_listing(l, now)).collect())
}

/// One project's keys, newest first.
pub fn list_in_project(conn: &mut DbConnection, project_id: i64) -> OpResult<Vec<KeyOut>> {
    let now = now();
    Ok(deploy_keys::list(conn, ListFor::Project(project_id))?
        .into_iter()
        .map(|l| KeyOut::from_listing(l, now))
        .collect())
}

/// Revokes a key: it stops on the next request, on every instance. Revoking a revoked key
/// changes nothing and says so (`revoked` stays true, `already_revoked` is set).
pub fn revoke(conn: &mut DbConnection, actor: &Actor, id: i64) -> OpResult<RevokedKeyOut> {
    conn.write_transaction(|conn| {
        let key = show_in(conn, id)?;
        let newly = deploy_keys::revoke(conn, id, now())?;
        if newly {
            audit::record(
                conn,
                actor,
                Event {
                    action: "deploy_key.revoke",
                    target_type: "deploy_key",
                    target_id: id.to_string(),
                    team_id: Some(key.team_id),
                    details: json!({ "name": key.name, "prefix": key.prefix }),
                },
            )?;
        }
        Ok(RevokedKeyOut { id, revoked: true, already_revoked: !newly })
    })
    .inspect(|out| {
        if !out.already_revoked {
            metrics::revoked(TokenKind::DeployKey, 1);
        }
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedKeyOut {
    pub id: i64,
    pub revoked: bool,
    pub already_revoked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_actions_default_and_must_be_deployment_actions() {
        let defaults = KeyActions::new(None).unwrap();
        assert_eq!(defaults, KeyActions::new(Some(&[])).unwrap());
        assert!(defaults.0.contains(&Action::ReleasesPromote));
        assert!(!defaults.0.contains(&Action::EnvView));
        let explicit = KeyActions::new(Some(&[Action::LogsView, Action::LogsView, Action::Run])).unwrap();
        assert_eq!(explicit.stored(), "logs:view run");
        let err = KeyActions::new(Some(&[Action::LogsView, Action::ProjectView])).unwrap_err();
        assert!(err.0.contains("project:view is a project action"), "{err}");
        assert!(KeyActions::new(Some(&[Action::TeamView])).unwrap_err().0.contains("team action"));
    }

    #[test]
    fn expiry_is_at_least_thirty_minutes_ahead() {
        let now = crate::db::now();
        assert!(ExpiresIn::seconds(1799).unwrap_err().0.contains("at least 1800 seconds"));
        assert!(ExpiresIn::seconds(-5).is_err());
        assert!(ExpiresIn::parse("ten").is_err());
        assert_eq!(ExpiresIn::parse("1800").unwrap().after(now), now + Duration::seconds(1800));
        assert!(ExpiresIn::seconds(i64::MAX).is_err(), "no overflow");
    }
}
