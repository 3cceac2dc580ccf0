//! Opening a worktree, or one of its files at a line, in the user's editor: the editors' URL
//! schemes (opened by the browser's machine), their remote form when ff is reached from another
//! machine, and the argv of a custom command (run on ff's machine, never through a shell).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Editor {
    #[default]
    Vscode,
    Cursor,
    Zed,
    /// A command of the user's with `{path}`, run on ff's machine.
    Custom,
}

impl Editor {
    pub const ALL: [Editor; 4] = [Editor::Vscode, Editor::Cursor, Editor::Zed, Editor::Custom];

    pub fn label(self) -> &'static str {
        match self {
            Editor::Vscode => "VS Code",
            Editor::Cursor => "Cursor",
            Editor::Zed => "Zed",
            Editor::Custom => "Custom command",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Editor::Vscode => "vscode",
            Editor::Cursor => "cursor",
            Editor::Zed => "zed",
            Editor::Custom => "custom",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == text)
    }
}

/// The user's editor settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditorSettings {
    #[serde(default)]
    pub editor: Editor,
    /// For `custom`: the program and its arguments, `{path}` where the path goes.
    #[serde(default)]
    pub custom_command: Option<String>,
    /// The SSH host (`[user@]host`) the browser's machine reaches ff's machine as; links go
    /// through the editor's remote scheme when the page is not on loopback.
    #[serde(default)]
    pub ssh_host: Option<String>,
}

/// `POST /api/workspaces/{id}/open-in-editor`: the worktree, or one of its files (relative, as
/// the review names it) at a line. The line reaches URL-scheme editors only: a custom command
/// has no place for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenRequest {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
}

/// Longest custom command and SSH host accepted.
pub const MAX_COMMAND_CHARS: usize = 1000;
pub const MAX_HOST_CHARS: usize = 255;

impl EditorSettings {
    /// The settings checked whole: `Err` names the offending field as a `PATCH /api/settings`
    /// body holds it.
    pub fn checked(self) -> Result<Self, (&'static str, String)> {
        let custom_command = self
            .custom_command
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty());
        if let Some(command) = &custom_command {
            if command.chars().count() > MAX_COMMAND_CHARS {
                return Err((
                    "editor.customCommand",
                    format!("customCommand has at most {MAX_COMMAND_CHARS} characters"),
                ));
            }
            command_argv(command, "/")
                .map_err(|e| ("editor.customCommand", format!("customCommand: {e}")))?;
        }
        if self.editor == Editor::Custom && custom_command.is_none() {
            return Err((
                "editor.customCommand",
                "customCommand is required for a custom editor, e.g. \"emacsclient -n {path}\""
                    .to_owned(),
            ));
        }
        let ssh_host = self
            .ssh_host
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty());
        if let Some(host) = &ssh_host {
            check_ssh_host(host).map_err(|e| ("editor.sshHost", e))?;
        }
        Ok(Self {
            editor: self.editor,
            custom_command,
            ssh_host,
        })
    }
}

/// `[user@]host[:port]`-free SSH destination: letters, digits, `.`, `-`, `_`, one optional `@`.
fn check_ssh_host(host: &str) -> Result<(), String> {
    let (user, name) = match host.split_once('@') {
        Some((user, name)) => (Some(user), name),
        None => (None, host),
    };
    let fine = |part: &str| {
        part.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    // An empty user (`@box`) or a leading '-' would reach ssh as something else than a host.
    let bad_user = user.is_some_and(|u| u.is_empty() || u.starts_with('-'));
    if host.len() > MAX_HOST_CHARS || name.is_empty() || name.starts_with('-') || bad_user {
        return Err(format!("sshHost {host:?} is not a host name"));
    }
    if !user.is_none_or(fine) || !fine(name) {
        return Err(format!(
            "sshHost {host:?} may hold only letters, digits, '.', '-', '_' and one '@'"
        ));
    }
    Ok(())
}

/// Whether the page's host (a `Host` header or `location.host`, port allowed) is this machine's
/// loopback (then the browser runs where ff does, and a local link opens the right files).
pub fn is_loopback_host(host: &str) -> bool {
    let host = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        // One ':' is a port; more is a bare IPv6 address.
        None if host.matches(':').count() == 1 => host.split(':').next().unwrap_or_default(),
        None => host,
    };
    host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The link that opens `path` (absolute, on ff's machine) at `line` in the user's editor, as
/// seen from a page served to `page_host`; `None` for a custom command (ff runs it).
pub fn link(
    settings: &EditorSettings,
    path: &str,
    line: Option<u32>,
    page_host: &str,
) -> Option<String> {
    let remote = settings
        .ssh_host
        .as_deref()
        .filter(|_| !is_loopback_host(page_host));
    let path = encode_path(path);
    let at = line.map(|l| format!(":{l}")).unwrap_or_default();
    let scheme = match settings.editor {
        Editor::Vscode => "vscode",
        Editor::Cursor => "cursor",
        Editor::Zed => "zed",
        Editor::Custom => return None,
    };
    Some(match (settings.editor, remote) {
        (Editor::Zed, Some(host)) => format!("zed://ssh/{host}{path}{at}"),
        (_, Some(host)) => format!("{scheme}://vscode-remote/ssh-remote+{host}{path}{at}"),
        (_, None) => format!("{scheme}://file{path}{at}"),
    })
}

/// Percent-encodes what a URL path cannot hold as is (spaces, `#`, `?`, `%`, non-ASCII), keeping
/// `/`. A relative path gets its leading `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    if !path.starts_with('/') {
        out.push('/');
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~+@,=:".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The argv of a custom command for `path`: the command split into words as a shell would
/// (whitespace, '…', "…", \), with `{path}` replaced inside each word, so that the path is
/// always within one argument whatever it holds; with no `{path}` the path is the last argument.
pub fn command_argv(command: &str, path: &str) -> Result<Vec<String>, String> {
    let words = split_words(command)?;
    if words.is_empty() {
        return Err("the command is empty".to_owned());
    }
    if words[0].contains("{path}") {
        return Err("the command must start with a program, not {path}".to_owned());
    }
    let mut argv: Vec<String> = words.iter().map(|w| w.replace("{path}", path)).collect();
    if !words.iter().any(|w| w.contains("{path}")) {
        argv.push(path.to_owned());
    }
    Ok(argv)
}

fn split_words(command: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(done) = word.take() {
                    words.push(done);
                }
            }
            '\'' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err("the command has an unclosed '".to_owned()),
                    }
                }
            }
            '"' => {
                let current = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err("the command has an unclosed \"".to_owned()),
                        },
                        Some(c) => current.push(c),
                        None => return Err("the command has an unclosed \"".to_owned()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err("the command ends with a lone \\".to_owned()),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(editor: Editor, ssh_host: Option<&str>) -> EditorSettings {
        EditorSettings {
            editor,
            custom_command: None,
            ssh_host: ssh_host.map(str::to_owned),
        }
    }

    #[test]
    fn links_follow_each_editors_scheme_locally_and_remotely() {
        /// Editor, SSH host, path, line, the page's host, the link.
        type Case = (
            Editor,
            Option<&'static str>,
            &'static str,
            Option<u32>,
            &'static str,
            Option<&'static str>,
        );
        let cases: [Case; 12] = [
            (
                Editor::Vscode,
                None,
                "/w/a.rs",
                Some(12),
                "127.0.0.1",
                Some("vscode://file/w/a.rs:12"),
            ),
            (
                Editor::Vscode,
                None,
                "/w",
                None,
                "localhost",
                Some("vscode://file/w"),
            ),
            (
                Editor::Cursor,
                None,
                "/w/a.rs",
                Some(3),
                "127.0.0.1",
                Some("cursor://file/w/a.rs:3"),
            ),
            (
                Editor::Zed,
                None,
                "/w/a.rs",
                Some(3),
                "[::1]",
                Some("zed://file/w/a.rs:3"),
            ),
            (Editor::Custom, None, "/w", None, "127.0.0.1", None),
            // A page on another machine's address, but no SSH host set: the local scheme.
            (
                Editor::Vscode,
                None,
                "/w",
                None,
                "192.168.1.5",
                Some("vscode://file/w"),
            ),
            // An SSH host, but the page is on loopback: still local.
            (
                Editor::Vscode,
                Some("box"),
                "/w",
                None,
                "127.0.0.1",
                Some("vscode://file/w"),
            ),
            (
                Editor::Vscode,
                Some("me@box"),
                "/w/a.rs",
                Some(7),
                "192.168.1.5",
                Some("vscode://vscode-remote/ssh-remote+me@box/w/a.rs:7"),
            ),
            (
                Editor::Cursor,
                Some("box"),
                "/w",
                None,
                "ff.lan",
                Some("cursor://vscode-remote/ssh-remote+box/w"),
            ),
            (
                Editor::Zed,
                Some("box"),
                "/w/a.rs",
                Some(2),
                "ff.lan",
                Some("zed://ssh/box/w/a.rs:2"),
            ),
            (
                Editor::Vscode,
                None,
                "/w/my file#1?.rs",
                None,
                "localhost",
                Some("vscode://file/w/my%20file%231%3F.rs"),
            ),
            (
                Editor::Vscode,
                None,
                "/w/é",
                None,
                "localhost",
                Some("vscode://file/w/%C3%A9"),
            ),
        ];
        for (editor, host, path, line, page, expected) in cases {
            assert_eq!(
                link(&settings(editor, host), path, line, page).as_deref(),
                expected,
                "{editor:?} {host:?} {path} {line:?} from {page}"
            );
        }
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for (host, loopback) in [
            ("localhost", true),
            ("LOCALHOST", true),
            ("127.0.0.1", true),
            ("127.1.2.3", true),
            ("[::1]", true),
            ("::1", true),
            ("192.168.1.5", false),
            ("ff.lan", false),
            ("[fe80::1]", false),
            ("127.0.0.1:8080", true),
            ("localhost:3000", true),
            ("[::1]:8080", true),
            ("ff.lan:8080", false),
        ] {
            assert_eq!(is_loopback_host(host), loopback, "{host}");
        }
    }

    #[test]
    fn a_custom_command_keeps_the_path_in_one_argument() {
        type Case = (
            &'static str,
            &'static str,
            Result<&'static [&'static str], ()>,
        );
        let cases: [Case; 9] = [
            ("code {path}", "/w/x", Ok(&["code", "/w/x"])),
            ("code", "/w/x", Ok(&["code", "/w/x"])),
            (
                "emacsclient -n {path}",
                "/w/a b; rm -rf ~",
                Ok(&["emacsclient", "-n", "/w/a b; rm -rf ~"]),
            ),
            (
                "idea --line=1 --file={path}",
                "/w/$(x)",
                Ok(&["idea", "--line=1", "--file=/w/$(x)"]),
            ),
            (
                "'/Applications/My Editor' {path}",
                "/w",
                Ok(&["/Applications/My Editor", "/w"]),
            ),
            (
                r#"ed "a \"q\" b" x\ y {path}"#,
                "/w",
                Ok(&["ed", r#"a "q" b"#, "x y", "/w"]),
            ),
            ("", "/w", Err(())),
            ("{path} --x", "/w", Err(())),
            ("code 'unclosed", "/w", Err(())),
        ];
        for (command, path, expected) in cases {
            let got = command_argv(command, path).map_err(|_| ());
            let expected =
                expected.map(|words| words.iter().map(|w| w.to_string()).collect::<Vec<_>>());
            assert_eq!(got, expected, "{command:?}");
        }
    }

    #[test]
    fn settings_are_checked_naming_the_field() {
        let custom = |command: Option<&str>, host: Option<&str>| EditorSettings {
            editor: Editor::Custom,
            custom_command: command.map(str::to_owned),
            ssh_host: host.map(str::to_owned),
        };
        assert_eq!(
            custom(Some("  code {path} "), Some(" box ")).checked(),
            Ok(EditorSettings {
                editor: Editor::Custom,
                custom_command: Some("code {path}".into()),
                ssh_host: Some("box".into()),
            })
        );
        let field = |s: EditorSettings| s.checked().map_err(|(f, _)| f);
        assert_eq!(field(custom(None, None)), Err("editor.customCommand"));
        assert_eq!(
            field(custom(Some("   "), None)),
            Err("editor.customCommand")
        );
        assert_eq!(
            field(custom(Some("x 'y"), None)),
            Err("editor.customCommand")
        );
        for bad in [
            "-oProxyCommand=x",
            "a b",
            "a;b",
            "a@b@c",
            "@",
            "@box",
            "-x@box",
        ] {
            assert_eq!(
                field(custom(Some("x"), Some(bad))),
                Err("editor.sshHost"),
                "{bad}"
            );
        }
        assert!(settings(Editor::Zed, Some("me@dev-box.lan"))
            .checked()
            .is_ok());
    }
}
