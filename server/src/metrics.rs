//! Prometheus metrics, rendered in the text exposition format at `/metrics`: HTTP requests by
//! route template, method and status class; request latency as a histogram per route template;
//! executes by entry point and outcome; provider token refreshes by outcome; and whether the
//! database answers (checked at scrape time). Labels carry route templates
//! (`/api/v1/integrations/connectors/{id}/execute`), never ids, names or tokens.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Where an execute came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `POST .../connectors/{id}/execute`.
    Api,
    /// A `tools/call` at `/mcp`.
    Mcp,
}

/// How an execute ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The provider answered and the result was returned.
    Ok,
    /// Refused before or by the provider (bad arguments, unknown connector, 4xx).
    Rejected,
    /// The provider or the server failed (5xx, network, storage).
    Failed,
}

/// How a provider token request through the refresh endpoint ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// The provider issued a token, stored before use.
    Refreshed,
    /// Another caller had refreshed already: the stored token was handed out, nothing sent.
    Shared,
    /// The provider refused the request.
    Refused,
    /// The provider could not be reached or read.
    Failed,
}

#[derive(Debug, Default)]
struct Histogram {
    /// Observations per bucket (not cumulative), plus one for `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// Labels of one request series: route template, method, status class.
type RequestKey = (String, String, &'static str);

/// The server's counters. Cheap to update from any task.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// `[via][outcome]`.
    executes: [[AtomicU64; 3]; 2],
    /// By [`Refresh`] variant.
    refreshes: [AtomicU64; 4],
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A label value in the exposition format's quoting.
fn quoted(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Count one answered request of `route` (a template; `unmatched` for none).
    pub fn request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let key = (route.to_string(), method.to_string(), status_class(status));
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry(route.to_string()).or_default();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        h.buckets[slot] += 1;
        h.sum += secs;
        h.count += 1;
    }

    /// Count one execute.
    pub fn execute(&self, via: Via, outcome: Outcome) {
        self.executes[via as usize][outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Count one provider token request.
    pub fn refresh(&self, outcome: Refresh) {
        self.refreshes[outcome as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text, with `database_up` as the database's readiness.
    pub fn render(&self, database_up: bool) -> String {
        let mut out = String::new();
        out.push_str("# HELP airbyte_server_http_requests_total HTTP requests answered, by route template, method and status class.\n");
        out.push_str("# TYPE airbyte_server_http_requests_total counter\n");
        for ((route, method, class), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "airbyte_server_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{class}\"}} {n}",
                quoted(route),
                quoted(method)
            );
        }
        out.push_str("# HELP airbyte_server_http_request_duration_seconds Time to answer an HTTP request, by route template.\n");
        out.push_str("# TYPE airbyte_server_http_request_duration_seconds histogram\n");
        for (route, h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let route = quoted(route);
            let mut cumulative = 0;
            for (i, n) in h.buckets.iter().enumerate() {
                cumulative += n;
                let le = BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
                let _ = writeln!(
                    out,
                    "airbyte_server_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "airbyte_server_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "airbyte_server_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP airbyte_server_executes_total Connector executes, by entry point (api: the execute endpoint, mcp: tools/call) and outcome.\n");
        out.push_str("# TYPE airbyte_server_executes_total counter\n");
        for (v, via) in ["api", "mcp"].iter().enumerate() {
            for (o, outcome) in ["ok", "rejected", "failed"].iter().enumerate() {
                let n = self.executes[v][o].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "airbyte_server_executes_total{{via=\"{via}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP airbyte_server_token_refreshes_total Provider OAuth2 token requests through the locking refresh endpoint, by outcome.\n");
        out.push_str("# TYPE airbyte_server_token_refreshes_total counter\n");
        for (i, outcome) in ["refreshed", "shared", "refused", "failed"]
            .iter()
            .enumerate()
        {
            let n = self.refreshes[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "airbyte_server_token_refreshes_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP airbyte_server_database_up Whether the database answered at scrape time.\n",
        );
        out.push_str("# TYPE airbyte_server_database_up gauge\n");
        let _ = writeln!(out, "airbyte_server_database_up {}", u8::from(database_up));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labels_quoted() {
        let m = Metrics::default();
        m.request("/a", "GET", 200, Duration::from_millis(3));
        m.request("/a", "GET", 404, Duration::from_secs(20));
        m.request("/\"b\"", "POST", 503, Duration::from_millis(1));
        m.execute(Via::Mcp, Outcome::Rejected);
        m.refresh(Refresh::Shared);
        let text = m.render(false);
        for line in [
            "airbyte_server_http_requests_total{route=\"/a\",method=\"GET\",status=\"2xx\"} 1",
            "airbyte_server_http_requests_total{route=\"/a\",method=\"GET\",status=\"4xx\"} 1",
            "airbyte_server_http_requests_total{route=\"/\\\"b\\\"\",method=\"POST\",status=\"5xx\"} 1",
            "airbyte_server_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.001\"} 0",
            "airbyte_server_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1",
            "airbyte_server_http_request_duration_seconds_bucket{route=\"/a\",le=\"10\"} 1",
            "airbyte_server_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2",
            "airbyte_server_http_request_duration_seconds_count{route=\"/a\"} 2",
            "airbyte_server_executes_total{via=\"mcp\",outcome=\"rejected\"} 1",
            "airbyte_server_executes_total{via=\"api\",outcome=\"ok\"} 0",
            "airbyte_server_token_refreshes_total{outcome=\"shared\"} 1",
            "airbyte_server_database_up 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }
}
