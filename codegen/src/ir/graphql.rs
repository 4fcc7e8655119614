//! The record shape of a GraphQL operation, read from its query and default field selection.
//!
//! A GraphQL operation's spec usually gives no schema for its records (`items: {type: object}`),
//! but its query names every field it asks for: the `{{ fields }}` placeholder sits in the
//! selection that the record extractor points at, and `default_fields` fills it when the caller
//! picks no fields. That selection is the record's field list. The spec says nothing of a leaf's
//! type, so leaves stay JSON values; sub-selections become nested records.

/// One selected field: its response key (the alias when there is one) and its sub-selection.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Selected {
    /// Key in the response (`alias` of `alias: field`, else the field name).
    pub key: String,
    /// Whether the field takes arguments (`labels(first: 10)`).
    pub has_args: bool,
    /// Sub-selection (`None` for a leaf).
    pub children: Option<Vec<Selected>>,
}

/// The placeholder standing for the caller's field selection.
const PLACEHOLDER: &str = "{{ fields }}";
/// What the placeholder becomes while parsing (a name no GraphQL field has).
const MARKER: &str = "__airbyte_fields__";

/// The record fields of an operation whose `query` holds the fields placeholder inside the
/// selection at `extractor` (`$.data.repository.issues.nodes`), with `default_fields` standing
/// in for it. `None` when the query cannot be read or the placeholder is not where the extractor
/// points (the record then stays untyped).
pub(crate) fn record_selection(
    query: &str,
    default_fields: &str,
    extractor: &str,
) -> Option<Vec<Selected>> {
    let path: Vec<&str> = extractor
        .strip_prefix("$.data.")?
        .split('.')
        .filter(|s| !s.is_empty())
        .collect();
    let mut placeholders = query.match_indices(PLACEHOLDER);
    placeholders.next()?;
    if placeholders.next().is_some() {
        return None;
    }
    let query = query.replacen(PLACEHOLDER, MARKER, 1);
    let mut p = Parser::new(&query);
    // Skip the operation header (`query Name($a: Int)`) up to the outermost selection.
    p.skip_to_selection()?;
    let top = p.selection_set()?;
    let (keys, set) = find_marker(&top, &mut Vec::new())?;
    if keys != path {
        return None;
    }
    let mut defaults = Parser::new(default_fields).selections_until_end()?;
    let mut fields: Vec<Selected> = Vec::new();
    for s in set {
        if s.key == MARKER {
            fields.append(&mut defaults);
        } else {
            fields.push(s.clone());
        }
    }
    Some(merge(fields))
}

/// Whether a sub-selection is a list: the items of a connection (`nodes`, `edges`).
pub(crate) fn is_list(s: &Selected) -> bool {
    s.key == "nodes" || s.key == "edges"
}

/// Whether the cardinality of a sub-selection cannot be told from the query: a plural name that
/// is neither a connection (arguments, or `nodes`/`edges`/`totalCount` inside) nor a
/// connection's items. Such a field (`options { id name }`) may be a plain list or an object.
pub(crate) fn cardinality_unknown(s: &Selected) -> bool {
    let Some(children) = &s.children else {
        return false;
    };
    let connection = s.has_args
        || children.iter().any(|c| {
            matches!(
                c.key.as_str(),
                "nodes" | "edges" | "totalCount" | "pageInfo"
            )
        });
    !is_list(s) && !connection && s.key.ends_with('s')
}

/// The response keys down to the selection holding the marker, and that selection.
fn find_marker<'s>(
    set: &'s [Selected],
    keys: &mut Vec<String>,
) -> Option<(Vec<String>, &'s [Selected])> {
    if set.iter().any(|s| s.key == MARKER) {
        return Some((keys.clone(), set));
    }
    for s in set {
        if let Some(children) = &s.children {
            keys.push(s.key.clone());
            if let Some(found) = find_marker(children, keys) {
                return Some(found);
            }
            keys.pop();
        }
    }
    None
}

/// Fields selected twice (directly and through inline fragments) become one, their
/// sub-selections merged.
fn merge(fields: Vec<Selected>) -> Vec<Selected> {
    let mut out: Vec<Selected> = Vec::new();
    for f in fields {
        match out.iter_mut().find(|o| o.key == f.key) {
            Some(o) => {
                o.has_args |= f.has_args;
                o.children = match (o.children.take(), f.children) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        Some(merge(a))
                    }
                    (a, b) => a.or(b),
                };
            }
            None => out.push(f),
        }
    }
    out
}

/// A reader of the GraphQL subset that selections use: names, aliases, arguments (skipped),
/// directives (skipped), inline fragments (flattened) and fragment spreads (ignored: their
/// fields are not in the text).
struct Parser<'q> {
    text: &'q [u8],
    at: usize,
}

impl<'q> Parser<'q> {
    fn new(text: &'q str) -> Self {
        Parser {
            text: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&mut self) -> Option<u8> {
        loop {
            match self.text.get(self.at)? {
                b' ' | b'\t' | b'\n' | b'\r' | b',' => self.at += 1,
                b'#' => {
                    while self.text.get(self.at).is_some_and(|c| *c != b'\n') {
                        self.at += 1;
                    }
                }
                c => return Some(*c),
            }
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Option<String> {
        self.peek()?;
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            self.at += 1;
        }
        (self.at > start).then(|| String::from_utf8_lossy(&self.text[start..self.at]).into_owned())
    }

    /// Skip a balanced `( ... )`, strings included.
    fn skip_parens(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            let c = *self.text.get(self.at)?;
            self.at += 1;
            match c {
                b'(' => depth += 1,
                b')' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'"' => {
                    while *self.text.get(self.at)? != b'"' {
                        self.at += if self.text[self.at] == b'\\' { 2 } else { 1 };
                    }
                    self.at += 1;
                }
                _ => {}
            }
        }
    }

    fn skip_directives(&mut self) -> Option<()> {
        while self.eat(b'@') {
            self.name()?;
            if self.peek() == Some(b'(') {
                self.skip_parens()?;
            }
        }
        Some(())
    }

    fn skip_to_selection(&mut self) -> Option<()> {
        while self.peek()? != b'{' {
            if self.peek() == Some(b'(') {
                self.skip_parens()?;
            } else {
                self.at += 1;
            }
        }
        Some(())
    }

    /// `{ selection* }`
    fn selection_set(&mut self) -> Option<Vec<Selected>> {
        if !self.eat(b'{') {
            return None;
        }
        let mut out = Vec::new();
        while !self.eat(b'}') {
            self.selection(&mut out)?;
        }
        Some(merge(out))
    }

    /// Selections up to the end of the text (a bare `default_fields` list).
    fn selections_until_end(&mut self) -> Option<Vec<Selected>> {
        let mut out = Vec::new();
        while self.peek().is_some() {
            self.selection(&mut out)?;
        }
        Some(merge(out))
    }

    fn selection(&mut self, out: &mut Vec<Selected>) -> Option<()> {
        if self.text[self.at..].starts_with(b"...") {
            self.at += 3;
            // `... on Type @dir { ... }` is flattened; `...Name` (a spread) is skipped.
            let mut named = None;
            if self.peek() != Some(b'{') && self.peek() != Some(b'@') {
                named = self.name();
                if named.as_deref() == Some("on") {
                    self.name()?;
                    named = None;
                }
            }
            self.skip_directives()?;
            if named.is_none() {
                out.extend(self.selection_set()?);
            }
            return Some(());
        }
        let first = self.name()?;
        let key = if self.eat(b':') {
            self.name()?;
            first
        } else {
            first
        };
        let has_args = self.peek() == Some(b'(');
        if has_args {
            self.skip_parens()?;
        }
        self.skip_directives()?;
        let children = if self.peek() == Some(b'{') {
            Some(self.selection_set()?)
        } else {
            None
        };
        out.push(Selected {
            key,
            has_args,
            children,
        });
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &[Selected]) -> Vec<&str> {
        s.iter().map(|s| s.key.as_str()).collect()
    }

    #[test]
    fn the_default_selection_at_the_extractor_is_the_record() {
        let q = "query L($owner: String!, $first: Int!) {\n  repository(owner: $owner, name: \"x(y)\") {\n    issues(first: $first, orderBy: {field: CREATED_AT}) {\n      pageInfo { hasNextPage endCursor }\n      nodes { {{ fields }} }\n    }\n  }\n}";
        let d = "id number title author { login avatarUrl } labels(first: 10) { nodes { name } } # note\n comments { totalCount } options { id }";
        let f = record_selection(q, d, "$.data.repository.issues.nodes").unwrap();
        assert_eq!(
            keys(&f),
            [
                "id", "number", "title", "author", "labels", "comments", "options"
            ]
        );
        assert!(f[4].has_args && !is_list(&f[4]));
        let labels = f[4].children.as_ref().unwrap();
        assert!(is_list(&labels[0]));
        assert!(!cardinality_unknown(&f[3]) && !cardinality_unknown(&f[5]));
        assert!(cardinality_unknown(&f[6]));
        // The placeholder elsewhere than the extractor: not typed.
        assert_eq!(record_selection(q, d, "$.data.repository.issues"), None);
        assert_eq!(record_selection(q, d, "$.repository.issues.nodes"), None);
    }

    #[test]
    fn inline_fragments_flatten_and_aliases_name_the_key() {
        let q = "query($q: String!) { search(query: $q, type: ISSUE) { nodes { ... on Issue { {{ fields }} } } } }";
        let d =
            "id ... on Issue @include(if: true) { title } login: author { name: login } ...Spread";
        let f = record_selection(q, d, "$.data.search.nodes").unwrap();
        assert_eq!(keys(&f), ["id", "title", "login"]);
        assert_eq!(keys(f[2].children.as_ref().unwrap()), ["name"]);
    }

    #[test]
    fn malformed_text_is_not_typed() {
        for (q, d) in [
            ("query { a { {{ fields }} }", "id"),
            ("query { a { {{ fields }} } }", "id { "),
            ("query { a { {{ fields }} {{ fields }} } }", "id"),
            ("query { a { b } }", "id"),
            ("query { a(x: \"unterminated) { {{ fields }} } }", "id"),
        ] {
            assert_eq!(record_selection(q, d, "$.data.a"), None, "{q}");
        }
    }
}
