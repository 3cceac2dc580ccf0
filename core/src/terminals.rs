//! Terminals: a shell in a PTY in a workspace's worktree. The wire shapes of
//! `/api/workspaces/{id}/terminals` and of what the browser sends on `/ws/terminals/{id}`.
//!
//! On the socket, binary frames carry bytes: the shell's output from ff (first the scrollback,
//! then live output), keystrokes from the browser. Text frames from the browser are controls.

use crate::ids::{TerminalId, Timestamp, WorkspaceId};
use serde::{Deserialize, Serialize};

/// Columns and rows a new terminal gets when the request names none.
pub const DEFAULT_COLS: u16 = 80;
pub const DEFAULT_ROWS: u16 = 24;
/// Larger than any screen; bounds what a client can ask the kernel for.
pub const MAX_COLS: u16 = 1000;
pub const MAX_ROWS: u16 = 500;
/// Largest input frame the browser sends; longer pastes are split (ff refuses bigger frames).
pub const MAX_INPUT_FRAME: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminalInfo {
    pub id: TerminalId,
    pub workspace_id: WorkspaceId,
    /// The program running in it (`$SHELL`, else `/bin/sh`).
    pub shell: String,
    pub created_at: Timestamp,
}

/// `POST /api/workspaces/{id}/terminals`: the size the browser's screen has room for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenTerminal {
    pub cols: Option<u16>,
    pub rows: Option<u16>,
}

/// A text frame from the browser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum Control {
    /// The screen's size changed.
    Resize { cols: u16, rows: u16 },
}

/// A terminal size the kernel accepts: `(cols, rows)`, or which field is out of range.
pub fn checked_size(cols: u16, rows: u16) -> Result<(u16, u16), (&'static str, String)> {
    if cols == 0 || cols > MAX_COLS {
        return Err(("cols", format!("cols must be 1 to {MAX_COLS}, not {cols}")));
    }
    if rows == 0 || rows > MAX_ROWS {
        return Err(("rows", format!("rows must be 1 to {MAX_ROWS}, not {rows}")));
    }
    Ok((cols, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_outside_a_screen_are_refused_naming_the_field() {
        let cases = [
            ((80, 24), Ok((80, 24))),
            ((1, 1), Ok((1, 1))),
            ((MAX_COLS, MAX_ROWS), Ok((MAX_COLS, MAX_ROWS))),
            ((0, 24), Err("cols")),
            ((MAX_COLS + 1, 24), Err("cols")),
            ((80, 0), Err("rows")),
            ((80, MAX_ROWS + 1), Err("rows")),
        ];
        for ((cols, rows), expected) in cases {
            let got = checked_size(cols, rows).map_err(|(field, _)| field);
            assert_eq!(got, expected, "{cols}x{rows}");
        }
    }

    #[test]
    fn controls_read_as_the_browser_writes_them() {
        let resize: Control =
            serde_json::from_str(r#"{"type":"resize","cols":120,"rows":40}"#).expect("a resize");
        assert_eq!(
            resize,
            Control::Resize {
                cols: 120,
                rows: 40
            }
        );
        for bad in [
            r#"{"type":"resize","cols":-1,"rows":4}"#,
            r#"{"type":"paste"}"#,
            r#"{"type":"resize","cols":1,"rows":1,"x":0}"#,
        ] {
            assert!(serde_json::from_str::<Control>(bad).is_err(), "{bad}");
        }
    }
}
