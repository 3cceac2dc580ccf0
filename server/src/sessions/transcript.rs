//! A session's transcript as it is being written: ACP updates mapped into ff's items, chunks
//! joined into one item per message, tool calls updated in place by id. Items changed since the
//! last write are kept here until the session writes them in a batch.

use super::store::Write;
use ff_core::ids::{MessageId, Timestamp};
use ff_core::transcript::{
    DecidedBy, Item, ItemBody, Location, PermissionRecord, PlanEntry, ToolCall, ToolContent, Usage,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// What one change did, for the live stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A new item, or a new version of one.
    Item(Item),
    /// More text for a streaming message or thought.
    Append { seq: u64, text: String },
}

#[derive(Debug, Default)]
pub struct Transcript {
    next_seq: u64,
    /// The message and thought being streamed, if any.
    open_message: Option<u64>,
    open_thought: Option<u64>,
    open_plan: Option<u64>,
    /// Tool calls by id, and permission requests by request id, while they may still change.
    tools: HashMap<String, u64>,
    permissions: HashMap<String, u64>,
    /// Items that may still change, or are not written yet.
    live: BTreeMap<u64, Item>,
    dirty: BTreeMap<u64, ()>,
    /// Streaming items written at least once: how much of their text is written, and how many
    /// chunks hold it beyond their first write.
    streamed: HashMap<u64, Streamed>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Streamed {
    written: usize,
    chunks: u32,
}

impl Transcript {
    /// Continues a transcript whose last written item is `last_seq`.
    pub fn after(last_seq: u64) -> Self {
        Self {
            next_seq: last_seq + 1,
            ..Self::default()
        }
    }

    pub fn user(&mut self, text: &str, message_id: MessageId, at: Timestamp) -> Change {
        self.close_streams();
        self.push(
            at,
            ItemBody::User {
                text: text.to_owned(),
                message_id: Some(message_id),
            },
        )
    }

    pub fn error(&mut self, message: &str, at: Timestamp) -> Change {
        self.close_streams();
        self.push(
            at,
            ItemBody::Error {
                message: message.to_owned(),
            },
        )
    }

    pub fn notice(&mut self, text: &str, at: Timestamp) -> Change {
        self.push(
            at,
            ItemBody::Notice {
                text: text.to_owned(),
            },
        )
    }

    pub fn config(&mut self, mode: Option<String>, model: Option<String>, at: Timestamp) -> Change {
        self.push(at, ItemBody::Config { mode, model })
    }

    pub fn usage(&mut self, usage: Usage, at: Timestamp) -> Change {
        self.push(at, ItemBody::Usage(usage))
    }

    /// The end of a turn: the stream items close, the plan of the turn is final.
    pub fn stop(&mut self, reason: &str, at: Timestamp) -> Change {
        self.close_streams();
        self.open_plan = None;
        self.push(
            at,
            ItemBody::Stop {
                reason: reason.to_owned(),
            },
        )
    }

    /// Tool calls nobody will finish any more (the turn was cancelled, the agent died): closed by
    /// ff so they do not show as running forever.
    pub fn close_open_tools(&mut self, status: &str) -> Vec<Change> {
        let open: Vec<u64> = self.tools.values().copied().collect();
        self.tools.clear();
        open.into_iter()
            .filter_map(|seq| {
                let item = self.live.get_mut(&seq)?;
                let ItemBody::Tool(tool) = &mut item.body else {
                    return None;
                };
                if !tool.is_open() {
                    return None;
                }
                tool.status = status.to_owned();
                Some(self.touched(seq))
            })
            .collect()
    }

    pub fn permission(&mut self, record: PermissionRecord, at: Timestamp) -> Change {
        self.close_streams();
        let request_id = record.request_id.clone();
        let change = self.push(at, ItemBody::Permission(Box::new(record)));
        if let Change::Item(item) = &change {
            self.permissions.insert(request_id, item.seq);
        }
        change
    }

    /// Records the choice made on an open permission request.
    pub fn decide(
        &mut self,
        request_id: &str,
        choice: Option<String>,
        by: DecidedBy,
    ) -> Option<Change> {
        let seq = self.permissions.remove(request_id)?;
        let item = self.live.get_mut(&seq)?;
        let ItemBody::Permission(record) = &mut item.body else {
            return None;
        };
        record.choice = choice;
        record.decided_by = Some(by);
        Some(self.touched(seq))
    }

    /// A tool call the agent asked permission for before announcing it (Codex does): known from
    /// the request, so that its later updates land on the same item.
    pub fn tool_from_request(&mut self, tool_call: &Value, at: Timestamp) -> Option<Change> {
        let id = tool_call["toolCallId"].as_str()?;
        if self.tools.contains_key(id) {
            return None;
        }
        Some(self.tool_call(tool_call, at))
    }

    /// One `session/update`, by its `sessionUpdate` kind (A§1).
    pub fn update(&mut self, update: &Value, at: Timestamp) -> Vec<Change> {
        let kind = update["sessionUpdate"].as_str().unwrap_or_default();
        match kind {
            "agent_message_chunk" => self.stream(false, &content_text(&update["content"]), at),
            "agent_thought_chunk" => self.stream(true, &content_text(&update["content"]), at),
            "tool_call" => vec![self.tool_call(update, at)],
            "tool_call_update" => vec![self.tool_update(update, at)],
            "plan" => vec![self.plan(update, at)],
            "current_mode_update" => {
                let mode = update["currentModeId"].as_str().map(str::to_owned);
                vec![self.config(mode, None, at)]
            }
            "notice" => {
                let text = ["message", "title", "text"]
                    .iter()
                    .find_map(|key| update[*key].as_str())
                    .unwrap_or("The agent sent a notice")
                    .to_owned();
                vec![self.notice(&text, at)]
            }
            "compaction_update" if update["status"] == "completed" => {
                vec![self.notice("The agent compacted its context", at)]
            }
            // ff records what people send itself; the rest is session state, not history.
            _ => Vec::new(),
        }
    }

    /// What to write of the items changed since the last write, oldest first: an item whole,
    /// or only the text a streaming one gained (its first write is whole, and so is its last,
    /// which replaces its chunks). Written items are forgotten unless they may still change.
    pub fn take_dirty(&mut self) -> Vec<Write> {
        let seqs: Vec<u64> = std::mem::take(&mut self.dirty).into_keys().collect();
        let open = [self.open_message, self.open_thought];
        let mut writes = Vec::with_capacity(seqs.len());
        for seq in seqs {
            let Some(item) = self.live.get(&seq) else {
                continue;
            };
            let text = streamed_text(&item.body);
            if !open.contains(&Some(seq)) {
                self.streamed.remove(&seq);
                writes.push(Write::Item(item.clone()));
                continue;
            }
            match self.streamed.get_mut(&seq) {
                Some(streamed) if text.len() > streamed.written => {
                    writes.push(Write::Append {
                        seq,
                        n: streamed.chunks,
                        text: text[streamed.written..].to_owned(),
                    });
                    streamed.written = text.len();
                    streamed.chunks += 1;
                }
                Some(_) => {}
                None => {
                    self.streamed.insert(
                        seq,
                        Streamed {
                            written: text.len(),
                            chunks: 0,
                        },
                    );
                    writes.push(Write::Item(item.clone()));
                }
            }
        }
        let keep: Vec<u64> = [self.open_message, self.open_thought, self.open_plan]
            .into_iter()
            .flatten()
            .chain(self.tools.values().copied())
            .chain(self.permissions.values().copied())
            .collect();
        self.live.retain(|seq, _| keep.contains(seq));
        writes
    }

    pub fn has_dirty(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// Items not written yet with a number above `after`, to merge with what the database holds.
    pub fn unwritten_after(&self, after: u64) -> Vec<Item> {
        self.dirty
            .keys()
            .filter(|seq| **seq > after)
            .filter_map(|seq| self.live.get(seq).cloned())
            .collect()
    }

    fn stream(&mut self, thought: bool, text: &str, at: Timestamp) -> Vec<Change> {
        if text.is_empty() {
            return Vec::new();
        }
        let open = if thought {
            self.open_thought
        } else {
            self.open_message
        };
        if let Some(seq) = open {
            if let Some(body) = self.live.get_mut(&seq).and_then(|i| i.body.text_mut()) {
                body.push_str(text);
                self.dirty.insert(seq, ());
                return vec![Change::Append {
                    seq,
                    text: text.to_owned(),
                }];
            }
        }
        let body = if thought {
            ItemBody::Thought {
                text: text.to_owned(),
            }
        } else {
            ItemBody::Agent {
                text: text.to_owned(),
            }
        };
        let change = self.push(at, body);
        let seq = self.next_seq - 1;
        if thought {
            self.open_thought = Some(seq);
        } else {
            self.open_message = Some(seq);
        }
        vec![change]
    }

    fn tool_call(&mut self, update: &Value, at: Timestamp) -> Change {
        let id = update["toolCallId"].as_str().unwrap_or_default().to_owned();
        if let Some(&seq) = self.tools.get(&id) {
            return self.merge_tool(seq, update);
        }
        self.close_streams();
        let tool = ToolCall {
            tool_call_id: id.clone(),
            title: update["title"].as_str().unwrap_or("Tool call").to_owned(),
            kind: update["kind"].as_str().unwrap_or("other").to_owned(),
            status: update["status"].as_str().unwrap_or("pending").to_owned(),
            content: tool_content(&update["content"]),
            locations: locations(&update["locations"]),
            raw_input: non_null(&update["rawInput"]),
            raw_output: non_null(&update["rawOutput"]),
        };
        let change = self.push(at, ItemBody::Tool(Box::new(tool)));
        self.tools.insert(id, self.next_seq - 1);
        change
    }

    fn tool_update(&mut self, update: &Value, at: Timestamp) -> Change {
        match update["toolCallId"]
            .as_str()
            .and_then(|id| self.tools.get(id).copied())
        {
            Some(seq) => self.merge_tool(seq, update),
            None => self.tool_call(update, at),
        }
    }

    /// Fields an update carries replace the item's; absent ones stay (ACP's update semantics).
    fn merge_tool(&mut self, seq: u64, update: &Value) -> Change {
        if let Some(ItemBody::Tool(tool)) = self.live.get_mut(&seq).map(|i| &mut i.body) {
            if let Some(title) = update["title"].as_str() {
                tool.title = title.to_owned();
            }
            if let Some(kind) = update["kind"].as_str() {
                tool.kind = kind.to_owned();
            }
            if let Some(status) = update["status"].as_str() {
                tool.status = status.to_owned();
            }
            if update["content"].is_array() {
                tool.content = tool_content(&update["content"]);
            }
            if update["locations"].is_array() {
                tool.locations = locations(&update["locations"]);
            }
            if let Some(input) = non_null(&update["rawInput"]) {
                tool.raw_input = Some(input);
            }
            if let Some(output) = non_null(&update["rawOutput"]) {
                tool.raw_output = Some(output);
            }
            if !tool.is_open() {
                let id = tool.tool_call_id.clone();
                self.tools.remove(&id);
            }
        }
        self.touched(seq)
    }

    fn plan(&mut self, update: &Value, at: Timestamp) -> Change {
        let entries: Vec<PlanEntry> = update["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| PlanEntry {
                content: e["content"].as_str().unwrap_or_default().to_owned(),
                priority: e["priority"].as_str().unwrap_or("medium").to_owned(),
                status: e["status"].as_str().unwrap_or("pending").to_owned(),
            })
            .collect();
        if let Some(seq) = self.open_plan {
            if let Some(item) = self.live.get_mut(&seq) {
                item.body = ItemBody::Plan { entries };
                return self.touched(seq);
            }
        }
        let change = self.push(at, ItemBody::Plan { entries });
        self.open_plan = Some(self.next_seq - 1);
        change
    }

    /// The streaming items are done: one that was written in chunks is written whole once more
    /// (its chunks then go), so that a closed item is one row.
    fn close_streams(&mut self) {
        for seq in [self.open_message.take(), self.open_thought.take()]
            .into_iter()
            .flatten()
        {
            match self.streamed.get(&seq) {
                Some(streamed) if streamed.chunks > 0 => {
                    self.dirty.insert(seq, ());
                }
                _ => {
                    self.streamed.remove(&seq);
                }
            }
        }
    }

    fn push(&mut self, at: Timestamp, body: ItemBody) -> Change {
        let seq = self.next_seq;
        self.next_seq += 1;
        let item = Item { seq, at, body };
        self.live.insert(seq, item.clone());
        self.dirty.insert(seq, ());
        Change::Item(item)
    }

    fn touched(&mut self, seq: u64) -> Change {
        self.dirty.insert(seq, ());
        Change::Item(self.live[&seq].clone())
    }
}

/// The text of a message or thought (the items that stream); empty for the others.
fn streamed_text(body: &ItemBody) -> &str {
    match body {
        ItemBody::Agent { text } | ItemBody::Thought { text } => text,
        _ => "",
    }
}

/// The text of a content block (images and resources are named, not shown).
fn content_text(content: &Value) -> String {
    match content["type"].as_str() {
        Some("text") => content["text"].as_str().unwrap_or_default().to_owned(),
        Some("resource_link") => format!("[{}]", content["name"].as_str().unwrap_or("resource")),
        Some(other) => format!("[{other}]"),
        None => String::new(),
    }
}

fn tool_content(content: &Value) -> Vec<ToolContent> {
    content
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|part| match part["type"].as_str()? {
            "content" => Some(ToolContent::Text {
                text: content_text(&part["content"]),
            }),
            "diff" => Some(ToolContent::Diff {
                path: part["path"].as_str()?.to_owned(),
                old_text: part["oldText"].as_str().map(str::to_owned),
                new_text: part["newText"].as_str().unwrap_or_default().to_owned(),
            }),
            "terminal" => Some(ToolContent::Terminal {
                terminal_id: part["terminalId"].as_str()?.to_owned(),
            }),
            _ => None,
        })
        .collect()
}

fn locations(value: &Value) -> Vec<Location> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some(Location {
                path: l["path"].as_str()?.to_owned(),
                line: l["line"].as_u64().and_then(|n| u32::try_from(n).ok()),
            })
        })
        .collect()
}

fn non_null(value: &Value) -> Option<Value> {
    (!value.is_null()).then(|| value.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> Timestamp {
        Timestamp::from_millis(1_000).unwrap()
    }

    fn chunk(kind: &str, text: &str) -> Value {
        json!({"sessionUpdate": kind, "content": {"type": "text", "text": text}})
    }

    #[test]
    fn chunks_join_into_one_item_per_message_around_tool_calls() {
        let mut t = Transcript::after(4);
        let first = t.update(&chunk("agent_message_chunk", "Hel"), at());
        assert!(matches!(&first[..], [Change::Item(Item { seq: 5, .. })]));
        assert_eq!(
            t.update(&chunk("agent_message_chunk", "lo"), at()),
            vec![Change::Append {
                seq: 5,
                text: "lo".into()
            }]
        );
        t.update(&chunk("agent_thought_chunk", "hmm"), at());
        t.update(
            &json!({"sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Write", "kind": "edit", "status": "pending"}),
            at(),
        );
        // After the tool call a new message begins.
        let after = t.update(&chunk("agent_message_chunk", "Done"), at());
        assert!(matches!(&after[..], [Change::Item(Item { seq: 8, .. })]));
        let written: Vec<Item> = t
            .take_dirty()
            .into_iter()
            .map(|write| match write {
                Write::Item(item) => item,
                Write::Append { .. } => panic!("first writes are whole: {write:?}"),
            })
            .collect();
        let texts: Vec<(u64, String)> = written
            .iter()
            .map(|i| {
                (
                    i.seq,
                    serde_json::to_value(&i.body).unwrap()["kind"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect();
        assert_eq!(
            texts,
            [
                (5, "agent".into()),
                (6, "thought".into()),
                (7, "tool".into()),
                (8, "agent".into())
            ]
        );
        assert!(matches!(&written[0].body, ItemBody::Agent { text } if text == "Hello"));
        assert!(!t.has_dirty());
    }

    #[test]
    fn tool_updates_merge_in_place_and_close_when_final() {
        let mut t = Transcript::after(0);
        t.update(
            &json!({"sessionUpdate": "tool_call", "toolCallId": "t1", "title": "Terminal", "kind": "execute", "status": "pending"}),
            at(),
        );
        t.update(
            &json!({"sessionUpdate": "tool_call_update", "toolCallId": "t1", "title": "ls -la",
                    "content": [{"type": "content", "content": {"type": "text", "text": "listing"}}],
                    "locations": [{"path": "/w/a.rs", "line": 3}]}),
            at(),
        );
        let done = t.update(
            &json!({"sessionUpdate": "tool_call_update", "toolCallId": "t1", "status": "completed", "rawOutput": {"stdout": "x"}}),
            at(),
        );
        let [Change::Item(item)] = &done[..] else {
            panic!("{done:?}")
        };
        let ItemBody::Tool(tool) = &item.body else {
            panic!()
        };
        assert_eq!(item.seq, 1);
        assert_eq!(
            (
                tool.title.as_str(),
                tool.kind.as_str(),
                tool.status.as_str()
            ),
            ("ls -la", "execute", "completed")
        );
        assert_eq!(
            tool.content,
            vec![ToolContent::Text {
                text: "listing".into()
            }]
        );
        assert_eq!(tool.locations[0].line, Some(3));
        assert!(
            t.close_open_tools("cancelled").is_empty(),
            "a completed call stays completed"
        );
    }

    #[test]
    fn a_permission_before_its_tool_call_and_an_abandoned_tool_call() {
        let mut t = Transcript::after(0);
        let call = json!({"toolCallId": "c1", "title": "rm -rf target", "kind": "execute", "status": "pending"});
        assert!(t.tool_from_request(&call, at()).is_some());
        assert!(t.tool_from_request(&call, at()).is_none(), "known once");
        t.permission(
            PermissionRecord {
                request_id: "r1".into(),
                request_type: ff_core::enums::PendingRequestType::PermissionRequest,
                tool_call_id: "c1".into(),
                title: "rm -rf target".into(),
                options: vec![],
                choice: None,
                decided_by: None,
            },
            at(),
        );
        let decided = t
            .decide("r1", Some("approved".into()), DecidedBy::Person)
            .unwrap();
        let Change::Item(item) = decided else {
            panic!()
        };
        assert!(
            matches!(&item.body, ItemBody::Permission(p) if p.choice.as_deref() == Some("approved"))
        );
        assert!(
            t.decide("r1", None, DecidedBy::Cancelled).is_none(),
            "decided once"
        );
        // The update after the request lands on the same item; a crash leaves it to ff to close.
        t.update(
            &json!({"sessionUpdate": "tool_call", "toolCallId": "c1", "status": "in_progress"}),
            at(),
        );
        let closed = t.close_open_tools("cancelled");
        let [Change::Item(item)] = &closed[..] else {
            panic!("{closed:?}")
        };
        assert_eq!(item.seq, 1);
        assert!(matches!(&item.body, ItemBody::Tool(tool) if tool.status == "cancelled"));
    }

    #[test]
    fn plans_update_in_place_within_a_turn() {
        let mut t = Transcript::after(0);
        let plan = |status: &str| json!({"sessionUpdate": "plan", "entries": [{"content": "Write tests", "priority": "high", "status": status}]});
        t.update(&plan("pending"), at());
        let again = t.update(&plan("completed"), at());
        assert!(
            matches!(&again[..], [Change::Item(Item { seq: 1, body: ItemBody::Plan { entries }, .. })] if entries[0].status == "completed")
        );
        t.stop("end_turn", at());
        let next = t.update(&plan("pending"), at());
        assert!(
            matches!(&next[..], [Change::Item(Item { seq: 3, .. })]),
            "a new turn has a new plan"
        );
    }

    #[test]
    fn a_streaming_message_is_written_whole_once_then_appended_then_whole_at_its_end() {
        let mut t = Transcript::after(0);
        t.update(&chunk("agent_message_chunk", "Hel"), at());
        let first = t.take_dirty();
        assert!(matches!(&first[..], [Write::Item(Item { seq: 1, .. })]));
        t.update(&chunk("agent_message_chunk", "lo "), at());
        t.update(&chunk("agent_message_chunk", "wor"), at());
        assert_eq!(
            t.take_dirty(),
            [Write::Append {
                seq: 1,
                n: 0,
                text: "lo wor".into()
            }]
        );
        assert!(t.take_dirty().is_empty(), "nothing new, nothing written");
        t.update(&chunk("agent_message_chunk", "ld"), at());
        assert_eq!(
            t.take_dirty(),
            [Write::Append {
                seq: 1,
                n: 1,
                text: "ld".into()
            }]
        );
        // The end of the turn closes the message: it is written whole once more.
        t.stop("end_turn", at());
        let last = t.take_dirty();
        assert!(
            matches!(&last[0], Write::Item(Item { seq: 1, body: ItemBody::Agent { text }, .. }) if text == "Hello world"),
            "{last:?}"
        );
        assert!(matches!(&last[1], Write::Item(Item { seq: 2, .. })));
        // A message that closes before its second write is written whole, once.
        t.update(&chunk("agent_message_chunk", "short"), at());
        t.stop("end_turn", at());
        let writes = t.take_dirty();
        assert!(
            writes.iter().all(|w| matches!(w, Write::Item(_))),
            "{writes:?}"
        );
    }
}
