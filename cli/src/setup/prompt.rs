//! Prompts of the guided setup: plain lines, and secrets read without echo on a terminal.

use std::io::{BufRead, Write};

use airbyte_agent_runtime::SecretString;

use crate::error::CliError;

pub struct Io {
    pub tty: bool,
    pub yes: bool,
    pub stdin: std::io::StdinLock<'static>,
}

impl Io {
    pub fn say(&self, s: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{s}");
        let _ = out.flush();
    }

    pub fn prompt(&self, s: &str) {
        let mut out = std::io::stdout().lock();
        let _ = write!(out, "{s}");
        let _ = out.flush();
    }

    pub fn need(&self, what: &str, hint: &str) -> CliError {
        CliError::Usage(format!(
            "{what} is needed but --yes forbids prompting; {hint}"
        ))
    }

    pub fn line(&mut self, question: &str, hint: &str) -> Result<String, CliError> {
        if self.yes {
            return Err(self.need(question, hint));
        }
        self.prompt(&format!("{question}: "));
        let mut s = String::new();
        let n = self
            .stdin
            .read_line(&mut s)
            .map_err(|e| CliError::Other(format!("cannot read input: {e}")))?;
        if n == 0 {
            return Err(CliError::Usage(format!(
                "input ended while asking for {question}; {hint}"
            )));
        }
        if !self.tty {
            self.say("");
        }
        Ok(s.trim().to_string())
    }

    pub fn secret(&mut self, question: &str, hint: &str) -> Result<SecretString, CliError> {
        if self.yes {
            return Err(self.need(question, hint));
        }
        if self.tty {
            let v = read_hidden(|| self.prompt(&format!("{question} (input hidden): ")))
                .map_err(|e| CliError::Other(format!("cannot read from the terminal: {e}")))?;
            return Ok(SecretString::from(v.trim().to_string()));
        }
        self.prompt(&format!("{question} (input hidden): "));
        let mut s = String::new();
        let n = self
            .stdin
            .read_line(&mut s)
            .map_err(|e| CliError::Other(format!("cannot read input: {e}")))?;
        if n == 0 {
            return Err(CliError::Usage(format!(
                "input ended while asking for {question}; {hint}"
            )));
        }
        self.say("");
        Ok(SecretString::from(s.trim().to_string()))
    }
}

/// Read one line from the terminal without echo. Echo is switched off *before* the prompt is
/// shown, so nothing typed right after the prompt appears can be echoed.
#[cfg(unix)]
fn read_hidden(prompt: impl FnOnce()) -> std::io::Result<String> {
    use std::io::BufRead;
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let fd = tty.as_raw_fd();
    // SAFETY: `termios` is plain data; tcgetattr fills it for a valid, open terminal fd.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` stays open for the lifetime of `tty`; `term` is a valid out-pointer.
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; `term` was obtained from tcgetattr.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    prompt();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restores the settings read above on the same fd.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.map(|_| line)
}

#[cfg(not(unix))]
fn read_hidden(prompt: impl FnOnce()) -> std::io::Result<String> {
    prompt();
    rpassword::read_password()
}
