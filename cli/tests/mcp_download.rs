//! Download tools over MCP with rmcp's client: the file is saved in the download folder and
//! the result links to it (`resource_link`) instead of carrying its bytes.
#![cfg(feature = "gong")]

mod common;

use std::process::Stdio;

use airbyte_agent_runtime::serde_json::{Map, Value, json};
use common::agent_command;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig, ContentBlock};
use rmcp::transport::TokioChildProcess;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AUDIO: &[u8] = b"ID3\x04\x00fake audio bytes\x00\xff";

#[tokio::test]
async fn a_download_is_saved_to_a_file_and_answered_with_a_resource_link() {
    let gong = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/calls/extensive"))
        .and(body_partial_json(json!({"filter": {"callIds": ["c1"]}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calls": [{"media": {"audioUrl": format!("{}/media/c1.mp3", gong.uri())}}]
        })))
        .expect(1)
        .mount(&gong)
        .await;
    Mock::given(method("GET"))
        .and(path("/media/c1.mp3"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(AUDIO.to_vec(), "audio/mpeg"))
        .expect(1)
        .mount(&gong)
        .await;
    let dir = std::env::temp_dir().join(format!("mcp-download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.display().to_string();
    let env = [
        ("GONG_ACCESS_KEY", "key".to_string()),
        ("GONG_ACCESS_KEY_SECRET", "secret".to_string()),
        ("GONG_BASE_URL", gong.uri()),
    ];
    let cmd = agent_command(
        &["mcp", "--connector", "gong", "--download-dir", &dir_arg],
        &env,
    );
    let (transport, _) = TokioChildProcess::builder(cmd)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn airbyte-agent mcp");
    let client = ClientConfig::default()
        .serve(transport)
        .await
        .expect("initialize");

    let mut arguments = Map::new();
    arguments.insert("filter".into(), json!({"callIds": ["c1"]}));
    arguments.insert(
        "contentSelector".into(),
        json!({"exposedFields": {"media": true}}),
    );
    let r = client
        .call_tool(CallToolRequestParams::new("call_audio_download").with_arguments(arguments))
        .await
        .expect("tools/call");
    assert_ne!(r.is_error, Some(true), "{r:?}");

    let link = r
        .content
        .iter()
        .find_map(|c| match c {
            ContentBlock::ResourceLink(l) => Some(l.clone()),
            _ => None,
        })
        .expect("a resource_link block");
    assert!(link.uri.starts_with("file://"), "{}", link.uri);
    assert_eq!(link.mime_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(link.size, Some(AUDIO.len() as u64));
    let structured: Value = r.structured_content.clone().expect("structured content");
    let saved = structured["path"].as_str().expect("the saved path");
    assert!(
        saved.starts_with(&dir_arg),
        "{saved} is in the download folder"
    );
    assert_eq!(std::fs::read(saved).expect("file saved"), AUDIO);
    assert!(
        link.uri.ends_with(&link.name),
        "the link names the file: {link:?}"
    );
    let text: String = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    assert!(!text.contains("content_base64"), "{text}");

    client.cancel().await.expect("close");
    let _ = std::fs::remove_dir_all(&dir);
}
