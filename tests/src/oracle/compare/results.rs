//! The outcome of `execute`: success, kind, data and meta, or the error's category (against the
//! Python exception class) and message.

use super::json::json_diff;
use super::{Aspect, Mismatch, ObservedResult, clip, clip_json};
use crate::oracle::model::ExpectedResult;

/// Runtime error categories accepted for a Python exception class.
pub fn accepted_categories(python_type: &str) -> &'static [&'static str] {
    match python_type {
        "HTTPStatusError" => &["NotFound", "Service"],
        "AuthenticationError" => &["Auth"],
        "RateLimitError" => &["RateLimited"],
        "ConnectorValidationError" => &["Validation", "InvalidParam"],
        "HTTPClientError" => &["Api", "Response", "Network"],
        "NetworkError" => &["Network"],
        "TimeoutError" => &["Timeout"],
        "NotImplementedError" => &["Unsupported"],
        "MissingParameterError" => &["MissingParam"],
        "InvalidParameterError" => &["InvalidParam"],
        "EntityNotFoundError" => &["UnknownEntity"],
        "ActionNotSupportedError" => &["UnknownAction"],
        _ => &[],
    }
}

/// Compare the outcome of `execute` with the recorded one.
pub fn compare_result(
    expected: &ExpectedResult,
    observed: &ObservedResult,
    out: &mut Vec<Mismatch>,
) {
    if expected.success != observed.success {
        let what = |ok: bool| if ok { "success" } else { "error" };
        let got = match &observed.error {
            Some(e) => format!("{}: {}", e.category, clip(&e.display)),
            None => format!(
                "{} data {}",
                observed.kind.unwrap_or("?"),
                clip_json(&observed.data)
            ),
        };
        let want = match &expected.error {
            Some(e) => format!("{}: {}", e.kind, clip(&e.message)),
            None => format!(
                "{} data {}",
                expected.kind.as_deref().unwrap_or("?"),
                clip_json(&expected.data)
            ),
        };
        out.push(Mismatch::new(
            Aspect::Success,
            format!(
                "expected {} ({want})\n     got {} ({got})",
                what(expected.success),
                what(observed.success)
            ),
        ));
        return;
    }
    if expected.success {
        let want_kind = expected.kind.as_deref();
        if want_kind != observed.kind {
            out.push(Mismatch::new(
                Aspect::Kind,
                format!("kind expected {want_kind:?} got {:?}", observed.kind),
            ));
        }
        let mut diffs = Vec::new();
        json_diff("data", &expected.data, &observed.data, &mut diffs);
        if !diffs.is_empty() {
            out.push(Mismatch::new(Aspect::Data, diffs.join("\n     ")));
        }
        let mut diffs = Vec::new();
        json_diff("meta", &expected.meta, &observed.meta, &mut diffs);
        if !diffs.is_empty() {
            out.push(Mismatch::new(Aspect::Meta, diffs.join("\n     ")));
        }
        return;
    }
    let (Some(want), Some(got)) = (&expected.error, &observed.error) else {
        return;
    };
    let accepted = accepted_categories(&want.kind);
    if !accepted.contains(&got.category) {
        out.push(Mismatch::new(
            Aspect::ErrorCategory,
            format!(
                "error category: Python {} (accepts {}) got {}: {}",
                want.kind,
                if accepted.is_empty() {
                    "nothing known".to_string()
                } else {
                    accepted.join("|")
                },
                got.category,
                clip(&got.display)
            ),
        ));
    }
    if got.message != want.message && !got.display.contains(&want.message) {
        out.push(Mismatch::new(
            Aspect::ErrorMessage,
            format!(
                "error message\n     expected {:?}\n          got {:?}",
                clip(&want.message),
                clip(&got.display)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::ObservedError;
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn results_compare_category_and_message() {
        let exp: ExpectedResult = serde_json::from_value(json!({
            "success": false, "kind": null, "data": null, "meta": null,
            "error": {"type": "HTTPStatusError", "message": "mock: resource not found"}
        }))
        .unwrap();
        let ok = ObservedResult {
            success: false,
            kind: None,
            data: Value::Null,
            meta: Value::Null,
            error: Some(ObservedError {
                category: "NotFound",
                message: "mock: resource not found".into(),
                display: "not found (HTTP 404): mock: resource not found".into(),
            }),
        };
        let mut out = Vec::new();
        compare_result(&exp, &ok, &mut out);
        assert!(out.is_empty(), "{out:#?}");
        let mut bad = ok.clone();
        if let Some(e) = bad.error.as_mut() {
            e.category = "Auth";
            e.message = "other".into();
            e.display = "other".into();
        }
        compare_result(&exp, &bad, &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert_eq!(aspects, vec![Aspect::ErrorCategory, Aspect::ErrorMessage]);
    }

    #[test]
    fn results_compare_data_and_meta() {
        let exp: ExpectedResult = serde_json::from_value(json!({
            "success": true, "kind": "envelope", "data": [{"id": 1}], "meta": {"next": "x"}
        }))
        .unwrap();
        let got = ObservedResult {
            success: true,
            kind: Some("raw"),
            data: json!([{"id": 2}]),
            meta: Value::Null,
            error: None,
        };
        let mut out = Vec::new();
        compare_result(&exp, &got, &mut out);
        let aspects: Vec<Aspect> = out.iter().map(|m| m.aspect).collect();
        assert_eq!(aspects, vec![Aspect::Kind, Aspect::Data, Aspect::Meta]);
    }
}
