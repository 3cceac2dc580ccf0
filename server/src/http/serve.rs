//! The accept loop: one task per connection, at most [`HttpLimits::connections`] at once, and a
//! deadline for a request's headers, so clients that connect and never finish a request cannot
//! pile up until the process runs out of file descriptors.

use crate::config::HttpLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// Serves `router` until `shutdown` is cancelled, then lets every open connection finish its
/// request (sockets close themselves on the same signal) before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    open: prometheus::IntGauge,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let connections = TaskTracker::new();
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
        };
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: back off briefly.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Frames are small and must leave at once: without TCP_NODELAY a frame can wait for the
        // client's delayed ACK of the previous one (tens of milliseconds).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
        let router = router.clone();
        let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let shutdown = shutdown.clone();
        let open = open.clone();
        let timeout = limits.header_read_timeout;
        connections.spawn(async move {
            let _slot = slot;
            open.inc();
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_end(peer, result),
                () = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    log_end(peer, connection.await);
                }
            }
            open.dec();
        });
    }
    connections.close();
    connections.wait().await;
}

fn log_end(peer: SocketAddr, result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(%peer, "connection ended: {e}");
    }
}
