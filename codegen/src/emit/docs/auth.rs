//! `AUTH.md`: auth options and their fields, replication settings, hosted mode.

use std::fmt::Write as _;

use airbyte_agent_core::{AuthKind, ConnectorDescriptor, TokenGrant, ValueKind};

use super::{
    auth_expr, cell, connector_type, crate_ident, env_var, example_option, header, hosted_example,
    kind_label, program, replication_example, short_title,
};
use crate::emit::EmitOptions;
use crate::ir::{Connector, ReplicationType};

pub(super) fn auth(
    ir: &Connector,
    opts: &EmitOptions,
    desc: &'static ConnectorDescriptor,
) -> String {
    let mut s = header(ir);
    let _ = write!(
        s,
        "# {} authentication\n\nTwo ways to run the `{}` connector: **direct mode** calls the API with your \
         own credentials; **hosted mode** runs calls through Airbyte with credentials stored there. \
         Secrets are held as `SecretString`: `Debug` output is redacted and they never appear in \
         errors or logs.\n\n## Direct mode\n\n",
        short_title(ir),
        ir.name
    );
    if ir.auth.len() > 1 {
        let _ = write!(
            s,
            "`{}Connector::new` takes `{}`, an enum with one variant per option below; each option's \
             struct converts into it with `.into()`.\n\n",
            ir.pascal, ir.auth_type
        );
    }
    for (a, d) in ir.auth.iter().zip(desc.auth_schemes.iter()) {
        let title = if a.title.trim().is_empty() {
            a.key.as_str()
        } else {
            a.title.trim()
        };
        let _ = write!(s, "### {title} (`{}`)\n\n", a.key);
        if !a.description.trim().is_empty() {
            let _ = write!(s, "{}\n\n", cell(&a.description).replace("\\|", "|"));
        }
        let how = match &d.kind {
            AuthKind::Bearer => "`Authorization: Bearer <token>` header".to_string(),
            AuthKind::Basic => "HTTP Basic authentication".to_string(),
            AuthKind::ApiKeyHeader { header } => format!("`{header}` header"),
            AuthKind::ApiKeyQuery { name } => format!("`{name}` query parameter"),
            AuthKind::OAuth2(o) if o.grant == TokenGrant::JwtBearer => {
                "OAuth2 bearer token minted from the service-account key (`credentials_json`: \
                 the key file's JSON) with a signed JWT assertion (RFC 7523), renewed before it expires \
                 and after a 401"
                    .into()
            }
            AuthKind::OAuth2(o) => match o.refresh_url {
                Some(_) => {
                    "OAuth2 bearer token, refreshed automatically before it expires (`expires_in`) \
                     and after a 401"
                        .into()
                }
                None => "OAuth2 bearer token".into(),
            },
            AuthKind::OAuth2Header { header, oauth, .. } => match oauth.refresh_url {
                Some(_) => {
                    format!("OAuth2 token in the `{header}` header, refreshed automatically")
                }
                None => format!("OAuth2 token in the `{header}` header"),
            },
            _ => "see the spec".to_string(),
        };
        let required: Vec<&str> = a
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.rust_name.as_str())
            .collect();
        let _ = write!(
            s,
            "Sent as: {how}. Rust type: `{}::{}` (`{}::new({})`{}).\n\n",
            crate_ident(opts),
            a.type_name,
            a.type_name,
            required.join(", "),
            if a.fields.iter().any(|f| !f.required) {
                ", optional fields have setters"
            } else {
                ""
            }
        );
        if !a.fields.is_empty() {
            s.push_str(
                "| field | required | environment variable | description |\n|---|---|---|---|\n",
            );
            for f in &a.fields {
                let d = if f.description.trim().is_empty() {
                    cell(&f.title)
                } else {
                    cell(&f.description)
                };
                let _ = writeln!(
                    s,
                    "| `{}` | {} | `{}` | {} |",
                    f.name,
                    if f.required { "yes" } else { "no" },
                    env_var(ir, &f.name),
                    d
                );
            }
            s.push('\n');
        }
    }
    if !ir.server_variables.is_empty() {
        s.push_str("### Server variables\n\nThe base URL `");
        s.push_str(&ir.base_url);
        s.push_str("` has variables:\n\n| variable | default | environment variable | description |\n|---|---|---|---|\n");
        for v in &ir.server_variables {
            let _ = writeln!(
                s,
                "| `{}` | {} | `{}` | {} |",
                v.name,
                match (&v.default, v.required) {
                    (_, true) => "required".to_string(),
                    (Some(d), _) => format!("`{}`", cell(d)),
                    (None, _) => String::new(),
                },
                env_var(ir, &v.name),
                cell(&v.description)
            );
        }
        s.push('\n');
    }
    let mut config: Vec<String> = ir.scoping.iter().map(|(_, k)| k.clone()).collect();
    for e in desc.entities {
        for op in e.operations {
            for p in op.params {
                if let Some(ci) = &p.config_inject {
                    config.push(ci.source.to_string());
                }
            }
        }
    }
    config.sort();
    config.dedup();
    if !config.is_empty() {
        s.push_str("### Configuration values\n\nSome parameters fall back to configuration values (set them with `.server_variable(name, value)` on the builder):\n\n");
        for c in &config {
            let _ = writeln!(s, "- `{c}` (environment variable `{}`)", env_var(ir, c));
        }
        s.push('\n');
    }
    let _ = write!(
        s,
        "### Command line and MCP server\n\n`airbyte-agent` reads settings from the environment or a `.env` \
         file, named `<CONNECTOR>_<FIELD>` in upper snake case as in the tables above. \
         `{base}` overrides the base URL; `{scheme}` picks an option by key when several are set.\n\n\
         ## Hosted mode\n\n\
         Credentials live in Airbyte; the client needs only an Airbyte application's id and secret.\n\n\
         ### Use an existing connector\n\n",
        base = env_var(ir, "BASE_URL"),
        scheme = env_var(ir, "AUTH_SCHEME"),
    );
    let krate = crate_ident(opts);
    s.push_str(&hosted_example(ir, &krate));
    let _ = write!(
        s,
        "The connector is found by workspace (default `default`; `AirbyteAuthConfig::workspace_name` picks another) and \
         definition id `{def}`, or given with `{cid}` on the command line.\n\n\
         ### Create a connector\n\n\
         `{pascal}Connector::create_hosted` stores the credentials in Airbyte{repl} and returns a \
         connector bound to the new hosted connector:\n\n",
        def = ir.definition_id,
        cid = env_var(ir, "CONNECTOR_ID"),
        pascal = ir.pascal,
        repl = match &ir.replication {
            Some(r) => format!(
                " together with the replication settings (`{}`)",
                r.type_name
            ),
            None => String::new(),
        },
    );
    let connector_type = connector_type(ir);
    let mut uses = vec![format!("{krate}::hosted::{{CreateOptions, Platform}}")];
    let mut names = vec!["AirbyteAuthConfig".to_string(), connector_type.clone()];
    let auth_arg = match example_option(ir, desc) {
        Some(a) => {
            names.push(a.type_name.clone());
            auth_expr(ir, a)
        }
        None => "()".into(),
    };
    let mut args = vec!["&workspace".to_string(), auth_arg];
    if let Some(r) = &ir.replication {
        names.push(r.type_name.clone());
        let req: Vec<String> = r
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| replication_example(ir, f))
            .collect();
        args.push(format!("{}::new({})", r.type_name, req.join(", ")));
    }
    args.push(format!(
        "CreateOptions::new().name(\"{} for Acme\")",
        short_title(ir)
    ));
    names.sort();
    uses.insert(0, format!("{krate}::{{{}}}", names.join(", ")));
    let body = format!(
        "let platform = Platform::new(AirbyteAuthConfig::from_env())?;\n\
         let workspace = platform.workspace(\"default\");\n\
         let connector = {connector_type}::create_hosted(\n{}\n)\n.await?;\n\
         println!(\"{{:?}}\", connector.check().await);\n",
        args.iter()
            .map(|a| format!("    {a},"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    s.push_str(&program(&uses, &body));
    if let Some(r) = &ir.replication {
        let _ = write!(
            s,
            "### Replication settings\n\n{}Rust type: `{krate}::{}`; required settings are arguments \
             of `new`, optional ones have setters. Sent once, when the connector is created.\n\n\
             | setting | type | required | description |\n|---|---|---|---|\n",
            if r.description.trim().is_empty() {
                String::new()
            } else {
                format!("{}\n\n", cell(&r.description).replace("\\|", "|"))
            },
            r.type_name
        );
        for f in &r.fields {
            let (kind, item) = match f.ty {
                ReplicationType::String => (ValueKind::String, None),
                ReplicationType::Integer => (ValueKind::Integer, None),
                ReplicationType::Number => (ValueKind::Number, None),
                ReplicationType::Boolean => (ValueKind::Boolean, None),
                ReplicationType::StringList => (ValueKind::Array, Some(ValueKind::String)),
                _ => (ValueKind::Any, None),
            };
            let ty = match (&f.format, kind) {
                (Some(fmt), ValueKind::String) => format!("string ({fmt})"),
                _ => kind_label(kind, item),
            };
            let mut d = if f.description.trim().is_empty() {
                cell(&f.title)
            } else {
                cell(&f.description)
            };
            if !f.enum_values.is_empty() {
                let _ = write!(d, " One of: `{}`.", f.enum_values.join("`, `"));
            }
            if let Some(def) = &f.default {
                let _ = write!(d, " Airbyte's default: `{}`.", cell(def));
            }
            let _ = writeln!(
                s,
                "| `{}` | {ty} | {} | {d} |",
                f.name,
                if f.required { "yes" } else { "no" }
            );
        }
        s.push('\n');
    }
    s
}
