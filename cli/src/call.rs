//! The connector commands: `airbyte-agent <connector> [<entity> [<action>]]` and
//! `airbyte-agent <connector> check`, plus the lookups and parameter parsing they share with
//! `cassette` and `setup`.

use std::io::Read;

use airbyte_agent_runtime::serde_json::{self, Map, Value};
use airbyte_agent_runtime::{
    CheckStatus, Client, ConnectorDescriptor, EntityDescriptor, Error, ExecuteOptions,
    OperationDescriptor, ValueKind,
};
use clap::{ArgMatches, FromArgMatches};

use crate::args::{CallArgs, CheckArgs, GlobalArgs};
use crate::env::{self, ClientOptions, Env, Mode};
use crate::error::CliError;
use crate::help;
use crate::output::Printer;
use crate::registry;

/// A usage error with the pointer to `--help`.
pub fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(format!(
        "{}\nRun `airbyte-agent --help` for usage.",
        msg.into()
    ))
}

/// The mode the global flags ask for.
pub fn mode(global: &GlobalArgs) -> Mode {
    if global.direct {
        Mode::Direct
    } else if global.hosted {
        Mode::Hosted
    } else {
        Mode::Auto
    }
}

/// `airbyte-agent <connector> ...`, with the connector's parsed subcommand matches.
pub async fn run(
    d: &'static ConnectorDescriptor,
    matches: &ArgMatches,
    global: &GlobalArgs,
) -> Result<(), CliError> {
    let printer = Printer::new(global);
    let Some((entity, em)) = matches.subcommand() else {
        return crate::output::write_stdout(&help::entity_list(d));
    };
    if entity == "check" {
        let args = CheckArgs::from_arg_matches(em).map_err(|e| usage(e.to_string()))?;
        return check(d, args, global, printer).await;
    }
    let ent = find_entity(d, entity)?;
    let Some((action, am)) = em.subcommand() else {
        crate::output::write_stdout(&help::entity_help(d, ent))?;
        return Err(usage(format!("missing <action> for `{}`", ent.name)));
    };
    let op = find_operation(d, entity, action)?;
    let args = CallArgs::from_arg_matches(am).map_err(|e| usage(e.to_string()))?;
    let params = build_params(op, args.params.json.as_deref(), &args.params.params)?;
    let env = Env::load(global.env_file.as_deref())?;
    let opts = ClientOptions {
        mode: mode(global),
        base_url: args.connection.base_url.clone(),
        api_host: global.api_host.clone(),
    };
    let client = env::build_client(d, &env, &opts)?;
    let options = ExecuteOptions::new()
        .select_fields(field_list(&args.select))
        .exclude_fields(field_list(&args.exclude));
    let result = client
        .execute_with(op.entity, op.action, Value::Object(params), &options)
        .await
        .map_err(|e| with_url(e, d, &client, &env, &opts))?;
    printer.print(&result.into_value())
}

/// A network failure or timeout names the URL it could not reach (and the setting that chose
/// it); other errors pass through.
fn with_url(
    e: Error,
    d: &ConnectorDescriptor,
    client: &Client,
    env: &Env,
    opts: &ClientOptions,
) -> CliError {
    if !matches!(e, Error::Network { .. } | Error::Timeout { .. }) {
        return CliError::from(e);
    }
    let code = crate::error::runtime_exit_code(&e);
    let target = if client.is_hosted() {
        let host = opts
            .api_host
            .clone()
            .or_else(|| env.get(airbyte_agent_runtime::hosted::ENV_API_HOST))
            .unwrap_or_else(|| "the Airbyte API".to_string());
        env::shown_url(&host)
    } else {
        let url = client
            .resolved_base_url()
            .map(|u| env::shown_url(&u))
            .unwrap_or_else(|_| d.base_url.to_string());
        match env::base_url_override(d, env, opts.base_url.as_deref()) {
            Ok(Some(b)) => format!("{url} (from {})", b.setting),
            _ => url,
        }
    };
    let msg = format!("cannot reach {target}: {e}");
    if code == crate::error::EXIT_API {
        CliError::Api(msg)
    } else {
        CliError::Other(msg)
    }
}

async fn check(
    d: &'static ConnectorDescriptor,
    args: CheckArgs,
    global: &GlobalArgs,
    printer: Printer,
) -> Result<(), CliError> {
    let env = Env::load(global.env_file.as_deref())?;
    let opts = ClientOptions {
        mode: mode(global),
        base_url: args.connection.base_url.clone(),
        api_host: global.api_host.clone(),
    };
    let client = env::build_client(d, &env, &opts)?;
    let report = match &args.entity {
        Some(e) => {
            find_entity(d, e)?;
            client.check_entity(e).await
        }
        None => client.check_with(loose_params(&args.params)?).await,
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
    printer.print(&out)?;
    match report.status {
        CheckStatus::Ok => Ok(()),
        CheckStatus::AuthFailed(m) => Err(CliError::Auth(m)),
        CheckStatus::Skipped(m) => Err(CliError::Other(m)),
        CheckStatus::Unreachable(m) => {
            let url = client
                .resolved_base_url()
                .map(|u| env::shown_url(&u))
                .unwrap_or_default();
            Err(CliError::Api(format!("unreachable: {url}: {m}")))
        }
        other => Err(CliError::Api(other.to_string())),
    }
}

/// `["a,b", " c"]` → `["a", "b", "c"]`.
pub fn field_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(String::from)
        .collect()
}

/// `NAME=VALUE` pairs for operations not known in advance: VALUE is JSON when it parses,
/// else a string.
pub fn loose_params(pairs: &[String]) -> Result<Map<String, Value>, CliError> {
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

/// A compiled-in connector, or a usage error listing them.
pub fn find_connector(name: &str) -> Result<&'static ConnectorDescriptor, CliError> {
    registry::find(name).ok_or_else(|| {
        usage(format!(
            "unknown connector `{name}`; available: {}",
            registry::names()
        ))
    })
}

/// An entity of `d`, or a usage error listing them.
pub fn find_entity(
    d: &'static ConnectorDescriptor,
    name: &str,
) -> Result<&'static EntityDescriptor, CliError> {
    d.entity(name).ok_or_else(|| {
        let names: Vec<&str> = d.entities.iter().map(|e| e.name).collect();
        usage(format!(
            "{} has no entity `{name}`; entities: {}",
            d.name,
            names.join(", ")
        ))
    })
}

/// An action of an entity of `d`, or a usage error listing them.
pub fn find_operation(
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

/// Parameters from `--json` and `--param` (params win).
pub fn build_params(
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
