//! The one single-flight token cache: OAuth2 access tokens of direct mode and Airbyte
//! application tokens of hosted mode and the platform API.
//!
//! A token is fetched by one task at a time (the others wait and take its result), numbered by a
//! generation so that a 401 invalidates only the token that met it, and renewed ahead of its
//! expiry by the cache's [`Renewal`] rule. Locks recover from poisoning: the cached value is
//! replaced whole, so a panic elsewhere never leaves it half-written.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::Value;

use crate::error::Result;

/// When a token with a known lifetime is renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Renewal {
    /// A tenth of its lifetime early, at most a minute; a token without a stated lifetime lives
    /// this long (Airbyte application tokens: 15 minutes).
    TenthEarly {
        /// Assumed lifetime when the server states none.
        default_ttl: Duration,
    },
    /// A minute early, or at half its life for tokens under two minutes; a token without a
    /// stated lifetime (or an absurd one) is kept until a 401 (OAuth2 access tokens).
    MinuteEarly,
}

impl Renewal {
    /// When a token fetched at `started` with lifetime `ttl` is due for renewal.
    fn due_at(self, started: Instant, ttl: Option<Duration>) -> Option<Instant> {
        match self {
            Renewal::TenthEarly { default_ttl } => {
                let ttl = ttl.unwrap_or(default_ttl);
                let margin = (ttl / 10).min(Duration::from_secs(60));
                Some(started + ttl.saturating_sub(margin))
            }
            Renewal::MinuteEarly => {
                let secs = ttl?.as_secs();
                if secs == 0 || secs > 10 * 365 * 24 * 3600 {
                    return None;
                }
                let margin = (secs / 2).min(60);
                Some(started + Duration::from_secs(secs - margin))
            }
        }
    }
}

/// A cached token and its generation.
#[derive(Clone)]
pub(crate) struct Token {
    /// The token.
    pub value: SecretString,
    /// Increases with every fetch; a 401 invalidates only the generation that met it.
    pub generation: u64,
    due_at: Option<Instant>,
}

impl Token {
    fn is_due(&self) -> bool {
        self.due_at.is_some_and(|t| Instant::now() >= t)
    }
}

/// One token slot.
pub(crate) struct TokenCache {
    renewal: Renewal,
    current: RwLock<Option<Token>>,
    fetch_lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("renewal", &self.renewal)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

impl TokenCache {
    pub(crate) fn new(renewal: Renewal) -> Self {
        TokenCache {
            renewal,
            current: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        }
    }

    /// The current token, due or not.
    pub(crate) fn current(&self) -> Option<Token> {
        read(&self.current).clone()
    }

    /// The current token unless it is due for renewal.
    pub(crate) fn fresh(&self) -> Option<Token> {
        read(&self.current)
            .as_ref()
            .filter(|t| !t.is_due())
            .cloned()
    }

    /// Whether the current token is due for renewal (false without a token).
    pub(crate) fn is_due(&self) -> bool {
        read(&self.current).as_ref().is_some_and(Token::is_due)
    }

    /// The generation of the newest token (0 before the first).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Number of successful fetches.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A fresh token, fetching one with `fetch` (single flight) when there is none.
    /// `fetch` returns the token and its lifetime when the server states one.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<Duration>)>>,
    {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let _guard = self.fetch_lock.lock().await;
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        self.fetch_locked(fetch).await
    }

    /// Replace the token of generation `seen` with a fetched one, unless another task already
    /// replaced it meanwhile (then its result is taken). Single flight.
    pub(crate) async fn renew<F, Fut>(&self, seen: u64, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<Duration>)>>,
    {
        let _guard = self.fetch_lock.lock().await;
        if self.generation() != seen
            && let Some(t) = self.current()
        {
            return Ok(t);
        }
        self.fetch_locked(fetch).await
    }

    async fn fetch_locked<F, Fut>(&self, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<Duration>)>>,
    {
        // Measured from before the request: the server's clock started no later.
        let started = Instant::now();
        let (value, ttl) = fetch().await?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = Token {
            value,
            generation,
            due_at: self.renewal.due_at(started, ttl),
        };
        *write(&self.current) = Some(token.clone());
        Ok(token)
    }

    /// Drop the token of `generation` (after a 401); a newer token is kept.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut cur = write(&self.current);
        if cur.as_ref().is_some_and(|t| t.generation == generation) {
            *cur = None;
        }
    }

    /// Keep the current token until a 401, whatever its stated lifetime (nothing can renew it).
    pub(crate) fn keep_until_rejected(&self) {
        if let Some(t) = write(&self.current).as_mut() {
            t.due_at = None;
        }
    }
}

/// The lifetime a token response states in `expires_in`: seconds as a number or, as some
/// providers send it, a numeric string.
pub(crate) fn token_lifetime(body: &Value) -> Option<Duration> {
    let secs = match body.get("expires_in")? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1.0e7)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn renewal_rules() {
        let t0 = Instant::now();
        let tenth = Renewal::TenthEarly {
            default_ttl: Duration::from_secs(900),
        };
        assert_eq!(tenth.due_at(t0, None), Some(t0 + Duration::from_secs(840)));
        assert_eq!(
            tenth.due_at(t0, Some(Duration::from_secs(2))),
            Some(t0 + Duration::from_millis(1800))
        );
        let m = Renewal::MinuteEarly;
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(
            m.due_at(t0, secs(3600)),
            Some(t0 + Duration::from_secs(3540))
        );
        assert_eq!(m.due_at(t0, secs(120)), Some(t0 + Duration::from_secs(60)));
        assert_eq!(m.due_at(t0, secs(30)), Some(t0 + Duration::from_secs(15)));
        assert_eq!(m.due_at(t0, secs(1)), Some(t0 + Duration::from_secs(1)));
        assert_eq!(m.due_at(t0, secs(0)), None);
        assert_eq!(m.due_at(t0, None), None);
        assert_eq!(m.due_at(t0, secs(u64::MAX / 4)), None);
    }

    #[test]
    fn lifetimes_from_numbers_and_numeric_strings() {
        let l = |v: Value| token_lifetime(&serde_json::json!({ "expires_in": v }));
        assert_eq!(l(3600.into()), Some(Duration::from_secs(3600)));
        assert_eq!(l(" 60 ".into()), Some(Duration::from_secs(60)));
        assert_eq!(l("soon".into()), None);
        assert_eq!(l((-1).into()), None);
    }

    #[tokio::test]
    async fn single_flight_renew_and_invalidate() {
        let cache = Arc::new(TokenCache::new(Renewal::TenthEarly {
            default_ttl: Duration::from_secs(900),
        }));
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get(|| async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok((SecretString::from("t1".to_string()), None))
                    })
                    .await
                    .map(|t| t.generation)
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Two tasks that met a 401 with generation 1: one fetch between them.
        let (a, b) = tokio::join!(
            cache.renew(1, || async {
                Ok((SecretString::from("t2".to_string()), None))
            }),
            cache.renew(1, || async {
                Ok((SecretString::from("t3".to_string()), None))
            })
        );
        assert_eq!((a.unwrap().generation, b.unwrap().generation), (2, 2));
        assert_eq!(cache.fetch_count(), 2);
        cache.invalidate(1);
        assert!(cache.current().is_some(), "a newer token is kept");
        cache.invalidate(2);
        let t = cache
            .get(|| async { Ok((SecretString::from("t4".to_string()), Some(Duration::ZERO))) })
            .await
            .unwrap();
        assert_eq!(t.generation, 3);
        // Zero lifetime: already due for renewal.
        assert!(cache.fresh().is_none() && cache.is_due());
    }
}
