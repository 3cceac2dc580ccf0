//! What ff knows about one GitHub host, and whether it may send a request now (github.md §1):
//! the token, the points left with a reserve for the user's own tools, a pause until the reset
//! after a rate limit (a minute and more, doubling, when the limit says nothing of its end, as
//! GitHub asks for secondary limits), exponential backoff after server errors and timeouts, and
//! a token GitHub refused, never sent again until its value changes or the user tries again.

use super::auth::Credentials;
use super::transport::Failure;
use ff_core::github::{HostState, HostStatus, RateLimit, RateLimitView};
use ff_core::ids::Timestamp;
use std::time::Duration;

#[derive(Debug)]
pub struct HostBudget {
    pub host: String,
    /// `Err`: why there is no token, with how to connect.
    pub credentials: Result<Credentials, String>,
    pub login: Option<String>,
    rate: Option<RateLimit>,
    paused_until: Option<Timestamp>,
    /// Consecutive server errors, timeouts or malformed answers.
    failures: u32,
    retry_at: Option<Timestamp>,
    /// Consecutive rate limits that did not say when they end.
    unstated_limits: u32,
    /// The token GitHub refused (401): not sent again while it is the token.
    rejected: Option<String>,
    last_error: Option<String>,
}

/// Why no request may go to a host now; a sentence for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    NotConnected(String),
    #[error("GitHub ({host}) is paused until {until} ({why})")]
    Paused {
        host: String,
        until: Timestamp,
        why: String,
    },
    #[error("GitHub ({host}) is failing; the next attempt is at {at}: {why}")]
    BackingOff {
        host: String,
        at: Timestamp,
        why: String,
    },
}

/// How long a rate limit that says nothing of its end pauses a host the first time; it doubles
/// with each such limit in a row, up to `UNSTATED_PAUSE_MAX`.
const UNSTATED_PAUSE: Duration = Duration::from_secs(60);
const UNSTATED_PAUSE_MAX: Duration = Duration::from_secs(30 * 60);

pub struct Limits {
    pub reserve_percent: u32,
    pub backoff_first: Duration,
    pub backoff_max: Duration,
}

fn after(at: Timestamp, wait: Duration) -> Timestamp {
    let wait = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(at.millis().saturating_add(wait)).unwrap_or(at)
}

impl HostBudget {
    pub fn new(host: String, credentials: Result<Credentials, String>) -> Self {
        Self {
            host,
            credentials,
            login: None,
            rate: None,
            paused_until: None,
            failures: 0,
            retry_at: None,
            unstated_limits: 0,
            rejected: None,
            last_error: None,
        }
    }

    /// Whether the current token is the one GitHub refused.
    fn refused(&self) -> bool {
        match (&self.credentials, &self.rejected) {
            (Ok(credentials), Some(rejected)) => credentials.token == *rejected,
            _ => false,
        }
    }

    pub fn connected(&self) -> bool {
        self.credentials.is_ok() && !self.refused()
    }

    /// A fresh look at the token: a new value may be sent; the value GitHub refused stays
    /// refused.
    pub fn set_credentials(&mut self, credentials: Result<Credentials, String>) {
        self.credentials = credentials;
        // Only another value lifts the refusal; no token for a while does not.
        if matches!(&self.credentials, Ok(c) if Some(&c.token) != self.rejected.as_ref()) {
            self.rejected = None;
        }
    }

    /// The user pressed Try again: whatever the token, and whatever paused the host, the next
    /// request goes.
    pub fn retry(&mut self, credentials: Result<Credentials, String>) {
        self.credentials = credentials;
        self.rejected = None;
        self.paused_until = None;
        self.retry_at = None;
        self.failures = 0;
        self.unstated_limits = 0;
    }

    /// The token to send now, or why not.
    pub fn admit(&self, limits: &Limits, now: Timestamp) -> Result<&Credentials, Refusal> {
        let credentials = self
            .credentials
            .as_ref()
            .map_err(|why| Refusal::NotConnected(why.clone()))?;
        if self.refused() {
            return Err(Refusal::NotConnected(format!(
                "GitHub rejected the token from {} for {}; replace it, or press Try again",
                credentials.source, self.host
            )));
        }
        if let Some(until) = self.paused_until.filter(|u| *u > now) {
            return Err(Refusal::Paused {
                host: self.host.clone(),
                until,
                why: "rate limit".into(),
            });
        }
        if let Some(rate) = &self.rate {
            let reserve = u64::from(rate.limit) * u64::from(limits.reserve_percent) / 100;
            if u64::from(rate.remaining) < reserve && rate.reset_at > now {
                return Err(Refusal::Paused {
                    host: self.host.clone(),
                    until: rate.reset_at,
                    why: format!(
                        "{} of {} points left; the last {}% are kept for your own tools",
                        rate.remaining, rate.limit, limits.reserve_percent
                    ),
                });
            }
        }
        if let Some(at) = self.retry_at.filter(|at| *at > now) {
            return Err(Refusal::BackingOff {
                host: self.host.clone(),
                at,
                why: self.last_error.clone().unwrap_or_default(),
            });
        }
        Ok(credentials)
    }

    pub fn succeeded(&mut self, rate: Option<RateLimit>) {
        if rate.is_some() {
            self.rate = rate;
        }
        self.failures = 0;
        self.retry_at = None;
        self.unstated_limits = 0;
        self.last_error = None;
    }

    /// A mutation's points: GitHub states no `rateLimit` in its answer, so ff counts them on
    /// the remaining budget it last read (the next query's answer corrects it).
    pub fn spent(&mut self, points: u32) {
        if let Some(rate) = &mut self.rate {
            rate.remaining = rate.remaining.saturating_sub(points);
        }
    }

    pub fn failed(&mut self, failure: &Failure, limits: &Limits, now: Timestamp) {
        self.last_error = Some(failure.to_string());
        match failure {
            Failure::Unauthorized(_) => {
                self.rejected = self.credentials.as_ref().ok().map(|c| c.token.clone());
            }
            Failure::RateLimited {
                until: Some(until), ..
            } => self.paused_until = Some(*until),
            // Without a stated end: at least a minute, doubling with each such limit in a row
            // (GitHub's guidance for secondary limits); a primary limit waits for the reset
            // GitHub last reported when that is later.
            Failure::RateLimited {
                until: None,
                secondary,
                ..
            } => {
                self.unstated_limits += 1;
                let doublings = (self.unstated_limits - 1).min(16);
                let wait = UNSTATED_PAUSE
                    .saturating_mul(1 << doublings)
                    .min(UNSTATED_PAUSE_MAX);
                let known_reset = self
                    .rate
                    .as_ref()
                    .map(|r| r.reset_at)
                    .filter(|_| !secondary);
                self.paused_until = Some(after(now, wait).max(known_reset.unwrap_or(now)));
            }
            Failure::Server(_)
            | Failure::Timeout(_)
            | Failure::Malformed(_)
            | Failure::TooLarge(_) => {
                self.failures += 1;
                let doublings = (self.failures - 1).min(16);
                let wait = limits
                    .backoff_first
                    .saturating_mul(1 << doublings)
                    .min(limits.backoff_max);
                self.retry_at = Some(after(now, wait));
            }
            // A refusal is about that request, not the host.
            Failure::Refused(_) => {}
        }
    }

    pub fn status(&self, limits: &Limits, now: Timestamp) -> HostStatus {
        let refusal = self.admit(limits, now).err();
        let state = match &refusal {
            None if self.last_error.is_some() && self.failures > 0 => HostState::Failing,
            None => HostState::Ok,
            Some(Refusal::NotConnected(_)) => HostState::NotConnected,
            Some(Refusal::Paused { .. }) => HostState::Paused,
            Some(Refusal::BackingOff { .. }) => HostState::Failing,
        };
        HostStatus {
            host: self.host.clone(),
            connected: self.connected(),
            token_source: self.credentials.as_ref().ok().map(|c| c.source.to_string()),
            login: self.login.clone(),
            rate_limit: self.rate.as_ref().map(|r| RateLimitView {
                limit: r.limit,
                remaining: r.remaining,
                reset_at: r.reset_at,
            }),
            paused_until: match &refusal {
                Some(Refusal::Paused { until, .. }) => Some(*until),
                _ => None,
            },
            last_error: self.last_error.clone(),
            state,
            message: refusal.map(|r| r.to_string()).or_else(|| {
                (state == HostState::Failing).then(|| {
                    format!(
                        "GitHub ({}) is failing: {}",
                        self.host,
                        self.last_error.clone().unwrap_or_default()
                    )
                })
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::auth::TokenSource;
    use super::*;

    fn limits() -> Limits {
        Limits {
            reserve_percent: 20,
            backoff_first: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }

    fn connected() -> HostBudget {
        HostBudget::new(
            "github.com".into(),
            Ok(Credentials {
                token: "t".into(),
                source: TokenSource::GhToken,
            }),
        )
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_millis(1_800_000_000_000 + ms).unwrap()
    }

    #[test]
    fn server_errors_back_off_from_one_second_doubling_to_five_minutes() {
        let mut host = connected();
        let mut waits = Vec::new();
        for _ in 0..12 {
            host.failed(&Failure::Server("HTTP 502".into()), &limits(), at(0));
            let Err(Refusal::BackingOff { at: next, .. }) = host.admit(&limits(), at(0)) else {
                panic!("backing off")
            };
            waits.push((next.millis() - at(0).millis()) / 1000);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert!(host.admit(&limits(), at(300_000)).is_ok());
        host.succeeded(None);
        host.failed(&Failure::Timeout(30), &limits(), at(0));
        assert!(matches!(
            host.admit(&limits(), at(999)),
            Err(Refusal::BackingOff { .. })
        ));
        assert!(
            host.admit(&limits(), at(1_000)).is_ok(),
            "success reset the doubling"
        );
    }

    #[test]
    fn the_reserve_and_a_rate_limit_pause_until_the_reset() {
        let mut host = connected();
        let rate = |remaining| RateLimit {
            cost: 1,
            remaining,
            reset_at: at(60_000),
            limit: 5000,
        };
        host.succeeded(Some(rate(1000)));
        assert!(
            host.admit(&limits(), at(0)).is_ok(),
            "exactly 20 % left is usable"
        );
        host.succeeded(Some(rate(999)));
        let refused = host.admit(&limits(), at(0)).unwrap_err();
        assert!(matches!(refused, Refusal::Paused { until, .. } if until == at(60_000)));
        assert!(refused.to_string().contains("20%"), "{refused}");
        assert!(host.admit(&limits(), at(60_000)).is_ok(), "after the reset");

        let limited = Failure::RateLimited {
            until: Some(at(5_000)),
            secondary: false,
            detail: "HTTP 429".into(),
        };
        host.succeeded(Some(rate(4000)));
        host.failed(&limited, &limits(), at(0));
        let status = host.status(&limits(), at(0));
        assert_eq!(status.state, HostState::Paused);
        assert_eq!(status.paused_until, Some(at(5_000)));
        assert!(host.admit(&limits(), at(5_000)).is_ok());

        let unstated = Failure::RateLimited {
            until: None,
            secondary: false,
            detail: "RATE_LIMITED".into(),
        };
        host.succeeded(Some(RateLimit {
            reset_at: at(90_000),
            ..rate(4000)
        }));
        host.failed(&unstated, &limits(), at(0));
        let status = host.status(&limits(), at(0));
        assert_eq!(
            status.paused_until,
            Some(at(90_000)),
            "the last reported reset, when later than a minute"
        );
        host.failed(&unstated, &limits(), at(100_000));
        assert_eq!(
            host.status(&limits(), at(100_000)).paused_until,
            Some(at(220_000)),
            "twice a minute for the second in a row, the reset being past"
        );
    }

    #[test]
    fn a_limit_without_an_end_pauses_a_minute_then_doubling() {
        let mut host = connected();
        host.succeeded(Some(RateLimit {
            cost: 1,
            remaining: 4000,
            reset_at: at(3_000_000),
            limit: 5000,
        }));
        let secondary = Failure::RateLimited {
            until: None,
            secondary: true,
            detail: "You have exceeded a secondary rate limit".into(),
        };
        let mut waits = Vec::new();
        for _ in 0..7 {
            host.failed(&secondary, &limits(), at(0));
            let until = host.status(&limits(), at(0)).paused_until.unwrap();
            waits.push(until.millis() - at(0).millis());
        }
        let minutes: Vec<i64> = waits.iter().map(|w| w / 60_000).collect();
        assert_eq!(
            minutes,
            [1, 2, 4, 8, 16, 30, 30],
            "the hourly reset is not its end"
        );
        host.succeeded(None);
        host.failed(&secondary, &limits(), at(0));
        assert_eq!(
            host.status(&limits(), at(0)).paused_until,
            Some(at(60_000)),
            "a success starts over"
        );
    }

    #[test]
    fn a_rejected_token_stops_everything_until_it_is_replaced() {
        let mut host = connected();
        host.failed(&Failure::Unauthorized("HTTP 401".into()), &limits(), at(0));
        let status = host.status(&limits(), at(0));
        assert_eq!(
            (status.state, status.connected),
            (HostState::NotConnected, false)
        );
        assert!(status.message.unwrap().contains("GH_TOKEN"));
        assert!(host.admit(&limits(), at(10_000_000)).is_err());
        let same = || {
            Ok(Credentials {
                token: "t".into(),
                source: TokenSource::GhToken,
            })
        };
        host.set_credentials(same());
        assert!(
            host.admit(&limits(), at(0)).is_err(),
            "the refused value is not sent again"
        );
        host.set_credentials(Err("none".into()));
        assert_eq!(
            host.status(&limits(), at(0)).message.as_deref(),
            Some("none")
        );
        host.set_credentials(same());
        assert!(host.admit(&limits(), at(0)).is_err(), "still that value");
        host.set_credentials(Ok(Credentials {
            token: "new".into(),
            source: TokenSource::GhToken,
        }));
        assert!(host.admit(&limits(), at(0)).is_ok(), "a new value is sent");
        host.failed(&Failure::Unauthorized("HTTP 401".into()), &limits(), at(0));
        host.retry(Ok(Credentials {
            token: "new".into(),
            source: TokenSource::GhToken,
        }));
        assert!(
            host.admit(&limits(), at(0)).is_ok(),
            "Try again sends it once more"
        );
    }
}
