//! Request-level decisions: which endpoint, which model, which target.

pub mod count;
pub mod headers;
pub mod models;
pub mod probe;
pub mod reply_headers;

use crate::config::{Config, Model};
use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::openai::embeddings::parse_embeddings_request;
use crate::providers::auth::AuthEnv;
use crate::providers::{ChatInput, EmbedRequest, Outbound, TargetCtx, Translator};
use crate::split::Picks;
pub use models::{anthropic_model_json, anthropic_models_json, model_json, models_json};
use probe::Probe;

/// What the gateway does with an incoming request, decided from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`, `/v1/messages` or `/v1/responses`: read
    /// the body, then route; the dialect is the client's format.
    Chat(Dialect),
    /// `POST /v1/embeddings`: read the body, then route.
    Embeddings,
    /// `POST /v1/messages/count_tokens`: read the body, then count.
    CountTokens,
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
        ("POST", "/v1/chat/completions") => Endpoint::Chat(Dialect::OpenAiChat),
        ("POST", "/v1/messages") => Endpoint::Chat(Dialect::AnthropicMessages),
        ("POST", "/v1/responses") => Endpoint::Chat(Dialect::OpenAiResponses),
        ("POST", "/v1/embeddings") => Endpoint::Embeddings,
        ("POST", "/v1/messages/count_tokens") => Endpoint::CountTokens,
        ("GET", "/v1/models") => Endpoint::Models,
        ("GET", p) if p.starts_with("/v1/models/") => {
            Endpoint::Model(p.trim_start_matches("/v1/models/").to_string())
        }
        (
            _,
            "/v1/chat/completions"
            | "/v1/embeddings"
            | "/v1/models"
            | "/v1/messages"
            | "/v1/responses"
            | "/v1/messages/count_tokens",
        ) => Endpoint::Reject(
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

/// What a routed request asks a provider for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A conversation turn, in the client's dialect.
    Chat(Dialect),
    Embeddings,
    /// Anthropic's token counter (see [`count`]).
    CountTokens,
}

impl Operation {
    /// The dialect the client speaks (embeddings are OpenAI's).
    pub fn dialect(self) -> Dialect {
        match self {
            Operation::Chat(d) => d,
            Operation::Embeddings => Dialect::OpenAiChat,
            Operation::CountTokens => Dialect::AnthropicMessages,
        }
    }
}

/// A client's request body, validated for its operation.
#[derive(Debug)]
pub enum Request<'b> {
    Chat {
        body: &'b [u8],
        probe: Probe<'b>,
        dialect: Dialect,
        /// The client's `anthropic-beta` header (see [`Request::with_betas`]).
        betas: Option<&'b str>,
    },
    Embeddings(EmbedRequest<'b>),
    /// A Messages body to count the tokens of.
    Count {
        body: &'b [u8],
        probe: Probe<'b>,
    },
}

impl<'b> Request<'b> {
    /// Validates `body` as a request of `op`; every problem is a 400.
    pub fn parse(op: Operation, body: &'b [u8]) -> Result<Self, ApiError> {
        Ok(match op {
            Operation::Chat(dialect) => Request::Chat {
                body,
                probe: probe::probe_as(body, dialect)?,
                dialect,
                betas: None,
            },
            Operation::CountTokens => Request::Count {
                body,
                probe: probe::probe_as(body, Dialect::AnthropicMessages)?,
            },
            Operation::Embeddings => Request::Embeddings(EmbedRequest {
                body,
                req: parse_embeddings_request(body)?,
            }),
        })
    }

    /// A Messages client's `anthropic-beta` header goes along, for the
    /// providers that take betas in the body (Claude on Vertex).
    pub fn with_betas(mut self, header: Option<&'b str>) -> Self {
        if let Request::Chat {
            dialect: Dialect::AnthropicMessages,
            betas,
            ..
        } = &mut self
        {
            *betas = header;
        }
        self
    }

    /// The client's body, as received.
    pub fn body(&self) -> &'b [u8] {
        match self {
            Request::Chat { body, .. } => body,
            Request::Embeddings(e) => e.body,
            Request::Count { body, .. } => body,
        }
    }

    pub fn operation(&self) -> Operation {
        match self {
            Request::Chat { dialect, .. } => Operation::Chat(*dialect),
            Request::Embeddings(_) => Operation::Embeddings,
            Request::Count { .. } => Operation::CountTokens,
        }
    }

    /// Whether the client asked for a stream (embeddings never do).
    pub fn is_stream(&self) -> bool {
        matches!(self, Request::Chat { probe, .. } if probe.stream)
    }

    /// The public model name the client asked for.
    pub fn model(&self) -> &str {
        match self {
            Request::Chat { probe, .. } => &probe.model,
            Request::Embeddings(e) => &e.req.model,
            Request::Count { probe, .. } => &probe.model,
        }
    }
}

/// A request bound to an upstream target.
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

/// Validates the body for `op` and finds its model.
pub fn resolve<'c, 'b>(
    cfg: &'c Config,
    op: Operation,
    body: &'b [u8],
) -> Result<(Request<'b>, usize, &'c Model), RouteError> {
    let req = Request::parse(op, body).map_err(|e| reject(not_json(e, body), None, None))?;
    let (model_idx, model) = cfg
        .model(req.model())
        .ok_or_else(|| reject(ApiError::model_not_found(req.model()), None, None))?;
    Ok((req, model_idx, model))
}

/// A body that is no JSON at all is counted apart from an invalid request
/// (re-read only on this refusal path).
fn not_json(e: ApiError, body: &[u8]) -> ApiError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(_) => e.with_reason(crate::rejection::Rejection::InvalidJson),
        Ok(_) => e,
    }
}

/// Translates the request for one target of a resolved model.
pub fn translate<'c>(
    cfg: &'c Config,
    req: &Request<'_>,
    model_idx: usize,
    target_idx: usize,
    env: AuthEnv<'_>,
) -> Result<Routed<'c>, RouteError> {
    let ctx = target_ctx(cfg, model_idx, target_idx, env)?;
    let provider = provider_of(cfg, model_idx, target_idx)?;
    let started = match req {
        Request::Chat {
            body,
            probe,
            dialect,
            betas,
        } => {
            let input = ChatInput {
                body,
                probe,
                dialect: *dialect,
                betas: *betas,
            };
            crate::providers::chat(&input, ctx)
        }
        Request::Embeddings(input) => crate::providers::embeddings(input, ctx),
        Request::Count { .. } => Err(ApiError::internal(
            "a token count is counted (gateway::count), not translated",
        )),
    };
    let (exchange, outbound) = started.map_err(|e| reject(e, Some(model_idx), Some(target_idx)))?;
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

/// The provider of a model's target, borrowed from the config.
fn provider_of(
    cfg: &Config,
    model_idx: usize,
    target_idx: usize,
) -> Result<&crate::config::Provider, RouteError> {
    cfg.target_provider(model_idx, target_idx)
        .ok_or_else(|| reject(ApiError::internal("target missing"), Some(model_idx), None))
}

/// What a target of a resolved model needs to build its request.
fn target_ctx<'x>(
    cfg: &'x Config,
    model_idx: usize,
    target_idx: usize,
    env: AuthEnv<'x>,
) -> Result<TargetCtx<'x>, RouteError> {
    let missing = || reject(ApiError::internal("target missing"), Some(model_idx), None);
    let model = cfg.models.get(model_idx).ok_or_else(missing)?;
    let target = model.targets.get(target_idx).ok_or_else(missing)?;
    let provider = cfg.provider(target.provider).ok_or_else(missing)?;
    Ok(TargetCtx {
        provider,
        model: &target.model,
        public_model: &model.name,
        now_unix_secs: env.now_unix_secs,
        tokens: env.tokens,
    })
}

/// Picks a target for the body's model (by `picks`, see [`crate::split`])
/// and translates the request for it.
pub fn route<'c>(
    cfg: &'c Config,
    op: Operation,
    body: &[u8],
    picks: &Picks,
    env: AuthEnv<'_>,
) -> Result<Routed<'c>, RouteError> {
    let (req, model_idx, model) = resolve(cfg, op, body)?;
    let target_idx = picks.plan(model_idx, model).ok_or_else(|| {
        reject(
            ApiError::internal("model has no targets"),
            Some(model_idx),
            None,
        )
    })?;
    translate(cfg, &req, model_idx, target_idx, env)
}

/// [`route`] for a chat request.
pub fn route_chat<'c>(
    cfg: &'c Config,
    body: &[u8],
    picks: &Picks,
    env: AuthEnv<'_>,
) -> Result<Routed<'c>, RouteError> {
    route(cfg, Operation::Chat(Dialect::OpenAiChat), body, picks, env)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
