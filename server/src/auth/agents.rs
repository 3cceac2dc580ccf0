//! The credentials of ff's own agents for its MCP server (`/mcp`, issue 19 §1). Each running
//! agent process gets one, minted when it starts and revoked when it ends (the `Grant` is
//! dropped with the process): it names one session and the workspace that session belongs to,
//! and is no use anywhere but `/mcp`. Nothing is written to disk: a restart revokes them all.
//!
//! A credential is `ffa_<id>_<secret>`: the id finds the grant, the secret is compared in
//! constant time, so neither a lookup nor a comparison tells a guesser how close it came.

use ff_core::ids::{SessionId, WorkspaceId};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use subtle::ConstantTimeEq;

const PREFIX: &str = "ffa_";
/// The environment `ff mcp-bridge` reads its endpoint and credential from.
pub const URL_ENV: &str = "FF_MCP_URL";
pub const CREDENTIAL_ENV: &str = "FF_MCP_CREDENTIAL";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
/// Agents running at once are bounded by the sessions' slots; this bounds the table anyway.
const MAX_GRANTS: usize = 4096;

/// Whom a credential lets act: one session, as its workspace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grantee {
    pub session: SessionId,
    pub workspace: WorkspaceId,
}

/// What an agent is told in `session/new`: where ff's MCP server is and how to prove who it is.
#[derive(Clone, Debug)]
pub struct McpOffer {
    /// `http://…/mcp` on an address of ff the agent can reach.
    pub url: String,
    pub credential: String,
    /// The `ff` binary, for agents that speak MCP over stdio only (`ff mcp-bridge`).
    pub bridge: PathBuf,
}

/// The live grants, shared by the sessions (which mint them) and the HTTP layer (which admits).
#[derive(Clone)]
pub struct AgentGrants {
    inner: Arc<Inner>,
}

struct Inner {
    grants: Mutex<HashMap<String, (String, Grantee)>>,
    /// Set once ff listens; agents started before that get no MCP server.
    url: RwLock<Option<String>>,
    bridge: PathBuf,
}

/// One agent's credential; dropping it revokes it.
pub struct Grant {
    id: String,
    inner: Arc<Inner>,
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.inner
            .grants
            .lock()
            .expect("agent grants")
            .remove(&self.id);
    }
}

impl AgentGrants {
    pub fn new(bridge: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                grants: Mutex::default(),
                url: RwLock::default(),
                bridge,
            }),
        }
    }

    /// The MCP endpoint's URL, once ff listens.
    pub fn serve_at(&self, url: String) {
        *self.inner.url.write().expect("mcp url") = Some(url);
    }

    /// A new credential for `grantee`, with the offer to make its agent; `None` while ff does
    /// not listen yet, or when the random source fails (the agent then runs without ff's tools).
    pub fn grant(&self, grantee: Grantee) -> Option<(Grant, McpOffer)> {
        let url = self.inner.url.read().expect("mcp url").clone()?;
        let id = random_hex(ID_BYTES)?;
        let secret = random_hex(SECRET_BYTES)?;
        let mut grants = self.inner.grants.lock().expect("agent grants");
        if grants.len() >= MAX_GRANTS {
            tracing::warn!("too many live agent credentials; this agent gets no MCP server");
            return None;
        }
        grants.insert(id.clone(), (secret.clone(), grantee));
        drop(grants);
        let offer = McpOffer {
            url,
            credential: format!("{PREFIX}{id}_{secret}"),
            bridge: self.inner.bridge.clone(),
        };
        let grant = Grant {
            id,
            inner: self.inner.clone(),
        };
        Some((grant, offer))
    }

    /// Whom `presented` was granted to, while its agent runs.
    pub fn admit(&self, presented: &str) -> Option<Grantee> {
        let (id, secret) = presented.strip_prefix(PREFIX)?.split_once('_')?;
        let grants = self.inner.grants.lock().expect("agent grants");
        let (expected, grantee) = grants.get(id)?;
        bool::from(expected.as_bytes().ct_eq(secret.as_bytes())).then(|| grantee.clone())
    }
}

fn random_hex(bytes: usize) -> Option<String> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).ok()?;
    Some(buffer.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grantee(n: u8) -> Grantee {
        Grantee {
            session: SessionId::new(format!("s{n}")),
            workspace: WorkspaceId::new(format!("w{n}")),
        }
    }

    #[test]
    fn a_credential_admits_its_grantee_until_dropped() {
        let grants = AgentGrants::new(PathBuf::from("/ff"));
        assert!(grants.grant(grantee(1)).is_none(), "not listening yet");
        grants.serve_at("http://127.0.0.1:1/mcp".into());
        let (first, offer) = grants.grant(grantee(1)).unwrap();
        let (_second, other) = grants.grant(grantee(2)).unwrap();
        assert_ne!(offer.credential, other.credential);
        assert_eq!(grants.admit(&offer.credential), Some(grantee(1)));
        assert_eq!(grants.admit(&other.credential), Some(grantee(2)));
        let mut forged = offer.credential.clone();
        forged.pop();
        forged.push('x');
        for wrong in [
            forged.as_str(),
            "",
            "ffa_",
            "ffa__",
            "token",
            &offer.credential[4..],
        ] {
            assert_eq!(grants.admit(wrong), None, "{wrong:?}");
        }
        drop(first);
        assert_eq!(grants.admit(&offer.credential), None);
        assert_eq!(grants.admit(&other.credential), Some(grantee(2)));
    }
}
