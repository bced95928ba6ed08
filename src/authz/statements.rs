//! Custom roles (SPEC §2): team-owned lists of `{"effect", "actions", "resource"}` statements.
//! Default deny; inside one role deny beats allow; across roles allows are OR'd.

use serde::Deserialize;

use super::actions::{Action, ResourceKind};
use super::resource::{DeploymentRef, ProjectRef, Resource};
use crate::domain::{DeploymentType, Invalid};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ProjectSelector {
    Slug(String),
    Id(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DeploymentSelector {
    Name(String),
    Type(DeploymentType),
}

/// `*`, or selectors joined by `,` (any one may match).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selectors<T> {
    Any,
    OneOf(Vec<T>),
}

impl<T> Selectors<T> {
    fn matches(&self, test: impl Fn(&T) -> bool) -> bool {
        match self {
            Selectors::Any => true,
            Selectors::OneOf(list) => list.iter().any(test),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Team,
    Project(Selectors<ProjectSelector>),
    Deployment(Selectors<ProjectSelector>, Selectors<DeploymentSelector>),
}

impl Pattern {
    fn kind(&self) -> ResourceKind {
        match self {
            Pattern::Team => ResourceKind::Team,
            Pattern::Project(_) => ResourceKind::Project,
            Pattern::Deployment(..) => ResourceKind::Deployment,
        }
    }

    fn parse(text: &str) -> Result<Pattern, Invalid> {
        let invalid =
            || Invalid(format!("invalid resource {text:?}: use team, project:SEL or project:SEL:deployment:SEL"));
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            ["team"] => Ok(Pattern::Team),
            ["project", project] => Ok(Pattern::Project(parse_selectors(project, project_selector)?)),
            ["project", project, "deployment", deployment] => Ok(Pattern::Deployment(
                parse_selectors(project, project_selector)?,
                parse_selectors(deployment, deployment_selector)?,
            )),
            _ => Err(invalid()),
        }
    }

    fn matches_project(selectors: &Selectors<ProjectSelector>, project: &ProjectRef) -> bool {
        selectors.matches(|s| match s {
            ProjectSelector::Slug(slug) => *slug == project.slug,
            ProjectSelector::Id(id) => *id == project.id,
        })
    }

    fn matches_deployment(selectors: &Selectors<DeploymentSelector>, deployment: &DeploymentRef) -> bool {
        selectors.matches(|s| match s {
            DeploymentSelector::Name(name) => *name == deployment.name,
            DeploymentSelector::Type(t) => *t == deployment.deployment_type,
        })
    }

    fn matches(&self, resource: &Resource) -> bool {
        match (self, resource) {
            (Pattern::Team, _) => true,
            (Pattern::Project(p), Resource::Project { project, .. })
            | (Pattern::Project(p), Resource::Deployment { project, .. }) => Self::matches_project(p, project),
            (Pattern::Deployment(p, d), Resource::Deployment { project, deployment, .. }) => {
                Self::matches_project(p, project) && Self::matches_deployment(d, deployment)
            }
            _ => false,
        }
    }
}

fn parse_selectors<T>(text: &str, one: impl Fn(&str) -> Result<T, Invalid>) -> Result<Selectors<T>, Invalid> {
    if text == "*" {
        return Ok(Selectors::Any);
    }
    text.split(',').map(one).collect::<Result<Vec<T>, Invalid>>().map(Selectors::OneOf)
}

fn project_selector(text: &str) -> Result<ProjectSelector, Invalid> {
    match text.split_once('=') {
        Some(("slug", slug)) => crate::domain::Slug::parse(slug).map(|s| ProjectSelector::Slug(s.into_string())),
        Some(("id", id)) => {
            id.parse().map(ProjectSelector::Id).map_err(|_| Invalid(format!("invalid project id {id:?}")))
        }
        _ => Err(Invalid(format!("invalid project selector {text:?}: use slug=<slug> or id=<id>"))),
    }
}

fn deployment_selector(text: &str) -> Result<DeploymentSelector, Invalid> {
    match text.split_once('=') {
        Some(("name", name)) => {
            crate::domain::DeploymentName::parse(name).map(|n| DeploymentSelector::Name(n.as_str().to_owned()))
        }
        Some(("type", t)) => DeploymentType::parse(t).map(DeploymentSelector::Type),
        _ => Err(Invalid(format!(
            "invalid deployment selector {text:?}: use name=<name> or type=prod|dev|preview|custom"
        ))),
    }
}

/// One validated statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub effect: Effect,
    /// `None` stands for `"*"`: every action of the resource's kind.
    actions: Option<Vec<Action>>,
    pattern: Pattern,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatement {
    effect: String,
    actions: RawActions,
    resource: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawActions {
    All(String),
    List(Vec<String>),
}

impl Statement {
    /// Parses and validates a role's statements (a JSON array). Every action must belong to
    /// its statement's resource kind.
    pub fn parse_all(json: &str) -> Result<Vec<Statement>, Invalid> {
        let raw: Vec<RawStatement> = serde_json::from_str(json)
            .map_err(|e| Invalid(format!("statements must be a JSON array of statements: {e}")))?;
        if raw.is_empty() || raw.len() > 100 {
            return Err(Invalid::new("a role needs 1 to 100 statements"));
        }
        raw.into_iter().map(Statement::from_raw).collect()
    }

    fn from_raw(raw: RawStatement) -> Result<Statement, Invalid> {
        let effect = match raw.effect.as_str() {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            other => return Err(Invalid(format!("invalid effect {other:?}: use allow or deny"))),
        };
        let pattern = Pattern::parse(&raw.resource)?;
        let actions = match raw.actions {
            RawActions::All(star) if star == "*" => None,
            RawActions::All(other) => {
                return Err(Invalid(format!("actions must be \"*\" or a list, not {other:?}")));
            }
            RawActions::List(names) => {
                if names.is_empty() {
                    return Err(Invalid::new("a statement needs at least one action"));
                }
                let mut actions = Vec::with_capacity(names.len());
                for name in names {
                    let action: Action = name.parse().map_err(Invalid)?;
                    if action.kind() != pattern.kind() {
                        return Err(Invalid(format!("action {action} does not apply to resource {:?}", raw.resource)));
                    }
                    actions.push(action);
                }
                Some(actions)
            }
        };
        Ok(Statement { effect, actions, pattern })
    }

    /// Whether this statement speaks about `action` on `resource`.
    pub fn covers(&self, action: Action, resource: &Resource) -> bool {
        self.pattern.kind() == action.kind()
            && self.actions.as_ref().is_none_or(|list| list.contains(&action))
            && self.pattern.matches(resource)
    }
}

/// A team's custom role.
#[derive(Debug, Clone)]
pub struct CustomRole {
    pub name: String,
    pub statements: Vec<Statement>,
}

impl CustomRole {
    /// What this role says about `action` on `resource` (SPEC §2): `Deny` when a matching
    /// statement denies it (deny beats allow inside a role), else `Allow` when one allows it,
    /// else nothing (default deny is the caller's). A team-level statement speaks only about
    /// team actions: it never covers a project or deployment action, whatever the resource.
    pub fn verdict(&self, action: Action, resource: &Resource) -> Option<Effect> {
        let mut verdict = None;
        for statement in self.statements.iter().filter(|s| s.covers(action, resource)) {
            match statement.effect {
                Effect::Deny => return Some(Effect::Deny),
                Effect::Allow => verdict = Some(Effect::Allow),
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example() {
        let statements = Statement::parse_all(
            r#"[{"effect":"allow","actions":["deployment:deploy"],"resource":"project:slug=web:deployment:type=dev,type=preview"}]"#,
        )
        .unwrap();
        assert_eq!(statements.len(), 1);
    }

    #[test]
    fn rejects_actions_of_another_kind_and_bad_grammar() {
        for bad in [
            r#"[{"effect":"allow","actions":["deployment:deploy"],"resource":"team"}]"#,
            r#"[{"effect":"allow","actions":["team:view"],"resource":"project:*"}]"#,
            r#"[{"effect":"allow","actions":["fly"],"resource":"team"}]"#,
            r#"[{"effect":"maybe","actions":"*","resource":"team"}]"#,
            r#"[{"effect":"allow","actions":"all","resource":"team"}]"#,
            r#"[{"effect":"allow","actions":[],"resource":"team"}]"#,
            r#"[{"effect":"allow","actions":"*","resource":"project:name=web"}]"#,
            r#"[{"effect":"allow","actions":"*","resource":"project:*:deployment:type=staging"}]"#,
            r#"[{"effect":"allow","actions":"*","resource":"deployment:*"}]"#,
            r#"[{"effect":"allow","actions":"*","resource":"team","extra":1}]"#,
            r#"[]"#,
            r#"{}"#,
        ] {
            assert!(Statement::parse_all(bad).is_err(), "{bad}");
        }
    }
}
