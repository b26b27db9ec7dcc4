//! The per-attempt role, in the rotation cluster's upstream filter chain.
//!
//! Envoy creates a new context for every retry attempt, after it has picked
//! the endpoint. The endpoint's metadata names the provider; the request's
//! record (found by the id the downstream role issued) has the model and the client's
//! sanitised headers. The attempt's request is translated for that
//! provider, its header set rebuilt from the record, and its response goes
//! through a guarded [`ResponseFlow`]. An endpoint the model does not list
//! is a configuration mismatch between the Envoy YAML and the filter JSON:
//! answered with an OpenAI error and counted, never translated for the
//! wrong provider.

use crate::config::{METADATA_NAMESPACE, METADATA_PROVIDER_KEY};
use crate::error::ApiError;
use crate::gateway::{translate, Operation, Request, RouteError};
use crate::stats::Counter;

use super::health;
use super::response::{header, status_of, FailureClass, Guard, ResponseFlow, Verdict};
use super::worker::Worker;
use super::{send_routed, Flow, Host, Level, REQUEST_ID};
use crate::gateway::reply_headers::Ingress;

#[derive(Debug)]
struct Attempt {
    id: String,
    model: usize,
    op: Operation,
    target: usize,
    /// 1 for the first attempt of the request.
    number: u32,
    started_ms: u64,
    /// Its first content went out (noted in the record for TTFT).
    content_seen: bool,
    /// A streamed chat (else non-streamed: its route's timeouts differ).
    stream: bool,
}

#[derive(Debug)]
enum State {
    /// Not a failover request (no record): left alone.
    Bypass,
    /// Buffering the body; the bytes buffered so far.
    AwaitBody(Attempt, usize),
    Sent(Attempt, Box<ResponseFlow>),
    /// Answered locally (configuration mismatch).
    Rejected,
}

#[derive(Debug)]
pub struct Upstream {
    state: State,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            state: State::Bypass,
        }
    }
}

const PROVIDER_PATH: [&str; 5] = [
    "xds",
    "upstream_host_metadata",
    "filter_metadata",
    METADATA_NAMESPACE,
    METADATA_PROVIDER_KEY,
];

impl Upstream {
    pub fn on_request_headers(&mut self, w: &Worker, host: &mut dyn Host) -> Flow {
        let id = host.request_header(REQUEST_ID).unwrap_or_default();
        let Some((model, op)) = w.with_record(&id, |r| (r.model, r.op)) else {
            // Only failover routes lead here, and they always have a record
            // unless the two filters were given different configurations.
            self.unrouted(w, host);
            return Flow::Pause;
        };
        let provider = host.property(&PROVIDER_PATH);
        let target = w.cfg.models.get(model).and_then(|m| {
            m.targets.iter().position(|t| {
                w.cfg.provider(t.provider).map(|p| p.name.as_str()) == provider.as_deref()
            })
        });
        let Some(target) = target else {
            self.mismatch(w, host, model, provider.as_deref());
            return Flow::Pause;
        };
        let number = w
            .with_record(&id, |r| {
                r.attempts += 1;
                r.first.get_or_insert(target);
                r.last = Some(target);
                r.attempts
            })
            .unwrap_or(1);
        w.stats.add(model, target, Counter::Attempts, 1);
        self.state = State::AwaitBody(
            Attempt {
                id,
                model,
                op,
                target,
                number,
                started_ms: host.now_ms(),
                content_seen: false,
                stream: false,
            },
            0,
        );
        Flow::Pause
    }

    fn unrouted(&mut self, w: &Worker, host: &mut dyn Host) {
        host.log(
            Level::Warn,
            "modelmux: a request reached the upstream filter without a failover record: the downstream and upstream modelmux filters must share vm_id, code and configuration (run `modelmux check`)",
        );
        self.reject_mismatch(w, host);
    }

    fn reject_mismatch(&mut self, w: &Worker, host: &mut dyn Host) {
        w.stats.config_mismatch();
        let e = ApiError::new(
            502,
            "server_error",
            "The gateway's routing configuration does not match its provider list.",
        )
        .with_code("gateway_config_mismatch");
        host.reply(e.status, &e.to_json());
        self.state = State::Rejected;
    }

    fn mismatch(&mut self, w: &Worker, host: &mut dyn Host, model: usize, provider: Option<&str>) {
        let name = w.cfg.models.get(model).map_or("", |m| m.name.as_str());
        let provider = provider.map_or("missing".to_string(), |p| format!("`{p}`"));
        host.log(
            Level::Warn,
            &format!(
                "modelmux: an attempt for model `{name}` landed on an endpoint whose metadata {METADATA_NAMESPACE}.{METADATA_PROVIDER_KEY} is {provider}, which the model's targets do not list; the Envoy YAML and the filter JSON disagree (run `modelmux check`)"
            ),
        );
        self.reject_mismatch(w, host);
    }

    pub fn on_request_body(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        size: usize,
        end: bool,
    ) -> Flow {
        let State::AwaitBody(_, buffered) = &mut self.state else {
            return Flow::Continue;
        };
        *buffered = size;
        if !end {
            return Flow::Pause;
        }
        self.finish_body(w, host)
    }

    /// Trailers end the attempt's body, as in the downstream role.
    pub fn on_request_trailers(&mut self, w: &Worker, host: &mut dyn Host) -> Flow {
        if !matches!(self.state, State::AwaitBody(..)) {
            return Flow::Continue;
        }
        host.clear_request_trailers();
        self.finish_body(w, host)
    }

    fn finish_body(&mut self, w: &Worker, host: &mut dyn Host) -> Flow {
        let State::AwaitBody(mut a, size) = std::mem::replace(&mut self.state, State::Bypass)
        else {
            return Flow::Continue;
        };
        let body = host.request_body(size);
        let betas = w
            .with_record(&a.id, |rec| {
                rec.headers
                    .iter()
                    .find(|(n, _)| n == "anthropic-beta")
                    .map(|(_, v)| v.clone())
            })
            .flatten();
        let routed = Request::parse(a.op, &body)
            .map(|req| req.with_betas(betas.as_deref()))
            .map_err(|error| RouteError {
                model_idx: None,
                target_idx: None,
                error,
            })
            .and_then(|req| {
                a.stream = req.is_stream();
                translate(&w.cfg, &req, a.model, a.target, w.auth_env())
            });
        let r = match routed {
            Ok(r) => r,
            Err(e) => {
                host.reply(e.error.status, &a.op.dialect().error_body(&e.error));
                self.state = State::Rejected;
                return Flow::Continue;
            }
        };
        let client = w.with_record(&a.id, |rec| {
            rec.upstream_path = Some(r.outbound.path.clone());
            rec.headers.clone()
        });
        let Some(client) = client else {
            return Flow::Continue;
        };
        send_routed(host, client, &r, &w.cfg, "", size);
        let provider = w
            .cfg
            .target_provider(a.model, a.target)
            .map_or("", |p| p.name.as_str());
        let flow = ResponseFlow::new(r.exchange, Some(Guard::new(provider)))
            .with_limit(w.cfg.response_buffer_bytes)
            .with_dialect(a.op.dialect());
        self.state = State::Sent(a, Box::new(flow));
        Flow::Continue
    }

    pub fn on_response_headers(&mut self, w: &Worker, host: &mut dyn Host, end: bool) -> Flow {
        let State::Sent(a, flow) = &mut self.state else {
            return Flow::Continue;
        };
        let head = host.response_headers();
        if FailureClass::of_status(status_of(&head)).is_some() {
            trip_on_retry_after(w, host, a, &head);
        }
        let none = crate::config::HeaderRules::default();
        let ingress = w.cfg.target_provider(a.model, a.target).map_or(
            Ingress {
                reply: &[],
                operator: &none,
            },
            Ingress::of,
        );
        let verdict = flow.on_headers(host, head, ingress, end);
        note_status(w, a, flow);
        verdict
    }

    pub fn on_response_body(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        size: usize,
        end: bool,
    ) -> Flow {
        match &mut self.state {
            State::Sent(a, flow) => {
                let verdict = flow.on_body(host, size, end);
                note_status(w, a, flow);
                let out = flow.outcome();
                if out.streamed > 0 {
                    w.with_record(&a.id, |r| r.streamed = out.streamed);
                }
                let first = !a.content_seen && out.content;
                if first {
                    a.content_seen = true;
                    let now = host.now_us();
                    w.with_record(&a.id, |r| r.first_content_us = Some(now));
                }
                if end {
                    let usage = flow.usage();
                    w.with_record(&a.id, |r| r.usage = Some(usage));
                }
                verdict
            }
            _ => Flow::Continue,
        }
    }

    /// The attempt is over (served, failed, or reset by the router).
    pub fn on_done(&mut self, w: &Worker, host: &dyn Host) {
        let State::Sent(a, flow) = std::mem::replace(&mut self.state, State::Bypass) else {
            return;
        };
        let stats = &w.stats;
        let count = |c| stats.add(a.model, a.target, c, 1);
        match flow.verdict() {
            Some(Verdict::Served) => {
                w.with_record(&a.id, |r| r.served = Some(a.target));
                let consumer = w.with_record(&a.id, |r| r.consumer).unwrap_or(0);
                let at = crate::stats::Tally {
                    model: a.model,
                    target: a.target,
                    consumer,
                };
                stats.tokens(&w.cfg, at, &flow.usage());
                if a.number > 1 {
                    count(Counter::Failovers);
                }
            }
            Some(Verdict::Failed { class, .. }) => count(class_counter(class)),
            Some(Verdict::Final { .. }) => {}
            None => {
                let elapsed = host.now_ms().saturating_sub(a.started_ms);
                let timeout = attempt_timeout_ms(&w.cfg.failover, a.stream);
                let class = if elapsed + 50 >= timeout {
                    FailureClass::Timeout
                } else {
                    FailureClass::Connect
                };
                count(class_counter(class));
            }
        }
    }
}

/// The timeout that ends an attempt on its route (see `render`): a stream's
/// idle timeout, or for a non-streamed request its opt-in attempt timeout,
/// else the whole request's.
fn attempt_timeout_ms(f: &crate::config::FailoverSettings, stream: bool) -> u64 {
    if stream {
        f.attempt_timeout_ms
    } else {
        f.json_attempt_timeout_ms.unwrap_or(f.json_timeout_ms)
    }
}

/// Notes the status this attempt released in the request's record: the
/// downstream side believes that, not a response header a provider could
/// have written.
fn note_status(w: &Worker, a: &Attempt, flow: &ResponseFlow) {
    if let Some(status) = flow.released_status() {
        w.with_record(&a.id, |r| r.status = Some(status));
    }
}

/// The counter of a failure class (both roles count with it).
pub(super) fn class_counter(class: FailureClass) -> Counter {
    match class {
        FailureClass::RateLimited => Counter::Failures429,
        FailureClass::Server => Counter::Failures5xx,
        FailureClass::Connect => Counter::FailuresConnect,
        FailureClass::Timeout => Counter::FailuresTimeout,
        FailureClass::Overloaded => Counter::FailuresOverloaded,
        FailureClass::Malformed => Counter::FailuresMalformed,
    }
}

/// A failure that says how long to stay away opens the target's circuit.
fn trip_on_retry_after(w: &Worker, host: &dyn Host, a: &Attempt, head: &[(String, String)]) {
    let ra = header(head, "retry-after");
    let ra_ms = header(head, "retry-after-ms");
    let now = host.now_ms();
    let max = w.cfg.failover.max_retry_after_s.saturating_mul(1000);
    let Some(ms) = health::retry_after_ms(ra, ra_ms, now, max) else {
        return;
    };
    let provider = w
        .cfg
        .target_provider(a.model, a.target)
        .map_or("", |p| p.name.as_str());
    if health::trip(w.store(), provider, now.saturating_add(ms)) {
        w.stats.add(a.model, a.target, Counter::CircuitOpened, 1);
        host.log(
            Level::Debug,
            &format!("modelmux: provider {provider} asked for {ms} ms off; circuit open"),
        );
    }
}
