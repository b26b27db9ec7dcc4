//! Requests and provider answers shared by the flow tests.

use serde_json::json;

use super::router::{respond, Answer};

/// A chat request body for `model`.
pub fn chat(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

/// OpenAI's JSON answer, text "from openai".
pub fn openai_ok() -> Answer {
    let body = json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "from openai"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

/// Anthropic's JSON answer, text "from anthropic".
pub fn anthropic_ok() -> Answer {
    let body = json!({"id": "m1", "type": "message", "role": "assistant", "model": "claude-x",
        "content": [{"type": "text", "text": "from anthropic"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 4, "output_tokens": 6}});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}
