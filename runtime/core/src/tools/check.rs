//! Checking tool arguments against the constraints their schemas declare, before anything is
//! sent: `null` where the schema does not allow it, numeric ranges, string and array lengths,
//! and the formats `date-time`, `date`, `email`, `uri` and `int32`. Types, enums and unknown or
//! missing parameters are the runtime's own parameter validation; `pattern` is not checked.

use serde_json::{Map, Value};

/// Check `args` against the `properties` of an object `schema`; the message says which argument
/// breaks which constraint, written for a model. Arguments the schema does not declare are left
/// to the runtime's validation.
pub fn check_arguments(
    schema: &Value,
    args: &Map<String, Value>,
    allow_null: bool,
) -> Result<(), String> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (name, value) in args {
        if let Some(s) = props.get(name) {
            check_value(s, value, &format!("`{name}`"), allow_null)?;
        }
    }
    Ok(())
}

fn type_names(s: &Value) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the schema accepts `null`.
fn allows_null(s: &Value) -> bool {
    let types = type_names(s);
    if types.contains(&"null") {
        return true;
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = s.get(key) {
            return alts.iter().any(allows_null);
        }
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        return e.contains(&Value::Null);
    }
    // A schema that names no type constrains nothing.
    types.is_empty() && s.get("const").is_none()
}

fn number(s: &Value, key: &str) -> Option<f64> {
    s.get(key).and_then(Value::as_f64)
}

fn count(s: &Value, key: &str) -> Option<usize> {
    s.get(key)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
}

fn show(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn check_value(s: &Value, v: &Value, what: &str, allow_null: bool) -> Result<(), String> {
    match v {
        Value::Null => {
            if allow_null || allows_null(s) {
                Ok(())
            } else {
                Err(format!(
                    "{what} must not be null; leave it out to use no value."
                ))
            }
        }
        Value::Number(n) => {
            let Some(x) = n.as_f64() else { return Ok(()) };
            if let Some(min) = number(s, "minimum")
                && x < min
            {
                return Err(format!("{what} must be at least {} (got {n}).", show(min)));
            }
            if let Some(max) = number(s, "maximum")
                && x > max
            {
                return Err(format!("{what} must be at most {} (got {n}).", show(max)));
            }
            if let Some(min) = number(s, "exclusiveMinimum")
                && x <= min
            {
                return Err(format!(
                    "{what} must be greater than {} (got {n}).",
                    show(min)
                ));
            }
            if let Some(max) = number(s, "exclusiveMaximum")
                && x >= max
            {
                return Err(format!("{what} must be less than {} (got {n}).", show(max)));
            }
            if s.get("format").and_then(Value::as_str) == Some("int32")
                && !(f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&x)
            {
                return Err(format!("{what} must fit a 32-bit integer (got {n})."));
            }
            Ok(())
        }
        Value::String(text) => {
            let chars = text.chars().count();
            if let Some(min) = count(s, "minLength")
                && chars < min
            {
                return Err(format!(
                    "{what} must have at least {min} characters (got {chars})."
                ));
            }
            if let Some(max) = count(s, "maxLength")
                && chars > max
            {
                return Err(format!(
                    "{what} must have at most {max} characters (got {chars})."
                ));
            }
            match s.get("format").and_then(Value::as_str) {
                Some("date-time") if !is_date_time(text) => Err(format!(
                    "{what} must be an RFC 3339 date-time such as 2024-01-31T12:00:00Z (got {text:?})."
                )),
                Some("date") if !is_date(text) => Err(format!(
                    "{what} must be a date such as 2024-01-31 (got {text:?})."
                )),
                Some("email") if !is_email(text) => {
                    Err(format!("{what} must be an email address (got {text:?})."))
                }
                Some("uri" | "url") if !is_uri(text) => Err(format!(
                    "{what} must be an absolute URI such as https://example.com/x (got {text:?})."
                )),
                _ => Ok(()),
            }
        }
        Value::Array(items) => {
            if let Some(min) = count(s, "minItems")
                && items.len() < min
            {
                return Err(format!(
                    "{what} must have at least {min} items (got {}).",
                    items.len()
                ));
            }
            if let Some(max) = count(s, "maxItems")
                && items.len() > max
            {
                return Err(format!(
                    "{what} must have at most {max} items (got {}).",
                    items.len()
                ));
            }
            if let Some(item) = s.get("items").filter(|i| i.is_object()) {
                for (i, v) in items.iter().enumerate() {
                    check_value(item, v, &format!("{what}[{i}]"), allow_null)?;
                }
            }
            Ok(())
        }
        Value::Object(m) => {
            if let Some(props) = s.get("properties").and_then(Value::as_object) {
                for (k, v) in m {
                    if let Some(ps) = props.get(k) {
                        check_value(ps, v, &format!("{what}.{k}"), allow_null)?;
                    }
                }
            }
            Ok(())
        }
        Value::Bool(_) => Ok(()),
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 3
        && digits(parts[0], 4)
        && digits(parts[1], 2)
        && digits(parts[2], 2)
        && (1..=12).contains(&parts[1].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u8>().unwrap_or(0))
}

/// RFC 3339: `date` `T` `HH:MM:SS[.frac]` then `Z` or `±HH:MM` (`t`/`z`/space accepted).
fn is_date_time(s: &str) -> bool {
    if s.len() < 20 || !s.is_char_boundary(10) || !s.is_char_boundary(11) {
        return false;
    }
    let (date, rest) = (&s[..10], &s[11..]);
    if !is_date(date) || !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
        return false;
    }
    let (time, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => return false,
    };
    let hms = time.split('.').next().unwrap_or("");
    let t: Vec<&str> = hms.split(':').collect();
    let time_ok = t.len() == 3 && t.iter().all(|p| digits(p, 2));
    let frac_ok = time
        .split_once('.')
        .is_none_or(|(_, f)| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    let zone_ok = matches!(zone, "Z" | "z")
        || (zone.len() == 6
            && digits(&zone[1..3], 2)
            && zone.as_bytes()[3] == b':'
            && digits(&zone[4..], 2));
    time_ok && frac_ok && zone_ok
}

fn is_email(s: &str) -> bool {
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn is_uri(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, args: Value) -> Result<(), String> {
        let Value::Object(args) = args else {
            unreachable!()
        };
        check_arguments(&json!({ "properties": schema }), &args, false)
    }

    #[test]
    fn ranges_lengths_and_nulls() {
        let limit = json!({"limit": {"type": "integer", "minimum": 1, "maximum": 100}});
        assert!(check(limit.clone(), json!({"limit": 50})).is_ok());
        for bad in [0, 500, 1000] {
            let e = check(limit.clone(), json!({ "limit": bad })).unwrap_err();
            assert!(e.starts_with("`limit` must be at"), "{e}");
        }
        assert_eq!(
            check(limit.clone(), json!({"limit": null})).unwrap_err(),
            "`limit` must not be null; leave it out to use no value."
        );
        let nullable = json!({"x": {"type": ["string", "null"]}, "y": {"anyOf": [{"type": "integer"}, {"type": "null"}]}});
        assert!(check(nullable, json!({"x": null, "y": null})).is_ok());
        let name = json!({"name": {"type": "string", "minLength": 2, "maxLength": 3}});
        assert!(check(name.clone(), json!({"name": "abc"})).is_ok());
        assert!(check(name.clone(), json!({"name": "a"})).is_err());
        assert!(check(name, json!({"name": "abcd"})).is_err());
        let ids = json!({"ids": {"type": "array", "maxItems": 2, "items": {"type": "integer", "minimum": 0}}});
        assert!(check(ids.clone(), json!({"ids": [1, 2, 3]})).is_err());
        assert_eq!(
            check(ids, json!({"ids": [1, -1]})).unwrap_err(),
            "`ids`[1] must be at least 0 (got -1)."
        );
        let nested = json!({"created": {"type": "object", "properties": {"gt": {"type": "integer", "exclusiveMinimum": 0}}}});
        assert!(check(nested, json!({"created": {"gt": 0}})).is_err());
        // Undeclared arguments are the runtime's business.
        assert!(check(json!({}), json!({"other": null})).is_ok());
        let Value::Object(args) = json!({"limit": null}) else {
            unreachable!()
        };
        let schema = json!({ "properties": {"limit": {"type": "integer"}} });
        assert!(
            check_arguments(&schema, &args, true).is_ok(),
            "GraphQL unassigns with null"
        );
    }

    #[test]
    fn formats() {
        let s = json!({
            "at": {"type": "string", "format": "date-time"},
            "on": {"type": "string", "format": "date"},
            "mail": {"type": "string", "format": "email"},
            "link": {"type": "string", "format": "uri"},
            "n": {"type": "integer", "format": "int32"}
        });
        let ok = json!({"at": "2024-01-31T12:00:00.5+01:00", "on": "2024-02-29", "mail": "a@b.c", "link": "https://x.y/z", "n": 7});
        assert!(check(s.clone(), ok).is_ok());
        assert!(check(s.clone(), json!({"at": "2024-01-31T12:00:00Z"})).is_ok());
        for bad in [
            json!({"at": "yesterday"}),
            json!({"at": "2024-01-31 12:00"}),
            json!({"on": "2024-13-01"}),
            json!({"mail": "nobody"}),
            json!({"link": "/relative"}),
            json!({"n": 3_000_000_000u64}),
        ] {
            assert!(check(s.clone(), bad.clone()).is_err(), "{bad}");
        }
    }
}
