//! The one HTTP transport every mode and the platform API send through: the process-wide TLS
//! configuration, the pooled reqwest client, the single mapping of reqwest failures to
//! [`Error`](crate::Error), header and method conversion, and the retry loop.

mod error;
mod http;
mod retry;

pub(crate) use error::map_reqwest_error;
pub(crate) use http::{HttpClient, headers_from_reqwest, method};
pub(crate) use retry::send_with_policy;
