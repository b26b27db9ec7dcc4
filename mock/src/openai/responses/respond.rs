//! A validated Responses request turned into the `response` object and its
//! output items (the stream in `stream` is built from the same pieces).
//!
//! Finish reasons map as the API does: a length cut gives `status:
//! "incomplete"` with `incomplete_details.reason: "max_output_tokens"`; the
//! API has no stop sequences. `text.format` of type `json_schema` makes the
//! text a JSON object with every `required` property of the schema set (the
//! same generator as tool arguments), `json_object` makes it
//! `{"reply": <text>}`.

use serde_json::{json, Map, Value};

use super::input::content_text;
use crate::reply::{
    string_of, tool_arguments, word_count, Conversation, Finish, Last, Outcome, Tool, ToolChoice,
    Usage,
};

pub const CREATED: u64 = 1_700_000_000;

fn items(body: &Map<String, Value>) -> &[Value] {
    body.get("input")
        .and_then(Value::as_array)
        .map_or(&[], |v| &v[..])
}

fn kind(item: &Value) -> &str {
    match item.get("type").and_then(Value::as_str) {
        Some(t) => t,
        None if item.get("role").is_some() => "message",
        None => "",
    }
}

fn is_user_message(item: &Value) -> bool {
    kind(item) == "message" && item.get("role").and_then(Value::as_str) == Some("user")
}

fn output_text(item: &Value) -> String {
    match item.get("output") {
        Some(Value::String(s)) => s.clone(),
        other => content_text(other),
    }
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    let all = body.get("tools").and_then(Value::as_array);
    all.into_iter()
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("function"))
        .map(|t| Tool {
            name: string_of(t.get("name")),
            schema: t.get("parameters").cloned().unwrap_or_else(|| json!({})),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> ToolChoice {
    match body.get("tool_choice") {
        Some(Value::String(s)) if s == "none" => ToolChoice::None,
        Some(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("function") => {
            ToolChoice::Named(string_of(o.get("name")))
        }
        _ => ToolChoice::Auto,
    }
}

/// The provider-neutral conversation of a validated body.
pub fn conversation(body: &Map<String, Value>) -> Conversation {
    let model = string_of(body.get("model"));
    let mut input_words = word_count(&string_of(body.get("instructions")));
    if let Some(Value::String(s)) = body.get("input") {
        return Conversation {
            model,
            last: Last::UserText,
            last_user_text: s.clone(),
            input_words: input_words + word_count(s),
            tools: tools(body),
            tool_choice: tool_choice(body),
            stops: Vec::new(),
            max_tokens: body.get("max_output_tokens").and_then(Value::as_u64),
        };
    }
    let items = items(body);
    for item in items {
        input_words += match kind(item) {
            "message" => word_count(&content_text(item.get("content"))),
            "function_call_output" | "custom_tool_call_output" => word_count(&output_text(item)),
            _ => 0,
        };
    }
    let last = match items.last() {
        Some(i) if kind(i).ends_with("_output") => Last::ToolResult(output_text(i)),
        Some(i) if is_user_message(i) => Last::UserText,
        _ => Last::Other,
    };
    let last_user_text = items
        .iter()
        .rev()
        .find(|i| is_user_message(i))
        .map(|i| content_text(i.get("content")))
        .unwrap_or_default();
    Conversation {
        model,
        last,
        last_user_text,
        input_words,
        tools: tools(body),
        tool_choice: tool_choice(body),
        stops: Vec::new(),
        max_tokens: body.get("max_output_tokens").and_then(Value::as_u64),
    }
}

/// The text as `text.format` asks for it.
pub fn formatted(body: &Map<String, Value>, text: String) -> String {
    let format = body.get("text").and_then(|t| t.get("format"));
    match format.and_then(|f| f.get("type")).and_then(Value::as_str) {
        Some("json_schema") => {
            tool_arguments(format.and_then(|f| f.get("schema")).unwrap_or(&Value::Null))
        }
        Some("json_object") => json!({ "reply": text }).to_string(),
        _ => text,
    }
}

pub fn message_id(n: u64) -> String {
    format!("msg_mock_{n}")
}

pub fn call_item_id(n: u64) -> String {
    format!("fc_mock_{n}")
}

/// With `reasoning` set and `include: ["reasoning.encrypted_content"]` (as
/// Codex sends with `store: false`), a reasoning item comes first: empty
/// `summary`, and `encrypted_content` the mock can verify when the item comes
/// back in a later `input` (see `encrypted`).
pub fn reasoning_item(n: u64, body: &Map<String, Value>) -> Option<Value> {
    body.get("reasoning")?.as_object()?;
    let include = body.get("include")?.as_array()?;
    if !include.iter().any(|i| i == "reasoning.encrypted_content") {
        return None;
    }
    let id = format!("rs_mock_{n}");
    Some(json!({
        "id": id, "type": "reasoning", "summary": [], "encrypted_content": encrypted(&id),
    }))
}

/// The `encrypted_content` the mock issues for reasoning item `id`.
pub fn encrypted(id: &str) -> String {
    format!("mockenc-{:016x}", crate::embedding::fnv1a(id.as_bytes()))
}

/// All finished output items: the reasoning item, if any, then the answer.
pub fn output_items(n: u64, body: &Map<String, Value>, outcome: &Outcome) -> Vec<Value> {
    let mut items: Vec<Value> = reasoning_item(n, body).into_iter().collect();
    items.push(output_item(n, outcome));
    items
}

/// The finished output item of an outcome.
pub fn output_item(n: u64, outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Text { text, .. } => json!({
            "id": message_id(n), "type": "message", "status": "completed", "role": "assistant",
            "content": [text_part(text)],
        }),
        Outcome::ToolCall { name, arguments } => json!({
            "id": call_item_id(n), "type": "function_call", "status": "completed",
            "arguments": arguments, "call_id": format!("call_mock_{n}"), "name": name,
        }),
    }
}

pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

pub fn usage_json(u: &Usage) -> Value {
    let input = u.input + u.cached;
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": u.cached},
        "output_tokens": u.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input + u.output,
    })
}

/// `status` and `incomplete_details` of a finished outcome.
pub fn status(outcome: &Outcome) -> (&'static str, Value) {
    match outcome {
        Outcome::Text {
            finish: Finish::Length,
            ..
        } => ("incomplete", json!({"reason": "max_output_tokens"})),
        _ => ("completed", Value::Null),
    }
}

/// The `response` object; `output`/`usage` null while in progress.
pub fn response(
    n: u64,
    body: &Map<String, Value>,
    status: &str,
    output: Vec<Value>,
    usage: Option<&Usage>,
) -> Value {
    let get = |k: &str, default: Value| body.get(k).cloned().unwrap_or(default);
    let incomplete = if status == "incomplete" {
        json!({"reason": "max_output_tokens"})
    } else {
        Value::Null
    };
    let text = json!({"format": {"type": "text"}, "verbosity": "medium"});
    json!({
        "id": format!("resp_mock_{n}"),
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": false,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": get("instructions", Value::Null),
        "max_output_tokens": get("max_output_tokens", Value::Null),
        "max_tool_calls": get("max_tool_calls", Value::Null),
        "model": get("model", Value::Null),
        "output": output,
        "parallel_tool_calls": get("parallel_tool_calls", Value::Bool(true)),
        "previous_response_id": null,
        "prompt_cache_key": get("prompt_cache_key", Value::Null),
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": get("store", Value::Bool(true)),
        "temperature": get("temperature", json!(1.0)),
        "text": get("text", text),
        "tool_choice": get("tool_choice", json!("auto")),
        "tools": get("tools", json!([])),
        "top_p": get("top_p", json!(1.0)),
        "truncation": get("truncation", json!("disabled")),
        "usage": usage.map_or(Value::Null, usage_json),
        "user": get("user", Value::Null),
        "metadata": get("metadata", json!({})),
    })
}
