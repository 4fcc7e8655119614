//! Per-case outcomes, per-connector rows and the final summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::compare::{Aspect, Mismatch};

/// How one case ended.
#[derive(Debug, Clone)]
pub enum CaseStatus {
    /// Everything matched.
    Passed,
    /// Everything matched, but the allow-list lists the case (stale entry?).
    PassedButAllowListed,
    /// Differences, all covered by the allow-list.
    AllowListed {
        /// Reasons of the matching entries.
        reasons: Vec<String>,
        /// The differences.
        mismatches: Vec<Mismatch>,
    },
    /// Differences not covered by the allow-list.
    Failed {
        /// The differences.
        mismatches: Vec<Mismatch>,
    },
}

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// Case id.
    pub id: String,
    /// Status.
    pub status: CaseStatus,
    /// Wall time of the case.
    pub elapsed_ms: u128,
}

/// All outcomes of one connector.
#[derive(Debug, Clone, Default)]
pub struct ConnectorReport {
    /// Connector slug.
    pub name: String,
    /// Outcomes in file order.
    pub cases: Vec<CaseOutcome>,
}

impl ConnectorReport {
    /// Cases that passed (including allow-listed ones that passed).
    pub fn passed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| {
                matches!(
                    c.status,
                    CaseStatus::Passed | CaseStatus::PassedButAllowListed
                )
            })
            .count()
    }

    /// Cases that failed.
    pub fn failed(&self) -> impl Iterator<Item = (&CaseOutcome, &[Mismatch])> {
        self.cases.iter().filter_map(|c| match &c.status {
            CaseStatus::Failed { mismatches } => Some((c, mismatches.as_slice())),
            _ => None,
        })
    }

    /// Allow-listed cases.
    pub fn allow_listed(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| matches!(c.status, CaseStatus::AllowListed { .. }))
            .count()
    }

    /// Allow-listed cases that passed.
    pub fn passed_but_listed(&self) -> impl Iterator<Item = &CaseOutcome> {
        self.cases
            .iter()
            .filter(|c| matches!(c.status, CaseStatus::PassedButAllowListed))
    }

    /// `name  passed/total  [summary]`.
    pub fn row(&self) -> String {
        let mut counts: BTreeMap<Aspect, usize> = BTreeMap::new();
        for (_, mismatches) in self.failed() {
            let mut aspects: Vec<Aspect> = mismatches.iter().map(|m| m.aspect).collect();
            aspects.sort();
            aspects.dedup();
            for a in aspects {
                *counts.entry(a).or_default() += 1;
            }
        }
        let mut row = format!(
            "{:<28} {:>4}/{:<4}",
            self.name,
            self.passed(),
            self.cases.len()
        );
        if !counts.is_empty() {
            let parts: Vec<String> = counts.iter().map(|(a, n)| format!("{a}×{n}")).collect();
            let _ = write!(row, " [{}]", parts.join(", "));
        }
        let allowed = self.allow_listed();
        if allowed > 0 {
            let _ = write!(row, " ({allowed} allow-listed)");
        }
        let stale = self.passed_but_listed().count();
        if stale > 0 {
            let _ = write!(row, " ({stale} allow-listed but passing)");
        }
        row
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// One report per connector.
    pub connectors: Vec<ConnectorReport>,
    /// Wall time of the whole replay.
    pub elapsed_ms: u128,
}

impl Summary {
    /// Passed cases.
    pub fn passed(&self) -> usize {
        self.connectors.iter().map(ConnectorReport::passed).sum()
    }
    /// Failed cases.
    pub fn failed(&self) -> usize {
        self.connectors.iter().map(|c| c.failed().count()).sum()
    }
    /// Allow-listed cases.
    pub fn allow_listed(&self) -> usize {
        self.connectors
            .iter()
            .map(ConnectorReport::allow_listed)
            .sum()
    }
    /// Allow-listed cases that passed.
    pub fn passed_but_listed(&self) -> usize {
        self.connectors
            .iter()
            .map(|c| c.passed_but_listed().count())
            .sum()
    }
    /// Whether no case failed.
    pub fn success(&self) -> bool {
        self.failed() == 0
    }

    /// Failures grouped by aspect across connectors: `aspect → (cases, connectors)`.
    pub fn by_aspect(&self) -> BTreeMap<Aspect, (usize, Vec<String>)> {
        let mut out: BTreeMap<Aspect, (usize, Vec<String>)> = BTreeMap::new();
        for c in &self.connectors {
            for (_, mismatches) in c.failed() {
                let mut aspects: Vec<Aspect> = mismatches.iter().map(|m| m.aspect).collect();
                aspects.sort();
                aspects.dedup();
                for a in aspects {
                    let e = out.entry(a).or_default();
                    e.0 += 1;
                    if !e.1.contains(&c.name) {
                        e.1.push(c.name.clone());
                    }
                }
            }
        }
        out
    }
}

/// Readable details of one failing (or allow-listed) case.
pub fn case_details(connector: &str, case: &CaseOutcome) -> String {
    let (label, mismatches, reasons) = match &case.status {
        CaseStatus::Failed { mismatches } => ("FAILED", mismatches.as_slice(), &[][..]),
        CaseStatus::AllowListed {
            mismatches,
            reasons,
        } => ("ALLOWED", mismatches.as_slice(), reasons.as_slice()),
        CaseStatus::Passed => ("passed", &[][..], &[][..]),
        CaseStatus::PassedButAllowListed => ("passed (allow-listed)", &[][..], &[][..]),
    };
    let mut s = format!("--- {label} {connector}:{}\n", case.id);
    for r in reasons {
        let _ = writeln!(s, "  reason: {r}");
    }
    for m in mismatches {
        let _ = writeln!(s, "  [{}] {}", m.aspect, m.detail);
    }
    s
}
