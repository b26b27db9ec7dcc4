//! `type: "openai"`: the passthrough. The upstream speaks the client's
//! format, so the request is the client's body with `model` (and, on
//! streams, `stream_options`) spliced, and responses are the upstream's
//! bytes; the contract checks that nothing else changes and that usage and
//! failures are still seen.

use modelmux_core::config::Provider;
use serde_json::json;

use crate::cases::{ErrorCase, RequestCase, ResponseCase, StreamCase};
use crate::support::{
    non_empty, Check, Contract, ErrorWant, Fixture, RequestCheck, Support, Upstream,
};

pub struct OpenAi;

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
