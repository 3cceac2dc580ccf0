//! Answers a GraphQL request from the world, field by field as the query selects them (aliases,
//! fragments, variables), the way GitHub would: a missing repository or PR is `null` with a
//! NOT_FOUND error naming its path, and the other aliases keep their data.

use super::world::{oid, time_text, Pr, Repo, ThreadReply, World};
use graphql_parser::query::{
    Definition, Document, Field, FragmentDefinition, OperationDefinition, Selection, SelectionSet,
    TypeCondition, Value as GqlValue,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

type Doc<'a> = Document<'a, &'a str>;

/// What a request asked for, once parsed.
pub struct Request<'a> {
    pub operation: &'a OperationDefinition<'a, &'a str>,
    pub fragments: HashMap<&'a str, &'a FragmentDefinition<'a, &'a str>>,
    pub variables: Map<String, Value>,
}

impl<'a> Request<'a> {
    pub fn new(document: &'a Doc<'a>, variables: Map<String, Value>) -> Result<Self, String> {
        let mut operation = None;
        let mut fragments = HashMap::new();
        for definition in &document.definitions {
            match definition {
                Definition::Operation(op) => {
                    if operation.replace(op).is_some() {
                        return Err("the fake answers one operation per request".into());
                    }
                }
                Definition::Fragment(f) => {
                    fragments.insert(f.name, f);
                }
            }
        }
        Ok(Self {
            operation: operation.ok_or("no operation")?,
            fragments,
            variables,
        })
    }

    pub fn name(&self) -> &'a str {
        match self.operation {
            OperationDefinition::Query(q) => q.name.unwrap_or("anonymous"),
            OperationDefinition::Mutation(m) => m.name.unwrap_or("anonymous"),
            _ => "anonymous",
        }
    }

    pub fn selection(&self) -> &'a SelectionSet<'a, &'a str> {
        match self.operation {
            OperationDefinition::Query(q) => &q.selection_set,
            OperationDefinition::Mutation(m) => &m.selection_set,
            OperationDefinition::Subscription(s) => &s.selection_set,
            OperationDefinition::SelectionSet(s) => s,
        }
    }

    pub fn argument(&self, field: &Field<'a, &'a str>, name: &str) -> Value {
        field
            .arguments
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(Value::Null, |(_, v)| self.value(v))
    }

    fn value(&self, value: &GqlValue<'a, &'a str>) -> Value {
        match value {
            GqlValue::Variable(name) => self.variables.get(*name).cloned().unwrap_or(Value::Null),
            GqlValue::Int(n) => json!(n.as_i64()),
            GqlValue::Float(f) => json!(f),
            GqlValue::String(s) => json!(s),
            GqlValue::Boolean(b) => json!(b),
            GqlValue::Null => Value::Null,
            GqlValue::Enum(e) => json!(e),
            GqlValue::List(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            GqlValue::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), self.value(v)))
                    .collect(),
            ),
        }
    }

    /// The fields a selection asks for, fragments expanded, for an object of `type_name`.
    pub fn fields(
        &self,
        selection: &'a SelectionSet<'a, &'a str>,
        type_name: Option<&str>,
        out: &mut Vec<&'a Field<'a, &'a str>>,
    ) {
        let applies = |condition: &Option<TypeCondition<'a, &'a str>>| match (condition, type_name)
        {
            (Some(TypeCondition::On(on)), Some(actual)) => *on == actual || !is_concrete(on),
            _ => true,
        };
        for item in &selection.items {
            match item {
                Selection::Field(f) => out.push(f),
                Selection::InlineFragment(f) => {
                    if applies(&f.type_condition) {
                        self.fields(&f.selection_set, type_name, out);
                    }
                }
                Selection::FragmentSpread(s) => {
                    if let Some(f) = self.fragments.get(s.fragment_name) {
                        if applies(&Some(f.type_condition.clone())) {
                            self.fields(&f.selection_set, type_name, out);
                        }
                    }
                }
            }
        }
    }
}

/// Interfaces and unions match any member; the fake's objects name their concrete type.
fn is_concrete(type_name: &str) -> bool {
    !matches!(
        type_name,
        "Node" | "Actor" | "RepositoryOwner" | "StatusCheckRollupContext"
    )
}

/// The answer being built: data and the errors of failed paths.
pub struct Answer {
    pub data: Map<String, Value>,
    pub errors: Vec<Value>,
}

/// What a mutation did, for the test to check.
#[derive(Clone, Debug)]
pub struct Created {
    pub input: Value,
    pub number: u64,
}

pub fn execute<'a>(request: &Request<'a>, world: &mut World, created: &mut Vec<Created>) -> Answer {
    let mut answer = Answer {
        data: Map::new(),
        errors: Vec::new(),
    };
    let mut fields = Vec::new();
    request.fields(request.selection(), None, &mut fields);
    for field in fields {
        let key = field.alias.unwrap_or(field.name).to_owned();
        let value = match field.name {
            "rateLimit" => {
                let rate = json!({
                    "cost": 0, "remaining": world.remaining, "limit": world.limit, "used": world.limit - world.remaining,
                    "resetAt": reset_text(world.reset_at), "nodeCount": 0,
                });
                shape(request, field, &rate)
            }
            "viewer" => shape(
                request,
                field,
                &json!({"__typename": "User", "login": world.viewer}),
            ),
            "repository" => {
                let owner = request.argument(field, "owner");
                let name = request.argument(field, "name");
                match world.get_repo(owner.as_str().unwrap_or(""), name.as_str().unwrap_or("")) {
                    Some(repo) => repository(
                        request,
                        field,
                        repo,
                        &world.viewer,
                        &key,
                        &mut answer.errors,
                    ),
                    None => {
                        answer.errors.push(not_found(
                            vec![json!(key)],
                            &format!(
                                "Could not resolve to a Repository with the name '{}/{}'.",
                                owner.as_str().unwrap_or(""),
                                name.as_str().unwrap_or("")
                            ),
                        ));
                        Value::Null
                    }
                }
            }
            "createPullRequest" => {
                create_pull_request(request, field, world, &key, &mut answer.errors, created)
            }
            "addPullRequestReviewThreadReply" | "resolveReviewThread" => {
                thread_mutation(request, field, world, &key, &mut answer.errors)
            }
            "requestReviews" => request_reviews(request, field, world, &key, &mut answer.errors),
            other => {
                answer.errors.push(
                    json!({"message": format!("the fake does not answer {other}"), "path": [key]}),
                );
                Value::Null
            }
        };
        answer.data.insert(key, value);
    }
    answer
}

pub fn reset_text(epoch: i64) -> String {
    time_text(epoch, 0)
}

/// A connection holding all of `nodes` on one page.
fn connection(nodes: Vec<Value>) -> Value {
    json!({"totalCount": nodes.len(), "nodes": nodes, "pageInfo": {"hasNextPage": false, "endCursor": null}})
}

fn not_found(path: Vec<Value>, message: &str) -> Value {
    json!({"type": "NOT_FOUND", "path": path, "locations": [], "message": message})
}

fn repository<'a>(
    request: &Request<'a>,
    field: &'a Field<'a, &'a str>,
    repo: &Repo,
    viewer: &str,
    key: &str,
    errors: &mut Vec<Value>,
) -> Value {
    let mut out = Map::new();
    let mut fields = Vec::new();
    request.fields(&field.selection_set, Some("Repository"), &mut fields);
    for inner in fields {
        let inner_key = inner.alias.unwrap_or(inner.name).to_owned();
        let value = match inner.name {
            "pullRequest" => {
                let number = request.argument(inner, "number").as_u64().unwrap_or(0);
                match repo.prs.iter().find(|p| p.number == number) {
                    Some(pr) => shape(request, inner, &repo.pr_json(pr, viewer)),
                    None => {
                        errors.push(not_found(
                            vec![json!(key), json!(inner_key)],
                            &format!(
                                "Could not resolve to a PullRequest with the number of {number}."
                            ),
                        ));
                        Value::Null
                    }
                }
            }
            "pullRequests" => {
                let head = request.argument(inner, "headRefName");
                let states = request.argument(inner, "states");
                let mut prs: Vec<&Pr> = repo
                    .prs
                    .iter()
                    .filter(|p| head.as_str().is_none_or(|h| h == p.head))
                    .filter(|p| {
                        states
                            .as_array()
                            .is_none_or(|s| s.iter().any(|s| s == &json!(p.state)))
                    })
                    .collect();
                prs.sort_by(|a, b| (&b.created_at, b.number).cmp(&(&a.created_at, a.number)));
                let nodes: Vec<Value> = prs.iter().map(|p| repo.pr_json(p, viewer)).collect();
                shape(request, inner, &connection(nodes))
            }
            "issues" => {
                let assignee = request
                    .argument(inner, "filterBy")
                    .get("assignee")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut issues: Vec<_> = repo
                    .issues
                    .iter()
                    .filter(|i| assignee.as_ref().is_none_or(|a| i.assignees.contains(a)))
                    .collect();
                issues.sort_by(|a, b| (&b.created_at, b.number).cmp(&(&a.created_at, a.number)));
                let nodes: Vec<Value> = issues.iter().map(|i| repo.issue_json(i)).collect();
                shape(request, inner, &connection(nodes))
            }
            "issue" => {
                let number = request.argument(inner, "number").as_u64().unwrap_or(0);
                match repo.issues.iter().find(|i| i.number == number) {
                    Some(issue) => shape(request, inner, &repo.issue_json(issue)),
                    None => {
                        errors.push(not_found(
                            vec![json!(key), json!(inner_key)],
                            &format!("Could not resolve to an issue or pull request with the number of {number}."),
                        ));
                        Value::Null
                    }
                }
            }
            _ => shape(
                request,
                inner,
                repo.json().get(inner.name).unwrap_or(&Value::Null),
            ),
        };
        out.insert(inner_key, value);
    }
    Value::Object(out)
}

fn create_pull_request<'a>(
    request: &Request<'a>,
    field: &'a Field<'a, &'a str>,
    world: &mut World,
    key: &str,
    errors: &mut Vec<Value>,
    created: &mut Vec<Created>,
) -> Value {
    let viewer = world.viewer.clone();
    let input = request.argument(field, "input");
    let text = |name: &str| {
        input
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let Some(repo) = world
        .repos
        .iter_mut()
        .find(|r| r.node_id() == text("repositoryId"))
    else {
        errors.push(not_found(
            vec![json!(key)],
            "Could not resolve to a node with the global id.",
        ));
        return Value::Null;
    };
    let head = text("headRefName");
    if repo.prs.iter().any(|p| p.head == head && p.state == "OPEN") {
        errors.push(json!({"type": "UNPROCESSABLE", "path": [key], "message": format!("A pull request already exists for {}:{head}.", repo.owner)}));
        return Value::Null;
    }
    let owner = repo.owner.clone();
    let number = repo.open(&head, &owner);
    repo.change(number, |pr| {
        pr.title = text("title");
        pr.body = text("body");
        pr.base = text("baseRefName");
        pr.draft = input.get("draft").and_then(Value::as_bool).unwrap_or(false);
        pr.head_oid = oid(&format!("pushed-{head}"));
    });
    created.push(Created {
        input: input.clone(),
        number,
    });
    let pr = repo
        .prs
        .iter()
        .find(|p| p.number == number)
        .expect("just opened");
    let payload = json!({"pullRequest": repo.pr_json(pr, &viewer)});
    shape(request, field, &payload)
}

/// `addPullRequestReviewThreadReply` (the reply is recorded on the PR, by the viewer) and
/// `resolveReviewThread`, on the thread the input names.
fn thread_mutation<'a>(
    request: &Request<'a>,
    field: &'a Field<'a, &'a str>,
    world: &mut World,
    key: &str,
    errors: &mut Vec<Value>,
) -> Value {
    let input = request.argument(field, "input");
    let reply = field.name == "addPullRequestReviewThreadReply";
    let wanted = input
        .get(if reply {
            "pullRequestReviewThreadId"
        } else {
            "threadId"
        })
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let viewer = world.viewer.clone();
    for repo in &mut world.repos {
        let found = repo.prs.iter().find_map(|pr| {
            (0..pr.threads.len())
                .find(|i| repo.thread_id(pr.number, *i) == wanted)
                .map(|i| (pr.number, i))
        });
        let Some((number, index)) = found else {
            continue;
        };
        let mut payload = Value::Null;
        repo.change(number, |pr| {
            if reply {
                let body = input
                    .get("body")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                pr.thread_replies.push(ThreadReply {
                    thread: index,
                    author: viewer.clone(),
                    body: body.to_owned(),
                });
                let n = 7000 + pr.thread_replies.len() - 1;
                payload = json!({"comment": {"id": format!("PRRC_{n}"), "body": body}});
            } else {
                pr.threads[index].resolved = true;
                payload = json!({"thread": {"id": wanted, "isResolved": true}});
            }
        });
        return shape(request, field, &payload);
    }
    errors.push(not_found(
        vec![json!(key)],
        &format!("Could not resolve to a node with the global id of '{wanted}'."),
    ));
    Value::Null
}

/// `requestReviews`: the users are recorded on the PR the input names.
fn request_reviews<'a>(
    request: &Request<'a>,
    field: &'a Field<'a, &'a str>,
    world: &mut World,
    key: &str,
    errors: &mut Vec<Value>,
) -> Value {
    let input = request.argument(field, "input");
    let wanted = input
        .get("pullRequestId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let users: Vec<String> = input
        .get("userIds")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    for repo in &mut world.repos {
        let pr_id = |number: u64| format!("PR_{}_{number}", repo.name);
        let Some(number) = repo
            .prs
            .iter()
            .map(|p| p.number)
            .find(|n| pr_id(*n) == wanted)
        else {
            continue;
        };
        repo.change(number, |pr| pr.review_requests.extend(users));
        return shape(request, field, &json!({"pullRequest": {"id": wanted}}));
    }
    errors.push(not_found(
        vec![json!(key)],
        &format!("Could not resolve to a node with the global id of '{wanted}'."),
    ));
    Value::Null
}

/// `value` cut to what `field` selects (and sliced where a connection asks for `first`/`last`).
pub fn shape<'a>(request: &Request<'a>, field: &'a Field<'a, &'a str>, value: &Value) -> Value {
    if field.selection_set.items.is_empty() || value.is_null() {
        return value.clone();
    }
    match value {
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| shape(request, field, v)).collect())
        }
        Value::Object(object) => {
            let type_name = object.get("__typename").and_then(Value::as_str);
            let mut fields = Vec::new();
            request.fields(&field.selection_set, type_name, &mut fields);
            let mut out = Map::new();
            for inner in fields {
                let key = inner.alias.unwrap_or(inner.name).to_owned();
                let raw = object.get(inner.name).cloned().unwrap_or(Value::Null);
                let raw = slice(request, inner, raw);
                out.insert(key, shape(request, inner, &raw));
            }
            Value::Object(out)
        }
        scalar => scalar.clone(),
    }
}

/// A connection's nodes, limited by `first` (the first N) or `last` (the last N).
fn slice<'a>(request: &Request<'a>, field: &'a Field<'a, &'a str>, mut value: Value) -> Value {
    let first = request.argument(field, "first").as_u64();
    let last = request.argument(field, "last").as_u64();
    if let Some(nodes) = value.get_mut("nodes").and_then(Value::as_array_mut) {
        if let Some(n) = first {
            nodes.truncate(n as usize);
        }
        if let Some(n) = last {
            let skip = nodes.len().saturating_sub(n as usize);
            nodes.drain(..skip);
        }
    }
    value
}
