//! Azure OpenAI content-filter annotations and the prompt-filter error.
//!
//! Every completion carries `prompt_filter_results` (streams: in a first
//! chunk with empty `choices`, `id`, `model` and `object`) and each choice
//! `content_filter_results`; all categories are `safe` unless the magic
//! word asked for a filter, which flags `violence` at `medium`.

use serde_json::{json, Value};

use crate::faults::Response;

fn category(flagged: bool) -> Value {
    let severity = if flagged { "medium" } else { "safe" };
    json!({"filtered": flagged, "severity": severity})
}

fn categories(violence: bool) -> Value {
    json!({
        "hate": category(false),
        "self_harm": category(false),
        "sexual": category(false),
        "violence": category(violence),
    })
}

fn detection() -> Value {
    json!({"filtered": false, "detected": false})
}

/// The prompt's annotations (`flagged`: violence filtered).
fn prompt_categories(flagged: bool) -> Value {
    let mut c = categories(flagged);
    c["jailbreak"] = detection();
    c
}

/// `prompt_filter_results` of a request that passed the filter.
pub fn prompt_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": prompt_categories(false)}])
}

/// A choice's `content_filter_results` (`flagged`: its output was filtered).
pub fn choice_results(flagged: bool) -> Value {
    let mut c = categories(flagged);
    c["protected_material_code"] = detection();
    c["protected_material_text"] = detection();
    c
}

/// Annotates a `chat.completion`; `filtered` turns it into a filtered one.
pub fn completion(v: &mut Value, filtered: bool) {
    v["prompt_filter_results"] = prompt_results();
    if let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) {
        for choice in choices {
            choice["content_filter_results"] = choice_results(filtered);
            if filtered {
                choice["finish_reason"] = json!("content_filter");
                choice["message"]["content"] = Value::Null;
            }
        }
    }
}

/// Annotates the chunks of a stream, prepending the prompt-results chunk.
pub fn stream(chunks: Vec<Value>, filtered: bool) -> Vec<Value> {
    let first = json!({
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": prompt_results(),
    });
    let mut out = vec![first];
    for mut chunk in chunks {
        if let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices {
                let has_text = choice["delta"]["content"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty());
                let done = !choice["finish_reason"].is_null();
                choice["content_filter_results"] = match (done, has_text) {
                    (true, _) if filtered => choice_results(true),
                    (false, true) => choice_results(false),
                    _ => json!({}),
                };
                if done && filtered {
                    choice["finish_reason"] = json!("content_filter");
                }
            }
        }
        out.push(chunk);
    }
    out
}

/// The 400 for a prompt the filter blocks (`MOCK_PROMPT_FILTER`).
pub fn prompt_error() -> Response {
    Response::json(
        400,
        &json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": null,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {
                "code": "ResponsibleAIPolicyViolation",
                "content_filter_result": prompt_categories(true),
            },
        }}),
    )
}
