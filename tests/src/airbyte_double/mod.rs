//! A faithful local double of Airbyte's hosted API on 127.0.0.1, for hosted-mode tests.
//!
//! Implements the endpoints the hosted runtime uses, with their documented shapes and errors:
//! application tokens that really expire, multi-organization accounts that require
//! `X-Organization-Id`, connector lookup / create / list / delete, OAuth initiate plus a consent
//! page that redirects in either callback style, cursor-paginated workspaces, source templates
//! ("already exists" on duplicate names), scoped tokens, and an execute endpoint that runs the
//! operation through the direct-mode runtime (`airbyte_agent_runtime::Client`, built from the
//! connector's descriptor and the credentials stored at creation) against a provider double —
//! so hosted and direct results of the same call can be compared.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use airbyte_agent_tests::airbyte_double::{AirbyteDouble, Account};
//! let double = AirbyteDouble::builder()
//!     .account(Account::new("client-1", "secret-1", ["org-1"]))
//!     .workspaces("org-1", ["default"])
//!     .start()
//!     .await?;
//! println!("{}", double.base_url());
//! # Ok(()) }
//! ```

mod embedded;
mod handlers;
mod workflows;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use airbyte_agent_runtime::ConnectorDescriptor;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// An application (client id/secret) and the organizations it belongs to.
#[derive(Debug, Clone)]
pub struct Account {
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Organizations; with more than one, every request must carry `X-Organization-Id`.
    pub organizations: Vec<String>,
}

impl Account {
    /// An account in `organizations`.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        organizations: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Account {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            organizations: organizations.into_iter().map(Into::into).collect(),
        }
    }
}

/// A connector definition the double knows how to create and execute.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The connector's descriptor (its definition id is the key).
    pub descriptor: &'static ConnectorDescriptor,
    /// Where execute calls are sent (a local provider double).
    pub provider_base_url: String,
    /// Replication config keys that creation requires (e.g. Pylon's `start_date`).
    pub required_replication: Vec<String>,
    /// Credentials the OAuth consent flow yields (`None`: the connector has no OAuth).
    pub oauth_credentials: Option<Map<String, Value>>,
}

impl Definition {
    /// A definition executing against `provider_base_url`.
    pub fn new(
        descriptor: &'static ConnectorDescriptor,
        provider_base_url: impl Into<String>,
    ) -> Self {
        Definition {
            descriptor,
            provider_base_url: provider_base_url.into(),
            required_replication: Vec::new(),
            oauth_credentials: None,
        }
    }

    /// Require replication config keys at creation.
    pub fn require_replication(
        mut self,
        keys: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.required_replication = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Enable OAuth with the credentials the consent flow yields.
    pub fn oauth(mut self, credentials: Value) -> Self {
        self.oauth_credentials = credentials.as_object().cloned();
        self
    }
}

/// How the consent page redirects back to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackStyle {
    /// `?secret_id=...` (the application then creates the connector).
    SecretId,
    /// `?server_side_oauth_secret_id=...` (older name of the same).
    ServerSideSecretId,
    /// `?connector_id=...` (the platform created the connector).
    ConnectorId,
}

/// A connector stored by the double.
#[derive(Debug, Clone)]
pub struct StoredConnector {
    /// Id.
    pub id: String,
    /// Organization.
    pub organization_id: String,
    /// Workspace name.
    pub workspace_name: String,
    /// Definition id.
    pub definition_id: String,
    /// Name.
    pub name: String,
    /// Credentials as received (or from the OAuth secret).
    pub credentials: Map<String, Value>,
    /// Replication config as received.
    pub replication_config: Option<Map<String, Value>>,
    /// Source template id as received.
    pub source_template_id: Option<String>,
}

/// A request as received (headers lower-cased).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query.
    pub query: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Recorded {
    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Behaviour switches.
#[derive(Debug, Clone)]
pub struct DoubleConfig {
    /// Lifetime of application tokens (they really expire: 401 afterwards).
    pub token_ttl: Duration,
    /// Whether token responses carry `expires_in`.
    pub send_expires_in: bool,
    /// Workspaces per page of `GET /api/v1/workspaces`.
    pub workspace_page_size: usize,
    /// Connectors per page of the connector list (`next` URL pagination); `None`: one page.
    pub connector_page_size: Option<usize>,
    /// Field name of the scoped token (`token` or `access_token`).
    pub scoped_token_field: &'static str,
    /// OAuth callback style.
    pub callback_style: CallbackStyle,
    /// Artificial latency of the token endpoint (makes races observable).
    pub token_latency: Duration,
    /// Echo submitted credentials in token errors (a careless server; tests redaction).
    pub echo_credentials_in_errors: bool,
}

impl Default for DoubleConfig {
    fn default() -> Self {
        DoubleConfig {
            token_ttl: Duration::from_secs(15 * 60),
            send_expires_in: true,
            workspace_page_size: 2,
            connector_page_size: None,
            scoped_token_field: "token",
            callback_style: CallbackStyle::SecretId,
            token_latency: Duration::ZERO,
            echo_credentials_in_errors: false,
        }
    }
}

pub(crate) struct Fault {
    path_contains: String,
    status: u16,
    remaining: usize,
    retry_after: Option<String>,
}

pub(crate) struct IssuedToken {
    client_id: String,
    organization_id: String,
    expires_at: Instant,
}

pub(crate) struct PendingOAuth {
    organization_id: String,
    workspace_name: String,
    definition_id: String,
    redirect_url: String,
    name: Option<String>,
    replication_config: Option<Map<String, Value>>,
}

#[derive(Clone)]
pub(crate) struct Template {
    organization_id: String,
    value: Map<String, Value>,
}

#[derive(Default)]
pub(crate) struct State {
    config: DoubleConfig,
    accounts: Vec<Account>,
    workspaces: BTreeMap<String, Vec<(String, String)>>,
    definitions: Vec<Definition>,
    tokens: BTreeMap<String, IssuedToken>,
    connectors: Vec<StoredConnector>,
    oauth_pending: BTreeMap<String, PendingOAuth>,
    oauth_secrets: BTreeMap<String, Map<String, Value>>,
    templates: Vec<Template>,
    faults: Vec<Fault>,
    requests: Vec<Recorded>,
    context_store: BTreeMap<String, Vec<Value>>,
    oauth_apps: BTreeMap<(String, String), Map<String, Value>>,
    clients: BTreeMap<String, airbyte_agent_runtime::Client>,
    next_id: u64,
    embedded: embedded::EmbeddedState,
    workflows: workflows::WorkflowState,
}

impl State {
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!(
            "{prefix}{:08x}-0000-4000-8000-{:012x}",
            self.next_id,
            self.next_id * 7919
        )
    }
}

pub(crate) struct Shared {
    state: Mutex<State>,
    token_requests: AtomicUsize,
    execute_requests: AtomicUsize,
    lookup_requests: AtomicUsize,
    origin: String,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builder of an [`AirbyteDouble`].
#[derive(Default)]
pub struct DoubleBuilder {
    state: State,
}

impl DoubleBuilder {
    /// Behaviour switches.
    pub fn config(mut self, config: DoubleConfig) -> Self {
        self.state.config = config;
        self
    }

    /// Add an application account.
    pub fn account(mut self, account: Account) -> Self {
        self.state.accounts.push(account);
        self
    }

    /// Add workspaces to an organization.
    pub fn workspaces(
        mut self,
        organization_id: &str,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        for n in names {
            let id = self.state.id("ws-");
            self.state
                .workspaces
                .entry(organization_id.to_string())
                .or_default()
                .push((id, n.into()));
        }
        self
    }

    /// Add a connector definition.
    pub fn definition(mut self, definition: Definition) -> Self {
        self.state.definitions.push(definition);
        self
    }

    /// Records served by `context_store_search` for `entity`.
    pub fn context_store(mut self, entity: &str, records: Vec<Value>) -> Self {
        self.state.context_store.insert(entity.to_string(), records);
        self
    }

    /// Bind `127.0.0.1:0` and serve (inside a Tokio runtime).
    pub async fn start(self) -> std::io::Result<AirbyteDouble> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(self.state),
            token_requests: AtomicUsize::new(0),
            execute_requests: AtomicUsize::new(0),
            lookup_requests: AtomicUsize::new(0),
            origin: format!("http://{addr}"),
        });
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = Arc::clone(&s);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handlers::handle(Arc::clone(&s), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(AirbyteDouble { addr, shared, task })
    }
}

/// The running double. Stops when dropped.
pub struct AirbyteDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for AirbyteDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AirbyteDouble")
            .field("addr", &self.addr)
            .finish()
    }
}

impl AirbyteDouble {
    /// A builder.
    pub fn builder() -> DoubleBuilder {
        DoubleBuilder::default()
    }

    /// `http://127.0.0.1:port`: pass as the API base URL.
    pub fn base_url(&self) -> String {
        self.shared.origin.clone()
    }

    /// Token requests received (successful or not).
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// Execute requests received.
    pub fn execute_requests(&self) -> usize {
        self.shared.execute_requests.load(Ordering::SeqCst)
    }

    /// Connector lookups (`GET /api/v1/integrations/connectors` with a definition id) received.
    pub fn lookup_requests(&self) -> usize {
        self.shared.lookup_requests.load(Ordering::SeqCst)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// OAuth-app overrides of an organization: connector type → configuration.
    pub fn oauth_apps(&self, organization_id: &str) -> BTreeMap<String, Map<String, Value>> {
        self.shared
            .lock()
            .oauth_apps
            .iter()
            .filter(|((org, _), _)| org == organization_id)
            .map(|((_, t), c)| (t.clone(), c.clone()))
            .collect()
    }

    /// Connectors currently stored.
    pub fn connectors(&self) -> Vec<StoredConnector> {
        self.shared.lock().connectors.clone()
    }

    /// Store a connector directly (as if created earlier); returns its id.
    pub fn seed_connector(
        &self,
        organization_id: &str,
        workspace_name: &str,
        descriptor: &'static ConnectorDescriptor,
        credentials: Value,
    ) -> String {
        let mut st = self.shared.lock();
        let id = st.id("");
        st.connectors.push(StoredConnector {
            id: id.clone(),
            organization_id: organization_id.to_string(),
            workspace_name: workspace_name.to_string(),
            definition_id: descriptor.definition_id.to_string(),
            name: format!("{} - {}", descriptor.name, workspace_name),
            credentials: credentials.as_object().cloned().unwrap_or_default(),
            replication_config: None,
            source_template_id: None,
        });
        id
    }

    /// Answer the next `times` requests whose path contains `path_contains` with `status`.
    pub fn fail_next(
        &self,
        path_contains: &str,
        status: u16,
        times: usize,
        retry_after: Option<&str>,
    ) {
        self.shared.lock().faults.push(Fault {
            path_contains: path_contains.to_string(),
            status,
            remaining: times,
            retry_after: retry_after.map(str::to_string),
        });
    }

    /// Connection-template tags an embedded source was created with.
    pub fn embedded_source_tags(&self, source_id: &str) -> Option<Vec<String>> {
        embedded::source_tags(&self.shared.lock(), source_id)
    }

    /// Expire every issued application token now.
    pub fn expire_all_tokens(&self) {
        let now = Instant::now();
        for t in self.shared.lock().tokens.values_mut() {
            t.expires_at = now;
        }
    }

    /// Visit a consent URL as the user's browser would after approving; returns the
    /// `Location` the consent page redirects to.
    pub async fn approve_consent(&self, consent_url: &str) -> std::io::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let rest = consent_url
            .strip_prefix(&self.shared.origin)
            .ok_or_else(|| std::io::Error::other("consent URL is not served by this double"))?;
        let mut s = tokio::net::TcpStream::connect(self.addr).await?;
        s.write_all(
            format!(
                "GET {rest} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                self.addr
            )
            .as_bytes(),
        )
        .await?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await?;
        let text = String::from_utf8_lossy(&buf);
        if !text.starts_with("HTTP/1.1 302") {
            return Err(std::io::Error::other(format!(
                "consent page did not redirect: {}",
                text.lines().next().unwrap_or("")
            )));
        }
        text.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("location")
                    .then(|| v.trim().to_string())
            })
            .ok_or_else(|| std::io::Error::other("redirect without Location"))
    }
}

impl Drop for AirbyteDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}
