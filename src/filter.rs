//! Per-stream HTTP context. Each callback asks the core what to do and
//! applies the answer; the stream's progress is the `Phase` enum.

use std::rc::Rc;

use log::{debug, trace};
use modelmux_core::error::{normalize_error_body, ApiError};
use modelmux_core::gateway::headers::{upstream_headers, Rewrite};
use modelmux_core::gateway::{classify, model_json, route_chat, Endpoint, RouteError, Routed};
use modelmux_core::providers::{BodyEdit, BodyMode, Exchange, HeaderEdit};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::metrics::Outcome;
use crate::root::Shared;

enum Phase {
    /// Not a modelmux endpoint, or answered locally without a model.
    Bypass,
    /// Chat request: buffering the body before routing; the client's headers.
    AwaitBody(Vec<(String, String)>),
    /// Answered locally with an error after the model was resolved.
    Failed { model: usize, target: usize },
    /// Forwarded upstream.
    Upstream(Box<Upstream>),
    /// Envoy answered before the body was routed (e.g. 413 over the buffer
    /// limit); its body is rewritten into an OpenAI error.
    EnvoyReply { status: u16 },
}

struct Upstream {
    model: usize,
    target: usize,
    exchange: Exchange,
    mode: Option<BodyMode>,
    /// Header edits held back with the headers until a buffered body is done.
    held: Option<HeaderEdit>,
    complete: bool,
}

pub struct Filter {
    shared: Rc<Shared>,
    phase: Phase,
}

impl Filter {
    pub fn new(shared: Rc<Shared>) -> Self {
        Filter {
            shared,
            phase: Phase::Bypass,
        }
    }

    fn reply_error(&self, e: &ApiError) {
        let body = e.to_json();
        self.send_http_response(
            u32::from(e.status),
            vec![("content-type", "application/json")],
            Some(&body),
        );
    }

    fn route(&mut self, headers: Vec<(String, String)>, body: &[u8], body_size: usize) -> Action {
        let ticket = self.shared.ticket.get();
        self.shared.ticket.set(ticket.wrapping_add(1));
        let shared = Rc::clone(&self.shared);
        match route_chat(&shared.cfg, body, ticket, shared.now_unix_secs.get()) {
            Ok(routed) => {
                self.forward(headers, routed, body_size);
                Action::Continue
            }
            Err(RouteError {
                model_idx,
                target_idx,
                error,
            }) => {
                // The message can quote request content: trace level only.
                trace!(
                    "modelmux: rejected request ({}): {}",
                    error.status,
                    error.message
                );
                self.phase = match (model_idx, target_idx) {
                    (Some(model), Some(target)) => Phase::Failed { model, target },
                    _ => {
                        shared.metrics.rejected();
                        Phase::Bypass
                    }
                };
                self.reply_error(&error);
                Action::Pause
            }
        }
    }

    fn forward(&mut self, client: Vec<(String, String)>, r: Routed<'_>, body_size: usize) {
        if let Some(b) = &r.outbound.body {
            self.set_http_request_body(0, body_size, b);
        }
        let rewrite = Rewrite {
            cluster_header: &self.shared.cfg.cluster_header,
            cluster: r.cluster,
            authority: r.authority,
            path: &r.outbound.path,
            extra: &r.outbound.headers,
            body_len: r.outbound.body.as_ref().map(Vec::len),
        };
        let headers = upstream_headers(client, &rewrite);
        self.set_http_request_headers(
            headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
        );
        self.phase = Phase::Upstream(Box::new(Upstream {
            model: r.model_idx,
            target: r.target_idx,
            exchange: r.exchange,
            mode: None,
            held: None,
            complete: false,
        }));
    }

    /// Applies header edits; `body_len` is the final length of a buffered
    /// body (headers still held back), which then gets an exact length.
    fn apply_header_edit(&self, edit: &HeaderEdit, body_len: Option<usize>) {
        if let Some(status) = edit.status {
            self.set_http_response_header(":status", Some(&status.to_string()));
        }
        if let Some(ct) = edit.content_type {
            self.set_http_response_header("content-type", Some(ct));
        }
        match body_len {
            Some(len) => self.set_http_response_header("content-length", Some(&len.to_string())),
            None if edit.drop_content_length => {
                self.set_http_response_header("content-length", None)
            }
            None => {}
        }
    }
}

impl Filter {
    fn rewrite_envoy_reply(&mut self, status: u16, body_size: usize, end: bool) -> Action {
        if !end {
            return Action::Pause;
        }
        let body = self
            .get_http_response_body(0, body_size)
            .unwrap_or_default();
        let new = normalize_error_body(status, &body, "gateway");
        let len = new.as_ref().map_or(body_size, Vec::len);
        if let Some(bytes) = &new {
            self.set_http_response_body(0, body_size, bytes);
        }
        self.set_http_response_header("content-type", Some("application/json"));
        self.set_http_response_header("content-length", Some(&len.to_string()));
        Action::Continue
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let headers = self.get_http_request_headers();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let endpoint = classify(find(":method").unwrap_or(""), find(":path").unwrap_or(""));
        match endpoint {
            Endpoint::Other => {
                let header = &self.shared.cfg.cluster_header;
                if headers.iter().any(|(n, _)| n == header) {
                    self.set_http_request_header(header, None);
                }
                Action::Continue
            }
            Endpoint::Models => {
                self.send_http_response(
                    200,
                    vec![("content-type", "application/json")],
                    Some(&self.shared.models_json),
                );
                Action::Pause
            }
            Endpoint::Model(id) => {
                match model_json(&self.shared.cfg, &id, self.shared.models_created) {
                    Ok(body) => self.send_http_response(
                        200,
                        vec![("content-type", "application/json")],
                        Some(&body),
                    ),
                    Err(e) => self.reply_error(&e),
                }
                Action::Pause
            }
            Endpoint::Reject(e) => {
                self.shared.metrics.rejected();
                self.reply_error(&e);
                Action::Pause
            }
            Endpoint::Chat if end_of_stream => {
                self.shared.metrics.rejected();
                self.reply_error(&ApiError::invalid_request(
                    "The request body is empty; expected a JSON chat request.",
                ));
                Action::Pause
            }
            Endpoint::Chat => {
                // The request goes no further until the body phase either
                // answers locally or replaces the whole header set.
                self.phase = Phase::AwaitBody(headers);
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !matches!(self.phase, Phase::AwaitBody(_)) {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let Phase::AwaitBody(headers) = std::mem::replace(&mut self.phase, Phase::Bypass) else {
            return Action::Continue;
        };
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        self.route(headers, &body, body_size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        if !matches!(self.phase, Phase::Upstream(_) | Phase::AwaitBody(_)) {
            return Action::Continue;
        }
        let status = self
            .get_http_response_header(":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        if matches!(self.phase, Phase::AwaitBody(_)) {
            self.phase = Phase::EnvoyReply { status };
            return if end_of_stream {
                Action::Continue
            } else {
                Action::Pause
            };
        }
        let Phase::Upstream(up) = &mut self.phase else {
            return Action::Continue;
        };
        let edit = up.exchange.response_headers(status);
        up.mode = Some(edit.mode);
        up.complete |= end_of_stream;
        if edit.mode == BodyMode::Buffer && !end_of_stream {
            // Hold the headers: the status and length depend on the body.
            up.held = Some(edit);
            return Action::Pause;
        }
        self.apply_header_edit(&edit, None);
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if let Phase::EnvoyReply { status } = self.phase {
            return self.rewrite_envoy_reply(status, body_size, end_of_stream);
        }
        let mode = match &self.phase {
            Phase::Upstream(up) => match up.mode {
                Some(m) => m,
                None => return Action::Continue,
            },
            _ => return Action::Continue,
        };
        let (start, len) = match mode {
            BodyMode::Buffer if !end_of_stream => return Action::Pause,
            BodyMode::Tail(n) => (body_size.saturating_sub(n), n.min(body_size)),
            BodyMode::Buffer | BodyMode::Stream => (0, body_size),
        };
        let data = self.get_http_response_body(start, len).unwrap_or_default();
        let Phase::Upstream(up) = &mut self.phase else {
            return Action::Continue;
        };
        let edit = up.exchange.response_body(&data, end_of_stream);
        up.complete |= end_of_stream;
        let held = up.held.take();
        let (status, body) = match edit {
            _ if matches!(mode, BodyMode::Tail(_)) => (None, None),
            BodyEdit::Keep => (None, None),
            BodyEdit::Replace(bytes) => (None, Some(bytes)),
            BodyEdit::Fail { status, body } => (Some(status), Some(body)),
        };
        if let Some(bytes) = &body {
            self.set_http_response_body(0, body_size, bytes);
        }
        if let Some(mut edit) = held {
            edit.status = status.or(edit.status);
            self.apply_header_edit(&edit, Some(body.as_ref().map_or(body_size, Vec::len)));
        }
        Action::Continue
    }

    fn on_log(&mut self) {
        let metrics = &self.shared.metrics;
        match &self.phase {
            Phase::Upstream(up) => {
                let failed = up.exchange.failed() || !up.complete;
                if failed {
                    debug!("modelmux: upstream exchange failed or was cut short");
                }
                let outcome = Outcome {
                    failed,
                    usage: up.exchange.usage(),
                };
                metrics.record(up.model, up.target, &outcome);
            }
            Phase::Failed { model, target } => {
                let outcome = Outcome {
                    failed: true,
                    usage: Default::default(),
                };
                metrics.record(*model, *target, &outcome);
            }
            Phase::EnvoyReply { .. } => metrics.rejected(),
            Phase::Bypass | Phase::AwaitBody(_) => {}
        }
    }
}
