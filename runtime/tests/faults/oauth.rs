//! OAuth2 under faults: a 401 refreshes once and replays; a rejected refresh is an auth error
//! without a refresh loop.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use airbyte_agent_runtime::{Client, Credentials, Error};

use crate::server::{Action, Seen, response, serve};
use crate::{OAUTH_CONN, bounded, fast_retries, list, ok_page};

fn oauth_creds() -> Credentials {
    Credentials::new("oauth")
        .set("client_id", "cid".to_string())
        .set("client_secret", "oauth-client-secret-XYZ".to_string())
        .set("refresh_token", "refresh-token-XYZ".to_string())
        .set("access_token", "stale-access-token-XYZ".to_string())
}

#[tokio::test]
async fn unauthorized_refreshes_then_succeeds() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path == "/token" {
                return Action::Reply(response(
                    "200 OK",
                    &[],
                    br#"{"access_token":"fresh-access-token-XYZ","token_type":"Bearer","expires_in":3600}"#,
                ));
            }
            if req.header("authorization") == Some("Bearer fresh-access-token-XYZ") {
                Action::Reply(ok_page())
            } else {
                Action::Reply(response("401 Unauthorized", &[], br#"{"message":"expired"}"#))
            }
        })
        .await;
        let refreshed = Arc::new(AtomicUsize::new(0));
        let r2 = refreshed.clone();
        let c = Client::builder(&OAUTH_CONN, oauth_creds())
            .base_url(&s.url)
            .refresh_url(format!("{}/token", s.url))
            .retry_policy(fast_retries())
            .timeout(Duration::from_millis(400))
            .on_token_refresh(move |_| {
                r2.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .expect("client");
        let page = list(&c).await.expect("refresh then replay");
        assert_eq!(page.data.len(), 2);
        assert_eq!(refreshed.load(Ordering::SeqCst), 1);
        let token_reqs: Vec<Seen> = s.seen().into_iter().filter(|r| r.path == "/token").collect();
        assert_eq!(token_reqs.len(), 1);
        let body = String::from_utf8_lossy(&token_reqs[0].body).to_string();
        assert!(body.contains("grant_type=refresh_token"), "{body}");
        // Later calls use the fresh token directly.
        list(&c).await.expect("second call");
        assert_eq!(s.seen().iter().filter(|r| r.path == "/token").count(), 1);
    })
    .await
}

#[tokio::test]
async fn rejected_refresh_is_an_auth_error() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path == "/token" {
                Action::Reply(response(
                    "400 Bad Request",
                    &[],
                    br#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
                ))
            } else {
                Action::Reply(response(
                    "401 Unauthorized",
                    &[],
                    br#"{"message":"expired"}"#,
                ))
            }
        })
        .await;
        let c = Client::builder(&OAUTH_CONN, oauth_creds())
            .base_url(&s.url)
            .refresh_url(format!("{}/token", s.url))
            .retry_policy(fast_retries())
            .timeout(Duration::from_millis(400))
            .build()
            .expect("client");
        let err = list(&c).await.expect_err("refresh rejected");
        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        let gets = s.seen().iter().filter(|r| r.path == "/items").count();
        assert!(gets <= 2, "no refresh loop: {gets} GETs");
        assert!(s.seen().iter().filter(|r| r.path == "/token").count() <= 2);
    })
    .await
}
