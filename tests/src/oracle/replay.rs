//! Wiring to the generator and the runtime: one descriptor per spec, one fresh client per case.

use std::path::Path;
use std::time::Duration;

use airbyte_agent_runtime::{
    Client, ConnectorDescriptor, Credentials, Error, ExecuteResult, ResultKind, SecretString,
};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::compare::{
    Aspect, Mismatch, ObservedError, ObservedResult, compare_requests, compare_result,
};
use super::model::{Case, MockResponse, OracleFile, substitute_host, value_text};
use super::server::{CannedResponse, MockServer, Script};

/// Longest a single case may take before it counts as hung.
const CASE_TIMEOUT: Duration = Duration::from_secs(20);

/// A connector loaded through the generator.
pub(crate) struct Connector {
    descriptor: &'static ConnectorDescriptor,
}

impl Connector {
    /// Load `spec` with the generator and build its runtime descriptor.
    pub(crate) fn load(spec: &Path) -> Result<Self, String> {
        let loaded = airbyte_agent_codegen::load(spec)
            .map_err(|e| format!("cannot load spec {}: {e}", spec.display()))?;
        Ok(Connector {
            descriptor: airbyte_agent_codegen::descriptor(&loaded.ir),
        })
    }

    /// Replay one case; returns every difference and the category of our error, if any.
    pub(crate) async fn replay(
        &self,
        file: &OracleFile,
        case: &Case,
        server: &MockServer,
    ) -> (Vec<Mismatch>, Option<&'static str>) {
        let host = server.host();
        server.set_script(script(file, case, &host));
        let setup = match ClientSetup::new(self.descriptor, file, case, server) {
            Ok(s) => s,
            Err(e) => return (vec![Mismatch::new(Aspect::Setup, e)], None),
        };
        let descriptor = self.descriptor;
        let (entity, action, params) = (
            case.entity.clone(),
            case.action.clone(),
            case.params.clone(),
        );
        let task =
            tokio::spawn(async move { setup.execute(descriptor, &entity, &action, params).await });
        let outcome = match tokio::time::timeout(CASE_TIMEOUT, task).await {
            Err(_) => Err(Mismatch::new(
                Aspect::Crash,
                format!("no result within {} s", CASE_TIMEOUT.as_secs()),
            )),
            Ok(Err(join)) => Err(Mismatch::new(
                Aspect::Crash,
                format!("the call panicked: {}", panic_text(join)),
            )),
            Ok(Ok(Err(setup_error))) => Err(Mismatch::new(Aspect::Setup, setup_error)),
            Ok(Ok(Ok(observed))) => Ok(observed),
        };
        let requests = server.take_requests();
        let mut out = Vec::new();
        compare_requests(&case.requests, &requests, &mut out);
        let mut category = None;
        match outcome {
            Ok(observed) => {
                category = observed.error.as_ref().map(|e| e.category);
                compare_result(&case.result, &observed, &mut out);
            }
            Err(m) => out.push(m),
        }
        (out, category)
    }
}

fn panic_text(err: tokio::task::JoinError) -> String {
    if !err.is_panic() {
        return err.to_string();
    }
    let payload = err.into_panic();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

/// The canned responses of a case, `{mock_host}` substituted.
pub(crate) fn script(file: &OracleFile, case: &Case, host: &str) -> Script {
    let token_paths = file
        .oauth_refresh
        .iter()
        .flat_map(|m| m.values().map(|r| r.mock_path.clone()))
        .collect();
    let token_response = file
        .mock_token_response
        .as_ref()
        .map(|v| CannedResponse::json(&substitute_host(v, host)));
    Script {
        response: canned(&case.mock_response, host),
        token_paths,
        token_response,
    }
}

fn canned(mock: &MockResponse, host: &str) -> CannedResponse {
    use base64::Engine;
    let body = if let Some(b64) = &mock.body_base64 {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map(Bytes::from)
            .unwrap_or_default()
    } else {
        match &mock.body {
            Some(Value::Null) | None => Bytes::new(),
            Some(v) => Bytes::from(substitute_host(v, host).to_string()),
        }
    };
    CannedResponse {
        status: mock.status,
        headers: mock
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.replace("{mock_host}", host)))
            .collect(),
        body,
    }
}

/// Everything needed to build the client inside the spawned task.
struct ClientSetup {
    scheme: String,
    credentials: Vec<(String, String)>,
    base_url: String,
    variables: Vec<(String, String)>,
    refresh_url: Option<String>,
}

impl ClientSetup {
    fn new(
        descriptor: &'static ConnectorDescriptor,
        file: &OracleFile,
        case: &Case,
        server: &MockServer,
    ) -> Result<Self, String> {
        let host = server.host();
        let creds = file.credentials_for(&case.auth_scheme).ok_or_else(|| {
            format!(
                "oracle has no credentials for auth scheme `{}`",
                case.auth_scheme
            )
        })?;
        let names: Vec<&str> = creds.keys().map(String::as_str).collect();
        let scheme = resolve_scheme(descriptor, &case.auth_scheme, &names)?;
        let refresh_url = file
            .oauth_refresh
            .as_ref()
            .and_then(|m| m.get(&case.auth_scheme))
            .map(|r| format!("{}{}", server.origin(), r.mock_path));
        Ok(ClientSetup {
            scheme,
            credentials: creds
                .iter()
                .map(|(k, v)| (k.clone(), value_text(v)))
                .collect(),
            base_url: file.mock_base_url.replace("{mock_host}", &host),
            variables: file
                .config
                .iter()
                .map(|(k, v)| (k.clone(), value_text(v).replace("{mock_host}", &host)))
                .collect(),
            refresh_url,
        })
    }

    /// Build a fresh client and run the call. `Err` is a setup failure (client not built).
    async fn execute(
        self,
        descriptor: &'static ConnectorDescriptor,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Result<ObservedResult, String> {
        let mut creds = Credentials::for_scheme(self.scheme);
        for (k, v) in self.credentials {
            creds.insert(k, SecretString::from(v));
        }
        let mut builder = Client::builder(descriptor, creds).base_url(self.base_url);
        for (k, v) in self.variables {
            builder = builder.server_variable(k, v);
        }
        if let Some(url) = self.refresh_url {
            builder = builder.refresh_url(url);
        }
        let client = match builder.build() {
            Ok(c) => c,
            // A client that cannot be built is an error result too (the reference fails the
            // call the same way for unusable credentials).
            Err(e) => return Ok(observed_error(&e)),
        };
        let params = if params.is_null() {
            Value::Object(Map::new())
        } else {
            params
        };
        Ok(match client.execute(entity, action, params).await {
            Ok(result) => observed_ok(result),
            Err(e) => observed_error(&e),
        })
    }
}

/// A client for `case` (typed-API replay, `oracle::typed`): `Err` is a setup failure, `Ok(Err)`
/// a client the runtime refused to build.
pub(crate) fn build_client(
    descriptor: &'static ConnectorDescriptor,
    file: &OracleFile,
    case: &Case,
    server: &MockServer,
) -> Result<Result<Client, Error>, String> {
    let s = ClientSetup::new(descriptor, file, case, server)?;
    let mut creds = Credentials::for_scheme(s.scheme);
    for (k, v) in s.credentials {
        creds.insert(k, SecretString::from(v));
    }
    let mut builder = Client::builder(descriptor, creds).base_url(s.base_url);
    for (k, v) in s.variables {
        builder = builder.server_variable(k, v);
    }
    if let Some(url) = s.refresh_url {
        builder = builder.refresh_url(url);
    }
    Ok(builder.build())
}

/// The descriptor's scheme key for the oracle's scheme name. The reference names the only
/// scheme of single-auth connectors `default`; otherwise names are the spec's keys.
fn resolve_scheme(
    descriptor: &ConnectorDescriptor,
    oracle_scheme: &str,
    credential_names: &[&str],
) -> Result<String, String> {
    let schemes = descriptor.auth_schemes;
    if let Some(s) = schemes.iter().find(|s| s.key == oracle_scheme) {
        return Ok(s.key.to_string());
    }
    if let [only] = schemes {
        return Ok(only.key.to_string());
    }
    // Several options: the one whose fields cover the given credentials best.
    let score = |fields: &[airbyte_agent_runtime::AuthField]| {
        credential_names
            .iter()
            .filter(|n| fields.iter().any(|f| f.name == **n))
            .count()
    };
    schemes
        .iter()
        .max_by_key(|s| score(s.fields))
        .filter(|s| score(s.fields) > 0)
        .map(|s| s.key.to_string())
        .ok_or_else(|| {
            format!(
                "auth scheme `{oracle_scheme}` matches none of {}",
                schemes.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
            )
        })
}

fn observed_ok(result: ExecuteResult) -> ObservedResult {
    let meta = result
        .meta
        .clone()
        .map(Value::Object)
        .unwrap_or(Value::Null);
    let (kind, data) = match result.kind {
        ResultKind::Envelope => (Some("envelope"), result.data),
        ResultKind::Download => (
            Some("download"),
            json!({ "__bytes_base64__": result.data.get("content_base64").cloned().unwrap_or(Value::Null) }),
        ),
        _ => (Some("raw"), result.data),
    };
    ObservedResult {
        success: true,
        kind,
        data,
        meta,
        error: None,
    }
}

fn observed_error(e: &Error) -> ObservedResult {
    ObservedResult {
        success: false,
        kind: None,
        data: Value::Null,
        meta: Value::Null,
        error: Some(ObservedError {
            category: category(e),
            message: e.message(),
            display: e.to_string(),
        }),
    }
}

/// The runtime error variant's name.
fn category(e: &Error) -> &'static str {
    match e {
        Error::UnknownEntity { .. } => "UnknownEntity",
        Error::UnknownAction { .. } => "UnknownAction",
        Error::UnknownParam { .. } => "UnknownParam",
        Error::MissingParam { .. } => "MissingParam",
        Error::InvalidParam { .. } => "InvalidParam",
        Error::UnknownAuthScheme { .. } => "UnknownAuthScheme",
        Error::MissingCredential { .. } => "MissingCredential",
        Error::InvalidUrl { .. } => "InvalidUrl",
        Error::MissingServerVariable { .. } => "MissingServerVariable",
        Error::InvalidHeader { .. } => "InvalidHeader",
        Error::RefreshUnavailable { .. } => "RefreshUnavailable",
        Error::InvalidArgument { .. } => "InvalidArgument",
        Error::Descriptor { .. } => "Descriptor",
        Error::Auth(_) => "Auth",
        Error::NotFound(_) => "NotFound",
        Error::RateLimited { .. } => "RateLimited",
        Error::Validation(_) => "Validation",
        Error::Service(_) => "Service",
        Error::Api(_) => "Api",
        Error::Timeout { .. } => "Timeout",
        Error::Network { .. } => "Network",
        Error::Response { .. } => "Response",
        Error::Records { .. } => "Records",
        Error::Decode { .. } => "Decode",
        Error::Io(_) => "Io",
        Error::Unsupported(_) => "Unsupported",
        _ => "Other",
    }
}
