//! `type: "anthropic"`: the Messages API.

use modelmux_core::config::Provider;
use modelmux_core::dialect::Dialect;
use serde_json::{json, Value};

use crate::cases::{
    self, ErrorCase, RequestCase, ResponseCase, StreamCase, DEVELOPER_TEXT, IMAGE_URL, PNG_BASE64,
    SYSTEM_TEXT,
};
use crate::support::{
    non_empty, Check, Contract, ErrorWant, Fixture, OwnError, RequestCheck, Support, Upstream,
};

pub struct Anthropic;

fn roles(body: &Value) -> Vec<&str> {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["role"].as_str().unwrap_or("?"))
        .collect()
}

/// The blocks of message `i`.
fn blocks(body: &Value, i: usize) -> &Value {
    &body["messages"][i]["content"]
}

fn system_texts(body: &Value) -> Vec<&str> {
    body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b["text"].as_str().unwrap_or("?"))
        .collect()
}

fn tool_use(id: &str, city: &str) -> Value {
    json!({"type": "tool_use", "id": id, "name": "get_weather", "input": {"city": city}})
}

fn tool_result(id: &str, text: &str) -> Value {
    json!({"type": "tool_result", "tool_use_id": id, "content": text})
}

fn image_source(up: &Upstream) -> &Value {
    &blocks(&up.body, 0)[1]["source"]
}

fn single_user_text(up: &Upstream) -> Check {
    ensure_eq!(roles(&up.body), vec!["user"], "roles");
    let text = cases::request(RequestCase::Text)["messages"][0]["content"].clone();
    ensure_eq!(
        blocks(&up.body, 0),
        &json!([{"type": "text", "text": text}]),
        "user blocks"
    );
    Ok(())
}

/// Instructions alone become the one user turn (Anthropic needs one).
fn instructions_only(up: &Upstream, text: &str) -> Check {
    ensure!(
        system_texts(&up.body).is_empty(),
        "system kept: {}",
        up.body
    );
    ensure_eq!(
        up.body["messages"],
        serde_json::json!([{"role": "user", "content": [{"type": "text", "text": text}]}]),
        "messages"
    );
    Ok(())
}

fn system_only(up: &Upstream) -> Check {
    instructions_only(up, SYSTEM_TEXT)
}

fn developer_only(up: &Upstream) -> Check {
    instructions_only(up, DEVELOPER_TEXT)
}

/// A Messages client's body, forwarded with only `model` rewritten.
fn sent_but_model(up: &Upstream) -> Check {
    let mut want = up.sent.clone();
    want["model"] = json!("upstream-model");
    ensure_eq!(up.body, want, "forwarded Messages body");
    Ok(())
}

impl Contract for Anthropic {
    const NAME: &'static str = "anthropic";
    const KIND: &'static str = "anthropic";
    /// Thinking is counted inside `output_tokens`, with no split.
    const REASONING_TOKENS: bool = false;

    fn provider() -> Provider {
        Provider::new("claude", "anthropic", "api.anthropic.com").with_key("sk-ant-test")
    }

    /// A non-empty conversation that starts with a user turn and
    /// alternates, no empty content, a `max_tokens`, and a thinking budget
    /// below it.
    fn accepts(up: &Upstream) -> Check {
        ensure_eq!(up.path, "/v1/messages", "path");
        ensure!(
            up.header("anthropic-version").is_some(),
            "no anthropic-version header"
        );
        ensure!(up.header("x-api-key").is_some(), "no x-api-key header");
        ensure_eq!(up.body["model"], "upstream-model", "model");
        let max = up.body["max_tokens"].as_u64().unwrap_or(0);
        ensure!(
            max >= 1,
            "max_tokens must be at least 1: {}",
            up.body["max_tokens"]
        );
        let messages = non_empty(&up.body["messages"], "messages")?;
        for (i, m) in messages.iter().enumerate() {
            let want = if i % 2 == 0 { "user" } else { "assistant" };
            ensure_eq!(
                m["role"],
                want,
                "role of messages[{i}] (must start with user and alternate)"
            );
            non_empty(&m["content"], &format!("messages[{i}].content"))?;
        }
        if let Some(budget) = up.body["thinking"]["budget_tokens"].as_u64() {
            ensure!(
                budget >= 1024 && budget < max,
                "thinking budget {budget} vs max_tokens {max}"
            );
        }
        Ok(())
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        match case {
            C::Text => Support::Yes(single_user_text),
            C::MultiTurn => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                ensure_eq!(blocks(&up.body, 1), &json!([{"type": "text", "text": "7"}]));
                Ok(())
            }),
            C::SystemAndDeveloper => Support::Yes(|up| {
                ensure_eq!(
                    system_texts(&up.body),
                    vec![SYSTEM_TEXT, DEVELOPER_TEXT],
                    "system"
                );
                ensure_eq!(roles(&up.body), vec!["user"], "roles");
                Ok(())
            }),
            C::Tools => Support::Yes(|up| {
                ensure_eq!(up.body["tools"][0]["name"], "get_weather");
                ensure_eq!(
                    up.body["tools"][0]["input_schema"],
                    up.client["tools"][0]["function"]["parameters"]
                );
                ensure_eq!(up.body["tool_choice"], json!({"type": "auto"}));
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                ensure_eq!(blocks(&up.body, 1), &json!([tool_use("call_1", "Paris")]));
                ensure_eq!(
                    blocks(&up.body, 2),
                    &json!([tool_result("call_1", "18°C, cloudy")])
                );
                Ok(())
            }),
            C::ParallelToolCallsHistory => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                let calls = json!([tool_use("call_p", "Paris"), tool_use("call_o", "Oslo")]);
                ensure_eq!(blocks(&up.body, 1), &calls, "assistant turn");
                let results = json!([tool_result("call_p", "18°C"), tool_result("call_o", "9°C")]);
                ensure_eq!(
                    blocks(&up.body, 2),
                    &results,
                    "both results in one user turn"
                );
                Ok(())
            }),
            C::ImageDataUrl => Support::Yes(|up| {
                let want = json!({"type": "base64", "media_type": "image/png", "data": PNG_BASE64});
                ensure_eq!(image_source(up), &want, "image source");
                ensure_eq!(blocks(&up.body, 0)[1]["type"], "image");
                Ok(())
            }),
            C::ImageHttpsUrl => Support::Yes(|up| {
                ensure_eq!(image_source(up), &json!({"type": "url", "url": IMAGE_URL}));
                ensure_eq!(blocks(&up.body, 0)[1]["type"], "image");
                Ok(())
            }),
            // No constrained "any object" upstream: an instruction instead.
            C::JsonObject => Support::Yes(|up| {
                single_user_text(up)?;
                let system = system_texts(&up.body);
                ensure!(
                    system.last().is_some_and(|s| s.contains("JSON")),
                    "no JSON instruction in system {system:?}"
                );
                Ok(())
            }),
            C::JsonSchema => Support::Yes(|up| {
                let schema = &up.client["response_format"]["json_schema"]["schema"];
                let want = json!({"format": {"type": "json_schema", "schema": schema}});
                ensure_eq!(up.body["output_config"], want, "output_config");
                Ok(())
            }),
            C::Reasoning => Support::Yes(|up| {
                ensure_eq!(up.body["thinking"]["type"], "enabled", "thinking");
                // The client capped max_completion_tokens at 16000.
                ensure_eq!(up.body["max_tokens"], 16000, "max_tokens");
                Ok(())
            }),
            C::SystemOnly => Support::Yes(system_only as RequestCheck),
            C::DeveloperOnly => Support::Yes(developer_only as RequestCheck),
            C::MultipleChoices => Support::Refused { param: "n" },
            C::Logprobs => Support::Refused { param: "logprobs" },
            C::Seed => Support::Refused { param: "seed" },
            C::Streaming => Support::Yes(|up| {
                single_user_text(up)?;
                ensure_eq!(up.body["stream"], true, "stream");
                ensure!(
                    up.body.get("stream_options").is_none(),
                    "stream_options sent on"
                );
                Ok(())
            }),
        }
    }

    fn response_in(dialect: Dialect, case: ResponseCase) -> Support<Fixture> {
        match (dialect, case) {
            (Dialect::AnthropicMessages, ResponseCase::NotTheShape) => Support::NotApplicable(
                "passthrough: a Messages client's 2xx body is forwarded as sent (BodyMode::Tail, \
                 usage read on the way)",
            ),
            _ => Self::response(case),
        }
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        use ResponseCase as C;
        match case {
            C::PromptBlocked => {
                Support::NotApplicable("a refused prompt is an error status here (the error cases)")
            }
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
            | C::ContentFilter
            | C::NotTheShape => Support::Yes(Fixture),
            C::UsageReasoning => Support::NotApplicable(
                "Anthropic counts thinking inside output_tokens and reports no reasoning split",
            ),
            C::MultipleChoices => {
                Support::NotApplicable("a message is one choice: `n` > 1 is refused (400)")
            }
        }
    }

    /// A Messages client is passed through: the body as sent, with only the
    /// model rewritten.
    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        match dialect {
            Dialect::AnthropicMessages => Support::Yes(sent_but_model),
            Dialect::OpenAiChat | Dialect::OpenAiResponses => Self::request(case),
        }
    }

    /// A Messages client is passed through: Anthropic's errors are
    /// already its dialect's.
    fn error_in(dialect: Dialect, case: ErrorCase) -> Support<ErrorWant> {
        match (dialect, case) {
            (Dialect::AnthropicMessages, ErrorCase::NotJson)
            | (Dialect::OpenAiChat | Dialect::OpenAiResponses, _) => Self::error(case),
            (Dialect::AnthropicMessages, _) => Support::Yes(ErrorWant::Forwarded),
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
        // Overloaded: 503, so OpenAI SDKs and proxies retry it.
        vec![OwnError {
            upstream: 529,
            client: 503,
            kind: "server_error",
            message: "Overloaded",
        }]
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        use StreamCase as C;
        match case {
            C::ContentFilter => Support::Yes(Fixture),
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
