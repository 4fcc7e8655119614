//! Response headers as the runtime reads them, and the two header formats it parses:
//! `Retry-After` and RFC 8288 `Link`.

use std::time::{Duration, SystemTime};

/// Lower-cased response headers.
#[derive(Debug, Clone, Default)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of header `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parse `Retry-After`: delta seconds (integer or decimal) or an HTTP-date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = v.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(1.0e9)));
        }
        return None;
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The RFC 8288 `Link` header target for `rel`.
pub fn link_rel(header: &str, rel: &str) -> Option<String> {
    for part in split_links(header) {
        let part = part.trim();
        let Some(end) = part.find('>') else { continue };
        if !part.starts_with('<') {
            continue;
        }
        let url = &part[1..end];
        for p in part[end + 1..].split(';') {
            let p = p.trim();
            if let Some(v) = p.strip_prefix("rel=") {
                let v = v.trim_matches('"');
                if v.split_whitespace().any(|r| r.eq_ignore_ascii_case(rel)) {
                    return Some(url.to_string());
                }
            }
        }
    }
    None
}

fn split_links(h: &str) -> Vec<&str> {
    // Commas may appear inside <...>; split only on commas outside angle brackets.
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in h.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&h[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&h[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        let future = SystemTime::now() + Duration::from_secs(30);
        let d = parse_retry_after(&httpdate::fmt_http_date(future)).unwrap();
        assert!(d <= Duration::from_secs(30) && d >= Duration::from_secs(28));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn links() {
        let h = r#"<https://api.x.com/items?page=2>; rel="next", <https://api.x.com/items?page=9>; rel="last""#;
        assert_eq!(
            link_rel(h, "next").as_deref(),
            Some("https://api.x.com/items?page=2")
        );
        assert_eq!(
            link_rel(h, "last").as_deref(),
            Some("https://api.x.com/items?page=9")
        );
        assert_eq!(link_rel(h, "prev"), None);
    }
}
