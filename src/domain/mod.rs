//! Validated values. Everything that enters from a request, a flag or a form is parsed into one
//! of these at the boundary; the rest of the code never re-checks a slug or a redirect URI.

mod deployment;
mod email;
mod names;
mod password;
mod redirect_uri;
mod resource;
mod role;
mod scope;
mod slug;
mod user_code;

pub use self::deployment::{DeploymentName, DeploymentType};
pub use self::email::Email;
pub use self::names::{AppName, DisplayName};
pub use self::password::Password;
pub use self::redirect_uri::{RedirectUri, RedirectUris};
pub use self::resource::{Audience, ResourceUri, Widened};
pub use self::role::{MemberRole, RoleName, TeamRole};
pub use self::scope::Scope;
pub use self::slug::Slug;
pub use self::user_code::UserCode;

/// Why a value was refused; the message is written for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub fn new(message: impl Into<String>) -> Self {
        Invalid(message.into())
    }
}
