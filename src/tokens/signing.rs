//! Ed25519 signing keys. Their public halves are published at `/.well-known/jwks.json`
//! (RFC 7517) so that a deployment can verify its admin key offline.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretString};

/// A freshly generated key pair in its storage form.
pub struct KeyMaterial {
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// PKCS#8 DER, standard base64.
    pub private_key: SecretString,
    /// Raw 32-byte public key, base64url (the JWK `x` member).
    pub public_key: String,
}

pub const ALGORITHM: &str = "EdDSA";

pub fn generate() -> anyhow::Result<KeyMaterial> {
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = key.to_pkcs8_der().map_err(|e| anyhow::anyhow!("encoding signing key: {e}"))?;
    let public_key = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let kid = public_jwk_without_kid(&public_key).thumbprint(ThumbprintHash::SHA256)?;
    Ok(KeyMaterial { kid, private_key: SecretString::from(STANDARD.encode(der.as_bytes())), public_key })
}

/// A key ready to sign.
pub struct Signer {
    key: EncodingKey,
}

impl Signer {
    pub fn from_stored(private_key_b64: &SecretString) -> anyhow::Result<Signer> {
        let der = STANDARD.decode(private_key_b64.expose_secret())?;
        Ok(Signer { key: EncodingKey::from_ed_der(&der) })
    }

    pub fn sign(&self, message: &[u8]) -> anyhow::Result<Vec<u8>> {
        let signature = jsonwebtoken::crypto::sign(message, &self.key, Algorithm::EdDSA)?;
        Ok(URL_SAFE_NO_PAD.decode(signature)?)
    }
}

fn public_jwk_without_kid(public_key: &str) -> Jwk {
    Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: public_key.to_owned(),
        }),
    }
}

/// The public JWK for a stored key.
pub fn public_jwk(kid: &str, public_key: &str) -> Jwk {
    let mut jwk = public_jwk_without_kid(public_key);
    jwk.common.key_id = Some(kid.to_owned());
    jwk
}

/// Verifies `signature` over `message` with a published key.
pub fn verify(jwk: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    let Ok(key) = DecodingKey::from_jwk(jwk) else {
        return false;
    };
    jsonwebtoken::crypto::verify(&URL_SAFE_NO_PAD.encode(signature), message, &key, Algorithm::EdDSA).unwrap_or(false)
}
