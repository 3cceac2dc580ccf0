//! Table writes found in the text of a string: `INSERT [OR …] INTO t`, `REPLACE INTO t`,
//! `UPDATE [OR …] t SET` and `DELETE FROM t`, in any case, across whitespace and newlines, with
//! the table name bare, quoted (`"t"`, `` `t` ``, `[t]`) or schema-qualified. Each keyword run
//! must also be followed by what SQL puts there (a column list, `SET`, `WHERE`…), so that prose
//! such as "cannot update the workspace" is not taken for a write.

pub struct Write {
    /// As written, whitespace collapsed, e.g. `UPDATE workspaces`.
    pub statement: String,
    /// Lowercase (SQLite's names are case-insensitive); `None` when the name is a `format!`
    /// placeholder, so the table cannot be known.
    pub table: Option<String>,
}

pub fn writes(sql: &str) -> Vec<Write> {
    let chars: Vec<char> = sql.chars().collect();
    let tokens = tokens(&chars);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((table, end)) = write_at(&tokens, i) {
            let text: String = chars[tokens[i].start..tokens[end - 1].end].iter().collect();
            found.push(Write {
                statement: text.split_whitespace().collect::<Vec<_>>().join(" "),
                table,
            });
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

#[derive(PartialEq)]
enum Kind {
    Word,
    /// A quoted identifier; its name is inside the quotes.
    Quoted,
    /// `{…}` in a `format!` string.
    Placeholder,
    Dot,
    Open,
    Other(char),
}

struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    /// The name of a word or quoted identifier.
    name: String,
}

fn tokens(chars: &[char]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let closing = |open: usize, close: char| {
            chars[open + 1..]
                .iter()
                .position(|&c| c == close)
                .map_or(chars.len(), |at| open + 1 + at + 1)
        };
        let (kind, end) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            c if c.is_alphabetic() || c == '_' => {
                let length = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || **c == '_' || **c == '$')
                    .count();
                (Kind::Word, i + length)
            }
            '"' | '`' => (Kind::Quoted, closing(i, c)),
            '[' => (Kind::Quoted, closing(i, ']')),
            // A string value in the SQL: skipped whole, so its words are not keywords.
            '\'' => (Kind::Other('\''), closing(i, '\'')),
            '{' => (Kind::Placeholder, closing(i, '}')),
            '.' => (Kind::Dot, i + 1),
            '(' => (Kind::Open, i + 1),
            '-' if chars.get(i + 1) == Some(&'-') => {
                i = chars[i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |at| i + at);
                continue;
            }
            c => (Kind::Other(c), i + 1),
        };
        let name = match kind {
            Kind::Word => chars[start..end].iter().collect(),
            Kind::Quoted => chars[start + 1..end.saturating_sub(1).max(start + 1)]
                .iter()
                .collect(),
            _ => String::new(),
        };
        tokens.push(Token {
            kind,
            start,
            end,
            name,
        });
        i = end;
    }
    tokens
}

fn keyword(tokens: &[Token], i: usize, word: &str) -> bool {
    tokens
        .get(i)
        .is_some_and(|t| t.kind == Kind::Word && t.name.eq_ignore_ascii_case(word))
}

fn any_keyword(tokens: &[Token], i: usize, words: &[&str]) -> bool {
    words.iter().any(|word| keyword(tokens, i, word))
}

#[derive(Clone, Copy)]
enum Statement {
    Insert,
    Update,
    Delete,
}

/// The written table (`None` for a placeholder) and the index just past the write at `i`.
fn write_at(tokens: &[Token], i: usize) -> Option<(Option<String>, usize)> {
    let after_or = |j: usize| if keyword(tokens, j, "OR") { j + 2 } else { j };
    let (statement, table_at) = if keyword(tokens, i, "INSERT") {
        let into = after_or(i + 1);
        keyword(tokens, into, "INTO").then_some((Statement::Insert, into + 1))?
    } else if keyword(tokens, i, "REPLACE") && keyword(tokens, i + 1, "INTO") {
        (Statement::Insert, i + 2)
    } else if keyword(tokens, i, "UPDATE") {
        // `ON CONFLICT … DO UPDATE SET` updates the row being inserted: not another write.
        let table = after_or(i + 1);
        (!keyword(tokens, table, "SET")).then_some((Statement::Update, table))?
    } else if keyword(tokens, i, "DELETE") && keyword(tokens, i + 1, "FROM") {
        (Statement::Delete, i + 2)
    } else {
        return None;
    };
    let (table, end) = table_name(tokens, table_at)?;
    // Prose says "cannot delete from {path}": a placeholder table needs real SQL after it.
    let sql_after = tokens.get(end).is_some_and(|t| t.kind != Kind::Placeholder);
    if table.is_none() && !sql_after {
        return None;
    }
    let shouted = tokens[i].name.chars().all(|c| c.is_ascii_uppercase());
    follows(statement, tokens, end, shouted).then_some((table, end))
}

/// Whether the token at `j`, after the table, is what SQL puts there. For INSERT and DELETE in
/// upper case, the end of the string or a placeholder counts too (the rest is added by a query
/// builder or `format!`); in lower case that would be prose such as "cannot delete from disk".
/// UPDATE always needs its SET.
fn follows(statement: Statement, tokens: &[Token], j: usize, shouted: bool) -> bool {
    let open_ended = shouted && !matches!(statement, Statement::Update);
    let Some(token) = tokens.get(j) else {
        return open_ended;
    };
    if token.kind == Kind::Placeholder {
        return open_ended;
    }
    match statement {
        Statement::Insert => {
            token.kind == Kind::Open
                || any_keyword(tokens, j, &["VALUES", "SELECT", "DEFAULT", "AS", "WITH"])
        }
        Statement::Update => keyword(tokens, j, "SET"),
        Statement::Delete => {
            matches!(token.kind, Kind::Other(';') | Kind::Other(')'))
                || any_keyword(
                    tokens,
                    j,
                    &[
                        "WHERE",
                        "RETURNING",
                        "ORDER",
                        "LIMIT",
                        "AS",
                        "INDEXED",
                        "NOT",
                    ],
                )
        }
    }
}

/// A table name at `i` (the last part of `schema.table`), and the index after it.
fn table_name(tokens: &[Token], i: usize) -> Option<(Option<String>, usize)> {
    let token = tokens.get(i)?;
    match token.kind {
        Kind::Placeholder => Some((None, i + 1)),
        Kind::Word | Kind::Quoted => {
            let mut name = &token.name;
            let mut end = i + 1;
            while tokens.get(end).is_some_and(|t| t.kind == Kind::Dot)
                && tokens
                    .get(end + 1)
                    .is_some_and(|t| matches!(t.kind, Kind::Word | Kind::Quoted))
            {
                name = &tokens[end + 1].name;
                end += 2;
            }
            Some((Some(name.to_ascii_lowercase()), end))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::writes;

    fn found(sql: &str) -> Vec<(String, Option<String>)> {
        writes(sql)
            .into_iter()
            .map(|w| (w.statement, w.table))
            .collect()
    }

    fn write(statement: &str, table: &str) -> (String, Option<String>) {
        (statement.to_owned(), Some(table.to_owned()))
    }

    #[test]
    fn writes_are_found_in_every_spelling() {
        let cases = [
            ("INSERT INTO t (a) VALUES (1)", write("INSERT INTO t", "t")),
            (
                "insert or ignore into \"T\" values (1)",
                write("insert or ignore into \"T\"", "t"),
            ),
            (
                "REPLACE INTO `t` SELECT * FROM u",
                write("REPLACE INTO `t`", "t"),
            ),
            (
                "UPDATE OR ROLLBACK main.[t]\n   SET a = 1",
                write("UPDATE OR ROLLBACK main.[t]", "t"),
            ),
            ("DELETE\n FROM t", write("DELETE FROM t", "t")),
            (
                "delete from t where a = 'UPDATE u SET'",
                write("delete from t", "t"),
            ),
            ("INSERT INTO t {columns}", write("INSERT INTO t", "t")),
            (
                "DELETE FROM {table} WHERE a = 1",
                ("DELETE FROM {table}".to_owned(), None),
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(found(sql), vec![expected], "in {sql:?}");
        }
        assert_eq!(
            found("INSERT INTO s (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 2; DELETE FROM u;"),
            vec![write("INSERT INTO s", "s"), write("DELETE FROM u", "u")]
        );
    }

    #[test]
    fn prose_and_reads_are_not_writes() {
        for text in [
            "cannot update the workspace {id}",
            "could not delete from disk",
            "failed to delete from {path}",
            "insert into the list later",
            "SELECT * FROM t WHERE updated_at > ?",
            "-- UPDATE t SET a = 1",
        ] {
            assert!(found(text).is_empty(), "{text:?} is taken for a write");
        }
    }
}
