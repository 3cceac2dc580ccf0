//! GitHub's GraphQL enumerations that ff reads. GitHub adds values without notice, so each has
//! an `Other` variant that keeps an unknown value verbatim instead of failing the whole answer.

use crate::enums::{ReviewDecision, ReviewState};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Declares an open GitHub enum: its known values with their schema spelling, and `Other`.
macro_rules! github_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this list does not know yet, as GitHub spelled it.
            Other(String),
        }

        impl $name {
            /// Every known value, in the schema's order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self::from(String::deserialize(deserializer)?.as_str()))
            }
        }
    };
}

github_enum!(
    /// `PullRequestState`.
    PullRequestState { Closed = "CLOSED", Merged = "MERGED", Open = "OPEN" }
);

github_enum!(
    /// `PullRequestReviewDecision`.
    PullRequestReviewDecision {
        Approved = "APPROVED",
        ChangesRequested = "CHANGES_REQUESTED",
        ReviewRequired = "REVIEW_REQUIRED",
    }
);

impl PullRequestReviewDecision {
    /// ff's decision; a value GitHub added later is none of the three, so `None`.
    pub fn known(&self) -> Option<ReviewDecision> {
        match self {
            Self::Approved => Some(ReviewDecision::Approved),
            Self::ChangesRequested => Some(ReviewDecision::ChangesRequested),
            Self::ReviewRequired => Some(ReviewDecision::ReviewRequired),
            Self::Other(_) => None,
        }
    }
}

github_enum!(
    /// `PullRequestReviewState`.
    PullRequestReviewState {
        Approved = "APPROVED",
        ChangesRequested = "CHANGES_REQUESTED",
        Commented = "COMMENTED",
        Dismissed = "DISMISSED",
        Pending = "PENDING",
    }
);

impl PullRequestReviewState {
    /// D§5.3: unknown review states read PENDING.
    pub fn normalised(&self) -> ReviewState {
        match self {
            Self::Approved => ReviewState::Approved,
            Self::ChangesRequested => ReviewState::ChangesRequested,
            Self::Commented => ReviewState::Commented,
            Self::Dismissed => ReviewState::Dismissed,
            Self::Pending | Self::Other(_) => ReviewState::Pending,
        }
    }
}

github_enum!(
    /// `MergeableState`: UNKNOWN while GitHub is still computing it.
    MergeableState { Conflicting = "CONFLICTING", Mergeable = "MERGEABLE", Unknown = "UNKNOWN" }
);

github_enum!(
    /// `MergeStateStatus`.
    MergeStateStatus {
        Behind = "BEHIND",
        Blocked = "BLOCKED",
        Clean = "CLEAN",
        Dirty = "DIRTY",
        HasHooks = "HAS_HOOKS",
        Unknown = "UNKNOWN",
        Unstable = "UNSTABLE",
    }
);

github_enum!(
    /// `StatusState`: a commit status context's state, and the rollup's.
    StatusState {
        Error = "ERROR",
        Expected = "EXPECTED",
        Failure = "FAILURE",
        Pending = "PENDING",
        Success = "SUCCESS",
    }
);

github_enum!(
    /// `CheckStatusState`: where a check run is in its life.
    CheckStatusState {
        Completed = "COMPLETED",
        InProgress = "IN_PROGRESS",
        Pending = "PENDING",
        Queued = "QUEUED",
        Requested = "REQUESTED",
        Waiting = "WAITING",
    }
);

github_enum!(
    /// `CheckConclusionState`: how a completed check run ended.
    CheckConclusionState {
        ActionRequired = "ACTION_REQUIRED",
        Cancelled = "CANCELLED",
        Failure = "FAILURE",
        Neutral = "NEUTRAL",
        Skipped = "SKIPPED",
        Stale = "STALE",
        StartupFailure = "STARTUP_FAILURE",
        Success = "SUCCESS",
        TimedOut = "TIMED_OUT",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn wire<T: Serialize>(values: &[T]) -> String {
        values
            .iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn known_values_are_the_schemas() {
        // As listed by @octokit/graphql-schema 15.26.1.
        let cases = [
            (wire(PullRequestState::KNOWN), "CLOSED MERGED OPEN"),
            (
                wire(PullRequestReviewDecision::KNOWN),
                "APPROVED CHANGES_REQUESTED REVIEW_REQUIRED",
            ),
            (
                wire(PullRequestReviewState::KNOWN),
                "APPROVED CHANGES_REQUESTED COMMENTED DISMISSED PENDING",
            ),
            (wire(MergeableState::KNOWN), "CONFLICTING MERGEABLE UNKNOWN"),
            (
                wire(MergeStateStatus::KNOWN),
                "BEHIND BLOCKED CLEAN DIRTY HAS_HOOKS UNKNOWN UNSTABLE",
            ),
            (
                wire(StatusState::KNOWN),
                "ERROR EXPECTED FAILURE PENDING SUCCESS",
            ),
            (
                wire(CheckStatusState::KNOWN),
                "COMPLETED IN_PROGRESS PENDING QUEUED REQUESTED WAITING",
            ),
            (
                wire(CheckConclusionState::KNOWN),
                "ACTION_REQUIRED CANCELLED FAILURE NEUTRAL SKIPPED STALE STARTUP_FAILURE SUCCESS \
                 TIMED_OUT",
            ),
        ];
        for (actual, expected) in cases {
            assert_eq!(actual, expected);
        }
    }

    #[test]
    fn unknown_values_are_kept_not_refused() {
        let added: CheckConclusionState = serde_json::from_str("\"EXPLODED\"").unwrap();
        assert_eq!(added, CheckConclusionState::Other("EXPLODED".into()));
        assert_eq!(serde_json::to_string(&added).unwrap(), "\"EXPLODED\"");
        assert_eq!(added.to_string(), "EXPLODED");
        for known in CheckConclusionState::KNOWN {
            let json = serde_json::to_string(known).unwrap();
            assert_eq!(
                &serde_json::from_str::<CheckConclusionState>(&json).unwrap(),
                known
            );
        }
        assert!(serde_json::from_str::<StatusState>("7").is_err());
    }

    #[test]
    fn decisions_and_review_states_map_to_ffs() {
        assert_eq!(
            PullRequestReviewDecision::ChangesRequested.known(),
            Some(ReviewDecision::ChangesRequested)
        );
        assert_eq!(PullRequestReviewDecision::from("LGTM").known(), None);
        assert_eq!(
            PullRequestReviewState::Dismissed.normalised(),
            ReviewState::Dismissed
        );
        assert_eq!(
            PullRequestReviewState::from("ESCALATED").normalised(),
            ReviewState::Pending
        );
    }
}
