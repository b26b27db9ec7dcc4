//! Output-changing features of the chat request that a translating provider
//! may lack. Each provider lists the ones it cannot honour and
//! [`ChatRequest::refuse`] answers the first one asked for with a 400 naming
//! the parameter, so nothing is dropped silently and every provider words
//! it the same way.

use serde_json::value::RawValue;

use super::request::ChatRequest;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `n` > 1.
    Choices,
    Logprobs,
    TopLogprobs,
    Audio,
    /// `modalities` other than text.
    NonTextModalities,
    PresencePenalty,
    FrequencyPenalty,
    /// A non-empty `logit_bias`.
    LogitBias,
    Seed,
    Prediction,
    WebSearch,
    /// The deprecated `functions` / `function_call`.
    Functions,
    FunctionCall,
    /// Other dialects: `top_k` (Anthropic's).
    TopK,
    /// Other dialects: a tool the provider runs itself (Anthropic server
    /// tools, Responses built-in tools); the 400 names the tool.
    ServerTools,
    /// Responses `previous_response_id`: state only OpenAI keeps.
    PreviousResponse,
    /// Responses `store: true`: OpenAI keeps the response for later turns.
    Store,
}

impl Feature {
    pub fn param(self) -> &'static str {
        match self {
            Feature::Choices => "n",
            Feature::Logprobs => "logprobs",
            Feature::TopLogprobs => "top_logprobs",
            Feature::Audio => "audio",
            Feature::NonTextModalities => "modalities",
            Feature::PresencePenalty => "presence_penalty",
            Feature::FrequencyPenalty => "frequency_penalty",
            Feature::LogitBias => "logit_bias",
            Feature::Seed => "seed",
            Feature::Prediction => "prediction",
            Feature::WebSearch => "web_search_options",
            Feature::Functions => "functions",
            Feature::FunctionCall => "function_call",
            Feature::TopK => "top_k",
            Feature::ServerTools => "tools",
            Feature::PreviousResponse => "previous_response_id",
            Feature::Store => "store",
        }
    }
}

/// `{}` (with any whitespace): an empty `logit_bias` asks for nothing.
fn is_empty_object(raw: &RawValue) -> bool {
    raw.get()
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .eq("{}".chars())
}

impl ChatRequest<'_> {
    /// Whether the request asks for `f` (a neutral value asks for nothing).
    pub fn asks(&self, f: Feature) -> bool {
        let non_zero = |v: Option<f64>| v.is_some_and(|x| x != 0.0);
        match f {
            Feature::Choices => self.n.is_some_and(|n| n > 1),
            Feature::Logprobs => self.logprobs == Some(true),
            Feature::TopLogprobs => self.top_logprobs.is_some(),
            Feature::Audio => self.audio.is_some(),
            Feature::NonTextModalities => self
                .modalities
                .iter()
                .flatten()
                .any(|m| m.as_str() != "text"),
            Feature::PresencePenalty => non_zero(self.presence_penalty),
            Feature::FrequencyPenalty => non_zero(self.frequency_penalty),
            Feature::LogitBias => self.logit_bias.is_some_and(|b| !is_empty_object(b)),
            Feature::Seed => self.seed.is_some(),
            Feature::Prediction => self.prediction.is_some(),
            Feature::WebSearch => self.web_search_options.is_some(),
            Feature::Functions => self.functions.is_some(),
            Feature::FunctionCall => self.function_call.is_some(),
            Feature::TopK => self.ext.top_k.is_some(),
            Feature::ServerTools => !self.ext.server_tools.is_empty(),
            Feature::PreviousResponse => self.ext.previous_response_id.is_some(),
            Feature::Store => self.ext.store,
        }
    }

    /// The 400 for a parameter `provider` does not know (not among its
    /// `extensions`), or for the first of `lacking` the request asks for.
    pub fn refuse(
        &self,
        provider: &str,
        lacking: &[Feature],
        extensions: &[&str],
    ) -> Result<(), ApiError> {
        let unknown = self
            .extra
            .keys()
            .find(|k| !extensions.contains(&k.as_str()));
        if let Some(name) = unknown {
            return Err(ApiError::invalid_param(
                name,
                format!("Unrecognized request argument supplied: {name}"),
            )
            .with_reason(crate::rejection::Rejection::UnsupportedParameter));
        }
        match lacking.iter().find(|f| self.asks(**f)) {
            Some(Feature::ServerTools) => Err(self.server_tool_refusal(provider)),
            Some(f @ (Feature::PreviousResponse | Feature::Store)) => {
                Err(stateless(provider, f.param()))
            }
            Some(f) => Err(unsupported(provider, f.param())),
            None => Ok(()),
        }
    }

    fn server_tool_refusal(&self, provider: &str) -> ApiError {
        let kind = self
            .ext
            .server_tools
            .first()
            .map_or("", |t| t.kind.as_ref());
        ApiError::invalid_param(
            "tools",
            format!("The tool `{kind}` runs on the provider's side, and provider {provider} cannot run it; remove it or use a model whose provider offers it."),
        )
        .with_reason(crate::rejection::Rejection::UnsupportedParameter)
    }

    /// `top_k`, from the client's dialect (`ext`) or as a chat extension
    /// (`extra`, for providers that list it).
    pub fn top_k(&self) -> Result<Option<u32>, ApiError> {
        if let Some(k) = self.ext.top_k {
            return Ok(Some(k));
        }
        match self.extra.get("top_k") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|k| u32::try_from(k).ok())
                .map(Some)
                .ok_or_else(|| {
                    ApiError::invalid_param("top_k", "`top_k` must be a non-negative integer.")
                }),
        }
    }

    /// The reasoning effort: `reasoning_effort`, else the one closest to a
    /// thinking budget the client's dialect gave (≤ 2,048 tokens `low`,
    /// ≤ 8,192 `medium`, more `high`; disabled is `none`; adaptive leaves
    /// the model's default). Providers that take a budget (Anthropic) read
    /// `ext.thinking` itself.
    pub fn effort(&self) -> Option<&str> {
        use super::request::ThinkingRequest as T;
        if let Some(e) = self.reasoning_effort.as_deref() {
            return Some(e);
        }
        match self.ext.thinking? {
            T::Disabled => Some("none"),
            T::Adaptive => None,
            T::Enabled { budget_tokens } if budget_tokens <= 2_048 => Some("low"),
            T::Enabled { budget_tokens } if budget_tokens <= 8_192 => Some("medium"),
            T::Enabled { .. } => Some("high"),
        }
    }
}

/// The 400 for a stateful Responses request to a provider the gateway
/// cannot keep state for.
fn stateless(provider: &str, param: &str) -> ApiError {
    ApiError::invalid_param(
        param,
        format!("The gateway is stateless: `previous_response_id` and `store: true` work only toward OpenAI's Responses API, and provider {provider} is not it. Send the whole conversation in `input` with `store: false`."),
    )
    .with_reason(crate::rejection::Rejection::UnsupportedParameter)
}

/// The 400 for a parameter `provider` cannot honour.
pub fn unsupported(provider: &str, param: &str) -> ApiError {
    ApiError::invalid_param(
        param,
        format!("`{param}` is not supported by provider {provider}."),
    )
    .with_reason(crate::rejection::Rejection::UnsupportedParameter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::{parse_chat_request, ServerTool, ThinkingRequest};

    const BODY: &[u8] = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
    const TOOL: &str = r#"{"type":"web_search_20250305","name":"web_search"}"#;

    #[test]
    fn thinking_budgets_become_the_closest_effort() {
        let cases = [
            (Some(ThinkingRequest::Disabled), Some("none")),
            (Some(ThinkingRequest::Adaptive), None),
            (
                Some(ThinkingRequest::Enabled {
                    budget_tokens: 1024,
                }),
                Some("low"),
            ),
            (
                Some(ThinkingRequest::Enabled {
                    budget_tokens: 8192,
                }),
                Some("medium"),
            ),
            (
                Some(ThinkingRequest::Enabled {
                    budget_tokens: 32000,
                }),
                Some("high"),
            ),
            (None, None),
        ];
        for (thinking, want) in cases {
            let mut req = parse_chat_request(BODY).unwrap();
            req.ext.thinking = thinking;
            assert_eq!(req.effort(), want, "{thinking:?}");
        }
        let mut req = parse_chat_request(
            br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"low"}"#,
        )
        .unwrap();
        req.ext.thinking = Some(ThinkingRequest::Enabled {
            budget_tokens: 32000,
        });
        assert_eq!(req.effort(), Some("low"), "the chat parameter wins");
    }

    #[test]
    fn dialect_only_features_are_refused_by_name() {
        let raw: Box<RawValue> = serde_json::from_str(TOOL).unwrap();
        let mut req = parse_chat_request(BODY).unwrap();
        assert!(req.refuse("p", &[Feature::ServerTools], &[]).is_ok());
        req.ext.server_tools.push(ServerTool {
            kind: "web_search_20250305".into(),
            name: Some("web_search".into()),
            raw: &raw,
        });
        let e = req.refuse("p", &[Feature::ServerTools], &[]).unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("tools")));
        assert!(e.message.contains("`web_search_20250305`"), "{}", e.message);

        let mut req = parse_chat_request(BODY).unwrap();
        req.ext.previous_response_id = Some("resp_1".into());
        let e = req
            .refuse("p", &[Feature::PreviousResponse], &[])
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("previous_response_id"));
        assert!(e.message.contains("stateless"), "{}", e.message);

        let mut req = parse_chat_request(BODY).unwrap();
        req.ext.store = true;
        assert_eq!(
            req.refuse("p", &[Feature::Store], &[])
                .unwrap_err()
                .param
                .as_deref(),
            Some("store")
        );
        req.ext.top_k = Some(5);
        assert_eq!(req.top_k().unwrap(), Some(5));
        assert_eq!(
            req.refuse("p", &[Feature::TopK], &[])
                .unwrap_err()
                .param
                .as_deref(),
            Some("top_k")
        );
    }
}
