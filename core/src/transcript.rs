//! The transcript of an agent session (sessions.md §2): ff's own record of everything said and
//! done, independent of any agent's protocol types. Items are numbered per session; an item may
//! be updated in place (a message's text grows, a tool call's status moves) until it is final.

use crate::enums::PendingRequestType;
use crate::ids::{MessageId, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    /// 1, 2, 3… within the session, in the order the items began.
    pub seq: u64,
    pub at: Timestamp,
    #[serde(flatten)]
    pub body: ItemBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemBody {
    /// A message a person (or the ratchet) sent, committed when it was dispatched.
    User {
        text: String,
        #[serde(rename = "messageId", default, skip_serializing_if = "Option::is_none")]
        message_id: Option<MessageId>,
    },
    /// The agent's reply; its chunks are joined into one item per message.
    Agent {
        text: String,
    },
    /// The agent's reasoning, shown collapsed.
    Thought {
        text: String,
    },
    Tool(Box<ToolCall>),
    Plan {
        entries: Vec<PlanEntry>,
    },
    Permission(Box<PermissionRecord>),
    /// The session's mode or model changed (by a person, a policy or the agent).
    Config {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        mode: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        model: Option<String>,
    },
    Usage(Usage),
    Notice {
        text: String,
    },
    Error {
        message: String,
    },
    /// How a turn ended (`end_turn`, `cancelled`, `max_tokens`, …).
    Stop {
        reason: String,
    },
}

impl ItemBody {
    /// The text of a message-like item, which grows while it streams.
    pub fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Self::Agent { text } | Self::Thought { text } => Some(text),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    pub tool_call_id: String,
    pub title: String,
    /// read, edit, delete, move, search, execute, think, fetch, other (ACP's tool kinds);
    /// `toolKind` on the wire, since `kind` names the item's kind.
    #[serde(rename = "toolKind")]
    pub kind: String,
    /// pending, in_progress, completed, failed; `cancelled` when ff closed it.
    pub status: String,
    #[serde(default)]
    pub content: Vec<ToolContent>,
    #[serde(default)]
    pub locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_output: Option<Value>,
}

impl ToolCall {
    pub fn is_open(&self) -> bool {
        matches!(self.status.as_str(), "pending" | "in_progress")
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolContent {
    Text {
        text: String,
    },
    Diff {
        path: String,
        #[serde(rename = "oldText", default)]
        old_text: Option<String>,
        #[serde(rename = "newText")]
        new_text: String,
    },
    Terminal {
        #[serde(rename = "terminalId")]
        terminal_id: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanEntry {
    pub content: String,
    pub priority: String,
    pub status: String,
}

/// A permission request and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionRecord {
    pub request_id: String,
    pub request_type: PendingRequestType,
    pub tool_call_id: String,
    pub title: String,
    pub options: Vec<PermissionOption>,
    /// The option chosen; `None` while open, or when the request was cancelled.
    #[serde(default)]
    pub choice: Option<String>,
    #[serde(default)]
    pub decided_by: Option<DecidedBy>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionOption {
    pub option_id: String,
    pub name: String,
    /// allow_once, allow_always, reject_once, reject_always.
    pub kind: String,
}

impl PermissionOption {
    pub fn allows(&self) -> bool {
        self.kind.starts_with("allow")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    Person,
    Policy,
    /// Nobody: the turn was cancelled, the session stopped or the agent exited.
    Cancelled,
}

/// Context window and cost as the agent reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    #[serde(default)]
    pub used: Option<u64>,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub cost: Option<Cost>,
}

/// An amount in millionths of its currency's unit, so that sums are exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    pub micros: u64,
    pub currency: String,
}

impl Cost {
    /// An agent's floating amount (`0.1234` USD), rounded to the micro-unit; negative or
    /// non-finite amounts are not costs.
    pub fn from_amount(amount: f64, currency: &str) -> Option<Self> {
        (amount.is_finite() && amount >= 0.0).then(|| Self {
            micros: (amount * 1_000_000.0).round() as u64,
            currency: currency.to_ascii_uppercase(),
        })
    }

    /// `$0.42`, `0.42 EUR`.
    pub fn display(&self) -> String {
        let amount = self.micros as f64 / 1_000_000.0;
        match self.currency.as_str() {
            "USD" => format!("${amount:.2}"),
            other => format!("{amount:.2} {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_serialize_flat_with_their_kind() {
        let item = Item {
            seq: 3,
            at: Timestamp::from_millis(0).unwrap(),
            body: ItemBody::Agent { text: "hi".into() },
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"seq": 3, "at": "1970-01-01T00:00:00.000Z", "kind": "agent", "text": "hi"})
        );
        assert_eq!(serde_json::from_value::<Item>(json).unwrap(), item);
    }

    #[test]
    fn a_tool_call_round_trips_beside_the_item_kind() {
        let body = ItemBody::Tool(Box::new(ToolCall {
            tool_call_id: "t1".into(),
            title: "Write a".into(),
            kind: "edit".into(),
            status: "pending".into(),
            content: vec![ToolContent::Diff {
                path: "a".into(),
                old_text: None,
                new_text: "hi".into(),
            }],
            locations: vec![],
            raw_input: None,
            raw_output: None,
        }));
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            (&json["kind"], &json["toolKind"]),
            (&"tool".into(), &"edit".into())
        );
        assert_eq!(serde_json::from_value::<ItemBody>(json).unwrap(), body);
    }

    #[test]
    fn costs_are_exact_micro_units() {
        let cost = Cost::from_amount(0.123_456_7, "usd").unwrap();
        assert_eq!((cost.micros, cost.currency.as_str()), (123_457, "USD"));
        assert_eq!(cost.display(), "$0.12");
        assert!(Cost::from_amount(-1.0, "USD").is_none());
        assert!(Cost::from_amount(f64::NAN, "USD").is_none());
    }
}
