//! Comparison of observed requests and results with the oracle, producing readable mismatches:
//! the requests ([`compare_requests`]: method, path, query, headers, bodies of every encoding) and
//! the outcome ([`compare_result`]: success, kind, data, meta, error category and message).

mod body;
mod form;
mod json;
mod requests;
mod results;

use std::fmt;

use serde_json::Value;

pub use form::decode_pairs;
pub use json::json_diff;
pub use requests::{compare_requests, normalize_headers};
pub use results::{accepted_categories, compare_result};

/// Which part of a case differs. Allow-list entries may be restricted to some aspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Aspect {
    /// The spec could not be loaded, the client not built, or the case not set up.
    Setup,
    /// The call panicked or hung.
    Crash,
    /// A different number of requests (or different requests altogether).
    RequestCount,
    /// HTTP method.
    Method,
    /// Path.
    Path,
    /// Query string.
    Query,
    /// A header name or value.
    Header,
    /// The request body.
    Body,
    /// Success vs failure.
    Success,
    /// `envelope` / `raw` / `download`.
    Kind,
    /// Returned data.
    Data,
    /// Returned meta.
    Meta,
    /// Error category.
    ErrorCategory,
    /// Error message.
    ErrorMessage,
}

impl Aspect {
    /// Stable name used in reports and in the allow-list.
    pub fn name(self) -> &'static str {
        match self {
            Aspect::Setup => "setup",
            Aspect::Crash => "crash",
            Aspect::RequestCount => "request.count",
            Aspect::Method => "request.method",
            Aspect::Path => "request.path",
            Aspect::Query => "request.query",
            Aspect::Header => "request.header",
            Aspect::Body => "request.body",
            Aspect::Success => "result.success",
            Aspect::Kind => "result.kind",
            Aspect::Data => "result.data",
            Aspect::Meta => "result.meta",
            Aspect::ErrorCategory => "result.error.category",
            Aspect::ErrorMessage => "result.error.message",
        }
    }

    /// Every aspect (for allow-list validation).
    pub const ALL: &'static [Aspect] = &[
        Aspect::Setup,
        Aspect::Crash,
        Aspect::RequestCount,
        Aspect::Method,
        Aspect::Path,
        Aspect::Query,
        Aspect::Header,
        Aspect::Body,
        Aspect::Success,
        Aspect::Kind,
        Aspect::Data,
        Aspect::Meta,
        Aspect::ErrorCategory,
        Aspect::ErrorMessage,
    ];

    /// Parse a name produced by [`Aspect::name`].
    pub fn from_name(name: &str) -> Option<Aspect> {
        Aspect::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl fmt::Display for Aspect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One difference between the oracle and what we did.
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// What differs.
    pub aspect: Aspect,
    /// Human-readable detail (expected vs actual).
    pub detail: String,
}

impl Mismatch {
    /// A new mismatch.
    pub fn new(aspect: Aspect, detail: impl Into<String>) -> Self {
        Mismatch {
            aspect,
            detail: detail.into(),
        }
    }
}

/// What our `execute` produced, reduced to the oracle's terms.
#[derive(Debug, Clone)]
pub struct ObservedResult {
    /// Whether the call succeeded.
    pub success: bool,
    /// `envelope`, `raw` or `download` on success.
    pub kind: Option<&'static str>,
    /// Returned data (`{"__bytes_base64__": ...}` for downloads).
    pub data: Value,
    /// Returned meta.
    pub meta: Value,
    /// The error, on failure.
    pub error: Option<ObservedError>,
}

/// Our error, reduced to a category and messages.
#[derive(Debug, Clone)]
pub struct ObservedError {
    /// Category (the runtime `Error` variant name, e.g. `NotFound`).
    pub category: &'static str,
    /// Bare message (the API's text for HTTP errors).
    pub message: String,
    /// Full `Display` text.
    pub display: String,
}

const MAX_VALUE: usize = 160;

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_VALUE {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX_VALUE).collect();
        format!("{head}…")
    }
}

fn clip_json(v: &Value) -> String {
    clip(&v.to_string())
}
