//! What decisions are about: a team, a project, or a deployment, each with its ancestors.
//! Both the decision function and custom-role statements match against these.

use crate::domain::DeploymentType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: i64,
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRef {
    pub id: i64,
    pub name: String,
    pub deployment_type: DeploymentType,
}

/// The thing acted upon, with its ancestors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Team { team_id: i64 },
    Project { team_id: i64, project: ProjectRef },
    Deployment { team_id: i64, project: ProjectRef, deployment: DeploymentRef },
}

impl Resource {
    pub fn team_id(&self) -> i64 {
        match self {
            Resource::Team { team_id } | Resource::Project { team_id, .. } | Resource::Deployment { team_id, .. } => {
                *team_id
            }
        }
    }

    pub(super) fn project(&self) -> Option<&ProjectRef> {
        match self {
            Resource::Team { .. } => None,
            Resource::Project { project, .. } | Resource::Deployment { project, .. } => Some(project),
        }
    }

    pub(super) fn deployment(&self) -> Option<&DeploymentRef> {
        match self {
            Resource::Deployment { deployment, .. } => Some(deployment),
            _ => None,
        }
    }
}
