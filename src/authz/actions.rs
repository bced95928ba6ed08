use std::fmt;
use std::str::FromStr;

/// Which level of the hierarchy an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    Team,
    Project,
    Deployment,
}

macro_rules! actions {
    ($($variant:ident = $name:literal : $kind:ident),+ $(,)?) => {
        /// The fixed action vocabulary (SPEC §2, listed in full in the README).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Action::$variant => $name),+ }
            }

            pub fn kind(self) -> ResourceKind {
                match self { $(Action::$variant => ResourceKind::$kind),+ }
            }
        }

        impl FromStr for Action {
            type Err = String;

            fn from_str(s: &str) -> Result<Action, String> {
                match s {
                    $($name => Ok(Action::$variant),)+
                    other => Err(format!("unknown action {other:?}")),
                }
            }
        }
    };
}

actions! {
    TeamView = "team:view": Team,
    TeamUpdate = "team:update": Team,
    MemberView = "member:view": Team,
    MemberInvite = "member:invite": Team,
    MemberRemove = "member:remove": Team,
    MemberUpdateRole = "member:updateRole": Team,
    ProjectCreate = "project:create": Team,
    OauthAppView = "oauthApp:view": Team,
    OauthAppManage = "oauthApp:manage": Team,
    CustomRoleManage = "customRole:manage": Team,
    ProjectView = "project:view": Project,
    ProjectUpdate = "project:update": Project,
    ProjectDelete = "project:delete": Project,
    DeploymentCreate = "deployment:create": Project,
    DeployKeyView = "deployKey:view": Project,
    DeployKeyManage = "deployKey:manage": Project,
    TokenView = "token:view": Project,
    TokenRevoke = "token:revoke": Project,
    DeploymentView = "deployment:view": Deployment,
    DeploymentDeploy = "deployment:deploy": Deployment,
    DeploymentDelete = "deployment:delete": Deployment,
    BuildsView = "builds:view": Deployment,
    BuildsCreate = "builds:create": Deployment,
    BuildsExport = "builds:export": Deployment,
    BuildsImport = "builds:import": Deployment,
    ReleasesPromote = "releases:promote": Deployment,
    EnvView = "env:view": Deployment,
    EnvWrite = "env:write": Deployment,
    LogsView = "logs:view": Deployment,
    Run = "run": Deployment,
    DataView = "data:view": Deployment,
    DataWrite = "data:write": Deployment,
}

impl Action {
    /// Every action of one kind.
    pub fn of_kind(kind: ResourceKind) -> impl Iterator<Item = Action> {
        Action::ALL.iter().copied().filter(move |a| a.kind() == kind)
    }

    /// Management of people, roles and apps: never available to an application token
    /// (SPEC §2), whatever its user's role.
    pub fn is_never_delegated(self) -> bool {
        matches!(
            self,
            Action::MemberInvite
                | Action::MemberRemove
                | Action::MemberUpdateRole
                | Action::CustomRoleManage
                | Action::OauthAppManage
        )
    }

    /// A deploy key's actions when none are given (SPEC §3).
    pub const DEPLOY_KEY_DEFAULTS: &'static [Action] = &[
        Action::DeploymentView,
        Action::DeploymentDeploy,
        Action::BuildsView,
        Action::BuildsCreate,
        Action::BuildsExport,
        Action::BuildsImport,
        Action::EnvWrite,
        Action::LogsView,
        Action::Run,
        Action::ReleasesPromote,
    ];
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(*action));
        }
        assert!("deployment:fly".parse::<Action>().is_err());
    }

    #[test]
    fn vocabulary_sizes_match_the_spec_table() {
        assert_eq!(Action::of_kind(ResourceKind::Team).count(), 10);
        assert_eq!(Action::of_kind(ResourceKind::Project).count(), 8);
        assert_eq!(Action::of_kind(ResourceKind::Deployment).count(), 14);
    }
}
