//! Rust naming: identifiers from wire names, keywords, deduplication.

use std::collections::HashSet;

use heck::{ToPascalCase, ToShoutySnakeCase, ToSnakeCase};

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NON_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Whether `s` is a Rust keyword (strict, reserved or edition-2024).
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Rewrite characters heck would drop into words (`+1` → `plus 1`, `-1` → `minus 1`, `b2b?` → `b2b`).
fn spell(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len() + 8);
    for (i, c) in wire.chars().enumerate() {
        match c {
            '+' => out.push_str(" plus "),
            '-' if i == 0 => out.push_str(" minus "),
            '@' if i == 0 => out.push_str(" at "),
            '$' if i == 0 => out.push_str(" dollar "),
            '#' if i == 0 => out.push_str(" hash "),
            c if c.is_ascii_alphanumeric() => out.push(c),
            c if c.is_alphanumeric() => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

fn ascii_only(s: String) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Identifier text from a case conversion of a wire name: ASCII only, outer `_` trimmed,
/// `empty` when nothing is left, `digit_prefix` before a leading digit.
fn identifier(converted: String, empty: &str, digit_prefix: &str) -> String {
    let s = ascii_only(converted);
    let s = s.trim_matches('_');
    if s.is_empty() {
        empty.to_string()
    } else if s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{digit_prefix}{s}")
    } else {
        s.to_string()
    }
}

/// snake_case identifier text for a wire name, without keyword handling (`16x16` → `_16x16`).
pub fn snake_base(wire: &str) -> String {
    identifier(spell(wire).to_snake_case(), "field", "_")
}

/// PascalCase identifier text for a wire name (`1d_click` → `V1dClick`).
pub fn pascal_base(wire: &str) -> String {
    match identifier(spell(wire).to_pascal_case(), "Value", "V") {
        s if s == "Self" => "SelfValue".to_string(),
        s => s,
    }
}

/// SHOUTY_SNAKE identifier text.
pub fn shouty(wire: &str) -> String {
    identifier(spell(wire).to_shouty_snake_case(), "ITEM", "_")
}

/// Make a snake identifier safe: keywords get a trailing underscore (`type` → `type_`).
/// Returned text is a plain identifier (never `r#`), so it can be used in any position.
pub fn safe_snake(base: &str) -> String {
    if is_keyword(base) || NON_RAW.contains(&base) {
        format!("{base}_")
    } else {
        base.to_string()
    }
}

/// Deduplicates names deterministically with numeric suffixes.
#[derive(Debug, Default, Clone)]
pub struct Namer {
    used: HashSet<String>,
}

impl Namer {
    /// A namer with names already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Namer {
            used: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Reserve `base`, or `base_2`, `base_3`, ... (snake) / `Base2` (Pascal) when taken.
    pub fn unique(&mut self, base: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        let pascal = base.starts_with(|c: char| c.is_ascii_uppercase());
        for i in 2.. {
            let candidate = if pascal {
                format!("{base}{i}")
            } else {
                format!("{base}_{i}")
            };
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unused suffix always exists")
    }
}

/// Pascal name of a connector slug (`clickup-api` → `ClickupApi`).
pub fn connector_pascal(slug: &str) -> String {
    slug.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Suffix from an auth option title (`"OAuth 2.0 Authentication"` → `Oauth20Authentication`).
pub fn title_suffix(title: &str) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| if "&-/.()".contains(c) { ' ' } else { c })
        .collect();
    cleaned
        .split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<String>()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names() {
        assert_eq!(snake_base("+1"), "plus_1");
        assert_eq!(snake_base("-1"), "minus_1");
        assert_eq!(snake_base("16x16"), "_16x16");
        assert_eq!(snake_base("b2b?"), "b2b");
        assert_eq!(snake_base("event.type"), "event_type");
        assert_eq!(snake_base("page[size]"), "page_size");
        assert_eq!(safe_snake("type"), "type_");
        assert_eq!(safe_snake("self"), "self_");
        assert_eq!(pascal_base("1d_click"), "V1dClick");
        assert_eq!(connector_pascal("zendesk-support"), "ZendeskSupport");
        assert_eq!(
            title_suffix("OAuth 2.0 Authentication"),
            "Oauth20Authentication"
        );
        let mut n = Namer::default();
        assert_eq!(n.unique("a"), "a");
        assert_eq!(n.unique("a"), "a_2");
        assert_eq!(n.unique("A"), "A");
        assert_eq!(n.unique("A"), "A2");
    }
}
