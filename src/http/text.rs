//! The one place where request bytes become text (SPEC §4 "Bad input").
//!
//! Every form field, query parameter, Basic credential, bearer credential and JSON string
//! passes through here before anything else sees it, and is refused whole when it holds:
//! - a broken percent-escape (`%`, `%zz`, `%4`): form decoding must not guess;
//! - bytes that are not UTF-8 (after decoding);
//! - a control character (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F). No field of ours
//!   legitimately holds one — protocol fields never do, and every human-typed field (email,
//!   password, names, slugs) is a single line — so tab, CR and LF are refused too. NUL in
//!   particular must never reach PostgreSQL, which rejects it in text (a server error there,
//!   but not on SQLite).
//!
//!   The one exception is a field a form declares multi-line (a role's statements textarea):
//!   there tab, CR and LF are text, every other control character is still refused
//!   ([`form_component_lines`]).
//!
//! Each area maps [`Malformed`] into its own error shape with one conversion.

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};

/// Why request input was refused. The message names the problem, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

impl Malformed {
    fn escape() -> Self {
        Malformed("the request contains a broken percent-escape".into())
    }

    fn utf8() -> Self {
        Malformed("the request contains text that is not UTF-8".into())
    }

    fn control() -> Self {
        Malformed("the request contains a control character".into())
    }
}

/// Accepts `text` if it holds no control character.
pub fn checked(text: &str) -> Result<&str, Malformed> {
    if text.chars().any(char::is_control) { Err(Malformed::control()) } else { Ok(text) }
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value (`+` is a space, `%XX` a
/// byte), strictly: a `%` not followed by two hex digits is an error, not a literal.
pub fn form_component(raw: &[u8]) -> Result<String, Malformed> {
    let text = decode_form_component(raw)?;
    checked(&text)?;
    Ok(text)
}

/// [`form_component`] for a multi-line field: tab, CR and LF are kept, every other control
/// character (NUL included) is refused.
pub fn form_component_lines(raw: &[u8]) -> Result<String, Malformed> {
    let text = decode_form_component(raw)?;
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n')) {
        return Err(Malformed::control());
    }
    Ok(text)
}

fn decode_form_component(raw: &[u8]) -> Result<String, Malformed> {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().copied();
    while let Some(byte) = bytes.next() {
        decoded.push(match byte {
            b'+' => b' ',
            b'%' => {
                let high = bytes.next().and_then(hex).ok_or_else(Malformed::escape)?;
                let low = bytes.next().and_then(hex).ok_or_else(Malformed::escape)?;
                high << 4 | low
            }
            other => other,
        });
    }
    String::from_utf8(decoded).map_err(|_| Malformed::utf8())
}

/// Parses a JSON body into `T` after checking every string in it (object keys included) with
/// [`checked`]. Syntax errors and wrong types are refused with serde's description.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Malformed> {
    let invalid = |error: serde_json::Error| Malformed(format!("invalid JSON body: {error}"));
    serde_json::from_slice::<CleanStrings>(body).map_err(invalid)?;
    serde_json::from_slice(body).map_err(invalid)
}

/// A JSON value of any shape whose strings are all free of control characters; built only to
/// be checked, never kept.
struct CleanStrings;

impl<'de> de::Deserialize<'de> for CleanStrings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CleanStrings)
    }
}

impl<'de> Visitor<'de> for CleanStrings {
    type Value = CleanStrings;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self, E> {
        checked(text).map(|_| self).map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<CleanStrings>()?.is_some() {}
        Ok(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        while map.next_key::<CleanStrings>()?.is_some() {
            map.next_value::<CleanStrings>()?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_components_decode_strictly() {
        assert_eq!(form_component(b"a+b%20c%2B%e2%82%ac").as_deref(), Ok("a b c+€"));
        assert_eq!(form_component(b"").as_deref(), Ok(""));
        for broken in [&b"%"[..], b"%z", b"%zz", b"%4", b"a%g0", b"%%41"] {
            assert_eq!(form_component(broken), Err(Malformed::escape()), "{broken:?}");
        }
        for not_utf8 in [&b"%e2%82"[..], b"%ff", b"\xff", b"%c0%80"] {
            assert_eq!(form_component(not_utf8), Err(Malformed::utf8()), "{not_utf8:?}");
        }
        for control in [&b"%00"[..], b"a\0b", b"%09", b"%0d%0a", b"%7f", b"%c2%85", b"\x1b"] {
            assert_eq!(form_component(control), Err(Malformed::control()), "{control:?}");
        }
    }

    #[test]
    fn json_strings_are_checked_everywhere_keys_included() {
        #[derive(serde::Deserialize, Debug)]
        struct Body {
            a: serde_json::Value,
        }
        let body: Body = json(br#"{"a": {"b": ["c", 1, null, true, -2.5]}}"#).unwrap();
        assert_eq!(body.a["b"][0], "c");
        for bad in
            [&br#"{"a": "x\u0000"}"#[..], br#"{"a": {"b\u0000": 1}}"#, br#"{"a": ["ok", "\n"]}"#, br#"{"a\u001f": 1}"#]
        {
            let refused = json::<Body>(bad).unwrap_err();
            assert!(refused.0.contains("control character"), "{refused}");
        }
        assert!(json::<Body>(b"{\"a\": \"\xff\"}").is_err(), "invalid UTF-8");
        assert!(json::<Body>(br#"{"a": 1, "a": 2}"#).is_err(), "a repeated field");
        assert!(json::<Body>(b"[]").is_err(), "a wrong type");
    }
}
