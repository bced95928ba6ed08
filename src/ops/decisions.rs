//! Decisions for platform backends (`POST /v1/check`, SPEC §4): the named resource is looked
//! up as it is now, then the pure decision function answers.

use diesel::QueryResult;

use crate::authz::{Action, Decision, DeploymentRef, ProjectRef, Reason, Resource, decide};
use crate::db::DbConnection;
use crate::db::models::{deployments, projects, teams};
use crate::domain::{DeploymentName, DeploymentType, Slug};
use crate::ops::verify::{self, Verified};

/// A resource as a request names it: by slugs, or a deployment by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceName {
    Team(Slug),
    Project(Slug, Slug),
    Deployment(DeploymentName),
}

/// Looks the resource up with its ancestors; `None` when it does not exist.
pub(crate) fn resolve(conn: &mut DbConnection, name: &ResourceName) -> QueryResult<Option<Resource>> {
    Ok(match name {
        ResourceName::Deployment(name) => {
            deployments::find_in_context_by_name(conn, name.as_str())?.map(|found| Resource::Deployment {
                team_id: found.team_id,
                project: ProjectRef { id: found.deployment.project_id, slug: found.project_slug },
                deployment: DeploymentRef {
                    id: found.deployment.id,
                    name: found.deployment.name,
                    deployment_type: DeploymentType::parse(&found.deployment.deployment_type)
                        .unwrap_or(DeploymentType::Custom),
                },
            })
        }
        ResourceName::Team(team) | ResourceName::Project(team, _) => {
            let Some(team) = teams::find_by_slug(conn, team.as_str())? else {
                return Ok(None);
            };
            match name {
                ResourceName::Project(_, slug) => projects::find(conn, team.id, slug.as_str())?
                    .map(|p| Resource::Project { team_id: team.id, project: ProjectRef { id: p.id, slug: p.slug } }),
                _ => Some(Resource::Team { team_id: team.id }),
            }
        }
    })
}

/// May the live credential `verified` perform `action` on the resource `name`? A resource
/// that does not exist is a denial (`no_such_resource`), not an error. `release_id` is the
/// request context's.
pub fn check(
    conn: &mut DbConnection,
    verified: &Verified,
    action: Action,
    name: &ResourceName,
    release_id: Option<&str>,
) -> QueryResult<Decision> {
    let Some(resource) = resolve(conn, name)? else {
        return Ok(Reason::NoSuchResource.into());
    };
    let subject = verify::subject(conn, verified)?;
    Ok(decide(&subject, action, &resource, release_id))
}
