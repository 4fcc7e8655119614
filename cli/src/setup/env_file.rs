//! The env file setup writes: keys updated in place, others kept, mode 0600.

use std::io::Write;
use std::path::Path;

use crate::error::CliError;

/// Update `KEY=value` lines in place, append new keys, keep everything else; mode 0600.
pub fn write_env(path: &Path, updates: &[(String, String)]) -> Result<(), CliError> {
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(CliError::Other(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let mut done = vec![false; updates.len()];
    let mut lines: Vec<String> = Vec::new();
    for line in old.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("export ").unwrap_or(t);
        let key = t.split_once('=').map(|(k, _)| k.trim());
        match key.and_then(|k| updates.iter().position(|(u, _)| u == k)) {
            Some(i) if !t.starts_with('#') => {
                if !done[i] {
                    lines.push(format!("{}={}", updates[i].0, quote(&updates[i].1)));
                    done[i] = true;
                }
            }
            _ => lines.push(line.to_string()),
        }
    }
    for (i, (k, v)) in updates.iter().enumerate() {
        if !done[i] {
            lines.push(format!("{k}={}", quote(v)));
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension("airbyte-agent-tmp");
    let write = || -> std::io::Result<()> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| CliError::Other(format!("cannot write {}: {e}", path.display())))
}

fn quote(v: &str) -> String {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@+".contains(c))
    {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_updates_keep_other_keys() {
        let dir = std::env::temp_dir().join(format!("aa-setup-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(".env");
        std::fs::write(
            &p,
            "# mine\nOTHER=1\nAIRBYTE_CLIENT_ID=old\nexport KEEP=\"x y\"\n",
        )
        .unwrap();
        write_env(
            &p,
            &[
                ("AIRBYTE_CLIENT_ID".into(), "new".into()),
                ("NEW_KEY".into(), "a b".into()),
            ],
        )
        .unwrap();
        let t = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            t,
            "# mine\nOTHER=1\nAIRBYTE_CLIENT_ID=new\nexport KEEP=\"x y\"\nNEW_KEY=\"a b\"\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
