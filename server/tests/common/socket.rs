//! A snapshot socket client over a real WebSocket, decoding frames with core's wire types.

use ff_core::wire::Frame;
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server ended the connection with.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Closed(Option<u16>),
    Dropped,
}

impl Client {
    /// Connects with the user's token, as every test client does.
    pub async fn connect(url: &str) -> Self {
        Self::connect_with(url, Some(super::TOKEN))
            .await
            .expect("socket connects")
    }

    /// Connects with `token` as the bearer (none: no `Authorization` header at all).
    pub async fn connect_with(
        url: &str,
        token: Option<&str>,
    ) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request()?;
        if let Some(token) = token {
            request.headers_mut().insert(
                AUTHORIZATION,
                format!("Bearer {token}").parse().expect("a header value"),
            );
        }
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { ws })
    }

    /// The next text frame (pings are answered and skipped); panics after 10 s of silence.
    pub async fn frame(&mut self) -> Frame {
        self.try_frame(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    /// The next text frame as the JSON type `T` (a chat frame, say); panics after 10 s.
    pub async fn next<T: serde::de::DeserializeOwned>(&mut self) -> T {
        self.try_next(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    pub async fn try_next<T: serde::de::DeserializeOwned>(&mut self, wait: Duration) -> Option<T> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??
                .ok()?;
            match message {
                Message::Text(text) => {
                    return Some(serde_json::from_str(&text).expect("a valid frame"))
                }
                Message::Close(frame) => panic!("closed while waiting for a frame: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next snapshot frame within `wait`, if one comes.
    pub async fn try_frame(&mut self, wait: Duration) -> Option<Frame> {
        self.try_next(wait).await
    }

    /// Reads everything up to the end of the connection and reports how it ended, with the
    /// frames that came before.
    pub async fn until_end(&mut self) -> (Vec<Frame>, Ended) {
        let mut frames = Vec::new();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(20), self.ws.next())
                .await
                .expect("the connection ends");
            match message {
                Some(Ok(Message::Text(text))) => {
                    frames.push(serde_json::from_str(&text).expect("a valid frame"))
                }
                Some(Ok(Message::Close(frame))) => {
                    return (frames, Ended::Closed(frame.map(|f| u16::from(f.code))));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return (frames, Ended::Dropped),
            }
        }
    }

    /// Skips every frame, of any stream, up to the end of the connection, and says how it ended.
    pub async fn ended(&mut self) -> Ended {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Close(frame))) => {
                    return Ended::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Ended::Dropped,
            }
        }
    }

    pub async fn send_binary(
        &mut self,
        bytes: Vec<u8>,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        self.ws.send(Message::Binary(bytes.into())).await
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// The close code for clients that fell behind (`try again later`).
pub fn try_again_later() -> u16 {
    u16::from(CloseCode::Again)
}

/// An upgrade request to `url` carrying the user's token, for benchmarks that drive the raw
/// socket.
pub fn authorized(url: &str) -> Request {
    let mut request = url.into_client_request().expect("a socket URL");
    request.headers_mut().insert(
        AUTHORIZATION,
        format!("Bearer {}", super::TOKEN)
            .parse()
            .expect("a header value"),
    );
    request
}
