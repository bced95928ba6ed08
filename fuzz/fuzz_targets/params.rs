//! `Params::parse` (src/http/params.rs) on arbitrary bytes. Properties:
//! - what it accepts holds no control character in any name or value, and every `%` of the
//!   input started a two-hex-digit escape;
//! - accepted parameters re-encode (form-urlencoded) and parse back to the same list;
//! - `get` agrees with the list: repeated names are refused, single ones found, empty ones
//!   absent;
//! - input made only of unreserved characters, `&` and `=` is always accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::http::params::Params;

fn escapes_are_well_formed(input: &[u8]) -> bool {
    input
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'%')
        .all(|(i, _)| input.get(i + 1..i + 3).is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)))
}

fuzz_target!(|data: &[u8]| {
    let parsed = Params::parse(data);
    let plain = data.iter().all(|b| b.is_ascii_alphanumeric() || b"-._~&=".contains(b));
    assert!(!plain || parsed.is_ok(), "plain input is always accepted");
    let Ok(params) = parsed else {
        return;
    };
    assert!(escapes_are_well_formed(data), "a broken escape was accepted");
    let pairs: Vec<(&str, &str)> = params.pairs().collect();
    for (name, value) in &pairs {
        assert!(!name.chars().chain(value.chars()).any(char::is_control), "a control character was accepted");
    }

    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    encoded.extend_pairs(&pairs);
    let reparsed = Params::parse(encoded.finish().as_bytes()).expect("our own encoding parses");
    assert!(reparsed.pairs().eq(pairs.iter().copied()), "re-encoding round-trips");

    for (name, _) in &pairs {
        let values: Vec<&str> = pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| *v).collect();
        match (params.get(name), values.as_slice()) {
            (Err(repeated), [_, _, ..]) => assert_eq!(repeated.0, *name),
            (Ok(None), [""]) => {}
            (Ok(Some(value)), [only]) => assert_eq!(value, *only),
            (answer, values) => panic!("get({name:?}) = {answer:?} for values {values:?}"),
        }
    }
});
