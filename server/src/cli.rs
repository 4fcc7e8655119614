//! The `airbyte-agent-server` command line: `init`, `serve`, `rotate-master-key`,
//! `connectors list`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Arg, ArgAction, ArgMatches, Command};
use secrecy::ExposeSecret;

use crate::api::{self, AppState};
use crate::config::ServerConfig;
use crate::crypto::{MASTER_KEY_ENV, MasterKey};
use crate::error::Error;
use crate::registry;
use crate::storage::{DEFAULT_DATABASE_URL, Store};

/// Environment variable with the database URL (the `--database` default).
pub const DATABASE_ENV: &str = "AIRBYTE_SERVER_DATABASE_URL";
/// Environment variable with the master key file (the `--master-key-file` default).
pub const MASTER_KEY_FILE_ENV: &str = "AIRBYTE_SERVER_MASTER_KEY_FILE";
/// The default master key file, in the working directory.
pub const DEFAULT_MASTER_KEY_FILE: &str = "airbyte-agent-server.key";
/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

fn common(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("database")
            .long("database")
            .value_name("URL")
            .help(format!(
                "sqlite://FILE or postgres://... [env {DATABASE_ENV}; default {DEFAULT_DATABASE_URL}]"
            )),
    )
    .arg(
        Arg::new("master-key-file")
            .long("master-key-file")
            .value_name("PATH")
            .help(format!(
                "file with the base64 master key; {MASTER_KEY_ENV} wins over it [env {MASTER_KEY_FILE_ENV}; default {DEFAULT_MASTER_KEY_FILE}]"
            )),
    )
}

/// The command-line definition.
pub fn command() -> Command {
    Command::new("airbyte-agent-server")
        .about("Self-hosted server for Airbyte's hosted agent-connector protocol")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(common(
            Command::new("init")
                .about("Create an organization, its first workspace and client credentials (the secret is printed once)")
                .arg(Arg::new("organization").long("organization").value_name("NAME").default_value("default"))
                .arg(Arg::new("workspace").long("workspace").value_name("NAME").default_value("default")),
        ))
        .subcommand(common(
            Command::new("serve")
                .about("Serve the API")
                .arg(Arg::new("listen").long("listen").value_name("ADDR").default_value(DEFAULT_LISTEN))
                .arg(
                    Arg::new("tls-cert")
                        .long("tls-cert")
                        .value_name("PEM")
                        .requires("tls-key")
                        .help("serve HTTPS with this certificate chain (PEM, leaf first)"),
                )
                .arg(
                    Arg::new("tls-key")
                        .long("tls-key")
                        .value_name("PEM")
                        .requires("tls-cert")
                        .help("the private key of --tls-cert (PEM)"),
                )
                .arg(
                    Arg::new("provider-base-url")
                        .long("provider-base-url")
                        .value_name("CONNECTOR=URL")
                        .action(ArgAction::Append)
                        .help("send calls of a connector (slug or definition id) to URL instead of the spec's server"),
                )
                .arg(
                    Arg::new("provider-refresh-url")
                        .long("provider-refresh-url")
                        .value_name("CONNECTOR=URL")
                        .action(ArgAction::Append)
                        .help("refresh OAuth2 tokens of a connector (slug or definition id) at URL instead of the spec's"),
                )
                .arg(
                    Arg::new("provider-authorization-url")
                        .long("provider-authorization-url")
                        .value_name("CONNECTOR=URL")
                        .action(ArgAction::Append)
                        .help("send OAuth consent of a connector (slug or definition id) to URL instead of the spec's"),
                )
                .arg(Arg::new("public-url").long("public-url").value_name("URL").help("base URL browsers reach this server at (OAuth redirect_uri); default http://HOST of the request"))
                .arg(Arg::new("token-ttl").long("token-ttl").value_name("SECONDS").value_parser(clap::value_parser!(u64)).default_value("900"))
                .arg(Arg::new("max-body-bytes").long("max-body-bytes").value_name("N").value_parser(clap::value_parser!(usize)).default_value("1048576"))
                .arg(Arg::new("request-timeout").long("request-timeout").value_name("SECONDS").value_parser(clap::value_parser!(u64)).default_value("120").help("answer 504 to a request still running after this long"))
                .arg(Arg::new("access-log").long("access-log").value_name("FORMAT").value_parser(["json", "off"]).default_value("json").help("one line per request on stderr: request id, method, route template, status, duration")),
        ))
        .subcommand(common(
            Command::new("rotate-master-key")
                .about("Re-wrap every data key with a new master key")
                .arg(
                    Arg::new("new-master-key-file")
                        .long("new-master-key-file")
                        .value_name("PATH")
                        .help("where to write the new key (required when the key comes from the environment; default: replace the key file)"),
                ),
        ))
        .subcommand(
            Command::new("connectors")
                .about("Administration of stored connectors")
                .subcommand_required(true)
                .subcommand(common(
                    Command::new("list")
                        .about("List connectors (never their credentials)")
                        .arg(Arg::new("organization").long("organization").value_name("ID")),
                )),
        )
}

fn database(m: &ArgMatches) -> String {
    m.get_one::<String>("database")
        .cloned()
        .or_else(|| std::env::var(DATABASE_ENV).ok())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

fn key_file(m: &ArgMatches) -> PathBuf {
    m.get_one::<String>("master-key-file")
        .cloned()
        .or_else(|| std::env::var(MASTER_KEY_FILE_ENV).ok())
        .unwrap_or_else(|| DEFAULT_MASTER_KEY_FILE.to_string())
        .into()
}

/// Run the command line (`args` include the program name).
pub async fn run(args: impl IntoIterator<Item = String>) -> Result<(), Error> {
    let m = match command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            print!("{e}");
            return Ok(());
        }
        // clap's own text starts with `error: `; the caller adds its own prefix.
        Err(e) => {
            let text = e.to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            return Err(Error::Config(text.to_string()));
        }
    };
    match m.subcommand() {
        Some(("init", m)) => init(m).await,
        Some(("serve", m)) => serve(m).await,
        Some(("rotate-master-key", m)) => rotate(m).await,
        Some(("connectors", m)) => match m.subcommand() {
            Some(("list", m)) => list_connectors(m).await,
            _ => Err(Error::Config("usage: connectors list".into())),
        },
        _ => Err(Error::Config("unknown command".into())),
    }
}

/// The master key; a new one is created only while no record depends on a key, so a lost or
/// misplaced key file is an error rather than a silently unusable database.
async fn open_key(store: &Store, file: &Path) -> Result<MasterKey, Error> {
    if std::env::var_os(MASTER_KEY_ENV).is_some() || file.exists() {
        return MasterKey::load(file);
    }
    let sealed = store.all_connectors(None).await?.len();
    if sealed > 0 {
        return Err(Error::MasterKey(format!(
            "{} does not exist but the database holds {sealed} sealed connectors: give the key they were sealed with ({MASTER_KEY_ENV} or --master-key-file)",
            file.display()
        )));
    }
    let (key, _) = MasterKey::load_or_create(file)?;
    eprintln!("master key written to {}", file.display());
    Ok(key)
}

async fn init(m: &ArgMatches) -> Result<(), Error> {
    let store = Store::open(&database(m)).await?;
    open_key(&store, &key_file(m)).await?;
    let org = m
        .get_one::<String>("organization")
        .map_or("default", String::as_str);
    let ws = m
        .get_one::<String>("workspace")
        .map_or("default", String::as_str);
    let app = store.create_organization(org, ws).await?;
    store.close().await;
    println!("organization_id: {}", app.organization_id);
    println!("workspace: {ws}");
    println!("client_id: {}", app.client_id);
    println!("client_secret: {}", app.client_secret.expose_secret());
    println!("(the client secret is shown only now; the server keeps only its hash)");
    Ok(())
}

/// `--provider-base-url` values → definition id → URL.
fn provider_urls(m: &ArgMatches, mut config: ServerConfig) -> Result<ServerConfig, Error> {
    for arg in [
        "provider-base-url",
        "provider-refresh-url",
        "provider-authorization-url",
    ] {
        for v in m.get_many::<String>(arg).into_iter().flatten() {
            let (def, url) = provider_url(arg, v)?;
            config = match arg {
                "provider-refresh-url" => config.provider_refresh_url(def, url),
                "provider-authorization-url" => config.provider_authorization_url(def, url),
                _ => config.provider_base_url(def, url),
            };
        }
    }
    if let Some(u) = m.get_one::<String>("public-url") {
        config = config.public_url(u.clone());
    }
    Ok(config)
}

/// `CONNECTOR=URL` → (definition id, URL).
fn provider_url<'a>(arg: &str, v: &'a str) -> Result<(&'static str, &'a str), Error> {
    let (name, url) = v
        .split_once('=')
        .ok_or_else(|| Error::Config(format!("--{arg} {v}: expected CONNECTOR=URL")))?;
    let d = registry::by_definition_id(name)
        .or_else(|| registry::by_type(name))
        .ok_or_else(|| Error::Config(format!("--{arg}: unknown connector {name}")))?;
    Ok((d.definition_id, url))
}

async fn serve(m: &ArgMatches) -> Result<(), Error> {
    let listen = m
        .get_one::<String>("listen")
        .map_or(DEFAULT_LISTEN, String::as_str);
    let addr: SocketAddr = listen
        .parse()
        .map_err(|_| Error::Config(format!("--listen {listen}: expected HOST:PORT")))?;
    let mut config = ServerConfig::new();
    if let Some(ttl) = m.get_one::<u64>("token-ttl") {
        config = config.token_ttl(Duration::from_secs((*ttl).max(1)));
    }
    if let Some(n) = m.get_one::<usize>("max-body-bytes") {
        config = config.max_body_bytes(*n);
    }
    if let Some(t) = m.get_one::<u64>("request-timeout") {
        config = config.request_timeout(Duration::from_secs((*t).max(1)));
    }
    config = config.access_log(
        m.get_one::<String>("access-log")
            .is_none_or(|f| f == "json"),
    );
    let config = provider_urls(m, config)?;
    let tls = match (
        m.get_one::<String>("tls-cert"),
        m.get_one::<String>("tls-key"),
    ) {
        (Some(cert), Some(key)) => Some(crate::tls::config(Path::new(cert), Path::new(key))?),
        _ => None,
    };
    let store = Store::open(&database(m)).await?;
    let key = open_key(&store, &key_file(m)).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let router = api::router(AppState::new(store.clone(), key, config));
    {
        use std::io::Write as _;
        let mut out = std::io::stdout();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let _ = writeln!(out, "listening on {scheme}://{local}");
        let _ = out.flush();
    }
    match tls {
        Some(tls) => crate::tls::serve(listener, router, tls, shutdown_signal()).await?,
        None => api::serve(listener, router, shutdown_signal()).await?,
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

async fn rotate(m: &ArgMatches) -> Result<(), Error> {
    let file = key_file(m);
    let old = MasterKey::load(&file)?;
    let from_env = std::env::var_os(MASTER_KEY_ENV).is_some();
    let explicit = m
        .get_one::<String>("new-master-key-file")
        .map(PathBuf::from);
    if from_env && explicit.is_none() {
        return Err(Error::Config(format!(
            "the master key comes from {MASTER_KEY_ENV}: pass --new-master-key-file PATH for the new key"
        )));
    }
    let new = MasterKey::generate();
    // The new key is on disk before any record depends on it.
    let staged = explicit.clone().unwrap_or_else(|| sibling(&file, ".new"));
    new.write_new(&staged)?;
    let store = Store::open(&database(m)).await?;
    let n = match store.rotate_master_key(&old, &new).await {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    store.close().await;
    if explicit.is_none() {
        std::fs::rename(&staged, &file).map_err(|e| {
            Error::Config(format!(
                "records re-wrapped, but moving {} to {} failed: {e}; the new key is in {}",
                staged.display(),
                file.display(),
                staged.display()
            ))
        })?;
        println!(
            "re-wrapped {n} data keys; new master key {} in {}",
            new.id(),
            file.display()
        );
    } else {
        println!(
            "re-wrapped {n} data keys; new master key {} in {} (update {MASTER_KEY_ENV} or --master-key-file)",
            new.id(),
            staged.display()
        );
    }
    Ok(())
}

async fn list_connectors(m: &ArgMatches) -> Result<(), Error> {
    let store = Store::open(&database(m)).await?;
    let org = m.get_one::<String>("organization").map(String::as_str);
    let all = store.all_connectors(org).await?;
    store.close().await;
    println!("id\torganization_id\tworkspace\tconnector\tauth_option\tname");
    for c in &all {
        let slug = registry::by_definition_id(&c.definition_id)
            .map_or(c.definition_id.as_str(), |d| d.name);
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            c.id, c.organization_id, c.workspace_name, slug, c.auth_scheme, c.name
        );
    }
    Ok(())
}
