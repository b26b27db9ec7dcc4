//! `POST /v1/embeddings` → Cohere `POST /v2/embed`.
//!
//! The texts go as `texts` with the provider's `input_type` (see the module
//! docs of `cohere` for the default) and `embedding_types: ["float"]`: the
//! gateway asks for floats always and packs them itself when the client
//! wants `encoding_format: "base64"`, so the client gets OpenAI's
//! little-endian `f32` encoding whatever Cohere's `base64` type is.
//! `dimensions` → `output_dimension` (embed v4 and later; older models
//! answer with their own 400). Token-id input has no Cohere equivalent (a
//! 400). Usage: `meta.tokens.input_tokens`, else
//! `meta.billed_units.input_tokens`.

use super::errors;
use super::response::usage_from_wire;
use super::wire::{EmbedRequest as Wire, EmbedResponse, WireUsage};
use super::Options;
use crate::error::ApiError;
use crate::openai::embeddings::{embeddings_json, Embeddings, EncodingFormat};
use crate::providers::{
    join_path, status_failure, BodyEdit, BodyMode, Cause, EmbedRequest, Failure, HeaderEdit,
    HeaderLookup, Outbound, Outcome, Started, TargetCtx, Translator,
};
use crate::usage::Usage;

/// Builds the upstream request and its translator.
pub(super) fn start(opts: &Options, input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
    let texts = input.req.input.texts().ok_or_else(|| {
        ApiError::invalid_param(
            "input",
            "Token-id `input` is not supported by provider cohere; send text.",
        )
    })?;
    let inputs = texts.len();
    let body = Wire {
        model: target.model,
        texts,
        input_type: opts.input_type().as_str(),
        embedding_types: ["float"],
        output_dimension: input.req.dimensions,
    };
    let body = serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Cohere request: {e}")))?;
    let out = Outbound {
        path: join_path(&target.provider.base_path, "/embed"),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    let translator = CohereEmbeddings {
        model: target.public_model.to_string(),
        format: input.req.encoding_format.unwrap_or_default(),
        inputs,
        status: 0,
        buf: Vec::new(),
        usage: Usage::default(),
        failure: None,
        done: false,
    };
    Ok((Box::new(translator), out))
}

/// One embeddings exchange: buffers the body, then translates it whole.
#[derive(Debug)]
pub struct CohereEmbeddings {
    model: String,
    format: EncodingFormat,
    inputs: usize,
    status: u16,
    buf: Vec<u8>,
    usage: Usage,
    failure: Option<Failure>,
    done: bool,
}

impl CohereEmbeddings {
    fn translate(&mut self, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&self.status) {
            return BodyEdit::Replace(errors::translate_error(self.status, body).to_json());
        }
        match self.decode(body) {
            Ok(e) => {
                self.usage = e.usage;
                BodyEdit::Replace(embeddings_json(e, &self.model, self.format))
            }
            Err(e) => {
                self.failure = Some(Failure {
                    cause: Cause::Malformed,
                    status: e.status,
                    retry_after_ms: None,
                });
                BodyEdit::Fail {
                    status: e.status,
                    body: e.to_json(),
                }
            }
        }
    }

    fn decode(&self, body: &[u8]) -> Result<Embeddings, ApiError> {
        let bad = |detail: String| {
            let msg = format!("Provider cohere returned an invalid embeddings response: {detail}");
            ApiError::new(502, "server_error", msg)
        };
        let resp: EmbedResponse = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        let vectors = resp.embeddings.floats;
        if vectors.len() != self.inputs {
            let (got, want) = (vectors.len(), self.inputs);
            return Err(bad(format!("{got} embeddings for {want} inputs")));
        }
        let usage = resp.meta.map(|m| {
            usage_from_wire(&WireUsage {
                billed_units: m.billed_units,
                tokens: m.tokens,
                cached_tokens: None,
            })
        });
        Ok(Embeddings {
            vectors,
            usage: usage.unwrap_or_default(),
        })
    }
}

impl Translator for CohereEmbeddings {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        self.status = status;
        let client = errors::client_status(status);
        if !(200..300).contains(&status) {
            self.failure = Some(status_failure(client, headers));
        }
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: (client != status).then_some(client),
            content_type: Some("application/json"),
            drop_content_length: true,
        }
    }

    fn response_body(&mut self, data: &[u8], end: bool) -> BodyEdit {
        if self.done {
            return BodyEdit::Keep;
        }
        self.buf.extend_from_slice(data);
        if !end {
            return BodyEdit::Replace(Vec::new());
        }
        self.done = true;
        let body = std::mem::take(&mut self.buf);
        self.translate(&body)
    }

    fn outcome(&self) -> Outcome {
        Outcome {
            content: false,
            usage: self.usage,
            failure: self.failure,
            streamed: 0,
        }
    }
}
