//! MCP over stdio: newline-delimited JSON-RPC. The SDK's own line transport drops lines that are
//! not JSON without a reply; this one answers every bad line per JSON-RPC (`jsonrpc.rs`).

use std::future::Future;

use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::error::CliError;
use airbyte_agent_mcp::AgentServer;
use airbyte_agent_mcp::jsonrpc::{Checked, check};

/// The longest line read (one message); longer lines are answered with Invalid Request.
const MAX_LINE: usize = 16 * 1024 * 1024;

/// Lines to write, in order: one writer task owns the output, so a line is written whole even
/// when the future that queued it is dropped.
type Writer = tokio::sync::mpsc::UnboundedSender<Vec<u8>>;

/// Newline-delimited JSON-RPC over a reader and a writer.
pub struct LineTransport<R> {
    read: BufReader<R>,
    /// The line being read; it survives a cancelled `receive` (the SDK drops the future when
    /// another event wins its `select!`), so a partly read message is continued, never lost.
    line: Vec<u8>,
    /// Whether `line` holds a line already handed out (cleared before the next one).
    handed_out: bool,
    write: Writer,
}

impl<R: AsyncRead + Send + Unpin> LineTransport<R> {
    /// Read messages from `read`, write replies to `write`.
    #[cfg(test)]
    fn new(read: R, write: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        Self::with_writer(read, spawn_writer(write).0)
    }

    /// Read messages from `read`, queue replies on `write` (see [`spawn_writer`]).
    fn with_writer(read: R, write: Writer) -> Self {
        LineTransport {
            read: BufReader::new(read),
            line: Vec::new(),
            handed_out: false,
            write,
        }
    }

    /// One line (without its newline); `None` at the end of input or on a read error. A line
    /// longer than [`MAX_LINE`] is skipped and reported as `Some(Err(()))`.
    async fn next_line(&mut self) -> Option<Result<(), ()>> {
        if self.handed_out {
            self.line.clear();
            self.handed_out = false;
        }
        // `read_until` appends what it reads before a cancellation to `line`, and the next call
        // continues from there.
        let limit = u64::try_from(MAX_LINE.saturating_sub(self.line.len())).unwrap_or(u64::MAX);
        let n = (&mut self.read)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .await
            .ok()?;
        if n == 0 && self.line.is_empty() {
            return None;
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
            self.handed_out = true;
            return Some(Ok(()));
        }
        if self.line.len() < MAX_LINE {
            // The last line, without a newline.
            self.handed_out = true;
            return Some(Ok(()));
        }
        self.handed_out = true;
        // Oversized: drop the rest of the line.
        loop {
            let buf = self.read.fill_buf().await.ok()?;
            if buf.is_empty() {
                return Some(Err(()));
            }
            match buf.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.read.consume(i + 1);
                    return Some(Err(()));
                }
                None => {
                    let len = buf.len();
                    self.read.consume(len);
                }
            }
        }
    }
}

/// The task that writes queued lines to `out` until every sender is gone.
fn spawn_writer(
    mut out: impl AsyncWrite + Send + Unpin + 'static,
) -> (Writer, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let task = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if let Err(e) = async {
                out.write_all(&line).await?;
                out.flush().await
            }
            .await
            {
                eprintln!("airbyte-agent mcp: cannot write to stdout: {e}");
                return;
            }
        }
    });
    (tx, task)
}

/// Queue one line (a newline is added).
fn write_line(write: &Writer, mut bytes: Vec<u8>) -> std::io::Result<()> {
    bytes.push(b'\n');
    write
        .send(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdout is closed"))
}

impl<R: AsyncRead + Send + Unpin> Transport<RoleServer> for LineTransport<R> {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let write = self.write.clone();
        async move {
            let bytes =
                airbyte_agent_runtime::serde_json::to_vec(&item).map_err(std::io::Error::other)?;
            write_line(&write, bytes)
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            let reply = match self.next_line().await? {
                Err(()) => Some(airbyte_agent_runtime::serde_json::json!({
                    "jsonrpc": "2.0", "id": null,
                    "error": {"code": -32600, "message": format!("Invalid Request: the message is longer than {MAX_LINE} bytes")},
                })),
                Ok(()) => {
                    let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
                    match check(line) {
                        Checked::Message(m) => return Some(*m),
                        Checked::Reply(v) => Some(v),
                        Checked::Ignore => None,
                    }
                }
            };
            if let Some(v) = reply {
                let bytes = airbyte_agent_runtime::serde_json::to_vec(&v).ok()?;
                // Queued, not awaited: this future may be dropped at any await (see `line`),
                // and a reply cut off there would leave the client waiting forever.
                write_line(&self.write, bytes).ok()?;
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        // Lines already queued are written by the writer task; it ends with the last sender.
        Ok(())
    }
}

/// Serve over stdin/stdout until the client closes stdin.
pub async fn serve(server: AgentServer) -> Result<(), CliError> {
    let (writer, written) = spawn_writer(tokio::io::stdout());
    let transport = LineTransport::with_writer(tokio::io::stdin(), writer);
    let running = server
        .serve(transport)
        .await
        .map_err(|e| CliError::Other(format!("MCP initialisation failed: {e}")))?;
    let done = running
        .waiting()
        .await
        .map_err(|e| CliError::Other(format!("MCP server failed: {e}")));
    // The transport is gone with the service: the writer drains what is queued, then ends.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), written).await;
    done.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The SDK drops `receive` when another event wins its `select!`; a message whose first
    /// half had already been read must still arrive whole.
    #[tokio::test]
    async fn a_cancelled_receive_loses_no_bytes() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut t = LineTransport::new(server, tokio::io::sink());
        let msg = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
        let (first, rest) = msg.split_at(20);
        client.write_all(first).await.expect("write");
        let cancelled = tokio::time::timeout(Duration::from_millis(50), t.receive()).await;
        assert!(cancelled.is_err(), "half a line is no message");
        client.write_all(rest).await.expect("write");
        client.write_all(b"\n").await.expect("write");
        let m = tokio::time::timeout(Duration::from_secs(5), t.receive())
            .await
            .expect("the message arrives")
            .expect("a message");
        let v = airbyte_agent_runtime::serde_json::to_value(&m).expect("json");
        assert_eq!(v["method"], "tools/list", "{v}");
        assert_eq!(v["id"], 1, "{v}");
    }

    /// A reply the transport writes itself (to a line that is not a valid message) reaches the
    /// client even when `receive` is dropped right after reading that line.
    #[tokio::test]
    async fn replies_to_bad_lines_survive_a_cancelled_receive() {
        let (mut client, server) = tokio::io::duplex(4096);
        let (out_r, out_w) = tokio::io::duplex(4096);
        let mut t = LineTransport::new(server, out_w);
        client.write_all(b"{not json\n").await.expect("write");
        // Dropped while (or right after) the bad line is handled.
        let _ = tokio::time::timeout(Duration::from_millis(1), t.receive()).await;
        let mut lines = tokio::io::BufReader::new(out_r).lines();
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .expect("a reply arrives")
            .expect("read")
            .expect("a line");
        assert!(line.contains("-32700"), "{line}");
    }
}
