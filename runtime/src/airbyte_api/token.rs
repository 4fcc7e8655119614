//! Application tokens shared by every hosted client and platform client of the process: one
//! [`TokenCache`] per credential set (base URL, client id, organization, secret fingerprint),
//! renewed a tenth of its lifetime early (`expires_in` when the server sends it, else 15
//! minutes) and invalidated on a 401.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use secrecy::ExposeSecret;

use super::config::ResolvedAuth;
use crate::token_cache::{Renewal, TokenCache};

/// Lifetime assumed when the token response has no `expires_in`.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(PartialEq, Eq, Hash)]
struct Key {
    base_url: String,
    client_id: String,
    organization_id: Option<String>,
    secret_fingerprint: u64,
}

type Registry = Mutex<HashMap<Key, Arc<TokenCache>>>;

fn registry() -> &'static (Registry, std::collections::hash_map::RandomState) {
    static R: OnceLock<(Registry, std::collections::hash_map::RandomState)> = OnceLock::new();
    R.get_or_init(|| (Mutex::new(HashMap::new()), Default::default()))
}

/// The process-wide token cache for these credentials.
pub(crate) fn cache_for(auth: &ResolvedAuth) -> Arc<TokenCache> {
    let (reg, hasher_state) = registry();
    // Keyed SipHash of the secret: different secrets never share a token, and the key holds no
    // plain secret.
    let key = Key {
        base_url: auth.base_url.clone(),
        client_id: auth.client_id.clone(),
        organization_id: auth.organization_id.clone(),
        secret_fingerprint: hasher_state.hash_one(auth.client_secret.expose_secret()),
    };
    let mut map = reg.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key)
        .or_insert_with(|| {
            Arc::new(TokenCache::new(Renewal::TenthEarly {
                default_ttl: DEFAULT_TOKEN_TTL,
            }))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

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
    fn caches_are_shared_per_credential_set() {
        let a = cache_for(&auth("one"));
        let b = cache_for(&auth("one"));
        let c = cache_for(&auth("two"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }
}
