//! Security schemes with their Airbyte auth config, token refresh and OAuth scopes.

use serde_json::Value;

use super::SpecError;
use super::{AuthConfigView, Node, SecurityScheme};

pub(super) const KNOWN_SCHEME_KEYS: &[&str] = &[
    "type",
    "scheme",
    "in",
    "name",
    "flows",
    "description",
    "bearerFormat",
    "x-airbyte-auth-config",
    "x-airbyte-token-refresh",
    "x-airbyte-token-extract",
    "x-airbyte-oauth-credentials",
    "x-airbyte-oauth-scopes",
    "x-airbyte-untested",
    "x-airbyte-token-path",
];

/// Whether an `x-airbyte-token-refresh.grant_type` names the RFC 7523 JWT bearer grant.
pub(crate) fn is_jwt_bearer_grant(grant: &str) -> bool {
    matches!(
        grant,
        "jwt_bearer" | "urn:ietf:params:oauth:grant-type:jwt-bearer"
    )
}

/// Scope names from a `scopes` node: the keys of an OpenAPI scope map, a list, or a
/// space-separated string. Anything else has no scopes (they only matter to the jwt-bearer grant).
fn scope_names(node: Option<Node<'_>>) -> Vec<String> {
    match node.map(|n| n.value) {
        Some(Value::Object(m)) => m.keys().cloned().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn parse_scheme(key: &str, node: &Node<'_>) -> Result<SecurityScheme, SpecError> {
    let kind = node.req_str("type")?.to_string();
    let flow = node.get("flows").and_then(|f| {
        f.get("authorizationCode")
            .or_else(|| f.get("clientCredentials"))
            .or_else(|| f.get("password"))
            .or_else(|| f.get("implicit"))
    });
    let (authorization_url, token_url, refresh_url) = match &flow {
        Some(f) => (
            f.text_of("authorizationUrl")?,
            f.text_of("tokenUrl")?,
            f.text_of("refreshUrl")?,
        ),
        None => (None, None, None),
    };
    let refresh = node.get("x-airbyte-token-refresh");
    let auth_config = match node.get("x-airbyte-auth-config") {
        Some(c) => {
            let mut properties = Vec::new();
            if let Some(p) = c.get("properties") {
                for (name, prop) in p.entries()? {
                    properties.push((
                        name.to_string(),
                        prop.text_of("title")?.unwrap_or_default(),
                        prop.text_of("description")?.unwrap_or_default(),
                    ));
                }
            }
            AuthConfigView {
                title: c.text_of("title")?,
                description: c.text_of("description")?.unwrap_or_default(),
                required: c
                    .get("required")
                    .map(|r| r.str_list())
                    .transpose()?
                    .unwrap_or_default(),
                properties,
                auth_mapping: c
                    .get("auth_mapping")
                    .map(|m| m.str_map())
                    .transpose()?
                    .unwrap_or_default(),
                additional_headers: c
                    .get("additional_headers")
                    .map(|m| m.str_map())
                    .transpose()?
                    .unwrap_or_default(),
            }
        }
        None => AuthConfigView::default(),
    };
    Ok(SecurityScheme {
        key: key.to_string(),
        kind,
        scheme: node.text_of("scheme")?,
        location: node.text_of("in")?,
        name: node.text_of("name")?,
        authorization_url,
        token_url,
        refresh_url,
        refresh_auth_style: refresh
            .as_ref()
            .map(|r| r.text_of("auth_style"))
            .transpose()?
            .flatten(),
        refresh_body_format: refresh
            .as_ref()
            .map(|r| r.text_of("body_format"))
            .transpose()?
            .flatten(),
        token_header: refresh
            .as_ref()
            .map(|r| r.text_of("header"))
            .transpose()?
            .flatten(),
        token_prefix: refresh
            .as_ref()
            .map(|r| r.text_of("prefix"))
            .transpose()?
            .flatten(),
        refresh_grant_type: refresh
            .as_ref()
            .map(|r| r.text_of("grant_type"))
            .transpose()?
            .flatten(),
        scopes: scope_names(
            refresh
                .as_ref()
                .and_then(|r| r.get("scopes"))
                .or_else(|| flow.as_ref().and_then(|f| f.get("scopes"))),
        ),
        token_extract: node
            .get("x-airbyte-token-extract")
            .map(|t| t.str_list())
            .transpose()?
            .unwrap_or_default(),
        auth_config,
        path: node.path.clone(),
    })
}
