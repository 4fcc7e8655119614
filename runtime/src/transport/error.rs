//! The one mapping of reqwest failures to [`Error`]: timeouts and network failures, with the
//! URL (whose query may carry an API key) removed and the source chain kept.

use crate::error::Error;

/// Map a failed send or body read. `context` prefixes the message (e.g. `Airbyte API
/// unreachable`); the message names the origin called (scheme, host and port: never a path or
/// query, which may carry credentials); the reqwest error, without its URL, stays reachable
/// through `source()`.
pub(crate) fn map_reqwest_error(e: reqwest::Error, context: Option<&str>) -> Error {
    let timeout = e.is_timeout();
    let origin = e.url().map(origin_of);
    let e = e.without_url();
    let chain = chain_text(&e);
    let message = match (context, origin) {
        (Some(c), Some(o)) => format!("{c} ({o}): {chain}"),
        (Some(c), None) => format!("{c}: {chain}"),
        (None, Some(o)) => format!("{o}: {chain}"),
        (None, None) => chain,
    };
    let source = Some(Box::new(e) as crate::error::BoxError);
    if timeout {
        Error::Timeout { message, source }
    } else {
        Error::Network { message, source }
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(u: &reqwest::Url) -> String {
    let host = u.host_str().unwrap_or("");
    match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    }
}

/// The text of an error and its sources, without URLs.
pub(super) fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display may include the URL, whose query could carry an API key: strip it.
    let mut msg = e.to_string();
    if let Some(u) = e.url() {
        let mut c = u.clone();
        c.set_query(None);
        msg = msg.replace(u.as_str(), c.as_str());
    }
    push_sources(&mut msg, e);
    msg
}

fn chain_text(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    push_sources(&mut msg, e);
    msg
}

fn push_sources(msg: &mut String, e: &dyn std::error::Error) {
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
}
