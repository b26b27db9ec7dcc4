//! `type: "openai"`: the passthrough. The upstream speaks the client's
//! format, so the request is the client's body with `model` (and, on
//! streams, `stream_options`) spliced, and responses are the upstream's
//! bytes; the contract checks that nothing else changes and that usage and
//! failures are still seen.

use modelmux_core::config::Provider;
use modelmux_core::dialect::Dialect;
use serde_json::{json, Value};

use crate::cases::{ErrorCase, RequestCase, ResponseCase, StreamCase};
use crate::support::{
    non_empty, Check, Contract, ErrorWant, Fixture, RequestCheck, Support, Upstream,
};

pub struct OpenAi;

/// One piece of a chat conversation, however it is packaged: (role, what,
/// value). Developer turns count as system, a string content as one text
/// part, and image `detail` (which Messages cannot say) is left out.
fn pieces(messages: &Value) -> Vec<(String, &'static str, Value)> {
    let mut out = Vec::new();
    for m in messages.as_array().into_iter().flatten() {
        let role = match m["role"].as_str().unwrap_or("?") {
            "developer" => "system",
            r => r,
        }
        .to_string();
        match &m["content"] {
            Value::String(t) if !t.is_empty() => out.push((role.clone(), "text", json!(t))),
            Value::Array(parts) => {
                for p in parts {
                    match p["type"].as_str() {
                        Some("text") => out.push((role.clone(), "text", p["text"].clone())),
                        Some("image_url") => {
                            out.push((role.clone(), "image", p["image_url"]["url"].clone()))
                        }
                        _ => out.push((role.clone(), "other", p.clone())),
                    }
                }
            }
            _ => {}
        }
        for c in m["tool_calls"].as_array().into_iter().flatten() {
            let args: Value = c["function"]["arguments"]
                .as_str()
                .and_then(|a| serde_json::from_str(a).ok())
                .unwrap_or(Value::Null);
            out.push((
                role.clone(),
                "call",
                json!({"id": c["id"], "name": c["function"]["name"], "arguments": args}),
            ));
        }
        if m["role"] == "tool" {
            out.push((role.clone(), "result", m["tool_call_id"].clone()));
        }
    }
    out
}

/// A Messages client's request, translated to chat: the same
/// conversation piece by piece as the case's chat form, the same tools
/// and tool choice, and usage asked for on streams.
pub fn same_conversation(up: &Upstream) -> Check {
    ensure_eq!(
        pieces(&up.body["messages"]),
        pieces(&up.client["messages"]),
        "conversation"
    );
    for key in ["tools", "tool_choice"] {
        ensure_eq!(up.body.get(key), up.client.get(key), "{key}");
    }
    let stream = up.client["stream"] == true;
    ensure_eq!(up.body["stream"] == true, stream, "stream");
    if stream {
        ensure_eq!(up.body["stream_options"], json!({"include_usage": true}));
    }
    Ok(())
}

/// A Responses client's body, forwarded with only `model` renamed.
pub fn sent_but_model(up: &Upstream) -> Check {
    let mut want = up.sent.clone();
    want["model"] = json!(OpenAi::upstream_model());
    ensure_eq!(up.body, want, "forwarded Responses body");
    Ok(())
}

/// What a passthrough of the Responses API answers is the Responses
/// API's own JSON and events, not these chat fixtures.
pub const RESPONSES_PASSTHROUGH: &str = "passthrough: a Responses client's body goes to the \
    Responses endpoint and its answer comes back as sent (checked in \
    providers/openai passthrough tests); the native fixtures here are chat completions";

/// The client's body with only `model` renamed.
pub fn unchanged_but_model(up: &Upstream) -> Check {
    let mut want = up.client.clone();
    want["model"] = json!(OpenAi::upstream_model());
    ensure_eq!(up.body, want, "forwarded body");
    Ok(())
}

impl Contract for OpenAi {
    const NAME: &'static str = "openai";
    const KIND: &'static str = "openai";
    const REASONING_TOKENS: bool = true;

    fn provider() -> Provider {
        Provider::new("oai", "openai", "api.openai.com").with_key("sk-test")
    }

    fn accepts_in(dialect: Dialect, up: &Upstream) -> Check {
        match dialect {
            Dialect::OpenAiResponses => {
                ensure_eq!(up.path, "/v1/responses", "path");
                ensure_eq!(
                    up.header("authorization"),
                    Some("Bearer sk-test"),
                    "authorization"
                );
                Ok(())
            }
            Dialect::OpenAiChat | Dialect::AnthropicMessages => Self::accepts(up),
        }
    }

    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        match dialect {
            Dialect::OpenAiChat => Self::request(case),
            Dialect::AnthropicMessages => Support::Yes(same_conversation),
            Dialect::OpenAiResponses => Support::Yes(sent_but_model),
        }
    }

    fn response_in(dialect: Dialect, case: ResponseCase) -> Support<Fixture> {
        match dialect {
            Dialect::OpenAiResponses => Support::NotApplicable(RESPONSES_PASSTHROUGH),
            Dialect::OpenAiChat | Dialect::AnthropicMessages => Self::response(case),
        }
    }

    /// A Messages client gets OpenAI's errors in Anthropic's envelope.
    fn error_in(dialect: Dialect, case: ErrorCase) -> Support<ErrorWant> {
        match (dialect, Self::error(case)) {
            (Dialect::AnthropicMessages, Support::Yes(ErrorWant::Forwarded)) => {
                Support::Yes(ErrorWant::Rewrapped)
            }
            (_, chat) => chat,
        }
    }

    fn stream_in(dialect: Dialect, case: StreamCase) -> Support<Fixture> {
        match dialect {
            Dialect::OpenAiResponses => Support::NotApplicable(RESPONSES_PASSTHROUGH),
            Dialect::OpenAiChat | Dialect::AnthropicMessages => Self::stream(case),
        }
    }

    fn accepts(up: &Upstream) -> Check {
        ensure_eq!(up.path, "/v1/chat/completions", "path");
        ensure_eq!(
            up.header("authorization"),
            Some("Bearer sk-test"),
            "authorization"
        );
        ensure_eq!(up.body["model"], OpenAi::upstream_model(), "model");
        non_empty(&up.body["messages"], "messages")?;
        Ok(())
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        match case {
            C::Text
            | C::MultiTurn
            | C::SystemAndDeveloper
            | C::Tools
            | C::ParallelToolCallsHistory
            | C::ImageDataUrl
            | C::ImageHttpsUrl
            | C::JsonObject
            | C::JsonSchema
            | C::Reasoning
            | C::SystemOnly
            | C::DeveloperOnly
            | C::MultipleChoices
            | C::Logprobs
            | C::Seed => Support::Yes(unchanged_but_model),
            // The client asked for usage itself: nothing to inject.
            C::Streaming => Support::Yes(|up| {
                unchanged_but_model(up)?;
                ensure_eq!(up.body["stream_options"], json!({"include_usage": true}));
                Ok(())
            }),
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
            | C::UsageCached
            | C::UsageReasoning
            | C::Length
            | C::ContentFilter
            | C::MultipleChoices => Support::Yes(Fixture),
            // OpenAI itself returns no reasoning text on chat completions;
            // compatible servers (DeepSeek, vLLM) send `reasoning_content`,
            // which passes through.
            C::Reasoning => Support::Yes(Fixture),
            C::NotTheShape => Support::NotApplicable(
                "the passthrough forwards 2xx bodies untouched (BodyMode::Tail, usage read \
                 from the tail); an error behind a 2xx is the session's failover guard's \
                 business (`looks_like_error`)",
            ),
        }
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        use ErrorCase as C;
        match case {
            // Already OpenAI errors, with OpenAI's own `type`s (`requests`
            // for a 429, `request_forbidden` for a 403): kept as sent.
            C::BadRequest
            | C::Unauthorized
            | C::Forbidden
            | C::NotFound
            | C::RateLimited
            | C::ServerError
            | C::Unavailable => Support::Yes(ErrorWant::Forwarded),
            C::NotJson => Support::Yes(ErrorWant::Translated),
        }
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        use StreamCase as C;
        // The gateway always asks the upstream for usage, so every fixture
        // ends with the usage-only chunk; it is stripped again when the
        // client did not ask for it.
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
