//! Token accounting shared by all providers.
//!
//! The kinds are kept apart because they are priced apart: `input` is every
//! prompt token as OpenAI's `prompt_tokens` counts it (cache reads and cache
//! writes included), and `cache_read`/`cache_write` say how many of those
//! were served from or written to a prompt cache. `output` counts every
//! generated token including reasoning (OpenAI's `completion_tokens`), and
//! `reasoning` how many of those were reasoning. Providers that report
//! these apart (Anthropic: cache tokens outside `input_tokens`; Gemini:
//! thoughts outside `candidatesTokenCount`) add them in when decoding.

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
    pub reasoning: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// Prompt tokens neither read from nor written to a cache.
    pub fn uncached_input(&self) -> u64 {
        self.input
            .saturating_sub(self.cache_read)
            .saturating_sub(self.cache_write)
    }

    /// Keeps the larger of each field: streams repeat cumulative counts.
    pub fn merge_max(&mut self, other: Usage) {
        self.input = self.input.max(other.input);
        self.cache_read = self.cache_read.max(other.cache_read);
        self.cache_write = self.cache_write.max(other.cache_write);
        self.output = self.output.max(other.output);
        self.reasoning = self.reasoning.max(other.reasoning);
    }
}
