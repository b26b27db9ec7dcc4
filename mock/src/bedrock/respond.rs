//! Turns a validated Converse request into the provider-neutral
//! conversation, and the computed answer into a `ConverseResponse`.
//!
//! Bedrock's `inputTokens` counts only the uncached prompt; cache reads and
//! writes are reported beside it and `totalTokens` is the sum of all four.

use serde_json::{json, Map, Value};

use crate::embedding::base64;
use crate::faults::Faults;
use crate::magic;
use crate::reply::{self, word_count, Conversation, Finish, Last, Outcome, Tool, ToolChoice};

/// Cache tokens reported for `MOCK_CACHED` (read) or a `cachePoint` (write).
pub const MAGIC_CACHED: u64 = 8;

/// The text Bedrock Guardrails answers with when they block a prompt.
pub const GUARDRAIL_TEXT: &str = "Sorry, the model cannot answer this question.";

/// Constant, so responses stay deterministic.
pub const LATENCY_MS: u64 = 42;

/// How the mock answers, after the magic words.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `guardrail_intervened` with the guardrail's text.
    Guardrail,
    /// `content_filtered`, no content.
    Filtered,
    Outcome(Outcome),
}

/// Everything needed to render one answer (whole or streamed).
#[derive(Debug, Clone)]
pub struct Built {
    pub n: u64,
    pub answer: Answer,
    /// Reasoning text and its signature (`thinking` enabled).
    pub reasoning: Option<(String, String)>,
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    /// A server tool ran first (`MOCK_SERVER_TOOL`): its use and result
    /// come before the answer.
    pub server_tool: bool,
}

/// The system tool the mock runs for `MOCK_SERVER_TOOL`.
pub const SERVER_TOOL: &str = "nova_code_interpreter";
/// The code it runs and what that prints.
pub const SERVER_CODE: &str = "print(6 * 7)";
pub const SERVER_OUTPUT: &str = "42\n";

/// The id of the server tool use of response `n`.
pub fn server_tool_id(n: u64) -> String {
    format!("tooluse_srv{n:012}")
}

/// The server tool's result block content (stdout, stderr, exit code).
pub fn server_result() -> Value {
    json!([{"json": {"stdOut": SERVER_OUTPUT, "stdErr": "", "exitCode": 0, "isError": false}}])
}

/// The blocks of a message (or of `system`).
pub fn blocks(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], |a| a.as_slice())
}

fn content(m: &Value) -> &[Value] {
    blocks(m.get("content"))
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

/// What the mock reads as a tool result's text: its text blocks joined,
/// else its JSON blocks serialized.
pub fn result_text(result: &Value) -> String {
    let parts: Vec<String> = blocks(result.get("content"))
        .iter()
        .filter_map(|c| match (c.get("text"), c.get("json")) {
            (Some(Value::String(t)), _) => Some(t.clone()),
            (_, Some(j)) => Some(j.to_string()),
            _ => None,
        })
        .collect();
    parts.join(" ")
}

fn texts(blocks: &[Value]) -> Vec<&str> {
    blocks
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect()
}

fn words_of(blocks: &[Value]) -> u64 {
    let text: u64 = texts(blocks).iter().map(|t| word_count(t)).sum();
    let results: u64 = blocks
        .iter()
        .filter_map(|b| b.get("toolResult"))
        .map(|r| word_count(&result_text(r)))
        .sum();
    text + results
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    let tools = body.get("toolConfig").and_then(|t| t.get("tools"));
    blocks(tools)
        .iter()
        .filter_map(|t| t.get("toolSpec"))
        .map(|spec| Tool {
            name: reply::string_of(spec.get("name")),
            schema: spec
                .get("inputSchema")
                .and_then(|s| s.get("json"))
                .cloned()
                .unwrap_or_else(|| json!({})),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> ToolChoice {
    let choice = body.get("toolConfig").and_then(|t| t.get("toolChoice"));
    match choice
        .and_then(|c| c.get("tool"))
        .and_then(|t| t.get("name"))
    {
        Some(Value::String(name)) => ToolChoice::Named(name.clone()),
        _ => ToolChoice::Auto,
    }
}

fn inference<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get("inferenceConfig").and_then(|c| c.get(key))
}

/// Extracts the provider-neutral conversation (`model` from the URL).
pub fn conversation(body: &Map<String, Value>, model: &str) -> Conversation {
    let messages = blocks(body.get("messages"));
    let is_result = |m: &Value| content(m).iter().any(|b| b.get("toolResult").is_some());
    let last = match messages.last() {
        Some(m) if role(m) == "user" => {
            match content(m).iter().rev().find_map(|b| b.get("toolResult")) {
                Some(r) => Last::ToolResult(result_text(r)),
                None => Last::UserText,
            }
        }
        _ => Last::Other,
    };
    let last_user_text = messages
        .iter()
        .rev()
        .find(|m| role(m) == "user" && !is_result(m))
        .map(|m| crate::reply::without_reminders(&texts(content(m)).join(" ")))
        .unwrap_or_default();
    let mut max_tokens = inference(body, "maxTokens").and_then(Value::as_u64);
    if magic::has(&last_user_text, magic::MAX_TOKENS) {
        max_tokens =
            Some(max_tokens.map_or(magic::MAX_TOKENS_WORDS, |m| m.min(magic::MAX_TOKENS_WORDS)));
    }
    let stops = blocks(inference(body, "stopSequences"))
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let input_words = words_of(blocks(body.get("system")))
        + messages.iter().map(|m| words_of(content(m))).sum::<u64>();
    Conversation {
        model: model.to_string(),
        last,
        last_user_text,
        input_words,
        tools: tools(body),
        tool_choice: tool_choice(body),
        stops,
        max_tokens,
    }
}

/// The mock's signature of a reasoning text (checked when it comes back).
pub fn signature(text: &str) -> String {
    base64(format!("mock-bedrock-reasoning:{text}").as_bytes())
}

/// Whether `additionalModelRequestFields.thinking` turns reasoning on.
pub fn thinking(body: &Map<String, Value>) -> bool {
    let thinking = body
        .get("additionalModelRequestFields")
        .and_then(|f| f.get("thinking"));
    thinking.and_then(|t| t.get("type")).and_then(Value::as_str) == Some("enabled")
}

fn has_cache_point(body: &Map<String, Value>) -> bool {
    let in_system = blocks(body.get("system"))
        .iter()
        .any(|b| b.get("cachePoint").is_some());
    let in_messages = blocks(body.get("messages"))
        .iter()
        .any(|m| content(m).iter().any(|b| b.get("cachePoint").is_some()));
    in_system || in_messages
}

/// Computes the answer and its token counts.
pub fn build(n: u64, model: &str, body: &Map<String, Value>, faults: &Faults) -> Built {
    let conv = conversation(body, model);
    let outcome = reply::compute(&conv);
    let text = &conv.last_user_text;
    let cache_read = match faults.cached_tokens {
        0 if magic::has(text, magic::CACHED) => MAGIC_CACHED,
        n => n,
    };
    let cache_write = if cache_read == 0 && has_cache_point(body) {
        MAGIC_CACHED
    } else {
        0
    };
    let usage = reply::usage(&conv, &outcome, cache_read);
    let answer = if magic::has(text, magic::PROMPT_FILTER) {
        Answer::Guardrail
    } else if magic::has(text, magic::CONTENT_FILTER) {
        Answer::Filtered
    } else {
        Answer::Outcome(outcome)
    };
    let reasoning = (thinking(body) && matches!(answer, Answer::Outcome(_))).then(|| {
        let t = format!("Mock thinking ✓ for {model}.");
        let sig = signature(&t);
        (t, sig)
    });
    let thoughts = reasoning.as_ref().map_or(0, |(t, _)| word_count(t));
    let output = match answer {
        Answer::Outcome(_) => usage.output + thoughts,
        Answer::Guardrail | Answer::Filtered => 0,
    };
    Built {
        n,
        answer,
        reasoning,
        input: usage.input,
        output,
        cache_read,
        cache_write,
        server_tool: magic::has(text, magic::SERVER_TOOL),
    }
}

pub fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Guardrail => "guardrail_intervened",
        Answer::Filtered => "content_filtered",
        Answer::Outcome(Outcome::ToolCall { .. }) => "tool_use",
        Answer::Outcome(Outcome::Text { finish, .. }) => match finish {
            Finish::Stop => "end_turn",
            Finish::StopSequence(_) => "stop_sequence",
            Finish::Length => "max_tokens",
        },
    }
}

pub fn tool_use_id(n: u64) -> String {
    format!("tooluse_mock{n:012}")
}

pub fn usage_json(b: &Built) -> Value {
    let total = b.input + b.output + b.cache_read + b.cache_write;
    let mut v = json!({"inputTokens": b.input, "outputTokens": b.output, "totalTokens": total});
    if b.cache_read > 0 || b.cache_write > 0 {
        v["cacheReadInputTokens"] = json!(b.cache_read);
        v["cacheWriteInputTokens"] = json!(b.cache_write);
    }
    v
}

/// The arguments of a tool call as a JSON object.
pub fn tool_input(arguments: &str) -> Value {
    serde_json::from_str(arguments).unwrap_or_else(|_| json!({}))
}

/// The content blocks of the whole answer.
pub fn content_blocks(b: &Built) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some((text, sig)) = &b.reasoning {
        out.push(json!({"reasoningContent": {"reasoningText": {"text": text, "signature": sig}}}));
    }
    if b.server_tool {
        let id = server_tool_id(b.n);
        out.push(json!({"toolUse": {"toolUseId": id, "name": SERVER_TOOL,
                                    "type": "server_tool_use", "input": {"code": SERVER_CODE}}}));
        out.push(
            json!({"toolResult": {"toolUseId": id, "type": "nova_code_interpreter_result",
                                       "status": "success", "content": server_result()}}),
        );
    }
    match &b.answer {
        Answer::Guardrail => out.push(json!({"text": GUARDRAIL_TEXT})),
        Answer::Filtered => {}
        Answer::Outcome(Outcome::Text { text, .. }) => out.push(json!({"text": text})),
        Answer::Outcome(Outcome::ToolCall { name, arguments }) => out.push(json!({"toolUse": {
            "toolUseId": tool_use_id(b.n), "name": name, "input": tool_input(arguments),
        }})),
    }
    out
}

/// The `ConverseResponse`.
pub fn full(b: &Built) -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": content_blocks(b)}},
        "stopReason": stop_reason(&b.answer),
        "usage": usage_json(b),
        "metrics": {"latencyMs": LATENCY_MS},
    })
}
