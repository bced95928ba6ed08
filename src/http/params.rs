//! Strict `application/x-www-form-urlencoded` parsing (query strings and form bodies).
//!
//! OAuth requires that parameters not be repeated (RFC 6749 §3.1, §3.2): a parameter sent
//! twice is an error, not "take the first". serde-based extractors silently keep one value,
//! so protocol endpoints parse with this instead.

use std::borrow::Cow;

/// The parameters of one request, in order, duplicates kept.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

/// A parameter that must appear at most once appeared more often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

impl Params {
    pub fn parse(input: &[u8]) -> Params {
        Params(
            url::form_urlencoded::parse(input)
                .map(|(k, v): (Cow<str>, Cow<str>)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`, if present exactly once. Empty values count as absent
    /// (RFC 6749 §3.1: "Parameters sent without a value MUST be treated as if they were
    /// omitted").
    pub fn get(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(Repeated(name.to_owned())),
            (Some(""), None) | (None, _) => Ok(None),
            (Some(value), None) => Ok(Some(value)),
        }
    }

    /// The first non-empty value of `name`, whether or not it is repeated.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// The first of `names` that is repeated, if any.
    pub fn first_repeated(&self, names: &[&str]) -> Option<Repeated> {
        names.iter().find_map(|name| self.get(name).err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_detects_repeats() {
        let params = Params::parse(b"a=1&b=x%20y&a=2&c=&d=%2B");
        assert_eq!(params.get("a"), Err(Repeated("a".into())));
        assert_eq!(params.get("b"), Ok(Some("x y")));
        assert_eq!(params.get("c"), Ok(None));
        assert_eq!(params.get("d"), Ok(Some("+")));
        assert_eq!(params.get("e"), Ok(None));
        assert_eq!(params.first_repeated(&["b", "a"]), Some(Repeated("a".into())));
        assert_eq!(params.first("a"), Some("1"));
        assert_eq!(params.first("c"), None);
    }
}
