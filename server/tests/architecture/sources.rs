//! The server's source as the rules see it: for each file, its top-level module, every reference
//! to a top-level module (by `use`, by path, also inside macros) and every string literal (where
//! SQL lives). Parsed with syn, so comments and doc comments never count.

use proc_macro2::{Span, TokenStream, TokenTree};
use std::path::Path;
use syn::visit::{self, Visit};

pub const SOURCES: &str = "server/src";

pub struct SourceFile {
    /// Relative to the repository root, with `/`.
    pub path: String,
    /// The top-level module the file belongs to; `None` for a crate root (lib.rs, main.rs).
    pub module: Option<String>,
    pub references: Vec<Reference>,
    pub strings: Vec<Literal>,
}

/// A path that names a top-level module (possibly the file's own).
pub struct Reference {
    pub line: usize,
    /// As written, e.g. `use crate::snapshot::store` or `crate::workspaces::Workspaces::new`.
    pub written: String,
    pub module: String,
}

pub struct Literal {
    pub line: usize,
    pub value: String,
}

/// Every `.rs` file under `server/src` but those in `separate` folders (other crates); a file
/// that does not parse is a problem.
pub fn read(root: &Path, wiring: &[String], separate: &[String]) -> (Vec<SourceFile>, Vec<String>) {
    let mut paths = Vec::new();
    let mut problems = Vec::new();
    collect(&root.join(SOURCES), &mut paths, &mut problems);
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let relative = path.strip_prefix(root).expect("under the root");
        let shown = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let inside: Vec<String> = shown[SOURCES.len() + 1..]
            .split('/')
            .map(str::to_owned)
            .collect();
        if inside.len() > 1 && separate.contains(&inside[0]) {
            continue;
        }
        let module_path = module_path(&inside, wiring);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                problems.push(format!("{shown}: cannot read: {e}"));
                continue;
            }
        };
        let ast = match syn::parse_file(&text) {
            Ok(ast) => ast,
            Err(e) => {
                let line = e.span().start().line;
                problems.push(format!("{shown}:{line}: cannot parse: {e}"));
                continue;
            }
        };
        let mut collector = Collector {
            path: module_path.clone(),
            references: Vec::new(),
            strings: Vec::new(),
        };
        collector.visit_file(&ast);
        files.push(SourceFile {
            path: shown,
            module: module_path.first().cloned(),
            references: collector.references,
            strings: collector.strings,
        });
    }
    (files, problems)
}

fn collect(dir: &Path, paths: &mut Vec<std::path::PathBuf>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(format!("{}: cannot list: {e}", dir.display()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, paths, problems);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            paths.push(path);
        }
    }
}

/// The module a file defines, from its path inside `server/src`: `sessions/queue.rs` is
/// `sessions::queue`, `workspaces/mod.rs` is `workspaces`, and a crate root is the empty path.
fn module_path(inside: &[String], wiring: &[String]) -> Vec<String> {
    let (file, dirs) = inside.split_last().expect("a file has a name");
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut path = dirs.to_vec();
    let is_root = dirs.is_empty() && wiring.iter().any(|root| root == stem);
    if stem != "mod" && !is_root {
        path.push(stem.to_owned());
    }
    path
}

struct Collector {
    /// The module being visited, inline `mod` blocks included.
    path: Vec<String>,
    references: Vec<Reference>,
    strings: Vec<Literal>,
}

impl Collector {
    /// Records `segments` if it names a top-level module: `crate::m…`, `super::…` climbing out of
    /// the top-level module, or `self::m…` in a crate root.
    fn reference(&mut self, segments: &[String], written: String, span: Span) {
        let module = match segments.first().map(String::as_str) {
            Some("crate") => segments.get(1),
            Some("self") if self.path.is_empty() => segments.get(1),
            Some("super") => {
                let climbs = segments.iter().take_while(|s| *s == "super").count();
                if climbs >= self.path.len() {
                    segments.get(climbs)
                } else {
                    self.path.first()
                }
            }
            _ => None,
        };
        if let Some(module) = module {
            self.references.push(Reference {
                line: span.start().line,
                written,
                module: module.clone(),
            });
        }
    }

    /// Each leaf of a `use` tree, as the path it imports.
    fn use_tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        let (leaf, span) = match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.use_tree(&path.tree, prefix);
                prefix.pop();
                return;
            }
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.use_tree(item, prefix);
                }
                return;
            }
            syn::UseTree::Name(name) => (name.ident.to_string(), name.ident.span()),
            syn::UseTree::Rename(rename) => (rename.ident.to_string(), rename.ident.span()),
            syn::UseTree::Glob(glob) => ("*".to_owned(), glob.star_token.span),
        };
        let mut segments = prefix.clone();
        // `use a::b::{self}` imports `a::b`.
        if leaf != "self" || segments.is_empty() {
            segments.push(leaf);
        }
        let written = format!("use {}", segments.join("::"));
        self.reference(&segments, written, span);
    }

    /// Macro arguments are plain tokens to syn: paths in them are found by their `a::b` shape,
    /// and string literals are kept (the pieces of a `concat!` joined).
    fn tokens(&mut self, stream: TokenStream) {
        let trees: Vec<TokenTree> = stream.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Literal(literal) => {
                    if let Some(value) = string(literal) {
                        self.strings.push(Literal {
                            line: literal.span().start().line,
                            value,
                        });
                    }
                }
                TokenTree::Ident(ident) => {
                    if let Some(arguments) = concat_at(&trees, i) {
                        self.strings.push(Literal {
                            line: ident.span().start().line,
                            value: concat(arguments),
                        });
                        i += 3;
                        continue;
                    }
                    let mut segments = vec![ident.to_string()];
                    let mut next = i + 1;
                    while let (
                        Some(TokenTree::Punct(a)),
                        Some(TokenTree::Punct(b)),
                        Some(TokenTree::Ident(id)),
                    ) = (trees.get(next), trees.get(next + 1), trees.get(next + 2))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(id.to_string());
                        next += 3;
                    }
                    if segments.len() > 1 {
                        self.reference(&segments, segments.join("::"), ident.span());
                    }
                    i = next;
                    continue;
                }
                TokenTree::Punct(_) => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.path.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.path.pop();
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        // `use ::x` names an external crate.
        if item.leading_colon.is_none() {
            self.use_tree(&item.tree, &mut Vec::new());
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() {
            if let Some(first) = path.segments.first() {
                let segments: Vec<String> =
                    path.segments.iter().map(|s| s.ident.to_string()).collect();
                self.reference(&segments, segments.join("::"), first.ident.span());
            }
        }
        visit::visit_path(self, path);
    }

    // Doc comments are prose: SQL quoted there is not a write.
    fn visit_attribute(&mut self, attribute: &'ast syn::Attribute) {
        if !attribute.path().is_ident("doc") {
            visit::visit_attribute(self, attribute);
        }
    }

    fn visit_lit_str(&mut self, literal: &'ast syn::LitStr) {
        self.strings.push(Literal {
            line: literal.span().start().line,
            value: literal.value(),
        });
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        if mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "concat")
        {
            self.strings.push(Literal {
                line: mac.path.segments[0].ident.span().start().line,
                value: concat(mac.tokens.clone()),
            });
        } else {
            self.tokens(mac.tokens.clone());
        }
    }
}

/// The arguments of `concat!(…)` if the tokens at `i` are one.
fn concat_at(trees: &[TokenTree], i: usize) -> Option<TokenStream> {
    match (&trees[i], trees.get(i + 1), trees.get(i + 2)) {
        (TokenTree::Ident(ident), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args)))
            if ident == "concat" && bang.as_char() == '!' =>
        {
            Some(args.stream())
        }
        _ => None,
    }
}

/// The string pieces of `concat!` arguments, joined (nested `concat!` included).
fn concat(arguments: TokenStream) -> String {
    let trees: Vec<TokenTree> = arguments.into_iter().collect();
    let mut joined = String::new();
    let mut i = 0;
    while i < trees.len() {
        if let Some(inner) = concat_at(&trees, i) {
            joined.push_str(&concat(inner));
            i += 3;
            continue;
        }
        if let TokenTree::Literal(literal) = &trees[i] {
            joined.push_str(&string(literal).unwrap_or_default());
        }
        i += 1;
    }
    joined
}

fn string(literal: &proc_macro2::Literal) -> Option<String> {
    match syn::Lit::new(literal.clone()) {
        syn::Lit::Str(s) => Some(s.value()),
        _ => None,
    }
}
