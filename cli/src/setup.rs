//! `airbyte-agent setup <connector>`: guided hosted setup.
//!
//! Checklist: application token → workspace → source template → connector (credentials typed in,
//! or `--oauth`: a browser consent, see `consent.rs`) → test query → `.env`. Every step first looks for what already exists, so re-running resumes where a
//! previous run stopped and never duplicates templates or connectors. Secrets typed at a
//! terminal are read without echo; with piped input they are read line by line; `--yes` never
//! prompts (values must come from flags or the environment).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use airbyte_agent_runtime::hosted::{
    self, AirbyteAuthConfig, CreateOptions, Platform, SourceTemplate,
};
use airbyte_agent_runtime::serde_json::{Map, Value};
use airbyte_agent_runtime::{
    AuthKind, CheckStatus, ConnectorDescriptor, Error, ExposeSecret, SecretString,
};

use crate::consent;
use crate::env::{Env, var_name};
use crate::error::CliError;

/// Where application credentials are managed (for "what to do next" messages).
const CREDENTIALS_HELP: &str = "create or regenerate them in Airbyte under Settings → Applications (https://app.airbyte.ai), then rerun `airbyte-agent setup`";

/// Options of `setup`.
#[derive(Debug, Default)]
pub struct SetupOptions {
    /// `--client-id`.
    pub client_id: Option<String>,
    /// `--client-secret` (discouraged: visible in the process list).
    pub client_secret: Option<String>,
    /// `--organization-id`.
    pub organization_id: Option<String>,
    /// `--workspace`.
    pub workspace: Option<String>,
    /// `--api-host`.
    pub api_host: Option<String>,
    /// `--yes`: never prompt.
    pub yes: bool,
    /// `--replace`: delete the existing connector and create it again (new credentials).
    pub replace: bool,
    /// `--oauth`: create the connector through Airbyte's OAuth consent flow (a browser).
    pub oauth: bool,
    /// `--oauth-timeout SECONDS`: how long to wait for the browser (default 300 s).
    pub oauth_timeout: Option<std::time::Duration>,
    /// `--set FIELD=VALUE`: connector credential fields.
    pub fields: Vec<(String, String)>,
    /// `--replication KEY=VALUE`: replication settings some sources require (e.g. `start_date`).
    pub replication: Vec<(String, String)>,
    /// `--param NAME=VALUE` for the test query.
    pub check_params: Map<String, Value>,
    /// `.env` to read and update.
    pub env_file: Option<PathBuf>,
}

struct Io {
    tty: bool,
    yes: bool,
    stdin: std::io::StdinLock<'static>,
}

impl Io {
    fn say(&self, s: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    }

    fn prompt(&self, s: &str) {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{s}");
        let _ = out.flush();
    }

    fn need(&self, what: &str, hint: &str) -> CliError {
        CliError::Usage(format!(
            "{what} is needed but --yes forbids prompting; {hint}"
        ))
    }

    fn line(&mut self, question: &str, hint: &str) -> Result<String, CliError> {
        if self.yes {
            return Err(self.need(question, hint));
        }
        self.prompt(&format!("{question}: "));
        let mut s = String::new();
        let n = self
            .stdin
            .read_line(&mut s)
            .map_err(|e| CliError::Other(format!("cannot read input: {e}")))?;
        if n == 0 {
            return Err(CliError::Usage(format!(
                "input ended while asking for {question}; {hint}"
            )));
        }
        if !self.tty {
            self.say("");
        }
        Ok(s.trim().to_string())
    }

    fn secret(&mut self, question: &str, hint: &str) -> Result<SecretString, CliError> {
        if self.yes {
            return Err(self.need(question, hint));
        }
        if self.tty {
            let v = read_hidden(|| self.prompt(&format!("{question} (input hidden): ")))
                .map_err(|e| CliError::Other(format!("cannot read from the terminal: {e}")))?;
            return Ok(SecretString::from(v.trim().to_string()));
        }
        self.prompt(&format!("{question} (input hidden): "));
        let mut s = String::new();
        let n = self
            .stdin
            .read_line(&mut s)
            .map_err(|e| CliError::Other(format!("cannot read input: {e}")))?;
        if n == 0 {
            return Err(CliError::Usage(format!(
                "input ended while asking for {question}; {hint}"
            )));
        }
        self.say("");
        Ok(SecretString::from(s.trim().to_string()))
    }
}

/// Read one line from the terminal without echo. Echo is switched off *before* the prompt is
/// shown, so nothing typed right after the prompt appears can be echoed.
#[cfg(unix)]
fn read_hidden(prompt: impl FnOnce()) -> std::io::Result<String> {
    use std::io::BufRead;
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: `termios` is plain data; tcgetattr fills it for a valid, open terminal fd.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` stays open for the lifetime of `tty`; `term` is a valid out-pointer.
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; `term` was obtained from tcgetattr.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    prompt();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restores the settings read above on the same fd.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.map(|_| line)
}

#[cfg(not(unix))]
fn read_hidden(prompt: impl FnOnce()) -> std::io::Result<String> {
    prompt();
    rpassword::read_password()
}

fn step(io: &Io, n: usize, text: &str) {
    io.say(&format!("[{n}/5] {text}"));
}

fn auth_help(e: &Error) -> CliError {
    match e {
        Error::Auth(_) => CliError::Auth(format!(
            "Airbyte rejected the client id / secret ({}); {CREDENTIALS_HELP}",
            e.message()
        )),
        other => CliError::Runtime(clone_error(other)),
    }
}

fn clone_error(e: &Error) -> Error {
    // Runtime errors are not Clone; keep the message and the category that drives exit codes.
    match e {
        Error::Auth(d) => Error::Auth(d.clone()),
        Error::NotFound(d) => Error::NotFound(d.clone()),
        Error::Validation(d) => Error::Validation(d.clone()),
        Error::Service(d) => Error::Service(d.clone()),
        Error::Network { message, .. } => Error::network(message.clone()),
        Error::Timeout { message, .. } => Error::timeout(message.clone()),
        other => Error::Config(other.to_string()),
    }
}

/// Run the checklist.
pub async fn run(d: &'static ConnectorDescriptor, opts: SetupOptions) -> Result<(), CliError> {
    // The env file is created by setup when it does not exist yet.
    let env = match opts.env_file.as_deref() {
        Some(p) if !p.exists() => Env::default(),
        p => Env::load(p)?,
    };
    let mut io = Io {
        tty: std::io::stdin().is_terminal(),
        yes: opts.yes,
        stdin: std::io::stdin().lock(),
    };
    if opts.oauth && !d.auth_schemes.iter().any(|s| s.kind.oauth2().is_some()) {
        return Err(CliError::Usage(format!(
            "{} has no OAuth option; run setup without --oauth and enter its credentials",
            d.name
        )));
    }
    let env_path = opts
        .env_file
        .clone()
        .unwrap_or_else(|| PathBuf::from(".env"));
    io.say(&format!("Setting up {} in Airbyte (hosted mode).", d.title));

    // 1. Application token.
    step(&io, 1, "Application token");
    let client_id = match opts
        .client_id
        .clone()
        .or_else(|| env.get(hosted::ENV_CLIENT_ID))
    {
        Some(v) => v,
        None => io.line(
            "Airbyte client id",
            "pass --client-id or set AIRBYTE_CLIENT_ID",
        )?,
    };
    let client_secret = match opts
        .client_secret
        .clone()
        .or_else(|| env.get(hosted::ENV_CLIENT_SECRET))
    {
        Some(v) => SecretString::from(v),
        None => io.secret(
            "Airbyte client secret",
            "set AIRBYTE_CLIENT_SECRET (or pass --client-secret)",
        )?,
    };
    if client_id.is_empty() || client_secret.expose_secret().is_empty() {
        return Err(CliError::Auth(format!(
            "client id and secret must not be empty; {CREDENTIALS_HELP}"
        )));
    }
    let organization_id = opts
        .organization_id
        .clone()
        .or_else(|| env.get(hosted::ENV_ORGANIZATION_ID));
    let api_host = opts
        .api_host
        .clone()
        .or_else(|| env.get(hosted::ENV_API_HOST));
    let mut cfg = AirbyteAuthConfig::new(client_id.clone(), client_secret.clone());
    if let Some(o) = &organization_id {
        cfg = cfg.organization_id(o.clone());
    }
    if let Some(h) = &api_host {
        cfg = cfg.base_url(h.clone());
    }
    let platform = Platform::new(cfg)?;
    platform
        .application_token()
        .await
        .map_err(|e| auth_help(&e))?;
    io.say("      ok: client credentials accepted");

    // 2. Workspace.
    step(&io, 2, "Workspace");
    let wanted = opts
        .workspace
        .clone()
        .or_else(|| env.get("AIRBYTE_WORKSPACE_NAME"));
    let workspaces = platform.list_workspaces().await?;
    let workspace = match wanted {
        Some(w) => {
            if !workspaces.iter().any(|x| x.name == w) {
                let names: Vec<&str> = workspaces.iter().map(|x| x.name.as_str()).collect();
                return Err(CliError::Usage(format!(
                    "workspace `{w}` does not exist in this organization (workspaces: {}); pass --workspace with one of them",
                    if names.is_empty() {
                        "none".into()
                    } else {
                        names.join(", ")
                    }
                )));
            }
            io.say(&format!("      using `{w}`"));
            w
        }
        None => match workspaces.as_slice() {
            [] => {
                io.say("      no workspace yet: creating `default`");
                platform.create_workspace("default").await?.name
            }
            [one] => {
                io.say(&format!("      using `{}` (the only workspace)", one.name));
                one.name.clone()
            }
            many => {
                let names: Vec<&str> = many.iter().map(|x| x.name.as_str()).collect();
                if io.yes {
                    return Err(CliError::Usage(format!(
                        "several workspaces ({}); pass --workspace NAME",
                        names.join(", ")
                    )));
                }
                io.say("      several workspaces:");
                for (i, n) in names.iter().enumerate() {
                    io.say(&format!("        {}) {n}", i + 1));
                }
                let pick = io.line("Workspace number", "pass --workspace NAME")?;
                let idx = pick
                    .parse::<usize>()
                    .ok()
                    .filter(|i| (1..=names.len()).contains(i))
                    .ok_or_else(|| {
                        CliError::Usage(format!(
                            "`{pick}` is not a number between 1 and {}; rerun and pick one, or pass --workspace NAME",
                            names.len()
                        ))
                    })?;
                io.say(&format!("      using `{}`", names[idx - 1]));
                names[idx - 1].to_string()
            }
        },
    };
    let ws = platform.workspace(workspace.clone());

    // 3. Source template.
    step(&io, 3, "Source template");
    let templates = platform.list_source_templates().await?;
    let template: SourceTemplate = match templates
        .into_iter()
        .find(|t| t.actor_definition_id.as_deref() == Some(d.definition_id))
    {
        Some(t) => {
            io.say(&format!("      found `{}`", t.name));
            t
        }
        None => {
            let t = platform
                .register_source_template(d.definition_id, d.title, Map::new())
                .await?;
            io.say(&format!("      registered `{}` (mode DIRECT)", t.name));
            t
        }
    };

    // 4. Connector.
    step(&io, 4, "Connector");
    let existing: Vec<_> = ws
        .list_connectors()
        .await?
        .into_iter()
        .filter(|c| {
            c.definition_id
                .as_deref()
                .is_none_or(|x| x == d.definition_id)
        })
        .collect();
    let connector_id = match (existing.as_slice(), opts.replace) {
        ([one], false) => {
            io.say(&format!(
                "      found existing `{}` (use --replace to enter new credentials)",
                one.name.as_deref().unwrap_or(&one.id)
            ));
            one.id.clone()
        }
        ([], _) | ([_], true) => {
            if let ([old], true) = (existing.as_slice(), opts.replace) {
                ws.delete_connector(&old.id).await?;
                io.say("      deleted the previous connector");
            }
            let name = format!("{} - {workspace}", d.name);
            let mut create = CreateOptions::new()
                .name(name.clone())
                .source_template_id(template.id.clone());
            for (k, v) in &opts.replication {
                create = create.replication(k.clone(), v.clone());
            }
            let rejected = |e| match e {
                Error::Validation(det) => CliError::Usage(format!(
                    "Airbyte rejected the connector settings: {}; check the values (replication settings go in --replication KEY=VALUE) and rerun setup",
                    det.message
                )),
                other => CliError::Runtime(other),
            };
            let id = if opts.oauth {
                io.say("      credentials: OAuth consent in a browser");
                let timeout = opts.oauth_timeout.unwrap_or(consent::DEFAULT_TIMEOUT);
                consent::connect(&ws, d, create, timeout, |s| io.say(s))
                    .await
                    .map_err(|e| match e {
                        CliError::Runtime(e) => rejected(e),
                        other => other,
                    })?
            } else {
                let creds = collect_credentials(d, &env, &opts, &mut io)?;
                ws.create_connector_json(d, creds, create)
                    .await
                    .map_err(rejected)?
                    .id
            };
            io.say(&format!("      created `{name}`"));
            id
        }
        (many, _) => {
            let ids: Vec<&str> = many.iter().map(|c| c.id.as_str()).collect();
            return Err(CliError::Usage(format!(
                "{} {} connectors in workspace `{workspace}` ({}); set {} to the one to use",
                ids.len(),
                d.name,
                ids.join(", "),
                var_name(d, "CONNECTOR_ID")
            )));
        }
    };

    // .env before verification: a failed check can be retried without redoing the steps.
    let mut updates: Vec<(String, String)> = vec![
        (hosted::ENV_CLIENT_ID.into(), client_id.clone()),
        (
            hosted::ENV_CLIENT_SECRET.into(),
            client_secret.expose_secret().to_string(),
        ),
        ("AIRBYTE_WORKSPACE_NAME".into(), workspace.clone()),
        (var_name(d, "CONNECTOR_ID"), connector_id.clone()),
    ];
    if let Some(o) = &organization_id {
        updates.push((hosted::ENV_ORGANIZATION_ID.into(), o.clone()));
    }
    if let Some(h) = &api_host {
        updates.push((hosted::ENV_API_HOST.into(), h.clone()));
    }
    write_env(&env_path, &updates)?;

    // 5. Verification.
    step(&io, 5, "Test query");
    let client = ws.connector_by_id(d, connector_id.clone()).build()?;
    let report = client.check_with(opts.check_params.clone()).await;
    let what = match (&report.entity, &report.action) {
        (Some(e), Some(a)) => format!("{e}.{a}"),
        _ => "token check".to_string(),
    };
    match &report.status {
        CheckStatus::Ok => {
            io.say(&format!(
                "      ok: {what} returned {} record(s)",
                report.records.unwrap_or(0)
            ));
        }
        status => {
            io.say(&format!("      failed: {what}: {status}"));
            io.say(&format!(
                "Wrote {} ({} keys). The connector exists but the test query failed.",
                env_path.display(),
                updates.len()
            ));
            let next = match status {
                CheckStatus::AuthFailed(_) => format!(
                    "the {} credentials were rejected: rerun `airbyte-agent setup {} --replace` and enter valid ones",
                    d.title, d.name
                ),
                CheckStatus::Skipped(m) => {
                    format!("{m}; rerun with --param NAME=VALUE")
                }
                _ => format!(
                    "rerun `airbyte-agent setup {}` to retry the test query, or `--replace` to enter new credentials",
                    d.name
                ),
            };
            return Err(CliError::Other(format!("verification failed; {next}")));
        }
    }
    io.say(&format!(
        "Wrote {} ({} keys, mode 0600).",
        env_path.display(),
        updates.len()
    ));
    io.say(&format!(
        "Done. Try: airbyte-agent {} {} {}",
        d.name,
        report.entity.as_deref().unwrap_or("<entity>"),
        report.action.as_deref().unwrap_or("list")
    ));
    Ok(())
}

/// Credential fields of one auth option: `--set`, then `<CONNECTOR>_<FIELD>`, then a prompt.
fn collect_credentials(
    d: &ConnectorDescriptor,
    env: &Env,
    opts: &SetupOptions,
    io: &mut Io,
) -> Result<Map<String, Value>, CliError> {
    let given = |f: &str| {
        opts.fields
            .iter()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.clone())
            .or_else(|| env.get(&var_name(d, f)))
    };
    // The option with the most values given; else the first option that needs no browser.
    let scheme = d
        .auth_schemes
        .iter()
        .filter(|s| !s.fields.is_empty())
        .max_by_key(|s| {
            (
                s.fields.iter().filter(|f| given(f.name).is_some()).count(),
                !matches!(s.kind, AuthKind::OAuth2(_)),
                std::cmp::Reverse(d.auth_schemes.iter().position(|x| x.key == s.key)),
            )
        })
        .ok_or_else(|| CliError::Usage(format!("{} has no credential fields to set", d.name)))?;
    io.say(&format!("      credentials: {}", scheme.title));
    let mut out = Map::new();
    for f in scheme.fields {
        let v = match given(f.name) {
            Some(v) => v,
            None if !f.required => continue,
            None => io
                .secret(
                    &format!("{} ({})", f.title, f.name),
                    &format!("pass --set {}=VALUE or set {}", f.name, var_name(d, f.name)),
                )?
                .expose_secret()
                .to_string(),
        };
        if v.is_empty() && f.required {
            return Err(CliError::Usage(format!("{} must not be empty", f.name)));
        }
        out.insert(f.name.to_string(), Value::String(v));
    }
    Ok(out)
}

/// Update `KEY=value` lines in place, append new keys, keep everything else; mode 0600.
pub fn write_env(path: &Path, updates: &[(String, String)]) -> Result<(), CliError> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(CliError::Other(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let mut done = vec![false; updates.len()];
    let mut lines: Vec<String> = Vec::new();
    for line in old.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("export ").unwrap_or(t);
        let key = t.split_once('=').map(|(k, _)| k.trim());
        match key.and_then(|k| updates.iter().position(|(u, _)| u == k)) {
            Some(i) if !t.starts_with('#') => {
                if !done[i] {
                    lines.push(format!("{}={}", updates[i].0, quote(&updates[i].1)));
                    done[i] = true;
                }
            }
            _ => lines.push(line.to_string()),
        }
    }
    for (i, (k, v)) in updates.iter().enumerate() {
        if !done[i] {
            lines.push(format!("{k}={}", quote(v)));
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension("airbyte-agent-tmp");
    let write = || -> std::io::Result<()> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

fn quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@+".contains(c))
    {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_updates_keep_other_keys() {
        let dir = std::env::temp_dir().join(format!("aa-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(".env");
        std::fs::write(
            &p,
            "# mine\nOTHER=1\nAIRBYTE_CLIENT_ID=old\nexport KEEP=\"x y\"\n",
        )
        .unwrap();
        write_env(
            &p,
            &[
                ("AIRBYTE_CLIENT_ID".into(), "new".into()),
                ("NEW_KEY".into(), "a b".into()),
            ],
        )
        .unwrap();
        let t = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            t,
            "# mine\nOTHER=1\nAIRBYTE_CLIENT_ID=new\nexport KEEP=\"x y\"\nNEW_KEY=\"a b\"\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
