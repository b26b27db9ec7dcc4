//! `POST /v1/messages/count_tokens`: how many input tokens a Messages
//! request would take (Claude Code asks before long turns).
//!
//! Three ways, in order of preference:
//! * **Passthrough** where the provider has Anthropic's own counter
//!   (Anthropic; Claude on Vertex, at `count-tokens:rawPredict` with the
//!   model in the body): the body goes as sent with `model` rewritten.
//! * **The provider's own counter** (Gemini `countTokens`, Bedrock
//!   CountTokens with the Converse prompt): the request is translated as
//!   for a turn, and the provider's count becomes `input_tokens`.
//! * **An estimate** everywhere else, answered by the gateway without an
//!   upstream call: the body's bytes / 4, rounded up (the usage estimate's
//!   ratio, see [`crate::usage::BYTES_PER_TOKEN`]). It counts JSON syntax
//!   too, so it errs high, which is the safe side for a client deciding
//!   whether a prompt fits.

use serde::Deserialize;

use super::{
    status_failure, BodyEdit, BodyMode, HeaderEdit, HeaderLookup, Outbound, Outcome, Translator,
};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::usage::BYTES_PER_TOKEN;

/// How a count is answered.
#[derive(Debug)]
pub enum Count {
    /// Ask the provider.
    Upstream(Box<dyn Translator>, Outbound),
    /// Answer locally with this many tokens.
    Estimate(u64),
}

/// The gateway's own estimate for a request body.
pub fn estimate(body: &[u8]) -> u64 {
    u64::try_from(body.len())
        .unwrap_or(u64::MAX)
        .div_ceil(BYTES_PER_TOKEN)
}

/// `{"input_tokens": n}`.
pub fn answer(tokens: u64) -> Vec<u8> {
    format!("{{\"input_tokens\":{tokens}}}").into_bytes()
}

/// Forwards the provider's answer as it is (its counter speaks the
/// client's format); an error status is a failure like any other.
#[derive(Debug, Default)]
pub struct Verbatim {
    outcome: Outcome,
}

impl Translator for Verbatim {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        if !(200..300).contains(&status) {
            self.outcome.failure = Some(status_failure(status, headers));
        }
        HeaderEdit {
            mode: BodyMode::Tail(0),
            status: None,
            content_type: None,
            drop_content_length: false,
        }
    }

    fn response_body(&mut self, _data: &[u8], _end: bool) -> BodyEdit {
        BodyEdit::Keep
    }

    fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// Turns a provider's counter answer into Anthropic's: `read` finds the
/// count in a 2xx body, `error` translates an error body.
#[derive(Debug)]
pub struct Translated {
    read: fn(&[u8]) -> Option<u64>,
    error: fn(u16, &[u8]) -> ApiError,
    status: u16,
    outcome: Outcome,
}

impl Translated {
    pub fn new(read: fn(&[u8]) -> Option<u64>, error: fn(u16, &[u8]) -> ApiError) -> Self {
        Translated {
            read,
            error,
            status: 0,
            outcome: Outcome::default(),
        }
    }
}

impl Translator for Translated {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        self.status = status;
        if !(200..300).contains(&status) {
            self.outcome.failure = Some(status_failure(status, headers));
        }
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: None,
            content_type: Some("application/json"),
            drop_content_length: true,
        }
    }

    fn response_body(&mut self, data: &[u8], _end: bool) -> BodyEdit {
        let anthropic = Dialect::AnthropicMessages;
        if self.outcome.failure.is_some() {
            return BodyEdit::Replace(anthropic.error_body(&(self.error)(self.status, data)));
        }
        match (self.read)(data) {
            Some(n) => BodyEdit::Replace(answer(n)),
            None => {
                self.outcome.failure = Some(super::Failure {
                    cause: super::Cause::Malformed,
                    status: 502,
                    retry_after_ms: None,
                });
                let e = ApiError::new(
                    502,
                    "server_error",
                    "The provider's token count is not valid.",
                );
                BodyEdit::Fail {
                    status: 502,
                    body: anthropic.error_body(&e),
                }
            }
        }
    }

    fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// Anthropic's `count_tokens` answer (`{"input_tokens": n}`).
pub fn anthropic_total(body: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Answer {
        input_tokens: u64,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .map(|a| a.input_tokens)
}

/// Gemini's `countTokens` answer.
pub fn gemini_total(body: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        total_tokens: u64,
    }
    serde_json::from_slice::<Answer>(body)
        .ok()
        .map(|a| a.total_tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn no_headers(_: &str) -> Option<String> {
        None
    }

    fn gemini_error(status: u16, _: &[u8]) -> ApiError {
        ApiError::new(status, "x", "gemini said no")
    }

    fn run(status: u16, body: &[u8]) -> (BodyEdit, Outcome) {
        let mut t = Translated::new(gemini_total, gemini_error);
        t.response_headers(status, &no_headers);
        let edit = t.response_body(body, true);
        (edit, t.outcome())
    }

    fn json_of(edit: &BodyEdit) -> Value {
        match edit {
            BodyEdit::Replace(b) | BodyEdit::Fail { body: b, .. } => {
                serde_json::from_slice(b).unwrap()
            }
            BodyEdit::Keep => Value::Null,
        }
    }

    #[test]
    fn gemini_count_becomes_input_tokens() {
        let (edit, outcome) = run(200, br#"{"totalTokens": 31, "promptTokensDetails": []}"#);
        assert_eq!(json_of(&edit), json!({"input_tokens": 31}));
        assert!(outcome.failure.is_none());
    }

    #[test]
    fn errors_and_garbage_are_anthropic_errors() {
        let (edit, outcome) = run(429, br#"{"error":{"code":429}}"#);
        let want =
            json!({"type":"error","error":{"type":"rate_limit_error","message":"gemini said no"}});
        assert_eq!(json_of(&edit), want);
        assert_eq!(outcome.failure.map(|f| f.status), Some(429));
        let (edit, outcome) = run(200, br#"{"totalTokens": "many"}"#);
        assert!(matches!(edit, BodyEdit::Fail { status: 502, .. }));
        assert_eq!(json_of(&edit)["error"]["type"], "api_error");
        assert_eq!(
            outcome.failure.map(|f| f.cause),
            Some(super::super::Cause::Malformed)
        );
    }

    #[test]
    fn estimate_is_bytes_over_four_rounded_up() {
        assert_eq!(estimate(b""), 0);
        assert_eq!(estimate(b"abcde"), 2);
        assert_eq!(answer(7), br#"{"input_tokens":7}"#.to_vec());
    }
}
