//! Pagination classification (spec-format §5): which runtime pagination style reaches the next page.

use airbyte_agent_core::{ActionKind, ParamLocation, ValueKind};

use super::ParamIr;
use super::types::TypeBuilder;
use crate::spec::Operation;

/// Owned mirror of `runtime::Pagination`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PaginationIr {
    /// Single page.
    None,
    /// Opaque token from meta → param.
    Cursor {
        /// Meta field.
        meta: String,
        /// Param.
        param: String,
    },
    /// Last record's field → param.
    LastRecord {
        /// Record field.
        field: String,
        /// Param.
        param: String,
        /// has-more meta.
        has_more: Option<String>,
    },
    /// Token inside a URL/object in meta.
    CursorInLink {
        /// Meta field.
        meta: String,
        /// Param (and query name inside the link).
        param: String,
    },
    /// Page number.
    PageNumber {
        /// Param.
        param: String,
        /// Meta whose null means the end.
        next_meta: Option<String>,
    },
    /// Offset.
    Offset {
        /// Param.
        param: String,
    },
    /// Next URL.
    NextUrl {
        /// Meta field.
        meta: String,
    },
    /// GraphQL relay.
    Relay {
        /// End cursor meta.
        cursor_meta: String,
        /// Has-next meta.
        has_next_meta: String,
        /// Param.
        param: String,
    },
}

const CURSOR_PARAMS: &[&str] = &[
    "cursor",
    "after",
    "pageToken",
    "page_token",
    "nextPageToken",
    "next_page_token",
    "NextToken",
    "nextToken",
    "next_token",
    "bookmark",
    "start_cursor",
    "startCursor",
    "start_id",
    "page[cursor]",
    "offset",
    "page",
    "starting_after",
];

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn last_segment(expr: &str) -> &str {
    expr.rsplit(['.', '['])
        .next()
        .unwrap_or(expr)
        .trim_end_matches(']')
}

/// Classify one operation.
pub(crate) fn classify(
    op: &Operation<'_>,
    kind: ActionKind,
    params: &[ParamIr],
    tb: &TypeBuilder<'_>,
) -> PaginationIr {
    if !kind.returns_many() || op.no_pagination || op.meta_extractor.is_empty() {
        return PaginationIr::None;
    }
    let metas = &op.meta_extractor;
    let param = |name: &str| {
        params.iter().find(|p| {
            p.name == name
                && p.location != ParamLocation::Path
                && p.location != ParamLocation::Header
        })
    };
    let meta_type = |expr: &str| -> Option<String> {
        let schema = op.response_schema.as_ref()?;
        let node = tb.at_path(schema, expr).ok()??;
        let t = TypeBuilder::types_of(&node);
        let fmt = node
            .value
            .get("format")
            .and_then(|f| f.as_str())
            .unwrap_or("");
        if fmt == "uri" || fmt == "url" {
            return Some("uri".into());
        }
        t.first()
            .cloned()
            .or_else(|| node.get("properties").map(|_| "object".to_string()))
    };
    let is_bool = |expr: &str| meta_type(expr).as_deref() == Some("boolean");
    let looks_url = |name: &str, expr: &str| {
        let n = format!(
            "{} {}",
            name.to_ascii_lowercase(),
            expr.to_ascii_lowercase()
        );
        n.contains("url") || n.contains("link") || n.contains("uri") || n.contains("href")
    };

    // GraphQL relay.
    let end_cursor = metas.iter().find(|(n, e)| {
        let l = norm(last_segment(e));
        l == "endcursor" || norm(n) == "endcursor"
    });
    let has_next = metas.iter().find(|(n, e)| {
        let l = norm(last_segment(e));
        l == "hasnextpage" || norm(n) == "hasnextpage"
    });
    if let (Some((c, _)), Some((h, _)), Some(p)) = (end_cursor, has_next, param("after")) {
        return PaginationIr::Relay {
            cursor_meta: c.clone(),
            has_next_meta: h.clone(),
            param: p.name.clone(),
        };
    }

    // Link header.
    if let Some((n, _)) = metas.iter().find(|(_, e)| e.trim() == "@link.next") {
        return PaginationIr::NextUrl { meta: n.clone() };
    }

    // Cursor token.
    let cursor_param = CURSOR_PARAMS.iter().filter_map(|c| param(c)).find(|p| {
        let string_like = matches!(p.kind, ValueKind::String | ValueKind::Any);
        match p.name.as_str() {
            "offset" | "page" => string_like,
            _ => true,
        }
    });
    if let Some(p) = cursor_param {
        let pn = norm(&p.name);
        let token_meta = metas
            .iter()
            .filter(|(_, e)| !is_bool(e))
            .find(|(n, e)| norm(n) == pn || norm(last_segment(e)) == pn)
            .or_else(|| {
                metas.iter().filter(|(_, e)| !is_bool(e)).find(|(n, e)| {
                    let s = format!("{} {}", n.to_ascii_lowercase(), e.to_ascii_lowercase());
                    ["cursor", "token", "bookmark", "next", "after", "offset"]
                        .iter()
                        .any(|k| s.contains(k))
                })
            });
        if let Some((n, e)) = token_meta {
            let t = meta_type(e);
            let in_link = matches!(t.as_deref(), Some("object") | Some("array") | Some("uri"))
                || (looks_url(n, e) && norm(n) != pn);
            return if in_link {
                PaginationIr::CursorInLink {
                    meta: n.clone(),
                    param: p.name.clone(),
                }
            } else {
                PaginationIr::Cursor {
                    meta: n.clone(),
                    param: p.name.clone(),
                }
            };
        }
    }

    // Last record id (Stripe `starting_after`).
    if let Some(p) = param("starting_after") {
        let has_more = metas
            .iter()
            .find(|(n, _)| norm(n) == "hasmore")
            .map(|(n, _)| n.clone());
        return PaginationIr::LastRecord {
            field: "id".into(),
            param: p.name.clone(),
            has_more,
        };
    }

    // Page number.
    let next_meta = metas
        .iter()
        .filter(|(_, e)| !is_bool(e))
        .find(|(n, _)| {
            let n = norm(n);
            n.contains("next")
        })
        .map(|(n, _)| n.clone());
    for name in ["page", "page_number", "pageNumber", "current_page"] {
        if let Some(p) = param(name)
            && matches!(p.kind, ValueKind::Integer | ValueKind::Number)
        {
            return PaginationIr::PageNumber {
                param: p.name.clone(),
                next_meta,
            };
        }
    }

    // Offset.
    for name in ["offset", "startAt", "start", "skip"] {
        if let Some(p) = param(name)
            && matches!(p.kind, ValueKind::Integer | ValueKind::Number)
        {
            return PaginationIr::Offset {
                param: p.name.clone(),
            };
        }
    }

    // Next URL only.
    if let Some((n, _)) = metas.iter().filter(|(_, e)| !is_bool(e)).find(|(n, e)| {
        let s = format!("{} {}", norm(n), norm(e));
        let tokenish = s.contains("token") || s.contains("cursor");
        let urlish = looks_url(n, e)
            || meta_type(e).as_deref() == Some("uri")
            || norm(n) == "next"
            || norm(n) == "nextpage";
        s.contains("next") && urlish && !tokenish
    }) {
        return PaginationIr::NextUrl { meta: n.clone() };
    }
    PaginationIr::None
}
