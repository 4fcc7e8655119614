//! Requests and records of the embedded API: stream selection, tag filters, source creation,
//! templates, sources, catalogs, widget tokens.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What a template offers: every stream, the suggested ones, or an explicit list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamSelection {
    /// The connector's suggested streams.
    Suggested,
    /// Every stream.
    All,
    /// Exactly these streams (never empty: use [`StreamSelection::whitelist`]).
    Whitelist(Vec<String>),
}

impl StreamSelection {
    /// A whitelist; an empty list is rejected here, before any request.
    pub fn whitelist(streams: impl IntoIterator<Item = impl Into<String>>) -> Result<Self> {
        let s: Vec<String> = streams.into_iter().map(Into::into).collect();
        let s = StreamSelection::Whitelist(s);
        s.validate()?;
        Ok(s)
    }

    /// Wire name of the mode: `suggested`, `all`, `whitelist`.
    pub fn mode(&self) -> &'static str {
        match self {
            StreamSelection::Suggested => "suggested",
            StreamSelection::All => "all",
            StreamSelection::Whitelist(_) => "whitelist",
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
        if let StreamSelection::Whitelist(w) = self {
            if w.is_empty() {
                return Err(Error::argument(
                    "stream_selection",
                    "stream selection mode `whitelist` needs at least one stream name; use `suggested` or `all` to offer streams without listing them",
                ));
            }
            if let Some(blank) = w.iter().find(|s| s.trim().is_empty()) {
                return Err(Error::argument(
                    "stream_selection",
                    format!("stream whitelist contains a blank name ({blank:?})"),
                ));
            }
        }
        Ok(())
    }

    pub(super) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("stream_selection_mode".into(), self.mode().into());
        if let StreamSelection::Whitelist(w) = self {
            m.insert("stream_whitelist".into(), w.clone().into());
        }
        Value::Object(m)
    }
}

/// How `selected_connection_template_tags` / tag filters combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TagMode {
    /// At least one tag matches.
    #[default]
    Any,
    /// Every tag matches.
    All,
}

impl TagMode {
    /// Wire name: `any` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            TagMode::Any => "any",
            TagMode::All => "all",
        }
    }
}

/// A tag filter for [`ScopedSession::list_templates`](super::ScopedSession::list_templates).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TagFilter {
    /// Tags.
    pub tags: Vec<String>,
    /// Combination.
    pub mode: TagMode,
}

impl TagFilter {
    /// Templates carrying `tags` combined by `mode`.
    pub fn new(tags: impl IntoIterator<Item = impl Into<String>>, mode: TagMode) -> Self {
        TagFilter {
            tags: tags.into_iter().map(Into::into).collect(),
            mode,
        }
    }
}

/// Request of [`ScopedSession::create_source`](super::ScopedSession::create_source).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CreateSource {
    /// Template to instantiate.
    pub source_template_id: String,
    /// Source name (the server picks one when absent).
    pub name: Option<String>,
    /// Configuration; fields already defaulted by the template may be omitted.
    pub source_config: Map<String, Value>,
    /// Connection-template tags to apply, with their combination mode.
    pub selected_connection_template_tags: Option<(Vec<String>, TagMode)>,
}

impl fmt::Debug for CreateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Config values are usually secrets: only the keys are shown.
        f.debug_struct("CreateSource")
            .field("source_template_id", &self.source_template_id)
            .field("name", &self.name)
            .field(
                "source_config",
                &self.source_config.keys().collect::<Vec<_>>(),
            )
            .field(
                "selected_connection_template_tags",
                &self.selected_connection_template_tags,
            )
            .finish()
    }
}

impl CreateSource {
    /// A source from template `id` with an empty config.
    pub fn new(source_template_id: impl Into<String>) -> Self {
        CreateSource {
            source_template_id: source_template_id.into(),
            name: None,
            source_config: Map::new(),
            selected_connection_template_tags: None,
        }
    }
    /// Set the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Set one config value.
    pub fn config(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.source_config.insert(key.into(), value.into());
        self
    }
    /// Set one secret config value.
    pub fn secret(self, key: impl Into<String>, value: &SecretString) -> Self {
        self.config(key, value.expose_secret())
    }
    /// Select connection templates by tags.
    pub fn tags(
        mut self,
        tags: impl IntoIterator<Item = impl Into<String>>,
        mode: TagMode,
    ) -> Self {
        self.selected_connection_template_tags =
            Some((tags.into_iter().map(Into::into).collect(), mode));
        self
    }

    pub(super) fn to_json(&self) -> Result<Value> {
        if self.source_template_id.trim().is_empty() {
            return Err(Error::argument(
                "source_template_id",
                "source_template_id must not be empty",
            ));
        }
        let mut m = Map::new();
        m.insert(
            "source_template_id".into(),
            self.source_template_id.clone().into(),
        );
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        m.insert(
            "source_config".into(),
            Value::Object(self.source_config.clone()),
        );
        if let Some((tags, mode)) = &self.selected_connection_template_tags {
            m.insert(
                "selected_connection_template_tags".into(),
                tags.clone().into(),
            );
            m.insert(
                "selected_connection_template_tags_mode".into(),
                mode.as_str().into(),
            );
        }
        Ok(Value::Object(m))
    }
}

/// A source template as offered through the embedded API.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct EmbeddedTemplate {
    /// Template id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Definition id.
    #[serde(default)]
    pub actor_definition_id: Option<String>,
    /// Config fields the template already sets (values may be masked by the server).
    #[serde(default)]
    pub partial_default_config: Map<String, Value>,
    /// Stream selection mode, when customized.
    #[serde(default)]
    pub stream_selection_mode: Option<String>,
    /// Whitelisted streams, when the mode is `whitelist`.
    #[serde(default)]
    pub stream_whitelist: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A source created through the embedded API.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct EmbeddedSource {
    /// Source (connector) id; usable with [`Workspace::connector_by_id`](crate::hosted::Workspace::connector_by_id).
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Template it was created from.
    #[serde(default)]
    pub source_template_id: Option<String>,
    /// Workspace name.
    #[serde(default)]
    pub workspace_name: Option<String>,
    /// Tags applied, as echoed by the server.
    #[serde(default)]
    pub selected_connection_template_tags: Vec<String>,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A source's catalog.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct Catalog {
    /// Streams.
    #[serde(default)]
    pub streams: Vec<StreamInfo>,
}

impl Catalog {
    /// Stream names.
    pub fn names(&self) -> Vec<&str> {
        self.streams.iter().map(|s| s.name.as_str()).collect()
    }
}

/// One stream of a [`Catalog`].
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// Name.
    pub name: String,
    /// Whether the connector suggests it.
    #[serde(default)]
    pub suggested: bool,
    /// Other fields, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A template tag.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateTag {
    /// Tag name (unique per organization).
    pub name: String,
    /// Templates carrying it, when the server says.
    #[serde(default)]
    pub template_ids: Vec<String>,
}

/// A widget token: what the Airbyte embedded widget needs in a browser.
#[derive(Clone)]
#[non_exhaustive]
pub struct WidgetToken {
    /// The opaque token handed to the widget.
    pub token: SecretString,
    /// Widget URL, when sent.
    pub widget_url: Option<String>,
}

impl fmt::Debug for WidgetToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WidgetToken")
            .field("token", &"[REDACTED]")
            .field("widget_url", &self.widget_url)
            .finish()
    }
}

/// Check `whitelist` against a catalog: every name must be a stream of it.
pub fn validate_whitelist(catalog: &Catalog, whitelist: &[String]) -> Result<()> {
    StreamSelection::Whitelist(whitelist.to_vec()).validate()?;
    let names = catalog.names();
    let unknown: Vec<&str> = whitelist
        .iter()
        .map(String::as_str)
        .filter(|w| !names.contains(w))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(Error::argument(
            "stream_selection",
            format!(
                "unknown stream(s) in whitelist: {}; the source's streams are: {}",
                unknown.join(", "),
                names.join(", ")
            ),
        ))
    }
}
