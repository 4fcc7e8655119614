//! The pure next-page step of pagination: from the parameters of the page just fetched and its
//! result, what to fetch next, for every [`Pagination`] style. The streams that drive it live in
//! the runtime.

use serde_json::{Map, Value};

use crate::Params;
use crate::descriptor::{OperationDescriptor, Pagination};
use crate::response::ExecuteResult;

/// What to fetch next.
#[derive(Debug, Clone, PartialEq)]
pub enum NextPage {
    /// The same operation with these parameters.
    Params(Params),
    /// This URL as it is (a `next` link of the API).
    Url(String),
    /// No further page.
    Done,
}

fn meta_get<'a>(meta: &'a Option<Map<String, Value>>, key: &str) -> Option<&'a Value> {
    meta.as_ref()
        .and_then(|m| m.get(key))
        .filter(|v| !v.is_null())
}

fn non_empty(v: Option<&Value>) -> Option<Value> {
    match v {
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::Bool(_)) | None => None,
        Some(v) => Some(v.clone()),
    }
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    let q = q.split('#').next().unwrap_or(q);
    q.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (crate::encode::form_decode(k) == name).then(|| crate::encode::form_decode(v))
    })
}

/// What the next-page step reads of a page: its meta values, how many records it holds (a
/// `null` item counts) and its last record.
#[derive(Debug, Clone, Copy)]
pub struct PageView<'a> {
    /// The page's meta values.
    pub meta: &'a Option<Map<String, Value>>,
    /// The number of records.
    pub records: usize,
    /// The last record, as received.
    pub last_record: Option<&'a Value>,
}

impl<'a> From<&'a ExecuteResult> for PageView<'a> {
    fn from(r: &'a ExecuteResult) -> Self {
        let (records, last_record) = match &r.data {
            Value::Array(a) => (a.len(), a.last()),
            Value::Null => (0, None),
            _ => (1, None),
        };
        PageView {
            meta: &r.meta,
            records,
            last_record,
        }
    }
}

fn current_int(params: &Params, op: &OperationDescriptor, name: &str, fallback: i64) -> i64 {
    params
        .get(name)
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .or_else(|| {
            op.params
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.default)
                .and_then(|d| d.parse().ok())
        })
        .unwrap_or(fallback)
}

/// Compute the next request from the current params and the page just fetched.
pub fn next_page(op: &OperationDescriptor, params: &Params, r: &ExecuteResult) -> NextPage {
    next_page_of(op, params, &PageView::from(r))
}

/// [`next_page`] from what it reads of the page (see
/// [`page_from_bytes::facts`](crate::page_from_bytes::facts), which gathers it from the bytes).
pub fn next_page_of(op: &OperationDescriptor, params: &Params, r: &PageView<'_>) -> NextPage {
    let with = |name: &str, v: Value| {
        let mut p = params.clone();
        p.insert(name.to_string(), v);
        if &p == params {
            NextPage::Done
        } else {
            NextPage::Params(p)
        }
    };
    match op.pagination {
        Pagination::Cursor { meta, param } => match non_empty(meta_get(r.meta, meta)) {
            Some(v) => with(param, v),
            None => NextPage::Done,
        },
        Pagination::LastRecord {
            field,
            param,
            has_more,
        } => {
            if let Some(h) = has_more
                && meta_get(r.meta, h) != Some(&Value::Bool(true))
            {
                return NextPage::Done;
            }
            match r
                .last_record
                .and_then(|rec| rec.get(field))
                .filter(|v| !v.is_null())
            {
                Some(v) => with(param, v.clone()),
                None => NextPage::Done,
            }
        }
        Pagination::CursorInLink { meta, param } => {
            let token = match meta_get(r.meta, meta) {
                Some(Value::String(url)) => query_param(url, param),
                Some(Value::Object(m)) => m
                    .get(param)
                    .and_then(crate::encode::scalar_text)
                    .or_else(|| {
                        m.get("uri")
                            .and_then(Value::as_str)
                            .and_then(|u| query_param(u, param))
                    })
                    .or_else(|| m.get("offset").and_then(crate::encode::scalar_text)),
                _ => None,
            };
            match token.filter(|t| !t.is_empty()) {
                Some(t) => with(param, Value::String(t)),
                None => NextPage::Done,
            }
        }
        Pagination::PageNumber { param, next_meta } => {
            if r.records == 0 {
                return NextPage::Done;
            }
            if let Some(nm) = next_meta {
                match meta_get(r.meta, nm) {
                    None | Some(Value::Bool(false)) => return NextPage::Done,
                    Some(Value::String(s)) if s.is_empty() => return NextPage::Done,
                    _ => {}
                }
            }
            let cur = current_int(params, op, param, 1);
            with(param, Value::from(cur + 1))
        }
        Pagination::Offset { param } => {
            let n = r.records;
            if n == 0 {
                return NextPage::Done;
            }
            let cur = current_int(params, op, param, 0);
            with(param, Value::from(cur + n as i64))
        }
        Pagination::NextUrl { meta } => match meta_get(r.meta, meta) {
            Some(Value::String(u)) if !u.is_empty() => NextPage::Url(u.clone()),
            _ => NextPage::Done,
        },
        Pagination::Relay {
            cursor_meta,
            has_next_meta,
            param,
        } => {
            if meta_get(r.meta, has_next_meta) != Some(&Value::Bool(true)) {
                return NextPage::Done;
            }
            match non_empty(meta_get(r.meta, cursor_meta)) {
                Some(v) => with(param, v),
                None => NextPage::Done,
            }
        }
        _ => NextPage::Done,
    }
}
