//! Names derived from user input: project slugs and titles, workspace branch names (D§1.3, D§2.3).

/// Longest generated branch name (before a collision suffix).
pub const BRANCH_MAX_CHARS: usize = 50;

/// `my_repo.v2` → `my-repo-v2`: lowercase, anything outside `[a-z0-9-]` becomes `-`, runs of
/// dashes collapse, no dash at either end. `None` when nothing usable is left.
pub fn slugify(text: &str) -> Option<String> {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if !(c == '-' && (slug.is_empty() || slug.ends_with('-'))) {
            slug.push(c);
        }
    }
    let slug = slug.trim_end_matches('-');
    (!slug.is_empty()).then(|| slug.to_owned())
}

/// `my_cool-repo` → `My Cool Repo`.
pub fn title_from_dir(dir: &str) -> String {
    dir.split(['-', '_', ' '])
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The branch for a workspace named `name`: lowercase, whitespace and `_` become `-`, other
/// characters outside `[a-z0-9-]` are dropped, dashes collapse, at most 50 characters.
/// `None` when nothing is left (the caller picks a random name).
pub fn branch_from_name(name: &str) -> Option<String> {
    let mut branch = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            c if c.is_whitespace() || c == '_' || c == '-' => '-',
            c if c.is_ascii_lowercase() || c.is_ascii_digit() => c,
            _ => continue,
        };
        if !(c == '-' && (branch.is_empty() || branch.ends_with('-'))) {
            branch.push(c);
        }
    }
    branch.truncate(BRANCH_MAX_CHARS);
    let branch = branch.trim_end_matches('-');
    (!branch.is_empty()).then(|| branch.to_owned())
}

/// Candidates for a name that may be taken: `x`, `x-1`, `x-2`, …
pub fn numbered(base: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(base.to_owned()).chain((1..).map(move |n| format!("{base}-{n}")))
}

/// Project slug candidates: `x`, `x-2`, `x-3`, … (D§1.3 counts from 2).
pub fn slug_candidates(base: &str) -> impl Iterator<Item = String> + '_ {
    std::iter::once(base.to_owned()).chain((2..).map(move |n| format!("{base}-{n}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let cases = [
            ("my-repo", Some("my-repo")),
            ("My_Repo.v2", Some("my-repo-v2")),
            ("--x--", Some("x")),
            ("Ünïcode", Some("n-code")),
            ("___", None),
            ("", None),
            ("a  b", Some("a-b")),
        ];
        for (input, expected) in cases {
            assert_eq!(slugify(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn titles() {
        assert_eq!(title_from_dir("my_cool-repo"), "My Cool Repo");
        assert_eq!(title_from_dir("ff"), "Ff");
        assert_eq!(title_from_dir("__"), "");
    }

    #[test]
    fn branch_names() {
        let cases = [
            ("Fix login", Some("fix-login")),
            ("Fix  the_login bug!", Some("fix-the-login-bug")),
            ("  Ünïcode ÄÖ ", Some("ncode")),
            ("Issue #42", Some("issue-42")),
            ("!!!", None),
            ("----", None),
        ];
        for (input, expected) in cases {
            assert_eq!(branch_from_name(input).as_deref(), expected, "{input:?}");
        }
        assert_eq!(branch_from_name(&"a".repeat(80)), Some("a".repeat(50)));
        let cut_at_a_dash = format!("{}-tail", "b".repeat(49));
        assert_eq!(branch_from_name(&cut_at_a_dash), Some("b".repeat(49)));
    }

    #[test]
    fn candidates() {
        assert_eq!(
            numbered("x").take(3).collect::<Vec<_>>(),
            ["x", "x-1", "x-2"]
        );
        assert_eq!(
            slug_candidates("x").take(3).collect::<Vec<_>>(),
            ["x", "x-2", "x-3"]
        );
    }
}
