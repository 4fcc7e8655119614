//! Lazy page and record streams: each page is fetched through the [`Client`] when polled, and
//! the core's next-page step decides what comes after it.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::de::DeserializeOwned;

use crate::Params;
use crate::client::Client;
use crate::descriptor::OperationDescriptor;
use crate::error::Result;
use crate::next_page::{NextPage, next_page};
use crate::page::Page;
use crate::response::ExecuteResult;

impl Client {
    /// A lazy stream of pages following the operation's pagination (capped at the client's
    /// `max_pages`).
    pub fn pages<T, M>(&self, op: &'static OperationDescriptor, params: Params) -> PageStream<T, M>
    where
        T: DeserializeOwned + Send + 'static,
        M: DeserializeOwned + Send + 'static,
    {
        stream(self.clone(), op, params, self.max_pages())
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

struct State {
    client: Client,
    op: &'static OperationDescriptor,
    next: NextPage,
    last_url: Option<String>,
    first: bool,
    initial: Option<Params>,
}

fn stream<T, M>(
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
        next: NextPage::Done,
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
            match std::mem::replace(&mut st.next, NextPage::Done) {
                NextPage::Done => return None,
                NextPage::Params(p) => st
                    .client
                    .call_prepared(st.op, &p, &Default::default())
                    .await
                    .map(|r| (r, p)),
                NextPage::Url(u) => {
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
                st.next = next_page(st.op, &params, &r);
                let page = Page::<T, M>::decode(st.op, r);
                if page.is_err() {
                    st.next = NextPage::Done;
                }
                Some((page, st))
            }
            Err(e) => {
                st.next = NextPage::Done;
                Some((Err(e), st))
            }
        }
    });
    PageStream {
        inner: Box::pin(s),
        remaining: max_pages,
    }
}
