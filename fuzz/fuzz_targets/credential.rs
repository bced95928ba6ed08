//! `Credential::parse` (src/tokens/credential.rs) on arbitrary text. Properties:
//! - whatever it accepts re-serialises, through the minting functions and the SPEC §3
//!   formats, to exactly the bytes presented (the prefix is part of the credential);
//! - the storage hash is the hash of those whole bytes;
//! - every credential we mint from valid slugs parses back as what it is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::domain::{Scope, Slug};
use portcullis::tokens::credential::{project_token, team_token};
use portcullis::tokens::{Credential, CredentialKind, SecretHash};

fn is_url_safe(secret: &str) -> bool {
    !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_name(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_parsed(presented: &str) {
    let Some(credential) = Credential::parse(presented) else {
        return;
    };
    assert!(presented.len() <= 1024, "longer than any credential of ours");
    let (prefix, secret) = presented.split_once('|').expect("a credential has a |");
    assert!(is_url_safe(secret), "the secret survives a URL, a form and a header unchanged");
    let parts: Vec<&str> = prefix.split(':').collect();
    assert!(parts.iter().all(|part| is_name(part)), "every prefix part is a name");
    let rebuilt = match (credential.kind, parts.as_slice()) {
        (CredentialKind::AppToken(Scope::Project), ["project", team, project]) => project_token(team, project, secret),
        (CredentialKind::AppToken(Scope::Team), ["team", team]) => team_token(team, secret),
        (CredentialKind::PreviewProjectKey, ["preview", team, project]) => format!("preview:{team}:{project}|{secret}"),
        (CredentialKind::DeploymentKey { deployment_type, deployment }, [_, _]) => {
            format!("{}:{deployment}|{secret}", deployment_type.as_str())
        }
        (CredentialKind::AdminKey { deployment }, [_]) => {
            assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "an admin key's secret is hex");
            format!("{deployment}|{secret}")
        }
        (kind, parts) => panic!("{kind:?} does not match the prefix {parts:?}"),
    };
    assert_eq!(rebuilt, presented, "re-serialises to the same bytes");
    assert_eq!(credential.hash(), SecretHash::of(presented), "the hash covers prefix and secret");
}

/// Mints tokens from the input's first two `|`-separated pieces when they are valid slugs.
fn check_minted(input: &str) {
    let mut pieces = input.splitn(3, '|');
    let (Some(team), Some(project)) = (pieces.next(), pieces.next()) else {
        return;
    };
    let (Ok(team), Ok(project)) = (Slug::parse(team), Slug::parse(project)) else {
        return;
    };
    let secret = portcullis::tokens::generate_secret();
    let minted = project_token(team.as_str(), project.as_str(), &secret);
    let parsed = Credential::parse(&minted).expect("a minted project token parses");
    assert_eq!(parsed.kind, CredentialKind::AppToken(Scope::Project));
    let minted = team_token(team.as_str(), &secret);
    let parsed = Credential::parse(&minted).expect("a minted team token parses");
    assert_eq!(parsed.kind, CredentialKind::AppToken(Scope::Team));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_parsed(text);
    check_minted(text);
});
