//! Syntax highlighting of diff lines with syntect (Sublime Text's grammars, pure-Rust regexes):
//! each line becomes text pieces with one of core's few token classes, never markup.

use ff_core::review::diff::{Token, TokenClass};
use ff_core::review::path::ReviewPath;
use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

/// Files with a longer line are left plain: generated or minified text, where the grammars'
/// regexes get slow and colours help nobody.
const MAX_LINE_BYTES: usize = 4096;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(two_face::syntax::extra_newlines)
}

/// Scope prefixes and their classes; for each piece of text the innermost scope with a class
/// decides (an escape inside a string is a constant, not a string).
fn classes() -> &'static [(Scope, TokenClass)] {
    static CLASSES: OnceLock<Vec<(Scope, TokenClass)>> = OnceLock::new();
    CLASSES.get_or_init(|| {
        use TokenClass::*;
        [
            ("comment", Comment),
            ("string", String),
            ("constant.numeric", Number),
            ("constant", Constant),
            ("support.constant", Constant),
            ("keyword.operator", Operator),
            ("keyword", Keyword),
            ("storage", Keyword),
            ("entity.name.type", Type),
            ("entity.name.class", Type),
            ("entity.name.struct", Type),
            ("entity.name.enum", Type),
            ("entity.name.trait", Type),
            ("entity.name.impl", Type),
            ("support.type", Type),
            ("support.class", Type),
            ("entity.name.function", Function),
            ("support.function", Function),
            ("variable.function", Function),
            ("entity.name.tag", Tag),
            ("entity.other.attribute-name", Attribute),
            ("variable.parameter", Variable),
            ("variable.language", Variable),
            ("markup.inserted", Inserted),
            ("markup.deleted", Deleted),
            ("markup.heading", Heading),
        ]
        .into_iter()
        .map(|(scope, class)| (Scope::new(scope).expect("a valid scope"), class))
        .collect()
    })
}

fn class_of(stack: &ScopeStack) -> Option<TokenClass> {
    stack.as_slice().iter().rev().find_map(|&scope| {
        classes()
            .iter()
            .find(|(prefix, _)| prefix.is_prefix_of(scope))
            .map(|&(_, class)| class)
    })
}

/// The grammar for a file: by its name (`Makefile`), its extension, or its first line
/// (`#!/bin/sh`).
fn syntax_for(path: &ReviewPath, text: &str) -> Option<&'static SyntaxReference> {
    let set = syntaxes();
    let name = path.as_str().rsplit('/').next().unwrap_or_default();
    set.find_syntax_by_extension(name)
        .or_else(|| {
            path.extension()
                .and_then(|e| set.find_syntax_by_extension(e))
        })
        .or_else(|| set.find_syntax_by_first_line(text.lines().next()?))
        .filter(|syntax| syntax.name != "Plain Text")
}

/// The tokens of the lines numbered in `wanted` (from 1) of `text`. Every line up to the last
/// wanted one is parsed (a string or a comment can open lines earlier); `None` when the file has
/// no known grammar or is not worth highlighting.
pub fn highlight(
    path: &ReviewPath,
    text: &str,
    wanted: &BTreeSet<u32>,
) -> Option<HashMap<u32, Vec<Token>>> {
    let last = *wanted.last()?;
    let syntax = syntax_for(path, text)?;
    if text.split('\n').any(|line| line.len() > MAX_LINE_BYTES) {
        return None;
    }
    let set = syntaxes();
    let mut state = ParseState::new(syntax);
    let mut stack = ScopeStack::new();
    let mut tokens = HashMap::with_capacity(wanted.len());
    let mut line = String::new();
    for (number, text) in (1..=last).zip(text.split_inclusive('\n')) {
        // The newline grammars expect every line to end with one.
        line.clear();
        line.push_str(text.strip_suffix('\n').unwrap_or(text));
        line.push('\n');
        let ops = state.parse_line(&line, set).ok()?;
        let keep = wanted.contains(&number);
        let mut pieces: Vec<Token> = Vec::new();
        let mut start = 0;
        for (at, op) in &ops {
            if keep {
                push(&mut pieces, class_of(&stack), &line[start..*at]);
            }
            start = *at;
            stack.apply(op).ok()?;
        }
        if keep {
            push(&mut pieces, class_of(&stack), &line[start..]);
        }
        if keep {
            let text = line.strip_suffix('\n').unwrap_or(&line);
            let text = text.strip_suffix('\r').unwrap_or(text);
            trim_to(&mut pieces, text.len());
            tokens.insert(number, pieces);
        }
    }
    Some(tokens)
}

/// Appends a piece, merged into the previous one when they share a class.
fn push(pieces: &mut Vec<Token>, class: Option<TokenClass>, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(last) if last.class == class => last.text.push_str(text),
        _ => pieces.push(Token {
            class,
            text: text.to_owned(),
        }),
    }
}

/// Cuts the pieces to the line's first `len` bytes (without its `\r`).
fn trim_to(pieces: &mut Vec<Token>, len: usize) {
    let mut kept = 0;
    pieces.retain_mut(|piece| {
        let room = len - kept.min(len);
        if room == 0 {
            return false;
        }
        if piece.text.len() > room {
            piece.text.truncate(room);
        }
        kept += piece.text.len();
        true
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(path: &str, text: &str, wanted: &[u32]) -> HashMap<u32, Vec<Token>> {
        let path = ReviewPath::parse(path).unwrap();
        highlight(&path, text, &wanted.iter().copied().collect()).unwrap()
    }

    fn classes_of(tokens: &[Token]) -> Vec<(Option<TokenClass>, &str)> {
        tokens.iter().map(|t| (t.class, t.text.as_str())).collect()
    }

    #[test]
    fn rust_lines_get_classes_and_keep_their_text() {
        let text = "/* a comment\nstill */ fn main() {\n    let s = \"<b>\";\n}\n";
        let tokens = lines("src/main.rs", text, &[2, 3]);
        assert!(!tokens.contains_key(&1), "only the wanted lines");
        let second = classes_of(&tokens[&2]);
        assert_eq!(
            second[0],
            (Some(TokenClass::Comment), "still */"),
            "{second:?}"
        );
        assert!(
            second.contains(&(Some(TokenClass::Keyword), "fn")),
            "{second:?}"
        );
        assert!(
            second.contains(&(Some(TokenClass::Function), "main")),
            "{second:?}"
        );
        let third = &tokens[&3];
        let text: String = third.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(text, "    let s = \"<b>\";");
        assert!(
            third
                .iter()
                .any(|t| t.class == Some(TokenClass::String) && t.text.contains("<b>")),
            "{third:?}"
        );
    }

    #[test]
    fn the_languages_agents_write_most_are_coloured() {
        let cases = [
            ("web/app.ts", "const n: number = 1; // one\n"),
            ("web/App.tsx", "export const a = 1; // one\n"),
            ("Cargo.toml", "[package] # one\n"),
            ("Dockerfile", "# one\nFROM debian\n"),
            ("src/lib.rs", "let a = 1; // one\n"),
            ("tool.py", "a = 1  # one\n"),
            ("script.sh", "echo a # one\n"),
        ];
        for (path, text) in cases {
            let tokens = lines(path, text, &[1]);
            assert!(
                tokens[&1]
                    .iter()
                    .any(|t| t.class == Some(TokenClass::Comment) && t.text.contains("one")),
                "{path}: {:?}",
                tokens[&1]
            );
        }
    }

    #[test]
    fn crlf_and_missing_final_newlines_do_not_leak_into_the_text() {
        let tokens = lines("a.py", "x = 1\r\ny = 'two'", &[1, 2]);
        let text = |n: u32| {
            tokens[&n]
                .iter()
                .map(|t| t.text.clone())
                .collect::<String>()
        };
        assert_eq!(text(1), "x = 1");
        assert_eq!(text(2), "y = 'two'");
    }

    #[test]
    fn unknown_and_minified_files_stay_plain() {
        let wanted: BTreeSet<u32> = [1].into();
        let path = |p: &str| ReviewPath::parse(p).unwrap();
        assert!(highlight(&path("notes.unknownext"), "hello\n", &wanted).is_none());
        let long = format!("var a = {};\n", "1+".repeat(MAX_LINE_BYTES));
        assert!(highlight(&path("app.min.js"), &long, &wanted).is_none());
        assert!(
            highlight(&path("run"), "#!/bin/sh\necho hi\n", &wanted).is_some(),
            "by first line"
        );
        assert!(
            highlight(&path("Makefile"), "all:\n", &wanted).is_some(),
            "by name"
        );
    }
}
