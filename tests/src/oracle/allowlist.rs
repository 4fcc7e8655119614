//! The checked-in allow-list of deliberate differences from the reference runtime.
//!
//! ```toml
//! [[allow]]
//! case = "stripe:customers.list.optional"   # "<connector>:<case id>", `*` matches any text
//! aspects = ["request.query"]               # optional: only these differences are allowed
//! error = "MissingParam"                    # optional: only when our call failed with this error
//! reason = "we do not send an explicit null query parameter as `key=`"
//! ```
//!
//! A failing case is allow-listed when the entries matching it together cover every aspect
//! that differs; entries without `aspects` cover all. Allow-listed cases are reported
//! separately, and so are allow-listed cases that pass (the entry may be stale).

use std::path::Path;

use serde::Deserialize;

use super::OracleError;
use super::compare::{Aspect, Mismatch};

/// One allow-list entry.
#[derive(Debug, Clone)]
pub struct AllowEntry {
    /// `<connector>:<case id>` pattern with `*` wildcards.
    pub case: String,
    /// Aspects allowed to differ (`None` = all).
    pub aspects: Option<Vec<Aspect>>,
    /// The entry applies only when our call failed with this error category.
    pub error: Option<String>,
    /// Why the difference is deliberate.
    pub reason: String,
}

/// All entries.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    /// Entries in file order.
    pub entries: Vec<AllowEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    allow: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    case: String,
    #[serde(default)]
    aspects: Option<Vec<String>>,
    #[serde(default)]
    error: Option<String>,
    reason: String,
}

/// How the allow-list judges one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No entry applies.
    NotListed,
    /// Every difference is covered; the reasons of the entries used.
    Allowed(Vec<String>),
    /// Entries match the case but do not cover these aspects.
    Partial(Vec<Aspect>),
}

impl AllowList {
    /// Parse TOML text.
    pub fn parse(text: &str, origin: &str) -> Result<Self, OracleError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| OracleError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        let mut entries = Vec::with_capacity(raw.allow.len());
        for e in raw.allow {
            if e.reason.trim().is_empty() {
                return Err(OracleError::Parse {
                    path: origin.to_string(),
                    message: format!("allow-list entry `{}` has no reason", e.case),
                });
            }
            if !e.case.contains(':') {
                return Err(OracleError::Parse {
                    path: origin.to_string(),
                    message: format!(
                        "allow-list entry `{}` must be `<connector>:<case id>`",
                        e.case
                    ),
                });
            }
            let aspects = match e.aspects {
                None => None,
                Some(names) => {
                    let mut v = Vec::new();
                    for n in names {
                        let a = Aspect::from_name(&n).ok_or_else(|| OracleError::Parse {
                            path: origin.to_string(),
                            message: format!(
                                "allow-list entry `{}`: unknown aspect `{n}` (known: {})",
                                e.case,
                                Aspect::ALL
                                    .iter()
                                    .map(|a| a.name())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        })?;
                        v.push(a);
                    }
                    Some(v)
                }
            };
            entries.push(AllowEntry {
                case: e.case,
                aspects,
                error: e.error,
                reason: e.reason,
            });
        }
        Ok(AllowList { entries })
    }

    /// Read a TOML file.
    pub fn load(path: &Path) -> Result<Self, OracleError> {
        let text = std::fs::read_to_string(path).map_err(|source| OracleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Entries whose pattern matches `<connector>:<case id>` (and whose `error`, if any, is
    /// the category of the error our call returned).
    pub fn matching<'a>(
        &'a self,
        connector: &str,
        case_id: &str,
        observed_error: Option<&str>,
    ) -> Vec<&'a AllowEntry> {
        let key = format!("{connector}:{case_id}");
        self.entries
            .iter()
            .filter(|e| glob_match(&e.case, &key))
            .filter(|e| e.error.is_none() || e.error.as_deref() == observed_error)
            .collect()
    }

    /// Whether any entry's pattern names the case (whatever its conditions).
    pub fn is_listed(&self, connector: &str, case_id: &str) -> bool {
        let key = format!("{connector}:{case_id}");
        self.entries.iter().any(|e| glob_match(&e.case, &key))
    }

    /// Judge a case's mismatches; `observed_error` is the category of our error, if any.
    pub fn judge(
        &self,
        connector: &str,
        case_id: &str,
        observed_error: Option<&str>,
        mismatches: &[Mismatch],
    ) -> Verdict {
        let entries = self.matching(connector, case_id, observed_error);
        if entries.is_empty() {
            return Verdict::NotListed;
        }
        let covers = |a: Aspect| {
            entries
                .iter()
                .any(|e| e.aspects.as_ref().is_none_or(|v| v.contains(&a)))
        };
        let mut uncovered: Vec<Aspect> = mismatches
            .iter()
            .map(|m| m.aspect)
            .filter(|a| !covers(*a))
            .collect();
        uncovered.sort();
        uncovered.dedup();
        if uncovered.is_empty() {
            Verdict::Allowed(entries.iter().map(|e| e.reason.clone()).collect())
        } else {
            Verdict::Partial(uncovered)
        }
    }
}

/// `*` matches any (possibly empty) run of characters; everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(glob_match(
            "*:*.local_mode",
            "stripe:customers.x.local_mode"
        ));
        assert!(glob_match("stripe:*", "stripe:a"));
        assert!(!glob_match("stripe:*", "slack:a"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }

    #[test]
    fn entries_cover_aspects() {
        let list = AllowList::parse(
            r#"
[[allow]]
case = "stripe:*.optional"
aspects = ["request.query"]
reason = "null params are omitted"
"#,
            "test",
        )
        .unwrap();
        let q = Mismatch::new(Aspect::Query, "q");
        let h = Mismatch::new(Aspect::Header, "h");
        assert!(matches!(
            list.judge("stripe", "a.list.optional", None, std::slice::from_ref(&q)),
            Verdict::Allowed(_)
        ));
        assert_eq!(
            list.judge("stripe", "a.list.optional", None, &[q.clone(), h]),
            Verdict::Partial(vec![Aspect::Header])
        );
        assert_eq!(
            list.judge("slack", "a.list.optional", None, &[q]),
            Verdict::NotListed
        );
    }

    #[test]
    fn entries_may_require_an_error_category() {
        let list = AllowList::parse(
            "[[allow]]\ncase = \"a:*\"\nerror = \"MissingParam\"\nreason = \"r\"\n",
            "t",
        )
        .unwrap();
        let s = Mismatch::new(Aspect::Success, "s");
        assert!(matches!(
            list.judge("a", "x", Some("MissingParam"), std::slice::from_ref(&s)),
            Verdict::Allowed(_)
        ));
        assert_eq!(
            list.judge("a", "x", Some("Network"), std::slice::from_ref(&s)),
            Verdict::NotListed
        );
        assert_eq!(list.judge("a", "x", None, &[s]), Verdict::NotListed);
    }

    #[test]
    fn bad_entries_are_rejected() {
        assert!(AllowList::parse("[[allow]]\ncase = \"a:b\"\nreason = \" \"\n", "t").is_err());
        assert!(AllowList::parse("[[allow]]\ncase = \"ab\"\nreason = \"r\"\n", "t").is_err());
        let e = AllowList::parse(
            "[[allow]]\ncase = \"a:b\"\naspects = [\"nope\"]\nreason = \"r\"\n",
            "t",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown aspect"), "{e}");
    }
}
