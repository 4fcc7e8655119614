//! Printing results: `--output json` (pretty on a terminal, compact in pipes, or `--pretty` /
//! `--compact`), `jsonl` (one record per line) and `table`.

use std::io::{IsTerminal, Write};

use airbyte_agent_runtime::serde_json::{self, Map, Value};

use crate::args::{GlobalArgs, OutputFormat};
use crate::error::CliError;

/// Columns a table shows at most; cells are cut at this many characters.
const MAX_COLUMNS: usize = 12;
const MAX_CELL: usize = 40;

/// How to print.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    format: OutputFormat,
    pretty: Option<bool>,
}

impl Printer {
    /// From the global options.
    pub fn new(global: &GlobalArgs) -> Printer {
        let pretty = if global.pretty {
            Some(true)
        } else if global.compact {
            Some(false)
        } else {
            None
        };
        Printer {
            format: global.output.unwrap_or(OutputFormat::Json),
            pretty,
        }
    }

    /// Print `v` to standard output.
    pub fn print(&self, v: &Value) -> Result<(), CliError> {
        let text = match self.format {
            OutputFormat::Json => {
                let pretty = self
                    .pretty
                    .unwrap_or_else(|| std::io::stdout().is_terminal());
                let mut t = if pretty {
                    serde_json::to_string_pretty(v)
                } else {
                    serde_json::to_string(v)
                }
                .map_err(|e| CliError::Other(format!("cannot print the result: {e}")))?;
                t.push('\n');
                t
            }
            OutputFormat::Jsonl => {
                let mut t = String::new();
                for r in records(v) {
                    let line = serde_json::to_string(r)
                        .map_err(|e| CliError::Other(format!("cannot print the result: {e}")))?;
                    t.push_str(&line);
                    t.push('\n');
                }
                t
            }
            OutputFormat::Table => table(&records(v)),
        };
        write_stdout(&text)
    }
}

/// The records of a result: `data` of a list result, the items of an array, else the value.
fn records(v: &Value) -> Vec<&Value> {
    match v {
        Value::Object(m) => match m.get("data") {
            Some(Value::Array(items)) => items.iter().collect(),
            _ => vec![v],
        },
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn cell(v: Option<&Value>) -> String {
    let text = match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.split_whitespace().collect::<Vec<_>>().join(" "),
        Some(other) => other.to_string(),
    };
    if text.chars().count() > MAX_CELL {
        let mut t: String = text.chars().take(MAX_CELL - 1).collect();
        t.push('…');
        t
    } else {
        text
    }
}

/// An aligned table: one row per record, the records' keys (in first-seen order) as columns;
/// scalars get a single `value` column. No records: no output.
fn table(rows: &[&Value]) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for r in rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !columns.contains(&k.as_str()) && columns.len() < MAX_COLUMNS {
                    columns.push(k);
                }
            }
        }
    }
    let empty = Map::new();
    let cells: Vec<Vec<String>> = if columns.is_empty() {
        columns.push("value");
        rows.iter().map(|r| vec![cell(Some(r))]).collect()
    } else {
        rows.iter()
            .map(|r| {
                let m = r.as_object().unwrap_or(&empty);
                columns.iter().map(|c| cell(m.get(*c))).collect()
            })
            .collect()
    };
    if cells.is_empty() {
        return String::new();
    }
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([c.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |values: Vec<&str>, out: &mut String| {
        let mut l = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(v);
            let pad = widths[i].saturating_sub(v.chars().count());
            l.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    let header: Vec<String> = columns.iter().map(|c| c.to_ascii_uppercase()).collect();
    line(header.iter().map(String::as_str).collect(), &mut out);
    for row in &cells {
        line(row.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// Write `text` to stdout; a closed pipe (`| head`) ends the output quietly.
pub fn write_stdout(text: &str) -> Result<(), CliError> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    lock.write_all(text.as_bytes())
        .and_then(|_| lock.flush())
        .or_else(|e| {
            // A closed pipe (`| head`) is not an error worth reporting.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .map_err(|e| CliError::Other(format!("cannot write the result: {e}")))
}

#[cfg(test)]
mod tests {
    use super::{records, table};
    use airbyte_agent_runtime::serde_json::json;

    #[test]
    fn tables_align_columns_from_every_record() {
        let v = json!({"data": [{"id": "a", "n": 1}, {"id": "bbb", "email": "x@y"}], "meta": {}});
        let t = table(&records(&v));
        assert_eq!(t, "ID   N  EMAIL\na    1\nbbb     x@y\n");
    }

    #[test]
    fn scalars_and_single_records() {
        assert_eq!(table(&records(&json!([1, "two"]))), "VALUE\n1\ntwo\n");
        assert_eq!(table(&records(&json!({"id": "x"}))), "ID\nx\n");
        assert_eq!(table(&records(&json!({"data": []}))), "");
    }
}
