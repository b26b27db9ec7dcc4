//! Token accounting shared by all providers, in OpenAI's terms.
//!
//! `input` counts every prompt token including cached ones (OpenAI's
//! `prompt_tokens`); providers that report cache reads separately (Anthropic)
//! must add them in before filling this in.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Keeps the larger of each field: streams repeat cumulative counts.
    pub fn merge_max(&mut self, other: Usage) {
        self.input = self.input.max(other.input);
        self.output = self.output.max(other.output);
        self.cached = self.cached.max(other.cached);
        self.reasoning = self.reasoning.max(other.reasoning);
    }
}
