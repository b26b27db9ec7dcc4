//! `type: "azure"`: OpenAI's wire format on Azure's deployment paths, the
//! key in `api-key`, errors rewritten into OpenAI's envelope. Bodies are
//! Azure's own (`prompt_filter_results`, `content_filter_results`, the
//! empty-id first stream chunk), forwarded as they are.

use modelmux_core::config::Provider;
use modelmux_core::dialect::Dialect;
use serde_json::json;

use crate::cases::{ErrorCase, RequestCase, ResponseCase, StreamCase};
use crate::openai::{
    same_conversation, sent_but_model, unchanged_but_model, RESPONSES_PASSTHROUGH,
};
use crate::support::{
    non_empty, Check, Contract, ErrorWant, Fixture, RequestCheck, Support, Upstream,
};

pub struct Azure;

const NO_REASONING_TEXT: &str = "Azure OpenAI returns no reasoning text on chat completions \
    (o-series models report only reasoning_tokens, see usage_reasoning); the passthrough \
    would forward it unchanged, as `openai` shows";

impl Contract for Azure {
    const NAME: &'static str = "azure";
    const KIND: &'static str = "azure";
    const REASONING_TOKENS: bool = true;

    fn provider() -> Provider {
        Provider::new("az", "azure", "res.openai.azure.com").with_key("azure-key")
    }

    fn accepts_in(dialect: Dialect, up: &Upstream) -> Check {
        match dialect {
            Dialect::OpenAiResponses => {
                ensure_eq!(up.path, "/openai/v1/responses", "path");
                ensure_eq!(up.header("api-key"), Some("azure-key"), "api-key header");
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
        let path = "/openai/deployments/upstream-model/chat/completions?api-version=2024-10-21";
        ensure_eq!(up.path, path, "path");
        ensure_eq!(up.header("api-key"), Some("azure-key"), "api-key header");
        ensure_eq!(up.body["model"], "upstream-model", "model");
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
            C::Reasoning => Support::NotApplicable(NO_REASONING_TEXT),
            C::NotTheShape => Support::NotApplicable(
                "the OpenAI passthrough forwards 2xx bodies untouched (BodyMode::Tail); an \
                 error behind a 2xx is the session's failover guard's business",
            ),
        }
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        use ErrorCase as C;
        // Azure's shapes (`code: "429"` without `type`, `DeploymentNotFound`,
        // the gateway's `statusCode`) become OpenAI envelopes.
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
            | C::Usage
            | C::MidStreamError
            | C::Truncated => Support::Yes(Fixture),
            C::Reasoning => Support::NotApplicable(NO_REASONING_TEXT),
        }
    }
}
