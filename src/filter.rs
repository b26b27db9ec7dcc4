//! Per-stream HTTP context. Each callback asks the core what to do and
//! applies the answer; the stream's progress is the `Phase` enum.

use std::rc::Rc;
use std::time::UNIX_EPOCH;

use log::debug;
use modelmux_core::error::ApiError;
use modelmux_core::gateway::{classify, route_chat, Endpoint, RouteError, Routed};
use modelmux_core::providers::{BodyEdit, BodyMode, Exchange, HeaderEdit};
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::Action;

use crate::metrics::Outcome;
use crate::root::Shared;

/// Client credentials that must never reach a provider.
const CLIENT_CREDENTIAL_HEADERS: [&str; 4] =
    ["authorization", "x-api-key", "api-key", "x-goog-api-key"];

enum Phase {
    /// Not a modelmux endpoint, or answered locally without a model.
    Bypass,
    /// Chat request: buffering the body before routing.
    AwaitBody,
    /// Answered locally with an error after the model was resolved.
    Failed { model: usize, target: usize },
    /// Forwarded upstream.
    Upstream(Upstream),
}

struct Upstream {
    model: usize,
    target: usize,
    exchange: Exchange,
    mode: Option<BodyMode>,
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

    fn route(&mut self, body: &[u8], body_size: usize) -> Action {
        let ticket = self.shared.ticket.get();
        self.shared.ticket.set(ticket.wrapping_add(1));
        let now = self
            .get_current_time()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let shared = Rc::clone(&self.shared);
        match route_chat(&shared.cfg, body, ticket, now) {
            Ok(routed) => {
                self.forward(routed, body_size);
                Action::Continue
            }
            Err(RouteError {
                model_idx,
                target_idx,
                error,
            }) => {
                debug!("modelmux: rejected request: {}", error.message);
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

    fn forward(&mut self, r: Routed<'_>, body_size: usize) {
        let header = self.shared.cfg.cluster_header.clone();
        self.set_http_request_header(&header, Some(r.cluster));
        self.set_http_request_header(":authority", Some(r.authority));
        self.set_http_request_header(":path", Some(&r.outbound.path));
        for (name, value) in &r.outbound.headers {
            self.set_http_request_header(name, Some(value));
        }
        let new_len = match &r.outbound.body {
            Some(b) => {
                self.set_http_request_body(0, body_size, b);
                b.len()
            }
            None => body_size,
        };
        self.set_http_request_header("content-length", Some(&new_len.to_string()));
        self.phase = Phase::Upstream(Upstream {
            model: r.model_idx,
            target: r.target_idx,
            exchange: r.exchange,
            mode: None,
            complete: false,
        });
    }

    fn apply_header_edit(&self, edit: &HeaderEdit) {
        if let Some(status) = edit.status {
            self.set_http_response_header(":status", Some(&status.to_string()));
        }
        if let Some(ct) = edit.content_type {
            self.set_http_response_header("content-type", Some(ct));
        }
        if edit.drop_content_length {
            self.set_http_response_header("content-length", None);
        }
    }
}

impl Context for Filter {}

impl HttpContext for Filter {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let header = self.shared.cfg.cluster_header.clone();
        self.set_http_request_header(&header, None);
        let method = self.get_http_request_header(":method").unwrap_or_default();
        let path = self.get_http_request_header(":path").unwrap_or_default();
        match classify(&method, &path) {
            Endpoint::Other => Action::Continue,
            Endpoint::Models => {
                self.send_http_response(
                    200,
                    vec![("content-type", "application/json")],
                    Some(&self.shared.models_json),
                );
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
                for h in CLIENT_CREDENTIAL_HEADERS {
                    self.set_http_request_header(h, None);
                }
                // Bodies must come back uncompressed for translation and usage.
                self.set_http_request_header("accept-encoding", None);
                self.phase = Phase::AwaitBody;
                Action::Pause
            }
        }
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !matches!(self.phase, Phase::AwaitBody) {
            return Action::Continue;
        }
        if !end_of_stream {
            return Action::Pause;
        }
        let body = self.get_http_request_body(0, body_size).unwrap_or_default();
        self.route(&body, body_size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let status = self
            .get_http_response_header(":status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(0);
        let Phase::Upstream(up) = &mut self.phase else {
            return Action::Continue;
        };
        let edit = up.exchange.response_headers(status);
        up.mode = Some(edit.mode);
        up.complete |= end_of_stream;
        self.apply_header_edit(&edit);
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let mode = match &self.phase {
            Phase::Upstream(Upstream { mode: Some(m), .. }) => *m,
            _ => return Action::Continue,
        };
        if mode == BodyMode::Buffer && !end_of_stream {
            return Action::Pause;
        }
        let data = self
            .get_http_response_body(0, body_size)
            .unwrap_or_default();
        let Phase::Upstream(up) = &mut self.phase else {
            return Action::Continue;
        };
        let edit = up.exchange.response_body(&data, end_of_stream);
        up.complete |= end_of_stream;
        if let BodyEdit::Replace(bytes) = edit {
            self.set_http_response_body(0, body_size, &bytes);
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
            Phase::Bypass | Phase::AwaitBody => {}
        }
    }
}
