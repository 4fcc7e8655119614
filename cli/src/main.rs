//! `airbyte-agent`: call connector actions from the command line, or serve them to AI agents
//! over MCP.
//!
//! ```text
//! airbyte-agent <connector> <entity> <action> [--param NAME=VALUE]... [--json PARAMS]
//! airbyte-agent <connector> --help
//! airbyte-agent mcp --connector stripe [--connector github]
//! airbyte-agent tools <connector>
//! airbyte-agent connectors
//! airbyte-agent <connector> check [--entity E]
//! airbyte-agent setup <connector>
//! ```
//!
//! Exit codes: 0 success, 1 other failure, 2 usage (bad arguments, unknown names, invalid
//! parameters), 3 authentication (missing or rejected credentials), 4 API (HTTP errors,
//! timeouts, network failures).

mod cassette;
mod consent;
mod env;
mod error;
mod mcp;
mod registry;
mod setup;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use airbyte_agent_runtime::serde_json::{self, Map, Value};
use airbyte_agent_runtime::tools::{
    ConnectorTools, Dispatcher, ToolOptions, action_description, action_signature,
    connector_description,
};
use airbyte_agent_runtime::{ConnectorDescriptor, ExecuteOptions, OperationDescriptor, ValueKind};

use crate::env::{ClientOptions, Env, Mode, var_name};
use crate::error::CliError;

const USAGE: &str = "\
airbyte-agent: call Airbyte agent connectors from the command line or serve them over MCP.

Usage:
  airbyte-agent <connector> <entity> <action> [--param NAME=VALUE]... [--json PARAMS]
                [--select FIELDS] [--exclude FIELDS]
  airbyte-agent <connector> [<entity> [<action>]] --help
  airbyte-agent <connector> check [--entity ENTITY] [--param NAME=VALUE]...
  airbyte-agent setup <connector> [--client-id ID] [--workspace NAME] [--set FIELD=VALUE]...
                      [--organization-id ORG] [--api-host URL] [--replication KEY=VALUE]...
                      [--replace] [--oauth [--oauth-timeout SECONDS]] [--yes]
  airbyte-agent mcp --connector <connector> [--connector <connector>]... [--tools per-action|combined|both]
                    [--prefix] [--max-output-chars N]
  airbyte-agent tools <connector> [--tools per-action|combined|both]
  airbyte-agent cassette record <connector> <entity> <action> [--param NAME=VALUE]... --out FILE
  airbyte-agent cassette replay <connector> FILE...
  airbyte-agent connectors

Call options:
  -p, --param NAME=VALUE   a parameter; VALUE is JSON for non-string parameters (limit=10,
                           tags='[\"a\"]'), repeated names build arrays, NAME.sub=VALUE nests
  --json PARAMS            all parameters as a JSON object (`-` reads standard input)
  --select FIELDS          keep only these record fields (comma-separated, dotted for nested:
                           id,email,address.city); --exclude FIELDS drops fields instead
  --pretty / --compact     output format (default: pretty on a terminal, compact in pipes)

Setup (guided hosted setup; safe to rerun, resumes where it stopped):
  --client-id ID           Airbyte application client id (else AIRBYTE_CLIENT_ID, else a prompt);
                           the secret comes from AIRBYTE_CLIENT_SECRET or a prompt without echo
  --workspace NAME         workspace to use (asked when there are several)
  --set FIELD=VALUE        a connector credential field (else <CONNECTOR>_<FIELD>, else a prompt)
  --replication KEY=VALUE  a replication setting some sources require (start_date=2024-01-01)
  --replace                delete the existing connector and enter new credentials
  --oauth                  grant access in a browser instead of entering credentials: prints
                           Airbyte's consent URL and waits for the browser on a loopback port
  --oauth-timeout SECONDS  how long to wait for the browser (default 300)
  -y, --yes                never prompt; fail with what is missing instead
  Writes AIRBYTE_* and <CONNECTOR>_CONNECTOR_ID to the env file (other keys kept, mode 0600).

Cassettes (the reference SDK's YAML layout): `record` makes the call in direct mode through a
loopback proxy and writes what was sent and received, with credentials referred to by their
environment variables and secrets redacted; `replay` serves each cassette from a loopback server,
runs the same call against it and lists every difference (exit 1 when one differs).

Check exit codes: 0 ok, 3 credentials rejected, 4 unreachable or API error, 1 nothing checkable.

Common options:
  --env-file PATH          read settings from PATH (default: ./.env when present)
  --direct / --hosted      force direct or hosted mode (default: direct when the connector's
                           credentials are set, hosted when AIRBYTE_CLIENT_ID/SECRET are)

Settings (environment or .env; process variables win):
  <CONNECTOR>_<FIELD>      credential and config fields, upper snake case: STRIPE_API_KEY,
                           ZENDESK_SUPPORT_SUBDOMAIN
  <CONNECTOR>_BASE_URL     override the API base URL
  <CONNECTOR>_AUTH_SCHEME  choose an auth option by key when several are set
  AIRBYTE_CLIENT_ID, AIRBYTE_CLIENT_SECRET, AIRBYTE_ORGANIZATION_ID, AIRBYTE_WORKSPACE_NAME,
  <CONNECTOR>_CONNECTOR_ID hosted mode

Exit codes: 0 ok, 1 other, 2 usage, 3 authentication, 4 API error.";

#[derive(Default)]
struct Common {
    env_file: Option<PathBuf>,
    mode: Option<Mode>,
    help: bool,
    pretty: Option<bool>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(error::EXIT_OTHER);
        }
    };
    let code = match runtime.block_on(run(args)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    drop(runtime);
    std::process::exit(code);
}

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(format!(
        "{}\nRun `airbyte-agent --help` for usage.",
        msg.into()
    ))
}

fn take_value(args: &mut std::vec::IntoIter<String>, flag: &str) -> Result<String, CliError> {
    args.next()
        .ok_or_else(|| usage(format!("{flag} needs a value")))
}

async fn run(args: Vec<String>) -> Result<(), CliError> {
    let mut common = Common::default();
    let mut positional: Vec<String> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut json: Option<String> = None;
    let mut connectors: Vec<String> = Vec::new();
    let mut tools_mode: Option<String> = None;
    let mut prefix = false;
    let mut max_output: Option<usize> = None;
    let mut version = false;
    let mut setup_opts = setup::SetupOptions::default();
    let mut check_entity: Option<String> = None;
    let mut out: Option<PathBuf> = None;
    let mut select: Vec<String> = Vec::new();
    let mut exclude: Vec<String> = Vec::new();

    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let value = |it: &mut std::vec::IntoIter<String>| match inline.clone() {
            Some(v) => Ok(v),
            None => take_value(it, &flag),
        };
        match flag.as_str() {
            "-h" | "--help" => common.help = true,
            "-V" | "--version" => version = true,
            "--env-file" => common.env_file = Some(PathBuf::from(value(&mut it)?)),
            "--direct" => common.mode = Some(Mode::Direct),
            "--hosted" => common.mode = Some(Mode::Hosted),
            "--pretty" => common.pretty = Some(true),
            "--compact" => common.pretty = Some(false),
            "-p" | "--param" => params.push(value(&mut it)?),
            "--json" => json = Some(value(&mut it)?),
            "-c" | "--connector" => connectors.extend(
                value(&mut it)?
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            ),
            "--tools" => tools_mode = Some(value(&mut it)?),
            "-o" | "--out" => out = Some(PathBuf::from(value(&mut it)?)),
            "--select" => select.extend(field_list(&value(&mut it)?)),
            "--exclude" => exclude.extend(field_list(&value(&mut it)?)),
            "--prefix" => prefix = true,
            "--client-id" => setup_opts.client_id = Some(value(&mut it)?),
            "--client-secret" => setup_opts.client_secret = Some(value(&mut it)?),
            "--organization-id" => setup_opts.organization_id = Some(value(&mut it)?),
            "--workspace" => setup_opts.workspace = Some(value(&mut it)?),
            "--api-host" => setup_opts.api_host = Some(value(&mut it)?),
            "-y" | "--yes" => setup_opts.yes = true,
            "--replace" => setup_opts.replace = true,
            "--oauth" => setup_opts.oauth = true,
            "--oauth-timeout" => {
                let v = value(&mut it)?;
                let secs: u64 = v.parse().map_err(|_| {
                    usage(format!(
                        "--oauth-timeout needs a number of seconds, got `{v}`"
                    ))
                })?;
                setup_opts.oauth_timeout = Some(std::time::Duration::from_secs(secs));
            }
            "--set" => {
                let v = value(&mut it)?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--set needs FIELD=VALUE, got `{v}`")))?;
                setup_opts.fields.push((k.to_string(), val.to_string()));
            }
            "--replication" => {
                let v = value(&mut it)?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--replication needs KEY=VALUE, got `{v}`")))?;
                setup_opts
                    .replication
                    .push((k.to_string(), val.to_string()));
            }
            "--entity" => check_entity = Some(value(&mut it)?),
            "--max-output-chars" => {
                let v = value(&mut it)?;
                max_output =
                    Some(v.parse().map_err(|_| {
                        usage(format!("--max-output-chars needs a number, got `{v}`"))
                    })?);
            }
            "--" => positional.extend(it.by_ref()),
            f if f.starts_with('-') && f.len() > 1 => {
                return Err(usage(format!("unknown option `{f}`")));
            }
            _ => positional.push(arg),
        }
    }

    if version {
        println!("airbyte-agent {}", env!("CARGO_PKG_VERSION"));
        return Ok(());
    }
    let Some(first) = positional.first().cloned() else {
        if common.help {
            println!("{USAGE}");
            return Ok(());
        }
        return Err(usage("missing command"));
    };
    let tool_options =
        |connector: &ConnectorDescriptor, many: bool| -> Result<ToolOptions, CliError> {
            let mut o = ToolOptions::new();
            match tools_mode.as_deref() {
                None | Some("per-action") => {}
                Some("combined") => o = o.per_action(false).combined(true),
                Some("both") => o = o.combined(true),
                Some(other) => {
                    return Err(usage(format!(
                        "--tools must be per-action, combined or both, got `{other}`"
                    )));
                }
            }
            if prefix || many {
                o = o.prefix(connector.name.replace('-', "_"));
            }
            if let Some(n) = max_output {
                o = o.max_output_chars(n);
            }
            Ok(o)
        };

    match first.as_str() {
        "help" => {
            println!("{USAGE}");
            Ok(())
        }
        "connectors" => {
            for d in registry::connectors() {
                println!("{}\t{}\t{}", d.name, d.version, d.title);
            }
            Ok(())
        }
        "tools" => {
            let name = positional
                .get(1)
                .ok_or_else(|| usage("`tools` needs a connector name"))?;
            let d = find_connector(name)?;
            let tools = ConnectorTools::with_options(d, tool_options(d, false)?);
            let list: Vec<Value> = tools
                .tools()
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "name": t.name,
                        "title": t.title,
                        "description": t.description,
                        "inputSchema": t.input_schema,
                        "annotations": {
                            "readOnlyHint": t.annotations.read_only,
                            "destructiveHint": t.annotations.destructive,
                            "idempotentHint": t.annotations.idempotent,
                            "openWorldHint": t.annotations.open_world,
                        }
                    })
                })
                .collect();
            print_json(&Value::Array(list), common.pretty)
        }
        "cassette" => {
            let sub = positional.get(1).map(String::as_str);
            let d = find_connector(
                positional
                    .get(2)
                    .ok_or_else(|| usage("`cassette record|replay` needs a connector name"))?,
            )?;
            let env = Env::load(common.env_file.as_deref())?;
            match sub {
                Some("record") => {
                    let (Some(e), Some(a)) = (positional.get(3), positional.get(4)) else {
                        return Err(usage(
                            "`cassette record` needs <connector> <entity> <action>",
                        ));
                    };
                    let op = find_operation(d, e, a)?;
                    let out = out.ok_or_else(|| usage("`cassette record` needs --out FILE"))?;
                    let call_params = build_params(op, json.as_deref(), &params)?;
                    cassette::record(d, &env, op, call_params, &out).await
                }
                Some("replay") => cassette::replay(d, &env, &positional[3..]).await,
                _ => Err(usage("`cassette` needs `record` or `replay`")),
            }
        }
        "mcp" => {
            if common.help {
                println!("{USAGE}");
                return Ok(());
            }
            if connectors.is_empty() {
                return Err(usage(format!(
                    "`mcp` needs --connector NAME (available: {})",
                    registry::names()
                )));
            }
            let env = Env::load(common.env_file.as_deref())?;
            let opts = ClientOptions {
                mode: common.mode.unwrap_or(Mode::Auto),
            };
            let many = connectors.len() > 1;
            let mut dispatchers = Vec::new();
            for name in &connectors {
                let d = find_connector(name)?;
                if dispatchers
                    .iter()
                    .any(|x: &Dispatcher| x.tools().descriptor().name == d.name)
                {
                    continue;
                }
                let client = env::build_client(d, &env, opts)?;
                dispatchers.push(Dispatcher::with_options(client, tool_options(d, many)?));
            }
            mcp::AgentServer::new(dispatchers)?.serve_stdio().await
        }
        "setup" => {
            if common.help {
                println!("{USAGE}");
                return Ok(());
            }
            let name = positional
                .get(1)
                .ok_or_else(|| usage("`setup` needs a connector name"))?;
            if let Some(extra) = positional.get(2) {
                return Err(usage(format!("unexpected argument `{extra}`")));
            }
            let d = find_connector(name)?;
            setup_opts.env_file = common.env_file.clone();
            setup_opts.check_params = loose_params(&params)?;
            setup::run(d, setup_opts).await
        }
        name if positional.get(1).map(String::as_str) == Some("check") => {
            let d = find_connector(name)?;
            if common.help {
                println!(
                    "airbyte-agent {} check [--entity ENTITY] [--param NAME=VALUE]...\n\nRuns the connector's health-check operation (or one entity's list/get) with limit 1 and prints\na JSON report. Exit codes: 0 ok, 3 credentials rejected, 4 unreachable or API error,\n1 nothing checkable.",
                    d.name
                );
                return Ok(());
            }
            if let Some(extra) = positional.get(2) {
                return Err(usage(format!("unexpected argument `{extra}`")));
            }
            let env = Env::load(common.env_file.as_deref())?;
            let client = env::build_client(
                d,
                &env,
                ClientOptions {
                    mode: common.mode.unwrap_or(Mode::Auto),
                },
            )?;
            let report = match &check_entity {
                Some(e) => {
                    find_entity(d, e)?;
                    client.check_entity(e).await
                }
                None => client.check_with(loose_params(&params)?).await,
            };
            let out = serde_json::json!({
                "status": report.status.label(),
                "message": report.status.message(),
                "mode": if client.is_hosted() { "hosted" } else { "direct" },
                "entity": report.entity,
                "action": report.action,
                "http_status": report.http_status,
                "records": report.records,
                "elapsed_ms": u64::try_from(report.elapsed.as_millis()).unwrap_or(u64::MAX),
            });
            print_json(&out, common.pretty)?;
            match report.status {
                airbyte_agent_runtime::CheckStatus::Ok => Ok(()),
                airbyte_agent_runtime::CheckStatus::AuthFailed(m) => Err(CliError::Auth(m)),
                airbyte_agent_runtime::CheckStatus::Skipped(m) => Err(CliError::Other(m)),
                airbyte_agent_runtime::CheckStatus::Unreachable(m) => {
                    Err(CliError::Api(format!("unreachable: {m}")))
                }
                other => Err(CliError::Api(other.to_string())),
            }
        }
        name => {
            let d = find_connector(name)?;
            let entity = positional.get(1);
            let action = positional.get(2);
            if let Some(extra) = positional.get(3) {
                return Err(usage(format!("unexpected argument `{extra}`")));
            }
            match (entity, action) {
                (None, _) => {
                    print!("{}", connector_help(d));
                    if common.help {
                        Ok(())
                    } else {
                        Err(usage("missing <entity> <action>"))
                    }
                }
                (Some(e), None) => {
                    let ent = find_entity(d, e)?;
                    let mut s = format!("{}: {}\nActions:\n", ent.name, ent.description.trim());
                    for op in ent.operations {
                        s.push_str(&format!("  {}\n", action_signature(d, op)));
                    }
                    print!("{s}");
                    if common.help {
                        Ok(())
                    } else {
                        Err(usage(format!("missing <action> for `{}`", ent.name)))
                    }
                }
                (Some(e), Some(a)) => {
                    let op = find_operation(d, e, a)?;
                    if common.help {
                        println!("{}", action_help(d, op));
                        return Ok(());
                    }
                    let call_params = build_params(op, json.as_deref(), &params)?;
                    let env = Env::load(common.env_file.as_deref())?;
                    let client = env::build_client(
                        d,
                        &env,
                        ClientOptions {
                            mode: common.mode.unwrap_or(Mode::Auto),
                        },
                    )?;
                    let options = ExecuteOptions::new()
                        .select_fields(select)
                        .exclude_fields(exclude);
                    let result = client
                        .execute_with(op.entity, op.action, Value::Object(call_params), &options)
                        .await?;
                    print_json(&result.into_value(), common.pretty)
                }
            }
        }
    }
}

/// `a,b, c` → `["a", "b", "c"]`.
fn field_list(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(String::from)
}

/// `NAME=VALUE` pairs for operations not known in advance: VALUE is JSON when it parses,
/// else a string.
fn loose_params(pairs: &[String]) -> Result<Map<String, Value>, CliError> {
    let mut m = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| usage(format!("--param needs NAME=VALUE, got `{p}`")))?;
        let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
        m.insert(k.to_string(), v);
    }
    Ok(m)
}

fn find_connector(name: &str) -> Result<&'static ConnectorDescriptor, CliError> {
    registry::find(name).ok_or_else(|| {
        usage(format!(
            "unknown connector `{name}`; available: {}",
            registry::names()
        ))
    })
}

fn find_entity(
    d: &'static ConnectorDescriptor,
    name: &str,
) -> Result<&'static airbyte_agent_runtime::EntityDescriptor, CliError> {
    d.entity(name).ok_or_else(|| {
        let names: Vec<&str> = d.entities.iter().map(|e| e.name).collect();
        usage(format!(
            "{} has no entity `{name}`; entities: {}",
            d.name,
            names.join(", ")
        ))
    })
}

fn find_operation(
    d: &'static ConnectorDescriptor,
    entity: &str,
    action: &str,
) -> Result<&'static OperationDescriptor, CliError> {
    let e = find_entity(d, entity)?;
    e.operations
        .iter()
        .find(|o| o.action == action)
        .ok_or_else(|| {
            let names: Vec<&str> = e.operations.iter().map(|o| o.action).collect();
            usage(format!(
                "entity `{}` has no action `{action}`; actions: {}",
                e.name,
                names.join(", ")
            ))
        })
}

fn connector_help(d: &ConnectorDescriptor) -> String {
    let mut s = format!(
        "Usage: airbyte-agent {} <entity> <action> [--param NAME=VALUE]... [--json PARAMS]\n\n{}\n\nSettings:\n",
        d.name,
        connector_description(d)
    );
    s.push_str(&format!(
        "  {}\n",
        env::missing_credentials_message(d).replacen("no credentials for", "credentials for", 1)
    ));
    s.push_str(&format!(
        "  {} overrides the base URL ({})\n",
        var_name(d, "BASE_URL"),
        d.base_url
    ));
    for key in env::config_keys(d) {
        if d.server_variables.iter().any(|v| v.name == key) {
            continue;
        }
        s.push_str(&format!(
            "  {} sets config value `{key}`\n",
            var_name(d, key)
        ));
    }
    for v in d.server_variables {
        s.push_str(&format!(
            "  {} sets server variable `{}`{}\n",
            var_name(d, v.name),
            v.name,
            v.default
                .map(|x| format!(" (default `{x}`)"))
                .unwrap_or_default()
        ));
    }
    s
}

fn action_help(d: &ConnectorDescriptor, op: &OperationDescriptor) -> String {
    let mut s = format!(
        "Usage: airbyte-agent {} {} {} [--param NAME=VALUE]...\n\n{}\n\nParameters:\n",
        d.name,
        op.entity,
        op.action,
        action_description(d, op)
    );
    for p in op.params {
        if p.name == "*" {
            continue;
        }
        let desc = p
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        s.push_str(&format!(
            "  {} ({:?}, {}{}){}{}\n",
            p.name,
            p.location,
            kind_name(p.kind),
            if p.required && p.default.is_none() {
                ", required"
            } else {
                ""
            },
            p.default
                .map(|x| format!(" default {x}"))
                .unwrap_or_default(),
            if desc.is_empty() {
                String::new()
            } else {
                format!(": {desc}")
            }
        ));
    }
    s
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "string",
        ValueKind::Integer => "integer",
        ValueKind::Number => "number",
        ValueKind::Boolean => "boolean",
        ValueKind::Array => "array",
        ValueKind::Object => "object",
        _ => "any",
    }
}

/// Parameters from `--json` and `--param` (params win).
fn build_params(
    op: &OperationDescriptor,
    json: Option<&str>,
    params: &[String],
) -> Result<Map<String, Value>, CliError> {
    let mut out = match json {
        None => Map::new(),
        Some(text) => {
            let text = if text == "-" {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| usage(format!("cannot read --json from standard input: {e}")))?;
                s
            } else {
                text.to_string()
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                Ok(other) => {
                    return Err(usage(format!(
                        "--json must be a JSON object, got `{other}`"
                    )));
                }
                Err(e) => return Err(usage(format!("--json is not valid JSON: {e}"))),
            }
        }
    };
    let mut seen: Vec<String> = Vec::new();
    for raw in params {
        let Some((key, text)) = raw.split_once('=') else {
            return Err(usage(format!("--param needs NAME=VALUE, got `{raw}`")));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(usage(format!("--param needs a name, got `{raw}`")));
        }
        let declared = op.params.iter().find(|p| p.name == key);
        match declared {
            Some(p) => {
                let value = parse_value(p.kind, text);
                if p.kind == ValueKind::Array && seen.iter().any(|s| s == key) {
                    // Repeated names build arrays.
                    let slot = out.entry(key.to_string()).or_insert(Value::Array(vec![]));
                    let item = match value {
                        Value::Array(a) => a,
                        v => vec![v],
                    };
                    match slot {
                        Value::Array(a) => a.extend(item),
                        other => {
                            let prev = std::mem::take(other);
                            let mut a = vec![prev];
                            a.extend(item);
                            *other = Value::Array(a);
                        }
                    }
                } else {
                    out.insert(key.to_string(), value);
                }
                seen.push(key.to_string());
            }
            None => match key.split_once('.') {
                Some((base, rest)) if op.params.iter().any(|p| p.name == base) => {
                    let slot = out
                        .entry(base.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    insert_path(slot, rest, parse_value(ValueKind::Any, text))
                        .map_err(|m| usage(format!("--param {key}: {m}")))?;
                }
                // Unknown names are passed through; the runtime reports them with the valid
                // choices (or accepts them as aliases / open body fields).
                _ => {
                    out.insert(key.to_string(), parse_value(ValueKind::Any, text));
                }
            },
        }
    }
    Ok(out)
}

fn insert_path(slot: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let Value::Object(map) = slot else {
        return Err("the parameter is already set to a non-object value".into());
    };
    match path.split_once('.') {
        None => {
            map.insert(path.to_string(), value);
            Ok(())
        }
        Some((head, rest)) => {
            let next = map
                .entry(head.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            insert_path(next, rest, value)
        }
    }
}

/// Strings stay strings; other kinds are parsed as JSON, falling back to the raw string (the
/// runtime then reports a type error naming the parameter).
fn parse_value(kind: ValueKind, text: &str) -> Value {
    if kind == ValueKind::String {
        return Value::String(text.to_string());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn print_json(v: &Value, pretty: Option<bool>) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let pretty = pretty.unwrap_or_else(|| stdout.is_terminal());
    let text = if pretty {
        serde_json::to_string_pretty(v)
    } else {
        serde_json::to_string(v)
    }
    .map_err(|e| CliError::Other(format!("cannot print the result: {e}")))?;
    let mut lock = stdout.lock();
    writeln!(lock, "{text}")
        .and_then(|_| lock.flush())
        .or_else(|e| {
            // A closed pipe (`| head`) is not an error worth reporting.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| CliError::Other(format!("cannot write the result: {e}")))
}
