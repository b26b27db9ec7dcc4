//! Turns a validated `GenerateContentRequest` into the provider-neutral
//! conversation, and the outcome into `GenerateContentResponse` JSON.

use serde_json::{json, Map, Value};

use super::contents::{parts, parts_with, role, signature, signs};
use super::json::field;
use super::schema::normalized;
use crate::magic;
use crate::reply::{word_count, Conversation, Finish, Last, Outcome, Tool, ToolChoice, Usage};

/// Cached prompt tokens reported for `MOCK_CACHED` or a `cachedContent`
/// (when the `x-mock-cached-tokens` header does not say otherwise).
pub const MAGIC_CACHED: u64 = 8;

/// Text parts of a content (thoughts included), without function responses.
fn texts(c: &Value) -> Vec<String> {
    parts(c)
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// What the mock reads as a function response's text: its `result`,
/// `output` or `content` string, else the `response` object as JSON.
pub fn response_text(r: &Map<String, Value>) -> String {
    let resp = field(r, "response").cloned().unwrap_or(Value::Null);
    ["result", "output", "content"]
        .iter()
        .find_map(|k| resp.get(k).and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| resp.to_string())
}

fn tools(body: &Map<String, Value>) -> Vec<Tool> {
    let tools = field(body, "tools").and_then(Value::as_array);
    tools
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_object().and_then(|t| field(t, "functionDeclarations")))
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(Value::as_object)
        .map(|d| Tool {
            name: field(d, "name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            schema: field(d, "parameters")
                .map(normalized)
                .or_else(|| field(d, "parametersJsonSchema").cloned())
                .unwrap_or_else(|| json!({})),
        })
        .collect()
}

fn tool_choice(body: &Map<String, Value>) -> ToolChoice {
    let fc = field(body, "toolConfig")
        .and_then(Value::as_object)
        .and_then(|t| field(t, "functionCallingConfig"))
        .and_then(Value::as_object);
    let mode = fc.and_then(|f| field(f, "mode")).and_then(Value::as_str);
    let first = fc
        .and_then(|f| field(f, "allowedFunctionNames"))
        .and_then(|a| a.get(0))
        .and_then(Value::as_str);
    match (mode.map(str::to_ascii_uppercase).as_deref(), first) {
        (Some("NONE"), _) => ToolChoice::None,
        (Some("ANY" | "VALIDATED"), Some(name)) => ToolChoice::Named(name.to_string()),
        _ => ToolChoice::Auto,
    }
}

pub fn generation<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    field(body, "generationConfig")
        .and_then(Value::as_object)
        .and_then(|g| field(g, key))
}

fn stops(body: &Map<String, Value>) -> Vec<String> {
    generation(body, "stopSequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn input_words(body: &Map<String, Value>, contents: &[Value]) -> u64 {
    let system = field(body, "systemInstruction")
        .map(texts)
        .unwrap_or_default();
    let mut words: u64 = system.iter().map(|t| word_count(t)).sum();
    for c in contents {
        words += texts(c).iter().map(|t| word_count(t)).sum::<u64>();
        words += parts_with(c, "functionResponse")
            .map(|r| word_count(&response_text(r)))
            .sum::<u64>();
    }
    words
}

/// Extracts the provider-neutral conversation (`model` from the URL).
pub fn conversation(body: &Map<String, Value>, model: &str) -> Conversation {
    let contents: &[Value] = field(body, "contents")
        .and_then(Value::as_array)
        .map_or(&[], |c| &c[..]);
    let is_user = |c: &&Value| role(c) != "model";
    let last = match contents.last() {
        Some(c) if is_user(&c) => match parts_with(c, "functionResponse").last() {
            Some(r) => Last::ToolResult(response_text(r)),
            None => Last::UserText,
        },
        _ => Last::Other,
    };
    let last_user_text = contents
        .iter()
        .rev()
        .find(|c| is_user(c) && parts_with(c, "functionResponse").next().is_none())
        .map(|c| crate::reply::without_reminders(&texts(c).join(" ")))
        .unwrap_or_default();
    let mut max_tokens = generation(body, "maxOutputTokens").and_then(Value::as_u64);
    if magic::has(&last_user_text, magic::MAX_TOKENS) {
        max_tokens =
            Some(max_tokens.map_or(magic::MAX_TOKENS_WORDS, |m| m.min(magic::MAX_TOKENS_WORDS)));
    }
    Conversation {
        model: model.to_string(),
        last,
        last_user_text,
        input_words: input_words(body, contents),
        tools: tools(body),
        tool_choice: tool_choice(body),
        stops: stops(body),
        max_tokens,
    }
}

/// How the mock answers, after the magic words.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `promptFeedback.blockReason: SAFETY`, no candidates.
    Blocked,
    /// A candidate without content, finished for this reason.
    Filtered(&'static str),
    Outcome(Outcome),
}

pub fn answer(conv: &Conversation, outcome: Outcome) -> Answer {
    let text = &conv.last_user_text;
    if magic::has(text, magic::PROMPT_FILTER) {
        Answer::Blocked
    } else if magic::has(text, magic::CONTENT_FILTER) {
        Answer::Filtered("SAFETY")
    } else if magic::has(text, magic::RECITATION) {
        Answer::Filtered("RECITATION")
    } else {
        Answer::Outcome(outcome)
    }
}

/// The thought text for `thinkingConfig.includeThoughts` (budget not 0).
pub fn thought(body: &Map<String, Value>, model: &str) -> Option<String> {
    let tc = generation(body, "thinkingConfig").and_then(Value::as_object)?;
    let include = field(tc, "includeThoughts") == Some(&Value::Bool(true));
    let budget = field(tc, "thinkingBudget").and_then(Value::as_i64);
    (include && budget != Some(0)).then(|| format!("Mock thinking ✓ for {model}."))
}

pub fn finish_reason(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Text {
            finish: Finish::Length,
            ..
        } => "MAX_TOKENS",
        _ => "STOP",
    }
}

/// The `functionCall` part (with a thought signature on `gemini-3*`).
pub fn call_part(model: &str, name: &str, arguments: &str) -> Value {
    let args: Value = serde_json::from_str(arguments).unwrap_or_else(|_| json!({}));
    let mut part = json!({"functionCall": {"name": name, "args": args}});
    if signs(model) {
        part["thoughtSignature"] = Value::String(signature(name, &args));
    }
    part
}

/// Token counts of one response.
pub struct Counts {
    pub usage: Usage,
    pub thoughts: u64,
}

pub fn usage_json(c: &Counts, candidates: Option<u64>) -> Value {
    let prompt = c.usage.input + c.usage.cached;
    let mut v = json!({
        "promptTokenCount": prompt,
        "totalTokenCount": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    });
    if let Some(out) = candidates {
        v["candidatesTokenCount"] = json!(out);
        v["totalTokenCount"] = json!(prompt + out + c.thoughts);
        if c.thoughts > 0 {
            v["thoughtsTokenCount"] = json!(c.thoughts);
        }
    }
    if c.usage.cached > 0 {
        v["cachedContentTokenCount"] = json!(c.usage.cached);
    }
    v
}

/// A `GenerateContentResponse` with one candidate (or none when blocked).
pub fn response(n: u64, model: &str, candidate: Option<Value>, usage: Value) -> Value {
    let mut v = json!({
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": format!("mock-gemini-{n}"),
    });
    match candidate {
        Some(c) => v["candidates"] = json!([c]),
        None => {
            v["promptFeedback"] = json!({
                "blockReason": "SAFETY",
                "safetyRatings": [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}],
            })
        }
    }
    v
}

/// A candidate: `parts` as content (none when empty), `finish` if done.
pub fn candidate(parts: Vec<Value>, finish: Option<&str>) -> Value {
    let mut c = json!({"index": 0});
    if !parts.is_empty() {
        c["content"] = json!({"parts": parts, "role": "model"});
    }
    if let Some(f) = finish {
        c["finishReason"] = json!(f);
    }
    if finish == Some("SAFETY") {
        c["safetyRatings"] = json!([{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]);
    }
    c
}
