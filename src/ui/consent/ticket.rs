//! Consent tickets: what binds a consent decision to the page that was shown (SPEC §4).
//!
//! The consent page carries a `consent_ticket`: an expiry and an HMAC-SHA256, under a key only
//! the server knows (kept in the database so that every instance has the same one), of the
//! session (its stored hash), every protocol field of the request as the form carries it, and
//! that expiry. The decision is taken only when the posted fields give the same MAC for the
//! same session before the expiry: a form edited to name another client, redirect URI, scope,
//! state or challenge, or with a field added or removed, does not. The CSRF token cannot serve
//! as the key: it is in the page.
//!
//! The encoding is canonical: every string is length-prefixed and an absent field is told
//! apart from any value, so no two different requests share a MAC input.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// How long a consent page can be approved after it was shown, in seconds.
pub const TTL_SECONDS: i64 = 30 * 60;

/// Domain separation: this key signs nothing else, but the input says what it is.
const CONTEXT: &[u8] = b"portcullis consent ticket v1";

/// A protocol field as the page carried it: its name and value, `None` when absent.
pub type Field<'a> = (&'a str, Option<&'a str>);

/// The server's ticket key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct TicketKey(Hmac<Sha256>);

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

/// Why a posted ticket was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum TicketError {
    /// No ticket, or not one this server could have issued.
    Malformed,
    /// Issued, but for another session or another request.
    Mismatch,
    /// Issued for this session and request, but too long ago.
    Expired,
}

fn put(mac: &mut Hmac<Sha256>, bytes: &[u8]) {
    mac.update(&(bytes.len() as u64).to_be_bytes());
    mac.update(bytes);
}

impl TicketKey {
    pub fn new(secret: &SecretString) -> anyhow::Result<TicketKey> {
        let mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
            .map_err(|_| anyhow::anyhow!("the consent ticket key cannot key an HMAC"))?;
        Ok(TicketKey(mac))
    }

    fn mac(&self, session_hash: &str, fields: &[Field], expires_at: i64) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        put(&mut mac, CONTEXT);
        put(&mut mac, session_hash.as_bytes());
        mac.update(&(fields.len() as u64).to_be_bytes());
        for (name, value) in fields {
            put(&mut mac, name.as_bytes());
            match value {
                None => mac.update(&[0]),
                Some(value) => {
                    mac.update(&[1]);
                    put(&mut mac, value.as_bytes());
                }
            }
        }
        mac.update(&expires_at.to_be_bytes());
        mac
    }

    /// A ticket for the page showing `fields` to the session `session_hash` at `now` (Unix
    /// seconds): `<expiry>.<MAC, base64url>`.
    pub fn issue(&self, session_hash: &str, fields: &[Field], now: i64) -> String {
        let expires_at = now + TTL_SECONDS;
        let tag = self.mac(session_hash, fields, expires_at).finalize().into_bytes();
        format!("{expires_at}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Whether `ticket` was issued for exactly `fields` shown to `session_hash`, and is still
    /// valid at `now`. The MAC is compared in constant time.
    pub fn check(
        &self,
        ticket: Option<&str>,
        session_hash: &str,
        fields: &[Field],
        now: i64,
    ) -> Result<(), TicketError> {
        let (expires_at, tag) = ticket.and_then(|t| t.split_once('.')).ok_or(TicketError::Malformed)?;
        if expires_at.is_empty() || expires_at.len() > 19 || !expires_at.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TicketError::Malformed);
        }
        let expires_at: i64 = expires_at.parse().map_err(|_| TicketError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TicketError::Malformed)?;
        self.mac(session_hash, fields, expires_at).verify_slice(&tag).map_err(|_| TicketError::Mismatch)?;
        if now >= expires_at {
            return Err(TicketError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const SESSION: &str = "session-hash";

    fn key(secret: &str) -> TicketKey {
        TicketKey::new(&SecretString::from(secret)).unwrap()
    }

    fn fields<'a>() -> Vec<Field<'a>> {
        vec![
            ("response_type", Some("code")),
            ("client_id", Some("app-1")),
            ("redirect_uri", Some("https://app.example/cb")),
            ("scope", Some("project")),
            ("state", Some("st")),
            ("code_challenge", Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")),
            ("code_challenge_method", Some("S256")),
        ]
    }

    #[test]
    fn a_ticket_holds_for_its_session_and_fields_until_it_expires() {
        let key = key("k");
        let ticket = key.issue(SESSION, &fields(), NOW);
        assert_eq!(key.check(Some(&ticket), SESSION, &fields(), NOW), Ok(()));
        assert_eq!(key.check(Some(&ticket), SESSION, &fields(), NOW + TTL_SECONDS - 1), Ok(()));
        assert_eq!(key.check(Some(&ticket), SESSION, &fields(), NOW + TTL_SECONDS), Err(TicketError::Expired));
    }

    #[test]
    fn replayed_after_expiry_with_the_expiry_edited_the_mac_fails() {
        let key = key("k");
        let ticket = key.issue(SESSION, &fields(), NOW);
        let (_, tag) = ticket.split_once('.').unwrap();
        let extended = format!("{}.{tag}", NOW + 10 * TTL_SECONDS);
        assert_eq!(key.check(Some(&extended), SESSION, &fields(), NOW + TTL_SECONDS), Err(TicketError::Mismatch));
    }

    #[test]
    fn tampered_fields_another_session_or_another_key_fail() {
        let key_a = key("k");
        let ticket = key_a.issue(SESSION, &fields(), NOW);
        for i in 0..fields().len() {
            let mut changed = fields();
            changed[i].1 = Some("other");
            assert_eq!(key_a.check(Some(&ticket), SESSION, &changed, NOW), Err(TicketError::Mismatch), "{i}");
            let mut removed = fields();
            removed[i].1 = None;
            assert_eq!(key_a.check(Some(&ticket), SESSION, &removed, NOW), Err(TicketError::Mismatch), "{i}");
        }
        assert_eq!(key_a.check(Some(&ticket), "other-session", &fields(), NOW), Err(TicketError::Mismatch));
        assert_eq!(key("other key").check(Some(&ticket), SESSION, &fields(), NOW), Err(TicketError::Mismatch));
    }

    #[test]
    fn values_cannot_slide_between_fields() {
        let key = key("k");
        let a = [("state", Some("ab")), ("code_challenge", Some("c"))];
        let b = [("state", Some("a")), ("code_challenge", Some("bc"))];
        let c = [("state", Some("")), ("code_challenge", None)];
        let d = [("state", None), ("code_challenge", Some(""))];
        let ticket = key.issue(SESSION, &a, NOW);
        assert_eq!(key.check(Some(&ticket), SESSION, &b, NOW), Err(TicketError::Mismatch));
        let ticket = key.issue(SESSION, &c, NOW);
        assert_eq!(key.check(Some(&ticket), SESSION, &d, NOW), Err(TicketError::Mismatch));
    }

    #[test]
    fn missing_or_malformed_tickets_are_refused() {
        let key = key("k");
        for ticket in [None, Some(""), Some("."), Some("123"), Some("x.abc"), Some("-1.abc"), Some("1.!!"), Some("1.")]
        {
            assert!(key.check(ticket, SESSION, &fields(), NOW).is_err(), "{ticket:?}");
        }
        assert_eq!(key.check(None, SESSION, &fields(), NOW), Err(TicketError::Malformed));
    }
}
