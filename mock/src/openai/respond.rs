//! Turns a validated chat completion request into a response (JSON or SSE).

use serde_json::{json, Map, Value};

use crate::reply::{
    byte_pieces, string_of, word_count, word_pieces, Conversation, Finish, Last, Outcome, Tool,
    ToolChoice, Usage,
};

const CREATED: u64 = 1_700_000_000;
const FINGERPRINT: &str = "fp_mock";

/// Text of a message `content` (string, or text parts joined by a space).
pub fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    body.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("function"))
        .map(|f| Tool {
            name: string_of(f.get("name")),
            schema: f.get("parameters").cloned().unwrap_or_else(|| json!({})),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> ToolChoice {
    match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::None,
        Some(Value::Object(o)) => {
            ToolChoice::Named(string_of(o.get("function").and_then(|f| f.get("name"))))
        }
        _ => ToolChoice::Auto,
    }
}

fn stops(body: &Map<String, Value>) -> Vec<String> {
    match body.get("stop") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Extracts the provider-neutral conversation from a validated body.
pub fn conversation(body: &Map<String, Value>) -> Conversation {
    let msgs: &[Value] = body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], |m| &m[..]);
    let role = |m: &Value| string_of(m.get("role"));
    let input_words = msgs
        .iter()
        .map(|m| word_count(&content_text(m.get("content"))))
        .sum();
    // System and developer messages may come after the turn being answered
    // (Claude Code's per-turn system messages, translated in place): the
    // turn is the last other message.
    let turn = msgs
        .iter()
        .rev()
        .find(|m| !matches!(role(m).as_str(), "system" | "developer"));
    let last = match turn {
        Some(m) if role(m) == "tool" => Last::ToolResult(content_text(m.get("content"))),
        Some(m) if role(m) == "user" => Last::UserText,
        _ => Last::Other,
    };
    let last_user_text = msgs
        .iter()
        .rev()
        .find(|m| role(m) == "user")
        .map(|m| crate::reply::without_reminders(&content_text(m.get("content"))))
        .unwrap_or_default();
    let max_tokens = body
        .get("max_completion_tokens")
        .and_then(Value::as_u64)
        .or_else(|| body.get("max_tokens").and_then(Value::as_u64));
    Conversation {
        model: string_of(body.get("model")),
        last,
        last_user_text,
        input_words,
        tools: tools(body),
        tool_choice: tool_choice(body),
        stops: stops(body),
        max_tokens,
    }
}

fn finish_reason(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::ToolCall { .. } => "tool_calls",
        Outcome::Text {
            finish: Finish::Length,
            ..
        } => "length",
        Outcome::Text { .. } => "stop",
    }
}

pub fn usage_json(u: &Usage) -> Value {
    let prompt = u.input + u.cached;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": u.output,
        "total_tokens": prompt + u.output,
        "prompt_tokens_details": {"cached_tokens": u.cached},
        "completion_tokens_details": {"reasoning_tokens": 0},
    })
}

/// The non-streaming `chat.completion` object.
pub fn completion(n: u64, model: &str, outcome: &Outcome, usage: &Usage) -> Value {
    let message = match outcome {
        Outcome::Text { text, .. } => json!({
            "role": "assistant", "content": text, "refusal": null,
        }),
        Outcome::ToolCall { name, arguments } => json!({
            "role": "assistant",
            "content": null,
            "refusal": null,
            "tool_calls": [{
                "id": format!("call_mock_{n}"),
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }],
        }),
    };
    json!({
        "id": format!("chatcmpl-mock-{n}"),
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(outcome),
        }],
        "usage": usage_json(usage),
    })
}

/// Options of a streamed response.
pub struct StreamOpts {
    pub include_usage: bool,
    pub stream_error: bool,
}

struct ChunkWriter<'a> {
    n: u64,
    model: &'a str,
    include_usage: bool,
    events: Vec<Value>,
}

impl ChunkWriter<'_> {
    fn push_value(&mut self, v: &Value) {
        self.events.push(v.clone());
    }

    fn chunk(&mut self, delta: Value, finish: Option<&str>) {
        let mut v = json!({
            "id": format!("chatcmpl-mock-{}", self.n),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if self.include_usage {
            v["usage"] = Value::Null;
        }
        self.push_value(&v);
    }
}

/// First delta and following deltas of a streamed outcome.
fn deltas(n: u64, outcome: &Outcome) -> (Value, Vec<Value>) {
    match outcome {
        Outcome::Text { text, .. } => (
            json!({"role": "assistant", "content": ""}),
            word_pieces(text)
                .into_iter()
                .map(|p| json!({"content": p}))
                .collect(),
        ),
        Outcome::ToolCall { name, arguments } => {
            let call = json!({
                "index": 0, "id": format!("call_mock_{n}"), "type": "function",
                "function": {"name": name, "arguments": ""},
            });
            (
                json!({"role": "assistant", "content": null, "tool_calls": [call]}),
                byte_pieces(arguments, 5)
                    .into_iter()
                    .map(|p| json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}))
                    .collect(),
            )
        }
    }
}

/// One SSE event: `data: <json>\n\n`.
pub fn event(v: &Value) -> Vec<u8> {
    format!("data: {v}\n\n").into_bytes()
}

/// The SSE events of a streamed response, each `data: ...\n\n`, ending
/// with `data: [DONE]` unless the stream fails.
pub fn stream(
    n: u64,
    model: &str,
    outcome: &Outcome,
    usage: &Usage,
    opts: &StreamOpts,
) -> Vec<Vec<u8>> {
    render(&chunks(n, model, outcome, usage, opts), opts.stream_error)
}

/// Chunks as SSE events, with `[DONE]` after them unless the stream fails.
pub fn render(chunks: &[Value], stream_error: bool) -> Vec<Vec<u8>> {
    let mut events: Vec<Vec<u8>> = chunks.iter().map(event).collect();
    if !stream_error {
        events.push(b"data: [DONE]\n\n".to_vec());
    }
    events
}

/// The stream options of a validated body.
pub fn stream_opts(body: &Map<String, Value>, stream_error: bool) -> StreamOpts {
    let include_usage = body
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        == Some(&Value::Bool(true));
    StreamOpts {
        include_usage,
        stream_error,
    }
}

/// The JSON data of each event of a streamed response (without `[DONE]`);
/// with `stream_error` the last one is the error.
pub fn chunks(
    n: u64,
    model: &str,
    outcome: &Outcome,
    usage: &Usage,
    opts: &StreamOpts,
) -> Vec<Value> {
    let mut w = ChunkWriter {
        n,
        model,
        include_usage: opts.include_usage,
        events: Vec::new(),
    };
    let (first, rest) = deltas(n, outcome);
    w.chunk(first, None);
    for (i, delta) in rest.into_iter().enumerate() {
        if opts.stream_error && i == 1 {
            break;
        }
        w.chunk(delta, None);
    }
    if opts.stream_error {
        let err = json!({"error": {"message": "mock stream error", "type": "server_error", "code": null}});
        w.push_value(&err);
        return w.events;
    }
    w.chunk(json!({}), Some(finish_reason(outcome)));
    if opts.include_usage {
        let v = json!({
            "id": format!("chatcmpl-mock-{n}"),
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [],
            "usage": usage_json(usage),
        });
        w.push_value(&v);
    }
    w.events
}
