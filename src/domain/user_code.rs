//! RFC 8628 §6.1 user codes, as SPEC §7 fixes them: 8 characters of `BCDFGHJKLMNPQRSTVWXZ`
//! (no vowels, so no words; no digits, so nothing to confuse with letters), shown `XXXX-XXXX`.

use rand::Rng;
use rand::distributions::Slice;

use super::Invalid;

const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const LEN: usize = 8;

/// A user code in its canonical form: the 8 letters, upper case, without the dash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A fresh code from the OS CSPRNG: 20⁸ ≈ 2.6 × 10¹⁰ codes (34 bits), guessed online only,
    /// through the throttled device page (§5.1).
    pub fn generate() -> UserCode {
        let letters = Slice::new(ALPHABET).expect("the alphabet is not empty");
        UserCode(rand::rngs::OsRng.sample_iter(letters).take(LEN).map(|&b| char::from(b)).collect())
    }

    /// Reads a code as a person types it: any case, with or without the dash, spaces ignored.
    pub fn parse(input: &str) -> Result<UserCode, Invalid> {
        let code: String =
            input.chars().filter(|c| !matches!(c, '-' | ' ' | '\t')).map(|c| c.to_ascii_uppercase()).collect();
        if code.len() != LEN || !code.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(Invalid::new("That is not a code from a device: it has 8 letters, like BCDF-GHJK."));
        }
        Ok(UserCode(code))
    }

    /// The canonical form, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `XXXX-XXXX`, as shown to people (RFC 8628 §6.1: easier to compare and to type).
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_are_eight_letters_of_the_alphabet_and_read_back() {
        for _ in 0..200 {
            let code = UserCode::generate();
            assert_eq!(code.as_str().len(), 8);
            assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(UserCode::parse(&code.display()), Ok(code));
        }
    }

    #[test]
    fn input_is_accepted_in_any_case_with_or_without_dash_or_spaces() {
        for input in ["BCDF-GHJK", "bcdfghjk", "bcdf-ghjk", " BCDF GHJK ", "Bcdf-Ghjk"] {
            assert_eq!(UserCode::parse(input).unwrap().as_str(), "BCDFGHJK", "{input}");
        }
        assert_eq!(UserCode::parse("bcdfghjk").unwrap().display(), "BCDF-GHJK");
    }

    #[test]
    fn other_input_is_refused() {
        for input in ["", "BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "BCDF\0GHJK", "BCDF-GHJK\n", "ВCDF-GHJK"]
        {
            assert!(UserCode::parse(input).is_err(), "{input:?}");
        }
    }
}
