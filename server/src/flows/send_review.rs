//! "Send to agent" (review.md §2): the workspace's open draft comments (the review domain) are
//! queued in its current session, or start a new session of the default agent when it has none
//! (the sessions domain): one message, or several when together they exceed one message's cap.
//! Each message's comments are marked SENT once it is queued, so a failure part-way leaves the
//! rest as drafts to send again.

use crate::error::DomainResult;
use crate::locks::KeyedLocks;
use crate::review::Review;
use crate::sessions::Sessions;
use ff_core::ids::{CommentId, WorkspaceId};
use ff_core::review::comments::SentReview;
use ff_core::review::message::review_messages;
use ff_core::sessions::{CreateSession, MessageText, MAX_MESSAGE_CHARS};

#[derive(Clone)]
pub struct SendReview {
    review: Review,
    sessions: Sessions,
    /// One send per workspace at a time, so that no draft is sent twice.
    sending: KeyedLocks,
}

impl SendReview {
    pub fn new(review: Review, sessions: Sessions) -> Self {
        Self {
            review,
            sessions,
            sending: KeyedLocks::default(),
        }
    }

    /// `POST /api/workspaces/{id}/review/send`.
    pub async fn send(&self, workspace: &WorkspaceId) -> DomainResult<SentReview> {
        let _one = self.sending.lock(workspace.as_str()).await;
        let drafts = self.review.drafts_to_send(workspace).await?;
        let mut session = self.sessions.current_user_session(workspace).await?;
        let mut sent: Vec<CommentId> = Vec::with_capacity(drafts.len());
        for part in review_messages(&drafts, MAX_MESSAGE_CHARS) {
            let message = MessageText::parse("comments", &part.text)?;
            let to = match &session {
                Some(session) => {
                    self.sessions.send(session, message.as_str()).await?;
                    session.clone()
                }
                None => {
                    let request = CreateSession {
                        prompt: Some(message.into_string()),
                        ..CreateSession::default()
                    };
                    self.sessions.create(workspace, request).await?.id
                }
            };
            let ids: Vec<CommentId> = drafts[part.comments].iter().map(|c| c.id.clone()).collect();
            self.review.mark_sent(&ids, &to).await?;
            sent.extend(ids);
            session = Some(to);
        }
        let session = session.expect("at least one draft, so at least one message");
        tracing::info!(%workspace, %session, comments = sent.len(), "review comments sent to the agent");
        let comments = self
            .review
            .comments(workspace)
            .await?
            .into_iter()
            .filter(|c| sent.contains(&c.id))
            .collect();
        Ok(SentReview {
            session_id: session,
            comments,
        })
    }
}
