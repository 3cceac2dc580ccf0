//! The socket frames of api.md §3 and the resume cursor a client sends back.

use crate::entry::Entry;
use crate::ids::{ProjectId, WorkspaceId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A random id chosen at server start: frames of another epoch cannot be resumed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Epoch(String);

impl Epoch {
    /// An epoch is a non-empty token without `:` (the cursor separator) or whitespace.
    pub fn parse(text: &str) -> Result<Self, CursorError> {
        if text.is_empty() || text.contains(':') || text.chars().any(char::is_whitespace) {
            return Err(CursorError::BadEpoch(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a client is in the stream: the epoch and the seq of the newest frame it applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub epoch: Epoch,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("since must look like <epoch>:<seq>, got {0:?}")]
    Shape(String),
    #[error("since has an invalid epoch {0:?}")]
    BadEpoch(String),
    #[error("since has an invalid seq {0:?}: expected a non-negative integer")]
    BadSeq(String),
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (epoch, seq) = text
            .rsplit_once(':')
            .ok_or_else(|| CursorError::Shape(text.to_owned()))?;
        let epoch = Epoch::parse(epoch)?;
        let seq = seq
            .parse()
            .map_err(|_| CursorError::BadSeq(seq.to_owned()))?;
        Ok(Self { epoch, seq })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.epoch, self.seq)
    }
}

/// One server → client text frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum Frame {
    /// Every visible entry of a project; `seq` is that of the newest change it includes.
    Full {
        epoch: Epoch,
        seq: u64,
        project_id: ProjectId,
        entries: Vec<Entry>,
    },
    Changed {
        epoch: Epoch,
        seq: u64,
        entry: Box<Entry>,
    },
    Removed {
        epoch: Epoch,
        seq: u64,
        workspace_id: WorkspaceId,
    },
}

impl Frame {
    pub fn cursor(&self) -> Cursor {
        let (Self::Full { epoch, seq, .. }
        | Self::Changed { epoch, seq, .. }
        | Self::Removed { epoch, seq, .. }) = self;
        Cursor {
            epoch: epoch.clone(),
            seq: *seq,
        }
    }
}

/// The body of `GET /api/projects/{id}/snapshot`: the same JSON as a `full` frame.
pub type SnapshotFull = Frame;
