//! The command line, declared with clap: one struct per subcommand, plus the connector
//! subcommands (`airbyte-agent stripe customers list`) built at run time from the descriptors of
//! the compiled-in connectors.
//!
//! Only the connector named on the command line gets its entity and action subcommands (with
//! their help texts); `completions` builds the whole tree.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use airbyte_agent_runtime::ConnectorDescriptor;
use airbyte_agent_runtime::tools::ToolOptions;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::help;
use crate::registry;

const AFTER_HELP: &str = "\
Examples:
  airbyte-agent stripe                                  list the entities of a connector
  airbyte-agent stripe customers list -p limit=10       call an action
  airbyte-agent stripe customers list --output table    ... as a table (also json, jsonl)
  airbyte-agent stripe check                            health check
  airbyte-agent setup stripe                            guided hosted setup
  airbyte-agent mcp --connector stripe                  MCP server over stdio
  airbyte-agent mcp --connector stripe --http 127.0.0.1:8808   ... over Streamable HTTP
  airbyte-agent completions bash                        shell completions

Settings (environment or .env; process variables win):
  <CONNECTOR>_<FIELD>      credential and config fields, upper snake case: STRIPE_API_KEY,
                           ZENDESK_SUPPORT_SUBDOMAIN
  <CONNECTOR>_BASE_URL     override the API base URL (or --base-url)
  <CONNECTOR>_AUTH_SCHEME  choose an auth option by key when several are set
  AIRBYTE_CLIENT_ID, AIRBYTE_CLIENT_SECRET, AIRBYTE_ORGANIZATION_ID, AIRBYTE_WORKSPACE_NAME,
  <CONNECTOR>_CONNECTOR_ID hosted mode
  AIRBYTE_AGENT_MCP_TOKEN  the bearer token `mcp --http` requires (or --token-env VAR)

Exit codes: 0 ok, 1 other, 2 usage, 3 authentication, 4 API error, 5 configuration (a bad
setting such as an unusable base URL).";

/// `airbyte-agent`: call Airbyte agent connectors from the command line or serve them over MCP.
#[derive(Debug, Parser)]
#[command(
    name = "airbyte-agent",
    version,
    about = "Call Airbyte agent connectors from the command line or serve them over MCP.",
    after_help = AFTER_HELP,
    arg_required_else_help = true,
    allow_external_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Builtin>,
}

/// Options every command accepts, before or after the subcommand.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Read settings from PATH (default: ./.env when present).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// Call the SaaS API directly with the connector's credentials.
    #[arg(long, global = true, overrides_with = "hosted")]
    pub direct: bool,
    /// Run through Airbyte's hosted API (default: direct when the connector's credentials are
    /// set, hosted when AIRBYTE_CLIENT_ID/SECRET are).
    #[arg(long, global = true, overrides_with = "direct")]
    pub hosted: bool,
    /// Airbyte API URL for hosted mode and setup (else SDK_DEV_ADP_API_HOST).
    #[arg(long, global = true, value_name = "URL")]
    pub api_host: Option<String>,
    /// Indented JSON (default on a terminal).
    #[arg(long, global = true, overrides_with = "compact")]
    pub pretty: bool,
    /// One-line JSON (default in pipes).
    #[arg(long, global = true, overrides_with = "pretty")]
    pub compact: bool,
    /// Output format: json (the whole result), jsonl (one record per line) or table.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The whole result as one JSON document.
    Json,
    /// One JSON record per line (the result itself when it has no records).
    Jsonl,
    /// An aligned text table of the records.
    Table,
}

/// The built-in commands; connector names are subcommands too (see [`command`]).
#[derive(Debug, Subcommand)]
pub enum Builtin {
    /// List the connectors compiled into this binary.
    Connectors,
    /// Print the LLM tool definitions of a connector as JSON.
    Tools(ToolsArgs),
    /// Serve connector tools to AI agents over MCP (stdio, or Streamable HTTP with --http).
    Mcp(McpArgs),
    /// Guided hosted setup of a connector (safe to rerun, resumes where it stopped).
    Setup(SetupArgs),
    /// Record one real call into a cassette, or replay cassettes offline.
    #[command(subcommand)]
    Cassette(CassetteCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// The self-hosted server of the hosted protocol: `serve [--listen ADDR]`, `serve init`,
    /// `serve rotate-master-key`, `serve connectors list` (`airbyte-agent serve --help`).
    #[command(disable_help_flag = true)]
    Serve(ServeArgs),
}

/// `airbyte-agent serve ...`: the arguments of the server's own command line.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server command and its options.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Which tools to expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ToolsMode {
    /// One tool per action.
    #[default]
    PerAction,
    /// One `<connector>_execute` tool per connector.
    Combined,
    /// Both.
    Both,
}

/// Tool options shared by `tools` and `mcp`.
#[derive(Debug, Clone, Default, Args)]
pub struct ToolArgs {
    /// Which tools to expose.
    #[arg(long = "tools", value_enum, default_value_t, value_name = "MODE")]
    pub mode: ToolsMode,
    /// Prefix tool names with the connector name (always on with several connectors).
    #[arg(long)]
    pub prefix: bool,
    /// Truncate tool results longer than N characters.
    #[arg(long, value_name = "N")]
    pub max_output_chars: Option<usize>,
}

impl ToolArgs {
    /// The runtime's tool options (`many`: several connectors, so names are prefixed).
    pub fn options(&self, d: &ConnectorDescriptor, many: bool) -> ToolOptions {
        let mut o = ToolOptions::new();
        match self.mode {
            ToolsMode::PerAction => {}
            ToolsMode::Combined => o = o.per_action(false).combined(true),
            ToolsMode::Both => o = o.combined(true),
        }
        if self.prefix || many {
            o = o.prefix(d.name.replace('-', "_"));
        }
        if let Some(n) = self.max_output_chars {
            o = o.max_output_chars(n);
        }
        o
    }
}

/// `airbyte-agent tools <connector>`.
#[derive(Debug, Args)]
pub struct ToolsArgs {
    /// The connector.
    pub connector: String,
    #[command(flatten)]
    pub tools: ToolArgs,
}

/// `airbyte-agent mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// A connector to serve (repeat, or separate with commas).
    #[arg(
        short = 'c',
        long = "connector",
        value_name = "NAME",
        value_delimiter = ',',
        required = true
    )]
    pub connectors: Vec<String>,
    #[command(flatten)]
    pub tools: ToolArgs,
    /// Serve Streamable HTTP on ADDR (a loopback address such as 127.0.0.1:8808) instead of
    /// stdio. Clients must send `Authorization: Bearer <token>`.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// The environment variable (or .env key) holding the bearer token for --http.
    #[arg(long, value_name = "VAR", default_value = "AIRBYTE_AGENT_MCP_TOKEN")]
    pub token_env: String,
    /// A browser origin allowed to call the HTTP server (repeatable; requests with any other
    /// `Origin` header are refused; requests without one are accepted).
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    pub allow_origins: Vec<String>,
    /// Folder where download tools save files (answered as resource links instead of inline
    /// bytes); default: `airbyte-agent-downloads` in the system's temporary folder.
    #[arg(long, value_name = "DIR")]
    pub download_dir: Option<std::path::PathBuf>,
}

/// `airbyte-agent setup <connector>`. `Debug` redacts the client secret and `--set` values.
#[derive(Args)]
pub struct SetupArgs {
    /// The connector.
    pub connector: String,
    /// Airbyte application client id (else AIRBYTE_CLIENT_ID, else a prompt); the secret comes
    /// from AIRBYTE_CLIENT_SECRET or a prompt without echo.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Airbyte application client secret (discouraged: visible in the process list).
    #[arg(long, value_name = "SECRET", hide = true)]
    pub client_secret: Option<String>,
    /// Airbyte organization id.
    #[arg(long, value_name = "ORG")]
    pub organization_id: Option<String>,
    /// Workspace to use (asked when there are several).
    #[arg(long, value_name = "NAME")]
    pub workspace: Option<String>,
    /// A connector credential field (else <CONNECTOR>_<FIELD>, else a prompt).
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = key_value)]
    pub fields: Vec<(String, String)>,
    /// A replication setting some sources require (start_date=2024-01-01).
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    pub replication: Vec<(String, String)>,
    /// Delete the existing connector and enter new credentials.
    #[arg(long)]
    pub replace: bool,
    /// Grant access in a browser instead of entering credentials.
    #[arg(long)]
    pub oauth: bool,
    /// How long to wait for the browser (default 300).
    #[arg(long, value_name = "SECONDS", value_parser = seconds)]
    pub oauth_timeout: Option<Duration>,
    /// A parameter of the test query.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Never prompt; fail with what is missing instead.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

impl std::fmt::Debug for SetupArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SetupArgs")
            .field("connector", &self.connector)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("organization_id", &self.organization_id)
            .field("workspace", &self.workspace)
            .field("fields", &fields)
            .field("replication", &self.replication)
            .field("replace", &self.replace)
            .field("oauth", &self.oauth)
            .field("oauth_timeout", &self.oauth_timeout)
            .field("params", &self.params)
            .field("yes", &self.yes)
            .finish()
    }
}

/// `airbyte-agent cassette record|replay`.
#[derive(Debug, Subcommand)]
pub enum CassetteCommand {
    /// Make one call in direct mode through a loopback proxy and write what was sent and
    /// received (credentials referred to by their environment variables, secrets redacted).
    Record(RecordArgs),
    /// Serve each cassette from a loopback server, run the same call against it and list every
    /// difference (exit 1 when one differs).
    Replay(ReplayArgs),
}

/// `airbyte-agent cassette record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The connector.
    pub connector: String,
    /// The entity.
    pub entity: String,
    /// The action.
    pub action: String,
    #[command(flatten)]
    pub params: ParamArgs,
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// The cassette file to write.
    #[arg(short = 'o', long, value_name = "FILE", required = true)]
    pub out: PathBuf,
}

/// `airbyte-agent cassette replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The connector.
    pub connector: String,
    /// Cassette files.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
}

/// `airbyte-agent completions <shell>`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// Parameters of one call.
#[derive(Debug, Clone, Default, Args)]
pub struct ParamArgs {
    /// A parameter; VALUE is JSON for non-string parameters (limit=10, tags='["a"]'), repeated
    /// names build arrays, NAME.sub=VALUE nests.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// All parameters as a JSON object (`-` reads standard input).
    #[arg(long, value_name = "PARAMS")]
    pub json: Option<String>,
}

/// Where the connector's API is.
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// Override the API base URL (else <CONNECTOR>_BASE_URL).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// `airbyte-agent <connector> <entity> <action>`.
#[derive(Debug, Clone, Default, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub params: ParamArgs,
    /// Keep only these record fields (comma-separated, dotted for nested: id,email,address.city).
    #[arg(long, value_name = "FIELDS")]
    pub select: Vec<String>,
    /// Drop these record fields.
    #[arg(long, value_name = "FIELDS")]
    pub exclude: Vec<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `airbyte-agent <connector> check`.
#[derive(Debug, Clone, Default, Args)]
pub struct CheckArgs {
    /// Check one entity (its list or get) instead of the connector's health-check operation.
    #[arg(long, value_name = "ENTITY")]
    pub entity: Option<String>,
    /// A parameter of the checked operation.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected KEY=VALUE, got `{text}`"))
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| format!("expected a number of seconds, got `{text}`"))
}

/// How much of the connector tree to build.
#[derive(Debug, Clone, Copy)]
pub enum Tree<'a> {
    /// Entity and action subcommands of this connector only (when it is one).
    Focus(&'a str),
    /// Every connector's entities and actions (for completion scripts).
    Full,
}

/// The whole command: the derived built-ins plus one subcommand per compiled-in connector.
pub fn command(tree: Tree<'_>) -> clap::Command {
    let mut root = Cli::command();
    for d in registry::connectors() {
        let full = match tree {
            Tree::Full => true,
            Tree::Focus(name) => registry::find(name).is_some_and(|f| f.name == d.name),
        };
        root = root.subcommand(connector_command(d, full, matches!(tree, Tree::Focus(_))));
    }
    root
}

/// `airbyte-agent <connector>`: `check` plus one subcommand per entity, each with one per
/// action. `with_help` renders the hand-written help texts (not needed for completions).
fn connector_command(
    d: &'static ConnectorDescriptor,
    full: bool,
    with_help: bool,
) -> clap::Command {
    let mut c = clap::Command::new(d.name)
        .about(format!(
            "{} connector: its entities and actions",
            help::short_title(d)
        ))
        // Unknown entity and action names are reported by the CLI with the valid choices.
        .allow_external_subcommands(true)
        .disable_help_subcommand(true);
    if d.name.contains('-') {
        c = c.alias(d.name.replace('-', "_"));
    }
    if !full {
        return c;
    }
    if with_help {
        c = c.override_help(help::connector_help(d));
    }
    c = c.subcommand(CheckArgs::augment_args(
        clap::Command::new("check")
            .about("Health check: one cheap call (limit 1), a JSON report and an exit code")
            .override_help(help::check_help(d)),
    ));
    for e in d.entities {
        if e.name == "check" {
            continue;
        }
        let mut ec = clap::Command::new(e.name)
            .about(help::entity_heading(d, e))
            .allow_external_subcommands(true)
            .disable_help_subcommand(true);
        if with_help {
            ec = ec.override_help(help::entity_help(d, e));
        }
        for op in e.operations {
            let mut ac = clap::Command::new(op.action).about(help::action_summary(op));
            if with_help {
                ac = ac.override_help(help::action_help(d, op));
            }
            ec = ec.subcommand(CallArgs::augment_args(ac));
        }
        c = c.subcommand(ec);
    }
    c
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_full_command_tree_is_consistent() {
        // clap's debug assertions (duplicate names, short flags, ...) run on build.
        super::command(super::Tree::Full).debug_assert();
    }

    #[test]
    fn setup_args_debug_redacts_secrets() {
        use clap::Parser;
        let cli = super::Cli::try_parse_from([
            "airbyte-agent",
            "setup",
            "stripe",
            "--client-secret",
            "cs_hidden_value",
            "--set",
            "api_key=sk_hidden_value",
        ])
        .expect("parses");
        let text = format!("{cli:?}");
        assert!(
            text.contains("api_key") && text.contains("[redacted]"),
            "{text}"
        );
        assert!(
            !text.contains("cs_hidden_value") && !text.contains("sk_hidden_value"),
            "{text}"
        );
    }
}
