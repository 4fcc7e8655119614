//! Retry policy: exponential backoff with full jitter, `Retry-After`, idempotency rule.

use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// Defaults: 3 attempts in total, 1 s base delay, 60 s cap, at most 5 minutes spent retrying,
/// `Retry-After` honoured up to the cap. Retries 429, 500, 502, 503, 504, timeouts and network
/// errors; non-idempotent writes (POST, PATCH) are retried only on 429 and on connection failures
/// that happened before the request was sent, unless [`RetryPolicy::retry_writes`] is set.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) base_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) max_elapsed: Duration,
    pub(crate) retry_writes: bool,
    pub(crate) statuses: Vec<u16>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(300),
            retry_writes: false,
            statuses: vec![429, 500, 502, 503, 504],
        }
    }
}

impl RetryPolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (minimum 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Base delay of the exponential backoff.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Cap of a single delay (also caps `Retry-After`).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// Upper bound on the total time spent in one call including retries' delays.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Also retry POST/PATCH on 5xx and timeouts (only safe with idempotency keys).
    pub fn retry_writes(mut self, yes: bool) -> Self {
        self.retry_writes = yes;
        self
    }

    /// Status codes that are retried (default 429, 500, 502, 503, 504).
    pub fn retry_statuses(mut self, statuses: impl IntoIterator<Item = u16>) -> Self {
        self.statuses = statuses.into_iter().collect();
        self
    }

    /// Full-jitter backoff for retry number `attempt` (0-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(30)));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(jitter())
    }

    /// The delay before the next attempt given an optional server hint.
    pub(crate) fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_delay),
            None => self.backoff(attempt),
        }
    }
}

/// The retry loop shared by every transport: sends what `build` returns, retrying per `policy`.
///
/// 429 is always retried (honouring `Retry-After`); other retryable statuses and timeouts only
/// when `idempotent` (or [`RetryPolicy::retry_writes`]); connection failures always (the server
/// never saw the request). Returns the last response (whatever its status) or transport error;
/// the outer error is a failure of `build`.
pub(crate) async fn send_with_policy(
    policy: &RetryPolicy,
    idempotent: bool,
    mut build: impl FnMut() -> crate::error::Result<reqwest::RequestBuilder>,
) -> crate::error::Result<Result<reqwest::Response, reqwest::Error>> {
    let idempotent = idempotent || policy.retry_writes;
    let start = std::time::Instant::now();
    let within_budget = |delay: Duration| {
        start
            .elapsed()
            .checked_add(delay)
            .is_some_and(|t| t <= policy.max_elapsed)
    };
    let mut attempt: u32 = 0;
    loop {
        let rb = build()?;
        let last = attempt + 1 >= policy.max_attempts;
        match rb.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retryable = policy.statuses.contains(&status) && (status == 429 || idempotent);
                if retryable && !last {
                    let ra = resp
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(parse_retry_after);
                    let delay = policy.delay(attempt, ra);
                    if within_budget(delay) {
                        tracing::debug!(
                            status,
                            attempt,
                            delay_ms = delay.as_millis() as u64,
                            "retrying"
                        );
                        drop(resp);
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                }
                return Ok(Ok(resp));
            }
            Err(e) => {
                let safe = idempotent || e.is_connect();
                let retryable = e.is_timeout() || e.is_connect() || e.is_request();
                if retryable && safe && !last {
                    let delay = policy.backoff(attempt);
                    if within_budget(delay) {
                        tracing::debug!(attempt, "retrying after transport error");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                        continue;
                    }
                }
                return Ok(Err(e));
            }
        }
    }
}

/// A pseudo-random number in [0, 1) (xorshift seeded from the clock and a counter; jitter only).
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Parse `Retry-After`: delta seconds (integer or decimal) or an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1.0e9)));
        }
        return None;
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        let future = SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&httpdate::fmt_http_date(future)).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_is_bounded() {
        let p = RetryPolicy::default()
            .base_delay(Duration::from_millis(10))
            .max_delay(Duration::from_millis(50));
        for a in 0..40 {
            assert!(p.backoff(a) <= Duration::from_millis(50));
        }
    }
}
