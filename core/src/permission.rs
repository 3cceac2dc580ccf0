//! Permission requests of agents: what kind of request one is (plan approval, question or
//! permission, R§7.4), and whether a session's policy answers it without a person
//! (sessions.md §2).

use crate::enums::PendingRequestType;
use crate::sessions::PermissionPolicy;
use crate::transcript::PermissionOption;
use serde_json::Value;

/// ACP's `switch_mode` kind is how adapters ask to leave plan mode (Claude's ExitPlanMode); a
/// `questions` array in the input is a question for the user.
pub fn classify(tool_kind: &str, raw_input: Option<&Value>) -> PendingRequestType {
    let input_type = raw_input
        .and_then(|input| input.get("type"))
        .and_then(Value::as_str);
    if tool_kind == "switch_mode" || input_type == Some("ExitPlanMode") {
        PendingRequestType::PlanApproval
    } else if raw_input
        .and_then(|input| input.get("questions"))
        .is_some_and(Value::is_array)
    {
        PendingRequestType::UserQuestion
    } else {
        PendingRequestType::PermissionRequest
    }
}

/// What the policy needs to know about one request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub request_type: PendingRequestType,
    /// ACP's tool kind: read, edit, delete, move, search, execute, think, fetch, other.
    pub tool_kind: &'a str,
    /// Every location the tool call names lies inside the workspace's worktree (false when it
    /// names none: an edit of unknown files is not known to stay in the worktree).
    pub inside_worktree: bool,
    pub options: &'a [PermissionOption],
}

/// The option the policy picks, or `None` when a person must decide. A policy never picks an
/// "always" option: it allows this call, not every future one.
pub fn auto_answer<'a>(policy: PermissionPolicy, request: Request<'a>) -> Option<&'a str> {
    if request.request_type != PendingRequestType::PermissionRequest {
        return None;
    }
    let allowed = match policy {
        PermissionPolicy::Ask => false,
        PermissionPolicy::Edits => {
            matches!(request.tool_kind, "edit" | "delete" | "move") && request.inside_worktree
        }
        PermissionPolicy::All => true,
    };
    if !allowed {
        return None;
    }
    request
        .options
        .iter()
        .find(|option| option.kind == "allow_once")
        .map(|option| option.option_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use PendingRequestType::{PermissionRequest, PlanApproval, UserQuestion};
    use PermissionPolicy::{All, Ask, Edits};

    fn option(id: &str, kind: &str) -> PermissionOption {
        PermissionOption {
            option_id: id.into(),
            name: id.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn requests_are_classified_by_kind_and_input() {
        let cases = [
            ("switch_mode", None, PlanApproval),
            ("other", Some(json!({"type": "ExitPlanMode"})), PlanApproval),
            (
                "other",
                Some(json!({"questions": [{"q": "?"}]})),
                UserQuestion,
            ),
            (
                "other",
                Some(json!({"questions": "not a list"})),
                PermissionRequest,
            ),
            ("edit", Some(json!({"file_path": "a"})), PermissionRequest),
            ("execute", None, PermissionRequest),
        ];
        for (kind, input, expected) in cases {
            assert_eq!(classify(kind, input.as_ref()), expected, "{kind} {input:?}");
        }
    }

    #[test]
    fn policies_decide_exactly_what_they_may() {
        let claude = [
            option("allow_always", "allow_always"),
            option("allow", "allow_once"),
            option("reject", "reject_once"),
        ];
        let only_always = [
            option("always", "allow_always"),
            option("no", "reject_once"),
        ];
        let request = |request_type, tool_kind, inside_worktree, options| Request {
            request_type,
            tool_kind,
            inside_worktree,
            options,
        };
        let cases: [(PermissionPolicy, Request, Option<&str>); 12] = [
            (Ask, request(PermissionRequest, "edit", true, &claude), None),
            (
                Ask,
                request(PermissionRequest, "execute", true, &claude),
                None,
            ),
            (
                Edits,
                request(PermissionRequest, "edit", true, &claude),
                Some("allow"),
            ),
            (
                Edits,
                request(PermissionRequest, "delete", true, &claude),
                Some("allow"),
            ),
            (
                Edits,
                request(PermissionRequest, "edit", false, &claude),
                None,
            ),
            (
                Edits,
                request(PermissionRequest, "execute", true, &claude),
                None,
            ),
            (
                All,
                request(PermissionRequest, "execute", false, &claude),
                Some("allow"),
            ),
            (
                All,
                request(PermissionRequest, "fetch", true, &claude),
                Some("allow"),
            ),
            (
                All,
                request(PermissionRequest, "edit", true, &only_always),
                None,
            ),
            (
                All,
                request(PlanApproval, "switch_mode", true, &claude),
                None,
            ),
            (All, request(UserQuestion, "other", true, &claude), None),
            (Edits, request(PlanApproval, "edit", true, &claude), None),
        ];
        for (policy, request, expected) in cases {
            assert_eq!(
                auto_answer(policy, request),
                expected,
                "{policy:?} {:?} {} inside={}",
                request.request_type,
                request.tool_kind,
                request.inside_worktree
            );
        }
    }
}
