//! Loading cassette files: the reference layout and a minimal one, literal secrets and missing
//! environment variables, and load errors that name the file and the problem.

use airbyte_agent_runtime::cassette::{Cassette, CassetteError, Replay};
use serde_json::json;

use crate::{CONN, REFERENCE_LAYOUT, env, temp_file};

#[tokio::test]
async fn reference_layout_loads_and_replays() {
    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    assert_eq!(c.test_name, "customers_list_basic");
    assert_eq!(c.captured_response.headers["X-Ratelimit-Remaining"], "99");
    assert!(c.captured_request.validation.query_params_strict);
    let report = Replay::run(&c, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(
        report.result.unwrap().data,
        json!([{"id": "cus_9", "email": "nine@example.com"}])
    );

    // Minimal layout: validation defaults, no headers, no description.
    let minimal = "test_name: t\nentity: customers\naction: list\ninputs: {params: {limit: 5}}\n\
        auth_config: {api_key: \"${CASSETTE_TEST_API_KEY}\"}\n\
        captured_request: {method: GET, path: /v1/customers, query_params: {limit: 5}}\n\
        captured_response: {status_code: 200, body: {data: []}}\n";
    let c = Cassette::from_yaml(minimal).unwrap();
    assert!(c.captured_request.validation.body_strict);
    assert_eq!(c.captured_request.validation.ignore_headers.len(), 3);
    let report = Replay::run(&c, &CONN, env).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    assert_eq!(report.result.unwrap().data, json!([]));
}

#[tokio::test]
async fn literal_secret_and_missing_env_are_clear_errors() {
    let literal =
        REFERENCE_LAYOUT.replace("${CASSETTE_TEST_API_KEY}", "sk_live_pasted_by_mistake_123");
    let err = Cassette::from_yaml(&literal).unwrap_err();
    assert!(matches!(err, CassetteError::LiteralSecret { ref field, .. } if field == "api_key"));
    let msg = err.to_string();
    assert!(
        msg.contains("auth_config.api_key") && msg.contains("${"),
        "{msg}"
    );
    assert!(!msg.contains("sk_live_pasted"), "{msg}");

    // Built in code, the literal is refused on replay too, before anything is sent.
    let mut c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    c.auth_config
        .insert("api_key".into(), "plain-literal-key".into());
    let err = Replay::run(&c, &CONN, env).await.unwrap_err();
    assert!(
        matches!(err, CassetteError::LiteralSecret { .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("plain-literal-key"));

    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    let err = Replay::run(&c, &CONN, |_| None).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "environment variable `CASSETTE_TEST_API_KEY` (auth_config.api_key) is not set"
    );
}

#[tokio::test]
async fn load_errors_name_the_file_and_the_problem() {
    let file = temp_file("bad");
    std::fs::write(&file, "test_name: t\nentity: customers\naction: list\n").unwrap();
    let err = Cassette::load(&file).unwrap_err().to_string();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("captured_request"), "{err}");

    std::fs::write(
        &file,
        REFERENCE_LAYOUT.replace("status_code: 200", "status_code: 2000"),
    )
    .unwrap();
    let err = Cassette::load(&file).unwrap_err().to_string();
    assert!(err.contains("captured_response.status_code"), "{err}");
    std::fs::remove_file(&file).ok();

    let err = Cassette::load(temp_file("missing")).unwrap_err();
    assert!(matches!(err, CassetteError::Io { .. }), "{err:?}");
    let err = Cassette::from_yaml("captured_request: [unclosed").unwrap_err();
    assert!(matches!(err, CassetteError::Invalid { .. }), "{err:?}");
}
