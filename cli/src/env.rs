//! Settings from the environment and `.env`, and building clients from them.
//!
//! Naming rule: every connector setting is `<CONNECTOR>_<KEY>` in upper snake case, where
//! `<CONNECTOR>` is the connector slug (`zendesk-support` → `ZENDESK_SUPPORT`) and `<KEY>` an
//! auth field (`STRIPE_API_KEY`), a server variable or config key (`ZENDESK_SUPPORT_SUBDOMAIN`),
//! or one of `BASE_URL` (override the API base URL), `AUTH_SCHEME` (pick an auth option by key)
//! and `CONNECTOR_ID` (hosted mode: a known connector id). Hosted mode uses
//! `AIRBYTE_CLIENT_ID`, `AIRBYTE_CLIENT_SECRET`, optional `AIRBYTE_ORGANIZATION_ID`,
//! `AIRBYTE_WORKSPACE_NAME` and `SDK_DEV_ADP_API_HOST`. Process variables win over `.env`.

use std::collections::BTreeMap;
use std::path::Path;

use airbyte_agent_runtime::hosted::{self, AirbyteAuthConfig};
use airbyte_agent_runtime::{
    Client, ClientBuilder, ConnectorDescriptor, Credentials, SecretString,
};

use crate::error::CliError;

/// Process environment layered over an optional `.env` file.
#[derive(Default)]
pub struct Env {
    file: BTreeMap<String, String>,
}

impl Env {
    /// Load `path`, or `./.env` when it exists and no path is given.
    pub fn load(path: Option<&Path>) -> Result<Env, CliError> {
        let file = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    CliError::Usage(format!("cannot read env file `{}`: {e}", p.display()))
                })?;
                hosted::parse_dotenv(&text)
            }
            None => match std::fs::read_to_string(".env") {
                Ok(text) => hosted::parse_dotenv(&text),
                Err(_) => BTreeMap::new(),
            },
        };
        Ok(Env { file })
    }

    /// A non-empty value: process environment first, then the file.
    pub fn get(&self, key: &str) -> Option<String> {
        std::env::var(key)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.file.get(key).filter(|v| !v.is_empty()).cloned())
    }
}

/// `zendesk-support` → `ZENDESK_SUPPORT`; `apiKey` → `API_KEY`.
pub fn upper_snake(text: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase()
                && prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
            {
                out.push('_');
            }
            out.push(c.to_ascii_uppercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
        prev = Some(c);
    }
    out.trim_end_matches('_').to_string()
}

/// The environment variable of connector setting `key`.
pub fn var_name(d: &ConnectorDescriptor, key: &str) -> String {
    format!("{}_{}", upper_snake(d.name), upper_snake(key))
}

/// How to run a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Pick direct when the connector's credentials are set, else hosted when Airbyte
    /// credentials are set.
    Auto,
    /// Call the SaaS API with credentials from the environment.
    Direct,
    /// Run through Airbyte's hosted API.
    Hosted,
}

/// Options shared by every client the CLI builds.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Direct, hosted or automatic.
    pub mode: Mode,
    /// `--base-url` (wins over `<CONNECTOR>_BASE_URL`).
    pub base_url: Option<String>,
    /// `--api-host` (wins over `SDK_DEV_ADP_API_HOST`), hosted mode.
    pub api_host: Option<String>,
}

impl ClientOptions {
    /// Automatic or forced mode, no base URL flag.
    pub fn new(mode: Mode) -> ClientOptions {
        ClientOptions {
            mode,
            base_url: None,
            api_host: None,
        }
    }
}

/// A base URL override and the setting it came from (for messages).
#[derive(Debug, Clone)]
pub struct BaseUrl {
    /// The URL.
    pub url: String,
    /// `--base-url` or the variable name (`STRIPE_BASE_URL`).
    pub setting: String,
}

/// The base URL override of `d`: `--base-url`, else `<CONNECTOR>_BASE_URL`. A value that is not
/// an absolute http(s) URL is a configuration error naming the setting.
pub fn base_url_override(
    d: &ConnectorDescriptor,
    env: &Env,
    flag: Option<&str>,
) -> Result<Option<BaseUrl>, CliError> {
    let (url, setting) = match flag {
        Some(u) => (u.to_string(), "--base-url".to_string()),
        None => {
            let var = var_name(d, "BASE_URL");
            match env.get(&var) {
                Some(u) => (u, var),
                None => return Ok(None),
            }
        }
    };
    check_base_url(&url).map_err(|why| {
        CliError::Config(format!(
            "{setting} is not a usable base URL (`{}`): {why}; expected an absolute URL such as {}",
            shown_url(&url),
            d.base_url
        ))
    })?;
    Ok(Some(BaseUrl { url, setting }))
}

/// `Ok` for an absolute http(s) URL with a host; `{name}` server-variable placeholders are
/// allowed (they are filled in later).
fn check_base_url(url: &str) -> Result<(), String> {
    let mut filled = String::with_capacity(url.len());
    let mut in_var = false;
    for c in url.chars() {
        match c {
            '{' => in_var = true,
            '}' if in_var => {
                in_var = false;
                filled.push('x');
            }
            _ if !in_var => filled.push(c),
            _ => {}
        }
    }
    let parsed = url::Url::parse(filled.trim()).map_err(|e| e.to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the scheme must be http or https, not `{}`",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(())
}

/// A URL for messages: a password in it is masked.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

pub fn direct_credentials(d: &ConnectorDescriptor, env: &Env) -> Result<Credentials, String> {
    let present = |field: &str| env.get(&var_name(d, field));
    let scheme = if let Some(key) = env.get(&var_name(d, "AUTH_SCHEME")) {
        d.auth_schemes
            .iter()
            .find(|s| s.key.eq_ignore_ascii_case(&key))
            .ok_or_else(|| {
                let keys: Vec<&str> = d.auth_schemes.iter().map(|s| s.key).collect();
                format!(
                    "{} is `{key}`, which is not an auth option of {}; options: {}",
                    var_name(d, "AUTH_SCHEME"),
                    d.name,
                    keys.join(", ")
                )
            })?
    } else {
        d.auth_schemes
            .iter()
            .filter(|s| {
                s.fields
                    .iter()
                    .all(|f| !f.required || present(f.name).is_some())
                    && s.fields.iter().any(|f| present(f.name).is_some())
            })
            .max_by_key(|s| {
                // Most fields set wins; earlier options win ties (max_by_key keeps the last).
                let set = s
                    .fields
                    .iter()
                    .filter(|f| present(f.name).is_some())
                    .count();
                (
                    set,
                    std::cmp::Reverse(d.auth_schemes.iter().position(|x| x.key == s.key)),
                )
            })
            .ok_or_else(|| missing_credentials_message(d))?
    };
    let mut creds = Credentials::for_scheme(scheme.key);
    for f in scheme.fields {
        match present(f.name) {
            Some(v) => creds.insert(f.name, SecretString::from(v)),
            None if f.required => {
                return Err(format!(
                    "auth option `{}` of {} needs {}",
                    scheme.key,
                    d.name,
                    var_name(d, f.name)
                ));
            }
            None => {}
        }
    }
    Ok(creds)
}

/// What to set for direct mode, per auth option.
pub fn missing_credentials_message(d: &ConnectorDescriptor) -> String {
    let options: Vec<String> = d
        .auth_schemes
        .iter()
        .map(|s| {
            let vars: Vec<String> = s
                .fields
                .iter()
                .filter(|f| f.required)
                .map(|f| var_name(d, f.name))
                .collect();
            format!("{} ({})", vars.join(" + "), s.key)
        })
        .collect();
    format!(
        "no credentials for {}: set {}, or AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET for hosted mode",
        d.name,
        if options.is_empty() {
            "nothing (no auth options)".to_string()
        } else {
            options.join(", or ")
        }
    )
}

fn has_direct_settings(d: &ConnectorDescriptor, env: &Env) -> bool {
    d.auth_schemes
        .iter()
        .flat_map(|s| s.fields.iter())
        .any(|f| env.get(&var_name(d, f.name)).is_some())
        || d.auth_schemes.iter().all(|s| s.fields.is_empty())
}

fn has_hosted_settings(env: &Env) -> bool {
    env.get(hosted::ENV_CLIENT_ID).is_some() && env.get(hosted::ENV_CLIENT_SECRET).is_some()
}

/// Config keys a connector reads: server variables, scoping and config-injected parameters.
pub fn config_keys(d: &ConnectorDescriptor) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = d.server_variables.iter().map(|v| v.name).collect();
    keys.extend(d.scoping.iter().map(|s| s.config_key));
    for e in d.entities {
        for op in e.operations {
            for p in op.params {
                if let Some(ci) = &p.config_inject {
                    keys.push(ci.source);
                }
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Build a client for `d` from the environment.
pub fn build_client(
    d: &'static ConnectorDescriptor,
    env: &Env,
    opts: &ClientOptions,
) -> Result<Client, CliError> {
    let base = base_url_override(d, env, opts.base_url.as_deref())?;
    let mode = match opts.mode {
        Mode::Auto if has_direct_settings(d, env) => Mode::Direct,
        Mode::Auto if has_hosted_settings(env) => Mode::Hosted,
        Mode::Auto => return Err(CliError::Auth(missing_credentials_message(d))),
        m => m,
    };
    match mode {
        Mode::Hosted => {
            let id = env.get(hosted::ENV_CLIENT_ID);
            let secret = env.get(hosted::ENV_CLIENT_SECRET);
            let (Some(id), Some(secret)) = (id, secret) else {
                return Err(CliError::Auth(
                    "hosted mode needs AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET".into(),
                ));
            };
            let mut cfg = AirbyteAuthConfig::new(id, SecretString::from(secret));
            if let Some(org) = env.get(hosted::ENV_ORGANIZATION_ID) {
                cfg = cfg.organization_id(org);
            }
            if let Some(ws) = env.get("AIRBYTE_WORKSPACE_NAME") {
                cfg = cfg.workspace_name(ws);
            }
            if let Some(host) = opts
                .api_host
                .clone()
                .or_else(|| env.get(hosted::ENV_API_HOST))
            {
                cfg = cfg.base_url(host);
            }
            if let Some(cid) = env.get(&var_name(d, "CONNECTOR_ID")) {
                cfg = cfg.connector_id(cid);
            }
            Client::hosted(d, cfg).build().map_err(CliError::from)
        }
        _ => direct_builder(d, env, base.as_ref())?
            .build()
            .map_err(CliError::from),
    }
}

/// A direct-mode client builder from the connector's settings (credentials, `BASE_URL`, server
/// variables).
pub fn direct_builder(
    d: &'static ConnectorDescriptor,
    env: &Env,
    base: Option<&BaseUrl>,
) -> Result<ClientBuilder, CliError> {
    let creds = direct_credentials(d, env).map_err(CliError::Auth)?;
    let mut b = Client::builder(d, creds);
    if let Some(base) = base {
        b = b.base_url(base.url.clone());
    }
    for (key, value) in server_variables(d, env) {
        b = b.server_variable(key, value);
    }
    Ok(b)
}

/// The connector's server variables set in the environment (`<CONNECTOR>_SUBDOMAIN`, ...).
pub fn server_variables(d: &ConnectorDescriptor, env: &Env) -> Vec<(&'static str, String)> {
    config_keys(d)
        .into_iter()
        .filter_map(|key| env.get(&var_name(d, key)).map(|v| (key, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{check_base_url, shown_url, upper_snake};

    #[test]
    fn base_urls_must_be_absolute_http() {
        assert!(check_base_url("https://api.stripe.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:9/v1").is_ok());
        assert!(check_base_url("https://{subdomain}.zendesk.com/api/v2").is_ok());
        assert!(check_base_url("api.stripe.com").is_err());
        assert!(check_base_url("ftp://example.com").is_err());
        assert!(check_base_url("http://").is_err());
        assert_eq!(
            shown_url("https://u:secret@h.example/"),
            "https://u:***@h.example/"
        );
    }

    #[test]
    fn upper_snake_names() {
        assert_eq!(upper_snake("zendesk-support"), "ZENDESK_SUPPORT");
        assert_eq!(upper_snake("api_key"), "API_KEY");
        assert_eq!(upper_snake("apiKey"), "API_KEY");
        assert_eq!(upper_snake("stripe"), "STRIPE");
        assert_eq!(upper_snake("x.y"), "X_Y");
    }
}
