//! Which interactive request a workspace is blocked on (R§7.4, HEAD priority rules).

use crate::enums::PendingRequestType;
use serde_json::Value;

/// A request an agent session is waiting on: the tool it wants to run and that tool's input.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingRequest {
    pub tool_name: String,
    pub input: Option<Value>,
}

impl PendingRequest {
    fn is_plan_approval(&self) -> bool {
        self.tool_name == "ExitPlanMode"
            || self
                .input
                .as_ref()
                .and_then(|input| input.get("type"))
                .and_then(Value::as_str)
                == Some("ExitPlanMode")
    }

    fn is_user_question(&self) -> bool {
        self.tool_name == "AskUserQuestion"
            || self
                .input
                .as_ref()
                .and_then(|input| input.get("questions"))
                .is_some_and(Value::is_array)
    }
}

/// Deterministic priority over all of a workspace's sessions: a plan approval anywhere wins, then
/// a user question, then any other request is a permission request.
pub fn classify_pending<'a>(
    requests: impl IntoIterator<Item = &'a PendingRequest>,
) -> Option<PendingRequestType> {
    let mut best: Option<PendingRequestType> = None;
    for request in requests {
        let kind = if request.is_plan_approval() {
            return Some(PendingRequestType::PlanApproval);
        } else if request.is_user_question() {
            PendingRequestType::UserQuestion
        } else {
            PendingRequestType::PermissionRequest
        };
        // Declared order is priority order, so the smaller value wins.
        best = Some(best.map_or(kind, |current| current.min(kind)));
    }
    best
}
