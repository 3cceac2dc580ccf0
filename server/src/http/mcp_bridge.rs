//! `ff mcp-bridge`: ff's MCP server for agents that speak MCP over stdio only. The agent starts
//! it as the stdio server ff offered in `session/new`; it carries each JSON-RPC message between
//! the agent's pipes and `/mcp`, with the session's credential from its environment (never its
//! command line). It ends when the agent closes its stdin or ff's endpoint goes away.

use crate::auth::agents::{CREDENTIAL_ENV, URL_ENV};
use anyhow::Context;
use rmcp::transport::async_rw::AsyncRwTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, Transport};
use rmcp::{RoleClient, RoleServer};

pub async fn run() -> anyhow::Result<()> {
    let url = std::env::var(URL_ENV)
        .with_context(|| format!("{URL_ENV} is not set: ff sets it when it starts an agent"))?;
    let credential = std::env::var(CREDENTIAL_ENV).with_context(|| {
        format!("{CREDENTIAL_ENV} is not set: ff sets it when it starts an agent")
    })?;
    let mut ff = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(credential),
    );
    let mut agent: AsyncRwTransport<RoleServer, _, _> =
        AsyncRwTransport::new_server(tokio::io::stdin(), tokio::io::stdout());
    loop {
        tokio::select! {
            from_agent = Transport::<RoleServer>::receive(&mut agent) => match from_agent {
                Some(message) => Transport::<RoleClient>::send(&mut ff, message)
                    .await
                    .context("cannot reach ff's MCP server")?,
                None => break,
            },
            from_ff = Transport::<RoleClient>::receive(&mut ff) => match from_ff {
                Some(message) => Transport::<RoleServer>::send(&mut agent, message)
                    .await
                    .context("cannot write to the agent")?,
                None => break,
            },
        }
    }
    let _ = Transport::<RoleClient>::close(&mut ff).await;
    let _ = Transport::<RoleServer>::close(&mut agent).await;
    Ok(())
}
