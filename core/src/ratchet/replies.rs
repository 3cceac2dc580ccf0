//! Replies on the review threads a fixer addressed (issue 19 §3): the report a fixer ends its
//! turn with, which of the threads it was given count as addressed, and the text ff replies
//! with. The fixer's words are someone else's text: they go into a fenced block of the reply,
//! bounded, where no mention, link or Markdown of theirs takes effect.

use crate::untrusted::fenced;
use serde_json::Value;

/// The info string of the fenced block the fixer's report is in (the prompt asks for it).
pub const REPORT_LABEL: &str = "ff-review-threads";
/// Characters of one summary quoted in a reply; longer ones are cut.
pub const SUMMARY_MAX_CHARS: usize = 600;
/// Lines of one summary quoted in a reply.
pub const SUMMARY_MAX_LINES: usize = 12;
/// Entries of a report that are read; a fixer was never given more threads than this.
pub const REPORT_MAX_ENTRIES: usize = 100;

/// One entry of the fixer's report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadReport {
    pub thread: String,
    pub addressed: bool,
    pub summary: String,
}

/// A review thread a fixer was given: its GitHub node id and the file it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GivenThread {
    pub id: String,
    pub path: String,
}

/// A thread to reply on, with the fixer's summary (cleaned and bounded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addressed {
    pub thread: String,
    pub summary: String,
}

/// The content of the last fenced block labelled [`REPORT_LABEL`] in `message`.
fn last_report_block(message: &str) -> Option<String> {
    let mut found = None;
    let mut open: Option<(usize, String)> = None;
    for line in message.lines() {
        let trimmed = line.trim_start();
        let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
        match &mut open {
            Some((fence, content)) => {
                if ticks >= *fence && trimmed[ticks..].trim().is_empty() {
                    found = open.take().map(|(_, content)| content);
                } else {
                    content.push_str(line);
                    content.push('\n');
                }
            }
            None => {
                if ticks >= 3 && trimmed[ticks..].trim() == REPORT_LABEL {
                    open = Some((ticks, String::new()));
                }
            }
        }
    }
    found
}

/// The fixer's report in its final message: `[{"thread", "addressed", "summary"}]` (or that
/// list under `"threads"`) in a fenced block labelled [`REPORT_LABEL`]; the last such block
/// counts. `None` when there is none or it is not such JSON; entries of another shape are left
/// out.
pub fn parse_report(message: &str) -> Option<Vec<ThreadReport>> {
    let block = last_report_block(message)?;
    let value: Value = serde_json::from_str(&block).ok()?;
    let entries = match &value {
        Value::Array(entries) => entries,
        Value::Object(object) => object.get("threads")?.as_array()?,
        _ => return None,
    };
    Some(
        entries
            .iter()
            .take(REPORT_MAX_ENTRIES)
            .filter_map(|entry| {
                Some(ThreadReport {
                    thread: entry.get("thread")?.as_str()?.to_owned(),
                    addressed: entry.get("addressed")?.as_bool()?,
                    summary: entry
                        .get("summary")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                })
            })
            .collect(),
    )
}

/// A summary as a reply quotes it: control characters out, at most [`SUMMARY_MAX_LINES`]
/// lines and [`SUMMARY_MAX_CHARS`] characters; `None` when nothing is left.
pub fn clean_summary(text: &str) -> Option<String> {
    let plain: String = text
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    let lines: Vec<&str> = plain.trim().lines().map(str::trim_end).collect();
    let mut kept = lines[..lines.len().min(SUMMARY_MAX_LINES)].join("\n");
    let mut cut = lines.len() > SUMMARY_MAX_LINES;
    if kept.chars().count() > SUMMARY_MAX_CHARS {
        // Room for the ellipsis that says so.
        kept = kept.chars().take(SUMMARY_MAX_CHARS - 1).collect();
        cut = true;
    }
    let mut kept = kept.trim_end().to_owned();
    if kept.is_empty() {
        return None;
    }
    if cut {
        kept.push('…');
    }
    Some(kept)
}

/// The given threads the fixer addressed: its report says so with a summary, and a pushed
/// commit changed the thread's file (`changed`). A thread it left out, said it did not
/// address, or whose file no commit touched gets no reply; one it was not given never does.
pub fn addressed(
    given: &[GivenThread],
    report: &[ThreadReport],
    changed: &[String],
) -> Vec<Addressed> {
    given
        .iter()
        .filter(|thread| changed.contains(&thread.path))
        .filter_map(|thread| {
            let entry = report.iter().find(|e| e.thread == thread.id)?;
            let summary = clean_summary(&entry.summary).filter(|_| entry.addressed)?;
            Some(Addressed {
                thread: thread.id.clone(),
                summary,
            })
        })
        .collect()
}

/// The hidden mark of one fixer run in its replies, so that a reply already on GitHub is
/// found again (after a restart between the reply and its record). `run` is ff's own id.
pub fn run_marker(run: &str) -> String {
    let run: String = run
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '-'))
        .collect();
    format!("<!-- ff-ratchet-reply {run} -->")
}

/// Whether `commit` is a full git object id (the only form a reply names).
fn is_object_id(commit: &str) -> bool {
    matches!(commit.len(), 40 | 64) && commit.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The reply on an addressed thread: ff's sentence naming the commit, the fixer's summary
/// fenced as its words, and the run's marker.
pub fn reply_body(summary: &str, commit: &str, run: &str) -> String {
    let intro = if is_object_id(commit) {
        format!("ff's ratchet pushed {commit} for this thread. The fixer agent's summary:")
    } else {
        "ff's ratchet pushed a fix for this thread. The fixer agent's summary:".to_owned()
    };
    format!(
        "{intro}\n\n{}\n\n{}",
        fenced("text", summary),
        run_marker(run)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given() -> Vec<GivenThread> {
        vec![
            GivenThread {
                id: "PRRT_a".into(),
                path: "src/login.rs".into(),
            },
            GivenThread {
                id: "PRRT_b".into(),
                path: "src/lib.rs".into(),
            },
        ]
    }

    fn entry(thread: &str, addressed: bool, summary: &str) -> ThreadReport {
        ThreadReport {
            thread: thread.into(),
            addressed,
            summary: summary.into(),
        }
    }

    #[test]
    fn the_last_labelled_block_is_the_report() {
        let message = "Done.\n```ff-review-threads\n[{\"thread\": \"old\", \"addressed\": true}]\n```\n\
            Then:\n````ff-review-threads\n{\"threads\": [\n {\"thread\": \"PRRT_a\", \"addressed\": true, \"summary\": \"Checked ```it```\"},\n \
            {\"thread\": 3, \"addressed\": true},\n {\"thread\": \"PRRT_b\", \"addressed\": false}\n]}\n````\n";
        assert_eq!(
            parse_report(message),
            Some(vec![
                entry("PRRT_a", true, "Checked ```it```"),
                entry("PRRT_b", false, "")
            ])
        );
        for none in [
            "no block",
            "```json\n[]\n```",
            "```ff-review-threads\nnot json\n```",
            "```ff-review-threads\n[]",
        ] {
            assert_eq!(parse_report(none), None, "{none}");
        }
    }

    #[test]
    fn a_thread_counts_as_addressed_only_when_the_report_says_so_and_a_commit_touched_its_file() {
        let changed = ["src/login.rs".to_owned(), "src/lib.rs".to_owned()];
        let cases: Vec<(Vec<ThreadReport>, &[String], Vec<&str>)> = vec![
            (
                vec![entry("PRRT_a", true, "Fixed"), entry("PRRT_b", true, "Too")],
                &changed,
                vec!["PRRT_a", "PRRT_b"],
            ),
            (
                vec![entry("PRRT_a", true, "Fixed"), entry("PRRT_b", false, "No")],
                &changed,
                vec!["PRRT_a"],
            ),
            (
                vec![entry("PRRT_a", true, "Fixed")],
                &changed,
                vec!["PRRT_a"],
            ),
            (
                vec![entry("PRRT_a", true, "Fixed"), entry("PRRT_b", true, "Too")],
                &changed[1..],
                vec!["PRRT_b"],
            ),
            (vec![entry("PRRT_a", true, "  \n ")], &changed, vec![]),
            (vec![entry("PRRT_x", true, "Not given")], &changed, vec![]),
            (vec![entry("PRRT_a", true, "Fixed")], &[], vec![]),
        ];
        for (report, changed, expected) in cases {
            let got: Vec<String> = addressed(&given(), &report, changed)
                .into_iter()
                .map(|a| a.thread)
                .collect();
            assert_eq!(got, expected, "{report:?} {changed:?}");
        }
    }

    #[test]
    fn summaries_are_bounded_and_stay_inside_their_fence() {
        let long = "@everyone ".repeat(200);
        let summary = clean_summary(&long).unwrap();
        assert!(summary.chars().count() <= SUMMARY_MAX_CHARS);
        assert!(summary.chars().count() > SUMMARY_MAX_CHARS - 20);
        assert!(summary.ends_with('…'));
        let many_lines = "line\n".repeat(40);
        assert_eq!(
            clean_summary(&many_lines).unwrap().lines().count(),
            SUMMARY_MAX_LINES
        );
        assert_eq!(clean_summary("a\u{1b}[31mb\u{0}c").unwrap(), "a[31mbc");

        let hostile = "@everyone see [here](https://evil.example)\n````\n# Approved\n<!-- x -->";
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let body = reply_body(&clean_summary(hostile).unwrap(), commit, "w1:2026-01-01");
        assert!(body.starts_with(&format!("ff's ratchet pushed {commit} for this thread.")));
        assert!(body.ends_with("<!-- ff-ratchet-reply w1:2026-01-01 -->"));
        let outside: String = {
            use pulldown_cmark::{Event, Parser, Tag, TagEnd};
            let mut inside = false;
            let mut out = String::new();
            for event in Parser::new(&body) {
                match event {
                    Event::Start(Tag::CodeBlock(_)) => inside = true,
                    Event::End(TagEnd::CodeBlock) => inside = false,
                    Event::Text(t) | Event::Html(t) | Event::InlineHtml(t) if !inside => {
                        out.push_str(&t)
                    }
                    _ => {}
                }
            }
            out
        };
        for word in ["@everyone", "evil.example", "Approved", "<!-- x -->"] {
            assert!(
                !outside.contains(word),
                "{word:?} outside the fence: {body}"
            );
        }
        assert!(
            reply_body("s", "$(id)", "r").starts_with("ff's ratchet pushed a fix"),
            "only an object id is named"
        );
        assert_eq!(run_marker("a-->b c"), "<!-- ff-ratchet-reply a--bc -->");
    }
}
