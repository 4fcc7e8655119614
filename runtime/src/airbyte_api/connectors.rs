//! Connector lookup on Airbyte's API, shared by hosted clients and the platform client.

use serde_json::Value;

use super::transport::{Call, Transport, unexpected};
use crate::error::{HostedError, Result};

/// Records of a platform list body (`data`, or a historical key).
pub(crate) fn list_items(v: &Value) -> Option<&Vec<Value>> {
    [
        "data",
        "connectors",
        "instances",
        "workspaces",
        "templates",
        "items",
    ]
    .iter()
    .find_map(|k| v.get(*k).and_then(Value::as_array))
    .or_else(|| v.as_array())
}

/// `GET /api/v1/integrations/connectors?workspace_name=&definition_id=`: exactly one match.
pub(crate) async fn find_connector(
    transport: &Transport,
    workspace_name: &str,
    connector: &str,
    definition_id: &str,
) -> Result<String> {
    if definition_id.is_empty() {
        return Err(HostedError::NoDefinitionId {
            connector: connector.to_string(),
        }
        .into());
    }
    let call = Call::get("/api/v1/integrations/connectors")
        .query("workspace_name", workspace_name)
        .query("definition_id", definition_id);
    let v = transport.json(&call).await?;
    let items = list_items(&v)
        .ok_or_else(|| unexpected(&call, "connector list has no `data` array".into()))?;
    let ids: Vec<String> = items
        .iter()
        .filter(|i| {
            // Servers that ignore the filter: keep only matching definitions when they say.
            i.get("definition_id")
                .and_then(Value::as_str)
                .is_none_or(|d| d == definition_id)
        })
        .filter_map(|i| i.get("id").and_then(id_text))
        .collect();
    match ids.len() {
        1 => Ok(ids.into_iter().next().unwrap_or_default()),
        0 => Err(HostedError::ConnectorNotFound {
            connector: connector.to_string(),
            workspace_name: workspace_name.to_string(),
            definition_id: definition_id.to_string(),
        }
        .into()),
        _ => Err(HostedError::AmbiguousConnector {
            connector: connector.to_string(),
            workspace_name: workspace_name.to_string(),
            definition_id: definition_id.to_string(),
            ids,
        }
        .into()),
    }
}

pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
