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
            Some(f) => Err(unsupported(provider, f.param())),
            None => Ok(()),
        }
    }
}

/// The 400 for a parameter `provider` cannot honour.
pub fn unsupported(provider: &str, param: &str) -> ApiError {
    ApiError::invalid_param(
        param,
        format!("`{param}` is not supported by provider {provider}."),
    )
    .with_reason(crate::rejection::Rejection::UnsupportedParameter)
}
