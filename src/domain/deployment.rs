use std::fmt;

use rand::Rng;
use rand::seq::SliceRandom;

use super::Invalid;

/// A deployment's type (SPEC §2); it is also the prefix of its deploy keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeploymentType {
    Prod,
    Dev,
    Preview,
    Custom,
}

impl DeploymentType {
    pub fn parse(value: &str) -> Result<DeploymentType, Invalid> {
        match value {
            "prod" => Ok(DeploymentType::Prod),
            "dev" => Ok(DeploymentType::Dev),
            "preview" => Ok(DeploymentType::Preview),
            "custom" => Ok(DeploymentType::Custom),
            other => Err(Invalid(format!("unknown deployment type {other:?}: use prod, dev, preview or custom"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentType::Prod => "prod",
            DeploymentType::Dev => "dev",
            DeploymentType::Preview => "preview",
            DeploymentType::Custom => "custom",
        }
    }
}

impl fmt::Display for DeploymentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A globally unique deployment name such as `happy-otter-123`: 3–64 characters of `a-z`,
/// `0-9` and `-`, starting with a letter. It appears in credentials, so it can never contain
/// `:` or `|`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeploymentName(String);

const ADJECTIVES: &[&str] = &[
    "happy", "brave", "calm", "clever", "eager", "fancy", "gentle", "jolly", "keen", "lively", "merry", "nimble",
    "proud", "quick", "quiet", "shiny", "silent", "steady", "sunny", "witty",
];
const ANIMALS: &[&str] = &[
    "otter", "badger", "beaver", "falcon", "ferret", "gecko", "heron", "ibex", "koala", "lemur", "lynx", "marmot",
    "newt", "panda", "puffin", "quail", "raven", "seal", "tapir", "wombat",
];

impl DeploymentName {
    pub fn parse(value: &str) -> Result<DeploymentName, Invalid> {
        let bytes = value.as_bytes();
        let ok = (3..=64).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase()
            && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if ok {
            Ok(DeploymentName(value.to_owned()))
        } else {
            Err(Invalid(format!(
                "invalid deployment name {value:?}: use 3-64 characters a-z, 0-9 and '-', starting with a letter"
            )))
        }
    }

    /// A fresh `adjective-animal-NNN` name; the caller retries on the (rare) collision.
    pub fn generate() -> DeploymentName {
        let mut rng = rand::thread_rng();
        let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("happy");
        let animal = ANIMALS.choose(&mut rng).copied().unwrap_or("otter");
        DeploymentName(format!("{adjective}-{animal}-{}", rng.gen_range(100..1000)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_are_valid() {
        for _ in 0..100 {
            let name = DeploymentName::generate();
            assert!(DeploymentName::parse(name.as_str()).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_cannot_carry_credential_separators() {
        for bad in ["a:b-c", "abc|d", "Abc", "1abc", "ab", "ab c"] {
            assert!(DeploymentName::parse(bad).is_err(), "{bad}");
        }
    }
}
