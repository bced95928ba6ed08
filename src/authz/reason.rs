//! Why a decision came out as it did: the machine-readable `reason` of `POST /v1/check`
//! (SPEC §4), one string a backend can branch on.

use std::fmt;

use serde::Serialize;

/// Why a credential may or may not perform an action on a resource. `Display` and serde render
/// it as exactly one of these strings (`<name>` being a custom role's name):
///
/// Allowed:
/// - `allowed_by_default_actions`: a deploy key whose action list is the SPEC §3 default, and
///   the list contains the action;
/// - `allowed_by_key_actions`: a deploy key whose explicit action list contains the action;
/// - `allowed_by_role:<name>`: a custom role allows it — the first role by name that does, for a
///   member with custom roles; a deploy key's role adding the action (SPEC §2, §3);
/// - `allowed_by_preview_deploy_key`: a preview deploy key (`preview:<team>:<project>`) creating
///   a deployment in its project (SPEC §3);
/// - `allowed_by_admin_key`: a deployment action by that deployment's admin key (SPEC §3);
/// - `allowed_by_team_admin`: the user's built-in role is `admin` (SPEC §2);
/// - `allowed_by_project_admin`: the user is project admin of the resource's project (SPEC §2);
/// - `allowed_by_developer_role`: the built-in `developer` role includes it there (SPEC §2).
///
/// Denied:
/// - `inactive`: the credential is invalid, expired or revoked;
/// - `wrong_audience`: the token is bound (RFC 8707) to resource servers other than the one
///   asking (`resource_server`);
/// - `no_such_resource`: the resource does not exist, or its name cannot be one;
/// - `other_team`: the resource belongs to another team than the credential;
/// - `wrong_resource_kind`: the action is not about that kind of resource (a deployment action on
///   a team or a project, a project action on a team);
/// - `not_in_scope`: outside the credential's reach — a project token off its project (team
///   actions included), a deploy key off its deployment or project (and every team action), an
///   admin key off its deployment (and every project or team action);
/// - `never_delegated`: member, role or OAuth-app management by an application token (SPEC §2);
/// - `denied_by_role:<name>`: a matching deny statement of that custom role — for a member, the
///   first role by name that denies when no role allows; for a deploy key, its role;
/// - `not_allowed_by_role`: no custom role of the member says anything about it (default deny);
/// - `not_allowed_by_developer_role`: the built-in `developer` role does not include it there;
/// - `not_in_key_actions`: neither the deploy key's actions nor its role's allow statements
///   include it;
/// - `release_id_required`: `releases:promote` by a deploy key with no `context.release_id`
///   (SPEC §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    AllowedByDefaultActions,
    AllowedByKeyActions,
    AllowedByRole(String),
    AllowedByPreviewDeployKey,
    AllowedByAdminKey,
    AllowedByTeamAdmin,
    AllowedByProjectAdmin,
    AllowedByDeveloperRole,
    Inactive,
    WrongAudience,
    NoSuchResource,
    OtherTeam,
    WrongResourceKind,
    NotInScope,
    NeverDelegated,
    DeniedByRole(String),
    NotAllowedByRole,
    NotAllowedByDeveloperRole,
    NotInKeyActions,
    ReleaseIdRequired,
}

impl Reason {
    /// Whether this is a reason to allow.
    pub fn allows(&self) -> bool {
        matches!(
            self,
            Reason::AllowedByDefaultActions
                | Reason::AllowedByKeyActions
                | Reason::AllowedByRole(_)
                | Reason::AllowedByPreviewDeployKey
                | Reason::AllowedByAdminKey
                | Reason::AllowedByTeamAdmin
                | Reason::AllowedByProjectAdmin
                | Reason::AllowedByDeveloperRole
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fixed = match self {
            Reason::AllowedByRole(role) => return write!(f, "allowed_by_role:{role}"),
            Reason::DeniedByRole(role) => return write!(f, "denied_by_role:{role}"),
            Reason::AllowedByDefaultActions => "allowed_by_default_actions",
            Reason::AllowedByKeyActions => "allowed_by_key_actions",
            Reason::AllowedByPreviewDeployKey => "allowed_by_preview_deploy_key",
            Reason::AllowedByAdminKey => "allowed_by_admin_key",
            Reason::AllowedByTeamAdmin => "allowed_by_team_admin",
            Reason::AllowedByProjectAdmin => "allowed_by_project_admin",
            Reason::AllowedByDeveloperRole => "allowed_by_developer_role",
            Reason::Inactive => "inactive",
            Reason::WrongAudience => "wrong_audience",
            Reason::NoSuchResource => "no_such_resource",
            Reason::OtherTeam => "other_team",
            Reason::WrongResourceKind => "wrong_resource_kind",
            Reason::NotInScope => "not_in_scope",
            Reason::NeverDelegated => "never_delegated",
            Reason::NotAllowedByRole => "not_allowed_by_role",
            Reason::NotAllowedByDeveloperRole => "not_allowed_by_developer_role",
            Reason::NotInKeyActions => "not_in_key_actions",
            Reason::ReleaseIdRequired => "release_id_required",
        };
        f.write_str(fixed)
    }
}

/// The [`Display`](fmt::Display) string.
impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An answer: allowed or not, and why. `allowed` always agrees with [`Reason::allows`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub allowed: bool,
    /// Machine-readable: `allowed_by_default_actions`, `allowed_by_key_actions`,
    /// `allowed_by_role:<name>`, `allowed_by_preview_deploy_key`, `allowed_by_admin_key`,
    /// `allowed_by_team_admin`, `allowed_by_project_admin`, `allowed_by_developer_role`,
    /// `inactive`, `wrong_audience`, `no_such_resource`, `other_team`, `wrong_resource_kind`, `not_in_scope`,
    /// `never_delegated`, `denied_by_role:<name>`, `not_allowed_by_role`,
    /// `not_allowed_by_developer_role`, `not_in_key_actions`, `release_id_required`.
    #[schema(value_type = String, example = "allowed_by_default_actions")]
    pub reason: Reason,
}

impl From<Reason> for Decision {
    fn from(reason: Reason) -> Decision {
        Decision { allowed: reason.allows(), reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_as_one_string() {
        assert_eq!(
            serde_json::to_value(Reason::AllowedByRole("ci deploy".into())).unwrap(),
            "allowed_by_role:ci deploy"
        );
        assert_eq!(Reason::DeniedByRole("ops".into()).to_string(), "denied_by_role:ops");
        assert_eq!(
            serde_json::to_value(Decision::from(Reason::ReleaseIdRequired)).unwrap(),
            serde_json::json!({ "allowed": false, "reason": "release_id_required" })
        );
        assert!(Decision::from(Reason::AllowedByAdminKey).allowed);
    }
}
