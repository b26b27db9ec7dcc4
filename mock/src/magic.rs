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
//!
//! Directives, on every provider (provider-neutral, in `reply`): the mock
//! always calls a declared tool when the last message is user text, the
//! first tool unless `tool_choice` names one. Coding agents declare tools on
//! every request, so these steer the answer:
//!
//! | directive                         | answer                                                        |
//! |-----------------------------------|---------------------------------------------------------------|
//! | `MOCK_CALL <tool> <json-object>`  | a call of the declared tool `<tool>` with exactly these arguments (the JSON object follows the name after whitespace and may contain spaces; anything after it is ignored) |
//! | `MOCK_CALL <tool>`                | a call of `<tool>` with the usual generated arguments (every `required` property set) |
//! | `MOCK_TEXT`                       | the usual text echo although tools are declared (not when `tool_choice` names a tool) |
//!
//! A directive only acts when the last message is user text, so after the
//! tool result the mock answers `Tool result received: ...` and the agent's
//! loop ends. An undeclared tool or arguments that are not a JSON object
//! give a text answer starting `MOCK_CALL:` that says what is wrong, rather
//! than a call the agent cannot run. The Anthropic mock leaves
//! `<system-reminder>` text blocks (added by Claude Code) out of the echo
//! but still finds directives anywhere in the last user message.
//!
//! Words are matched as whole whitespace-separated tokens.

use serde_json::Value;

pub const PROMPT_FILTER: &str = "MOCK_PROMPT_FILTER";
pub const CONTENT_FILTER: &str = "MOCK_CONTENT_FILTER";
pub const RECITATION: &str = "MOCK_RECITATION";
pub const MAX_TOKENS: &str = "MOCK_MAX_TOKENS";
pub const CACHED: &str = "MOCK_CACHED";
pub const STREAM_ARGS: &str = "MOCK_STREAM_ARGS";
pub const SERVER_TOOL: &str = "MOCK_SERVER_TOOL";
pub const CALL: &str = "MOCK_CALL";
pub const TEXT: &str = "MOCK_TEXT";

/// Words kept by `MOCK_MAX_TOKENS`.
pub const MAX_TOKENS_WORDS: u64 = 4;

/// A directive found in the last user text (see the table above).
#[derive(Debug, Clone, PartialEq)]
pub enum Directive<'a> {
    /// `MOCK_CALL <tool> [<json object>]`; `arguments` is `None` without
    /// JSON, `Some(Err)` when the JSON after the name is not an object.
    Call {
        name: &'a str,
        arguments: Option<Result<Value, String>>,
    },
    /// `MOCK_TEXT`: answer in text although tools are declared.
    Text,
}

/// The first directive in `text`, if any. `MOCK_CALL` wins over `MOCK_TEXT`.
pub fn directive(text: &str) -> Option<Directive<'_>> {
    if let Some(rest) = after_word(text, CALL) {
        let rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (name, tail) = rest.split_at(end);
        let tail = tail.trim_start();
        let arguments = tail.starts_with('{').then(|| {
            let mut values = serde_json::Deserializer::from_str(tail).into_iter::<Value>();
            match values.next() {
                Some(Ok(v @ Value::Object(_))) => Ok(v),
                Some(Ok(_)) => Err("arguments must be a JSON object".to_string()),
                Some(Err(e)) => Err(format!("arguments are not valid JSON: {e}")),
                None => Err("arguments missing".to_string()),
            }
        });
        return Some(Directive::Call { name, arguments });
    }
    has(text, TEXT).then_some(Directive::Text)
}

/// The text after the first whitespace-separated occurrence of `word`.
fn after_word<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(pos) = text.get(from..)?.find(word) {
        let start = from + pos;
        let end = start + word.len();
        let before_ok = text
            .get(..start)?
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        let rest = text.get(end..)?;
        let after_ok = rest.chars().next().is_none_or(char::is_whitespace);
        if before_ok && after_ok {
            return Some(rest);
        }
        from = end;
    }
    None
}

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
