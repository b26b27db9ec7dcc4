//! Turns a validated Messages request into a response (JSON or SSE).

use serde_json::{json, Map, Value};

use crate::reply::{
    byte_pieces, string_of, word_count, word_pieces, Conversation, Finish, Last, Outcome, Tool,
    ToolChoice, Usage,
};

fn text_of_blocks(content: Option<&Value>, include_tool_results: bool) -> Vec<String> {
    match content {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(blocks)) => blocks
            .iter()
            .flat_map(|b| match b.get("type").and_then(Value::as_str) {
                Some("text") => b
                    .get("text")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                Some("tool_result") if include_tool_results => {
                    text_of_blocks(b.get("content"), false)
                }
                _ => Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn last_tool_result(m: &Value) -> Option<String> {
    m.get("content")?
        .as_array()?
        .iter()
        .rev()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
        .map(|b| text_of_blocks(b.get("content"), false).join(" "))
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    body.get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| Tool {
            name: string_of(t.get("name")),
            schema: t.get("input_schema").cloned().unwrap_or_else(|| json!({})),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> ToolChoice {
    let choice = body.get("tool_choice");
    match choice.and_then(|c| c.get("type")).and_then(Value::as_str) {
        Some("none") => ToolChoice::None,
        Some("tool") => ToolChoice::Named(string_of(choice.and_then(|c| c.get("name")))),
        _ => ToolChoice::Auto,
    }
}

/// The user's own text: Claude Code wraps the prompt with
/// `<system-reminder>` blocks, which are left out unless there is nothing
/// else. Directives are searched in all of it (see `magic`).
fn user_text(texts: Vec<String>) -> String {
    let reminder = |t: &String| {
        let t = t.trim_start();
        crate::reply::AGENT_CONTEXT
            .iter()
            .any(|(open, _)| t.starts_with(open))
    };
    let own: Vec<&String> = texts.iter().filter(|t| !reminder(t)).collect();
    if own.is_empty() {
        return texts.join(" ");
    }
    let directives = texts
        .iter()
        .filter(|t| reminder(t))
        .any(|t| crate::magic::directive(t).is_some());
    let mut text = own.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(" ");
    if directives {
        text = texts.join(" ");
    }
    text
}

fn words(texts: &[String]) -> u64 {
    texts.iter().map(|t| word_count(t)).sum()
}

/// Extracts the provider-neutral conversation from a validated body.
pub fn conversation(body: &Map<String, Value>) -> Conversation {
    let msgs: &[Value] = body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], |m| &m[..]);
    let is_user = |m: &&Value| m.get("role").and_then(Value::as_str) == Some("user");
    let is_turn = |m: &&Value| m.get("role").and_then(Value::as_str) != Some("system");
    let input_words = words(&text_of_blocks(body.get("system"), false))
        + msgs
            .iter()
            .map(|m| words(&text_of_blocks(m.get("content"), true)))
            .sum::<u64>();
    let last = match msgs.iter().rev().find(is_turn) {
        Some(m) if is_user(&m) => last_tool_result(m).map_or(Last::UserText, Last::ToolResult),
        _ => Last::Other,
    };
    let last_user_text = msgs
        .iter()
        .rev()
        .find(is_user)
        .map(|m| user_text(text_of_blocks(m.get("content"), false)))
        .unwrap_or_default();
    let stops = body
        .get("stop_sequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    Conversation {
        model: string_of(body.get("model")),
        last,
        last_user_text,
        input_words,
        tools: tools(body),
        tool_choice: tool_choice(body),
        stops,
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
    }
}

fn stop_fields(outcome: &Outcome) -> (&'static str, Value) {
    match outcome {
        Outcome::ToolCall { .. } => ("tool_use", Value::Null),
        Outcome::Text { finish, .. } => match finish {
            Finish::Stop => ("end_turn", Value::Null),
            Finish::Length => ("max_tokens", Value::Null),
            Finish::StopSequence(s) => ("stop_sequence", Value::String(s.clone())),
        },
    }
}

fn usage_json(u: &Usage, output: u64) -> Value {
    json!({
        "input_tokens": u.input,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": u.cached,
        "output_tokens": output,
    })
}

fn tool_input(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|_| json!({}))
}

/// One reply to write, JSON or SSE.
pub struct Reply<'a> {
    pub n: u64,
    pub model: &'a str,
    pub outcome: &'a Outcome,
    pub usage: &'a Usage,
    /// Thinking text when extended thinking is on; signed by the mock.
    pub thinking: Option<String>,
}

/// The non-streaming `message` object.
pub fn message(r: &Reply<'_>) -> Value {
    let (n, outcome, usage) = (r.n, r.outcome, r.usage);
    let main = match outcome {
        Outcome::Text { text, .. } => json!({"type": "text", "text": text}),
        Outcome::ToolCall { name, arguments } => json!({
            "type": "tool_use",
            "id": format!("toolu_mock_{n}"),
            "name": name,
            "input": tool_input(arguments),
        }),
    };
    let mut content = Vec::new();
    if let Some(t) = &r.thinking {
        let sig = super::thinking::signature(t);
        content.push(json!({"type": "thinking", "thinking": t, "signature": sig}));
    }
    content.push(main);
    let (stop_reason, stop_sequence) = stop_fields(outcome);
    json!({
        "id": format!("msg_mock_{n}"),
        "type": "message",
        "role": "assistant",
        "model": r.model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": stop_sequence,
        "usage": usage_json(usage, usage.output),
    })
}

fn event(events: &mut Vec<Vec<u8>>, v: &Value) {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
    events.push(format!("event: {ty}\ndata: {v}\n\n").into_bytes());
}

/// Content block (as started) and its deltas for a streamed outcome.
fn block_and_deltas(n: u64, outcome: &Outcome) -> (Value, Vec<Value>) {
    match outcome {
        Outcome::Text { text, .. } => (
            json!({"type": "text", "text": ""}),
            word_pieces(text)
                .into_iter()
                .map(|p| json!({"type": "text_delta", "text": p}))
                .collect(),
        ),
        Outcome::ToolCall { name, arguments } => (
            json!({"type": "tool_use", "id": format!("toolu_mock_{n}"), "name": name, "input": {}}),
            byte_pieces(arguments, 5)
                .into_iter()
                .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                .collect(),
        ),
    }
}

/// A thinking block streamed as text deltas, then its signature.
fn thinking_block(ev: &mut Vec<Vec<u8>>, text: &str) {
    let start = json!({"type": "thinking", "thinking": "", "signature": ""});
    event(
        ev,
        &json!({"type": "content_block_start", "index": 0, "content_block": start}),
    );
    for p in word_pieces(text) {
        let d = json!({"type": "thinking_delta", "thinking": p});
        event(
            ev,
            &json!({"type": "content_block_delta", "index": 0, "delta": d}),
        );
    }
    let d = json!({"type": "signature_delta", "signature": super::thinking::signature(text)});
    event(
        ev,
        &json!({"type": "content_block_delta", "index": 0, "delta": d}),
    );
    event(ev, &json!({"type": "content_block_stop", "index": 0}));
}

/// The SSE events of a streamed response (`event: <type>\ndata: <json>\n\n`).
pub fn stream(r: &Reply<'_>, stream_error: bool) -> Vec<Vec<u8>> {
    let (n, outcome, usage) = (r.n, r.outcome, r.usage);
    let mut ev = Vec::new();
    let start = json!({
        "id": format!("msg_mock_{n}"), "type": "message", "role": "assistant",
        "model": r.model, "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": usage_json(usage, 1),
    });
    event(&mut ev, &json!({"type": "message_start", "message": start}));
    event(&mut ev, &json!({"type": "ping"}));
    if let Some(t) = &r.thinking {
        thinking_block(&mut ev, t);
    }
    let index = u64::from(r.thinking.is_some());
    let (block, deltas) = block_and_deltas(n, outcome);
    event(
        &mut ev,
        &json!({"type": "content_block_start", "index": index, "content_block": block}),
    );
    for (i, delta) in deltas.into_iter().enumerate() {
        if stream_error && i == 1 {
            break;
        }
        event(
            &mut ev,
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }
    if stream_error {
        let err = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        event(&mut ev, &err);
        return ev;
    }
    event(
        &mut ev,
        &json!({"type": "content_block_stop", "index": index}),
    );
    let (stop_reason, stop_sequence) = stop_fields(outcome);
    event(
        &mut ev,
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": {"output_tokens": usage.output},
        }),
    );
    event(&mut ev, &json!({"type": "message_stop"}));
    ev
}
