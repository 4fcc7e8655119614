//! `application/x-www-form-urlencoded` bodies and query strings: decoding into pairs and a
//! readable difference of two pair lists.

use super::clip;

pub(super) fn pairs_diff(e: &[(String, String)], o: &[(String, String)]) -> String {
    let missing: Vec<String> = e
        .iter()
        .filter(|p| !o.contains(p))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let extra: Vec<String> = o
        .iter()
        .filter(|p| !e.contains(p))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut s = String::new();
    if !missing.is_empty() {
        s.push_str(&format!("\n     missing {}", clip(&missing.join("&"))));
    }
    if !extra.is_empty() {
        s.push_str(&format!("\n     extra   {}", clip(&extra.join("&"))));
    }
    if s.is_empty() && e != o {
        s.push_str("\n     (same pairs, different order)");
    }
    s
}

/// Decode `application/x-www-form-urlencoded` (or a query string) into pairs.
pub fn decode_pairs(s: &str) -> Vec<(String, String)> {
    if s.is_empty() {
        return Vec::new();
    }
    s.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_query_decoding() {
        assert_eq!(
            decode_pairs("a%5Bb%5D=1+2&c=%&d"),
            vec![
                ("a[b]".to_string(), "1 2".to_string()),
                ("c".to_string(), "%".to_string()),
                ("d".to_string(), String::new())
            ]
        );
    }
}
