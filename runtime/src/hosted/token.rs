//! Application-token cache shared by every hosted client of the process.
//!
//! One slot per credential set (base URL, client id, organization, secret fingerprint). A token is
//! refreshed a margin before it expires (`expires_in` when the server sends it, else 15 minutes),
//! fetched by one task at a time (single flight), and invalidated on a 401 so the next caller
//! fetches a fresh one.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::config::ResolvedAuth;
use crate::error::Result;

/// Lifetime assumed when the token response has no `expires_in`.
pub(crate) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);
/// Refresh this long before expiry at most (less for short-lived tokens).
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub(crate) struct Token {
    pub value: SecretString,
    pub generation: u64,
    refresh_at: Instant,
}

/// A cached token for one credential set.
pub(crate) struct TokenSlot {
    current: RwLock<Option<Token>>,
    fetch_lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

impl std::fmt::Debug for TokenSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSlot")
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[derive(PartialEq, Eq, Hash)]
struct Key {
    base_url: String,
    client_id: String,
    organization_id: Option<String>,
    secret_fingerprint: u64,
}

type Registry = Mutex<HashMap<Key, Arc<TokenSlot>>>;

fn registry() -> &'static (Registry, std::collections::hash_map::RandomState) {
    static R: OnceLock<(Registry, std::collections::hash_map::RandomState)> = OnceLock::new();
    R.get_or_init(|| (Mutex::new(HashMap::new()), Default::default()))
}

/// The process-wide slot for these credentials.
pub(crate) fn slot_for(auth: &ResolvedAuth) -> Arc<TokenSlot> {
    let (reg, hasher_state) = registry();
    // Keyed SipHash of the secret: different secrets never share a token, and the key holds no
    // plain secret.
    let key = Key {
        base_url: auth.base_url.clone(),
        client_id: auth.client_id.clone(),
        organization_id: auth.organization_id.clone(),
        secret_fingerprint: hasher_state.hash_one(auth.client_secret.expose_secret()),
    };
    let mut map = match reg.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    map.entry(key)
        .or_insert_with(|| {
            Arc::new(TokenSlot {
                current: RwLock::new(None),
                fetch_lock: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                fetches: AtomicU64::new(0),
            })
        })
        .clone()
}

fn margin(ttl: Duration) -> Duration {
    (ttl / 10).min(MAX_REFRESH_MARGIN)
}

impl TokenSlot {
    fn fresh(&self) -> Option<Token> {
        let cur = match self.current.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        cur.as_ref()
            .filter(|t| Instant::now() < t.refresh_at)
            .cloned()
    }

    /// A valid token, fetching one (single flight) with `fetch` when needed.
    /// `fetch` returns the token and its lifetime if the server gave one.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Token>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(SecretString, Option<Duration>)>>,
    {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let _guard = self.fetch_lock.lock().await;
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let started = Instant::now();
        let (value, ttl) = fetch().await?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let ttl = ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let token = Token {
            value,
            generation,
            // Measured from before the request: the server's clock started no later.
            refresh_at: started + ttl.saturating_sub(margin(ttl)),
        };
        let mut cur = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *cur = Some(token.clone());
        Ok(token)
    }

    /// Drop the token of `generation` (after a 401); a newer token is kept.
    pub(crate) fn invalidate(&self, generation: u64) {
        let mut cur = match self.current.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if cur.as_ref().is_some_and(|t| t.generation == generation) {
            *cur = None;
        }
    }

    /// Number of successful token fetches of this slot.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(secret: &str) -> ResolvedAuth {
        ResolvedAuth {
            client_id: "cid-token-tests".into(),
            client_secret: SecretString::from(secret.to_string()),
            organization_id: None,
            workspace_name: "default".into(),
            connector_id: None,
            base_url: "http://127.0.0.1:1".into(),
        }
    }

    #[test]
    fn slots_are_shared_per_credential_set() {
        let a = slot_for(&auth("one"));
        let b = slot_for(&auth("one"));
        let c = slot_for(&auth("two"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn margins() {
        assert_eq!(margin(Duration::from_secs(900)), Duration::from_secs(60));
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(200));
    }

    #[tokio::test]
    async fn single_flight_and_invalidate() {
        let slot = slot_for(&auth("single-flight"));
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let slot = slot.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                slot.get(|| async move {
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
        slot.invalidate(1);
        let t = slot
            .get(|| async { Ok((SecretString::from("t2".to_string()), Some(Duration::ZERO))) })
            .await
            .unwrap();
        assert_eq!(t.generation, 2);
        // Zero lifetime: already due for refresh.
        assert!(slot.fresh().is_none());
    }
}
