//! Custom-role statements (`Statement::parse_all`, src/authz/statements.rs, SPEC §2) and their
//! stored form (`ops::roles::validated_statements`) on arbitrary text. Properties:
//! - parsing never panics, whatever the JSON;
//! - what validation accepts, it stores in a form that parses to the very same statements,
//!   and validating the stored form changes nothing (a saved role reads back as written).
#![no_main]

use libfuzzer_sys::fuzz_target;
use portcullis::authz::Statement;
use portcullis::ops::roles::validated_statements;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Statement::parse_all(text);
    let stored = validated_statements(text);
    assert_eq!(parsed.is_ok(), stored.is_ok(), "validation accepts exactly what parses: {text:?}");
    let (Ok(parsed), Ok(stored)) = (parsed, stored) else {
        return;
    };
    assert_eq!(Statement::parse_all(&stored).as_ref(), Ok(&parsed), "the stored form reads back the same");
    assert_eq!(validated_statements(&stored).as_deref(), Ok(stored.as_str()), "storing is idempotent");
});
