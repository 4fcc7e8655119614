//! Health checks of the four starter connectors (stripe, github, gong, pylon) in direct mode
//! against provider doubles and in hosted mode through the Airbyte API double: the selected
//! operation, `limit=1`, typed statuses (ok, auth failure, unreachable, other), per-entity checks.

use std::sync::atomic::{AtomicUsize, Ordering};

use airbyte_agent_runtime::check::check_operation;
use airbyte_agent_runtime::hosted::AirbyteAuthConfig;
use airbyte_agent_runtime::{
    CheckStatus, Client, ConnectorDescriptor, Credentials, EntityDescriptor,
};
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

static NEXT_CLIENT: AtomicUsize = AtomicUsize::new(0);
const ORG: &str = "org-check";

struct Case {
    descriptor: &'static ConnectorDescriptor,
    scheme: &'static str,
    creds: &'static [(&'static str, &'static str)],
    config: &'static [(&'static str, &'static str)],
    /// Extra check parameters (GitHub's check operation requires `username`).
    extra: &'static [(&'static str, &'static str)],
    method: &'static str,
    path: &'static str,
    body: fn() -> Value,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            descriptor: airbyte_agent_stripe::StripeConnector::descriptor(),
            scheme: "bearerAuth",
            creds: &[("api_key", "sk_test_check")],
            config: &[],
            extra: &[],
            method: "GET",
            path: "/v1/customers",
            body: || json!({"object": "list", "has_more": false, "data": [{"id": "cus_1", "object": "customer"}]}),
        },
        Case {
            descriptor: airbyte_agent_github::GithubConnector::descriptor(),
            scheme: "githubPAT",
            creds: &[("token", "ghp_check")],
            config: &[("repositories", "octo/hello")],
            extra: &[("username", "octo")],
            method: "POST",
            path: "/graphql",
            body: || {
                json!({"data": {"user": {"repositories": {
                    "nodes": [{"name": "hello", "id": "R_1"}],
                    "pageInfo": {"hasNextPage": false, "endCursor": null}
                }}}})
            },
        },
        Case {
            descriptor: airbyte_agent_gong::GongConnector::descriptor(),
            scheme: "basicAuth",
            creds: &[("access_key", "ak"), ("access_key_secret", "aks")],
            config: &[],
            extra: &[],
            method: "GET",
            path: "/v2/users",
            body: || json!({"requestId": "r", "records": {"totalRecords": 1}, "users": [{"id": "u1"}]}),
        },
        Case {
            descriptor: airbyte_agent_pylon::PylonConnector::descriptor(),
            scheme: "bearerAuth",
            creds: &[("api_token", "pylon_check")],
            config: &[],
            extra: &[],
            method: "GET",
            path: "/accounts",
            body: || json!({"data": [{"id": "acc_1", "name": "A"}], "pagination": {"has_next_page": false}}),
        },
    ]
}

async fn provider(case: &Case, status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(case.method))
        .and(path(case.path))
        .respond_with(if status == 200 {
            ResponseTemplate::new(200).set_body_json((case.body)())
        } else {
            ResponseTemplate::new(status).set_body_json(json!({"message": "invalid credentials"}))
        })
        .mount(&server)
        .await;
    server
}

fn credentials(case: &Case) -> Credentials {
    let mut c = Credentials::new(case.scheme);
    for (k, v) in case.creds {
        c = c.set(k, v.to_string());
    }
    c
}

fn extra(case: &Case) -> serde_json::Map<String, Value> {
    case.extra
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

fn direct(case: &Case, base: &str) -> Client {
    let mut b = Client::builder(case.descriptor, credentials(case))
        .base_url(base)
        .retry_policy(airbyte_agent_runtime::RetryPolicy::new().max_attempts(1));
    for (k, v) in case.config {
        b = b.server_variable(*k, *v);
    }
    b.build().expect("client")
}

#[test]
fn check_operations_follow_the_reference_selection() {
    for case in cases() {
        let op = check_operation(case.descriptor).expect("every starter has a check operation");
        assert_eq!(op.path, case.path, "{}", case.descriptor.name);
        assert_eq!(op.action, "list", "{}", case.descriptor.name);
    }
}

#[tokio::test]
async fn direct_checks_ok_auth_failed_and_unreachable() {
    for case in cases() {
        let name = case.descriptor.name;
        let server = provider(&case, 200).await;
        let report = direct(&case, &server.uri()).check_with(extra(&case)).await;
        assert!(report.is_ok(), "{name}: {report:?}");
        let op = check_operation(case.descriptor).unwrap();
        assert_eq!(report.entity.as_deref(), Some(op.entity), "{name}");
        assert_eq!(report.action.as_deref(), Some("list"), "{name}");
        assert_eq!(report.records, Some(1), "{name}");
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(reqs.len(), 1, "{name}: exactly one probe");
        if op.params.iter().any(|p| p.name == "limit") {
            assert!(
                reqs[0].url.query().unwrap_or("").contains("limit=1"),
                "{name}: {}",
                reqs[0].url
            );
        }

        let bad = provider(&case, 401).await;
        let report = direct(&case, &bad.uri()).check_with(extra(&case)).await;
        assert!(
            matches!(report.status, CheckStatus::AuthFailed(_)),
            "{name}: {report:?}"
        );
        assert_eq!(report.http_status, Some(401));
        assert!(!report.status.to_string().contains(case.creds[0].1));

        let broken = provider(&case, 500).await;
        let report = direct(&case, &broken.uri()).check_with(extra(&case)).await;
        assert!(
            matches!(report.status, CheckStatus::Other(_)),
            "{name}: {report:?}"
        );

        // A closed port: bind, note the port, drop the listener.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let report = direct(&case, &format!("http://127.0.0.1:{port}"))
            .check_with(extra(&case))
            .await;
        assert!(
            matches!(report.status, CheckStatus::Unreachable(_)),
            "{name}: {report:?}"
        );
    }
}

#[tokio::test]
async fn hosted_checks_run_the_same_operation_through_execute() {
    for case in cases() {
        let name = case.descriptor.name;
        let server = provider(&case, 200).await;
        let client_id = format!("check-{}", NEXT_CLIENT.fetch_add(1, Ordering::SeqCst));
        let double = AirbyteDouble::builder()
            .account(Account::new(client_id.clone(), "check-secret", [ORG]))
            .workspaces(ORG, ["default"])
            .definition(Definition::new(case.descriptor, server.uri()))
            .start()
            .await
            .unwrap();
        let mut creds = serde_json::Map::new();
        for (k, v) in case.creds {
            creds.insert(k.to_string(), json!(v));
        }
        double.seed_connector(ORG, "default", case.descriptor, Value::Object(creds));
        let cfg = |secret: &str| {
            AirbyteAuthConfig::new(client_id.clone(), secret.to_string())
                .organization_id(ORG)
                .base_url(double.base_url())
        };
        let client = Client::hosted(case.descriptor, cfg("check-secret"))
            .build()
            .unwrap();
        let report = client.check_with(extra(&case)).await;
        assert!(report.is_ok(), "{name}: {report:?}");
        assert_eq!(report.action.as_deref(), Some("list"));
        assert_eq!(double.execute_requests(), 1, "{name}");
        let exec = double
            .requests()
            .into_iter()
            .find(|r| r.path.ends_with("/execute"))
            .unwrap();
        let body: Value = serde_json::from_slice(&exec.body).unwrap();
        let op = check_operation(case.descriptor).unwrap();
        assert_eq!(body["entity"], op.entity, "{name}");
        assert_eq!(body["action"], "list");

        // Wrong application secret: the token fetch fails → auth failure.
        let bad = Client::hosted(case.descriptor, cfg("wrong-secret"))
            .build()
            .unwrap();
        let report = bad.check_with(extra(&case)).await;
        assert!(
            matches!(report.status, CheckStatus::AuthFailed(_)),
            "{name}: {report:?}"
        );
        assert!(!report.status.to_string().contains("wrong-secret"));
    }
}

#[tokio::test]
async fn entity_checks() {
    let cases = cases();
    let stripe = &cases[0];
    let server = provider(stripe, 200).await;
    let client = direct(stripe, &server.uri());
    let r = client.check_entity("customers").await;
    assert!(r.is_ok(), "{r:?}");
    let r = client.check_entity("no_such_entity").await;
    assert!(
        matches!(r.status, CheckStatus::Other(ref m) if m.contains("customers")),
        "{r:?}"
    );
    // Entities whose list is not mocked fail (404), they do not panic or hang.
    let all = client.check_entities().await;
    assert_eq!(all.len(), stripe.descriptor.entities.len());
    assert!(all.iter().any(|r| r.is_ok()));

    // GitHub's check operation needs `username`: without it the first operation that needs
    // no input is checked instead (the signed-in user's repositories).
    let gh = &cases[1];
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"viewer": {
                "repositories": {"nodes": [{"name": "hello"}], "pageInfo": {"hasNextPage": false}}
            }}})),
        )
        .mount(&server)
        .await;
    let r = direct(gh, &server.uri()).check().await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(
        (r.entity.as_deref(), r.action.as_deref(), r.records),
        (Some("viewer_repositories"), Some("list"), Some(1))
    );
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        sent.len(),
        1,
        "the operation needing a username sent nothing"
    );
    assert!(String::from_utf8_lossy(&sent[0].body).contains("viewer"));

    // With no such operation the report names the missing parameter and its scoping config
    // value, and nothing is sent.
    let d = gh.descriptor;
    let repos = check_operation(d).unwrap();
    let only: &'static [EntityDescriptor] = Box::leak(Box::new([EntityDescriptor {
        name: repos.entity,
        description: "",
        operations: std::slice::from_ref(repos),
    }]));
    let narrow: &'static ConnectorDescriptor = Box::leak(Box::new(ConnectorDescriptor {
        name: d.name,
        title: d.title,
        version: d.version,
        definition_id: d.definition_id,
        base_url: d.base_url,
        server_variables: d.server_variables,
        auth_schemes: d.auth_schemes,
        entities: only,
        scoping: d.scoping,
        response_error_check: None,
        record_schemas: "",
    }));
    let server = provider(gh, 200).await;
    let client = Client::builder(narrow, credentials(gh))
        .base_url(server.uri())
        .build()
        .unwrap();
    let r = client.check().await;
    assert!(
        matches!(r.status, CheckStatus::Skipped(ref m) if m.contains("username") && m.contains("repositories")),
        "{r:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());

    // Pylon: `messages` lives under `/issues/{id}`; the id comes from the first issue.
    let py = &cases[3];
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/issues"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "iss_7"}, {"id": "iss_8"}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/issues/iss_7/messages"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "m1"}, {"id": "m2"}]})),
        )
        .mount(&server)
        .await;
    let r = direct(py, &server.uri()).check_entity("messages").await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.records, Some(2));
    // No parent records: the parameter cannot be resolved and the entity is skipped.
    let empty = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&empty)
        .await;
    let r = direct(py, &empty.uri()).check_entity("messages").await;
    assert!(
        matches!(r.status, CheckStatus::Skipped(ref m) if m.contains("`id`")),
        "{r:?}"
    );
}

/// A connector without any operation suitable for a check.
static NOTHING_TO_CHECK: ConnectorDescriptor = ConnectorDescriptor {
    name: "nothing",
    title: "Nothing",
    version: "0.0.0",
    definition_id: "00000000-0000-4000-8000-00000000c0de",
    base_url: "http://127.0.0.1:9",
    server_variables: &[],
    auth_schemes: &[],
    entities: &[],
    scoping: &[],
    response_error_check: None,
    record_schemas: "",
};

#[tokio::test]
async fn without_a_check_operation() {
    assert!(check_operation(&NOTHING_TO_CHECK).is_none());
    // Direct: nothing to call.
    let direct = Client::builder(&NOTHING_TO_CHECK, Credentials::new("none"))
        .build()
        .unwrap();
    let r = direct.check().await;
    assert!(matches!(r.status, CheckStatus::Skipped(_)), "{r:?}");
    assert_eq!(r.entity, None);

    // Hosted: a token fetch is the check.
    let client_id = format!("check-{}", NEXT_CLIENT.fetch_add(1, Ordering::SeqCst));
    let double = AirbyteDouble::builder()
        .account(Account::new(client_id.clone(), "check-secret", [ORG]))
        .workspaces(ORG, ["default"])
        .start()
        .await
        .unwrap();
    let hosted = |secret: &str| {
        Client::hosted(
            &NOTHING_TO_CHECK,
            AirbyteAuthConfig::new(client_id.clone(), secret.to_string())
                .organization_id(ORG)
                .base_url(double.base_url()),
        )
        .build()
        .unwrap()
    };
    let before = double.token_requests();
    let r = hosted("check-secret").check().await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.entity, None);
    assert!(double.token_requests() > before);
    assert_eq!(double.execute_requests(), 0);
    let r = hosted("bad-secret").check().await;
    assert!(matches!(r.status, CheckStatus::AuthFailed(_)), "{r:?}");
}
