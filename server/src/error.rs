//! What a domain operation can refuse, independent of HTTP (the HTTP layer maps it).

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The input is malformed (not the expected shape at all).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The current state does not allow the operation (or it would duplicate something).
    #[error("{0}")]
    Conflict(String),
    /// Well-formed input with an unacceptable value; `field` is its camelCase name.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    TooManyRetries(String),
    /// A remote ff depends on (GitHub, git's `origin`) refused or failed; says which and why.
    #[error("{0}")]
    Upstream(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0}")]
    Internal(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<ff_core::create::FieldError> for DomainError {
    fn from(e: ff_core::create::FieldError) -> Self {
        Self::Invalid {
            field: e.field,
            message: e.message,
        }
    }
}

pub type DomainResult<T> = Result<T, DomainError>;
