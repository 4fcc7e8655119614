//! [`Client`]: a connector descriptor, an [`Executor`] (direct or hosted mode) and limits. The
//! typed and dynamic entry points validate here, run through the executor, and interpret the
//! provider's body with the core's response rules.

mod builder;
mod call;
mod hosted;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use futures_core::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument as _;

pub use builder::ClientBuilder;
use call::Answer;
pub use call::Call;
pub use hosted::{ContextStoreSearch, HostedClientBuilder, SearchMeta, SearchOptions};

use crate::Params;
use crate::descriptor::{
    ActionKind, BodyDescriptor, ConnectorDescriptor, OperationDescriptor, ParamLocation,
};
use crate::download::ByteStream;
use crate::error::{Error, Result};
use crate::execute_options::ExecuteOptions;
use crate::modes::direct::DirectExecutor;
use crate::modes::{Executor, Fetched, Mode};
use crate::page::{Page, decode_value};
use crate::response::{self, ExecuteResult, ResultKind};

/// Default page cap of [`Client::pages`].
pub const DEFAULT_MAX_PAGES: usize = 1000;

/// A connector client: cheap to clone (an `Arc` inside), safe to share across tasks.
#[derive(Clone)]
pub struct Client {
    descriptor: &'static ConnectorDescriptor,
    executor: Arc<dyn Executor>,
    max_pages: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("connector", &self.descriptor.name)
            .field("executor", &self.executor)
            .field("max_pages", &self.max_pages)
            .finish()
    }
}

const HOSTED_ONLY: &str = "is only available in hosted execution mode. Initialize the connector with an AirbyteAuthConfig to use this feature.";

impl Client {
    /// A client for `descriptor` that runs its calls through `executor` (the direct and hosted
    /// builders make theirs; a custom executor plugs in here). `max_pages` caps
    /// [`Client::pages`].
    pub fn with_executor(
        descriptor: &'static ConnectorDescriptor,
        executor: Arc<dyn Executor>,
        max_pages: usize,
    ) -> Client {
        Client {
            descriptor,
            executor,
            max_pages: max_pages.max(1),
        }
    }

    /// The connector descriptor.
    pub fn descriptor(&self) -> &'static ConnectorDescriptor {
        self.descriptor
    }

    /// The page cap of [`Client::pages`].
    pub(crate) fn max_pages(&self) -> usize {
        self.max_pages
    }

    /// The kind of executor that runs this client's calls.
    pub fn mode(&self) -> Mode {
        self.executor.mode()
    }

    /// The executor as its concrete type, when it is one.
    pub(crate) fn executor_as<E: 'static>(&self) -> Option<&E> {
        self.executor.as_any().downcast_ref::<E>()
    }

    /// Look up an operation, with errors naming the valid choices.
    pub fn operation(&self, entity: &str, action: &str) -> Result<&'static OperationDescriptor> {
        let d = self.descriptor;
        let e = d.entity(entity).ok_or_else(|| Error::UnknownEntity {
            entity: entity.to_string(),
            available: d.entities.iter().map(|e| e.name).collect(),
        })?;
        let action_eq = |a: &str| {
            a == action
                || (action == "api_search" && a == "search")
                || (action == "search" && a == "api_search")
        };
        e.operations
            .iter()
            .find(|o| o.action == action)
            .or_else(|| e.operations.iter().find(|o| action_eq(o.action)))
            .ok_or_else(|| {
                if action == "context_store_search" || action == "context_store_sql_query" {
                    Error::Unsupported(format!("{action} {HOSTED_ONLY}"))
                } else {
                    Error::UnknownAction {
                        entity: entity.to_string(),
                        action: action.to_string(),
                        available: e.operations.iter().map(|o| o.action).collect(),
                    }
                }
            })
    }

    /// Dynamic, validated entry point (LLM tools): `params` must be a JSON object whose keys are
    /// the operation's parameter names (wire names or their snake-case aliases).
    ///
    /// Download operations return [`ResultKind::Download`] with
    /// `{"content_base64": ..., "size": n}`; use [`Client::download`] to stream instead.
    pub async fn execute(
        &self,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Result<ExecuteResult> {
        self.execute_with(entity, action, params, &ExecuteOptions::default())
            .await
    }

    /// [`Client::execute`] with per-call options: keep or drop record fields (applied to the
    /// records in both modes), let Airbyte shorten long texts, state the call's intent (the last
    /// two are sent to the hosted execute endpoint; direct mode has no use for them).
    pub async fn execute_with(
        &self,
        entity: &str,
        action: &str,
        params: Value,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        options.validate()?;
        if let Some(run) = self.executor.passthrough(entity, action, params.clone()) {
            return run.await;
        }
        let op = self.operation(entity, action)?;
        let params = match params {
            Value::Object(m) => m,
            Value::Null => Params::new(),
            other => {
                return Err(Error::invalid(
                    op,
                    "params",
                    format!("expected a JSON object, got {other}"),
                ));
            }
        };
        if op.kind == ActionKind::Download {
            use base64::Engine as _;
            let stream = self.download_bytes(op, params).await?;
            let bytes = stream.collect_bytes().await?;
            let mut m = serde_json::Map::new();
            m.insert("size".into(), Value::from(bytes.len()));
            m.insert(
                "content_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(&bytes)),
            );
            return Ok(ExecuteResult::new(
                Value::Object(m),
                None,
                ResultKind::Download,
            ));
        }
        let mut result = self.call_with(op, params, options).await?;
        options.apply(&mut result);
        Ok(result)
    }

    /// Typed entry point: run `op` with `params` (keys are wire names).
    pub async fn call(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<ExecuteResult> {
        self.call_with(op, params, &ExecuteOptions::default()).await
    }

    fn span(&self, op: &OperationDescriptor) -> tracing::Span {
        tracing::info_span!(
            "airbyte_connector_call",
            connector = self.descriptor.name,
            entity = op.entity,
            action = op.action
        )
    }

    async fn call_with(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        async move {
            let params = self.prepare_params(op, params)?;
            self.call_prepared(op, &params, options).await
        }
        .instrument(self.span(op))
        .await
    }

    /// Run a single-record operation and decode the record.
    pub fn call_record<T: DeserializeOwned>(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Call<T> {
        Call::decode(self.record_answer(op, params), finish_record::<T>)
    }

    /// Run a list/search operation and decode one page. A provider body of the plain list shape
    /// is decoded straight from its bytes; any other takes the general path on the same bytes,
    /// which also yields the precise error.
    pub fn call_list<T: DeserializeOwned, M: DeserializeOwned>(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Call<Page<T, M>> {
        Call::decode(self.list_answer(op, params), finish_page::<T, M>)
    }

    /// The fetch of [`Client::call_record`]: one non-generic future for every record type.
    fn record_answer(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> BoxFuture<'static, Result<Answer>> {
        let client = self.clone();
        Box::pin(async move {
            let r = client.call(op, params).await?;
            Ok(Answer {
                client,
                op,
                fetched: Fetched::Result(r),
            })
        })
    }

    /// The fetch of [`Client::call_list`]: one non-generic future for every record type.
    fn list_answer(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> BoxFuture<'static, Result<Answer>> {
        let client = self.clone();
        Box::pin(async move {
            let fetched = client.fetch_list(op, params).await?;
            Ok(Answer {
                client,
                op,
                fetched,
            })
        })
    }

    /// Decode one page of a list/search answer: a provider body of the plain list shape straight
    /// from its bytes; any other through the general path on the same bytes, which also yields
    /// the precise error.
    pub(crate) fn page_of<T: DeserializeOwned, M: DeserializeOwned>(
        &self,
        op: &'static OperationDescriptor,
        fetched: Fetched,
    ) -> Result<Page<T, M>> {
        match fetched {
            Fetched::Body {
                headers,
                bytes,
                config,
            } => {
                if crate::page_from_bytes::eligible(self.descriptor, op)
                    && let Some(page) =
                        crate::page_from_bytes::page::<T, M>(self.descriptor, op, &headers, &bytes)
                {
                    return page;
                }
                Page::decode(op, self.interpret(op, &headers, &bytes, &config)?)
            }
            Fetched::Result(r) => Page::decode(op, r),
        }
    }

    async fn fetch_list(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<Fetched> {
        async move {
            let params = self.prepare_params(op, params)?;
            self.fetch_prepared(op, &params).await
        }
        .instrument(self.span(op))
        .await
    }

    /// Stream the bytes of a download operation (one- or two-step), with back-pressure.
    pub fn download(&self, op: &'static OperationDescriptor, params: Params) -> Call<ByteStream> {
        let client = self.clone();
        Call::ready(Box::pin(
            async move { client.download_bytes(op, params).await },
        ))
    }

    async fn download_bytes(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<ByteStream> {
        let span = tracing::info_span!(
            "airbyte_connector_download",
            connector = self.descriptor.name,
            entity = op.entity,
            action = op.action
        );
        async move {
            let params = self.prepare_params(op, params)?;
            self.executor.download(op, params).await
        }
        .instrument(span)
        .await
    }

    /// Normalise `params` and check that every required one is given, unless the executor
    /// supplies it (or it is a GraphQL body parameter, filled from the query).
    pub(crate) fn prepare_params(
        &self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> Result<Params> {
        let params = crate::validate::normalize(op, params)?;
        let graphql = matches!(op.body, BodyDescriptor::GraphQl(_));
        crate::validate::check_required(op, &params, |p| {
            (graphql && p.location == ParamLocation::Body) || self.executor.supplies(op, p)
        })?;
        Ok(params)
    }

    /// The API base URL this client calls, with server variables (and values extracted from
    /// token responses) substituted.
    pub fn resolved_base_url(&self) -> Result<String> {
        match self.executor_as::<DirectExecutor>() {
            Some(direct) => Ok(direct.base_and_config()?.0),
            None => crate::request::render_base_url(
                self.descriptor.base_url,
                self.descriptor,
                &BTreeMap::new(),
            ),
        }
    }

    /// Run with already normalised params.
    pub(crate) async fn call_prepared(
        &self,
        op: &'static OperationDescriptor,
        params: &Params,
        options: &ExecuteOptions,
    ) -> Result<ExecuteResult> {
        let fetched = self.executor.fetch(op, params, options).await?;
        self.result_of(op, fetched)
    }

    /// Fetch with already normalised params, leaving the answer uninterpreted.
    pub(crate) async fn fetch_prepared(
        &self,
        op: &'static OperationDescriptor,
        params: &Params,
    ) -> Result<Fetched> {
        self.executor
            .fetch(op, params, &ExecuteOptions::default())
            .await
    }

    /// Fetch an absolute/relative next-page URL as-is, leaving the answer uninterpreted.
    pub(crate) async fn fetch_url(
        &self,
        op: &'static OperationDescriptor,
        url: &str,
    ) -> Result<Fetched> {
        self.executor.fetch_url(op, url).await
    }

    /// Interpret a fetched answer with the core's response rules.
    pub(crate) fn result_of(
        &self,
        op: &'static OperationDescriptor,
        fetched: Fetched,
    ) -> Result<ExecuteResult> {
        match fetched {
            Fetched::Body {
                headers,
                bytes,
                config,
            } => self.interpret(op, &headers, &bytes, &config),
            Fetched::Result(r) => Ok(r),
        }
    }

    /// Parse and shape a provider's successful body.
    fn interpret(
        &self,
        op: &'static OperationDescriptor,
        headers: &crate::headers::Headers,
        bytes: &[u8],
        config: &BTreeMap<String, String>,
    ) -> Result<ExecuteResult> {
        let body = if op.response.no_content && bytes.is_empty() {
            Value::Object(Default::default())
        } else {
            response::parse_body(200, headers, bytes)?
        };
        response::shape(self.descriptor, op, headers, body, config)
    }

    /// Check the executor's own credentials (see [`Executor::probe`]).
    pub(crate) fn probe(&self) -> Option<futures_core::future::BoxFuture<'_, Result<()>>> {
        self.executor.probe()
    }
}

/// The decoding step of [`Client::call_record`].
fn finish_record<T: DeserializeOwned>(answer: Answer) -> Result<T> {
    let r = answer.client.result_of(answer.op, answer.fetched)?;
    decode_value(answer.op, "data", &r.data)
}

/// The decoding step of [`Client::call_list`].
fn finish_page<T: DeserializeOwned, M: DeserializeOwned>(answer: Answer) -> Result<Page<T, M>> {
    answer.client.page_of(answer.op, answer.fetched)
}
