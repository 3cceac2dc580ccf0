//! Security headers on every response (trust issue §2), set with tower-http's header layers.
//! A page's policy names the nonce of its inline hydration script; everything else gets the same
//! policy without one.

use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of a response. Scripts come from ff only (the page's one inline script by its
/// nonce) and the wasm module compiles under `'wasm-unsafe-eval'`; images from ff or `data:`,
/// so an agent's markdown cannot make the page fetch an attacker's URL; no frame may embed ff.
/// Inline styles stay allowed: xterm.js and positioned panels set them, and a style cannot
/// run code.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let script = match nonce {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; {script}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Adds the headers to every response that does not set its own (pages set their policy).
pub fn secure(router: Router) -> Router {
    let policy = HeaderValue::from_str(&content_security_policy(None))
        .expect("the policy is a valid header value");
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// Called while a page renders: its policy allows the nonce leptos put on its inline scripts.
pub fn page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(Some(&nonce))) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
