//! Per-call options of the runtime client's `execute_with`: which record
//! fields to keep or drop, whether Airbyte may shorten long texts, and the caller's intent.
//!
//! Field selection is applied to the records locally in both modes, so results are the same
//! wherever the call ran; in hosted mode the options are also sent to the execute endpoint
//! (`select_fields`, `exclude_fields`, `skip_truncation`, `intent`) so less data travels.

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::response::{ExecuteResult, ResultKind};

/// Longest `intent` the execute endpoint accepts, in characters.
pub const MAX_INTENT_CHARS: usize = 512;

/// Options of one execute call. The default keeps every field and asks for untruncated texts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecuteOptions {
    /// Record fields to keep (dotted paths for nested fields: `address.city`); empty keeps all.
    pub select_fields: Vec<String>,
    /// Record fields to drop (dotted paths), applied after `select_fields`.
    pub exclude_fields: Vec<String>,
    /// Let Airbyte shorten long texts in hosted results (off: the SDK default sends
    /// `skip_truncation: true`).
    pub truncate_long_text: bool,
    /// Why the call is made, in a sentence (hosted mode; at most [`MAX_INTENT_CHARS`]).
    pub intent: Option<String>,
}

impl ExecuteOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep only these fields of every record.
    pub fn select_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.select_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Drop these fields from every record.
    pub fn exclude_fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.exclude_fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Let Airbyte shorten long texts (hosted mode).
    pub fn truncate_long_text(mut self, yes: bool) -> Self {
        self.truncate_long_text = yes;
        self
    }

    /// State the intent of the call (hosted mode).
    pub fn intent(mut self, intent: impl Into<String>) -> Self {
        self.intent = Some(intent.into());
        self
    }

    /// Refuses options the execute endpoint would reject (an over-long intent).
    pub fn validate(&self) -> Result<()> {
        if let Some(intent) = &self.intent {
            let n = intent.chars().count();
            if n > MAX_INTENT_CHARS {
                return Err(Error::argument(
                    "intent",
                    format!("intent has {n} characters; at most {MAX_INTENT_CHARS} are accepted"),
                ));
            }
        }
        Ok(())
    }

    /// The members these options add to a hosted execute body.
    pub fn wire_fields(&self) -> Result<Map<String, Value>> {
        self.validate()?;
        let mut m = Map::new();
        m.insert("skip_truncation".into(), (!self.truncate_long_text).into());
        if !self.select_fields.is_empty() {
            m.insert("select_fields".into(), self.select_fields.clone().into());
        }
        if !self.exclude_fields.is_empty() {
            m.insert("exclude_fields".into(), self.exclude_fields.clone().into());
        }
        if let Some(intent) = &self.intent {
            m.insert("intent".into(), intent.as_str().into());
        }
        Ok(m)
    }

    /// Apply the field selection to the records of `result` (downloads are left alone).
    pub fn apply(&self, result: &mut ExecuteResult) {
        if (self.select_fields.is_empty() && self.exclude_fields.is_empty())
            || result.kind == ResultKind::Download
        {
            return;
        }
        match &mut result.data {
            Value::Array(records) => records.iter_mut().for_each(|r| self.apply_record(r)),
            record => self.apply_record(record),
        }
    }

    fn apply_record(&self, record: &mut Value) {
        let Value::Object(fields) = record else {
            return;
        };
        if !self.select_fields.is_empty() {
            let mut kept = Map::new();
            for path in &self.select_fields {
                copy_path(fields, &mut kept, &path.split('.').collect::<Vec<_>>());
            }
            *fields = kept;
        }
        for path in &self.exclude_fields {
            remove_path(fields, &path.split('.').collect::<Vec<_>>());
        }
    }
}

/// Copies `path` from `from` into `to`, creating the intermediate objects.
fn copy_path(from: &Map<String, Value>, to: &mut Map<String, Value>, path: &[&str]) {
    let Some((key, rest)) = path.split_first() else {
        return;
    };
    let Some(value) = from.get(*key) else {
        return;
    };
    if rest.is_empty() {
        to.insert((*key).to_string(), value.clone());
        return;
    }
    // A nested path through a non-object keeps nothing.
    if let Value::Object(inner) = value {
        let slot = to
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(slot) = slot {
            copy_path(inner, slot, rest);
        }
    }
}

fn remove_path(map: &mut Map<String, Value>, path: &[&str]) {
    match path {
        [] => {}
        [key] => {
            map.remove(*key);
        }
        [key, rest @ ..] => {
            if let Some(Value::Object(inner)) = map.get_mut(*key) {
                remove_path(inner, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn result(data: Value) -> ExecuteResult {
        ExecuteResult {
            data,
            meta: None,
            kind: ResultKind::Envelope,
        }
    }

    #[test]
    fn selection_keeps_nested_paths_and_exclusion_drops_them() {
        let records = json!([
            {"id": "c1", "email": "a@x", "address": {"city": "SF", "zip": "94103"}, "n": 1},
            {"id": "c2", "address": "not an object"},
            "not a record"
        ]);
        let mut r = result(records.clone());
        ExecuteOptions::new()
            .select_fields(["id", "address.city", "missing"])
            .apply(&mut r);
        assert_eq!(
            r.data,
            json!([{"id": "c1", "address": {"city": "SF"}}, {"id": "c2"}, "not a record"])
        );

        let mut r = result(records);
        ExecuteOptions::new()
            .exclude_fields(["email", "address.zip", "nope.deeper"])
            .apply(&mut r);
        assert_eq!(
            r.data[0],
            json!({"id": "c1", "address": {"city": "SF"}, "n": 1})
        );
        assert_eq!(r.data[1], json!({"id": "c2", "address": "not an object"}));
    }

    #[test]
    fn single_records_and_downloads() {
        let mut r = ExecuteResult {
            data: json!({"id": "c1", "secret_note": "x"}),
            meta: None,
            kind: ResultKind::Raw,
        };
        ExecuteOptions::new()
            .exclude_fields(["secret_note"])
            .apply(&mut r);
        assert_eq!(r.data, json!({"id": "c1"}));
        let mut d = ExecuteResult {
            data: json!({"content_base64": "AA==", "size": 1}),
            meta: None,
            kind: ResultKind::Download,
        };
        ExecuteOptions::new().select_fields(["id"]).apply(&mut d);
        assert_eq!(d.data["size"], 1);
    }

    #[test]
    fn wire_fields_and_intent_limit() {
        let m = ExecuteOptions::new().wire_fields().unwrap();
        assert_eq!(Value::Object(m), json!({"skip_truncation": true}));
        let m = ExecuteOptions::new()
            .select_fields(["id"])
            .exclude_fields(["email"])
            .truncate_long_text(true)
            .intent("find churned customers")
            .wire_fields()
            .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"skip_truncation": false, "select_fields": ["id"],
                   "exclude_fields": ["email"], "intent": "find churned customers"})
        );
        let long = "é".repeat(MAX_INTENT_CHARS + 1);
        let e = ExecuteOptions::new()
            .intent(long)
            .wire_fields()
            .unwrap_err();
        assert!(e.to_string().contains("513 characters"), "{e}");
        assert!(
            ExecuteOptions::new()
                .intent("é".repeat(MAX_INTENT_CHARS))
                .wire_fields()
                .is_ok()
        );
    }
}
