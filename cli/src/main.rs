//! `airbyte-agent`: call connector actions from the command line, or serve them to AI agents
//! over MCP.
//!
//! ```text
//! airbyte-agent <connector> <entity> <action> [--param NAME=VALUE]... [--json PARAMS]
//! airbyte-agent <connector>                     the entities, briefly
//! airbyte-agent <connector> --help              entities, actions and settings
//! airbyte-agent mcp --connector stripe [--connector github] [--http 127.0.0.1:PORT]
//! airbyte-agent tools <connector>
//! airbyte-agent connectors
//! airbyte-agent <connector> check [--entity E]
//! airbyte-agent setup <connector>
//! airbyte-agent completions bash
//! ```
//!
//! Exit codes: 0 success, 1 other failure, 2 usage (bad arguments, unknown names, invalid
//! parameters), 3 authentication (missing or rejected credentials), 4 API (HTTP errors,
//! timeouts, network failures), 5 configuration (an unusable setting such as a base URL).

mod args;
mod call;
mod cassette;
mod consent;
mod env;
mod error;
mod help;
mod mcp;
mod output;
mod registry;
mod setup;

use std::ffi::OsString;

use airbyte_agent_runtime::serde_json::{self, Value};
use airbyte_agent_runtime::tools::ConnectorTools;
use clap::{ArgMatches, FromArgMatches, Subcommand};

use crate::args::{Builtin, CassetteCommand, Cli, GlobalArgs, Tree};
use crate::call::{build_params, find_connector, find_operation, loose_params};
use crate::env::Env;
use crate::error::CliError;
use crate::output::Printer;

fn main() {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let focus = subcommand_name(&argv).unwrap_or_default();
    let matches = match args::command(Tree::Focus(&focus)).try_get_matches_from(&argv) {
        Ok(m) => m,
        // Help and version exit 0; usage errors exit 2 (`error::EXIT_USAGE`).
        Err(e) => e.exit(),
    };
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
    let code = match runtime.block_on(run(matches)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    drop(runtime);
    std::process::exit(code);
}

/// The first positional argument (the subcommand), skipping options and the values of the
/// global options that take one.
fn subcommand_name(argv: &[OsString]) -> Option<String> {
    let mut it = argv.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if matches!(a, "--env-file" | "--output" | "--api-host") {
            it.next();
        } else if a == "help" {
            // `airbyte-agent help stripe` shows the connector's own help.
            continue;
        } else if !a.starts_with('-') {
            return Some(a.to_string());
        }
    }
    None
}

async fn run(matches: ArgMatches) -> Result<(), CliError> {
    let global = GlobalArgs::from_arg_matches(&matches).map_err(|e| call::usage(e.to_string()))?;
    let Some((name, sub)) = matches.subcommand() else {
        return Err(call::usage("missing command"));
    };
    if !Builtin::has_subcommand(name) {
        let d = find_connector(name)?;
        return call::run(d, sub, &global).await;
    }
    let cli = Cli::from_arg_matches(&matches).map_err(|e| call::usage(e.to_string()))?;
    let Some(command) = cli.command else {
        return Err(call::usage("missing command"));
    };
    let printer = Printer::new(&global);
    match command {
        Builtin::Connectors => {
            let list: String = registry::connectors()
                .iter()
                .map(|d| format!("{}\t{}\t{}\n", d.name, d.version, d.title))
                .collect();
            output::write_stdout(&list)
        }
        Builtin::Tools(a) => {
            let d = find_connector(&a.connector)?;
            let tools = ConnectorTools::with_options(d, a.tools.options(d, false));
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
            printer.print(&Value::Array(list))
        }
        Builtin::Cassette(CassetteCommand::Record(a)) => {
            let d = find_connector(&a.connector)?;
            let op = find_operation(d, &a.entity, &a.action)?;
            let env = Env::load(global.env_file.as_deref())?;
            let params = build_params(op, a.params.json.as_deref(), &a.params.params)?;
            cassette::record(
                d,
                &env,
                op,
                params,
                a.connection.base_url.as_deref(),
                &a.out,
            )
            .await
        }
        Builtin::Cassette(CassetteCommand::Replay(a)) => {
            let d = find_connector(&a.connector)?;
            let env = Env::load(global.env_file.as_deref())?;
            cassette::replay(d, &env, &a.files).await
        }
        Builtin::Mcp(a) => mcp::run(a, &global).await,
        Builtin::Setup(a) => {
            let d = find_connector(&a.connector)?;
            let opts = setup::SetupOptions {
                client_id: a.client_id,
                client_secret: a.client_secret,
                organization_id: a.organization_id,
                workspace: a.workspace,
                api_host: global.api_host.clone(),
                yes: a.yes,
                replace: a.replace,
                oauth: a.oauth,
                oauth_timeout: a.oauth_timeout,
                fields: a.fields,
                replication: a.replication,
                check_params: loose_params(&a.params)?,
                env_file: global.env_file.clone(),
            };
            setup::run(d, opts).await
        }
        Builtin::Serve(a) => serve(a.args).await,
        Builtin::Completions(a) => {
            let mut cmd = args::command(Tree::Full);
            // Generated into memory: clap_complete panics on a write error such as a closed pipe.
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut cmd, "airbyte-agent", &mut script);
            output::write_stdout(&String::from_utf8_lossy(&script))
        }
    }
}

/// `airbyte-agent serve ...`: the server's command line, named after this one in its help.
/// Without a command (`airbyte-agent serve`, `airbyte-agent serve --listen ADDR`) it serves.
#[cfg(feature = "serve")]
async fn serve(mut args: Vec<String>) -> Result<(), CliError> {
    let serves = args
        .first()
        .is_none_or(|a| a.starts_with('-') && a != "-h" && a != "--help");
    if serves {
        args.insert(0, "serve".to_string());
    }
    let argv = std::iter::once("airbyte-agent serve".to_string()).chain(args);
    airbyte_agent_server::cli::run(argv)
        .await
        .map_err(|e| CliError::Other(e.to_string()))
}

#[cfg(not(feature = "serve"))]
async fn serve(_args: Vec<String>) -> Result<(), CliError> {
    Err(call::usage(
        "this build has no server: build the CLI with `--features serve`, or run `airbyte-agent-server`",
    ))
}
