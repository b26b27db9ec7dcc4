//! `POST /v1/embeddings` → Gemini `models/{model}:batchEmbedContents`.
//!
//! Each input text is one `EmbedContentRequest` (Gemini wants the model
//! named again in each, as `models/<model>`); `dimensions` becomes
//! `outputDimensionality`. Token-id input has no Gemini equivalent (a 400).
//! The answer, one `values` vector per request in order, is re-encoded as
//! the OpenAI list (floats or base64, as the client asked). Gemini returns
//! no token counts for embeddings, so usage is reported as 0.

use super::errors;
use super::wire::{BatchEmbedRequest, BatchEmbedResponse, EmbedContent, EmbedContentRequest, Part};
use crate::error::ApiError;
use crate::openai::embeddings::{embeddings_json, Embeddings, EncodingFormat};
use crate::providers::{
    status_failure, BodyEdit, BodyMode, Cause, EmbedRequest, Failure, HeaderEdit, HeaderLookup,
    Outbound, Outcome, Started, TargetCtx, Translator,
};

/// Builds the upstream request and its translator.
pub(super) fn start(input: &EmbedRequest<'_>, target: TargetCtx<'_>) -> Started {
    let texts = input.req.input.texts().ok_or_else(|| {
        ApiError::invalid_param(
            "input",
            "Token-id `input` is not supported by provider gemini; send text.",
        )
    })?;
    let model = super::model_name(target.model);
    let qualified = format!("models/{model}");
    let body = BatchEmbedRequest {
        requests: texts
            .iter()
            .map(|t| EmbedContentRequest {
                model: &qualified,
                content: EmbedContent {
                    parts: vec![Part::text(t)],
                },
                output_dimensionality: input.req.dimensions,
            })
            .collect(),
    };
    let body = serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Gemini request: {e}")))?;
    let out = Outbound {
        path: super::method_path(&target.provider.base_path, model, "batchEmbedContents"),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    let translator = GeminiEmbeddings {
        model: target.public_model.to_string(),
        format: input.req.encoding_format.unwrap_or_default(),
        inputs: texts.len(),
        status: 0,
        buf: Vec::new(),
        failure: None,
        done: false,
    };
    Ok((Box::new(translator), out))
}

/// One embeddings exchange: buffers the body, then translates it whole.
#[derive(Debug)]
pub struct GeminiEmbeddings {
    model: String,
    format: EncodingFormat,
    inputs: usize,
    status: u16,
    buf: Vec<u8>,
    failure: Option<Failure>,
    done: bool,
}

impl GeminiEmbeddings {
    fn translate(&mut self, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&self.status) {
            return BodyEdit::Replace(errors::translate_error(self.status, body).to_json());
        }
        match self.decode(body) {
            Ok(e) => BodyEdit::Replace(embeddings_json(e, &self.model, self.format)),
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
            let msg = format!("Provider gemini returned an invalid embeddings response: {detail}");
            ApiError::new(502, "server_error", msg)
        };
        let resp: BatchEmbedResponse =
            serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        if resp.embeddings.len() != self.inputs {
            let (got, want) = (resp.embeddings.len(), self.inputs);
            return Err(bad(format!("{got} embeddings for {want} inputs")));
        }
        Ok(Embeddings {
            vectors: resp.embeddings.into_iter().map(|e| e.values).collect(),
            usage: Default::default(),
        })
    }
}

impl Translator for GeminiEmbeddings {
    fn response_headers(&mut self, status: u16, headers: HeaderLookup<'_>) -> HeaderEdit {
        self.status = status;
        if !(200..300).contains(&status) {
            self.failure = Some(status_failure(status, headers));
        }
        HeaderEdit {
            mode: BodyMode::Buffer,
            status: None,
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
            usage: Default::default(),
            failure: self.failure,
            streamed: 0,
        }
    }
}
