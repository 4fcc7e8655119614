//! The small template languages of the specs.
//!
//! * `${field}` auth mappings ([`render_dollar`]),
//! * `{{ name }}` lenient substitution for headers and token URLs ([`render_braces`]),
//! * a strict Jinja subset for record filters and transforms ([`render_jinja`]): variable and
//!   attribute lookup, `not`, `and`/`or`, `==`/`!=`, literals, and the filters `replace`,
//!   `lower`, `upper`, `string`, `default`.

use serde_json::Value;

/// Render `${name}` placeholders. Returns `Err(name)` for the first unresolved variable.
pub fn render_dollar<'a>(
    template: &str,
    lookup: impl Fn(&str) -> Option<&'a str>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        match lookup(name) {
            Some(v) => out.push_str(v),
            None => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Render `{{ name }}` placeholders; unknown names render empty (Jinja's default undefined).
pub fn render_braces(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        if let Some(v) = lookup(after[..end].trim()) {
            out.push_str(&v);
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Render a strict Jinja-subset template with the given variables (`record`, `config`).
pub fn render_jinja(template: &str, vars: &[(&str, &Value)]) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unclosed `{{` in template".to_string())?;
        let v = eval_expr(after[..end].trim(), vars)?;
        out.push_str(&display(&v));
        rest = &after[end + 2..];
    }
    if rest.contains("{%") {
        return Err("template statements (`{%`) are not supported".into());
    }
    out.push_str(rest);
    Ok(out)
}

/// Whether a rendered filter output counts as false.
pub fn is_falsy_text(s: &str) -> bool {
    matches!(
        s.trim(),
        "False" | "false" | "0" | "None" | "none" | "null" | ""
    )
}

fn display(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    Dot,
    Pipe,
    LParen,
    RParen,
    Comma,
    Eq,
    Ne,
    LBracket,
    RBracket,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < cs.len() {
        let c = cs[i];
        match c {
            ' ' | '\t' | '\n' => i += 1,
            '.' => {
                out.push(Tok::Dot);
                i += 1
            }
            '|' => {
                out.push(Tok::Pipe);
                i += 1
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1
            }
            '[' => {
                out.push(Tok::LBracket);
                i += 1
            }
            ']' => {
                out.push(Tok::RBracket);
                i += 1
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1
            }
            '=' if cs.get(i + 1) == Some(&'=') => {
                out.push(Tok::Eq);
                i += 2
            }
            '!' if cs.get(i + 1) == Some(&'=') => {
                out.push(Tok::Ne);
                i += 2
            }
            '\'' | '"' => {
                let q = c;
                let mut j = i + 1;
                let mut lit = String::new();
                while j < cs.len() && cs[j] != q {
                    if cs[j] == '\\' && j + 1 < cs.len() {
                        j += 1;
                    }
                    lit.push(cs[j]);
                    j += 1;
                }
                if j >= cs.len() {
                    return Err("unterminated string literal".into());
                }
                out.push(Tok::Str(lit));
                i = j + 1;
            }
            c if c.is_ascii_digit()
                || (c == '-' && cs.get(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while j < cs.len() && (cs[j].is_ascii_digit() || cs[j] == '.') {
                    j += 1;
                }
                let t: String = cs[i..j].iter().collect();
                out.push(Tok::Num(
                    t.parse().map_err(|_| format!("bad number `{t}`"))?,
                ));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < cs.len() && (cs[j].is_alphanumeric() || cs[j] == '_') {
                    j += 1;
                }
                out.push(Tok::Ident(cs[i..j].iter().collect()));
                i = j;
            }
            other => return Err(format!("unsupported character `{other}` in expression")),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a [(&'a str, &'a Value)],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s == kw)
    }

    fn or(&mut self) -> Result<Value, String> {
        let mut v = self.and()?;
        while self.is_kw("or") {
            self.pos += 1;
            let r = self.and()?;
            v = if truthy(&v) { v } else { r };
        }
        Ok(v)
    }
    fn and(&mut self) -> Result<Value, String> {
        let mut v = self.not()?;
        while self.is_kw("and") {
            self.pos += 1;
            let r = self.not()?;
            v = if truthy(&v) { r } else { v };
        }
        Ok(v)
    }
    fn not(&mut self) -> Result<Value, String> {
        if self.is_kw("not") {
            self.pos += 1;
            let v = self.not()?;
            return Ok(Value::Bool(!truthy(&v)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Value, String> {
        let l = self.filtered()?;
        match self.peek() {
            Some(Tok::Eq) => {
                self.pos += 1;
                let r = self.filtered()?;
                Ok(Value::Bool(l == r))
            }
            Some(Tok::Ne) => {
                self.pos += 1;
                let r = self.filtered()?;
                Ok(Value::Bool(l != r))
            }
            _ => Ok(l),
        }
    }
    fn filtered(&mut self) -> Result<Value, String> {
        let mut v = self.primary()?;
        while self.peek() == Some(&Tok::Pipe) {
            self.pos += 1;
            let Some(Tok::Ident(name)) = self.next() else {
                return Err("expected a filter name after `|`".into());
            };
            let mut args = Vec::new();
            if self.peek() == Some(&Tok::LParen) {
                self.pos += 1;
                while self.peek() != Some(&Tok::RParen) {
                    args.push(self.or()?);
                    if self.peek() == Some(&Tok::Comma) {
                        self.pos += 1;
                    } else if self.peek() != Some(&Tok::RParen) {
                        return Err("expected `,` or `)` in filter arguments".into());
                    }
                }
                self.pos += 1;
            }
            v = apply_filter(&name, v, &args)?;
        }
        Ok(v)
    }
    fn primary(&mut self) -> Result<Value, String> {
        let mut v = match self.next() {
            Some(Tok::Str(s)) => Value::String(s),
            Some(Tok::Num(n)) => serde_json::Number::from_f64(n)
                .map(|x| {
                    if n.fract() == 0.0 && n.abs() < 9.0e15 {
                        Value::from(n as i64)
                    } else {
                        Value::Number(x)
                    }
                })
                .unwrap_or(Value::Null),
            Some(Tok::LParen) => {
                let v = self.or()?;
                if self.next() != Some(Tok::RParen) {
                    return Err("expected `)`".into());
                }
                v
            }
            Some(Tok::Ident(id)) => match id.as_str() {
                "true" | "True" => Value::Bool(true),
                "false" | "False" => Value::Bool(false),
                "none" | "None" => Value::Null,
                name => self
                    .vars
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).clone())
                    .ok_or_else(|| format!("`{name}` is undefined"))?,
            },
            other => return Err(format!("unexpected token {other:?}")),
        };
        loop {
            match self.peek() {
                Some(Tok::Dot) => {
                    self.pos += 1;
                    let Some(Tok::Ident(attr)) = self.next() else {
                        return Err("expected an attribute name after `.`".into());
                    };
                    v = attr_of(&v, &attr)?;
                }
                Some(Tok::LBracket) => {
                    self.pos += 1;
                    let key = self.or()?;
                    if self.next() != Some(Tok::RBracket) {
                        return Err("expected `]`".into());
                    }
                    v = match (&v, &key) {
                        (Value::Array(a), Value::Number(n)) => n
                            .as_u64()
                            .and_then(|i| a.get(i as usize).cloned())
                            .ok_or_else(|| format!("index {n} is undefined"))?,
                        (_, Value::String(s)) => attr_of(&v, s)?,
                        _ => return Err("unsupported subscript".into()),
                    };
                }
                _ => break,
            }
        }
        Ok(v)
    }
}

fn attr_of(v: &Value, attr: &str) -> Result<Value, String> {
    v.as_object()
        .and_then(|m| m.get(attr))
        .cloned()
        .ok_or_else(|| format!("attribute `{attr}` is undefined"))
}

fn apply_filter(name: &str, v: Value, args: &[Value]) -> Result<Value, String> {
    let s = || display(&v);
    Ok(match name {
        "replace" => {
            let (Some(a), Some(b)) = (args.first(), args.get(1)) else {
                return Err("`replace` takes two arguments".into());
            };
            Value::String(s().replace(&display(a), &display(b)))
        }
        "lower" => Value::String(s().to_lowercase()),
        "upper" => Value::String(s().to_uppercase()),
        "string" => Value::String(s()),
        "trim" => Value::String(s().trim().to_string()),
        "default" | "d" => {
            if v.is_null() {
                args.first()
                    .cloned()
                    .unwrap_or(Value::String(String::new()))
            } else {
                v
            }
        }
        "length" | "count" => match &v {
            Value::Array(a) => Value::from(a.len()),
            Value::Object(m) => Value::from(m.len()),
            Value::String(x) => Value::from(x.chars().count()),
            _ => return Err("`length` of a scalar".into()),
        },
        other => return Err(format!("unsupported filter `{other}`")),
    })
}

fn eval_expr(expr: &str, vars: &[(&str, &Value)]) -> Result<Value, String> {
    let toks = lex(expr)?;
    let mut p = Parser { toks, pos: 0, vars };
    let v = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected trailing input in `{expr}`"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dollar() {
        let f = |n: &str| if n == "email" { Some("a@b") } else { None };
        assert_eq!(render_dollar("${email}/token", f).unwrap(), "a@b/token");
        assert_eq!(render_dollar("X", f).unwrap(), "X");
        assert_eq!(render_dollar("${api_key}", f), Err("api_key".into()));
    }

    #[test]
    fn jinja() {
        let rec = json!({"isPrivate": false, "metaData": {"isPrivate": true}, "value": "customers/123", "id": 5});
        let vars = [("record", &rec)];
        assert_eq!(
            render_jinja("{{ not record.isPrivate }}", &vars).unwrap(),
            "True"
        );
        assert_eq!(
            render_jinja("{{ not record.metaData.isPrivate }}", &vars).unwrap(),
            "False"
        );
        assert_eq!(
            render_jinja("{{ record.value | replace('customers/', '') }}", &vars).unwrap(),
            "123"
        );
        assert_eq!(
            render_jinja("urn:li:x:{{ record.id }}", &vars).unwrap(),
            "urn:li:x:5"
        );
        assert!(render_jinja("{{ not record.missing }}", &vars).is_err());
        assert!(is_falsy_text("False"));
    }
}
