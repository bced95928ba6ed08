//! Strict `application/x-www-form-urlencoded` parsing (query strings and form bodies).
//!
//! OAuth requires that parameters not be repeated (RFC 6749 §3.1, §3.2): a parameter sent
//! twice is an error, not "take the first". serde-based extractors silently keep one value,
//! so protocol endpoints parse with this instead. Names and values are decoded by
//! [`text::form_component`]: broken escapes, invalid UTF-8 and control characters refuse the
//! whole input.

use super::text::{self, Malformed};

/// The parameters of one request, in order, duplicates kept.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

/// A parameter that must appear at most once appeared more often.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeated(pub String);

impl Params {
    /// Parses `name=value&…` (empty pieces between `&`s are skipped; a piece without `=` is a
    /// name with an empty value).
    pub fn parse(input: &[u8]) -> Result<Params, Malformed> {
        Params::parse_with_lines(input, &[])
    }

    /// [`Params::parse`], the values of the fields named in `multiline` allowed to hold tab,
    /// CR and LF (a textarea); every other field stays single-line.
    pub fn parse_with_lines(input: &[u8], multiline: &[&str]) -> Result<Params, Malformed> {
        input
            .split(|&b| b == b'&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| {
                let (name, value) = match piece.iter().position(|&b| b == b'=') {
                    Some(eq) => (&piece[..eq], &piece[eq + 1..]),
                    None => (piece, &b""[..]),
                };
                let name = text::form_component(name)?;
                let value = if multiline.contains(&name.as_str()) {
                    text::form_component_lines(value)?
                } else {
                    text::form_component(value)?
                };
                Ok((name, value))
            })
            .collect::<Result<_, _>>()
            .map(Params)
    }

    /// Every parameter, in order, repeats included.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
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

    /// Every non-empty value of `name`, in order: for parameters that may repeat, such as
    /// RFC 8707's `resource`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
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
        let params = Params::parse(b"a=1&b=x%20y&&a=2&c=&d=%2B&e").unwrap();
        let pairs: Vec<_> = params.pairs().collect();
        assert_eq!(pairs, [("a", "1"), ("b", "x y"), ("a", "2"), ("c", ""), ("d", "+"), ("e", "")]);
        assert_eq!(params.get("a"), Err(Repeated("a".into())));
        assert_eq!(params.get("b"), Ok(Some("x y")));
        assert_eq!(params.get("c"), Ok(None));
        assert_eq!(params.get("d"), Ok(Some("+")));
        assert_eq!(params.get("e"), Ok(None));
        assert_eq!(params.first_repeated(&["b", "a"]), Some(Repeated("a".into())));
        assert_eq!(params.first("a"), Some("1"));
        assert_eq!(params.first("c"), None);
    }

    #[test]
    fn one_bad_piece_refuses_the_whole_input() {
        for bad in [&b"a=1&b=%00"[..], b"a=%zz", b"a=%", b"a=%e2%82", b"a%00=1", b"a=\x01", b"ok=1&x=\xff"] {
            assert!(Params::parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
