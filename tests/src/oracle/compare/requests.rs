//! The request sequence: pairing, method, path, query and headers (masked as the recorder masked
//! them); bodies are compared in [`super::body`].

use super::body::compare_body;
use super::form::{decode_pairs, pairs_diff};
use super::{Aspect, Mismatch};
use crate::oracle::mask::{IGNORED_HEADERS, mask_header};
use crate::oracle::model::RecordedRequest;
use crate::oracle::server::ObservedRequest;

/// Compare the whole request sequence.
pub fn compare_requests(
    expected: &[RecordedRequest],
    observed: &[ObservedRequest],
    out: &mut Vec<Mismatch>,
) {
    if expected.len() == observed.len() {
        for (i, (e, o)) in expected.iter().zip(observed).enumerate() {
            compare_request(i, e, o, out);
        }
        return;
    }
    let seq = |items: Vec<String>| {
        if items.is_empty() {
            "(none)".to_string()
        } else {
            items.join(", ")
        }
    };
    out.push(Mismatch::new(
        Aspect::RequestCount,
        format!(
            "expected {} request(s): {}\n     got {} request(s): {}",
            expected.len(),
            seq(expected
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect()),
            observed.len(),
            seq(observed
                .iter()
                .map(|r| format!("{} {}", r.method, r.path))
                .collect()),
        ),
    ));
    // Pair requests with the same method and path, in order, and compare those too.
    let mut used = vec![false; observed.len()];
    for (i, e) in expected.iter().enumerate() {
        let found = observed
            .iter()
            .enumerate()
            .find(|(j, o)| !used[*j] && o.method == e.method && o.path == e.path);
        if let Some((j, o)) = found {
            used[j] = true;
            compare_request(i, e, o, out);
        }
    }
}

/// Header value with the multipart boundary replaced by `{boundary}`; returns the boundary.
fn multipart_boundary(content_type: &str) -> Option<String> {
    if !content_type.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    content_type.split(';').find_map(|p| {
        let p = p.trim();
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Our headers as the recorder would have stored them: lower-case names, masked values,
/// ignored names dropped, boundary normalised. Repeated names are joined with `, `.
pub fn normalize_headers(observed: &ObservedRequest) -> (Vec<(String, String)>, Option<String>) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut boundary = None;
    for (name, value) in &observed.headers {
        let name = name.to_ascii_lowercase();
        if IGNORED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let mut value = mask_header(&name, value);
        if name == "content-type"
            && let Some(b) = multipart_boundary(&value)
        {
            value = value.replace(&b, "{boundary}");
            boundary = Some(b);
        }
        if let Some(existing) = out.iter_mut().find(|(n, _)| *n == name) {
            existing.1.push_str(", ");
            existing.1.push_str(&value);
        } else {
            out.push((name, value));
        }
    }
    (out, boundary)
}

fn compare_request(
    index: usize,
    expected: &RecordedRequest,
    observed: &ObservedRequest,
    out: &mut Vec<Mismatch>,
) {
    let at = format!("request[{index}] {} {}", expected.method, expected.path);
    if !expected.method.eq_ignore_ascii_case(&observed.method) {
        out.push(Mismatch::new(
            Aspect::Method,
            format!(
                "{at}: method expected {} got {}",
                expected.method, observed.method
            ),
        ));
    }
    if expected.path != observed.path {
        out.push(Mismatch::new(
            Aspect::Path,
            format!(
                "{at}: path\n     expected {}\n          got {}",
                expected.path, observed.path
            ),
        ));
    }
    if expected.raw_query != observed.raw_query {
        let e = decode_pairs(&expected.raw_query);
        let o = decode_pairs(&observed.raw_query);
        let note = if e == o {
            " (same decoded pairs: encoding differs)"
        } else {
            ""
        };
        out.push(Mismatch::new(
            Aspect::Query,
            format!(
                "{at}: query{note}\n     expected {:?}\n          got {:?}{}",
                expected.raw_query,
                observed.raw_query,
                pairs_diff(&e, &o)
            ),
        ));
    }
    let (headers, boundary) = normalize_headers(observed);
    compare_headers(&at, expected, &headers, out);
    compare_body(&at, expected, observed, boundary.as_deref(), out);
}

fn compare_headers(
    at: &str,
    expected: &RecordedRequest,
    observed: &[(String, String)],
    out: &mut Vec<Mismatch>,
) {
    let get = |name: &str| {
        observed
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let mut lines = Vec::new();
    for (name, want) in &expected.headers {
        let name = name.to_ascii_lowercase();
        if IGNORED_HEADERS.contains(&name.as_str()) || name == "connection" {
            continue;
        }
        match get(&name) {
            Some(got) if got == want => {}
            // The HTTP client's default Accept may be absent.
            None if name == "accept" && want == "*/*" => {}
            Some(got) => lines.push(format!("{name}: expected {want:?} got {got:?}")),
            None => lines.push(format!("{name}: expected {want:?}, missing")),
        }
    }
    for (name, got) in observed {
        if name == "connection"
            || expected
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case(name))
        {
            continue;
        }
        lines.push(format!("{name}: unexpected header {got:?}"));
    }
    for line in lines {
        out.push(Mismatch::new(
            Aspect::Header,
            format!("{at}: header {line}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;

    fn observed(headers: &[(&str, &str)], body: &str) -> ObservedRequest {
        ObservedRequest {
            method: "POST".into(),
            path: "/v1/x".into(),
            raw_query: "a=1".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Bytes::from(body.to_string()),
        }
    }

    fn expected(headers: &[(&str, &str)]) -> RecordedRequest {
        RecordedRequest {
            method: "POST".into(),
            path: "/v1/x".into(),
            raw_query: "a=1".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn identical_request_matches_and_secrets_are_masked() {
        let mut e = expected(&[
            ("accept", "*/*"),
            ("connection", "keep-alive"),
            ("authorization", "Bearer ***(len=19,sha256:4a085afb4320)"),
            ("content-type", "application/json"),
        ]);
        e.body_text = Some(r#"{"x": 1, "y": "z"}"#.into());
        e.body_json = Some(json!({"x": 1, "y": "z"}));
        let o = observed(
            &[
                ("Authorization", "Bearer fake-stripe-api-key"),
                ("content-type", "application/json"),
                ("user-agent", "whatever"),
                ("content-length", "17"),
            ],
            r#"{"y":"z","x":1}"#,
        );
        let mut out = Vec::new();
        compare_requests(&[e], &[o], &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn differences_are_reported_per_aspect() {
        let mut e = expected(&[("authorization", "Bearer ***(len=3,sha256:000000000000)")]);
        e.body_text = Some("a=1&b=x+y".into());
        e.body_form = Some(vec![("a".into(), "1".into()), ("b".into(), "x y".into())]);
        let mut o = observed(
            &[("authorization", "Bearer abc"), ("x-extra", "1")],
            "b=x%20y&a=1",
        );
        o.raw_query = "a=&b=2".into();
        o.path = "/v1/y".into();
        let mut out = Vec::new();
        compare_requests(&[e], &[o], &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert!(aspects.contains(&Aspect::Path), "{out:#?}");
        assert!(aspects.contains(&Aspect::Query), "{out:#?}");
        assert!(aspects.contains(&Aspect::Body), "{out:#?}");
        assert_eq!(
            aspects.iter().filter(|a| **a == Aspect::Header).count(),
            2,
            "wrong token and unexpected header: {out:#?}"
        );
    }

    #[test]
    fn request_count_mismatch_still_compares_matching_requests() {
        let e1 = expected(&[]);
        let mut e0 = expected(&[]);
        e0.path = "/token".into();
        let o = observed(&[], "");
        let mut out = Vec::new();
        compare_requests(&[e0, e1], &[o], &mut out);
        assert_eq!(out[0].aspect, Aspect::RequestCount);
        assert_eq!(out.len(), 1, "the /v1/x pair matches: {out:#?}");
    }

    #[test]
    fn multipart_boundary_and_json_spacing_are_normalised() {
        let mut e = expected(&[("content-type", "multipart/related; boundary={boundary}")]);
        e.body_text = Some(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\": \"n\"}\r\n--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--{boundary}--\r\n".into(),
        );
        let o = observed(
            &[("content-type", "multipart/related; boundary=XyZ123")],
            "--XyZ123\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"n\"}\r\n--XyZ123\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--XyZ123--\r\n",
        );
        let mut out = Vec::new();
        compare_requests(&[e.clone()], &[o], &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let o = observed(
            &[("content-type", "multipart/related; boundary=B")],
            "--B\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"m\"}\r\n--B\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--B--\r\n",
        );
        compare_requests(&[e], &[o], &mut out);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].aspect, Aspect::Body);
    }

    #[test]
    fn default_accept_may_be_absent_but_declared_accept_may_not() {
        let e = expected(&[("accept", "*/*")]);
        let mut out = Vec::new();
        compare_requests(&[e], &[observed(&[], "")], &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let e = expected(&[("accept", "application/vnd.github+json")]);
        compare_requests(&[e], &[observed(&[], "")], &mut out);
        assert_eq!(out.len(), 1);
    }
}
