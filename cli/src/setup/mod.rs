//! `airbyte-agent setup <connector>`: guided hosted setup.
//!
//! Checklist: application token → workspace → source template → connector (credentials typed in,
//! or `--oauth`: a browser consent, see `consent.rs`) → test query → `.env`. Every step first looks for what already exists, so re-running resumes where a
//! previous run stopped and never duplicates templates or connectors. Secrets typed at a
//! terminal are read without echo; with piped input they are read line by line; `--yes` never
//! prompts (values must come from flags or the environment).

use std::io::IsTerminal;
use std::path::PathBuf;

use airbyte_agent_runtime::hosted::{
    self, AirbyteAuthConfig, CreateOptions, Platform, SourceTemplate,
};
use airbyte_agent_runtime::serde_json::{Map, Value};
use airbyte_agent_runtime::{
    AuthKind, CheckStatus, ConnectorDescriptor, Error, ExposeSecret, SecretString,
};

mod env_file;
mod prompt;

use env_file::write_env;

use crate::consent;
use crate::env::{Env, var_name};
use crate::error::CliError;
use prompt::Io;

/// Where application credentials are managed (for "what to do next" messages).
const CREDENTIALS_HELP: &str = "create or regenerate them in Airbyte under Settings → Applications (https://app.airbyte.ai), then rerun `airbyte-agent setup`";

/// Options of `setup`. `Debug` redacts the client secret and the credential field values.
#[derive(Default)]
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

impl std::fmt::Debug for SetupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self.fields.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SetupOptions")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("organization_id", &self.organization_id)
            .field("workspace", &self.workspace)
            .field("api_host", &self.api_host)
            .field("fields", &fields)
            .field("replication", &self.replication)
            .field("env_file", &self.env_file)
            .finish_non_exhaustive()
    }
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
        other => CliError::like(other),
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
