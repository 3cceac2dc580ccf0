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

/// What a request names by id, for the one wording of "not found" every domain uses.
pub trait Kind: std::fmt::Display {
    /// The thing in words ("workspace").
    const KIND: &'static str;
}

impl Kind for ff_core::ids::ProjectId {
    const KIND: &'static str = "project";
}

impl Kind for ff_core::ids::WorkspaceId {
    const KIND: &'static str = "workspace";
}

impl Kind for ff_core::ids::ScheduleId {
    const KIND: &'static str = "scheduled task";
}

impl DomainError {
    /// `no workspace with id …`: the id names nothing (live) of its kind.
    pub fn not_found<K: Kind>(id: &K) -> Self {
        Self::NotFound(format!("no {} with id {id}", K::KIND))
    }

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
