//! Auth options (security schemes with their credential fields), replication settings and
//! server variables' placeholder defaults.

use airbyte_agent_core::{TokenBodyFormat, TokenClientAuth, TokenGrant, ValueKind};

use super::json_schema::kind_named;

use super::model::{
    AuthFieldIr, AuthKindIr, AuthOption, ReplicationFieldIr, ReplicationIr, ReplicationType,
};
use super::naming::{Namer, pascal_base, safe_snake, snake_base, title_suffix};
use crate::spec::{Spec, SpecError, Warning};

/// Settings of `x-airbyte-replication-config` as a typed struct `type_name`.
pub(super) fn build_replication(
    view: &crate::spec::ReplicationConfigView,
    type_name: &str,
) -> ReplicationIr {
    let mut namer = Namer::with_reserved(&["new", "into_map", "clone", "fmt"]);
    let fields = view
        .properties
        .iter()
        .map(|p| ReplicationFieldIr {
            name: p.name.clone(),
            rust_name: namer.unique(&safe_snake(&snake_base(&p.name))),
            ty: match (kind_named(&p.kind), p.item_kind.as_deref().map(kind_named)) {
                (ValueKind::String, _) => ReplicationType::String,
                (ValueKind::Integer, _) => ReplicationType::Integer,
                (ValueKind::Number, _) => ReplicationType::Number,
                (ValueKind::Boolean, _) => ReplicationType::Boolean,
                (ValueKind::Array, Some(ValueKind::String) | None) => ReplicationType::StringList,
                _ => ReplicationType::Json,
            },
            required: view.required.contains(&p.name),
            title: p.title.clone(),
            description: p.description.clone(),
            format: p.format.clone(),
            default: p.default.clone(),
            enum_values: p.enum_values.clone(),
        })
        .collect();
    ReplicationIr {
        type_name: type_name.to_string(),
        title: view.title.clone().unwrap_or_default(),
        description: view.description.clone(),
        fields,
    }
}

/// Whether a server variable's default is a placeholder the user must replace.
pub(super) fn is_placeholder(default: Option<&str>) -> bool {
    match default {
        None => true,
        Some(d) => {
            let d = d.trim();
            d.is_empty()
                || d.contains('{')
                || d.starts_with("your-")
                || d.starts_with("your_")
                || d.starts_with("my-")
                || d.starts_with('<')
        }
    }
}

/// One [`AuthOption`] per security scheme (credential fields synthesised when the spec has no
/// `x-airbyte-auth-config`).
pub(super) fn build_auth(
    spec: &Spec<'_>,
    pascal: &str,
    namer: &mut Namer,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<AuthOption>, SpecError> {
    let several = spec.schemes.len() > 1;
    let mut variant_namer = Namer::default();
    let mut out = Vec::new();
    for s in &spec.schemes {
        let node_err = |key: &str, msg: String| SpecError {
            file: Default::default(),
            path: format!("{}.{key}", s.path),
            message: msg,
        };
        let kind = match s.kind.as_str() {
            "http" => match s.scheme.as_deref().map(str::to_ascii_lowercase).as_deref() {
                Some("bearer") => AuthKindIr::Bearer,
                Some("basic") => AuthKindIr::Basic,
                other => {
                    return Err(node_err(
                        "scheme",
                        format!("unsupported http auth scheme `{}`", other.unwrap_or("")),
                    ));
                }
            },
            "apiKey" => {
                let name = s
                    .name
                    .clone()
                    .ok_or_else(|| node_err("name", "apiKey scheme without `name`".into()))?;
                match s.location.as_deref() {
                    Some("header") | None => AuthKindIr::ApiKeyHeader(name),
                    Some("query") => AuthKindIr::ApiKeyQuery(name),
                    Some(other) => {
                        return Err(node_err(
                            "in",
                            format!("unsupported apiKey location `{other}`"),
                        ));
                    }
                }
            }
            "oauth2" => AuthKindIr::OAuth2 {
                refresh_url: s.refresh_url.clone(),
                authorization_url: s.authorization_url.clone(),
                token_url: s.token_url.clone(),
                client_auth: match s.refresh_auth_style.as_deref() {
                    None | Some("body") => TokenClientAuth::Body,
                    Some("basic") => TokenClientAuth::Basic,
                    Some("none") => TokenClientAuth::None,
                    Some(o) => {
                        return Err(node_err(
                            "x-airbyte-token-refresh.auth_style",
                            format!("unknown auth_style `{o}` (expected body, basic or none)"),
                        ));
                    }
                },
                body_format: match s.refresh_body_format.as_deref() {
                    None | Some("form") => TokenBodyFormat::Form,
                    Some("json") => TokenBodyFormat::Json,
                    Some(o) => {
                        return Err(node_err(
                            "x-airbyte-token-refresh.body_format",
                            format!("unknown body_format `{o}` (expected form or json)"),
                        ));
                    }
                },
                token_extract: s.token_extract.clone(),
                token_header: s
                    .token_header
                    .clone()
                    .map(|h| (h, s.token_prefix.clone().unwrap_or_default())),
                // Unknown grant types were reported as warnings while reading the spec.
                grant: match s.refresh_grant_type.as_deref() {
                    Some(g) if crate::spec::is_jwt_bearer_grant(g) => TokenGrant::JwtBearer,
                    _ => TokenGrant::RefreshToken,
                },
                scopes: s.scopes.clone(),
            },
            other => {
                return Err(node_err(
                    "type",
                    format!("unsupported security scheme type `{other}`"),
                ));
            }
        };
        let cfg = &s.auth_config;
        let mut props = cfg.properties.clone();
        let mut mapping = cfg.auth_mapping.clone();
        let mut required = cfg.required.clone();
        if props.is_empty() {
            let (fields, m): (Vec<&str>, Vec<(&str, &str)>) = match &kind {
                AuthKindIr::Bearer => (vec!["token"], vec![("token", "${token}")]),
                AuthKindIr::Basic => (
                    vec!["username", "password"],
                    vec![("username", "${username}"), ("password", "${password}")],
                ),
                AuthKindIr::ApiKeyHeader(_) | AuthKindIr::ApiKeyQuery(_) => {
                    (vec!["api_key"], vec![("api_key", "${api_key}")])
                }
                AuthKindIr::OAuth2 { .. } => (
                    vec!["access_token"],
                    vec![("access_token", "${access_token}")],
                ),
            };
            warnings.push(Warning {
                path: s.path.clone(),
                message: "no x-airbyte-auth-config; synthesised default credential fields".into(),
            });
            props = fields
                .iter()
                .map(|f| (f.to_string(), String::new(), String::new()))
                .collect();
            mapping = m
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            required = fields.iter().map(|f| f.to_string()).collect();
        }
        let title = cfg.title.clone().unwrap_or_else(|| s.key.clone());
        let suffix = {
            let t = title_suffix(&title);
            if t.is_empty() { pascal_base(&s.key) } else { t }
        };
        let type_name = if several {
            namer.unique(&format!("{pascal}{suffix}AuthConfig"))
        } else {
            namer.unique(&format!("{pascal}AuthConfig"))
        };
        let mut field_namer = Namer::with_reserved(&["new"]);
        let fields = props
            .iter()
            .map(|(name, t, d)| AuthFieldIr {
                name: name.clone(),
                rust_name: field_namer.unique(&safe_snake(&snake_base(name))),
                title: t.clone(),
                description: d.clone(),
                required: required.contains(name),
            })
            .collect();
        out.push(AuthOption {
            key: s.key.clone(),
            title,
            description: cfg.description.clone(),
            type_name,
            variant: variant_namer.unique(&suffix),
            kind,
            fields,
            mapping,
            additional_headers: cfg.additional_headers.clone(),
        });
    }
    if out.is_empty() {
        return Err(SpecError {
            file: Default::default(),
            path: "components.securitySchemes".into(),
            message: "no security scheme declared".into(),
        });
    }
    Ok(out)
}
