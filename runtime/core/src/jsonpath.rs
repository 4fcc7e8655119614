//! The JSONPath subset the specs use: `$`, `.name`, `['name']`, `[n]`, `[*]`, `.*`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(i64),
    Wild,
}

/// A parsed JSONPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    segs: Vec<Seg>,
}

impl JsonPath {
    /// Parse an expression; `None` when it is outside the supported subset.
    pub fn parse(expr: &str) -> Option<JsonPath> {
        let expr = expr.trim();
        let rest = expr.strip_prefix('$')?;
        let b = rest.as_bytes();
        let mut i = 0;
        let mut segs = Vec::new();
        while i < b.len() {
            match b[i] {
                b'.' => {
                    i += 1;
                    if i < b.len() && b[i] == b'*' {
                        segs.push(Seg::Wild);
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                        i += 1;
                    }
                    if start == i {
                        return None;
                    }
                    segs.push(Seg::Key(rest[start..i].to_string()));
                }
                b'[' => {
                    let close = rest[i..].find(']')? + i;
                    let inner = rest[i + 1..close].trim();
                    if inner == "*" {
                        segs.push(Seg::Wild);
                    } else if let Ok(n) = inner.parse::<i64>() {
                        segs.push(Seg::Index(n));
                    } else if inner.len() >= 2
                        && ((inner.starts_with('\'') && inner.ends_with('\''))
                            || (inner.starts_with('"') && inner.ends_with('"')))
                    {
                        segs.push(Seg::Key(inner[1..inner.len() - 1].to_string()));
                    } else {
                        return None;
                    }
                    i = close + 1;
                }
                _ => return None,
            }
        }
        Some(JsonPath { segs })
    }

    /// Whether the path is the root `$`.
    pub fn is_root(&self) -> bool {
        self.segs.is_empty()
    }

    /// Whether the path contains a wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.segs.contains(&Seg::Wild)
    }

    /// The key names when every segment is a plain key (`$.a.b`, `$['a']`), else `None`.
    pub fn keys(&self) -> Option<Vec<String>> {
        self.segs
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Some(k.clone()),
                _ => None,
            })
            .collect()
    }

    /// All matches, in document order.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        let mut cur = vec![root];
        for seg in &self.segs {
            let mut next = Vec::new();
            for v in cur {
                match seg {
                    Seg::Key(k) => {
                        if let Some(x) = v.as_object().and_then(|m| m.get(k)) {
                            next.push(x);
                        }
                    }
                    Seg::Index(n) => {
                        if let Some(a) = v.as_array() {
                            let idx = if *n < 0 { a.len() as i64 + n } else { *n };
                            if idx >= 0
                                && let Some(x) = a.get(idx as usize)
                            {
                                next.push(x);
                            }
                        }
                    }
                    Seg::Wild => match v {
                        Value::Array(a) => next.extend(a.iter()),
                        Value::Object(m) => next.extend(m.values()),
                        _ => {}
                    },
                }
            }
            cur = next;
        }
        cur
    }
}

/// Read a dotted field path with `[n]` indexes (`attachments[0].url`, `a.b`).
pub fn dotted_get<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let expr = if path.starts_with('$') {
        path.to_string()
    } else if path.starts_with('[') {
        format!("${path}")
    } else {
        format!("$.{path}")
    };
    let p = JsonPath::parse(&expr)?;
    p.find(root).into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subset() {
        let v = json!({"a": {"b": [{"c": 1}, {"c": 2}]}, "x": [[1, 2], [3]]});
        let p = JsonPath::parse("$.a.b[*].c").unwrap();
        assert_eq!(p.find(&v), vec![&json!(1), &json!(2)]);
        assert_eq!(
            JsonPath::parse("$.a.b[1].c").unwrap().find(&v),
            vec![&json!(2)]
        );
        assert_eq!(
            JsonPath::parse("$[*][*]")
                .unwrap()
                .find(&json!([[1, 2], [3]]))
                .len(),
            3
        );
        assert_eq!(JsonPath::parse("$").unwrap().find(&v), vec![&v]);
        assert_eq!(JsonPath::parse("$['a']").unwrap().find(&v).len(), 1);
        assert!(JsonPath::parse("a.b").is_none());
        assert_eq!(dotted_get(&v, "a.b[0].c"), Some(&json!(1)));
    }
}
