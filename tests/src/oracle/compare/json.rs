//! Structural JSON difference, shared by the body and the result comparisons.

use serde_json::Value;

use super::clip_json;

const MAX_LINES: usize = 6;

/// Structural JSON difference; numbers compare by value (`1 == 1.0`). Appends at most a few lines.
pub fn json_diff(path: &str, want: &Value, got: &Value, out: &mut Vec<String>) {
    if out.len() >= MAX_LINES {
        return;
    }
    match (want, got) {
        (Value::Number(a), Value::Number(b)) => {
            let same = a == b || matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if x == y);
            if !same {
                out.push(format!("{path}: expected {a} got {b}"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => json_diff(&p, va, vb, out),
                    None => out.push(format!("{p}: missing (expected {})", clip_json(va))),
                }
                if out.len() >= MAX_LINES {
                    return;
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.push(format!("{path}.{k}: unexpected {}", clip_json(vb)));
                    if out.len() >= MAX_LINES {
                        return;
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                out.push(format!(
                    "{path}: expected {} item(s) got {}",
                    a.len(),
                    b.len()
                ));
            }
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                json_diff(&format!("{path}[{i}]"), va, vb, out);
                if out.len() >= MAX_LINES {
                    return;
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(format!(
            "{path}: expected {} got {}",
            clip_json(a),
            clip_json(b)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_compare_by_value_and_keys_by_set() {
        let mut d = Vec::new();
        json_diff(
            "$",
            &json!({"a": 1, "b": [1, 2]}),
            &json!({"b": [1.0, 2], "a": 1.0}),
            &mut d,
        );
        assert!(d.is_empty(), "{d:?}");
        json_diff("$", &json!({"a": 1}), &json!({"a": 2, "c": null}), &mut d);
        assert_eq!(d.len(), 2, "{d:?}");
    }
}
