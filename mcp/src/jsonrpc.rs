//! The JSON-RPC checks both transports run before a message reaches the SDK, so that bad input
//! gets the error the JSON-RPC 2.0 spec prescribes instead of silence or a confusing code:
//!
//! * not JSON at all → `-32700` Parse error (`id: null`);
//! * JSON that is not a request, notification or response (a batch, no `jsonrpc`/`method`) →
//!   `-32600` Invalid Request;
//! * a standard MCP method whose params do not have the method's shape (`tools/call` without a
//!   string `name`, `arguments` that is not an object) → `-32602` Invalid params. The SDK would
//!   otherwise read such a request as a custom method and answer "method not found".
//!
//! Notifications never get a reply (JSON-RPC 2.0 §4.1), even malformed ones.

use airbyte_agent_runtime::serde_json::{self, Value, json};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, ErrorCode, JsonRpcMessage};

/// The methods of the MCP revisions served; a request naming one of them that the SDK reads as
/// a custom request had params of the wrong shape.
const STANDARD_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "server/discover",
    "tools/list",
    "tools/call",
    "prompts/list",
    "prompts/get",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "completion/complete",
    "logging/setLevel",
    "subscriptions/listen",
];

/// The outcome of checking one incoming message.
pub enum Checked {
    /// A well-formed message for the SDK.
    Message(Box<ClientJsonRpcMessage>),
    /// Not acceptable: send this error response (a JSON object) and drop the message.
    Reply(Value),
    /// Not acceptable, but a notification (or blank): drop it silently.
    Ignore,
}

fn error(id: Value, code: ErrorCode, message: String) -> Checked {
    Checked::Reply(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code.0, "message": message},
    }))
}

/// Check one message (a stdio line, an HTTP body).
pub fn check(bytes: &[u8]) -> Checked {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Checked::Ignore;
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return error(
                Value::Null,
                ErrorCode::PARSE_ERROR,
                format!("Parse error: the message is not valid JSON ({e})"),
            );
        }
    };
    let id = match value.get("id") {
        Some(v @ (Value::String(_) | Value::Number(_))) => Some(v.clone()),
        _ => None,
    };
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(JsonRpcMessage::Request(req)) => {
            if let ClientRequest::CustomRequest(custom) = &req.request
                && STANDARD_METHODS.contains(&custom.method.as_str())
            {
                return error(
                    id.unwrap_or(Value::Null),
                    ErrorCode::INVALID_PARAMS,
                    format!(
                        "Invalid params: the params of `{}` do not have the shape the method requires",
                        custom.method
                    ),
                );
            }
            Checked::Message(Box::new(JsonRpcMessage::Request(req)))
        }
        Ok(other) => Checked::Message(Box::new(other)),
        Err(e) => match (id, method) {
            // A notification: no reply, whatever is wrong with it.
            (None, Some(_)) => Checked::Ignore,
            (Some(id), Some(m)) if STANDARD_METHODS.contains(&m.as_str()) => error(
                id,
                ErrorCode::INVALID_PARAMS,
                format!("Invalid params for `{m}`: {e}"),
            ),
            (id, _) => error(
                id.unwrap_or(Value::Null),
                ErrorCode::INVALID_REQUEST,
                format!(
                    "Invalid Request: not a JSON-RPC 2.0 request, notification or response ({e})"
                ),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Checked, check};
    use airbyte_agent_runtime::serde_json::Value;

    fn code(bytes: &[u8]) -> (Option<i64>, Value) {
        match check(bytes) {
            Checked::Reply(v) => (v["error"]["code"].as_i64(), v["id"].clone()),
            Checked::Message(_) => (None, Value::Bool(true)),
            Checked::Ignore => (None, Value::Bool(false)),
        }
    }

    #[test]
    fn each_kind_of_bad_input_gets_its_code() {
        assert_eq!(code(b"{not json"), (Some(-32700), Value::Null));
        assert_eq!(code(b"[]").0, Some(-32600));
        assert_eq!(code(br#"{"jsonrpc":"2.0","id":3}"#).0, Some(-32600));
        let (c, id) =
            code(br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":5}}"#);
        assert_eq!((c, id.as_i64()), (Some(-32602), Some(7)));
        let (c, _) = code(
            br#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"x","arguments":[1]}}"#,
        );
        assert_eq!(c, Some(-32602));
        // Good messages and notifications pass; a custom method is the SDK's to answer.
        let ok = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{}}}"#;
        assert_eq!(code(ok), (None, Value::Bool(true)));
        assert_eq!(
            code(br#"{"jsonrpc":"2.0","id":1,"method":"x/y"}"#),
            (None, Value::Bool(true))
        );
        assert_eq!(code(b"  \r"), (None, Value::Bool(false)));
    }
}
