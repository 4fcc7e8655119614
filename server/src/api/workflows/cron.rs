//! What an automation's schedule may say: a five-field cron expression (numbers in range, `*`,
//! ranges, steps, lists, month and weekday names) and an IANA-shaped time zone name. The server
//! stores schedules without running them, so the time zone is checked for its shape only (no
//! time zone database is compiled in).

use crate::error::ApiError;

/// Longest cron expression.
const MAX_CRON: usize = 200;
/// Longest time zone name (IANA names are far shorter).
const MAX_TIMEZONE: usize = 64;

/// One cron field: its name, range and value names (index + offset = value).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Value of the first name.
    first_name: u32,
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        first_name: 0,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        first_name: 0,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        first_name: 0,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
        first_name: 1,
    },
    Field {
        name: "day of week",
        min: 0,
        max: 7,
        names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        first_name: 0,
    },
];

impl Field {
    fn value(&self, s: &str) -> Option<u32> {
        if let Ok(n) = s.parse::<u32>() {
            return (self.min..=self.max).contains(&n).then_some(n);
        }
        let i = self.names.iter().position(|n| n.eq_ignore_ascii_case(s))?;
        u32::try_from(i).ok().map(|i| i + self.first_name)
    }

    /// One comma-separated item: `*`, `N`, `N-M`, each optionally `/STEP`.
    fn item(&self, item: &str) -> bool {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (item, None),
        };
        if let Some(s) = step
            && !s
                .parse::<u32>()
                .is_ok_and(|s| s >= 1 && s <= self.max.max(1))
        {
            return false;
        }
        if range == "*" {
            return true;
        }
        match range.split_once('-') {
            Some((a, b)) => match (self.value(a), self.value(b)) {
                (Some(a), Some(b)) => a <= b,
                _ => false,
            },
            None => self.value(range).is_some(),
        }
    }
}

/// A valid five-field cron expression, with its fields single-spaced.
pub(super) fn check_cron(expr: &str) -> Result<String, ApiError> {
    let parts: Vec<&str> = expr.split_whitespace().collect();
    if parts.len() != FIELDS.len() || expr.len() > MAX_CRON {
        return Err(ApiError::unprocessable(
            "cron_expression must have five fields (minute hour day-of-month month day-of-week)",
        ));
    }
    for (part, field) in parts.iter().zip(FIELDS.iter()) {
        if !part.split(',').all(|i| field.item(i)) {
            return Err(ApiError::unprocessable(format!(
                "cron_expression: invalid {} field `{part}` (allowed {}-{}, `*`, ranges, steps, \
                 lists{})",
                field.name,
                field.min,
                field.max,
                if field.names.is_empty() {
                    ""
                } else {
                    ", names"
                }
            )));
        }
    }
    Ok(parts.join(" "))
}

/// An IANA-shaped name: `UTC`, `Japan`, `Europe/Paris`, `America/Argentina/Buenos_Aires`
/// (`/`-separated segments of letters, digits, `_`, `-`, `+`, each starting with a letter).
pub(super) fn check_timezone(tz: &str) -> Result<(), ApiError> {
    let segment = |s: &str| {
        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    };
    if tz.len() <= MAX_TIMEZONE && tz.split('/').all(segment) {
        Ok(())
    } else {
        Err(ApiError::unprocessable(format!(
            "timezone must be an IANA time zone name such as UTC or Europe/Paris, not `{tz}`"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions() {
        for ok in [
            "* * * * *",
            "0 9 * * 1-5",
            "*/15 0-6,22-23 1 JAN-mar sun",
            "30 6  * * 7",
            "0 0 31 12 *",
            "5-10/2 * * * *",
        ] {
            assert!(check_cron(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_cron(" 30  6 * * 1 ").unwrap(), "30 6 * * 1");
        for bad in [
            "every day",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "5-1 * * * *",
            "*/0 * * * *",
            "a * * * *",
            ", * * * *",
            "@daily",
        ] {
            let e = check_cron(bad).expect_err(bad);
            assert_eq!(e.status.as_u16(), 422);
        }
        assert!(
            check_cron("every day")
                .unwrap_err()
                .message
                .contains("five fields")
        );
    }

    #[test]
    fn timezones() {
        for ok in [
            "UTC",
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "America/Port-au-Prince",
            "Japan",
        ] {
            assert!(check_timezone(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Europe/", "/Paris", "Europe/Pa ris", "Europe/../x"] {
            assert!(check_timezone(bad).is_err(), "{bad}");
        }
    }
}
