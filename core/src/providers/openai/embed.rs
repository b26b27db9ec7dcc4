//! `POST /v1/embeddings` to an OpenAI-compatible upstream (OpenAI, the
//! presets that serve it, Azure OpenAI): the client's body is forwarded as
//! it came, `model` spliced when the upstream name differs. Token input and
//! `encoding_format: "base64"` are native there, so nothing else changes.
//!
//! The answer is one JSON object whose `usage` is its last field, after the
//! vectors: it is tail-scanned like a non-streamed chat ([`super::TailScan`]),
//! so a multi-megabyte list of floats is never held by the filter (failover
//! attempts still buffer it, as every guarded 2xx JSON body is).

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{model_edit, splice, Normalize, OpenAiChat};
use crate::error::ApiError;
use crate::gateway::probe::span_of;
use crate::providers::{EmbedRequest, Outbound, TargetCtx};

#[derive(Deserialize)]
struct ModelProbe<'a> {
    #[serde(borrow)]
    model: &'a RawValue,
}

/// The forwarded embeddings request to `path` and its exchange, whose
/// errors go through `normalize`.
pub(crate) fn passthrough(
    input: &EmbedRequest<'_>,
    target: TargetCtx<'_>,
    path: String,
    normalize: Normalize,
) -> Result<(OpenAiChat, Outbound), ApiError> {
    let body = match model_edit(&input.req.model, 0..0, target.model)? {
        None => None,
        Some((_, quoted)) => {
            let span = model_span(input.body)?;
            Some(splice(input.body, vec![(span, quoted)]))
        }
    };
    let out = Outbound {
        path,
        headers: vec![("content-type", "application/json".to_string())],
        body,
    };
    Ok((OpenAiChat::json(normalize), out))
}

/// Byte range of the top-level `model` value (quotes included).
fn model_span(body: &[u8]) -> Result<std::ops::Range<usize>, ApiError> {
    let bad = || ApiError::invalid_param("model", "`model` must be a string.");
    let text = std::str::from_utf8(body).map_err(|_| bad())?;
    let probe: ModelProbe<'_> = serde_json::from_str(text).map_err(|_| bad())?;
    Ok(span_of(text, probe.model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Provider;
    use crate::openai::embeddings::parse_embeddings_request;
    use crate::providers::{BodyEdit, BodyMode};
    use serde_json::{json, Value};

    fn start(kind: &str, body: &[u8], upstream: &str) -> crate::providers::Started {
        let p = Provider::new("p", kind, "h").with_key("sk");
        let input = EmbedRequest {
            body,
            req: parse_embeddings_request(body).unwrap(),
        };
        let ctx = TargetCtx {
            provider: &p,
            model: upstream,
            public_model: "public",
            now_unix_secs: 0,
            tokens: &crate::providers::auth::NoTokens,
        };
        crate::providers::embeddings(&input, ctx)
    }

    #[test]
    fn forwards_the_body_and_splices_only_the_model() {
        let body = br#"{"input":[[1,2],[3]], "model" : "public","encoding_format":"base64"}"#;
        let (_, out) = start("openai", body, "text-embedding-3-small").unwrap();
        assert_eq!(out.path, "/v1/embeddings");
        assert_eq!(
            out.body.unwrap(),
            br#"{"input":[[1,2],[3]], "model" : "text-embedding-3-small","encoding_format":"base64"}"#
                .to_vec()
        );
        assert!(out
            .headers
            .contains(&("authorization", "Bearer sk".to_string())));
        let (_, out) = start("openai", br#"{"model":"m","input":"x"}"#, "m").unwrap();
        assert!(out.body.is_none());
    }

    #[test]
    fn presets_without_embeddings_refuse_up_front() {
        let e = start("groq", br#"{"model":"m","input":"x"}"#, "m").unwrap_err();
        assert_eq!((e.status, e.param.as_deref()), (400, Some("model")));
        assert!(
            e.message.contains("does not support embeddings"),
            "{}",
            e.message
        );
        let (_, out) = start("mistral", br#"{"model":"m","input":"x"}"#, "m").unwrap();
        assert_eq!(out.path, "/v1/embeddings");
    }

    #[test]
    fn usage_comes_from_the_tail_of_a_large_answer() {
        let (mut ex, _) = start("openai", br#"{"model":"m","input":"x"}"#, "m").unwrap();
        let h = ex.response_headers(200, &|_| None);
        assert!(matches!(h.mode, BodyMode::Tail(_)));
        let floats = vec!["0.0123456"; 20_000].join(",");
        let resp = format!(
            r#"{{"object":"list","data":[{{"object":"embedding","index":0,"embedding":[{floats}]}}],"model":"m","usage":{{"prompt_tokens":9,"total_tokens":9}}}}"#
        );
        let bytes = resp.as_bytes();
        let BodyMode::Tail(n) = h.mode else {
            unreachable!()
        };
        for (i, chunk) in bytes.chunks(4096).enumerate() {
            let tail = &chunk[chunk.len().saturating_sub(n)..];
            let end = (i + 1) * 4096 >= bytes.len();
            assert_eq!(ex.response_body(tail, end), BodyEdit::Keep);
        }
        assert_eq!((ex.usage().input, ex.usage().output), (9, 0));
        assert!(!ex.failed());
    }

    #[test]
    fn errors_are_normalised_like_chat() {
        let (mut ex, _) = start("openai", br#"{"model":"m","input":"x"}"#, "m").unwrap();
        ex.response_headers(502, &|_| None);
        let BodyEdit::Replace(b) = ex.response_body(b"<html>bad gateway</html>", true) else {
            panic!("expected a rewrite")
        };
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["type"], json!("server_error"));
        assert!(ex.failed());
    }
}
