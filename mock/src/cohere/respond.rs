//! A validated `/v2/chat` body → the provider-neutral conversation and the
//! computed answer.

use serde_json::{Map, Value};

use crate::magic;
use crate::reply::{self, word_count, Conversation, Last, Outcome, Tool, ToolChoice, Usage};

/// Cached prompt tokens reported for `MOCK_CACHED` (when the
/// `x-mock-cached-tokens` header does not say otherwise).
pub const MAGIC_CACHED: u64 = 8;

/// Prompt tokens Cohere's chat template adds to what was sent.
pub const TEMPLATE_TOKENS: u64 = 6;

/// Everything needed to render one answer.
pub struct Built {
    pub n: u64,
    pub outcome: Outcome,
    pub thinking: Option<String>,
    pub usage: Usage,
}

/// The text of a content (string, or its text/thinking blocks).
fn text_of(c: Option<&Value>) -> String {
    match c {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            texts.join(" ")
        }
        _ => String::new(),
    }
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    let list = body.get("tools").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .filter_map(|t| t.get("function"))
        .map(|f| Tool {
            name: reply::string_of(f.get("name")),
            schema: f.get("parameters").cloned().unwrap_or(Value::Null),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>, tools: &[Tool]) -> ToolChoice {
    match body.get("tool_choice").and_then(Value::as_str) {
        Some("NONE") => ToolChoice::None,
        Some("REQUIRED") => tools
            .first()
            .map_or(ToolChoice::Auto, |t| ToolChoice::Named(t.name.clone())),
        _ => ToolChoice::Auto,
    }
}

/// Extracts the provider-neutral conversation.
pub fn conversation(body: &Map<String, Value>) -> Conversation {
    let messages: &[Value] = body
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[], |m| &m[..]);
    let last = match messages.last() {
        Some(m) if role(m) == "user" => Last::UserText,
        Some(m) if role(m) == "tool" => Last::ToolResult(text_of(m.get("content"))),
        _ => Last::Other,
    };
    let last_user_text = messages
        .iter()
        .rev()
        .find(|m| role(m) == "user")
        .map(|m| crate::reply::without_reminders(&text_of(m.get("content"))))
        .unwrap_or_default();
    let input_words = messages
        .iter()
        .map(|m| word_count(&text_of(m.get("content"))))
        .sum();
    let mut max_tokens = body.get("max_tokens").and_then(Value::as_u64);
    if magic::has(&last_user_text, magic::MAX_TOKENS) {
        max_tokens =
            Some(max_tokens.map_or(magic::MAX_TOKENS_WORDS, |m| m.min(magic::MAX_TOKENS_WORDS)));
    }
    let tools = tools(body);
    Conversation {
        model: reply::string_of(body.get("model")),
        last,
        last_user_text,
        input_words,
        tool_choice: tool_choice(body, &tools),
        tools,
        stops: body
            .get("stop_sequences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        max_tokens,
    }
}

/// Computes the answer and its usage.
pub fn build(n: u64, body: &Map<String, Value>, cached_header: u64) -> Built {
    let conv = conversation(body);
    let outcome = reply::compute(&conv);
    let cached = match cached_header {
        0 if magic::has(&conv.last_user_text, magic::CACHED) => MAGIC_CACHED,
        c => c,
    };
    let thinking = body
        .get("thinking")
        .and_then(|t| t.get("type"))
        .filter(|t| *t == "enabled")
        .map(|_| format!("Mock thinking ✓ for {}.", conv.model));
    let mut usage = reply::usage(&conv, &outcome, cached);
    usage.output += thinking.as_deref().map_or(0, word_count);
    Built {
        n,
        outcome,
        thinking,
        usage,
    }
}
