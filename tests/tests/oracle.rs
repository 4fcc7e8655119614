//! End-to-end check of the oracle replayer itself: a small hand-written spec and oracle file are
//! replayed through the generator and the runtime against the loopback server, and the replayer
//! must pass the faithful cases, catch the tampered one, and honour the allow-list.

use std::path::PathBuf;

use airbyte_agent_tests::oracle::compare::Aspect;
use airbyte_agent_tests::oracle::mask::mask_header;
use airbyte_agent_tests::oracle::report::CaseStatus;
use airbyte_agent_tests::oracle::{Options, replay_all};
use serde_json::json;

const SPEC: &str = r##"
openapi: 3.1.0
info:
  title: Widgets
  version: 0.0.1
  description: A tiny invented API for testing the replayer.
  x-airbyte-connector-name: widgets
  x-airbyte-connector-definition-id: 00000000-0000-4000-8000-000000000001
  x-airbyte-external-documentation-urls: []
servers:
  - url: https://api.widgets.invalid/v1
security:
  - bearerAuth: []
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      x-airbyte-auth-config:
        title: Token
        type: object
        required: [token]
        properties:
          token:
            type: string
            title: Token
        auth_mapping:
          token: "${token}"
  schemas:
    Widget:
      type: object
      properties:
        id: {type: string}
        name: {type: string}
paths:
  /widgets:
    get:
      operationId: listWidgets
      summary: List widgets
      x-airbyte-entity: widgets
      x-airbyte-action: list
      x-airbyte-record-extractor: $.data
      x-airbyte-meta-extractor:
        next: $.next_cursor
      parameters:
        - name: limit
          in: query
          required: false
          schema: {type: integer}
      responses:
        "200":
          description: A page of widgets
          content:
            application/json:
              schema:
                type: object
                properties:
                  data:
                    type: array
                    items:
                      $ref: "#/components/schemas/Widget"
                  next_cursor: {type: string}
"##;

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oracle-selftest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("specs/widgets")).unwrap();
    std::fs::create_dir_all(dir.join("oracle")).unwrap();
    dir
}

fn list_case(id: &str, limit: i64, recorded_query: &str) -> serde_json::Value {
    let auth = mask_header("authorization", "Bearer tok-123");
    json!({
        "id": id,
        "entity": "widgets",
        "action": "list",
        "params": {"limit": limit},
        "auth_scheme": "default",
        "mock_response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": {"data": [{"id": "w1", "name": "one"}, {"id": "w2"}], "next_cursor": "c2"}
        },
        "requests": [{
            "method": "GET",
            "path": "/v1/widgets",
            "raw_query": recorded_query,
            "query": [],
            "headers": {"accept": "*/*", "connection": "keep-alive", "authorization": auth},
            "body_text": null, "body_base64": null, "body_json": null, "body_form": null
        }],
        "result": {
            "success": true,
            "kind": "envelope",
            "data": [{"id": "w1", "name": "one"}, {"id": "w2"}],
            "meta": {"next": "c2"},
            "error": null
        }
    })
}

#[test]
fn replays_compares_and_allow_lists() {
    let dir = scratch_dir();
    std::fs::write(dir.join("specs/widgets/connector.yaml"), SPEC).unwrap();
    let auth = mask_header("authorization", "Bearer tok-123");
    let oracle = json!({
        "connector": "widgets",
        "mock_base_url": "http://{mock_host}/v1",
        "auth_scheme": "default",
        "credentials": {"token": "tok-123"},
        "config": {},
        "oauth_refresh": null,
        "mock_token_response": null,
        "auth_variants": [],
        "cases": [
            list_case("widgets.list.optional", 2, "limit=2"),
            // Tampered: the recorded query says 3 while the call passes 2.
            list_case("widgets.list.tampered", 2, "limit=3"),
            // Tampered too, but allow-listed below for exactly this aspect.
            list_case("widgets.list.excused", 2, "limit=4"),
            {
                "id": "widgets.list.http_404",
                "entity": "widgets",
                "action": "list",
                "params": {},
                "auth_scheme": "default",
                "mock_response": {
                    "status": 404,
                    "headers": {"Content-Type": "application/json"},
                    "body": {"error": "not_found", "message": "mock: resource not found"}
                },
                "requests": [{
                    "method": "GET", "path": "/v1/widgets", "raw_query": "", "query": [],
                    "headers": {"accept": "*/*", "authorization": auth},
                    "body_text": null
                }],
                "result": {
                    "success": false, "kind": null, "data": null, "meta": null,
                    "error": {"type": "HTTPStatusError", "message": "mock: resource not found"}
                }
            }
        ]
    });
    std::fs::write(dir.join("oracle/widgets.json"), oracle.to_string()).unwrap();
    std::fs::write(
        dir.join("allow.toml"),
        "[[allow]]\ncase = \"widgets:*.excused\"\naspects = [\"request.query\"]\nreason = \"test\"\n",
    )
    .unwrap();

    let mut opts = Options::new(dir.join("oracle"), dir.join("specs"));
    opts.allowlist = Some(dir.join("allow.toml"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut out = Vec::new();
    let summary = rt.block_on(replay_all(&opts, &mut out)).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let _ = std::fs::remove_dir_all(&dir);

    let report = &summary.connectors[0];
    let status = |id: &str| {
        report
            .cases
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.status.clone())
            .unwrap()
    };
    assert!(
        matches!(status("widgets.list.optional"), CaseStatus::Passed),
        "{text}\n{:#?}",
        status("widgets.list.optional")
    );
    assert!(
        matches!(status("widgets.list.http_404"), CaseStatus::Passed),
        "{text}\n{:#?}",
        status("widgets.list.http_404")
    );
    match status("widgets.list.tampered") {
        CaseStatus::Failed { mismatches } => {
            assert_eq!(mismatches.len(), 1, "{mismatches:#?}");
            assert_eq!(mismatches[0].aspect, Aspect::Query);
            assert!(mismatches[0].detail.contains("limit=3"), "{mismatches:#?}");
        }
        other => panic!("tampered case must fail, got {other:?}\n{text}"),
    }
    assert!(
        matches!(
            status("widgets.list.excused"),
            CaseStatus::AllowListed { .. }
        ),
        "{text}"
    );
    assert_eq!((summary.passed(), summary.failed()), (2, 1), "{text}");
    assert_eq!(summary.allow_listed(), 1);
    assert!(
        text.lines().last().unwrap() == "2 passed, 1 failed",
        "{text}"
    );
    assert!(text.contains("widgets"), "{text}");
}
