//! Credential resolution of hosted mode through the process-wide state (`configure`, environment,
//! `.env` files). One test only: it changes process-global state.

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, Platform, clear_configuration, configure};
use airbyte_agent_runtime::{Client, Error};
use airbyte_agent_stripe::StripeConnector;
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use serde_json::json;

#[tokio::test]
async fn configure_then_env_then_dotenv() {
    let double = AirbyteDouble::builder()
        .account(Account::new("cfg-client", "cfg-secret", ["org-a"]))
        .account(Account::new("env-client", "env-secret", ["org-b", "org-c"]))
        .workspaces("org-a", ["default", "team"])
        .workspaces("org-b", ["default"])
        .definition(Definition::new(
            StripeConnector::descriptor(),
            "http://127.0.0.1:9",
        ))
        .start()
        .await
        .unwrap();
    let base = double.base_url();

    // 1. configure(): used for every field not given explicitly.
    configure(
        AirbyteAuthConfig::new("cfg-client", "cfg-secret".to_string())
            .workspace_name("team")
            .base_url(base.clone()),
    );
    let platform = Platform::new(AirbyteAuthConfig::from_env()).unwrap();
    assert_eq!(platform.workspace_name(), "team");
    assert_eq!(platform.list_workspaces().await.unwrap().len(), 2);
    // Explicit values win over configure().
    let e = Platform::new(AirbyteAuthConfig::new(
        "cfg-client",
        "explicit-wrong".to_string(),
    ))
    .unwrap()
    .list_workspaces()
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    clear_configuration();

    // 2. Environment (including SDK_DEV_ADP_API_HOST with a trailing slash).
    // SAFETY: this test binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("AIRBYTE_CLIENT_ID", "env-client");
        std::env::set_var("AIRBYTE_CLIENT_SECRET", "env-secret");
        std::env::set_var("AIRBYTE_ORGANIZATION_ID", "org-b");
        std::env::set_var("SDK_DEV_ADP_API_HOST", format!("{base}/"));
    }
    let platform = Platform::new(AirbyteAuthConfig::from_env()).unwrap();
    assert_eq!(platform.base_url(), base);
    assert_eq!(platform.organization_id(), Some("org-b"));
    let names: Vec<String> = platform
        .list_workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["default"]);
    let org_headers: Vec<Option<String>> = double
        .requests()
        .iter()
        .rev()
        .take(2)
        .map(|r| r.header("x-organization-id").map(str::to_string))
        .collect();
    assert_eq!(
        org_headers,
        [Some("org-b".to_string()), Some("org-b".to_string())]
    );
    unsafe {
        std::env::remove_var("AIRBYTE_CLIENT_ID");
        std::env::remove_var("AIRBYTE_CLIENT_SECRET");
        std::env::remove_var("AIRBYTE_ORGANIZATION_ID");
        std::env::remove_var("SDK_DEV_ADP_API_HOST");
    }
    let e = Client::hosted(StripeConnector::descriptor(), AirbyteAuthConfig::from_env())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("missing Airbyte credentials"), "{e}");

    // 3. A `.env` file, without touching the process environment.
    let dir = std::env::temp_dir().join(format!("airbyte-dotenv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(".env");
    std::fs::write(
        &file,
        format!(
            "# hosted credentials\nexport AIRBYTE_CLIENT_ID=cfg-client\nAIRBYTE_CLIENT_SECRET=\"cfg-secret\"\nSDK_DEV_ADP_API_HOST={base}\n"
        ),
    )
    .unwrap();
    let cfg = AirbyteAuthConfig::from_env_file(&file).unwrap();
    assert!(!format!("{cfg:?}").contains("cfg-secret"));
    assert!(std::env::var_os("AIRBYTE_CLIENT_ID").is_none());
    let platform = Platform::new(cfg).unwrap();
    assert_eq!(platform.list_workspaces().await.unwrap().len(), 2);
    let e = AirbyteAuthConfig::from_env_file(dir.join("missing.env")).unwrap_err();
    assert!(e.to_string().contains("cannot read env file"));
    let _ = std::fs::remove_dir_all(&dir);

    // Deserialised configs accept the historical field names.
    let cfg: AirbyteAuthConfig = serde_json::from_value(json!({
        "airbyte_client_id": "cfg-client",
        "airbyte_client_secret": "cfg-secret",
        "customer_name": "team",
        "base_url": base,
    }))
    .unwrap();
    assert_eq!(Platform::new(cfg).unwrap().workspace_name(), "team");
}
