//! Request bodies: empty, binary, form, JSON (by value), multipart (boundary normalised, part by
//! part) and plain text.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::form::{decode_pairs, pairs_diff};
use super::json::json_diff;
use super::{Aspect, Mismatch, clip};
use crate::oracle::model::RecordedRequest;
use crate::oracle::server::ObservedRequest;

pub(super) fn compare_body(
    at: &str,
    expected: &RecordedRequest,
    observed: &ObservedRequest,
    boundary: Option<&str>,
    out: &mut Vec<Mismatch>,
) {
    let body = &observed.body;
    let text = std::str::from_utf8(body).ok();
    let mut fail =
        |detail: String| out.push(Mismatch::new(Aspect::Body, format!("{at}: {detail}")));

    if expected.body_text.is_none() && expected.body_base64.is_none() {
        if !body.is_empty() {
            fail(format!(
                "body expected empty, got {}",
                clip(&String::from_utf8_lossy(body))
            ));
        }
        return;
    }
    if let Some(b64) = &expected.body_base64 {
        match B64.decode(b64) {
            Ok(want) if want == body.as_ref() => {}
            Ok(_) => fail(format!(
                "binary body differs: expected {} byte(s), got {}",
                b64.len() * 3 / 4,
                body.len()
            )),
            Err(e) => fail(format!("oracle body_base64 undecodable: {e}")),
        }
        return;
    }
    let Some(text) = text else {
        fail(format!(
            "body expected text, got {} non-UTF-8 byte(s)",
            body.len()
        ));
        return;
    };
    if let Some(form) = &expected.body_form {
        let got = decode_pairs(text);
        if &got != form {
            let e: Vec<(String, String)> = form.clone();
            fail(format!(
                "form body differs\n     expected {}\n          got {}{}",
                clip(expected.body_text.as_deref().unwrap_or("")),
                clip(text),
                pairs_diff(&e, &got)
            ));
        }
        return;
    }
    let want_text = expected.body_text.as_deref().unwrap_or("");
    let want_json = expected
        .body_json
        .clone()
        .or_else(|| serde_json::from_str::<Value>(want_text).ok());
    if let Some(want) = want_json {
        match serde_json::from_str::<Value>(text) {
            Ok(got) => {
                let mut diffs = Vec::new();
                json_diff("$", &want, &got, &mut diffs);
                if !diffs.is_empty() {
                    fail(format!("JSON body differs\n     {}", diffs.join("\n     ")));
                }
            }
            Err(_) => fail(format!(
                "body expected JSON {}\n          got non-JSON {}",
                clip(want_text),
                clip(text)
            )),
        }
        return;
    }
    if want_text.contains("{boundary}") {
        let got = match boundary {
            Some(b) => text.replace(b, "{boundary}"),
            None => text.to_string(),
        };
        let diffs = multipart_diff(want_text, &got);
        if !diffs.is_empty() {
            fail(format!(
                "multipart body differs\n     {}",
                diffs.join("\n     ")
            ));
        }
        return;
    }
    if want_text != text {
        fail(format!(
            "text body differs\n     expected {:?}\n          got {:?}",
            clip(want_text),
            clip(text)
        ));
    }
}

/// Compare multipart bodies part by part; JSON parts are compared as values.
fn multipart_diff(want: &str, got: &str) -> Vec<String> {
    let split = |s: &str| -> Vec<(String, String)> {
        s.split("--{boundary}")
            .map(|p| p.trim_start_matches("\r\n"))
            .filter(|p| !p.is_empty() && !p.starts_with("--"))
            .map(|p| {
                let p = p.strip_suffix("\r\n").unwrap_or(p);
                let (h, b) = p.split_once("\r\n\r\n").unwrap_or((p, ""));
                (h.to_ascii_lowercase(), b.to_string())
            })
            .collect()
    };
    let (w, g) = (split(want), split(got));
    let mut diffs = Vec::new();
    if w.len() != g.len() {
        diffs.push(format!("expected {} part(s), got {}", w.len(), g.len()));
    }
    for (i, ((wh, wb), (gh, gb))) in w.iter().zip(&g).enumerate() {
        let mut wl: Vec<&str> = wh.lines().map(str::trim).collect();
        let mut gl: Vec<&str> = gh.lines().map(str::trim).collect();
        wl.sort_unstable();
        gl.sort_unstable();
        if wl != gl {
            diffs.push(format!("part {i} headers: expected {wh:?} got {gh:?}"));
        }
        match (
            serde_json::from_str::<Value>(wb),
            serde_json::from_str::<Value>(gb),
        ) {
            (Ok(wj), Ok(gj)) => json_diff(&format!("part {i} $"), &wj, &gj, &mut diffs),
            _ if wb == gb => {}
            _ => diffs.push(format!(
                "part {i} body: expected {:?} got {:?}",
                clip(wb),
                clip(gb)
            )),
        }
    }
    diffs
}
