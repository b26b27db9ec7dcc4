//! The client-facing role: one instance per client request.
//!
//! Single-target models keep the direct path: translate here, send to the
//! provider's cluster, translate the response here. Failover models are sent
//! to a rotation cluster untranslated; the upstream role translates each
//! attempt and this side only restores the client's status and rewrites
//! Envoy's own replies (every attempt refused or timed out, no healthy
//! upstream) into OpenAI errors.

use crate::dialect::Dialect;
use crate::error::{foreign_unless_envelope, ApiError};
use crate::gateway::count::{count, Counted};
use crate::gateway::{
    anthropic_model_json, classify, model_json, resolve, translate, Endpoint, Operation, Request,
    RouteError, Routed,
};
use crate::rejection::Rejection;
use crate::stats::Counter;

use super::response::{header, set_header, status_of, FailureClass, ResponseFlow};
use super::telemetry::{set_log_fields, LogFields, Timing, CLIENT_PATH, UPSTREAM_PATH};
use super::worker::Worker;
use super::{
    send_routed, Flow, Host, Level, OWN_PREFIX, PROVIDER_HEADER, REQUEST_ID, STATUS_HEADER,
};
use crate::gateway::reply_headers::Ingress;
use crate::stats::Tally;
use crate::usage::{estimate, Usage};

mod failover;
mod reply;

const JSON: &str = "application/json";
/// Envoy's per-request override of the route's `num_retries`.
const MAX_RETRIES: &str = "x-envoy-max-retries";

#[derive(Debug)]
enum State {
    /// Not a modelmux endpoint, or answered locally without a model.
    Bypass,
    /// Chat or embeddings request: buffering the body before routing.
    AwaitBody(Box<Pending>),
    /// Answered locally with an error after the model was resolved.
    Local { model: usize, target: usize },
    /// Translated here and sent to the target's provider cluster.
    Single {
        model: usize,
        target: usize,
        flow: Box<ResponseFlow>,
    },
    /// Sent to a rotation cluster; attempts are translated upstream.
    Failover(Box<FailoverState>),
    /// Envoy answered before the body was routed (e.g. 413 over the buffer
    /// limit); its body is rewritten into an OpenAI error.
    EnvoyReply { status: u16 },
}

/// A routed request's head, kept until its body is complete.
#[derive(Debug)]
struct Pending {
    /// The client's headers, without the filter's own.
    headers: Vec<(String, String)>,
    op: Operation,
    /// Bytes Envoy has buffered so far (trailers end the body without a
    /// size of their own).
    size: usize,
}

#[derive(Debug)]
struct FailoverState {
    model: usize,
    head: usize,
    id: String,
    /// The status the client got.
    status: Option<u16>,
    /// Envoy's own reply (no attempt answered): rewrite its body.
    envoy_reply: bool,
    /// The client's `x-request-id`, put back for the access log once no
    /// attempt needs the record id any more.
    client_request_id: Option<String>,
}

#[derive(Debug)]
pub struct Downstream {
    state: State,
    timing: Timing,
    /// The client asked for a stream.
    stream: bool,
    /// Size of the client's request body (for a usage estimate).
    body_bytes: u64,
    /// The client's format: every local reply is written in it.
    dialect: Dialect,
}

impl Default for Downstream {
    fn default() -> Self {
        Downstream {
            state: State::Bypass,
            timing: Timing::default(),
            stream: false,
            body_bytes: 0,
            dialect: Dialect::OpenAiChat,
        }
    }
}

fn reply_error(host: &mut dyn Host, dialect: Dialect, e: &ApiError) {
    host.reply(e.status, &dialect.error_body(e));
}

/// Removes the client's copies of headers that only the filter or the
/// operator may set (one host call per header present, none usually).
fn strip(host: &mut dyn Host, headers: &[(String, String)], drop: impl Fn(&str) -> bool) {
    for (name, _) in headers.iter().filter(|(n, _)| drop(n)) {
        host.set_request_header(name, None);
    }
}

/// A compressed body could be neither read nor rewritten: a 415.
fn encoding_error(headers: &[(String, String)]) -> Option<ApiError> {
    let coding = find(headers, "content-encoding")?.trim();
    if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
        return None;
    }
    let message = format!(
        "Compressed request bodies are not supported (content-encoding: {coding}); send the body uncompressed."
    );
    Some(
        ApiError::new(415, "invalid_request_error", message)
            .with_code("unsupported_content_encoding"),
    )
}

/// Claude Code's `x-claude-code-session-id` goes to the access log (a
/// host call only when the header is there), cut to 128 visible ASCII
/// characters: a client's value must not forge log lines.
fn log_session(host: &mut dyn Host, headers: &[(String, String)]) {
    if let Some(id) = find(headers, SESSION_HEADER) {
        let id: String = id
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(128)
            .collect();
        host.set_filter_state(SESSION_STATE, &id);
    }
}

/// Claude Code's session header, and where the access log reads it.
pub const SESSION_HEADER: &str = "x-claude-code-session-id";
pub const SESSION_STATE: &str = "modelmux_session_id";

fn find<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

impl Downstream {
    pub fn on_request_headers(&mut self, w: &Worker, host: &mut dyn Host, end: bool) -> Flow {
        let headers = host.request_headers();
        let method = find(&headers, ":method").unwrap_or("");
        let path = find(&headers, ":path").unwrap_or("");
        // The access log's `path` is the client's: `%REQ(:PATH)%` would show
        // the upstream path this filter may write into the same header map.
        host.set_filter_state(CLIENT_PATH, path);
        // An Anthropic client (its version header) gets Anthropic's formats
        // for the model list and for errors on paths outside its dialect.
        let anthropic = find(&headers, "anthropic-version").is_some();
        if anthropic {
            self.dialect = Dialect::AnthropicMessages;
        }
        match classify(method, path) {
            Endpoint::Other => {
                strip(host, &headers, |n| {
                    n == w.cfg.cluster_header || n.starts_with(OWN_PREFIX)
                });
                Flow::Continue
            }
            Endpoint::Models if anthropic => {
                host.reply(200, &w.anthropic_models_json);
                Flow::Pause
            }
            Endpoint::Models => {
                host.reply(200, &w.models_json);
                Flow::Pause
            }
            Endpoint::Model(id) => {
                let answer = match anthropic {
                    true => anthropic_model_json(&w.cfg, &id, w.models_created),
                    false => model_json(&w.cfg, &id, w.models_created),
                };
                match answer {
                    Ok(body) => host.reply(200, &body),
                    Err(e) => reply_error(host, self.dialect, &e),
                }
                Flow::Pause
            }
            Endpoint::Reject(e) => {
                let reason = Rejection::of(&e).unwrap_or(Rejection::InvalidRequest);
                w.stats.rejected(None, reason);
                reply_error(host, self.dialect, &e);
                Flow::Pause
            }
            Endpoint::Chat(dialect) => {
                self.dialect = dialect;
                self.await_body(w, host, headers, Operation::Chat(dialect), end)
            }
            Endpoint::Embeddings => self.await_body(w, host, headers, Operation::Embeddings, end),
            Endpoint::CountTokens => {
                self.dialect = Dialect::AnthropicMessages;
                self.await_body(w, host, headers, Operation::CountTokens, end)
            }
        }
    }

    fn await_body(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        mut headers: Vec<(String, String)>,
        op: Operation,
        end: bool,
    ) -> Flow {
        // Whatever happens next, the client's routing never survives: a
        // path the filter does not complete finds no cluster.
        let internal = |n: &str| {
            n == w.cfg.cluster_header || n.starts_with(OWN_PREFIX) || n.starts_with("x-envoy-")
        };
        strip(host, &headers, internal);
        headers.retain(|(n, _)| !internal(n));
        if let Some(e) = encoding_error(&headers) {
            w.stats
                .rejected(None, Rejection::UnsupportedContentEncoding);
            reply_error(host, self.dialect, &e);
            return Flow::Pause;
        }
        if end {
            w.stats.rejected(None, Rejection::InvalidRequest);
            let what = match op {
                Operation::Chat(_) => "chat",
                Operation::Embeddings => "embeddings",
                Operation::CountTokens => "Messages",
            };
            let message = format!("The request body is empty; expected a JSON {what} request.");
            reply_error(host, self.dialect, &ApiError::invalid_request(message));
            return Flow::Pause;
        }
        log_session(host, &headers);
        // The request goes no further until the body phase either answers
        // locally or replaces the whole header set.
        self.timing = Timing::start(w, host, &headers);
        self.state = State::AwaitBody(Box::new(Pending {
            headers,
            op,
            size: 0,
        }));
        Flow::Pause
    }

    pub fn on_request_body(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        size: usize,
        end: bool,
    ) -> Flow {
        let State::AwaitBody(pending) = &mut self.state else {
            return Flow::Continue;
        };
        pending.size = size;
        if !end {
            return Flow::Pause;
        }
        self.finish_body(w, host)
    }

    /// Trailers end the request: the body is complete, route it now (the
    /// trailers themselves are the client's and go no further).
    pub fn on_request_trailers(&mut self, w: &Worker, host: &mut dyn Host) -> Flow {
        if !matches!(self.state, State::AwaitBody(..)) {
            return Flow::Continue;
        }
        host.clear_request_trailers();
        self.finish_body(w, host)
    }

    fn finish_body(&mut self, w: &Worker, host: &mut dyn Host) -> Flow {
        let State::AwaitBody(pending) = std::mem::replace(&mut self.state, State::Bypass) else {
            return Flow::Continue;
        };
        let Pending { headers, op, size } = *pending;
        let body = host.request_body(size);
        self.body_bytes = u64::try_from(size).unwrap_or(u64::MAX);
        let betas = find(&headers, "anthropic-beta");
        let routed = resolve(&w.cfg, op, &body).and_then(|(req, model_idx, model)| {
            let req = req.with_betas(betas);
            host.set_filter_state("modelmux_model", &model.name);
            self.stream = matches!(&req, Request::Chat { probe, .. } if probe.stream);
            if let Request::Count { .. } = req {
                // A count goes to one target, failover model or not.
                let target = w.picks.plan(model_idx, model).unwrap_or(0);
                return count(&w.cfg, &req, model_idx, target, w.auth_env()).map(Some);
            }
            match model.failover {
                None => {
                    let target = w.picks.plan(model_idx, model).unwrap_or(0);
                    let routed = translate(&w.cfg, &req, model_idx, target, w.auth_env())?;
                    Ok(Some(Counted::Send(routed)))
                }
                Some(_) => {
                    self.start_failover(w, host, headers.clone(), &req, (model_idx, model))?;
                    Ok(None)
                }
            }
        });
        match routed {
            Ok(Some(Counted::Send(r))) => self.forward(w, host, headers, r, size),
            Ok(Some(Counted::Answer(body))) => host.reply(200, &body),
            Ok(None) => {}
            Err(e) => self.reject(w, host, e),
        }
        Flow::Continue
    }

    fn reject(&mut self, w: &Worker, host: &mut dyn Host, e: RouteError) {
        // The message can quote request content: trace level only.
        host.log(
            Level::Trace,
            &format!(
                "modelmux: rejected request ({}): {}",
                e.error.status, e.error.message
            ),
        );
        // The client's mistake is a rejection, never a request of the
        // model × provider; a gateway-side failure (5xx) stays an error.
        self.state = match (Rejection::of(&e.error), e.model_idx) {
            (Some(reason), model) => {
                w.stats.rejected(model, reason);
                State::Bypass
            }
            (None, Some(model)) => State::Local {
                model,
                target: e.target_idx.unwrap_or(0),
            },
            (None, None) => {
                w.stats.rejected(None, Rejection::InvalidRequest);
                State::Bypass
            }
        };
        reply_error(host, self.dialect, &e.error);
    }

    fn forward(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        client: Vec<(String, String)>,
        r: Routed<'_>,
        size: usize,
    ) {
        send_routed(host, client, &r, &w.cfg, r.cluster, size);
        host.set_filter_state("modelmux_provider", r.provider);
        host.set_filter_state(UPSTREAM_PATH, &r.outbound.path);
        w.stats.add(r.model_idx, r.target_idx, Counter::Attempts, 1);
        self.state = State::Single {
            model: r.model_idx,
            target: r.target_idx,
            flow: Box::new(
                ResponseFlow::new(r.exchange, None)
                    .with_limit(w.cfg.response_buffer_bytes)
                    .with_dialect(self.dialect),
            ),
        };
    }
}
