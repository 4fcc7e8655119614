//! Retry policy: exponential backoff with full jitter, `Retry-After`, idempotency rule. The
//! loop that applies it lives in the runtime's transport.

use std::time::{Duration, SystemTime};

/// How failed requests are retried.
///
/// Defaults: 3 attempts in total, 1 s base delay, 60 s cap, at most 5 minutes spent retrying,
/// `Retry-After` honoured up to the cap. Retries 429, 500, 502, 503, 504, timeouts and network
/// errors; non-idempotent writes (POST, PATCH) are retried only on 429 and on connection failures
/// that happened before the request was sent, unless [`RetryPolicy::retry_writes`] is set.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    retry_writes: bool,
    statuses: Vec<u16>,
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

    /// After an attempt `attempt` (0-based) answered with `status`, begun `elapsed` after the
    /// call started: the delay before the next attempt, or `None` to return this response.
    ///
    /// 429 is always retried (honouring `retry_after`, the server's `Retry-After`); the other
    /// retryable statuses only when the request is `idempotent` (or [`RetryPolicy::retry_writes`]).
    pub fn after_status(
        &self,
        attempt: u32,
        elapsed: Duration,
        status: u16,
        idempotent: bool,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let idempotent = idempotent || self.retry_writes;
        let retryable = self.statuses.contains(&status) && (status == 429 || idempotent);
        if !retryable {
            return None;
        }
        self.next_delay(attempt, elapsed, self.delay(attempt, retry_after))
    }

    /// After an attempt failed without a response: the delay before the next attempt, or `None`
    /// to return the error. `connect_failed`: the server never saw the request (always safe to
    /// repeat); `transient`: a timeout, connection or request-sending failure.
    pub fn after_transport_error(
        &self,
        attempt: u32,
        elapsed: Duration,
        connect_failed: bool,
        transient: bool,
        idempotent: bool,
    ) -> Option<Duration> {
        let safe = idempotent || self.retry_writes || connect_failed;
        if !(transient && safe) {
            return None;
        }
        self.next_delay(attempt, elapsed, self.backoff(attempt))
    }

    /// `delay` when one more attempt is allowed and fits the time budget.
    fn next_delay(&self, attempt: u32, elapsed: Duration, delay: Duration) -> Option<Duration> {
        let last = attempt + 1 >= self.max_attempts;
        let within_budget = elapsed
            .checked_add(delay)
            .is_some_and(|t| t <= self.max_elapsed);
        (!last && within_budget).then_some(delay)
    }

    /// Full-jitter backoff for retry number `attempt` (0-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(30)));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(jitter())
    }

    /// The delay before the next attempt given an optional server hint.
    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_delay),
            None => self.backoff(attempt),
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

#[cfg(test)]
mod tests {
    use super::*;

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
