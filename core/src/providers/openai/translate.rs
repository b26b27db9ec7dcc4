//! An OpenAI-wire provider serving a client of another dialect: the
//! neutral request encoded as chat completions (`encode.rs`), the answer
//! decoded into neutral events (`decode.rs`) and written in the client's
//! dialect. Preset quirks apply to the encoded body as they do to a
//! passthrough body.

use super::decode::OpenAiCodec;
use super::encode::{chat_body, Target};
use super::{quirks, Passthrough};
use crate::events::Meta;
use crate::providers::decoded::Decoded;
use crate::providers::{ChatInput, Outbound, Started, TargetCtx};

/// Starts the translated exchange at `spec.path`.
pub(crate) fn translated(
    spec: Passthrough,
    input: &ChatInput<'_>,
    target: TargetCtx<'_>,
) -> Started {
    let req = input.dialect.decode(input.body)?;
    let enc = Target {
        model: target.model,
        stream_usage: spec.stream_usage,
    };
    let mut body = chat_body(&req, enc)?;
    if let Some(preset) = spec.preset {
        if let Some(fixed) = quirks::apply(preset, &body)? {
            body = fixed;
        }
    }
    let meta = Meta {
        model: target.public_model.to_string(),
        created: target.now_unix_secs,
        include_usage: req.include_usage(),
        encrypted_reasoning: req.ext.encrypted_reasoning,
    };
    let codec = OpenAiCodec::new(spec.normalize);
    let chat = Decoded::new(codec, input.dialect.encoder(meta), req.is_stream());
    let out = Outbound {
        path: spec.path,
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    Ok((Box::new(chat), out))
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
