//! Embedded API: scoped and widget tokens, source templates as seen by an end user, sources
//! created from templates, stream selection and template tags.
//!
//! Two audiences:
//! - the organization (application token): [`Embedded`], from [`Platform::embedded`] — mint
//!   scoped and widget tokens, customize templates (stream selection), manage template tags,
//!   discover a source's catalog;
//! - the end user (workspace-scoped token): [`ScopedSession`], from [`Embedded::session`] or
//!   [`ScopedSession::new`] — list the templates offered to the workspace and create sources.
//!
//! Paths live under `/api/v1/embedded/`; see the README section "Hosted setup and embedded API".
//!
//! ```no_run
//! # async fn demo(platform: airbyte_agent_runtime::hosted::Platform) -> airbyte_agent_runtime::Result<()> {
//! use airbyte_agent_runtime::hosted::{CreateSource, Region, StreamSelection, TagMode};
//! let embedded = platform.embedded()?;
//! let session = embedded.session("acme", Region::Eu).await?;
//! let templates = session.list_templates(None).await?;
//! let source = session
//!     .create_source(
//!         CreateSource::new(&templates[0].id)
//!             .config("api_key", "sk_test_...")
//!             .tags(["crm"], TagMode::Any),
//!     )
//!     .await?;
//! embedded
//!     .customize_template_checked(&templates[0].id, &source.id, StreamSelection::whitelist(["customers"])?)
//!     .await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;

use super::{Platform, Region, ScopedToken, SourceTemplate};
use crate::airbyte_api::{Call, Verb, json_response, send_call};
use crate::error::{Error, HostedError, Result};
use crate::retry::RetryPolicy;
use crate::transport::HttpClient;

mod types;

pub use types::{
    Catalog, CreateSource, EmbeddedSource, EmbeddedTemplate, StreamInfo, StreamSelection,
    TagFilter, TagMode, TemplateTag, WidgetToken, validate_whitelist,
};

/// Organization-level embedded operations (application token). See the module docs.
#[derive(Clone, Debug)]
pub struct Embedded {
    platform: Platform,
    http: Http,
}

/// End-user operations with a workspace-scoped token.
#[derive(Clone)]
pub struct ScopedSession {
    token: SecretString,
    http: Http,
}

impl fmt::Debug for ScopedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopedSession")
            .field("token", &"[REDACTED]")
            .field("base_url", &self.http.base)
            .finish()
    }
}

#[derive(Clone, Debug)]
struct Http {
    client: reqwest::Client,
    base: String,
    organization_id: Option<String>,
    retry: RetryPolicy,
}

impl Platform {
    /// Embedded API operations of this organization (fails only when no HTTP client can be
    /// built, e.g. TLS roots cannot be loaded).
    pub fn embedded(&self) -> Result<Embedded> {
        let client =
            HttpClient::FollowRedirects.build(Duration::from_secs(60), Duration::from_secs(5))?;
        Ok(Embedded {
            http: Http {
                client,
                base: self.base_url().to_string(),
                organization_id: self.organization_id().map(str::to_string),
                retry: RetryPolicy::default(),
            },
            platform: self.clone(),
        })
    }
}

impl Embedded {
    /// The platform client.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    async fn app(&self, verb: Verb, path: &str, body: Option<&Value>) -> Result<Value> {
        let token = self.platform.application_token().await?;
        self.http.send(verb, path, &[], body, &token).await
    }

    /// A workspace-scoped token (`POST /api/v1/embedded/scoped-token`).
    pub async fn scoped_token(&self, workspace_name: &str, region: Region) -> Result<ScopedToken> {
        self.platform.scoped_token(workspace_name, region).await
    }

    /// A session for workspace `workspace_name` with a fresh scoped token.
    pub async fn session(&self, workspace_name: &str, region: Region) -> Result<ScopedSession> {
        let t = self.scoped_token(workspace_name, region).await?;
        Ok(ScopedSession {
            token: t.token,
            http: self.http.clone(),
        })
    }

    /// A widget token for `workspace_name`, usable from `allowed_origin`
    /// (`POST /api/v1/embedded/widget-token`).
    pub async fn widget_token(
        &self,
        workspace_name: &str,
        allowed_origin: &str,
        region: Region,
    ) -> Result<WidgetToken> {
        let body = serde_json::json!({
            "workspace_name": workspace_name,
            "allowed_origin": allowed_origin,
            "region_id": region.id(),
        });
        let path = "/api/v1/embedded/widget-token";
        let v = self.app(Verb::Post, path, Some(&body)).await?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unexpected("POST", path, "no `token` field"))?;
        Ok(WidgetToken {
            token: SecretString::from(token.to_string()),
            widget_url: v
                .get("widget_url")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// Set a template's stream selection
    /// (`PATCH /api/v1/embedded/templates/sources/{id}` with `customization`).
    /// An empty whitelist is rejected before any request.
    pub async fn customize_template(
        &self,
        template_id: &str,
        selection: &StreamSelection,
    ) -> Result<EmbeddedTemplate> {
        selection.validate()?;
        let body = serde_json::json!({"customization": selection.to_json()});
        let path = format!("/api/v1/embedded/templates/sources/{}", seg(template_id));
        let v = self.app(Verb::Patch, &path, Some(&body)).await?;
        decode("PATCH", &path, v)
    }

    /// Like [`Embedded::customize_template`], but a whitelist is first checked against the
    /// catalog of `source_id` (a source of the template's connector): unknown stream names are
    /// rejected with the list of valid ones, before the template is changed.
    pub async fn customize_template_checked(
        &self,
        template_id: &str,
        source_id: &str,
        selection: StreamSelection,
    ) -> Result<EmbeddedTemplate> {
        selection.validate()?;
        if let StreamSelection::Whitelist(w) = &selection {
            let catalog = self.discover(source_id).await?;
            validate_whitelist(&catalog, w)?;
        }
        self.customize_template(template_id, &selection).await
    }

    /// A source's catalog (`GET /api/v1/embedded/sources/{id}/discover`).
    pub async fn discover(&self, source_id: &str) -> Result<Catalog> {
        let path = format!("/api/v1/embedded/sources/{}/discover", seg(source_id));
        let v = self.app(Verb::Get, &path, None).await?;
        decode("GET", &path, v)
    }

    /// Every template tag (`GET /api/v1/embedded/template-tags`).
    pub async fn list_tags(&self) -> Result<Vec<TemplateTag>> {
        let path = "/api/v1/embedded/template-tags";
        let v = self.app(Verb::Get, path, None).await?;
        decode_list("GET", path, v)
    }

    /// Create a tag (`POST /api/v1/embedded/template-tags`).
    pub async fn create_tag(&self, name: &str) -> Result<TemplateTag> {
        non_blank("tag name", name)?;
        let path = "/api/v1/embedded/template-tags";
        let body = serde_json::json!({"name": name});
        let v = self.app(Verb::Post, path, Some(&body)).await?;
        decode("POST", path, v)
    }

    /// Rename a tag (`PATCH /api/v1/embedded/template-tags/{name}`).
    pub async fn rename_tag(&self, name: &str, new_name: &str) -> Result<TemplateTag> {
        non_blank("tag name", new_name)?;
        let path = format!("/api/v1/embedded/template-tags/{}", seg(name));
        let body = serde_json::json!({"name": new_name});
        let v = self.app(Verb::Patch, &path, Some(&body)).await?;
        decode("PATCH", &path, v)
    }

    /// Delete a tag, removing it from every template (`DELETE /api/v1/embedded/template-tags/{name}`).
    pub async fn delete_tag(&self, name: &str) -> Result<()> {
        let path = format!("/api/v1/embedded/template-tags/{}", seg(name));
        self.app(Verb::Delete, &path, None).await.map(|_| ())
    }

    /// Tag a template (`POST /api/v1/embedded/templates/sources/{id}/tags`).
    pub async fn tag_template(&self, template_id: &str, tag: &str) -> Result<()> {
        let path = format!(
            "/api/v1/embedded/templates/sources/{}/tags",
            seg(template_id)
        );
        let body = serde_json::json!({"name": tag});
        self.app(Verb::Post, &path, Some(&body)).await.map(|_| ())
    }

    /// Remove a tag from a template
    /// (`DELETE /api/v1/embedded/templates/sources/{id}/tags/{name}`).
    pub async fn untag_template(&self, template_id: &str, tag: &str) -> Result<()> {
        let path = format!(
            "/api/v1/embedded/templates/sources/{}/tags/{}",
            seg(template_id),
            seg(tag)
        );
        self.app(Verb::Delete, &path, None).await.map(|_| ())
    }

    /// The organization's source templates (application token), as
    /// [`Platform::list_source_templates`] returns them.
    pub async fn list_source_templates(&self) -> Result<Vec<SourceTemplate>> {
        self.platform.list_source_templates().await
    }
}

impl ScopedSession {
    /// A session from a scoped token obtained elsewhere (e.g. handed to a front end).
    pub fn new(base_url: &str, token: SecretString) -> Result<Self> {
        let client =
            HttpClient::FollowRedirects.build(Duration::from_secs(60), Duration::from_secs(5))?;
        Ok(ScopedSession {
            token,
            http: Http {
                client,
                base: base_url.trim_end_matches('/').to_string(),
                organization_id: None,
                retry: RetryPolicy::default(),
            },
        })
    }

    /// Templates offered to this workspace (`GET /api/v1/embedded/templates/sources`),
    /// optionally filtered by tags (`tags=..&tags_mode=any|all`).
    pub async fn list_templates(&self, filter: Option<TagFilter>) -> Result<Vec<EmbeddedTemplate>> {
        let path = "/api/v1/embedded/templates/sources";
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(f) = &filter {
            query.extend(f.tags.iter().map(|t| ("tags", t.clone())));
            query.push(("tags_mode", f.mode.as_str().to_string()));
        }
        let v = self
            .http
            .send(Verb::Get, path, &query, None, &self.token)
            .await?;
        decode_list("GET", path, v)
    }

    /// Create a source from a template (`POST /api/v1/embedded/sources`).
    pub async fn create_source(&self, request: CreateSource) -> Result<EmbeddedSource> {
        let body = request.to_json()?;
        let path = "/api/v1/embedded/sources";
        let v = self
            .http
            .send(Verb::Post, path, &[], Some(&body), &self.token)
            .await?;
        decode("POST", path, v)
    }

    /// The catalog of one of this workspace's sources.
    pub async fn discover(&self, source_id: &str) -> Result<Catalog> {
        let path = format!("/api/v1/embedded/sources/{}/discover", seg(source_id));
        let v = self
            .http
            .send(Verb::Get, &path, &[], None, &self.token)
            .await?;
        decode("GET", &path, v)
    }
}

impl Http {
    /// One call with `bearer`, through the same transport code as every other platform call.
    async fn send(
        &self,
        verb: Verb,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        bearer: &SecretString,
    ) -> Result<Value> {
        let call = Call {
            verb,
            path,
            query: query.to_vec(),
            body,
            idempotent: matches!(verb, Verb::Get | Verb::Put | Verb::Delete),
        };
        let (status, headers, bytes) = send_call(
            &self.client,
            &self.retry,
            &self.base,
            self.organization_id.as_deref(),
            &call,
            Some(bearer),
        )
        .await?;
        json_response(&call, status, &headers, &bytes, None)
    }
}

fn seg(s: &str) -> String {
    crate::encode::path_segment(s)
}

fn non_blank(what: &str, v: &str) -> Result<()> {
    if v.trim().is_empty() {
        Err(Error::argument(what, format!("{what} must not be empty")))
    } else {
        Ok(())
    }
}

fn unexpected(method: &str, path: &str, message: &str) -> Error {
    HostedError::UnexpectedResponse {
        endpoint: format!("{method} {path}"),
        message: message.to_string(),
    }
    .into()
}

fn decode<T: serde::de::DeserializeOwned>(method: &str, path: &str, v: Value) -> Result<T> {
    let v = match v {
        Value::Object(mut m)
            if !m.contains_key("id") && m.get("data").is_some_and(Value::is_object) =>
        {
            m.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    };
    serde_json::from_value(v).map_err(|e| unexpected(method, path, &format!("cannot decode ({e})")))
}

fn decode_list<T: serde::de::DeserializeOwned>(
    method: &str,
    path: &str,
    v: Value,
) -> Result<Vec<T>> {
    let items = match v {
        Value::Array(a) => a,
        Value::Object(mut m) => match m.remove("data") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(unexpected(
                    method,
                    path,
                    "list response has no `data` array",
                ));
            }
        },
        _ => {
            return Err(unexpected(
                method,
                path,
                "list response has no `data` array",
            ));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v)
                .map_err(|e| unexpected(method, path, &format!("item {i}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn whitelist_rules() {
        assert!(StreamSelection::whitelist(Vec::<String>::new()).is_err());
        assert!(StreamSelection::whitelist([" "]).is_err());
        let w = StreamSelection::whitelist(["a"]).unwrap();
        assert_eq!(
            w.to_json(),
            serde_json::json!({"stream_selection_mode": "whitelist", "stream_whitelist": ["a"]})
        );
        assert_eq!(
            StreamSelection::All.to_json(),
            serde_json::json!({"stream_selection_mode": "all"})
        );
        let cat = Catalog {
            streams: vec![StreamInfo {
                name: "a".into(),
                suggested: true,
                extra: Map::new(),
            }],
        };
        assert!(validate_whitelist(&cat, &["a".into()]).is_ok());
        let e = validate_whitelist(&cat, &["a".into(), "b".into()]).unwrap_err();
        assert!(e.to_string().contains("unknown stream(s) in whitelist: b"));
    }

    #[test]
    fn create_source_body() {
        let r = CreateSource::new("t1")
            .config("k", "v")
            .tags(["x", "y"], TagMode::All);
        assert_eq!(
            r.to_json().unwrap(),
            serde_json::json!({
                "source_template_id": "t1",
                "source_config": {"k": "v"},
                "selected_connection_template_tags": ["x", "y"],
                "selected_connection_template_tags_mode": "all",
            })
        );
        assert!(!format!("{r:?}").contains("\"v\""));
        assert!(CreateSource::new(" ").to_json().is_err());
    }
}
