//! Git branch names, parsed once with the rules of `git check-ref-format --branch`.

use serde::Serialize;
use std::fmt;

/// A name git accepts as a branch (`git check-ref-format --branch`), which also never starts with
/// `-` so it can never be mistaken for an option.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct BranchName(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RefNameError {
    #[error("is empty")]
    Empty,
    #[error("starts with '-'")]
    LeadingDash,
    #[error("is the reserved name {0:?}")]
    Reserved(&'static str),
    #[error("starts or ends with '/' or contains '//'")]
    EmptyComponent,
    #[error("has a path component starting with '.'")]
    ComponentStartsWithDot,
    #[error("has a path component ending with '.lock'")]
    ComponentEndsWithLock,
    #[error("ends with '.'")]
    EndsWithDot,
    #[error("contains '..'")]
    DoubleDot,
    #[error("contains '@{{'")]
    AtBrace,
    #[error("contains a control character")]
    ControlCharacter,
    #[error("contains the character {0:?}")]
    ForbiddenCharacter(char),
}

impl BranchName {
    pub fn parse(name: &str) -> Result<Self, RefNameError> {
        check(name)?;
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BranchName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check(name: &str) -> Result<(), RefNameError> {
    if name.is_empty() {
        return Err(RefNameError::Empty);
    }
    if name.starts_with('-') {
        return Err(RefNameError::LeadingDash);
    }
    // `@` alone means HEAD, and `HEAD` is refused as a branch name by git itself.
    for reserved in ["@", "HEAD"] {
        if name == reserved {
            return Err(RefNameError::Reserved(reserved));
        }
    }
    if name.chars().any(|c| c.is_ascii_control()) {
        return Err(RefNameError::ControlCharacter);
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return Err(RefNameError::ForbiddenCharacter(c));
    }
    if name.contains("..") {
        return Err(RefNameError::DoubleDot);
    }
    if name.contains("@{") {
        return Err(RefNameError::AtBrace);
    }
    if name.ends_with('.') {
        return Err(RefNameError::EndsWithDot);
    }
    for component in name.split('/') {
        if component.is_empty() {
            return Err(RefNameError::EmptyComponent);
        }
        if component.starts_with('.') {
            return Err(RefNameError::ComponentStartsWithDot);
        }
        if component.ends_with(".lock") {
            return Err(RefNameError::ComponentEndsWithLock);
        }
    }
    Ok(())
}
