//! Paged platform list endpoints: cursors in any of the shapes the API has used, every page
//! collected, items decoded.

use serde_json::Value;

use super::MAX_LIST_PAGES;
use crate::airbyte_api::{Call, Transport, list_items, unexpected};
use crate::error::HostedError;
use crate::error::Result;

/// The cursor of the next page, in any of the shapes the API has used.
fn next_cursor(v: &Value) -> Option<Next> {
    let s = |x: Option<&Value>| {
        x.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let meta = v.get("meta").or_else(|| v.get("pagination"));
    let has_more = v
        .get("has_more")
        .or_else(|| meta.and_then(|m| m.get("has_more")))
        .and_then(Value::as_bool);
    if has_more == Some(false) {
        return None;
    }
    if let Some(n) = s(v.get("next")).or_else(|| s(meta.and_then(|m| m.get("next")))) {
        return Some(
            if n.starts_with("http://") || n.starts_with("https://") || n.starts_with('/') {
                Next::Url(n)
            } else {
                Next::Cursor(n)
            },
        );
    }
    s(v.get("next_cursor"))
        .or_else(|| s(meta.and_then(|m| m.get("next_cursor"))))
        .or_else(|| {
            // A bare `cursor` only counts when the server says more pages exist.
            (has_more == Some(true))
                .then(|| s(v.get("cursor")).or_else(|| s(meta.and_then(|m| m.get("cursor")))))
                .flatten()
        })
        .map(Next::Cursor)
}

enum Next {
    Cursor(String),
    Url(String),
}

/// GET every page of a platform list endpoint.
pub(crate) async fn collect_pages(
    transport: &Transport,
    path: &str,
    query: Vec<(&str, String)>,
) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    let mut next_query: Option<Vec<(String, String)>> = None;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_LIST_PAGES {
        let owned: Vec<(String, String)>;
        let mut call = Call::get(path);
        if let Some(q) = &next_query {
            owned = q.clone();
            call.query = owned.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        } else {
            call.query = query.clone();
            if let Some(c) = &cursor {
                call = call.query("cursor", c.clone());
            }
        }
        let v = transport.json(&call).await?;
        let items = list_items(&v)
            .ok_or_else(|| unexpected(&call, "list response has no `data` array".into()))?;
        let empty = items.is_empty();
        out.extend(items.iter().cloned());
        let Some(next) = next_cursor(&v) else {
            return Ok(out);
        };
        if empty {
            return Ok(out);
        }
        match next {
            Next::Cursor(c) => {
                if !seen.insert(c.clone()) {
                    return Ok(out);
                }
                cursor = Some(c);
                next_query = None;
            }
            Next::Url(u) => {
                if !seen.insert(u.clone()) {
                    return Ok(out);
                }
                let parsed = reqwest::Url::parse(&u)
                    .or_else(|_| reqwest::Url::parse(&format!("http://localhost{u}")))
                    .map_err(|e| unexpected(&call, format!("invalid next-page URL ({e})")))?;
                if parsed.path() != path {
                    return Err(unexpected(
                        &call,
                        "next-page URL points to another endpoint".into(),
                    ));
                }
                next_query = Some(parsed.query_pairs().into_owned().collect());
            }
        }
    }
    Ok(out)
}

pub(crate) fn decode_one<T: serde::de::DeserializeOwned>(call: &Call<'_>, v: Value) -> Result<T> {
    // Some endpoints wrap the object in `data`.
    let v = match v {
        Value::Object(mut m)
            if !m.contains_key("id") && m.get("data").is_some_and(Value::is_object) =>
        {
            m.remove("data").unwrap_or(Value::Null)
        }
        other => other,
    };
    serde_json::from_value(v).map_err(|e| unexpected(call, format!("cannot decode ({e})")))
}

pub(crate) fn decode_items<T: serde::de::DeserializeOwned>(
    endpoint: &str,
    items: Vec<Value>,
) -> Result<Vec<T>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::from_value(v).map_err(|e| {
                HostedError::UnexpectedResponse {
                    endpoint: endpoint.to_string(),
                    message: format!("item {i}: {e}"),
                }
                .into()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors() {
        use serde_json::json;
        let c = |v: Value| match next_cursor(&v) {
            Some(Next::Cursor(c)) => Some(format!("c:{c}")),
            Some(Next::Url(u)) => Some(format!("u:{u}")),
            None => None,
        };
        assert_eq!(
            c(json!({"data": [], "next_cursor": "a"})),
            Some("c:a".into())
        );
        assert_eq!(
            c(json!({"data": [], "next": "/x?cursor=b"})),
            Some("u:/x?cursor=b".into())
        );
        assert_eq!(
            c(json!({"data": [], "meta": {"has_more": true, "cursor": "d"}})),
            Some("c:d".into())
        );
        assert_eq!(
            c(json!({"data": [], "meta": {"has_more": false, "cursor": "d"}})),
            None
        );
        assert_eq!(c(json!({"data": [], "cursor": "d"})), None);
        assert_eq!(c(json!({"data": [], "next": null})), None);
    }
}
