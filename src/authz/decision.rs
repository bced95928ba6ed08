//! The decision function: may this subject perform this action on this resource?

use std::collections::BTreeSet;

use super::actions::{Action, ResourceKind};
use super::resource::Resource;
use super::statements::{CustomRole, Effect};
use crate::domain::{DeploymentType, MemberRole};

/// What an application token is scoped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenScope {
    Team,
    Project(i64),
}

/// An application token's user, as they are *now*: their membership and roles in the token's
/// team, loaded fresh on every request.
#[derive(Debug, Clone)]
pub struct MemberGrant {
    pub team_id: i64,
    pub role: MemberRole,
    pub custom_roles: Vec<CustomRole>,
    pub project_admin_of: Vec<i64>,
    pub scope: TokenScope,
}

/// Where a deploy key may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployKeyScope {
    Deployment(i64),
    /// `preview:<team>:<project>`: creates preview deployments in, and acts on the preview
    /// deployments of, one project.
    PreviewProject(i64),
}

#[derive(Debug, Clone)]
pub enum Subject {
    /// A person acting for themselves (the pages): their membership's full standing.
    Member(MemberGrant),
    /// An application acting for a person: the standing within the token's scope, never
    /// managing people, roles or apps.
    AppToken(MemberGrant),
    DeployKey {
        team_id: i64,
        scope: DeployKeyScope,
        actions: BTreeSet<Action>,
    },
    AdminKey {
        team_id: i64,
        deployment_id: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

fn allow(reason: impl Into<String>) -> Decision {
    Decision { allowed: true, reason: reason.into() }
}

fn deny(reason: impl Into<String>) -> Decision {
    Decision { allowed: false, reason: reason.into() }
}

/// Decides whether `subject` may perform `action` on `resource`. `release_id` is the request
/// context's release id, which `releases:promote` by a deploy key requires.
pub fn decide(subject: &Subject, action: Action, resource: &Resource, release_id: Option<&str>) -> Decision {
    match (action.kind(), resource) {
        (ResourceKind::Deployment, Resource::Team { .. } | Resource::Project { .. }) => {
            return deny(format!("{action} applies to a deployment"));
        }
        (ResourceKind::Project, Resource::Team { .. }) => {
            return deny(format!("{action} applies to a project or one of its deployments"));
        }
        _ => {}
    }
    let team_id = match subject {
        Subject::Member(member) | Subject::AppToken(member) => member.team_id,
        Subject::DeployKey { team_id, .. } | Subject::AdminKey { team_id, .. } => *team_id,
    };
    if resource.team_id() != team_id {
        return deny("the resource belongs to another team");
    }
    match subject {
        Subject::Member(member) => decide_member(member, action, resource, false),
        Subject::AppToken(member) => decide_member(member, action, resource, true),
        Subject::DeployKey { scope, actions, .. } => decide_deploy_key(*scope, actions, action, resource, release_id),
        Subject::AdminKey { deployment_id, .. } => decide_admin_key(*deployment_id, action, resource),
    }
}

/// An admin key has every *deployment* action on its own deployment (SPEC §3, §4), and
/// nothing else: project-level actions stay out of reach even when asked about the deployment.
fn decide_admin_key(deployment_id: i64, action: Action, resource: &Resource) -> Decision {
    if action.kind() != ResourceKind::Deployment {
        return deny(format!("{action} is not a deployment action: an admin key has only those"));
    }
    match resource.deployment() {
        Some(d) if d.id == deployment_id => allow("admin key of this deployment"),
        _ => deny("an admin key acts only on its own deployment"),
    }
}

/// `delegated`: the member acts through an application token (SPEC §2's exclusions apply).
fn decide_member(member: &MemberGrant, action: Action, resource: &Resource, delegated: bool) -> Decision {
    match member.scope {
        TokenScope::Project(project_id) => {
            if resource.project().is_none_or(|p| p.id != project_id) {
                return deny("outside the token's project");
            }
        }
        TokenScope::Team => {}
    }
    if delegated && action.is_never_delegated() {
        return deny(format!("{action} is never available to an application token"));
    }
    if let Some(project) = resource.project()
        && action.kind() != ResourceKind::Team
        && member.project_admin_of.contains(&project.id)
    {
        return allow("project admin");
    }
    match member.role {
        MemberRole::Admin => allow("team admin"),
        MemberRole::Developer => {
            if developer_may(action, resource) {
                allow("developer")
            } else {
                deny(format!("the developer role does not include {action} here"))
            }
        }
        MemberRole::Custom => match member.custom_roles.iter().find(|r| r.allows(action, resource)) {
            Some(role) => allow(format!("custom role {}", role.name)),
            None => deny(format!("no custom role allows {action} here")),
        },
    }
}

/// The built-in `developer` role (SPEC §2).
fn developer_may(action: Action, resource: &Resource) -> bool {
    use Action::*;
    let on_dev_or_preview = resource
        .deployment()
        .is_some_and(|d| matches!(d.deployment_type, DeploymentType::Dev | DeploymentType::Preview));
    match action.kind() {
        ResourceKind::Team => matches!(action, TeamView | MemberView | ProjectCreate | OauthAppView),
        ResourceKind::Project => {
            matches!(action, ProjectView | ProjectUpdate | DeploymentCreate | DeployKeyView | TokenView | TokenRevoke)
                || (action == DeployKeyManage && on_dev_or_preview)
        }
        ResourceKind::Deployment => {
            on_dev_or_preview || matches!(action, DeploymentView | BuildsView | LogsView | DataView)
        }
    }
}

fn decide_deploy_key(
    scope: DeployKeyScope,
    actions: &BTreeSet<Action>,
    action: Action,
    resource: &Resource,
    release_id: Option<&str>,
) -> Decision {
    let in_scope = match (scope, resource) {
        (DeployKeyScope::Deployment(id), Resource::Deployment { deployment, .. }) => deployment.id == id,
        (DeployKeyScope::PreviewProject(id), Resource::Project { project, .. }) => {
            project.id == id && action == Action::DeploymentCreate
        }
        (DeployKeyScope::PreviewProject(id), Resource::Deployment { project, deployment, .. }) => {
            project.id == id && deployment.deployment_type == DeploymentType::Preview
        }
        _ => false,
    };
    if !in_scope {
        return deny("outside the deploy key's scope");
    }
    if matches!(scope, DeployKeyScope::PreviewProject(_)) && action == Action::DeploymentCreate {
        return allow("preview deploy key creates preview deployments");
    }
    if !actions.contains(&action) {
        return deny(format!("{action} is not among the deploy key's allowed actions"));
    }
    if action == Action::ReleasesPromote && release_id.is_none_or(str::is_empty) {
        return deny("releases:promote requires a release id");
    }
    allow("deploy key")
}

/// A deploy key's effective actions where it acts (`resource`): its own actions, plus the
/// actions of its custom role's matching project- and deployment-level allow statements, minus
/// those of the matching deny statements (defaults included). Team-level statements are ignored.
pub fn deploy_key_effective_actions(
    base: &[Action],
    role: Option<&CustomRole>,
    resource: &Resource,
) -> BTreeSet<Action> {
    let mut actions: BTreeSet<Action> = base.iter().copied().collect();
    let Some(role) = role else {
        return actions;
    };
    let applicable = role
        .statements
        .iter()
        .filter(|s| s.is_below_team() && s.actions().first().is_some_and(|first| s.covers(*first, resource)));
    let (allows, denies): (Vec<_>, Vec<_>) = applicable.partition(|s| s.effect == Effect::Allow);
    for statement in allows {
        actions.extend(statement.actions());
    }
    for statement in denies {
        for denied in statement.actions() {
            actions.remove(&denied);
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{DeploymentRef, ProjectRef, Statement};

    const TEAM: i64 = 1;

    fn project(id: i64, slug: &str) -> ProjectRef {
        ProjectRef { id, slug: slug.into() }
    }

    fn deployment_in(project_id: i64, slug: &str, id: i64, t: DeploymentType) -> Resource {
        Resource::Deployment {
            team_id: TEAM,
            project: project(project_id, slug),
            deployment: DeploymentRef { id, name: format!("dep-{id}"), deployment_type: t },
        }
    }

    fn member(role: MemberRole, scope: TokenScope) -> MemberGrant {
        MemberGrant { team_id: TEAM, role, custom_roles: vec![], project_admin_of: vec![], scope }
    }

    fn allowed(subject: &Subject, action: Action, resource: &Resource) -> bool {
        decide(subject, action, resource, None).allowed
    }

    fn custom(name: &str, json: &str) -> CustomRole {
        CustomRole { name: name.into(), statements: Statement::parse_all(json).unwrap() }
    }

    #[test]
    fn developer_table() {
        let dev = Subject::AppToken(member(MemberRole::Developer, TokenScope::Team));
        let team = Resource::Team { team_id: TEAM };
        let web = Resource::Project { team_id: TEAM, project: project(10, "web") };
        let prod = deployment_in(10, "web", 100, DeploymentType::Prod);
        let dev_dep = deployment_in(10, "web", 101, DeploymentType::Dev);
        let preview = deployment_in(10, "web", 102, DeploymentType::Preview);
        let custom_dep = deployment_in(10, "web", 103, DeploymentType::Custom);

        for a in [Action::TeamView, Action::MemberView, Action::ProjectCreate, Action::OauthAppView] {
            assert!(allowed(&dev, a, &team), "{a}");
        }
        for a in [Action::TeamUpdate, Action::MemberInvite, Action::CustomRoleManage] {
            assert!(!allowed(&dev, a, &team), "{a}");
        }
        for a in [
            Action::ProjectView,
            Action::ProjectUpdate,
            Action::DeploymentCreate,
            Action::DeployKeyView,
            Action::TokenView,
            Action::TokenRevoke,
        ] {
            assert!(allowed(&dev, a, &web), "{a}");
        }
        assert!(!allowed(&dev, Action::ProjectDelete, &web));
        assert!(!allowed(&dev, Action::DeployKeyManage, &web));
        assert!(allowed(&dev, Action::DeployKeyManage, &dev_dep));
        assert!(!allowed(&dev, Action::DeployKeyManage, &prod));
        for a in Action::of_kind(ResourceKind::Deployment) {
            assert!(allowed(&dev, a, &dev_dep), "{a}");
            assert!(allowed(&dev, a, &preview), "{a}");
            let read_only =
                matches!(a, Action::DeploymentView | Action::BuildsView | Action::LogsView | Action::DataView);
            assert_eq!(allowed(&dev, a, &prod), read_only, "{a}");
            assert_eq!(allowed(&dev, a, &custom_dep), read_only, "{a}");
        }
        assert!(!allowed(&dev, Action::EnvView, &prod), "env vars hold secrets");
    }

    #[test]
    fn signed_in_admins_manage_what_their_tokens_may_not() {
        let admin = Subject::Member(member(MemberRole::Admin, TokenScope::Team));
        let developer = Subject::Member(member(MemberRole::Developer, TokenScope::Team));
        let team = Resource::Team { team_id: TEAM };
        for a in Action::of_kind(ResourceKind::Team) {
            assert!(allowed(&admin, a, &team), "{a}");
        }
        assert!(!allowed(&developer, Action::CustomRoleManage, &team));
        assert!(!allowed(&developer, Action::MemberInvite, &team));
        assert!(!allowed(&admin, Action::TeamView, &Resource::Team { team_id: 2 }));
    }

    #[test]
    fn admin_tokens_never_manage_people_roles_or_apps() {
        let admin = Subject::AppToken(member(MemberRole::Admin, TokenScope::Team));
        let team = Resource::Team { team_id: TEAM };
        for a in Action::of_kind(ResourceKind::Team) {
            assert_eq!(allowed(&admin, a, &team), !a.is_never_delegated(), "{a}");
        }
        assert!(allowed(&admin, Action::DeploymentDelete, &deployment_in(1, "x", 2, DeploymentType::Prod)));
    }

    #[test]
    fn project_tokens_stay_in_their_project() {
        let token = Subject::AppToken(member(MemberRole::Admin, TokenScope::Project(10)));
        assert!(allowed(
            &token,
            Action::ProjectView,
            &Resource::Project { team_id: TEAM, project: project(10, "web") }
        ));
        assert!(allowed(&token, Action::DeploymentDeploy, &deployment_in(10, "web", 5, DeploymentType::Prod)));
        assert!(!allowed(
            &token,
            Action::ProjectView,
            &Resource::Project { team_id: TEAM, project: project(11, "api") }
        ));
        assert!(!allowed(&token, Action::DeploymentView, &deployment_in(11, "api", 6, DeploymentType::Dev)));
        assert!(!allowed(&token, Action::TeamView, &Resource::Team { team_id: TEAM }));
    }

    #[test]
    fn other_teams_and_wrong_resource_kinds_are_denied() {
        let admin = Subject::AppToken(member(MemberRole::Admin, TokenScope::Team));
        assert!(!allowed(&admin, Action::TeamView, &Resource::Team { team_id: 2 }));
        assert!(!allowed(&admin, Action::DeploymentDeploy, &Resource::Team { team_id: TEAM }));
        assert!(!allowed(&admin, Action::ProjectView, &Resource::Team { team_id: TEAM }));
    }

    #[test]
    fn project_admin_flag_grants_that_project_only() {
        let mut grant = member(MemberRole::Developer, TokenScope::Team);
        grant.project_admin_of = vec![10];
        let subject = Subject::AppToken(grant);
        assert!(allowed(
            &subject,
            Action::ProjectDelete,
            &Resource::Project { team_id: TEAM, project: project(10, "web") }
        ));
        assert!(allowed(&subject, Action::EnvView, &deployment_in(10, "web", 1, DeploymentType::Prod)));
        assert!(!allowed(&subject, Action::EnvView, &deployment_in(11, "api", 2, DeploymentType::Prod)));
        assert!(!allowed(&subject, Action::TeamUpdate, &Resource::Team { team_id: TEAM }));
    }

    #[test]
    fn custom_roles_deny_beats_allow_inside_a_role_and_allows_or_across_roles() {
        let deployer = custom(
            "deployer",
            r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment:*"},
                {"effect":"deny","actions":["deployment:deploy"],"resource":"project:*:deployment:type=prod"}]"#,
        );
        let prod_deployer = custom(
            "prod-deployer",
            r#"[{"effect":"allow","actions":["deployment:deploy"],"resource":"project:slug=web:deployment:type=prod"}]"#,
        );
        let prod = deployment_in(10, "web", 1, DeploymentType::Prod);
        let api_prod = deployment_in(11, "api", 2, DeploymentType::Prod);

        let mut grant = member(MemberRole::Custom, TokenScope::Team);
        grant.custom_roles = vec![deployer.clone()];
        let only_deployer = Subject::AppToken(grant.clone());
        assert!(!allowed(&only_deployer, Action::DeploymentDeploy, &prod));
        assert!(allowed(&only_deployer, Action::LogsView, &prod));
        assert!(!allowed(&only_deployer, Action::TeamView, &Resource::Team { team_id: TEAM }), "default deny");

        grant.custom_roles.push(prod_deployer);
        let both = Subject::AppToken(grant);
        assert!(allowed(&both, Action::DeploymentDeploy, &prod));
        assert!(!allowed(&both, Action::DeploymentDeploy, &api_prod));
    }

    #[test]
    fn deploy_keys() {
        let prod = deployment_in(10, "web", 1, DeploymentType::Prod);
        let other = deployment_in(10, "web", 2, DeploymentType::Prod);
        let key = Subject::DeployKey {
            team_id: TEAM,
            scope: DeployKeyScope::Deployment(1),
            actions: Action::DEPLOY_KEY_DEFAULTS.iter().copied().collect(),
        };
        assert!(allowed(&key, Action::DeploymentDeploy, &prod));
        assert!(!allowed(&key, Action::DeploymentDeploy, &other));
        assert!(!allowed(&key, Action::EnvView, &prod));
        assert!(!allowed(&key, Action::ReleasesPromote, &prod));
        assert!(decide(&key, Action::ReleasesPromote, &prod, Some("rel_1")).allowed);

        let preview_key = Subject::DeployKey {
            team_id: TEAM,
            scope: DeployKeyScope::PreviewProject(10),
            actions: Action::DEPLOY_KEY_DEFAULTS.iter().copied().collect(),
        };
        let web = Resource::Project { team_id: TEAM, project: project(10, "web") };
        assert!(allowed(&preview_key, Action::DeploymentCreate, &web));
        assert!(!allowed(&preview_key, Action::ProjectView, &web));
        assert!(allowed(&preview_key, Action::DeploymentDeploy, &deployment_in(10, "web", 3, DeploymentType::Preview)));
        assert!(!allowed(&preview_key, Action::DeploymentDeploy, &prod));
    }

    #[test]
    fn deploy_key_custom_role_adds_and_removes_actions() {
        let role = custom(
            "ci",
            r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"},
                {"effect":"deny","actions":["run"],"resource":"project:*:deployment:type=prod"},
                {"effect":"allow","actions":["team:view"],"resource":"team"}]"#,
        );
        let prod = deployment_in(10, "web", 1, DeploymentType::Prod);
        let effective = deploy_key_effective_actions(Action::DEPLOY_KEY_DEFAULTS, Some(&role), &prod);
        assert!(effective.contains(&Action::EnvView));
        assert!(!effective.contains(&Action::Run));
        assert!(!effective.contains(&Action::TeamView));
        let dev = deployment_in(10, "web", 2, DeploymentType::Dev);
        assert!(deploy_key_effective_actions(Action::DEPLOY_KEY_DEFAULTS, Some(&role), &dev).contains(&Action::Run));
    }

    #[test]
    fn admin_keys_act_only_on_their_deployment() {
        let key = Subject::AdminKey { team_id: TEAM, deployment_id: 1 };
        assert!(allowed(&key, Action::EnvView, &deployment_in(10, "web", 1, DeploymentType::Prod)));
        assert!(!allowed(&key, Action::EnvView, &deployment_in(10, "web", 2, DeploymentType::Prod)));
        assert!(!allowed(&key, Action::ProjectView, &Resource::Project { team_id: TEAM, project: project(10, "web") }));
    }

    #[test]
    fn admin_keys_never_take_project_or_team_actions_through_their_deployment() {
        let key = Subject::AdminKey { team_id: TEAM, deployment_id: 1 };
        let own = deployment_in(10, "web", 1, DeploymentType::Prod);
        let project_resource = Resource::Project { team_id: TEAM, project: project(10, "web") };
        for kind in [ResourceKind::Team, ResourceKind::Project, ResourceKind::Deployment] {
            for action in Action::of_kind(kind) {
                let deployment_action = kind == ResourceKind::Deployment;
                assert_eq!(allowed(&key, action, &own), deployment_action, "{action} on its deployment");
                assert!(!allowed(&key, action, &project_resource), "{action} on its project");
                assert!(!allowed(&key, action, &Resource::Team { team_id: TEAM }), "{action} on its team");
            }
        }
    }
}
