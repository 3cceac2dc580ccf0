//! A fake GitHub GraphQL API on loopback (github.md §5): scenario state that tests change,
//! answers by alias computed from that state, GitHub's cost formula, injected failures, and
//! every distinct answer written out for the contract check against GitHub's schema.
//!
//! Shared by the `ff-fake-github` binary (end-to-end tests drive it over HTTP) and the server's
//! tests and benchmarks (which include this module and change the world directly).

pub mod cost;
pub mod execute;
pub mod world;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
pub use world::{Inject, World};

/// One request the fake answered, as the tests and benchmarks count them.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub operation: String,
    pub status: u16,
    /// Top-level fields besides `rateLimit` (one per alias in a summary batch).
    pub aliases: usize,
    /// GitHub's formula: requests to fulfil every connection, and the points they cost.
    pub requests: u64,
    pub points: u32,
    pub variables: Value,
    /// When the answer was ready to send.
    #[serde(skip)]
    pub at: Instant,
}

pub use execute::Created;

struct Shared {
    world: Mutex<World>,
    served: Mutex<Vec<Served>>,
    created: Mutex<Vec<Created>>,
    contract_dir: Option<PathBuf>,
    written: Mutex<HashSet<u64>>,
}

pub struct FakeGithub {
    /// The API root: GraphQL is at `<url>/graphql`.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGithub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeGithub {
    /// Serves `world` on `127.0.0.1:port` (0: any free port); answers are written to
    /// `contract_dir` when given.
    pub async fn start(world: World, port: u16, contract_dir: Option<PathBuf>) -> Self {
        if let Some(dir) = &contract_dir {
            std::fs::create_dir_all(dir).expect("the contract directory can be created");
        }
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            served: Mutex::default(),
            created: Mutex::default(),
            contract_dir,
            written: Mutex::default(),
        });
        let router = Router::new()
            .route("/graphql", post(graphql))
            .route(
                "/repos/{owner}/{repo}/actions/jobs/{job}/logs",
                get(job_log),
            )
            .route("/_blobs/{owner}/{repo}/jobs/{job}", get(job_log_blob))
            .route("/_fake/world", get(get_world).put(put_world))
            .route("/_fake/served", get(get_served))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the fake binds a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, shared, task }
    }

    /// Reads or changes the scenario.
    pub fn world<R>(&self, change: impl FnOnce(&mut World) -> R) -> R {
        change(&mut self.shared.world.lock().expect("world"))
    }

    /// Every request answered so far, oldest first.
    pub fn served(&self) -> Vec<Served> {
        self.shared.served.lock().expect("served").clone()
    }

    pub fn forget_served(&self) {
        self.shared.served.lock().expect("served").clear();
    }

    /// The inputs of every `createPullRequest`, with the numbers given.
    pub fn created(&self) -> Vec<Created> {
        self.shared.created.lock().expect("created").clone()
    }
}

async fn get_world(State(shared): State<Arc<Shared>>) -> Json<World> {
    Json(shared.world.lock().expect("world").clone())
}

async fn put_world(State(shared): State<Arc<Shared>>, Json(world): Json<World>) -> StatusCode {
    *shared.world.lock().expect("world") = world;
    StatusCode::NO_CONTENT
}

async fn get_served(State(shared): State<Arc<Shared>>) -> Json<Vec<Served>> {
    Json(shared.served.lock().expect("served").clone())
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        Json(json!({"message": text, "documentation_url": "https://docs.github.com/graphql"})),
    )
        .into_response()
}

fn record(shared: &Shared, operation: &str, status: StatusCode) {
    shared.served.lock().expect("served").push(Served {
        operation: operation.to_owned(),
        status: status.as_u16(),
        aliases: 0,
        requests: 0,
        points: 0,
        variables: Value::Null,
        at: Instant::now(),
    });
}

/// What every request goes through, REST or GraphQL: GitHub's required headers, the token, the
/// scenario's delay and the next injected failure. `Ok` carries an injection left for the
/// caller (a GraphQL rate limit is an answer, not a status).
async fn gate(shared: &Shared, headers: &HeaderMap) -> Result<Option<Inject>, Response> {
    let (token, injected, delay) = {
        let mut world = shared.world.lock().expect("world");
        (
            world.token.clone(),
            world.inject.pop_front(),
            world.delay_ms,
        )
    };
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {token}"));
    let required = ["user-agent", "accept", "x-github-api-version"]
        .iter()
        .all(|h| headers.contains_key(*h));
    if !required {
        record(shared, "(missing headers)", StatusCode::FORBIDDEN);
        return Err(message(StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header."));
    }
    if !authorized {
        record(shared, "(unauthorized)", StatusCode::UNAUTHORIZED);
        return Err(message(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    tokio::time::sleep(Duration::from_millis(delay)).await;
    match injected {
        Some(Inject::Status {
            status,
            retry_after,
            reset,
            message: said,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            record(shared, "(injected status)", status);
            let mut response = message(status, said.as_deref().unwrap_or("injected by the fake"));
            if let Some(seconds) = retry_after {
                response.headers_mut().insert("retry-after", seconds.into());
            }
            if let Some(reset) = reset {
                limited_headers(&mut response, reset);
            }
            Err(response)
        }
        Some(Inject::Malformed) => {
            record(shared, "(malformed)", StatusCode::OK);
            Err((StatusCode::OK, "<html>unicorn</html>").into_response())
        }
        Some(Inject::Slow { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(None)
        }
        Some(Inject::Huge { bytes }) => {
            record(shared, "(huge)", StatusCode::OK);
            let padding = "x".repeat(bytes);
            Err((
                StatusCode::OK,
                Json(json!({"data": {}, "padding": padding})),
            )
                .into_response())
        }
        other => Ok(other),
    }
}

fn limited_headers(response: &mut Response, reset: i64) {
    response
        .headers_mut()
        .insert("x-ratelimit-remaining", 0.into());
    response
        .headers_mut()
        .insert("x-ratelimit-reset", reset.into());
}

/// `GET /repos/{owner}/{repo}/actions/jobs/{job_id}/logs`: as GitHub, a redirect to the plain
/// text (here on the fake itself, where it needs no token, like GitHub's signed blob links).
async fn job_log(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, job)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    let injected = match gate(&shared, &headers).await {
        Ok(injected) => injected,
        Err(response) => return response,
    };
    if let Some(Inject::RateLimited { reset }) = injected {
        record(&shared, "REST job log", StatusCode::FORBIDDEN);
        let mut response = message(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for user ID 1.",
        );
        limited_headers(&mut response, reset);
        return response;
    }
    let found = shared
        .world
        .lock()
        .expect("world")
        .get_repo(&owner, &repo)
        .and_then(|r| r.job_log(job))
        .is_some();
    let status = if found {
        StatusCode::FOUND
    } else {
        StatusCode::NOT_FOUND
    };
    record(&shared, "REST job log", status);
    if !found {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let mut response = StatusCode::FOUND.into_response();
    let location = format!("/_blobs/{owner}/{repo}/jobs/{job}");
    if let Ok(value) = location.parse() {
        response.headers_mut().insert("location", value);
    }
    response
}

async fn job_log_blob(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, job)): Path<(String, String, u64)>,
) -> Response {
    let world = shared.world.lock().expect("world");
    match world.get_repo(&owner, &repo).and_then(|r| r.job_log(job)) {
        Some(text) => text.to_owned().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn graphql(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let injected = match gate(&shared, &headers).await {
        Ok(injected) => injected,
        Err(response) => return response,
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return message(
                StatusCode::BAD_REQUEST,
                &format!("Problems parsing JSON: {e}"),
            )
        }
    };
    let query = parsed["query"].as_str().unwrap_or_default().to_owned();
    let variables = parsed["variables"].as_object().cloned().unwrap_or_default();
    let document = match graphql_parser::query::parse_query::<&str>(&query) {
        Ok(d) => d,
        Err(e) => {
            return (
                StatusCode::OK,
                Json(json!({"errors": [{"message": e.to_string()}]})),
            )
                .into_response()
        }
    };
    let request = match execute::Request::new(&document, variables.clone()) {
        Ok(r) => r,
        Err(e) => {
            return (StatusCode::OK, Json(json!({"errors": [{"message": e}]}))).into_response()
        }
    };
    let (requests, points) = cost::cost(&request);
    let operation = request.name().to_owned();
    let limited_until = match injected {
        Some(Inject::RateLimited { reset }) => Some(reset),
        _ => None,
    };
    let response = if limited_until.is_some() {
        json!({"data": null, "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]})
    } else {
        let mut created = Vec::new();
        let mut answer = {
            let mut world = shared.world.lock().expect("world");
            world.remaining = world.remaining.saturating_sub(points);
            execute::execute(&request, &mut world, &mut created)
        };
        shared.created.lock().expect("created").extend(created);
        if let Some(Value::Object(rate)) = answer.data.get_mut("rateLimit") {
            if rate.contains_key("cost") {
                rate.insert("cost".into(), json!(points));
            }
        }
        let mut response = Map::new();
        response.insert("data".into(), Value::Object(answer.data));
        if !answer.errors.is_empty() {
            response.insert("errors".into(), Value::Array(answer.errors));
        }
        Value::Object(response)
    };
    let aliases = response["data"]
        .as_object()
        .map_or(0, |d| d.keys().filter(|k| *k != "rateLimit").count());
    shared.served.lock().expect("served").push(Served {
        operation: operation.clone(),
        status: 200,
        aliases,
        requests,
        points,
        variables: Value::Object(variables.clone()),
        at: Instant::now(),
    });
    write_contract(&shared, &operation, &query, &variables, &response);
    let mut response = (StatusCode::OK, Json(response)).into_response();
    if let Some(reset) = limited_until {
        limited_headers(&mut response, reset);
    }
    response
}

/// Writes the answer for the contract check, once per distinct shape (ignoring the budget
/// figures, which change with every answer).
fn write_contract(
    shared: &Shared,
    operation: &str,
    query: &str,
    variables: &Map<String, Value>,
    response: &Value,
) {
    let Some(dir) = &shared.contract_dir else {
        return;
    };
    let mut normalized = response.clone();
    if let Some(data) = normalized.get_mut("data").and_then(Value::as_object_mut) {
        data.remove("rateLimit");
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (
        query,
        Value::Object(variables.clone()).to_string(),
        normalized.to_string(),
    )
        .hash(&mut hasher);
    let hash = hasher.finish();
    if !shared.written.lock().expect("written").insert(hash) {
        return;
    }
    let name = format!("{operation}-{hash:016x}");
    let document =
        json!({"name": name, "query": query, "variables": variables, "response": response});
    let path = dir.join(format!("{name}.json"));
    if let Err(e) = std::fs::write(
        &path,
        serde_json::to_string_pretty(&document).unwrap_or_default(),
    ) {
        eprintln!("fake GitHub: cannot write {}: {e}", path.display());
    }
}
