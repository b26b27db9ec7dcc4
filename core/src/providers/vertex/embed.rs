//! `POST /v1/embeddings` → Vertex `publishers/google/models/{m}:predict`.
//!
//! Vertex's text embedding models (`text-embedding-005`,
//! `text-multilingual-embedding-002`, `gemini-embedding-001`) are called
//! with the prediction API, not the Gemini API's `batchEmbedContents`:
//! `{"instances":[{"content":text},...],"parameters":{"outputDimensionality":d}}`
//! answered by `{"predictions":[{"embeddings":{"values":[...],
//! "statistics":{"token_count":n,"truncated":b}}}]}`, one prediction per
//! instance in order. `dimensions` becomes `outputDimensionality`; the
//! token counts add up to the usage's input. Token-id input has no Vertex
//! equivalent (a 400). Limits stay Vertex's and its 400s are passed on
//! (e.g. `gemini-embedding-001` takes one instance per request).

use serde::{Deserialize, Serialize};

use super::{Options, Publisher};
use crate::error::ApiError;
use crate::openai::embeddings::{embeddings_json, Embeddings, EncodingFormat};
use crate::providers::decoded::Codec;
use crate::providers::gemini::GeminiCodec;
use crate::providers::{
    status_failure, BodyEdit, BodyMode, Cause, EmbedRequest, Failure, HeaderEdit, HeaderLookup,
    Outbound, Outcome, Started, TargetCtx, Translator,
};
use crate::usage::Usage;

#[derive(Serialize)]
struct PredictRequest<'r> {
    instances: Vec<Instance<'r>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<Parameters>,
}

#[derive(Serialize)]
struct Instance<'r> {
    content: &'r str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Parameters {
    output_dimensionality: u32,
}

#[derive(Deserialize)]
struct PredictResponse {
    predictions: Vec<Prediction>,
}

#[derive(Deserialize)]
struct Prediction {
    embeddings: Embedding,
}

#[derive(Deserialize)]
struct Embedding {
    values: Vec<f32>,
    #[serde(default)]
    statistics: Option<Statistics>,
}

#[derive(Deserialize)]
struct Statistics {
    #[serde(default)]
    token_count: Option<f64>,
}

/// Builds the upstream request and its translator.
pub(super) fn start(
    opts: &Options,
    input: &EmbedRequest<'_>,
    target: TargetCtx<'_>,
    model: &str,
) -> Started {
    let texts = input.req.input.texts().ok_or_else(|| {
        ApiError::invalid_param(
            "input",
            "Token-id `input` is not supported by provider vertex; send text.",
        )
    })?;
    let body = PredictRequest {
        instances: texts.iter().map(|t| Instance { content: t }).collect(),
        parameters: input.req.dimensions.map(|d| Parameters {
            output_dimensionality: d,
        }),
    };
    let body = serde_json::to_vec(&body)
        .map_err(|e| ApiError::internal(format!("cannot encode the Vertex request: {e}")))?;
    let base = &target.provider.base_path;
    let out = Outbound {
        path: opts.path(base, Publisher::Google, model, "predict"),
        headers: vec![("content-type", "application/json".to_string())],
        body: Some(body),
    };
    let translator = VertexEmbeddings {
        model: target.public_model.to_string(),
        format: input.req.encoding_format.unwrap_or_default(),
        inputs: texts.len(),
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
pub struct VertexEmbeddings {
    model: String,
    format: EncodingFormat,
    inputs: usize,
    status: u16,
    buf: Vec<u8>,
    usage: Usage,
    failure: Option<Failure>,
    done: bool,
}

impl VertexEmbeddings {
    fn translate(&mut self, body: &[u8]) -> BodyEdit {
        if !(200..300).contains(&self.status) {
            let e = GeminiCodec::default().error(self.status, body);
            return BodyEdit::Replace(e.to_json());
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
            let msg = format!("Provider vertex returned an invalid embeddings response: {detail}");
            ApiError::new(502, "server_error", msg)
        };
        let resp: PredictResponse = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
        if resp.predictions.len() != self.inputs {
            let (got, want) = (resp.predictions.len(), self.inputs);
            return Err(bad(format!("{got} embeddings for {want} inputs")));
        }
        let mut input = 0u64;
        let mut vectors = Vec::with_capacity(resp.predictions.len());
        for p in resp.predictions {
            let count = p.embeddings.statistics.and_then(|s| s.token_count);
            // Counts are whole numbers, sent as JSON numbers of either kind.
            input = input.saturating_add(count.filter(|c| *c >= 0.0).unwrap_or(0.0) as u64);
            vectors.push(p.embeddings.values);
        }
        let usage = Usage {
            input,
            ..Usage::default()
        };
        Ok(Embeddings { vectors, usage })
    }
}

impl Translator for VertexEmbeddings {
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
            usage: self.usage,
            failure: self.failure,
            streamed: 0,
        }
    }
}
