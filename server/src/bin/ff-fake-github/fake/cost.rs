//! GitHub's published cost of a GraphQL query (G1): every connection needs one request per
//! node its enclosing connections may return (the product of their `first`/`last`), whatever
//! it actually returns; points are the sum over 100, rounded, at least 1.

use super::execute::Request;
use graphql_parser::query::{Field, SelectionSet};

/// `(requests, points)`.
pub fn cost(request: &Request<'_>) -> (u64, u32) {
    let mut requests = 0;
    walk(request, request.selection(), 1, &mut requests);
    let points = ((requests as f64) / 100.0).round().max(1.0) as u32;
    (requests, points)
}

fn walk<'a>(
    request: &Request<'a>,
    selection: &'a SelectionSet<'a, &'a str>,
    enclosing: u64,
    requests: &mut u64,
) {
    let mut fields = Vec::new();
    // Every member of a union counts: the cost is computed before anything is resolved.
    request.fields(selection, None, &mut fields);
    for field in fields {
        if field.selection_set.items.is_empty() {
            continue;
        }
        let inner = if is_connection(request, field) {
            *requests += enclosing;
            let limit = ["first", "last"]
                .iter()
                .find_map(|arg| request.argument(field, arg).as_u64())
                .unwrap_or(1);
            enclosing.saturating_mul(limit)
        } else {
            enclosing
        };
        walk(request, &field.selection_set, inner, requests);
    }
}

fn is_connection<'a>(request: &Request<'a>, field: &'a Field<'a, &'a str>) -> bool {
    let paginated = ["first", "last"]
        .iter()
        .any(|arg| !request.argument(field, arg).is_null());
    let mut inner = Vec::new();
    request.fields(&field.selection_set, None, &mut inner);
    paginated
        || inner
            .iter()
            .any(|f| matches!(f.name, "nodes" | "edges" | "totalCount" | "pageInfo"))
}
