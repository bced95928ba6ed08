//! The bearer credential formats of SPEC §3 and how a presented string is classified.
//!
//! Every credential is `<prefix>|<secret>`. The database stores the SHA-256 of the *whole*
//! string, so the prefix is bound to the secret: changing any character of either (another
//! team, another project, a case change, an extra character, the secret alone) yields a hash
//! that matches nothing. Classification only chooses which table to look in.

use super::secret::{SecretDigest, SecretHash};
use crate::domain::{DeploymentType, Scope};

/// Longest credential we will even hash; anything longer is not ours.
const MAX_LEN: usize = 1024;

/// What a well-formed credential claims to be, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind<'a> {
    /// `project:<team>:<project>|…` or `team:<team>|…`
    AppToken(Scope),
    /// `prod:<d>|…`, `dev:<d>|…`, `preview:<d>|…`, `custom:<d>|…`
    DeploymentKey { deployment_type: DeploymentType, deployment: &'a str },
    /// `preview:<team>:<project>|…`
    PreviewProjectKey,
    /// `<deployment>|<hex>`
    AdminKey { deployment: &'a str },
}

/// A presented credential that has the shape of one of ours.
#[derive(Debug, Clone, Copy)]
pub struct Credential<'a> {
    pub kind: CredentialKind<'a>,
    full: &'a str,
}

fn is_url_safe(secret: &str) -> bool {
    !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Slugs and deployment names share this alphabet; anything else cannot be ours.
fn is_name(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl<'a> Credential<'a> {
    /// Classifies `presented`; `None` for anything that cannot be one of our credentials
    /// (refresh tokens, codes, client secrets and session ids deliberately included).
    pub fn parse(presented: &'a str) -> Option<Credential<'a>> {
        if presented.len() > MAX_LEN {
            return None;
        }
        let (prefix, secret) = presented.split_once('|')?;
        if !is_url_safe(secret) {
            return None;
        }
        let parts: Vec<&str> = prefix.split(':').collect();
        if !parts.iter().all(|p| is_name(p)) {
            return None;
        }
        let kind = match parts.as_slice() {
            ["project", _team, _project] => CredentialKind::AppToken(Scope::Project),
            ["team", _team] => CredentialKind::AppToken(Scope::Team),
            ["preview", _team, _project] => CredentialKind::PreviewProjectKey,
            [kind, deployment] => {
                CredentialKind::DeploymentKey { deployment_type: DeploymentType::parse(kind).ok()?, deployment }
            }
            [deployment] if secret.bytes().all(|b| b.is_ascii_hexdigit()) => CredentialKind::AdminKey { deployment },
            _ => return None,
        };
        Some(Credential { kind, full: presented })
    }

    /// The storage hash of the whole credential, prefix included.
    pub fn hash(&self) -> SecretHash {
        self.digest().to_hash()
    }

    /// The same hash as bytes.
    pub fn digest(&self) -> SecretDigest {
        SecretDigest::of(self.full)
    }
}

/// `project:<team>:<project>|<secret>` (SPEC §3).
pub fn project_token(team: &str, project: &str, secret: &str) -> String {
    format!("project:{team}:{project}|{secret}")
}

/// `team:<team>|<secret>` (SPEC §3).
pub fn team_token(team: &str, secret: &str) -> String {
    format!("team:{team}|{secret}")
}

/// `<type>:<deployment>|<secret>`: a deploy key for one deployment (SPEC §3).
pub fn deployment_key(deployment_type: DeploymentType, deployment: &str, secret: &str) -> String {
    format!("{deployment_type}:{deployment}|{secret}")
}

/// `preview:<team>:<project>|<secret>`: a project's preview deploy key (SPEC §3).
pub fn preview_project_key(team: &str, project: &str, secret: &str) -> String {
    format!("preview:{team}:{project}|{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<CredentialKind<'_>> {
        Credential::parse(s).map(|c| c.kind)
    }

    #[test]
    fn classifies_every_format_of_spec_section_3() {
        assert_eq!(kind("project:acme:web|abc_-.9"), Some(CredentialKind::AppToken(Scope::Project)));
        assert_eq!(kind("team:acme|abc"), Some(CredentialKind::AppToken(Scope::Team)));
        assert_eq!(
            kind("prod:happy-otter-123|abc"),
            Some(CredentialKind::DeploymentKey {
                deployment_type: DeploymentType::Prod,
                deployment: "happy-otter-123"
            })
        );
        assert_eq!(
            kind("preview:calm-seal-7|abc"),
            Some(CredentialKind::DeploymentKey { deployment_type: DeploymentType::Preview, deployment: "calm-seal-7" })
        );
        assert_eq!(kind("preview:acme:web|abc"), Some(CredentialKind::PreviewProjectKey));
        assert_eq!(
            kind("happy-otter-123|0123abcdef"),
            Some(CredentialKind::AdminKey { deployment: "happy-otter-123" })
        );
    }

    #[test]
    fn rejects_what_is_not_ours() {
        for bad in [
            "",
            "plain-secret",
            "project:acme:web|",
            "project:acme:web|a|b",
            "project:acme:web|sp ace",
            "project:Acme:web|abc",
            "project:acme|abc",
            "project:acme:web:x|abc",
            "team:acme:web|abc",
            "staging:dep|abc",
            "happy-otter|not-hex",
            "|abc",
        ] {
            assert_eq!(kind(bad), None, "{bad}");
        }
        assert_eq!(kind(&format!("team:acme|{}", "a".repeat(1100))), None);
    }

    #[test]
    fn minted_deploy_keys_classify_as_what_they_are() {
        for t in [DeploymentType::Prod, DeploymentType::Dev, DeploymentType::Preview, DeploymentType::Custom] {
            let key = deployment_key(t, "happy-otter-1", "s3cr_t-.");
            assert_eq!(
                kind(&key),
                Some(CredentialKind::DeploymentKey { deployment_type: t, deployment: "happy-otter-1" })
            );
        }
        assert_eq!(kind(&preview_project_key("acme", "web", "abc")), Some(CredentialKind::PreviewProjectKey));
    }

    #[test]
    fn the_hash_covers_the_prefix() {
        let a = Credential::parse("project:acme:web|secret").unwrap().hash();
        let b = Credential::parse("project:acme:api|secret").unwrap().hash();
        assert_ne!(a, b);
        assert_eq!(a, SecretHash::of("project:acme:web|secret"));
    }
}
