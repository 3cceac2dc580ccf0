//! The ```rules block of ARCHITECTURE.md, parsed and checked for consistency. The grammar is
//! explained beside the block itself; every problem names its line, so a typo in a rule fails
//! the check instead of silently weakening it.

use std::collections::BTreeMap;

pub const DOCUMENT: &str = "ARCHITECTURE.md";

/// A rule as written, to quote it in a message.
pub struct Written {
    pub line: usize,
    /// The whole rule, comment removed.
    pub text: String,
}

impl Written {
    /// How a violation cites the rule: its line and what is left of its `:`.
    pub fn cite(&self) -> String {
        let head = self.text.split(':').next().unwrap_or_default().trim();
        format!("({DOCUMENT}:{}: `{head}`)", self.line)
    }
}

/// `forbid A … -> B …: why` over layers or modules.
pub struct Forbid {
    pub from: Vec<String>,
    pub to: Vec<String>,
    pub reason: String,
    pub written: Written,
}

/// `forbid crate p -> q …: why`.
pub struct CrateForbid {
    pub package: String,
    pub deps: Vec<String>,
    pub reason: String,
    pub written: Written,
}

/// `no-writes A …: why`.
pub struct NoWrites {
    pub names: Vec<String>,
    pub reason: String,
    pub written: Written,
}

/// `table t: m`.
pub struct Table {
    pub owner: String,
    pub written: Written,
}

pub struct Rules {
    /// Each listed module's layer.
    pub layer_of: BTreeMap<String, String>,
    /// Crate roots (file stems in `server/src`) that may use anything.
    pub wiring: Vec<String>,
    /// Folders of `server/src` that are separate crates.
    pub separate: Vec<String>,
    pub forbids: Vec<Forbid>,
    pub owners_reason: String,
    pub owners: Written,
    pub tables: BTreeMap<String, Table>,
    pub no_writes: Vec<NoWrites>,
    pub crates: Vec<CrateForbid>,
}

impl Rules {
    /// Whether `name` (a layer or a module) covers `module`.
    pub fn covers(&self, name: &str, module: &str) -> bool {
        name == module || self.layer_of.get(module).is_some_and(|layer| layer == name)
    }

    /// The no-writes rule that covers `module`, if any.
    pub fn no_writes_for(&self, module: &str) -> Option<&NoWrites> {
        self.no_writes
            .iter()
            .find(|rule| rule.names.iter().any(|name| self.covers(name, module)))
    }

    /// Parses the rules block of `document` (the text of ARCHITECTURE.md); the error lists every
    /// problem, one line each.
    pub fn parse(document: &str) -> Result<Rules, Vec<String>> {
        let Block { opening, lines } = block(document).map_err(|problem| vec![problem])?;
        let mut problems = Vec::new();
        let mut parsed = Vec::new();
        for (line, raw) in lines {
            // `#` starts a comment, also after a rule.
            let text = raw.split('#').next().unwrap_or_default().trim();
            if text.is_empty() {
                continue;
            }
            let written = Written {
                line,
                text: text.to_owned(),
            };
            match parse_line(text) {
                Ok(rule) => parsed.push((rule, written)),
                Err(problem) => problems.push(at(&written, &problem)),
            }
        }
        let rules = resolve(opening, parsed, &mut problems);
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(problems)
        }
    }
}

/// One rule line, before names are checked against each other.
enum Line {
    Layer(String, Vec<String>),
    /// Their reasons are for the reader: nothing is ever reported against them.
    Wiring(Vec<String>),
    Separate(Vec<String>),
    Forbid(Vec<String>, Vec<String>, String),
    ForbidCrate(String, Vec<String>, String),
    Owners(String),
    Table(String, String),
    NoWrites(Vec<String>, String),
}

fn at(written: &Written, problem: &str) -> String {
    format!(
        "{DOCUMENT}:{}: `{}` — {problem}",
        written.line, written.text
    )
}

/// The one ```rules block of the document.
struct Block<'a> {
    /// The line number of ```rules.
    opening: usize,
    /// The lines inside, with their numbers.
    lines: Vec<(usize, &'a str)>,
}

fn block(document: &str) -> Result<Block<'_>, String> {
    let mut lines = document.lines().enumerate().map(|(i, line)| (i + 1, line));
    let Some((opening, _)) = lines.find(|(_, line)| line.trim() == "```rules") else {
        return Err(format!(
            "{DOCUMENT}: there is no ```rules block, so there are no rules to check"
        ));
    };
    let mut body = Vec::new();
    for (number, line) in lines.by_ref() {
        if line.trim_start().starts_with("```") {
            if let Some((second, _)) = lines.find(|(_, line)| line.trim() == "```rules") {
                return Err(format!(
                    "{DOCUMENT}:{second}: a second ```rules block; the rules are written once, in the block at line {opening}"
                ));
            }
            return Ok(Block {
                opening,
                lines: body,
            });
        }
        body.push((number, line));
    }
    Err(format!(
        "{DOCUMENT}:{opening}: the ```rules block is never closed"
    ))
}

const KEYWORDS: &str = "layer, wiring, separate, forbid, forbid crate, owners, table, no-writes";

fn parse_line(text: &str) -> Result<Line, String> {
    let Some((head, body)) = text.split_once(':') else {
        return Err(format!(
            "a rule is `keyword names: text`, and this line has no `:` (keywords: {KEYWORDS})"
        ));
    };
    let head = head.replace("->", " -> ");
    let mut words = head.split_whitespace();
    let keyword = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let body = body.trim();
    let reason = || {
        if body.is_empty() {
            Err("the reason after `:` is missing; a broken rule is reported with it".to_owned())
        } else {
            Ok(body.to_owned())
        }
    };
    match keyword {
        "layer" => {
            let [layer] = args[..] else {
                return Err("expected `layer NAME: module module …`".to_owned());
            };
            let modules = names(body);
            if modules.is_empty() {
                return Err("the layer lists no module".to_owned());
            }
            Ok(Line::Layer(identifier(layer)?, identifiers(&modules)?))
        }
        "wiring" | "separate" => {
            if args.is_empty() {
                return Err(format!("expected `{keyword} name …: why`"));
            }
            let listed = identifiers(&args)?;
            reason()?;
            Ok(if keyword == "wiring" {
                Line::Wiring(listed)
            } else {
                Line::Separate(listed)
            })
        }
        "forbid" if args.first() == Some(&"crate") => {
            let (from, to) =
                arrow(&args[1..]).ok_or("expected `forbid crate PACKAGE -> PACKAGE …: why`")?;
            let [package] = from[..] else {
                return Err("a crate rule names exactly one package left of `->`".to_owned());
            };
            Ok(Line::ForbidCrate(
                package_name(package)?,
                to.iter()
                    .map(|p| package_name(p))
                    .collect::<Result<_, _>>()?,
                reason()?,
            ))
        }
        "forbid" => {
            let (from, to) = arrow(&args).ok_or("expected `forbid A … -> B …: why`")?;
            Ok(Line::Forbid(
                identifiers(&from)?,
                identifiers(&to)?,
                reason()?,
            ))
        }
        "owners" => {
            if !args.is_empty() {
                return Err("expected `owners: why` (the tables are on `table` lines)".to_owned());
            }
            Ok(Line::Owners(reason()?))
        }
        "table" => {
            let ([table], [owner]) = (&args[..], &names(body)[..]) else {
                return Err("expected `table TABLE: module` (one table, one owner)".to_owned());
            };
            Ok(Line::Table(identifier(table)?, identifier(owner)?))
        }
        "no-writes" => {
            if args.is_empty() {
                return Err("expected `no-writes A …: why`".to_owned());
            }
            Ok(Line::NoWrites(identifiers(&args)?, reason()?))
        }
        _ => Err(format!(
            "unknown keyword `{keyword}` (keywords: {KEYWORDS})"
        )),
    }
}

/// Names separated by spaces or commas.
fn names(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|name| !name.is_empty())
        .collect()
}

/// The names left and right of `->`, both sides non-empty.
fn arrow<'a>(args: &[&'a str]) -> Option<(Vec<&'a str>, Vec<&'a str>)> {
    let split = args.iter().position(|arg| *arg == "->")?;
    let side =
        |args: &[&'a str]| -> Vec<&'a str> { args.iter().flat_map(|arg| names(arg)).collect() };
    let (from, to) = (side(&args[..split]), side(&args[split + 1..]));
    (!from.is_empty() && !to.is_empty() && !to.contains(&"->")).then_some((from, to))
}

fn identifier(name: &str) -> Result<String, String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a module, layer or table name (lowercase letters, digits and `_`)"
        ))
    }
}

fn identifiers(names: &[&str]) -> Result<Vec<String>, String> {
    names.iter().map(|name| identifier(name)).collect()
}

/// A package name, or a prefix pattern such as `ff-*`.
fn package_name(name: &str) -> Result<String, String> {
    let stem = name.strip_suffix('*').unwrap_or(name);
    let valid = !stem.is_empty()
        && !stem.contains('*')
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "`{name}` is not a package name (or a prefix such as `ff-*`)"
        ))
    }
}

/// Builds the rules from parsed lines, checking that names refer to each other consistently.
fn resolve(opening: usize, lines: Vec<(Line, Written)>, problems: &mut Vec<String>) -> Rules {
    let mut rules = Rules {
        layer_of: BTreeMap::new(),
        wiring: Vec::new(),
        separate: Vec::new(),
        forbids: Vec::new(),
        owners_reason: String::new(),
        owners: Written {
            line: opening,
            text: "owners".to_owned(),
        },
        tables: BTreeMap::new(),
        no_writes: Vec::new(),
        crates: Vec::new(),
    };
    let mut layer_lines: BTreeMap<String, usize> = BTreeMap::new();
    // Layers first: every other rule names them.
    for (line, written) in &lines {
        let Line::Layer(layer, modules) = line else {
            continue;
        };
        for module in modules {
            match rules.layer_of.get(module) {
                Some(other) => problems.push(at(
                    written,
                    &format!(
                        "`{module}` is already in layer `{other}` (line {}); every module is in exactly one layer",
                        layer_lines[module]
                    ),
                )),
                None => {
                    rules.layer_of.insert(module.clone(), layer.clone());
                    layer_lines.insert(module.clone(), written.line);
                }
            }
        }
    }
    let mut owners_line = None;
    for (line, written) in lines {
        match line {
            Line::Layer(..) => {}
            Line::Wiring(files) => rules.wiring.extend(files),
            Line::Separate(dirs) => rules.separate.extend(dirs),
            Line::Forbid(from, to, reason) => {
                unknown(&rules, from.iter().chain(&to), &written, problems);
                rules.forbids.push(Forbid {
                    from,
                    to,
                    reason,
                    written,
                })
            }
            Line::ForbidCrate(package, deps, reason) => rules.crates.push(CrateForbid {
                package,
                deps,
                reason,
                written,
            }),
            Line::Owners(reason) => match owners_line {
                Some(first) => problems.push(at(
                    &written,
                    &format!("a second `owners` line; the first is at line {first}"),
                )),
                None => {
                    owners_line = Some(written.line);
                    rules.owners_reason = reason;
                    rules.owners = written;
                }
            },
            Line::Table(table, owner) => {
                if let Some(first) = rules.tables.get(&table) {
                    problems.push(at(
                        &written,
                        &format!(
                            "table `{table}` already has an owner (line {}); one writer per table",
                            first.written.line
                        ),
                    ));
                } else if !rules.layer_of.contains_key(&owner) {
                    problems.push(at(
                        &written,
                        &format!("the owner `{owner}` is not a module of a `layer` line"),
                    ));
                } else {
                    rules.tables.insert(table, Table { owner, written });
                }
            }
            Line::NoWrites(names, reason) => {
                unknown(&rules, names.iter(), &written, problems);
                rules.no_writes.push(NoWrites {
                    names,
                    reason,
                    written,
                })
            }
        }
    }
    if owners_line.is_none() {
        problems.push(format!(
            "{DOCUMENT}:{opening}: the rules have no `owners: why` line, which says why only a table's owner writes it"
        ));
    }
    for table in rules.tables.values() {
        if let Some(rule) = rules.no_writes_for(&table.owner) {
            problems.push(at(
                &table.written,
                &format!(
                    "`{}` may write no table (line {})",
                    table.owner, rule.written.line
                ),
            ));
        }
    }
    rules
}

/// Reports each of `names` that is neither a layer nor a listed module.
fn unknown<'a>(
    rules: &Rules,
    names: impl Iterator<Item = &'a String>,
    written: &Written,
    problems: &mut Vec<String>,
) {
    for name in names {
        let is_layer = rules.layer_of.values().any(|layer| layer == name);
        if !is_layer && !rules.layer_of.contains_key(name) {
            problems.push(at(
                written,
                &format!("`{name}` is neither a layer nor a module of a `layer` line"),
            ));
        }
    }
}
