//! Lazy page and record streams: each page is fetched through the [`Client`] when polled, and
//! the core's next-page step decides what comes after it. Fetching is one non-generic stream of
//! answers; the typed streams only decode its items, so each record type adds its decoder and
//! nothing of the fetch loop. A provider body of the plain list shape stays bytes: the next-page
//! step reads its facts from a skim of the bytes, and the typed stream decodes its records
//! straight from them, as a single `call_list` does.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::Params;
use crate::client::Client;
use crate::descriptor::OperationDescriptor;
use crate::error::Result;
use crate::modes::Fetched;
use crate::next_page::{NextPage, next_page, next_page_of};
use crate::page::Page;

impl Client {
    /// A lazy stream of pages following the operation's pagination (capped at the client's
    /// `max_pages`).
    pub fn pages<T, M>(&self, op: &'static OperationDescriptor, params: Params) -> PageStream<T, M>
    where
        T: DeserializeOwned + Send + 'static,
        M: DeserializeOwned + Send + 'static,
    {
        PageStream {
            raw: raw_pages(self.clone(), op, params),
            client: self.clone(),
            op,
            remaining: self.max_pages(),
            _types: PhantomData,
        }
    }
}

type RawPages = Pin<Box<dyn Stream<Item = Result<Fetched>> + Send>>;

/// A lazy stream of pages (`Stream<Item = Result<Page<T, M>>> + Send + Unpin`). Each page is
/// fetched only when polled; the stream ends when the API reports no further page, when a page
/// makes no progress, after an error, or at the page cap.
pub struct PageStream<T, M> {
    raw: RawPages,
    client: Client,
    op: &'static OperationDescriptor,
    remaining: usize,
    _types: PhantomData<fn() -> (T, M)>,
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

impl<T: DeserializeOwned + Send + 'static, M: DeserializeOwned + Send + 'static> PageStream<T, M> {
    /// Flatten the pages into records.
    pub fn records(self) -> RecordStream<T> {
        RecordStream {
            pages: Box::pin(PagesAsVec(self)),
            buffer: VecDeque::new(),
        }
    }
}

impl<T: DeserializeOwned, M: DeserializeOwned> Stream for PageStream<T, M> {
    type Item = Result<Page<T, M>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        match self.raw.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                self.remaining -= 1;
                let page = item.and_then(|f| self.client.page_of(self.op, f));
                if page.is_err() {
                    // A page that failed ends the stream.
                    self.remaining = 0;
                }
                Poll::Ready(Some(page))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Records of a [`PageStream`], one by one.
pub struct RecordStream<T> {
    pages: Pin<Box<dyn Stream<Item = Result<Vec<T>>> + Send>>,
    buffer: VecDeque<T>,
}

impl<T> std::fmt::Debug for RecordStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

struct PagesAsVec<T, M>(PageStream<T, M>);

impl<T: DeserializeOwned, M: DeserializeOwned> Stream for PagesAsVec<T, M> {
    type Item = Result<Vec<T>>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|o| o.map(|r| r.map(|p| p.data)))
    }
}

impl<T> Stream for RecordStream<T> {
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

struct State {
    client: Client,
    op: &'static OperationDescriptor,
    next: NextPage,
    last_url: Option<String>,
    first: bool,
    initial: Option<Params>,
}

/// The answers of every page, fetched when polled (not generic: one copy for all record types).
fn raw_pages(client: Client, op: &'static OperationDescriptor, params: Params) -> RawPages {
    let state = State {
        client,
        op,
        next: NextPage::Done,
        last_url: None,
        first: true,
        initial: Some(params),
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        let result: Result<(Fetched, Params)> = if st.first {
            st.first = false;
            let raw = st.initial.take().unwrap_or_default();
            match st.client.prepare_params(st.op, raw) {
                Ok(p) => st.client.fetch_prepared(st.op, &p).await.map(|r| (r, p)),
                Err(e) => Err(e),
            }
        } else {
            match std::mem::replace(&mut st.next, NextPage::Done) {
                NextPage::Done => return None,
                NextPage::Params(p) => st.client.fetch_prepared(st.op, &p).await.map(|r| (r, p)),
                NextPage::Url(u) => {
                    if st.last_url.as_deref() == Some(u.as_str()) {
                        return None;
                    }
                    st.last_url = Some(u.clone());
                    let p = Params::new();
                    st.client.fetch_url(st.op, &u).await.map(|r| (r, p))
                }
            }
        };
        match result.and_then(|(fetched, params)| step(&st.client, st.op, &params, fetched)) {
            Ok((fetched, next)) => {
                st.next = next;
                Some((Ok(fetched), st))
            }
            Err(e) => {
                st.next = NextPage::Done;
                Some((Err(e), st))
            }
        }
    }))
}

/// The next-page step on a fetched answer: a body of the plain list shape is skimmed for the
/// facts the step reads and kept as bytes; any other answer is interpreted here.
fn step(
    client: &Client,
    op: &'static OperationDescriptor,
    params: &Params,
    fetched: Fetched,
) -> Result<(Fetched, NextPage)> {
    let descriptor = client.descriptor();
    if let Fetched::Body { headers, bytes, .. } = &fetched
        && crate::page_from_bytes::eligible(descriptor, op)
        && let Some(facts) = crate::page_from_bytes::facts(descriptor, op, headers, bytes)
    {
        let next = next_page_of(op, params, &facts.view());
        return Ok((fetched, next));
    }
    let r = client.result_of(op, fetched)?;
    let next = next_page(op, params, &r);
    Ok((Fetched::Result(r), next))
}
