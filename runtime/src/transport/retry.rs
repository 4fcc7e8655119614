//! The retry loop: sends a request, and repeats it when the core's [`RetryPolicy`] says so.

use std::time::Instant;

use crate::error::Result;
use crate::retry::RetryPolicy;

/// The retry loop shared by every transport: sends what `build` returns, retrying per `policy`
/// (429 always, honouring `Retry-After`; other retryable statuses and timeouts only when
/// `idempotent` or [`RetryPolicy::retry_writes`]; connection failures always, since the server
/// never saw the request). Returns the last response (whatever its status) or transport error;
/// the outer error is a failure of `build`.
pub(crate) async fn send_with_policy(
    policy: &RetryPolicy,
    idempotent: bool,
    mut build: impl FnMut() -> Result<reqwest::RequestBuilder>,
) -> Result<std::result::Result<reqwest::Response, reqwest::Error>> {
    let start = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        let rb = build()?;
        match rb.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(airbyte_agent_core::headers::parse_retry_after);
                match policy.after_status(attempt, start.elapsed(), status, idempotent, retry_after)
                {
                    Some(delay) => {
                        tracing::debug!(
                            status,
                            attempt,
                            delay_ms = delay.as_millis() as u64,
                            "retrying"
                        );
                        drop(resp);
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Ok(Ok(resp)),
                }
            }
            Err(e) => {
                let transient = e.is_timeout() || e.is_connect() || e.is_request();
                match policy.after_transport_error(
                    attempt,
                    start.elapsed(),
                    e.is_connect(),
                    transient,
                    idempotent,
                ) {
                    Some(delay) => {
                        tracing::debug!(attempt, "retrying after transport error");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Ok(Err(e)),
                }
            }
        }
    }
}
