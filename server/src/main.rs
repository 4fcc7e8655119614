//! `airbyte-agent-server`: see `airbyte-agent-server --help`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match airbyte_agent_server::cli::run(std::env::args()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("airbyte-agent-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
