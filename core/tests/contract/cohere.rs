//! `type: "cohere"`: Cohere API v2 `/v2/chat`.

use modelmux_core::config::Provider;
use modelmux_core::dialect::Dialect;
use serde_json::{json, Value};

use crate::cases::{
    ErrorCase, RequestCase, ResponseCase, StreamCase, DEVELOPER_TEXT, IMAGE_URL, PNG_BASE64,
    SYSTEM_TEXT,
};
use crate::support::{
    instruction_words, non_empty, system_words, Check, Contract, ErrorWant, Fixture, OwnError,
    RequestCheck, Support, Upstream,
};

pub struct Cohere;

const ROLES: &[&str] = &["system", "user", "assistant", "tool"];

fn roles(body: &Value) -> Vec<&str> {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["role"].as_str().unwrap_or("?"))
        .collect()
}

fn message(body: &Value, i: usize) -> &Value {
    &body["messages"][i]
}

fn user_text(up: &Upstream, text: &str) -> Check {
    ensure_eq!(roles(&up.body), vec!["user"], "roles");
    ensure_eq!(message(&up.body, 0)["content"], text, "user content");
    Ok(())
}

fn capital_question(up: &Upstream) -> Check {
    user_text(up, "What is the capital of France?")
}

fn call(id: &str, city: &str) -> Value {
    json!({"id": id, "type": "function", "function": {
        "name": "get_weather", "arguments": json!({"city": city}).to_string()}})
}

fn image_block(up: &Upstream) -> &Value {
    &message(&up.body, 0)["content"][1]
}

/// The upstream body with one-text-part contents as strings and image
/// `detail` dropped: a Messages or Responses client's text arrives as
/// parts (Cohere takes both), and Messages cannot say `detail`.
fn as_from_chat(up: &Upstream) -> Upstream {
    let mut body = up.body.clone();
    for m in body["messages"].as_array_mut().into_iter().flatten() {
        let content = &mut m["content"];
        if let Some([only]) = content.as_array().map(Vec::as_slice) {
            if only["type"] == "text" {
                *content = only["text"].clone();
            }
        }
        for p in content.as_array_mut().into_iter().flatten() {
            if let Some(img) = p.get_mut("image_url").and_then(Value::as_object_mut) {
                img.entry("detail").or_insert(json!("low"));
            }
        }
    }
    Upstream {
        path: up.path.clone(),
        headers: up.headers.clone(),
        body,
        client: up.client.clone(),
        sent: up.sent.clone(),
    }
}

/// The chat declaration's check of `case`, on [`as_from_chat`].
fn chat_check(case: RequestCase, up: &Upstream) -> Check {
    match Cohere::request(case) {
        Support::Yes(check) => check(&as_from_chat(up)),
        other => Err(format!("the chat declaration is not a check: {other:?}")),
    }
}

/// The instructions of the system-and-developer case, word for word,
/// however they are packaged.
fn instructions_in_words(up: &Upstream) -> Check {
    let texts: Vec<&str> = up.body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "system")
        .map(|m| m["content"].as_str().unwrap_or("?"))
        .collect();
    ensure_eq!(system_words(&texts), instruction_words(), "system words");
    Ok(())
}

impl Contract for Cohere {
    const NAME: &'static str = "cohere";
    const KIND: &'static str = "cohere";
    const REASONING_TOKENS: bool = false;

    fn provider() -> Provider {
        Provider::new("co", "cohere", "api.cohere.com").with_key("co-test")
    }

    /// `/v2/chat` with a Bearer key; a non-empty `messages` of Cohere's
    /// roles with a non-system turn; tool turns name their call.
    fn accepts(up: &Upstream) -> Check {
        ensure_eq!(up.path, "/v2/chat", "path");
        ensure_eq!(up.header("authorization"), Some("Bearer co-test"), "auth");
        ensure_eq!(up.body["model"], "upstream-model", "model");
        let messages = non_empty(&up.body["messages"], "messages")?;
        for (i, m) in messages.iter().enumerate() {
            let role = m["role"].as_str().unwrap_or("?");
            ensure!(ROLES.contains(&role), "messages[{i}].role is {role}");
            if role == "tool" {
                ensure!(
                    m["tool_call_id"].is_string(),
                    "messages[{i}] has no tool_call_id"
                );
            }
        }
        ensure!(
            roles(&up.body).iter().any(|r| *r != "system"),
            "only system turns"
        );
        Ok(())
    }

    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        if dialect == Dialect::OpenAiChat {
            return Self::request(case);
        }
        match case {
            C::SystemAndDeveloper if dialect == Dialect::AnthropicMessages => {
                Support::Yes(instructions_in_words as RequestCheck)
            }
            C::Text => Support::Yes(|up| chat_check(C::Text, up)),
            C::Streaming => Support::Yes(|up| chat_check(C::Streaming, up)),
            C::JsonObject => Support::Yes(|up| chat_check(C::JsonObject, up)),
            C::ImageDataUrl => Support::Yes(|up| chat_check(C::ImageDataUrl, up)),
            C::ImageHttpsUrl => Support::Yes(|up| chat_check(C::ImageHttpsUrl, up)),
            _ => Self::request(case),
        }
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        match case {
            C::Text => Support::Yes(capital_question),
            C::MultiTurn => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                ensure_eq!(message(&up.body, 1)["content"], "7");
                Ok(())
            }),
            C::SystemAndDeveloper => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["system", "system", "user"], "roles");
                ensure_eq!(message(&up.body, 0)["content"], SYSTEM_TEXT);
                ensure_eq!(message(&up.body, 1)["content"], DEVELOPER_TEXT);
                Ok(())
            }),
            C::Tools => Support::Yes(|up| {
                let f = &up.body["tools"][0]["function"];
                ensure_eq!(f["name"], "get_weather");
                ensure!(f["parameters"].is_object(), "no parameters in {f}");
                ensure!(up.body.get("tool_choice").is_none(), "auto is the default");
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "tool"], "roles");
                ensure_eq!(
                    message(&up.body, 1)["tool_calls"],
                    json!([call("call_1", "Paris")])
                );
                ensure_eq!(
                    message(&up.body, 2),
                    &json!({"role": "tool", "tool_call_id": "call_1", "content": "18°C, cloudy"})
                );
                Ok(())
            }),
            C::ParallelToolCallsHistory => Support::Yes(|up| {
                let r = roles(&up.body);
                ensure_eq!(r, vec!["user", "assistant", "tool", "tool"], "roles");
                let want = json!([call("call_p", "Paris"), call("call_o", "Oslo")]);
                ensure_eq!(message(&up.body, 1)["tool_calls"], want);
                ensure_eq!(message(&up.body, 2)["tool_call_id"], "call_p");
                ensure_eq!(message(&up.body, 3)["tool_call_id"], "call_o");
                Ok(())
            }),
            C::ImageDataUrl => Support::Yes(|up| {
                let url = format!("data:image/png;base64,{PNG_BASE64}");
                let want = json!({"type": "image_url", "image_url": {"url": url, "detail": "low"}});
                ensure_eq!(image_block(up), &want, "image block");
                Ok(())
            }),
            C::ImageHttpsUrl => Support::Yes(|up| {
                let want =
                    json!({"type": "image_url", "image_url": {"url": IMAGE_URL, "detail": "low"}});
                ensure_eq!(image_block(up), &want, "image block");
                Ok(())
            }),
            C::JsonObject => Support::Yes(|up| {
                ensure_eq!(up.body["response_format"], json!({"type": "json_object"}));
                capital_question(up)
            }),
            C::JsonSchema => Support::Yes(|up| {
                let schema = &up.client["response_format"]["json_schema"]["schema"];
                let want = json!({"type": "json_object", "json_schema": schema});
                ensure_eq!(up.body["response_format"], want, "response_format");
                Ok(())
            }),
            C::Reasoning => Support::Yes(|up| {
                let want = json!({"type": "enabled", "token_budget": 24576});
                ensure_eq!(up.body["thinking"], want, "thinking (high)");
                ensure_eq!(up.body["max_tokens"], 16000, "max_tokens");
                Ok(())
            }),
            // Instructions alone are sent as the user turn.
            C::SystemOnly => Support::Yes(|up| user_text(up, SYSTEM_TEXT)),
            C::DeveloperOnly => Support::Yes(|up| user_text(up, DEVELOPER_TEXT)),
            C::MultipleChoices => Support::Refused { param: "n" },
            C::Logprobs => Support::Refused { param: "logprobs" },
            C::Seed => Support::Yes(|up| {
                ensure_eq!(up.body["seed"], 42, "seed");
                capital_question(up)
            }),
            C::Streaming => Support::Yes(|up| {
                ensure_eq!(up.body["stream"], true, "stream");
                ensure!(
                    up.body.get("stream_options").is_none(),
                    "stream_options sent"
                );
                capital_question(up)
            }),
        }
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        use ResponseCase as C;
        match case {
            C::PromptBlocked => Support::NotApplicable(
                "a refused prompt is an error status here (the error cases)",
            ),
            C::ServerTool => Support::NotApplicable(
                "no provider-run tool can be asked for through chat completions",
            ),
            C::Text
            | C::ToolCall
            | C::ToolCallNoArgs
            | C::ParallelToolCalls
            | C::Reasoning
            | C::UsageCached
            | C::Length
            | C::NotTheShape => Support::Yes(Fixture),
            C::UsageReasoning => Support::NotApplicable(
                "Cohere counts thinking inside output_tokens and reports no reasoning split",
            ),
            C::ContentFilter => Support::NotApplicable(
                "Cohere has no content-filter finish reason (COMPLETE, STOP_SEQUENCE, MAX_TOKENS, TOOL_CALL, ERROR, TIMEOUT)",
            ),
            C::MultipleChoices => {
                Support::NotApplicable("one generation per request: `n` > 1 is refused (400)")
            }
        }
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        use ErrorCase as C;
        match case {
            C::BadRequest
            | C::Unauthorized
            | C::Forbidden
            | C::NotFound
            | C::RateLimited
            | C::ServerError
            | C::Unavailable
            | C::NotJson => Support::Yes(ErrorWant::Translated),
        }
    }

    fn own_errors() -> Vec<OwnError> {
        // Invalid token: 401, so OpenAI SDKs raise their auth error.
        vec![OwnError {
            upstream: 498,
            client: 401,
            kind: "authentication_error",
            message: "invalid api token",
        }]
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        use StreamCase as C;
        // Typed events (`event: <type>`); the stream is complete with
        // `message-end`, whose `finish_reason: ERROR` is the mid-stream error.
        match case {
            C::ContentFilter => Support::NotApplicable(
                "Cohere's chat API has no content filter finish (see the response case)",
            ),
            C::PromptBlocked => {
                Support::NotApplicable("a refused prompt is an error status here (the error cases)")
            }
            C::UsageRevised => {
                Support::NotApplicable("usage is sent once per stream, or its counts only grow")
            }
            C::StreamedArgs => Support::NotApplicable(
                "arguments already stream as JSON text (the tool call cases)",
            ),
            C::ServerTool => Support::NotApplicable(
                "no provider-run tool can be asked for through chat completions",
            ),
            C::Text
            | C::ToolCall
            | C::ToolCallNoArgs
            | C::ParallelToolCalls
            | C::Reasoning
            | C::Usage
            | C::MidStreamError
            | C::Truncated => Support::Yes(Fixture),
        }
    }
}
