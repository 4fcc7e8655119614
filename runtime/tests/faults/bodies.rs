//! Response bodies: truncated or malformed JSON, wrong field types (decode errors with the
//! path), and a fifty-megabyte page.

use std::sync::Arc;
use std::time::Duration;

use airbyte_agent_runtime::{Client, Error};
use serde_json::json;

use crate::common::bearer_creds;
use crate::server::{Action, response, serve};
use crate::{CONN, bounded, client_for, list};

#[tokio::test]
async fn truncated_and_malformed_json_are_response_errors() {
    bounded(async {
        for body in [
            &br#"{"data":[{"id":"a"},{"id":"#[..],
            br#"{"data":[{"id": nope}]}"#,
            b"\xff\xfe not json",
            br#"{"data":[{"id":"a"}]} trailing"#,
        ] {
            let b = body.to_vec();
            let s = serve("127.0.0.1", move |_, _| {
                Action::Reply(response("200 OK", &[], &b))
            })
            .await;
            let c = client_for(&CONN, bearer_creds(), &s.url);
            let err = list(&c).await.expect_err("bad body");
            assert!(
                matches!(err, Error::Response { status: 200, .. }),
                "{err:?}"
            );
            let err = c
                .execute("items", "list", json!({}))
                .await
                .expect_err("bad body");
            assert!(
                matches!(err, Error::Response { status: 200, .. }),
                "{err:?}"
            );
        }
    })
    .await
}

#[tokio::test]
async fn wrong_field_types_are_decode_errors_with_the_path() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "200 OK",
                &[],
                br#"{"data":[{"id":"a","created":1},{"id":"b","created":"yesterday"}],"has_more":false}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("created is a string");
        match &err {
            Error::Decode { path, entity, action, .. } => {
                assert_eq!(path, "data[1].created");
                assert_eq!((entity.as_str(), action.as_str()), ("items", "list"));
            }
            other => panic!("{other:?}"),
        }
        // The untyped entry point still returns the data.
        let r = c.execute("items", "list", json!({})).await.expect("untyped");
        assert_eq!(r.data[1]["created"], json!("yesterday"));
    })
    .await
}

#[tokio::test]
async fn fifty_megabyte_body() {
    bounded(async {
        let mut body = String::with_capacity(51 << 20);
        body.push_str(r#"{"data":["#);
        let mut i = 0;
        while body.len() < 50 << 20 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"id":"item-{i:08}","created":{i},"padding":"{}"}}"#,
                "x".repeat(200)
            ));
            i += 1;
        }
        body.push_str(r#"],"has_more":false}"#);
        let resp = Arc::new(response("200 OK", &[], body.as_bytes()));
        let s = serve("127.0.0.1", move |_, _| Action::Reply(resp.to_vec())).await;
        let c = Client::builder(&CONN, bearer_creds())
            .base_url(&s.url)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let page = list(&c).await.expect("large page");
        assert_eq!(page.data.len(), i);
        assert_eq!(page.data[i - 1].id, format!("item-{:08}", i - 1));
    })
    .await
}
