use jsonwebtoken::jwk::JwkSet;
use secrecy::{ExposeSecret, SecretString};

use super::OpResult;
use crate::db::models::signing_keys::{self, NewSigningKey, SigningKeyRow};
use crate::db::{DbConnection, now};
use crate::tokens::signing;

/// The key new admin keys are signed with, generated on first use (inside the caller's
/// transaction, so concurrent first uses cannot both create one).
pub(crate) fn current_key(conn: &mut DbConnection) -> OpResult<SigningKeyRow> {
    if let Some(key) = signing_keys::current(conn)? {
        return Ok(key);
    }
    let material = signing::generate()?;
    Ok(signing_keys::create(
        conn,
        &NewSigningKey {
            kid: &material.kid,
            algorithm: signing::ALGORITHM,
            private_key: material.private_key.expose_secret(),
            public_key: &material.public_key,
            created_at: now(),
        },
    )?)
}

pub(crate) fn signer(key: &SigningKeyRow) -> OpResult<signing::Signer> {
    Ok(signing::Signer::from_stored(&SecretString::from(key.private_key.clone()))?)
}

/// Every public key (RFC 7517 JWK Set), for `/.well-known/jwks.json`.
pub fn jwks(conn: &mut DbConnection) -> OpResult<JwkSet> {
    let keys = signing_keys::all(conn)?;
    Ok(JwkSet { keys: keys.iter().map(|k| signing::public_jwk(&k.kid, &k.public_key)).collect() })
}
