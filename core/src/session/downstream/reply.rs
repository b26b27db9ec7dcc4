//! The client-facing response: the single-target flow's translation, a
//! failover request's client status restored from the record, Envoy's own
//! replies rewritten, and the request counted when its stream ends.
//!
//! A single-target exchange that failed is also counted as a failed
//! attempt of its class, as the upstream role counts failover attempts, so
//! provider alerts see every model. Envoy's own replies and resets only
//! show in `response.code_details` (read once, on that path only):
//! `upstream_reset_*` / `no_healthy_upstream` are connect or reset
//! failures, `*timeout*` a timeout, `downstream_*` the client going away
//! (not the provider's fault). An upstream cut mid-stream leaves
//! `upstream_reset_after_response_started{…}`.

use super::super::upstream::class_counter;
use super::*;

impl Downstream {
    pub fn on_response_headers(&mut self, w: &Worker, host: &mut dyn Host, end: bool) -> Flow {
        let paused = |end: bool| if end { Flow::Continue } else { Flow::Pause };
        match &mut self.state {
            State::AwaitBody(..) => {
                let status = host
                    .response_header(":status")
                    .and_then(|s| s.parse::<u16>().ok())
                    .unwrap_or(0);
                self.state = State::EnvoyReply { status };
                paused(end)
            }
            State::Single {
                flow,
                model,
                target,
            } => {
                let head = host.response_headers();
                let none = crate::config::HeaderRules::default();
                let ingress = w.cfg.target_provider(*model, *target).map_or(
                    Ingress {
                        reply: &[],
                        operator: &none,
                    },
                    Ingress::of,
                );
                flow.on_headers(host, head, ingress, end)
            }
            State::Failover(f) => {
                if let Some(id) = f.client_request_id.take() {
                    host.set_request_header(REQUEST_ID, Some(&id));
                }
                let head = host.response_headers();
                if header(&head, STATUS_HEADER).is_none() {
                    // No attempt answered: Envoy's own reply.
                    f.status = Some(status_of(&head));
                    f.envoy_reply = true;
                    return paused(end);
                }
                restore_status(w, host, f, head);
                Flow::Continue
            }
            _ => Flow::Continue,
        }
    }

    pub fn on_response_body(
        &mut self,
        w: &Worker,
        host: &mut dyn Host,
        size: usize,
        end: bool,
    ) -> Flow {
        match &mut self.state {
            State::EnvoyReply { status } => {
                rewrite_envoy_reply(host, self.dialect, *status, size, end)
            }
            State::Failover(f) if f.envoy_reply => {
                rewrite_envoy_reply(host, self.dialect, f.status.unwrap_or(503), size, end)
            }
            State::Single {
                flow,
                model,
                target,
            } => {
                let verdict = flow.on_body(host, size, end);
                let out = flow.outcome();
                self.timing.progress(host, self.stream && out.content, end);
                if end {
                    let at = (*model, *target);
                    self.log_fields(w, host, at, out.usage);
                }
                verdict
            }
            State::Failover(f) if !f.envoy_reply => {
                // Attempts are translated upstream: the serving attempt
                // noted when its first content went out.
                self.timing.progress(host, false, end);
                if end {
                    let record = w.with_record(&f.id, |r| {
                        let path = r.upstream_path.take();
                        (r.served.or(r.last), r.usage, r.first_content_us, path)
                    });
                    if let Some((target, usage, first, path)) = record {
                        if let Some(path) = path {
                            host.set_filter_state(UPSTREAM_PATH, &path);
                        }
                        self.timing.content_at(first.filter(|_| self.stream));
                        let at = (f.model, target.unwrap_or(f.head));
                        self.log_fields(w, host, at, usage.unwrap_or_default());
                    }
                }
                Flow::Continue
            }
            _ => Flow::Continue,
        }
    }

    fn log_fields(&self, w: &Worker, host: &mut dyn Host, at: (usize, usize), usage: Usage) {
        let target = w.cfg.models.get(at.0).and_then(|m| m.targets.get(at.1));
        let cost_nano = target.and_then(|t| t.price).map(|p| p.cost_nano(&usage));
        let fields = LogFields {
            upstream_model: target.map_or("", |t| t.model.as_str()),
            usage,
            cost_nano,
            ttft_ms: self.stream.then(|| self.timing.ttft_ms()).flatten(),
        };
        set_log_fields(host, &fields);
    }

    /// End of the client's request: count it.
    pub fn on_done(&mut self, w: &Worker, host: &dyn Host) {
        match std::mem::replace(&mut self.state, State::Bypass) {
            State::Single {
                model,
                target,
                flow,
            } => {
                let failed = flow.failed();
                if failed {
                    host.log(
                        Level::Debug,
                        "modelmux: upstream exchange failed or was cut short",
                    );
                    if let Some(class) = single_failure(host, &flow) {
                        w.stats.add(model, target, class_counter(class), 1);
                    }
                }
                let at = self.tally(model, target);
                let out = flow.outcome();
                w.stats.request(&w.cfg, at, failed, &out.usage);
                self.timing.record(w, host, at, self.stream, &out.usage);
                self.check_usage(w, host, at, &out.usage, (out.streamed, !failed));
            }
            State::Local { model, target } => {
                let at = self.tally(model, target);
                w.stats.request(&w.cfg, at, true, &Default::default());
            }
            State::EnvoyReply { status } => w.stats.rejected(None, Rejection::of_status(status)),
            State::Failover(f) => {
                let record = w.remove(&f.id);
                let target = record
                    .as_ref()
                    .and_then(|r| r.served.or(r.last))
                    .unwrap_or(f.head);
                let status = f.status.unwrap_or(0);
                let ok = (200..300).contains(&status);
                let at = self.tally(f.model, target);
                w.stats
                    .add_for(f.model, target, at.consumer, Counter::Requests, 1);
                let failed = u64::from(!ok);
                w.stats
                    .add_for(f.model, target, at.consumer, Counter::Errors, failed);
                let usage = record.as_ref().and_then(|r| r.usage).unwrap_or_default();
                self.timing.record(w, host, at, self.stream, &usage);
                // The served attempt's usage arrives with its last byte.
                let complete = ok && record.as_ref().is_some_and(|r| r.usage.is_some());
                let streamed = record.as_ref().map_or(0, |r| r.streamed);
                self.check_usage(w, host, at, &usage, (streamed, complete));
                // No status: the client went away first, nothing was exhausted.
                if FailureClass::of_status(status).is_some() {
                    w.stats.add(f.model, target, Counter::Exhausted, 1);
                }
            }
            State::Bypass | State::AwaitBody(..) => {}
        }
    }
}

impl Downstream {
    /// Logs implausible usage (its counter is kept with the tokens) and
    /// counts the estimate of a stream that ended without complete usage;
    /// `(streamed, complete)`: bytes of text sent and whether the response
    /// ended whole. Host calls only on those rare paths.
    fn check_usage(
        &self,
        w: &Worker,
        host: &dyn Host,
        at: Tally,
        usage: &Usage,
        (streamed, complete): (u64, bool),
    ) {
        if usage.implausible {
            host.log(
                Level::Warn,
                "modelmux: provider reported implausible usage; counts clamped",
            );
        }
        if !self.stream {
            return;
        }
        if let Some(est) = estimate(usage, streamed, complete, self.body_bytes) {
            host.log(
                Level::Debug,
                &format!(
                    "modelmux: stream ended without usage; estimated {} input and {} output tokens",
                    est.input, est.output
                ),
            );
            w.stats.estimated(at, &est);
        }
    }

    fn tally(&self, model: usize, target: usize) -> Tally {
        Tally {
            model,
            target,
            consumer: self.timing.consumer,
        }
    }
}

/// The class of a failed single-target exchange, or `None` when the
/// provider is not to blame (see the module docs).
fn single_failure(host: &dyn Host, flow: &ResponseFlow) -> Option<FailureClass> {
    let details = host
        .property(&["response", "code_details"])
        .unwrap_or_default();
    if details.starts_with("downstream_") {
        return None;
    }
    if details.contains("timeout") {
        return Some(FailureClass::Timeout);
    }
    if details.starts_with("upstream_reset") || details == "no_healthy_upstream" {
        return Some(FailureClass::Connect);
    }
    flow.failure_class()
}

/// An attempt answered: the client gets the status that attempt noted in
/// the request's record. A marker no attempt wrote (the upstream filter
/// missing from a rotation cluster, a provider's own header) is dropped,
/// not believed.
fn restore_status(
    w: &Worker,
    host: &mut dyn Host,
    f: &mut FailoverState,
    mut head: Vec<(String, String)>,
) {
    let status = status_of(&head);
    let noted = w.with_record(&f.id, |r| r.status.take()).flatten();
    let mut dirty = set_header(&mut head, STATUS_HEADER, None);
    let client = noted.unwrap_or(status);
    if client != status {
        dirty |= set_header(&mut head, ":status", Some(&client.to_string()));
    }
    f.status = Some(client);
    match (noted, header(&head, PROVIDER_HEADER)) {
        (Some(_), Some(p)) => host.set_filter_state("modelmux_provider", p),
        (None, Some(_)) => dirty |= set_header(&mut head, PROVIDER_HEADER, None),
        _ => {}
    }
    if dirty {
        host.set_response_headers(&head);
    }
}

fn rewrite_envoy_reply(
    host: &mut dyn Host,
    dialect: Dialect,
    status: u16,
    size: usize,
    end: bool,
) -> Flow {
    if !end {
        return Flow::Pause;
    }
    let body = host.response_body(0, size);
    let new = foreign_unless_envelope(status, &body, "gateway").map(|e| dialect.error_body(&e));
    let len = new.as_ref().map_or(size, Vec::len);
    if let Some(bytes) = &new {
        host.set_response_body(size, bytes);
    }
    host.set_response_header("content-type", Some(JSON));
    host.set_response_header("content-length", Some(&len.to_string()));
    Flow::Continue
}
