//! Admin keys: `<deployment>|<hex>` (SPEC §3), minted once when a deployment is registered.
//!
//! The hex part is a 16-byte random nonce followed by an Ed25519 signature over the deployment
//! name and that nonce, made with one of the server's signing keys. A deployment verifies its
//! admin key offline against the public keys of `/.well-known/jwks.json`; the server itself only
//! looks the key up by hash (no signature check on the hot path). The nonce makes every
//! registration's key distinct, so a deployment deleted and re-created under the same name
//! does not get its old key back.

use jsonwebtoken::jwk::JwkSet;
use rand::RngCore;

use super::signing::{self, Signer};

const CONTEXT: &[u8] = b"portcullis admin key v1\0";
const NONCE_LEN: usize = 16;
const SIGNATURE_LEN: usize = 64;

fn message(deployment: &str, nonce: &[u8]) -> Vec<u8> {
    [CONTEXT, deployment.as_bytes(), b"\0", nonce].concat()
}

/// Mints the admin key of `deployment`.
pub fn mint(signer: &Signer, deployment: &str) -> anyhow::Result<String> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let signature = signer.sign(&message(deployment, &nonce))?;
    Ok(format!("{deployment}|{}{}", hex::encode(nonce), hex::encode(signature)))
}

/// What a deployment does with its admin key and the published JWKS: returns the deployment
/// name the key was minted for when any published key's signature checks out.
pub fn verify_offline<'a>(admin_key: &'a str, keys: &JwkSet) -> Option<&'a str> {
    let (deployment, hex_part) = admin_key.split_once('|')?;
    let bytes = hex::decode(hex_part).ok()?;
    if bytes.len() != NONCE_LEN + SIGNATURE_LEN {
        return None;
    }
    let (nonce, signature) = bytes.split_at(NONCE_LEN);
    let message = message(deployment, nonce);
    keys.keys.iter().any(|jwk| signing::verify(jwk, &message, signature)).then_some(deployment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Credential;
    use crate::tokens::credential::CredentialKind;

    #[test]
    fn minted_keys_verify_offline_and_tampering_fails() {
        let material = signing::generate().unwrap();
        let signer = Signer::from_stored(&material.private_key).unwrap();
        let jwks = JwkSet { keys: vec![signing::public_jwk(&material.kid, &material.public_key)] };

        let key = mint(&signer, "happy-otter-123").unwrap();
        assert_eq!(
            Credential::parse(&key).map(|c| c.kind),
            Some(CredentialKind::AdminKey { deployment: "happy-otter-123" })
        );
        assert_eq!(verify_offline(&key, &jwks), Some("happy-otter-123"));

        let renamed = key.replacen("happy-otter-123", "happy-otter-124", 1);
        assert_eq!(verify_offline(&renamed, &jwks), None);
        let mut flipped = key.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(verify_offline(&flipped, &jwks), None);

        let other = signing::generate().unwrap();
        let other_jwks = JwkSet { keys: vec![signing::public_jwk(&other.kid, &other.public_key)] };
        assert_eq!(verify_offline(&key, &other_jwks), None);
        assert_ne!(mint(&signer, "happy-otter-123").unwrap(), key);
    }
}
