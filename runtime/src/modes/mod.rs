//! Modes as executors: how a [`Client`](crate::Client) gets an operation run.
//!
//! A client is a descriptor, an [`Executor`] and limits. The executor is the only part that
//! differs between the modes:
//! * [`direct`]: the request is built here (core request planning), authenticated with the
//!   user's credentials (OAuth2 refresh included) and sent to the provider's API; the provider's
//!   body comes back for the client to interpret;
//! * [`hosted`]: the operation is posted to Airbyte's execute endpoint, which holds the
//!   credentials; the result comes back already shaped.
//!
//! Both sit on the one HTTP transport; neither knows the client.

pub(crate) mod direct;
pub(crate) mod hosted;

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;

use futures_core::future::BoxFuture;
use serde_json::Value;

use crate::Params;
use crate::descriptor::{OperationDescriptor, ParamDescriptor};
use crate::download::ByteStream;
use crate::error::Result;
use crate::execute_options::ExecuteOptions;
use crate::headers::Headers;
use crate::response::ExecuteResult;

/// Which kind of executor runs the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Requests go straight to the provider's API with the caller's credentials.
    Direct,
    /// Operations run through Airbyte's hosted execute endpoint.
    Hosted,
}

/// What an executor returns for an operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Fetched {
    /// The provider's own successful response, for the client to interpret with the core's
    /// response rules (records, meta, filters, typed pages straight from the bytes).
    Body {
        /// Response headers.
        headers: Headers,
        /// The body as received.
        bytes: bytes::Bytes,
        /// Config values the response rules may reference (server variables, values from token
        /// responses).
        config: BTreeMap<String, String>,
    },
    /// A result the execution service already shaped.
    Result(ExecuteResult),
}

/// Runs the operations of one connector. Implemented by the direct and hosted modes; other
/// implementations (a test double, a server-side executor) plug into
/// [`Client::with_executor`](crate::Client::with_executor).
pub trait Executor: Send + Sync + fmt::Debug + 'static {
    /// The kind of executor.
    fn mode(&self) -> Mode;

    /// Whether the executor supplies `param` of `op` itself, so that a caller may omit it even
    /// though the spec requires it (scoping and config-injected values).
    fn supplies(&self, op: &OperationDescriptor, param: &ParamDescriptor) -> bool;

    /// Run `op` with validated `params`.
    fn fetch<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: &'a Params,
        options: &'a ExecuteOptions,
    ) -> BoxFuture<'a, Result<Fetched>>;

    /// Fetch a next-page URL the API returned for `op`.
    fn fetch_url<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        url: &'a str,
    ) -> BoxFuture<'a, Result<Fetched>>;

    /// Stream the bytes of download operation `op` with validated `params`.
    fn download<'a>(
        &'a self,
        op: &'static OperationDescriptor,
        params: Params,
    ) -> BoxFuture<'a, Result<ByteStream>>;

    /// Run an action no descriptor describes (hosted-only actions such as
    /// `context_store_search`); `None` when the executor has no such actions.
    fn passthrough<'a>(
        &'a self,
        _entity: &'a str,
        _action: &'a str,
        _params: Value,
    ) -> Option<BoxFuture<'a, Result<ExecuteResult>>> {
        None
    }

    /// Check the executor's own credentials when the connector has no operation to check with;
    /// `None` when there is nothing to check.
    fn probe(&self) -> Option<BoxFuture<'_, Result<()>>> {
        None
    }

    /// The executor as `Any`, for features only one mode has.
    fn as_any(&self) -> &dyn Any;
}
