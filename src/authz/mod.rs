//! Authorization: the action vocabulary, built-in and custom roles, and the pure decision
//! function behind `/v1/check` and every management endpoint. No I/O in here.

mod actions;
mod decision;
mod reason;
mod resource;
mod statements;

pub use self::actions::{Action, ResourceKind};
pub use self::decision::{DeployKeyGrant, DeployKeyScope, MemberGrant, Subject, TokenScope, decide};
pub use self::reason::{Decision, Reason};
pub use self::resource::{DeploymentRef, ProjectRef, Resource};
pub use self::statements::{CustomRole, Statement};
