//! The decision function (SPEC §2, §3): may this subject perform this action on this resource,
//! and why? One pure evaluation for every credential; the reasons are [`Reason`]'s.

use std::collections::BTreeSet;

use super::actions::{Action, ResourceKind};
use super::reason::{Decision, Reason};
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

/// Where a deploy key acts (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployKeyScope {
    /// `prod:`, `dev:`, `preview:` or `custom:<deployment>`: that deployment, and its project
    /// for the project actions the key's role allows.
    Deployment { project_id: i64, deployment_id: i64 },
    /// `preview:<team>:<project>`: creates preview deployments in one project and acts on that
    /// project's preview deployments (and on the project, for what the key's role allows).
    PreviewProject { project_id: i64 },
}

impl DeployKeyScope {
    /// Whether `resource` is one the key may act on at all: its project, or its deployment (for
    /// a preview deploy key, any preview deployment of its project). Never a team.
    fn reaches(self, resource: &Resource) -> bool {
        match (self, resource) {
            (_, Resource::Team { .. }) => false,
            (
                DeployKeyScope::Deployment { project_id, .. } | DeployKeyScope::PreviewProject { project_id },
                Resource::Project { project, .. },
            ) => project.id == project_id,
            (DeployKeyScope::Deployment { deployment_id, .. }, Resource::Deployment { deployment, .. }) => {
                deployment.id == deployment_id
            }
            (DeployKeyScope::PreviewProject { project_id }, Resource::Deployment { project, deployment, .. }) => {
                project.id == project_id && deployment.deployment_type == DeploymentType::Preview
            }
        }
    }
}

/// A deploy key as decisions see it (SPEC §3): where it acts, its own actions, and the custom
/// role that extends them.
#[derive(Debug, Clone)]
pub struct DeployKeyGrant {
    pub team_id: i64,
    pub scope: DeployKeyScope,
    /// The key's allowed actions as it was given them (deployment actions).
    pub actions: BTreeSet<Action>,
    /// Whether `actions` are the SPEC §3 defaults ([`Action::DEPLOY_KEY_DEFAULTS`]).
    pub default_actions: bool,
    pub role: Option<CustomRole>,
}

impl DeployKeyGrant {
    /// The key's answer for `action` on `resource` of its team, in this order: in scope (see
    /// [`DeployKeyScope`]; project actions only where the key's role speaks of them, or a
    /// preview deploy key's `deployment:create`), then a matching deny statement of its role
    /// (which removes defaults too, the implicit `deployment:create` included), then the
    /// implicit `deployment:create`, then its own actions, then its role's allow statements.
    /// Team-level statements never apply: they cover only team actions, which are out of scope.
    /// Does not look at the release id ([`Self::decide`] does).
    fn reason(&self, action: Action, resource: &Resource) -> Reason {
        let verdict = self.role.as_ref().and_then(|role| Some((role.verdict(action, resource)?, role.name.as_str())));
        let implicit =
            action == Action::DeploymentCreate && matches!(self.scope, DeployKeyScope::PreviewProject { .. });
        let in_scope = self.scope.reaches(resource)
            && match action.kind() {
                ResourceKind::Team => false,
                ResourceKind::Project => implicit || verdict.is_some(),
                ResourceKind::Deployment => true,
            };
        if !in_scope {
            return Reason::NotInScope;
        }
        match verdict {
            Some((Effect::Deny, role)) => Reason::DeniedByRole(role.to_owned()),
            _ if implicit => Reason::AllowedByPreviewDeployKey,
            _ if self.actions.contains(&action) && self.default_actions => Reason::AllowedByDefaultActions,
            _ if self.actions.contains(&action) => Reason::AllowedByKeyActions,
            Some((Effect::Allow, role)) => Reason::AllowedByRole(role.to_owned()),
            None => Reason::NotInKeyActions,
        }
    }

    /// [`Self::reason`], then SPEC §3's rule that `releases:promote` needs a release id.
    fn decide(&self, action: Action, resource: &Resource, release_id: Option<&str>) -> Reason {
        match self.reason(action, resource) {
            allowed
                if allowed.allows() && action == Action::ReleasesPromote && release_id.is_none_or(str::is_empty) =>
            {
                Reason::ReleaseIdRequired
            }
            reason => reason,
        }
    }

    /// The key's effective allowed actions at `resource` (SPEC §4 "after the custom role"):
    /// its own and its role's, less its role's denials, `releases:promote` counted as allowed
    /// (it is, given a release id). A preview deploy key's implicit `deployment:create` is not
    /// one of its allowed actions (SPEC §3 lists it apart) and is left out.
    pub fn effective_actions(&self, resource: &Resource) -> Vec<Action> {
        Action::ALL
            .iter()
            .copied()
            .filter(|action| {
                matches!(
                    self.reason(*action, resource),
                    Reason::AllowedByDefaultActions | Reason::AllowedByKeyActions | Reason::AllowedByRole(_)
                )
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub enum Subject {
    /// A person acting for themselves (the pages): their membership's full standing.
    Member(MemberGrant),
    /// An application acting for a person: the standing within the token's scope, never
    /// managing people, roles or apps.
    AppToken(MemberGrant),
    DeployKey(DeployKeyGrant),
    AdminKey {
        team_id: i64,
        deployment_id: i64,
    },
}

impl Subject {
    fn team_id(&self) -> i64 {
        match self {
            Subject::Member(member) | Subject::AppToken(member) => member.team_id,
            Subject::DeployKey(key) => key.team_id,
            Subject::AdminKey { team_id, .. } => *team_id,
        }
    }
}

/// Whether `action` may be asked about `resource` at all: a team action about the team or
/// anything in it, a project action about a project or one of its deployments, a deployment
/// action about a deployment.
fn applies_to(action: Action, resource: &Resource) -> bool {
    match action.kind() {
        ResourceKind::Team => true,
        ResourceKind::Project => resource.project().is_some(),
        ResourceKind::Deployment => resource.deployment().is_some(),
    }
}

/// Decides whether `subject` may perform `action` on `resource`, and why. `release_id` is the
/// request context's release id, which `releases:promote` by a deploy key requires (SPEC §3).
pub fn decide(subject: &Subject, action: Action, resource: &Resource, release_id: Option<&str>) -> Decision {
    let reason = if !applies_to(action, resource) {
        Reason::WrongResourceKind
    } else if resource.team_id() != subject.team_id() {
        Reason::OtherTeam
    } else {
        match subject {
            Subject::Member(member) => decide_member(member, action, resource, false),
            Subject::AppToken(member) => decide_member(member, action, resource, true),
            Subject::DeployKey(key) => key.decide(action, resource, release_id),
            Subject::AdminKey { deployment_id, .. } => decide_admin_key(*deployment_id, action, resource),
        }
    };
    Decision::from(reason)
}

/// An admin key has every *deployment* action on its own deployment (SPEC §3, §4), and
/// nothing else: project-level actions stay out of reach even when asked about the deployment.
fn decide_admin_key(deployment_id: i64, action: Action, resource: &Resource) -> Reason {
    match resource.deployment() {
        Some(d) if d.id == deployment_id && action.kind() == ResourceKind::Deployment => Reason::AllowedByAdminKey,
        _ => Reason::NotInScope,
    }
}

/// An application token (SPEC §2): its scope (a project token reaches neither the team's
/// actions nor other projects), the actions never delegated, project admin, then the user's
/// current role.
/// `delegated`: the member acts through an application token, and SPEC §2's exclusions apply;
/// a person acting for themselves through the pages is not limited by them.
fn decide_member(member: &MemberGrant, action: Action, resource: &Resource, delegated: bool) -> Reason {
    if let TokenScope::Project(project_id) = member.scope
        && (action.kind() == ResourceKind::Team || resource.project().is_none_or(|p| p.id != project_id))
    {
        return Reason::NotInScope;
    }
    if delegated && action.is_never_delegated() {
        return Reason::NeverDelegated;
    }
    if action.kind() != ResourceKind::Team
        && resource.project().is_some_and(|project| member.project_admin_of.contains(&project.id))
    {
        return Reason::AllowedByProjectAdmin;
    }
    match member.role {
        MemberRole::Admin => Reason::AllowedByTeamAdmin,
        MemberRole::Developer if developer_may(action, resource) => Reason::AllowedByDeveloperRole,
        MemberRole::Developer => Reason::NotAllowedByDeveloperRole,
        MemberRole::Custom => decide_custom_roles(&member.custom_roles, action, resource),
    }
}

/// A member's custom roles (SPEC §2): inside one role deny beats allow, across roles allows are
/// OR'd. The reason names the first role by name that allows; failing that, the first that
/// denies; failing that, nothing does (default deny).
fn decide_custom_roles(roles: &[CustomRole], action: Action, resource: &Resource) -> Reason {
    let first_with = |effect: Effect| {
        roles.iter().filter(|role| role.verdict(action, resource) == Some(effect)).map(|role| &role.name).min()
    };
    if let Some(role) = first_with(Effect::Allow) {
        Reason::AllowedByRole(role.clone())
    } else if let Some(role) = first_with(Effect::Deny) {
        Reason::DeniedByRole(role.clone())
    } else {
        Reason::NotAllowedByRole
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::{DeploymentRef, ProjectRef, Statement};

    const TEAM: i64 = 1;
    const WEB: i64 = 10;
    const API: i64 = 11;

    fn project(id: i64) -> ProjectRef {
        ProjectRef { id, slug: if id == WEB { "web" } else { "api" }.into() }
    }

    fn project_resource(id: i64) -> Resource {
        Resource::Project { team_id: TEAM, project: project(id) }
    }

    fn deployment(project_id: i64, id: i64, name: &str, deployment_type: DeploymentType) -> Resource {
        Resource::Deployment {
            team_id: TEAM,
            project: project(project_id),
            deployment: DeploymentRef { id, name: name.into(), deployment_type },
        }
    }

    /// The resources every table below speaks about.
    struct Place {
        team: Resource,
        other_team: Resource,
        web: Resource,
        api: Resource,
        web_prod: Resource,
        web_dev: Resource,
        web_pr_1: Resource,
        web_pr_2: Resource,
        web_custom: Resource,
        api_prod: Resource,
        api_pr: Resource,
        foreign_prod: Resource,
    }

    fn place() -> Place {
        Place {
            team: Resource::Team { team_id: TEAM },
            other_team: Resource::Team { team_id: 2 },
            web: project_resource(WEB),
            api: project_resource(API),
            web_prod: deployment(WEB, 100, "web-prod", DeploymentType::Prod),
            web_dev: deployment(WEB, 101, "web-dev", DeploymentType::Dev),
            web_pr_1: deployment(WEB, 102, "web-pr-1", DeploymentType::Preview),
            web_pr_2: deployment(WEB, 103, "web-pr-2", DeploymentType::Preview),
            web_custom: deployment(WEB, 104, "web-custom", DeploymentType::Custom),
            api_prod: deployment(API, 200, "api-prod", DeploymentType::Prod),
            api_pr: deployment(API, 201, "api-pr-1", DeploymentType::Preview),
            foreign_prod: Resource::Deployment {
                team_id: 2,
                project: ProjectRef { id: 30, slug: "web".into() },
                deployment: DeploymentRef { id: 300, name: "their-prod".into(), deployment_type: DeploymentType::Prod },
            },
        }
    }

    fn role(name: &str, json: &str) -> CustomRole {
        CustomRole { name: name.into(), statements: Statement::parse_all(json).unwrap() }
    }

    fn member(role: MemberRole, scope: TokenScope) -> MemberGrant {
        MemberGrant { team_id: TEAM, role, custom_roles: vec![], project_admin_of: vec![], scope }
    }

    fn token(role: MemberRole, scope: TokenScope) -> Subject {
        Subject::AppToken(member(role, scope))
    }

    fn key(scope: DeployKeyScope, actions: Option<&[Action]>, role: Option<CustomRole>) -> Subject {
        Subject::DeployKey(DeployKeyGrant {
            team_id: TEAM,
            scope,
            actions: actions.unwrap_or(Action::DEPLOY_KEY_DEFAULTS).iter().copied().collect(),
            default_actions: actions.is_none(),
            role,
        })
    }

    /// One row: who, what, on which resource, with which release id → the reason expected.
    type Row<'a> = (&'a str, &'a Subject, Action, &'a Resource, Option<&'a str>, &'a str);

    fn check_rows(rows: &[Row]) {
        let mut failures = Vec::new();
        for (who, subject, action, resource, release_id, expected) in rows {
            let decision = decide(subject, *action, resource, *release_id);
            assert_eq!(decision.allowed, decision.reason.allows());
            if decision.reason.to_string() != *expected {
                failures.push(format!(
                    "{who}: {action} on {resource:?} ({release_id:?}): {} ≠ {expected}",
                    decision.reason
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn application_tokens() {
        let p = place();
        let admin = token(MemberRole::Admin, TokenScope::Team);
        let admin_of_web = token(MemberRole::Admin, TokenScope::Project(WEB));
        let developer = token(MemberRole::Developer, TokenScope::Team);
        let mut grant = member(MemberRole::Developer, TokenScope::Team);
        grant.project_admin_of = vec![WEB];
        let web_admin = Subject::AppToken(grant);
        use Action::*;
        check_rows(&[
            ("admin", &admin, TeamUpdate, &p.team, None, "allowed_by_team_admin"),
            ("admin", &admin, OauthAppView, &p.team, None, "allowed_by_team_admin"),
            ("admin", &admin, DeploymentDelete, &p.api_prod, None, "allowed_by_team_admin"),
            ("admin", &admin, TeamView, &p.other_team, None, "other_team"),
            ("admin", &admin, DeploymentView, &p.foreign_prod, None, "other_team"),
            ("admin", &admin, DeploymentDeploy, &p.team, None, "wrong_resource_kind"),
            ("admin", &admin, DeploymentDeploy, &p.web, None, "wrong_resource_kind"),
            ("admin", &admin, ProjectView, &p.team, None, "wrong_resource_kind"),
            ("admin", &admin, MemberInvite, &p.team, None, "never_delegated"),
            ("admin", &admin, MemberRemove, &p.team, None, "never_delegated"),
            ("admin", &admin, MemberUpdateRole, &p.team, None, "never_delegated"),
            ("admin", &admin, CustomRoleManage, &p.team, None, "never_delegated"),
            ("admin", &admin, OauthAppManage, &p.team, None, "never_delegated"),
            ("project token", &admin_of_web, ProjectView, &p.web, None, "allowed_by_team_admin"),
            ("project token", &admin_of_web, DeploymentDeploy, &p.web_prod, None, "allowed_by_team_admin"),
            ("project token", &admin_of_web, ProjectView, &p.api, None, "not_in_scope"),
            ("project token", &admin_of_web, DeploymentView, &p.api_prod, None, "not_in_scope"),
            ("project token", &admin_of_web, TeamView, &p.team, None, "not_in_scope"),
            ("project token", &admin_of_web, TeamView, &p.web, None, "not_in_scope"),
            ("project token", &admin_of_web, MemberInvite, &p.team, None, "not_in_scope"),
            ("developer", &developer, DeploymentDeploy, &p.web_dev, None, "allowed_by_developer_role"),
            ("developer", &developer, EnvView, &p.web_pr_1, None, "allowed_by_developer_role"),
            ("developer", &developer, DeploymentView, &p.web_prod, None, "allowed_by_developer_role"),
            ("developer", &developer, DeploymentDeploy, &p.web_prod, None, "not_allowed_by_developer_role"),
            ("developer", &developer, EnvView, &p.web_prod, None, "not_allowed_by_developer_role"),
            ("developer", &developer, ProjectDelete, &p.web, None, "not_allowed_by_developer_role"),
            ("developer", &developer, TeamUpdate, &p.team, None, "not_allowed_by_developer_role"),
            ("developer", &developer, MemberRemove, &p.team, None, "never_delegated"),
            ("project admin", &web_admin, ProjectDelete, &p.web, None, "allowed_by_project_admin"),
            ("project admin", &web_admin, EnvView, &p.web_prod, None, "allowed_by_project_admin"),
            ("project admin", &web_admin, EnvView, &p.api_prod, None, "not_allowed_by_developer_role"),
            ("project admin", &web_admin, TeamUpdate, &p.team, None, "not_allowed_by_developer_role"),
            ("project admin", &web_admin, MemberInvite, &p.team, None, "never_delegated"),
        ]);
    }

    #[test]
    fn custom_roles_deny_beats_allow_inside_a_role_and_allows_or_across_roles() {
        let p = place();
        // Listed out of name order: reasons name the first role by name all the same.
        let deployer = role(
            "b-deployer",
            r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment:*"},
                {"effect":"deny","actions":["deployment:deploy"],"resource":"project:*:deployment:type=prod"}]"#,
        );
        let web_prod = role(
            "a-web-prod",
            r#"[{"effect":"allow","actions":["deployment:deploy"],"resource":"project:slug=web:deployment:type=prod"},
                {"effect":"deny","actions":["data:write"],"resource":"project:*:deployment:*"}]"#,
        );
        let viewer = role(
            "c-viewer",
            r#"[{"effect":"allow","actions":["team:view"],"resource":"team"},
                {"effect":"allow","actions":["project:view"],"resource":"project:slug=web,id=11"},
                {"effect":"deny","actions":["deployment:deploy"],"resource":"project:*:deployment:type=custom,type=prod"}]"#,
        );
        let with = |roles: Vec<CustomRole>| {
            let mut grant = member(MemberRole::Custom, TokenScope::Team);
            grant.custom_roles = roles;
            Subject::AppToken(grant)
        };
        let deployer_only = with(vec![deployer.clone()]);
        let both = with(vec![deployer.clone(), web_prod.clone()]);
        let all = with(vec![viewer, deployer, web_prod]);
        let none = with(vec![]);
        use Action::*;
        check_rows(&[
            ("deployer", &deployer_only, LogsView, &p.web_prod, None, "allowed_by_role:b-deployer"),
            ("deployer", &deployer_only, DeploymentDeploy, &p.web_prod, None, "denied_by_role:b-deployer"),
            ("deployer", &deployer_only, DeploymentDeploy, &p.web_dev, None, "allowed_by_role:b-deployer"),
            ("deployer", &deployer_only, TeamView, &p.team, None, "not_allowed_by_role"),
            ("deployer", &deployer_only, ProjectView, &p.web, None, "not_allowed_by_role"),
            ("deployer", &deployer_only, MemberInvite, &p.team, None, "never_delegated"),
            ("both", &both, DeploymentDeploy, &p.web_prod, None, "allowed_by_role:a-web-prod"),
            ("both", &both, DeploymentDeploy, &p.api_prod, None, "denied_by_role:b-deployer"),
            // Both allow; the first by name is named, although it was listed second.
            ("both", &both, DeploymentDeploy, &p.web_dev, None, "allowed_by_role:b-deployer"),
            // a-web-prod denies, b-deployer allows: allows are OR'd across roles.
            ("both", &both, DataWrite, &p.web_dev, None, "allowed_by_role:b-deployer"),
            ("all", &all, TeamView, &p.team, None, "allowed_by_role:c-viewer"),
            ("all", &all, TeamView, &p.web, None, "allowed_by_role:c-viewer"),
            ("all", &all, ProjectView, &p.web, None, "allowed_by_role:c-viewer"),
            ("all", &all, ProjectView, &p.api, None, "allowed_by_role:c-viewer"),
            ("all", &all, ProjectView, &p.api_prod, None, "allowed_by_role:c-viewer"),
            ("all", &all, ProjectUpdate, &p.web, None, "not_allowed_by_role"),
            ("all", &all, LogsView, &p.api_prod, None, "allowed_by_role:b-deployer"),
            // b-deployer and c-viewer deny, a-web-prod allows: allowed.
            ("all", &all, DeploymentDeploy, &p.web_prod, None, "allowed_by_role:a-web-prod"),
            // b-deployer and c-viewer deny, none allows: the first by name is named.
            ("all", &all, DeploymentDeploy, &p.api_prod, None, "denied_by_role:b-deployer"),
            ("no roles", &none, TeamView, &p.team, None, "not_allowed_by_role"),
        ]);
    }

    /// Selectors of every kind (SPEC §2 grammar): `slug=`, `id=`, `name=`, `type=`, lists, `*`.
    const VIEWER: &str = r#"[{"effect":"allow","actions":["logs:view"],"resource":"project:id=11:deployment:name=api-prod"},
        {"effect":"allow","actions":["logs:view"],"resource":"project:slug=web:deployment:type=dev,name=web-pr-2"},
        {"effect":"deny","actions":"*","resource":"project:*:deployment:type=custom"}]"#;

    #[test]
    fn selectors() {
        let p = place();
        let mut grant = member(MemberRole::Custom, TokenScope::Team);
        grant.custom_roles = vec![role("viewer", VIEWER)];
        let viewer = Subject::AppToken(grant);
        use Action::*;
        check_rows(&[
            ("id= and name=", &viewer, LogsView, &p.api_prod, None, "allowed_by_role:viewer"),
            ("id= and name=", &viewer, LogsView, &p.api_pr, None, "not_allowed_by_role"),
            ("slug= and type= in a list", &viewer, LogsView, &p.web_dev, None, "allowed_by_role:viewer"),
            ("slug= and name= in a list", &viewer, LogsView, &p.web_pr_2, None, "allowed_by_role:viewer"),
            ("neither in the list", &viewer, LogsView, &p.web_pr_1, None, "not_allowed_by_role"),
            ("neither in the list", &viewer, LogsView, &p.web_prod, None, "not_allowed_by_role"),
            ("* and type=", &viewer, DeploymentView, &p.web_custom, None, "denied_by_role:viewer"),
            ("other actions", &viewer, DeploymentView, &p.api_prod, None, "not_allowed_by_role"),
        ]);
    }

    #[test]
    fn deploy_keys() {
        let p = place();
        let prod = key(DeployKeyScope::Deployment { project_id: WEB, deployment_id: 100 }, None, None);
        let promoter = role(
            "promoter",
            r#"[{"effect":"allow","actions":["releases:promote"],"resource":"project:*:deployment:type=dev"}]"#,
        );
        let listed = key(
            DeployKeyScope::Deployment { project_id: WEB, deployment_id: 101 },
            Some(&[Action::DeploymentDeploy, Action::LogsView]),
            Some(promoter),
        );
        let ci = role(
            "ci",
            r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"},
                {"effect":"deny","actions":["run"],"resource":"project:*:deployment:type=prod"},
                {"effect":"allow","actions":["run","data:view"],"resource":"project:*:deployment:type=prod"},
                {"effect":"allow","actions":["project:view"],"resource":"project:slug=web"},
                {"effect":"allow","actions":["project:view"],"resource":"project:slug=api"},
                {"effect":"deny","actions":["deployKey:view"],"resource":"project:*"},
                {"effect":"allow","actions":"*","resource":"team"}]"#,
        );
        let with_role = key(DeployKeyScope::Deployment { project_id: WEB, deployment_id: 100 }, None, Some(ci));
        let preview = key(DeployKeyScope::PreviewProject { project_id: WEB }, None, None);
        let pr = role(
            "pr",
            r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:name=web-pr-1"},
                {"effect":"allow","actions":["deployKey:view"],"resource":"project:id=10"},
                {"effect":"deny","actions":["deployment:create"],"resource":"project:slug=web"}]"#,
        );
        let preview_with_role = key(DeployKeyScope::PreviewProject { project_id: WEB }, None, Some(pr));
        let admin_key = Subject::AdminKey { team_id: TEAM, deployment_id: 100 };
        use Action::*;
        check_rows(&[
            ("prod key", &prod, DeploymentDeploy, &p.web_prod, None, "allowed_by_default_actions"),
            ("prod key", &prod, EnvWrite, &p.web_prod, None, "allowed_by_default_actions"),
            ("prod key", &prod, DeploymentDeploy, &p.web_dev, None, "not_in_scope"),
            ("prod key", &prod, DeploymentDeploy, &p.api_prod, None, "not_in_scope"),
            ("prod key", &prod, DeploymentDeploy, &p.foreign_prod, None, "other_team"),
            ("prod key", &prod, DeploymentDeploy, &p.web, None, "wrong_resource_kind"),
            ("prod key", &prod, EnvView, &p.web_prod, None, "not_in_key_actions"),
            ("prod key", &prod, DeploymentDelete, &p.web_prod, None, "not_in_key_actions"),
            ("prod key", &prod, ReleasesPromote, &p.web_prod, None, "release_id_required"),
            ("prod key", &prod, ReleasesPromote, &p.web_prod, Some(""), "release_id_required"),
            ("prod key", &prod, ReleasesPromote, &p.web_prod, Some("rel_1"), "allowed_by_default_actions"),
            ("prod key", &prod, ReleasesPromote, &p.web_dev, Some("rel_1"), "not_in_scope"),
            ("prod key", &prod, ProjectView, &p.web, None, "not_in_scope"),
            ("prod key", &prod, DeploymentCreate, &p.web, None, "not_in_scope"),
            ("prod key", &prod, TeamView, &p.team, None, "not_in_scope"),
            ("listed key", &listed, LogsView, &p.web_dev, None, "allowed_by_key_actions"),
            ("listed key", &listed, BuildsCreate, &p.web_dev, None, "not_in_key_actions"),
            ("listed key", &listed, ReleasesPromote, &p.web_dev, None, "release_id_required"),
            ("listed key", &listed, ReleasesPromote, &p.web_dev, Some("rel_1"), "allowed_by_role:promoter"),
            ("role key", &with_role, EnvView, &p.web_prod, None, "allowed_by_role:ci"),
            ("role key", &with_role, DataView, &p.web_prod, None, "allowed_by_role:ci"),
            // Deny beats allow inside the role, and removes a default.
            ("role key", &with_role, Run, &p.web_prod, None, "denied_by_role:ci"),
            ("role key", &with_role, DeploymentDeploy, &p.web_prod, None, "allowed_by_default_actions"),
            ("role key", &with_role, EnvView, &p.web_dev, None, "not_in_scope"),
            ("role key", &with_role, ProjectView, &p.web, None, "allowed_by_role:ci"),
            ("role key", &with_role, ProjectView, &p.web_prod, None, "allowed_by_role:ci"),
            ("role key", &with_role, ProjectView, &p.api, None, "not_in_scope"),
            ("role key", &with_role, ProjectView, &p.web_dev, None, "not_in_scope"),
            ("role key", &with_role, ProjectUpdate, &p.web, None, "not_in_scope"),
            ("role key", &with_role, DeployKeyView, &p.web, None, "denied_by_role:ci"),
            // The role's team statement allows every team action: keys never take any.
            ("role key", &with_role, TeamView, &p.team, None, "not_in_scope"),
            ("role key", &with_role, MemberView, &p.web, None, "not_in_scope"),
            ("preview key", &preview, DeploymentCreate, &p.web, None, "allowed_by_preview_deploy_key"),
            ("preview key", &preview, DeploymentCreate, &p.api, None, "not_in_scope"),
            ("preview key", &preview, ProjectView, &p.web, None, "not_in_scope"),
            ("preview key", &preview, DeploymentDeploy, &p.web_pr_1, None, "allowed_by_default_actions"),
            ("preview key", &preview, ReleasesPromote, &p.web_pr_2, None, "release_id_required"),
            ("preview key", &preview, DeploymentDeploy, &p.web_prod, None, "not_in_scope"),
            ("preview key", &preview, DeploymentDeploy, &p.web_dev, None, "not_in_scope"),
            ("preview key", &preview, DeploymentDeploy, &p.api_pr, None, "not_in_scope"),
            ("preview key", &preview, EnvView, &p.web_pr_1, None, "not_in_key_actions"),
            ("preview key", &preview, TeamView, &p.team, None, "not_in_scope"),
            ("preview role key", &preview_with_role, EnvView, &p.web_pr_1, None, "allowed_by_role:pr"),
            ("preview role key", &preview_with_role, EnvView, &p.web_pr_2, None, "not_in_key_actions"),
            ("preview role key", &preview_with_role, DeployKeyView, &p.web, None, "allowed_by_role:pr"),
            ("preview role key", &preview_with_role, DeploymentCreate, &p.web, None, "denied_by_role:pr"),
            ("admin key", &admin_key, EnvView, &p.web_prod, None, "allowed_by_admin_key"),
            ("admin key", &admin_key, ReleasesPromote, &p.web_prod, None, "allowed_by_admin_key"),
            ("admin key", &admin_key, EnvView, &p.web_dev, None, "not_in_scope"),
            ("admin key", &admin_key, EnvView, &p.foreign_prod, None, "other_team"),
            ("admin key", &admin_key, ProjectView, &p.web_prod, None, "not_in_scope"),
            ("admin key", &admin_key, ProjectView, &p.web, None, "not_in_scope"),
            ("admin key", &admin_key, TeamView, &p.team, None, "not_in_scope"),
        ]);
    }

    #[test]
    fn effective_deploy_key_actions_follow_the_role() {
        let p = place();
        let ci = role(
            "ci",
            r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:*"},
                {"effect":"deny","actions":["run"],"resource":"project:*:deployment:type=prod"},
                {"effect":"allow","actions":["project:view"],"resource":"project:slug=web"},
                {"effect":"allow","actions":"*","resource":"team"}]"#,
        );
        let Subject::DeployKey(grant) =
            key(DeployKeyScope::Deployment { project_id: WEB, deployment_id: 100 }, None, Some(ci))
        else {
            unreachable!()
        };
        let mut expected: Vec<Action> =
            Action::DEPLOY_KEY_DEFAULTS.iter().copied().filter(|a| *a != Action::Run).collect();
        expected.extend([Action::EnvView, Action::ProjectView]);
        expected.sort();
        assert_eq!(grant.effective_actions(&p.web_prod), expected);

        let pr = role(
            "pr",
            r#"[{"effect":"allow","actions":["env:view"],"resource":"project:*:deployment:name=web-pr-1"},
                {"effect":"allow","actions":["data:view"],"resource":"project:*:deployment:type=preview"}]"#,
        );
        let Subject::DeployKey(preview) = key(DeployKeyScope::PreviewProject { project_id: WEB }, None, Some(pr))
        else {
            unreachable!()
        };
        // What introspection shows for a preview deploy key: a preview deployment of its project
        // with no name, which `name=` selectors cannot match.
        let unnamed = deployment(WEB, 0, "", DeploymentType::Preview);
        let mut expected: Vec<Action> = Action::DEPLOY_KEY_DEFAULTS.to_vec();
        expected.push(Action::DataView);
        expected.sort();
        assert_eq!(preview.effective_actions(&unnamed), expected, "no deployment:create, no env:view");
        assert!(preview.effective_actions(&p.web_pr_1).contains(&Action::EnvView));
    }

    #[test]
    fn developer_table() {
        let p = place();
        let dev = token(MemberRole::Developer, TokenScope::Team);
        let allowed = |a: Action, r: &Resource| decide(&dev, a, r, None).allowed;
        for a in Action::of_kind(ResourceKind::Team) {
            let expected =
                matches!(a, Action::TeamView | Action::MemberView | Action::ProjectCreate | Action::OauthAppView);
            assert_eq!(allowed(a, &p.team), expected, "{a}");
        }
        for a in Action::of_kind(ResourceKind::Project) {
            let expected = !matches!(a, Action::ProjectDelete | Action::DeployKeyManage);
            assert_eq!(allowed(a, &p.web), expected, "{a}");
        }
        assert!(allowed(Action::DeployKeyManage, &p.web_dev));
        assert!(allowed(Action::DeployKeyManage, &p.web_pr_1));
        assert!(!allowed(Action::DeployKeyManage, &p.web_prod));
        for a in Action::of_kind(ResourceKind::Deployment) {
            assert!(allowed(a, &p.web_dev), "{a}");
            assert!(allowed(a, &p.web_pr_1), "{a}");
            let read_only =
                matches!(a, Action::DeploymentView | Action::BuildsView | Action::LogsView | Action::DataView);
            assert_eq!(allowed(a, &p.web_prod), read_only, "{a}");
            assert_eq!(allowed(a, &p.web_custom), read_only, "{a}");
        }
    }

    #[test]
    fn admin_keys_never_take_project_or_team_actions_through_their_deployment() {
        let p = place();
        let key = Subject::AdminKey { team_id: TEAM, deployment_id: 100 };
        for action in Action::ALL.iter().copied() {
            let deployment_action = action.kind() == ResourceKind::Deployment;
            assert_eq!(decide(&key, action, &p.web_prod, None).allowed, deployment_action, "{action}");
            assert!(!decide(&key, action, &p.web, None).allowed, "{action} on its project");
            assert!(!decide(&key, action, &p.team, None).allowed, "{action} on its team");
        }
    }

    #[test]
    fn signed_in_admins_manage_what_their_tokens_may_not() {
        let admin = Subject::Member(member(MemberRole::Admin, TokenScope::Team));
        let developer = Subject::Member(member(MemberRole::Developer, TokenScope::Team));
        let team = Resource::Team { team_id: TEAM };
        for a in Action::of_kind(ResourceKind::Team) {
            assert_eq!(decide(&admin, a, &team, None).reason, Reason::AllowedByTeamAdmin, "{a}");
        }
        for a in [Action::CustomRoleManage, Action::MemberInvite, Action::OauthAppManage] {
            assert_eq!(decide(&developer, a, &team, None).reason, Reason::NotAllowedByDeveloperRole, "{a}");
        }
        assert_eq!(decide(&admin, Action::TeamView, &Resource::Team { team_id: 2 }, None).reason, Reason::OtherTeam);
    }
}
