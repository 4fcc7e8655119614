//! Lazy page and record streams for every [`Pagination`] style.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Params;
use crate::client::{Client, decode};
use crate::descriptor::{OperationDescriptor, Pagination};
use crate::error::Result;
use crate::response::ExecuteResult;

/// One decoded page: records plus typed meta.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T, M> {
    /// Records of the page.
    pub data: Vec<T>,
    /// Meta values (cursors, totals) of the page.
    pub meta: M,
}

impl<T: DeserializeOwned, M: DeserializeOwned> Page<T, M> {
    pub(crate) fn decode(op: &OperationDescriptor, r: ExecuteResult) -> Result<Self> {
        let items = match r.data {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let mut data = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            data.push(decode(op, &format!("data[{i}]"), item)?);
        }
        Self::from_parts(op, data, r.meta)
    }

    /// A page from decoded records and the raw meta values (typed meta decoded here).
    pub(crate) fn from_parts(
        op: &OperationDescriptor,
        data: Vec<T>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self> {
        let meta_value = Value::Object(meta.unwrap_or_default());
        let meta = match decode::<M>(op, "meta", meta_value) {
            Ok(m) => m,
            Err(e) => match serde_json::from_value::<M>(Value::Null) {
                Ok(m) => m,
                Err(_) => return Err(e),
            },
        };
        Ok(Page { data, meta })
    }
}

type BoxStream<I> = Pin<Box<dyn Stream<Item = I> + Send>>;

/// A lazy stream of pages (`Stream<Item = Result<Page<T, M>>> + Send + Unpin`). Each page is
/// fetched only when polled; the stream ends when the API reports no further page, when a page
/// makes no progress, or at the page cap.
pub struct PageStream<T, M> {
    inner: BoxStream<Result<Page<T, M>>>,
    remaining: usize,
}

impl<T, M> std::fmt::Debug for PageStream<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageStream")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<T, M> PageStream<T, M> {
    /// Lower the page cap of this stream.
    pub fn max_pages(mut self, n: usize) -> Self {
        self.remaining = self.remaining.min(n);
        self
    }
}

impl<T: Send + 'static, M: Send + 'static> PageStream<T, M> {
    /// Flatten the pages into records.
    pub fn records(self) -> RecordStream<T> {
        RecordStream {
            pages: Box::pin(PagesAsVec(self)),
            buffer: std::collections::VecDeque::new(),
            _m: PhantomData,
        }
    }
}

impl<T, M> Stream for PageStream<T, M> {
    type Item = Result<Page<T, M>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                self.remaining -= 1;
                Poll::Ready(Some(item))
            }
            other => other,
        }
    }
}

/// Records of a [`PageStream`], one by one.
pub struct RecordStream<T> {
    pages: Pin<Box<dyn Stream<Item = Result<Vec<T>>> + Send>>,
    buffer: std::collections::VecDeque<T>,
    _m: PhantomData<T>,
}

impl<T> std::fmt::Debug for RecordStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static, M: Send + 'static> Stream for PagesAsVec<T, M> {
    type Item = Result<Vec<T>>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match Pin::new(&mut self.0).poll_next(cx) {
            Poll::Ready(Some(Ok(p))) => Poll::Ready(Some(Ok(p.data))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

struct PagesAsVec<T, M>(PageStream<T, M>);

impl<T: Send + 'static> Stream for RecordStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(r) = self.buffer.pop_front() {
                return Poll::Ready(Some(Ok(r)));
            }
            match self.pages.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(v))) => self.buffer.extend(v),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T> Unpin for RecordStream<T> {}

/// What to fetch next.
enum Next {
    Params(Params),
    Url(String),
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

fn record_count(data: &Value) -> usize {
    match data {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        _ => 1,
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
fn next_of(op: &OperationDescriptor, params: &Params, r: &ExecuteResult) -> Next {
    let with = |name: &str, v: Value| {
        let mut p = params.clone();
        p.insert(name.to_string(), v);
        if &p == params {
            Next::Done
        } else {
            Next::Params(p)
        }
    };
    match op.pagination {
        Pagination::Cursor { meta, param } => match non_empty(meta_get(&r.meta, meta)) {
            Some(v) => with(param, v),
            None => Next::Done,
        },
        Pagination::LastRecord {
            field,
            param,
            has_more,
        } => {
            if let Some(h) = has_more
                && meta_get(&r.meta, h) != Some(&Value::Bool(true))
            {
                return Next::Done;
            }
            let last = match &r.data {
                Value::Array(a) => a.last(),
                _ => None,
            };
            match last.and_then(|rec| rec.get(field)).filter(|v| !v.is_null()) {
                Some(v) => with(param, v.clone()),
                None => Next::Done,
            }
        }
        Pagination::CursorInLink { meta, param } => {
            let token = match meta_get(&r.meta, meta) {
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
                None => Next::Done,
            }
        }
        Pagination::PageNumber { param, next_meta } => {
            if record_count(&r.data) == 0 {
                return Next::Done;
            }
            if let Some(nm) = next_meta {
                match meta_get(&r.meta, nm) {
                    None | Some(Value::Bool(false)) => return Next::Done,
                    Some(Value::String(s)) if s.is_empty() => return Next::Done,
                    _ => {}
                }
            }
            let cur = current_int(params, op, param, 1);
            with(param, Value::from(cur + 1))
        }
        Pagination::Offset { param } => {
            let n = record_count(&r.data);
            if n == 0 {
                return Next::Done;
            }
            let cur = current_int(params, op, param, 0);
            with(param, Value::from(cur + n as i64))
        }
        Pagination::NextUrl { meta } => match meta_get(&r.meta, meta) {
            Some(Value::String(u)) if !u.is_empty() => Next::Url(u.clone()),
            _ => Next::Done,
        },
        Pagination::Relay {
            cursor_meta,
            has_next_meta,
            param,
        } => {
            if meta_get(&r.meta, has_next_meta) != Some(&Value::Bool(true)) {
                return Next::Done;
            }
            match non_empty(meta_get(&r.meta, cursor_meta)) {
                Some(v) => with(param, v),
                None => Next::Done,
            }
        }
        _ => Next::Done,
    }
}

struct State {
    client: Client,
    op: &'static OperationDescriptor,
    next: Next,
    last_url: Option<String>,
    first: bool,
    initial: Option<Params>,
}

pub(crate) fn stream<T, M>(
    client: Client,
    op: &'static OperationDescriptor,
    params: Params,
    max_pages: usize,
) -> PageStream<T, M>
where
    T: DeserializeOwned + Send + 'static,
    M: DeserializeOwned + Send + 'static,
{
    let state = State {
        client,
        op,
        next: Next::Done,
        last_url: None,
        first: true,
        initial: Some(params),
    };
    let s = futures_util::stream::unfold(state, |mut st| async move {
        let result: Result<(ExecuteResult, Params)> = if st.first {
            st.first = false;
            let raw = st.initial.take().unwrap_or_default();
            match st.client.prepare_params(st.op, raw) {
                Ok(p) => st
                    .client
                    .call_prepared(st.op, &p, &Default::default())
                    .await
                    .map(|r| (r, p)),
                Err(e) => Err(e),
            }
        } else {
            match std::mem::replace(&mut st.next, Next::Done) {
                Next::Done => return None,
                Next::Params(p) => st
                    .client
                    .call_prepared(st.op, &p, &Default::default())
                    .await
                    .map(|r| (r, p)),
                Next::Url(u) => {
                    if st.last_url.as_deref() == Some(u.as_str()) {
                        return None;
                    }
                    st.last_url = Some(u.clone());
                    let p = Params::new();
                    st.client.call_url(st.op, &u).await.map(|r| (r, p))
                }
            }
        };
        match result {
            Ok((r, params)) => {
                st.next = next_of(st.op, &params, &r);
                let page = Page::<T, M>::decode(st.op, r);
                if page.is_err() {
                    st.next = Next::Done;
                }
                Some((page, st))
            }
            Err(e) => {
                st.next = Next::Done;
                Some((Err(e), st))
            }
        }
    });
    PageStream {
        inner: Box::pin(s),
        remaining: max_pages,
    }
}
