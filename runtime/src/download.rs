//! Streamed downloads.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use crate::error::{Error, Result};

/// The bytes of a download, streamed from the network as they are polled (back-pressure: nothing
/// is read ahead beyond the transport's buffers).
pub struct ByteStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
    content_type: Option<String>,
    content_length: Option<u64>,
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    pub(crate) fn from_response(resp: reqwest::Response) -> Self {
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_length = resp.content_length();
        let inner = resp.bytes_stream().map(|r| {
            r.map_err(|e| {
                if e.is_timeout() {
                    Error::Timeout {
                        message: "download stalled".into(),
                        source: Some(Box::new(e.without_url())),
                    }
                } else {
                    crate::transport::map_reqwest_error(e, Some("download interrupted"))
                }
            })
        });
        ByteStream {
            inner: Box::pin(inner),
            content_type,
            content_length,
        }
    }

    /// A stream over in-memory chunks (tests, hosted mode).
    pub fn from_chunks(chunks: Vec<Bytes>) -> Self {
        ByteStream {
            content_length: Some(chunks.iter().map(|c| c.len() as u64).sum()),
            inner: Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok))),
            content_type: None,
        }
    }

    /// `Content-Type` of the response.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// `Content-Length` of the response, when known.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Read everything into memory (small files only).
    pub async fn collect_bytes(mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = self.inner.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(out)
    }

    /// Write the stream to `path` chunk by chunk; returns the number of bytes written. Fails if
    /// the file exists unless `overwrite`; a partial file is removed on error.
    pub async fn write_to_file(mut self, path: impl AsRef<Path>, overwrite: bool) -> Result<u64> {
        let path = path.as_ref();
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true);
        if overwrite {
            opts.create(true).truncate(true);
        } else {
            opts.create_new(true);
        }
        let mut file = opts.open(path).await?;
        let mut written = 0u64;
        let result: Result<()> = async {
            while let Some(chunk) = self.inner.next().await {
                let chunk = chunk?;
                file.write_all(&chunk).await?;
                written += chunk.len() as u64;
            }
            file.flush().await?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            drop(file);
            let _ = tokio::fs::remove_file(path).await;
            return Err(e);
        }
        Ok(written)
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
