//! Names of the counters the shell defines as Envoy stats.
//!
//! Envoy prefixes wasm metrics with `wasmcustom.`; labels are encoded in the
//! name as `modelmux.m.<model>.p.<provider>.<counter>` so that two
//! `stats_tags` regexes in the bootstrap turn them into Prometheus labels
//! (`model`, `provider`). Dots would break that split, so they become `_`.

/// The per model/provider counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    Requests,
    Errors,
    InputTokens,
    OutputTokens,
    CachedTokens,
    ReasoningTokens,
}

impl Counter {
    pub const ALL: [Counter; 6] = [
        Counter::Requests,
        Counter::Errors,
        Counter::InputTokens,
        Counter::OutputTokens,
        Counter::CachedTokens,
        Counter::ReasoningTokens,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Requests => "requests",
            Counter::Errors => "errors",
            Counter::InputTokens => "input_tokens",
            Counter::OutputTokens => "output_tokens",
            Counter::CachedTokens => "cached_tokens",
            Counter::ReasoningTokens => "reasoning_tokens",
        }
    }
}

/// Requests rejected before a model was resolved (bad JSON, unknown model...).
pub const REJECTED: &str = "modelmux.rejected";

/// Replaces characters that would split or break a stat name.
pub fn sanitize(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn metric_name(model: &str, provider: &str, counter: Counter) -> String {
    format!(
        "modelmux.m.{}.p.{}.{}",
        sanitize(model),
        sanitize(provider),
        counter.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_splittable() {
        assert_eq!(
            metric_name("gpt-4.1/mini", "open.ai", Counter::InputTokens),
            "modelmux.m.gpt-4_1_mini.p.open_ai.input_tokens"
        );
    }
}
