use crate::enums::{CiStatus, WorkspaceCiObservation};

/// R§4.1, HEAD column: no clock dependence, so UNKNOWN reads NOT_FETCHED whether or not the PR
/// was ever synced (a derived value must not change while nothing is written).
pub fn ci_observation(pr_ci_status: CiStatus) -> WorkspaceCiObservation {
    match pr_ci_status {
        CiStatus::Pending => WorkspaceCiObservation::ChecksPending,
        CiStatus::Failure => WorkspaceCiObservation::ChecksFailed,
        CiStatus::Success => WorkspaceCiObservation::ChecksPassed,
        CiStatus::Unknown => WorkspaceCiObservation::NotFetched,
    }
}
