//! Request-level decisions: which endpoint, which model, which target.

pub mod headers;
pub mod probe;

use serde::Serialize;

use crate::config::{Config, Model};
use crate::error::ApiError;
use crate::events::Dialect;
use crate::providers::{ChatInput, Outbound, TargetCtx, Translator};
use probe::Probe;

/// What the gateway does with an incoming request, decided from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`: read the body, then route.
    Chat,
    /// `GET /v1/models`: answered locally.
    Models,
    /// `GET /v1/models/{id}`: answered locally.
    Model(String),
    /// Another path or method under `/v1/`: answered locally with this error.
    Reject(ApiError),
    /// Not ours: let Envoy route it.
    Other,
}

pub fn classify(method: &str, path: &str) -> Endpoint {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    match (method, path) {
        ("POST", "/v1/chat/completions") => Endpoint::Chat,
        ("GET", "/v1/models") => Endpoint::Models,
        ("GET", p) if p.starts_with("/v1/models/") => {
            Endpoint::Model(p.trim_start_matches("/v1/models/").to_string())
        }
        (_, "/v1/chat/completions") | (_, "/v1/models") => Endpoint::Reject(
            ApiError::new(
                405,
                "invalid_request_error",
                format!("Method {method} is not allowed on {path}."),
            )
            .with_code("method_not_allowed"),
        ),
        _ if path == "/v1" || path.starts_with("/v1/") => {
            Endpoint::Reject(ApiError::unknown_path(method, path))
        }
        _ => Endpoint::Other,
    }
}

/// A chat request bound to an upstream target.
#[derive(Debug)]
pub struct Routed<'c> {
    pub model_idx: usize,
    pub target_idx: usize,
    /// The provider's configured name.
    pub provider: &'c str,
    pub cluster: &'c str,
    pub authority: &'c str,
    pub outbound: Outbound,
    pub exchange: Box<dyn Translator>,
}

/// A routing failure; `model_idx` is set when the model was known.
#[derive(Debug)]
pub struct RouteError {
    pub model_idx: Option<usize>,
    pub target_idx: Option<usize>,
    pub error: ApiError,
}

fn reject(error: ApiError, model_idx: Option<usize>, target_idx: Option<usize>) -> RouteError {
    RouteError {
        model_idx,
        target_idx,
        error,
    }
}

/// Validates the body's envelope and finds its model.
pub fn resolve<'c, 'b>(
    cfg: &'c Config,
    body: &'b [u8],
) -> Result<(Probe<'b>, usize, &'c Model), RouteError> {
    let p = probe::probe(body).map_err(|e| reject(e, None, None))?;
    let (model_idx, model) = cfg
        .model(&p.model)
        .ok_or_else(|| reject(ApiError::model_not_found(&p.model), None, None))?;
    Ok((p, model_idx, model))
}

/// Translates the request for one target of a resolved model.
pub fn translate<'c>(
    cfg: &'c Config,
    body: &[u8],
    p: &Probe<'_>,
    model_idx: usize,
    target_idx: usize,
    now_unix_secs: u64,
) -> Result<Routed<'c>, RouteError> {
    let missing = || reject(ApiError::internal("target missing"), Some(model_idx), None);
    let model = cfg.models.get(model_idx).ok_or_else(missing)?;
    let target = model.targets.get(target_idx).ok_or_else(missing)?;
    let provider = cfg.provider(target.provider).ok_or_else(missing)?;
    let ctx = TargetCtx {
        provider,
        model: &target.model,
        public_model: &model.name,
        now_unix_secs,
    };
    let input = ChatInput {
        body,
        probe: p,
        dialect: Dialect::OpenAiChat,
    };
    let (exchange, outbound) = crate::providers::chat(&input, ctx)
        .map_err(|e| reject(e, Some(model_idx), Some(target_idx)))?;
    Ok(Routed {
        model_idx,
        target_idx,
        provider: &provider.name,
        cluster: &provider.cluster,
        authority: &provider.host,
        outbound,
        exchange,
    })
}

/// Picks a target for the body's model and translates the request for it.
pub fn route_chat<'c>(
    cfg: &'c Config,
    body: &[u8],
    ticket: u64,
    now_unix_secs: u64,
) -> Result<Routed<'c>, RouteError> {
    let (p, model_idx, model) = resolve(cfg, body)?;
    let (target_idx, _) = model.pick(ticket).ok_or_else(|| {
        reject(
            ApiError::internal("model has no targets"),
            Some(model_idx),
            None,
        )
    })?;
    translate(cfg, body, &p, model_idx, target_idx, now_unix_secs)
}

#[derive(Serialize)]
struct ModelList<'a> {
    object: &'static str,
    data: Vec<ModelEntry<'a>>,
}

#[derive(Serialize)]
struct ModelEntry<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

fn entry(m: &Model, created: u64) -> ModelEntry<'_> {
    ModelEntry {
        id: &m.name,
        object: "model",
        created,
        owned_by: &m.owned_by,
    }
}

/// The `/v1/models` body; built once per configuration.
pub fn models_json(cfg: &Config, created: u64) -> Vec<u8> {
    let list = ModelList {
        object: "list",
        data: cfg.models.iter().map(|m| entry(m, created)).collect(),
    };
    serde_json::to_vec(&list).unwrap_or_else(|_| br#"{"object":"list","data":[]}"#.to_vec())
}

/// The `/v1/models/{id}` answer: the model object, or a 404 error.
pub fn model_json(cfg: &Config, id: &str, created: u64) -> Result<Vec<u8>, ApiError> {
    let (_, m) = cfg.model(id).ok_or_else(|| ApiError::model_not_found(id))?;
    serde_json::to_vec(&entry(m, created)).map_err(|_| ApiError::internal("cannot encode model"))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
