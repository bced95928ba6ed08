//! Credentials: their formats (SPEC §3), generation, hashing, and the signing keys behind admin
//! keys. Nothing here knows about HTTP or the database.

pub mod admin_key;
pub mod credential;
pub mod secret;
pub mod signing;

pub use self::credential::{Credential, CredentialKind};
pub use self::secret::{SecretDigest, SecretHash, generate_secret};
