//! [`Call`]: the future of a typed call. The fetch is one boxed, non-generic future compiled in
//! this crate; the record type only picks the plain function that decodes the answer. So a
//! connector crate's request builders hold no `async` code of their own: their `send` and
//! `IntoFuture` return a `Call`, and no per-operation state machine is compiled downstream.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::future::BoxFuture;

use super::Client;
use crate::descriptor::OperationDescriptor;
use crate::error::Result;
use crate::modes::Fetched;

/// The future of a typed call ([`Client::call_list`], [`Client::call_record`],
/// [`Client::download`]): `Send`, `'static` (it owns a clone of the client), and cancelled by
/// dropping it.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Call<T> {
    state: State<T>,
}

enum State<T> {
    /// Fetch, then decode the answer with `finish`.
    Decode {
        fetch: BoxFuture<'static, Result<Answer>>,
        finish: fn(Answer) -> Result<T>,
    },
    /// A future whose output needs no decoding.
    Ready(BoxFuture<'static, Result<T>>),
}

/// What a call fetched, with what decoding it needs.
pub(crate) struct Answer {
    pub(crate) client: Client,
    pub(crate) op: &'static OperationDescriptor,
    pub(crate) fetched: Fetched,
}

impl<T> Call<T> {
    /// Fetch with `fetch`, then decode with `finish`.
    pub(crate) fn decode(
        fetch: BoxFuture<'static, Result<Answer>>,
        finish: fn(Answer) -> Result<T>,
    ) -> Self {
        Call {
            state: State::Decode { fetch, finish },
        }
    }

    /// A future whose output is the call's result as it is.
    pub(crate) fn ready(fut: BoxFuture<'static, Result<T>>) -> Self {
        Call {
            state: State::Ready(fut),
        }
    }
}

impl<T> Future for Call<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        match &mut self.get_mut().state {
            State::Decode { fetch, finish } => fetch.as_mut().poll(cx).map(|r| r.and_then(*finish)),
            State::Ready(fut) => fut.as_mut().poll(cx),
        }
    }
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call").finish_non_exhaustive()
    }
}
