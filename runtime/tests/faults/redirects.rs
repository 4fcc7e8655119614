//! Redirects: credentials never follow one to another host; a same-host redirect keeps working.

use airbyte_agent_runtime::Credentials;

use crate::common::bearer_creds;
use crate::server::{Action, response, serve};
use crate::{API_KEY_CONN, CONN, bounded, client_for, list, ok_page};

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    bounded(async {
        // `localhost` and `127.0.0.1` are different hosts (different origins).
        let other = serve("localhost", |_, _| Action::Reply(ok_page())).await;
        let target = format!("{}/stolen", other.url);
        let s = serve("127.0.0.1", move |_, _| {
            Action::Reply(response("302 Found", &[("location", target.clone())], b""))
        })
        .await;
        for (conn, creds, header, secret) in [
            (
                &CONN,
                bearer_creds(),
                "authorization",
                "sk_test_secret_value",
            ),
            (
                &API_KEY_CONN,
                Credentials::new("apikey").set("key", "api-key-secret-XYZ".to_string()),
                "x-api-key",
                "api-key-secret-XYZ",
            ),
        ] {
            let c = client_for(conn, creds, &s.url);
            let _ = list(&c).await;
            let first = s.seen().last().cloned().expect("the API got the request");
            assert!(first.header(header).is_some_and(|v| v.contains(secret)));
            for r in other.seen() {
                for (k, v) in &r.headers {
                    assert!(!v.contains(secret), "{k} leaked to the other host");
                }
                assert!(r.header(header).is_none(), "{header} followed the redirect");
            }
        }
    })
    .await
}

#[tokio::test]
async fn same_host_redirect_keeps_working() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path.starts_with("/items") {
                Action::Reply(response(
                    "301 Moved Permanently",
                    &[("location", "/v2/items".into())],
                    b"",
                ))
            } else if req.header("authorization") == Some("Bearer sk_test_secret_value") {
                Action::Reply(ok_page())
            } else {
                Action::Reply(response(
                    "401 Unauthorized",
                    &[],
                    br#"{"message":"no auth"}"#,
                ))
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let page = list(&c)
            .await
            .expect("same-origin redirect followed with auth");
        assert_eq!(page.data.len(), 2);
    })
    .await
}
