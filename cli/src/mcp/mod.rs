//! `airbyte-agent mcp`: the MCP service of `airbyte-agent-mcp` (tools, `connector_info`, paged
//! `tools/list`, JSON-RPC checks) over stdio (`stdio.rs`) or Streamable HTTP (`http.rs`), with
//! the connectors and credentials this command line chooses.

mod http;
mod stdio;

use airbyte_agent_mcp::{AgentServer, Backend, pages};
use airbyte_agent_runtime::tools::{ConnectorTools, Dispatcher};

use crate::args::{GlobalArgs, McpArgs};
use crate::call::{find_connector, mode};
use crate::env::{self, ClientOptions, Env};
use crate::error::CliError;

/// `airbyte-agent mcp`: build the connectors' tools and serve them.
pub async fn run(a: McpArgs, global: &GlobalArgs) -> Result<(), CliError> {
    let env = Env::load(global.env_file.as_deref())?;
    let mut opts = ClientOptions::new(mode(global));
    opts.api_host = global.api_host.clone();
    let mut names: Vec<&'static str> = Vec::new();
    for name in &a.connectors {
        let d = find_connector(name.trim())?;
        if !names.contains(&d.name) {
            names.push(d.name);
        }
    }
    let many = names.len() > 1;
    let mut backends = Vec::new();
    for name in names {
        let d = find_connector(name)?;
        let downloads = a
            .download_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("airbyte-agent-downloads"));
        let options = a.tools.options(d, many).download_dir(downloads);
        let backend = match env::build_client(d, &env, &opts) {
            Ok(client) => Backend::ready(Dispatcher::with_options(client, options.clone())),
            // Missing credentials: serve anyway, so the client sees tools and a message saying
            // what to set instead of a closed connection. Bad settings still stop the server.
            Err(CliError::Auth(why)) => {
                eprintln!("warning: {why}; its tools answer with this message until it is set");
                Backend::Unavailable(why)
            }
            Err(e) => return Err(e),
        };
        backends.push((ConnectorTools::with_options(d, options), backend));
    }
    let page_size =
        pages::page_size(env.get(pages::PAGE_SIZE_ENV).as_deref()).map_err(CliError::Config)?;
    let server = AgentServer::new(backends, page_size)
        .map_err(|e| CliError::Usage(format!("{e} (--prefix)")))?;
    match a.http {
        None => stdio::serve(server).await,
        Some(addr) => {
            let token = env.get(&a.token_env).ok_or_else(|| {
                CliError::Config(format!(
                    "--http needs a bearer token: set {} (at least {} characters) in the environment or the env file",
                    a.token_env,
                    http::MIN_TOKEN_LEN
                ))
            })?;
            http::serve(server, addr, &a.token_env, token, a.allow_origins).await
        }
    }
}
