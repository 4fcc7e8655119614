//! Spec prose → rustdoc: normalised, sanitised doc attributes.

use proc_macro2::TokenStream;
use quote::quote;

/// Normalise spec prose for rustdoc: trim, unify line endings, never empty, and sanitise it
/// ([`sanitize_doc`]) so rustdoc sees no broken links, bare URLs or stray HTML.
pub(super) fn doc_text(text: &str, fallback: &str) -> String {
    let t = text.replace("\r\n", "\n");
    let t = t.trim();
    if t.is_empty() {
        fallback.to_string()
    } else {
        sanitize_doc(t)
    }
}

/// Make spec prose safe for rustdoc. Outside code spans and fenced blocks: bare URLs become
/// autolinks `<https://…>`, `<`/`>` become entities, and `[`/`]` are escaped unless they form a
/// Markdown link `[text](url)`. Fenced blocks are marked `text` so rustdoc never parses them as Rust.
pub fn sanitize_doc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            if !in_fence && trimmed.trim_start_matches(['`', '~']).trim().is_empty() {
                out.push_str(line);
                out.push_str("text");
            } else {
                out.push_str(line);
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push_str(line);
        } else {
            sanitize_line(line, &mut out);
        }
    }
    if in_fence {
        out.push_str("\n```");
    }
    out
}

pub(super) fn sanitize_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    // Unbalanced backticks: treat them as text.
    let ticks = chars.iter().filter(|c| **c == '`').count();
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            if ticks % 2 == 0 {
                in_code = !in_code;
                out.push(c);
            } else {
                out.push_str("\\`");
            }
            i += 1;
            continue;
        }
        if in_code {
            out.push(c);
            i += 1;
            continue;
        }
        // Markdown link `[text](url)`: keep as is.
        if c == '[' {
            if let Some(end) = link_end(&chars, i) {
                out.extend(&chars[i..end]);
                i = end;
                continue;
            }
            out.push_str("\\[");
            i += 1;
            continue;
        }
        if c == ']' {
            out.push_str("\\]");
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let mut end = i;
            while end < chars.len() && !chars[end].is_whitespace() && !"<>\"'`".contains(chars[end])
            {
                end += 1;
            }
            while end > i && ".,;:!?)".contains(chars[end - 1]) {
                end -= 1;
            }
            out.push('<');
            out.extend(&chars[i..end]);
            out.push('>');
            i = end;
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
        i += 1;
    }
}

/// End (exclusive) of a Markdown link starting at `chars[start] == '['`.
pub(super) fn link_end(chars: &[char], start: usize) -> Option<usize> {
    let close = (start + 1..chars.len()).find(|&j| chars[j] == ']' || chars[j] == '[')?;
    if chars[close] != ']' || close == start + 1 || chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let paren = (close + 2..chars.len()).find(|&j| chars[j] == ')' || chars[j].is_whitespace())?;
    (chars[paren] == ')').then_some(paren + 1)
}

pub(super) fn doc(text: &str, fallback: &str) -> TokenStream {
    let t = doc_text(text, fallback);
    let lines = t.lines().map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}

#[cfg(test)]
mod tests {
    use super::sanitize_doc;

    #[test]
    fn sanitiser_escapes_rustdoc_hazards() {
        assert_eq!(
            sanitize_doc("see https://x.io/a. ok"),
            "see <https://x.io/a>. ok"
        );
        assert_eq!(sanitize_doc("a [b](https://c) d"), "a [b](https://c) d");
        assert_eq!(sanitize_doc("ids [1, 2]"), "ids \\[1, 2\\]");
        assert_eq!(sanitize_doc("Vec<T> `Vec<T>`"), "Vec&lt;T&gt; `Vec<T>`");
        assert_eq!(sanitize_doc("```\n[x] <y>\n```"), "```text\n[x] <y>\n```");
        assert_eq!(sanitize_doc("odd ` tick"), "odd \\` tick");
    }
}
