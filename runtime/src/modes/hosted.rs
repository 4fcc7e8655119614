//! Hosted mode: every operation is posted to Airbyte's execute endpoint
//! (`POST /api/v1/integrations/connectors/{id}/execute`), which holds the credentials; the
//! connector id is given or looked up once by workspace and definition id.

use std::any::Any;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use serde_json::{Map, Value};

use super::{Executor, Fetched, Mode};
use crate::Params;
use crate::airbyte_api::{Call, Transport, find_connector, unexpected};
use crate::descriptor::{ConnectorDescriptor, OperationDescriptor, ParamDescriptor, ParamLocation};
use crate::download::ByteStream;
use crate::error::{Error, Result};
use crate::execute_options::ExecuteOptions;
use crate::response::{ExecuteResult, ResultKind};

/// The hosted-mode executor of one connector.
pub(crate) struct HostedExecutor {
    descriptor: &'static ConnectorDescriptor,
    pub(crate) transport: Arc<Transport>,
    pub(crate) workspace_name: String,
    connector_id: tokio::sync::OnceCell<String>,
}

impl std::fmt::Debug for HostedExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hosted")
            .field("base_url", &self.transport.auth.base_url)
            .field("workspace_name", &self.workspace_name)
            .field("connector_id", &self.connector_id.get())
            .finish()
    }
}

impl HostedExecutor {
    pub(crate) fn new(
        descriptor: &'static ConnectorDescriptor,
        transport: Arc<Transport>,
        workspace_name: String,
        connector_id: Option<String>,
    ) -> Self {
        let cell = tokio::sync::OnceCell::new();
        if let Some(id) = connector_id {
            let _ = cell.set(id);
        }
        HostedExecutor {
            descriptor,
            transport,
            workspace_name,
            connector_id: cell,
        }
    }

    /// The connector id: given, or looked up once by workspace and definition id.
    pub(crate) async fn connector_id(&self) -> Result<String> {
        let d = self.descriptor;
        self.connector_id
            .get_or_try_init(|| {
                find_connector(
                    &self.transport,
                    &self.workspace_name,
                    d.name,
                    d.definition_id,
                )
            })
            .await
            .cloned()
    }

    /// `POST .../{id}/execute` → `(result, connector_metadata)`.
    pub(crate) async fn execute_raw(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        idempotent: bool,
        options: &ExecuteOptions,
    ) -> Result<(Value, Option<Value>)> {
        let d = self.descriptor;
        let mut body = serde_json::Map::new();
        body.insert("entity".into(), entity.into());
        body.insert("action".into(), action.into());
        body.insert("params".into(), params);
        body.extend(options.wire_fields()?);
        let body = Value::Object(body);
        let id = self.connector_id().await?;
        let path = format!(
            "/api/v1/integrations/connectors/{}/execute",
            crate::encode::path_segment(&id)
        );
        let call = Call {
            idempotent,
            ..Call::post(&path, &body)
        };
        let span =
            tracing::info_span!("airbyte_hosted_execute", connector = d.name, entity, action);
        let v = tracing::Instrument::instrument(self.transport.json(&call), span).await?;
        let Value::Object(mut m) = v else {
            return Err(unexpected(
                &call,
                "execute response is not a JSON object".into(),
            ));
        };
        if !m.contains_key("result") {
            return Err(unexpected(&call, "execute response has no `result`".into()));
        }
        let result = m.remove("result").unwrap_or(Value::Null);
        let meta = m.remove("connector_metadata").filter(|v| !v.is_null());
        Ok((result, meta))
    }

    /// Hosted-only actions (`context_store_search`, ...) that no descriptor describes.
    async fn execute_passthrough(
        &self,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Result<ExecuteResult> {
        let d = self.descriptor;
        if d.entity(entity).is_none() {
            return Err(Error::UnknownEntity {
                entity: entity.to_string(),
                available: d.entities.iter().map(|e| e.name).collect(),
            });
        }
        let (result, meta) = self
            .execute_raw(entity, action, params, true, &ExecuteOptions::default())
            .await?;
        let (data, meta) = match (result, meta) {
            (Value::Object(mut m), None) if m.contains_key("data") => {
                let meta = m.remove("meta");
                (m.remove("data").unwrap_or(Value::Null), meta)
            }
            (r, m) => (r, m),
        };
        Ok(ExecuteResult::new(
            data,
            match meta {
                Some(Value::Object(m)) => Some(m),
                _ => None,
            },
            ResultKind::Envelope,
        ))
    }

    /// Execute a described operation and shape the result like direct mode.
    async fn execute(
        &self,
        op: &'static OperationDescriptor,
        params: &Params,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        let (result, meta) = self
            .execute_raw(
                op.entity,
                op.action,
                Value::Object(params.clone()),
                op.method.is_idempotent(),
                options,
            )
            .await?;
        Ok(shape(op, result, meta))
    }

    /// Follow a provider next-page URL in hosted mode: its query parameters that the operation
    /// declares become the parameters of the next execute call. URLs that carry the position
    /// elsewhere (in the path) cannot be followed through the execute endpoint.
    async fn execute_next_url(
        &self,
        op: &'static OperationDescriptor,
        url: &str,
    ) -> Result<ExecuteResult> {
        let params = next_url_params(op, url).ok_or_else(|| {
            Error::Unsupported(format!(
                "`{}.{}` paginates with next-page URLs that hosted mode cannot follow; pass the cursor parameters explicitly",
                op.entity, op.action
            ))
        })?;
        let params = crate::validate::normalize(op, params)?;
        self.execute(op, &params, &ExecuteOptions::default()).await
    }

    /// Downloads through the execute endpoint: the result carries the bytes as base64.
    async fn download_base64(
        &self,
        op: &'static OperationDescriptor,
        params: &Params,
    ) -> Result<ByteStream> {
        use base64::Engine as _;
        let (result, _) = self
            .execute_raw(
                op.entity,
                op.action,
                Value::Object(params.clone()),
                true,
                &ExecuteOptions::default(),
            )
            .await?;
        let text = match &result {
            Value::String(s) => Some(s.as_str()),
            Value::Object(m) => ["content_base64", "content", "data"]
                .iter()
                .find_map(|k| m.get(*k).and_then(Value::as_str)),
            _ => None,
        };
        let bytes = text
            .and_then(|t| {
                base64::engine::general_purpose::STANDARD
                    .decode(t.trim())
                    .ok()
            })
            .ok_or_else(|| {
                Error::records(op, "hosted download result carries no base64 content")
            })?;
        Ok(ByteStream::from_chunks(vec![bytes::Bytes::from(bytes)]))
    }
}

impl Executor for HostedExecutor {
    fn mode(&self) -> Mode {
        Mode::Hosted
    }

    fn supplies(&self, _op: &OperationDescriptor, p: &ParamDescriptor) -> bool {
        // Scoping and config-injected values live with the connector on the server.
        p.config_inject.is_some()
            || (p.location == ParamLocation::Path
                && self.descriptor.scoping.iter().any(|s| s.param == p.name))
    }

    fn fetch<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: &'a Params,
        options: &'a ExecuteOptions,
    ) -> BoxFuture<'a, Result<Fetched>> {
        Box::pin(async move { self.execute(op, params, options).await.map(Fetched::Result) })
    }

    fn fetch_url<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        url: &'a str,
    ) -> BoxFuture<'a, Result<Fetched>> {
        Box::pin(async move { self.execute_next_url(op, url).await.map(Fetched::Result) })
    }

    fn download<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> BoxFuture<'a, Result<ByteStream>> {
        Box::pin(async move { self.download_base64(op, &params).await })
    }

    fn passthrough<'a>(
        &'a self,
        entity: &'a str,
        action: &'a str,
        params: Value,
    ) -> Option<BoxFuture<'a, Result<ExecuteResult>>> {
        matches!(action, "context_store_search" | "context_store_sql_query").then(|| {
            Box::pin(self.execute_passthrough(entity, action, params))
                as BoxFuture<'a, Result<ExecuteResult>>
        })
    }

    fn probe(&self) -> Option<BoxFuture<'_, Result<()>>> {
        Some(Box::pin(
            async move { self.transport.token().await.map(|_| ()) },
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Hosted results in the direct-mode shape: envelope for list/search and meta-carrying operations.
fn shape(op: &OperationDescriptor, result: Value, meta: Option<Value>) -> ExecuteResult {
    let envelope = op.kind.returns_many() || !op.response.meta_extractor.is_empty();
    let (data, meta) = match (envelope, result, meta) {
        // Some servers nest the envelope inside `result`.
        (true, Value::Object(mut m), None)
            if m.get("data").is_some_and(Value::is_array)
                && m.keys().all(|k| k == "data" || k == "meta") =>
        {
            let meta = m.remove("meta");
            (m.remove("data").unwrap_or(Value::Null), meta)
        }
        (_, r, m) => (r, m),
    };
    let meta = match meta {
        Some(Value::Object(m)) => Some(m),
        Some(other) => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            Some(m)
        }
        None if op.response.meta_extractor.is_empty() => None,
        None => Some(
            op.response
                .meta_extractor
                .iter()
                .map(|(k, _)| ((*k).to_string(), Value::Null))
                .collect(),
        ),
    };
    let kind = if envelope {
        ResultKind::Envelope
    } else {
        ResultKind::Raw
    };
    ExecuteResult::new(data, meta, kind)
}

/// Declared query parameters of `op` found in a next-page URL, typed by the parameter kind.
fn next_url_params(op: &OperationDescriptor, url: &str) -> Option<Params> {
    use crate::descriptor::ValueKind;
    let query = url.split_once('?')?.1.split('#').next().unwrap_or("");
    let mut out = Params::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (crate::encode::form_decode(k), crate::encode::form_decode(v));
        let Some(p) = op
            .params
            .iter()
            .find(|p| p.name == k && p.location == ParamLocation::Query)
        else {
            continue;
        };
        let typed = |kind: Option<ValueKind>, v: &str| match kind {
            Some(ValueKind::Integer) => v.parse::<i64>().map(Value::from).ok(),
            Some(ValueKind::Number) => v.parse::<f64>().ok().map(Value::from),
            Some(ValueKind::Boolean) => v.parse::<bool>().ok().map(Value::from),
            _ => Some(Value::String(v.to_string())),
        };
        if p.kind == ValueKind::Array {
            let item = typed(p.item_kind, &v)?;
            match out
                .entry(p.name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                Value::Array(a) => a.push(item),
                _ => return None,
            }
        } else {
            out.insert(p.name.to_string(), typed(Some(p.kind), &v)?);
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::*;

    const fn q(
        name: &'static str,
        kind: ValueKind,
        item_kind: Option<ValueKind>,
    ) -> ParamDescriptor {
        ParamDescriptor {
            name,
            location: ParamLocation::Query,
            required: false,
            kind,
            item_kind,
            nullable: false,
            enum_values: &[],
            default: None,
            style: ParamStyle::Form,
            description: "",
            schema: "{}",
            config_inject: None,
        }
    }

    static PARAMS: [ParamDescriptor; 4] = [
        q("page", ValueKind::Integer, None),
        q("per_page", ValueKind::Integer, None),
        q("status[]", ValueKind::Array, Some(ValueKind::String)),
        q("active", ValueKind::Boolean, None),
    ];

    static OP: OperationDescriptor = OperationDescriptor {
        entity: "candidates",
        action: "list",
        kind: ActionKind::List,
        method: Method::Get,
        path: "/candidates",
        summary: "",
        description: "",
        params: &PARAMS,
        body: BodyDescriptor::None,
        response: ResponseDescriptor {
            record_extractor: None,
            meta_extractor: &[("next", "@link.next")],
            record_filter: None,
            record_transform: &[],
            file_url: None,
            no_content: false,
            data_schema: None,
        },
        pagination: Pagination::NextUrl { meta: "next" },
        preferred_for_check: false,
    };

    #[test]
    fn next_url_query_becomes_typed_params() {
        let p = next_url_params(
            &OP,
            "https://api.example/v1/candidates?page=3&per_page=50&status%5B%5D=a&status%5B%5D=b&active=true&unknown=x",
        )
        .unwrap();
        assert_eq!(
            Value::Object(p),
            serde_json::json!({"page": 3, "per_page": 50, "status[]": ["a", "b"], "active": true})
        );
        assert!(next_url_params(&OP, "https://api.example/v1/query/01gx-2000").is_none());
        assert!(next_url_params(&OP, "https://api.example/v1/candidates?page=two").is_none());
    }

    #[test]
    fn shaping_mirrors_direct_mode() {
        let r = shape(&OP, serde_json::json!([{"id": 1}]), None);
        assert_eq!(r.kind, ResultKind::Envelope);
        assert_eq!(r.meta.unwrap().get("next"), Some(&Value::Null));
        let r = shape(
            &OP,
            serde_json::json!({"data": [{"id": 1}], "meta": {"next": "u"}}),
            None,
        );
        assert_eq!(r.data, serde_json::json!([{"id": 1}]));
        assert_eq!(r.meta.unwrap()["next"], "u");
    }
}
