//! Magic words: tokens in the last user message's text that make the
//! Gemini and Azure mocks answer the way those providers do when their
//! safety systems or limits step in. The same word means the same thing on
//! every provider that has the behaviour:
//!
//! | word                  | Gemini                                              | Azure OpenAI                                         |
//! |-----------------------|-----------------------------------------------------|------------------------------------------------------|
//! | `MOCK_PROMPT_FILTER`  | 200, `promptFeedback.blockReason: SAFETY`, no candidates | 400 `code: content_filter`, `innererror.code: ResponsibleAIPolicyViolation` |
//! | `MOCK_CONTENT_FILTER` | candidate without content, `finishReason: SAFETY`   | `finish_reason: content_filter`, no content          |
//! | `MOCK_RECITATION`     | candidate without content, `finishReason: RECITATION` | -                                                  |
//! | `MOCK_MAX_TOKENS`     | reply cut to its first 4 words, `finishReason: MAX_TOKENS` | -                                             |
//! | `MOCK_CACHED`         | `cachedContentTokenCount: 8` (and 8 more prompt tokens) | -                                                |
//! | `MOCK_SERVER_TOOL`    | Bedrock (not Gemini or Azure): the answer follows a `nova_code_interpreter` server tool use (`type: server_tool_use`) and its `toolResult`, as with `systemTool` | - |
//! | `MOCK_STREAM_ARGS`    | Vertex streams only: the function call's arguments as `partialArgs` pieces over several chunks (as with `streamFunctionCallArguments`) | - |
//!
//! Words are matched as whole whitespace-separated tokens.

pub const PROMPT_FILTER: &str = "MOCK_PROMPT_FILTER";
pub const CONTENT_FILTER: &str = "MOCK_CONTENT_FILTER";
pub const RECITATION: &str = "MOCK_RECITATION";
pub const MAX_TOKENS: &str = "MOCK_MAX_TOKENS";
pub const CACHED: &str = "MOCK_CACHED";
pub const STREAM_ARGS: &str = "MOCK_STREAM_ARGS";
pub const SERVER_TOOL: &str = "MOCK_SERVER_TOOL";

/// Words kept by `MOCK_MAX_TOKENS`.
pub const MAX_TOKENS_WORDS: u64 = 4;

/// Whether `text` contains `word` as a whitespace-separated token.
pub fn has(text: &str, word: &str) -> bool {
    text.split_whitespace().any(|w| w == word)
}

#[cfg(test)]
mod tests {
    #[test]
    fn whole_words_only() {
        assert!(super::has("please MOCK_CACHED now", super::CACHED));
        assert!(!super::has("MOCK_CACHEDX", super::CACHED));
    }
}
