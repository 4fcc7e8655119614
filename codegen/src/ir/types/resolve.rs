//! Schema navigation for the type builder: `$ref`s, null unions, effective schemas, type lists and
//! JSONPath-like record paths.

use serde_json::Value;

use super::{REF_PREFIX, TypeBuilder};
use crate::spec::{Node, SpecError};

impl<'a> TypeBuilder<'a> {
    /// Follow `$ref`s to the referenced schema node.
    pub(crate) fn deref(&self, node: &Node<'a>) -> Result<Node<'a>, SpecError> {
        let mut cur = node.clone();
        for _ in 0..32 {
            match cur.get("$ref") {
                Some(r) => {
                    let target = r.as_str()?;
                    let name = target.strip_prefix(REF_PREFIX).ok_or_else(|| {
                        r.err(format!(
                            "unsupported $ref `{target}` (only `{REF_PREFIX}<Name>`)"
                        ))
                    })?;
                    cur = self.schemas.get(name).cloned().ok_or_else(|| {
                        r.err(format!(
                            "$ref `{target}` points at no schema in components.schemas"
                        ))
                    })?;
                }
                None => return Ok(cur),
            }
        }
        Err(node.err("$ref chain too long (cycle of references?)"))
    }

    /// Strip nullability: `oneOf: [X, {type: null}]` → X. Returns the non-null members.
    pub(crate) fn non_null_members(
        &self,
        node: &Node<'a>,
    ) -> Result<Option<Vec<Node<'a>>>, SpecError> {
        let Some(one) = node.get("oneOf").or_else(|| node.get("anyOf")) else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for m in one.items()? {
            if m.value.get("type").and_then(Value::as_str) == Some("null")
                && m.value.get("properties").is_none()
            {
                continue;
            }
            out.push(m);
        }
        Ok(Some(out))
    }

    /// Resolve refs and single-member unions to the effective schema node.
    pub(crate) fn effective(&self, node: &Node<'a>) -> Result<Node<'a>, SpecError> {
        let mut cur = self.deref(node)?;
        for _ in 0..8 {
            match self.non_null_members(&cur)? {
                Some(m) if m.len() == 1 => cur = self.deref(&m[0])?,
                _ => break,
            }
        }
        Ok(cur)
    }

    /// The schema's non-null JSON type names.
    pub(crate) fn types_of(node: &Node<'_>) -> Vec<String> {
        match node.value.get("type") {
            Some(Value::String(s)) if s != "null" => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .filter(|s| *s != "null")
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Follow a simple JSONPath (`$.a.b[*].c`, `$.a[0]`) through a schema.
    /// `[*]`/`[n]` step into array items. Returns None when the path leaves the schema.
    pub(crate) fn at_path(
        &self,
        schema: &Node<'a>,
        path: &str,
    ) -> Result<Option<Node<'a>>, SpecError> {
        let Some(rest) = path.trim().strip_prefix('$') else {
            return Ok(None);
        };
        let mut cur = self.effective(schema)?;
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&n) = chars.peek() {
                        if n == '.' || n == '[' {
                            break;
                        }
                        key.push(n);
                        chars.next();
                    }
                    if key.is_empty() || key == "*" {
                        return Ok(None);
                    }
                    let Some(props) = cur.get("properties") else {
                        return Ok(None);
                    };
                    let Some(p) = props.get(&key) else {
                        return Ok(None);
                    };
                    cur = self.effective(&p)?;
                }
                '[' => {
                    let mut inner = String::new();
                    for n in chars.by_ref() {
                        if n == ']' {
                            break;
                        }
                        inner.push(n);
                    }
                    let inner = inner.trim().trim_matches(['\'', '"']);
                    if inner == "*" || inner.parse::<usize>().is_ok() {
                        match cur.get("items") {
                            Some(i) => cur = self.effective(&i)?,
                            None => {
                                // `[*]` over an object: its additionalProperties values.
                                match cur.get("additionalProperties") {
                                    Some(ap) if ap.value.is_object() => {
                                        cur = self.effective(&ap)?
                                    }
                                    _ => return Ok(None),
                                }
                            }
                        }
                    } else {
                        let Some(props) = cur.get("properties") else {
                            return Ok(None);
                        };
                        let Some(p) = props.get(inner) else {
                            return Ok(None);
                        };
                        cur = self.effective(&p)?;
                    }
                }
                _ => return Ok(None),
            }
        }
        Ok(Some(cur))
    }
}
