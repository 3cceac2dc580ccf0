//! The secret itself: 256 random bits written as hex, or a value the user chose, compared in
//! constant time and never printed by `Debug`.

use subtle::ConstantTimeEq;

/// Bytes of randomness in a generated token (256 bits, as the trust issue asks).
const GENERATED_BYTES: usize = 32;
/// A chosen token shorter than this is guessable over a network.
pub const MIN_LEN: usize = 16;
const MAX_LEN: usize = 256;

#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token must be {MIN_LEN} to {MAX_LEN} characters long (it has {0})")]
    Length(usize),
    #[error(
        "the token may hold only letters, digits and - . _ ~ (so that it needs no escaping in a URL, \
         a header or a cookie); found {0:?}"
    )]
    Character(char),
}

impl Token {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; GENERATED_BYTES];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A token the user chose (`--token`, `FF_TOKEN`, or the token file).
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let text = text.trim();
        let length = text.chars().count();
        if !(MIN_LEN..=MAX_LEN).contains(&length) {
            return Err(TokenError::Length(length));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
        {
            return Err(TokenError::Character(bad));
        }
        Ok(Self(text.to_owned()))
    }

    /// Whether `presented` is this token, in time independent of where they differ.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }

    /// The secret, for the login URL and the token file only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_256_bits_of_hex_and_differ() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert!(a.expose().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_eq!(Token::parse(a.expose()), Ok(a));
    }

    #[test]
    fn chosen_tokens_are_checked() {
        let cases: &[(&str, Result<&str, TokenError>)] = &[
            ("ff-test-token-0123456789", Ok("ff-test-token-0123456789")),
            (
                "  padded.token_0123456789~ \n",
                Ok("padded.token_0123456789~"),
            ),
            ("short", Err(TokenError::Length(5))),
            ("", Err(TokenError::Length(0))),
            ("has space in the middle", Err(TokenError::Character(' '))),
            (
                "semicolon;cookie=injection",
                Err(TokenError::Character(';')),
            ),
            ("newline\r\nSet-Cookie:x", Err(TokenError::Character('\r'))),
            ("ümlaut-0123456789abcdef", Err(TokenError::Character('ü'))),
        ];
        for (text, expected) in cases {
            let parsed = Token::parse(text);
            assert_eq!(
                parsed.as_ref().map(Token::expose).map_err(Clone::clone),
                *expected,
                "{text:?}"
            );
        }
        assert!(Token::parse(&"a".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn matching_is_exact_and_debug_hides_the_secret() {
        let token = Token::parse("ff-test-token-0123456789").unwrap();
        assert!(token.matches("ff-test-token-0123456789"));
        for wrong in [
            "",
            "ff-test-token-012345678",
            "ff-test-token-01234567890",
            "FF-TEST-TOKEN-0123456789",
        ] {
            assert!(!token.matches(wrong), "{wrong}");
        }
        assert!(!format!("{token:?}").contains("0123"));
    }
}
