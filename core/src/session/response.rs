//! Applying a translator to a response, for either role.
//!
//! The translator says per response how it wants the body ([`BodyMode`]);
//! this drives Envoy accordingly: a buffered translation holds the headers
//! back so status and `content-length` can still change, a tail observer
//! reads only the end of each chunk.
//!
//! A failover attempt adds a [`Guard`]: nothing reaches the client until the
//! response is known to be usable, because once a byte is out Envoy can no
//! longer retry. Error statuses are buffered whole and sent on as 503 (what
//! Envoy's retry policy and outlier detection act on) with the client-facing
//! status in `x-modelmux-status`. A 2xx JSON body is buffered whole too and
//! checked for an error behind the 2xx; a 2xx stream is held until the
//! translator produces its first output, so an error as the first event
//! (Anthropic's `overloaded_error`) still fails over.
//!
//! The role reads the response head once (`get_map`); the translator looks
//! headers up in that vector, the provider's headers go through the
//! response allowlist (`gateway::reply_headers`), and the final head (with
//! the edits and, on failover, the markers) is written once (`set_map`),
//! only if it differs from what Envoy holds.

use crate::dialect::Dialect;
use crate::error::{looks_like_error, ApiError};
use crate::gateway::reply_headers::Ingress;
use crate::providers::{BodyEdit, BodyMode, Cause, HeaderEdit, Outcome, Translator};
use crate::usage::Usage;

use super::{Flow, Host, Level, PROVIDER_HEADER, STATUS_HEADER};

const JSON: &str = "application/json";

/// Why an attempt failed, as counted and as acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    RateLimited,
    Server,
    Connect,
    Timeout,
    /// An error behind a 2xx, or a stream whose first event is an error.
    Overloaded,
    /// A 2xx the provider's format cannot decode.
    Malformed,
}

impl FailureClass {
    /// The class of an upstream status that failover acts on.
    pub fn of_status(status: u16) -> Option<FailureClass> {
        match status {
            429 => Some(FailureClass::RateLimited),
            500..=599 => Some(FailureClass::Server),
            _ => None,
        }
    }

    /// The class of a failure found in a 2xx body.
    fn of_body(outcome: &Outcome) -> FailureClass {
        match outcome.failure.map(|f| f.cause) {
            Some(Cause::Malformed) => FailureClass::Malformed,
            _ => FailureClass::Overloaded,
        }
    }
}

/// What an attempt came to, once its response head is out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx went to the client.
    Served,
    /// A failure Envoy may retry elsewhere; `client_status` is what the
    /// client sees if it is the last attempt.
    Failed {
        class: FailureClass,
        client_status: u16,
    },
    /// A final answer that is not a failover case (e.g. a 400).
    Final { client_status: u16 },
}

/// Failover-only state: hold the response until it is known to be good.
#[derive(Debug)]
pub struct Guard {
    provider: String,
    /// Set once the status is known to be a failure.
    failure: Option<(FailureClass, u16)>,
    /// Stream: bytes of the (Envoy-buffered) body already translated.
    fed: usize,
    /// Stream: translated output not yet released.
    out: Vec<u8>,
    released: bool,
    /// A stream that failed before it started was replaced by a JSON
    /// error: whatever the provider still sends is dropped.
    discard: bool,
    verdict: Option<Verdict>,
    /// The status written into `x-modelmux-status` on release.
    client_status: Option<u16>,
}

impl Guard {
    pub fn new(provider: &str) -> Self {
        Guard {
            provider: provider.to_string(),
            failure: None,
            fed: 0,
            out: Vec::new(),
            released: false,
            discard: false,
            verdict: None,
            client_status: None,
        }
    }
}

/// One response going through a translator.
#[derive(Debug)]
pub struct ResponseFlow {
    exchange: Box<dyn Translator>,
    mode: Option<BodyMode>,
    status: u16,
    /// Header edits held back with the headers until the body decides.
    held: Option<HeaderEdit>,
    /// The head as it will go out (the provider's, through the allowlist),
    /// written with one host call once the edits are known.
    head: Vec<(String, String)>,
    /// `head` differs from what Envoy holds.
    head_dirty: bool,
    complete: bool,
    guard: Option<Guard>,
    /// The most body bytes held whole (see `config::DEFAULT_RESPONSE_BUFFER_BYTES`).
    limit: usize,
    /// The reply outgrew `limit` and was answered with an error.
    too_large: bool,
    /// The client's format, for the errors the flow writes itself.
    dialect: Dialect,
}

/// A header's value in a head already read.
pub fn header<'h>(head: &'h [(String, String)], name: &str) -> Option<&'h str> {
    head.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The `:status` of a head already read (0 when missing).
pub fn status_of(head: &[(String, String)]) -> u16 {
    header(head, ":status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Sets (or with `None` removes) `name` in `head`; whether it changed.
pub fn set_header(head: &mut Vec<(String, String)>, name: &str, value: Option<&str>) -> bool {
    if header(head, name) == value && head.iter().filter(|(n, _)| n == name).count() <= 1 {
        return false;
    }
    head.retain(|(n, _)| n != name);
    if let Some(v) = value {
        head.push((name.to_string(), v.to_string()));
    }
    true
}

impl ResponseFlow {
    pub fn new(exchange: Box<dyn Translator>, guard: Option<Guard>) -> Self {
        ResponseFlow {
            exchange,
            mode: None,
            status: 0,
            held: None,
            head: Vec::new(),
            head_dirty: false,
            complete: false,
            guard,
            limit: usize::MAX,
            too_large: false,
            dialect: Dialect::OpenAiChat,
        }
    }

    /// Errors the flow writes itself go out in `dialect`.
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Holds at most `limit` bytes of a body that is buffered whole.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    pub fn usage(&self) -> Usage {
        self.exchange.outcome().usage
    }

    /// What the exchange came to so far.
    pub fn outcome(&self) -> Outcome {
        self.exchange.outcome()
    }

    /// The exchange failed or was cut short.
    pub fn failed(&self) -> bool {
        self.exchange.outcome().failure.is_some() || !self.complete || self.too_large
    }

    pub fn verdict(&self) -> Option<Verdict> {
        self.guard.as_ref().and_then(|g| g.verdict)
    }

    /// What a failed single-target exchange says about its provider, read
    /// from the answer (Envoy's own replies and resets are the caller's to
    /// tell apart): `None` for a final 4xx or a clean answer.
    pub fn failure_class(&self) -> Option<FailureClass> {
        if let Some(c) = FailureClass::of_status(self.status) {
            return Some(c);
        }
        let out = self.exchange.outcome();
        match out.failure.map(|f| f.cause) {
            Some(Cause::Status) => None,
            Some(Cause::Truncated) => Some(FailureClass::Connect),
            Some(_) => Some(FailureClass::of_body(&out)),
            None => self.too_large.then_some(FailureClass::Overloaded),
        }
    }

    /// The client status a guarded head was released with.
    pub fn released_status(&self) -> Option<u16> {
        self.guard.as_ref().and_then(|g| g.client_status)
    }

    /// The response head, read once by the role (`head`), goes through
    /// the translator and the allowlist; it is written once, when the
    /// edits are final.
    pub fn on_headers(
        &mut self,
        host: &mut dyn Host,
        head: Vec<(String, String)>,
        ingress: Ingress<'_>,
        end: bool,
    ) -> Flow {
        let status = status_of(&head);
        self.status = status;
        let mut edit = self
            .exchange
            .response_headers(status, &|name| header(&head, name).map(str::to_string));
        let before = head.len();
        self.head = ingress.filter(head);
        self.head_dirty = self.head.len() != before;
        self.complete |= end;
        let Some(guard) = &mut self.guard else {
            self.mode = Some(edit.mode);
            if edit.mode == BodyMode::Buffer && !end {
                self.held = Some(edit);
                return Flow::Pause;
            }
            self.write_head(host, &edit, None);
            return Flow::Continue;
        };
        guard.failure = FailureClass::of_status(status).map(|c| (c, edit.status.unwrap_or(status)));
        // A tail observer would let the head out: read the whole body.
        if matches!(edit.mode, BodyMode::Tail(_)) {
            edit.mode = BodyMode::Buffer;
            self.mode = Some(BodyMode::Tail(usize::MAX));
        } else {
            self.mode = Some(edit.mode);
        }
        self.held = Some(edit);
        if end {
            self.release_whole(host, 0, &[]);
            return Flow::Continue;
        }
        Flow::Pause
    }

    pub fn on_body(&mut self, host: &mut dyn Host, size: usize, end: bool) -> Flow {
        if self.guard.as_ref().is_some_and(|g| g.discard) {
            self.complete |= end;
            host.set_response_body(size, &[]);
            return Flow::Continue;
        }
        let Some(mode) = self.mode else {
            return Flow::Continue;
        };
        self.complete |= end;
        if self.guard.as_ref().is_some_and(|g| !g.released) {
            return match mode {
                BodyMode::Stream => self.hold_stream(host, size, end),
                _ if !end && size > self.limit => self.too_large(host, size),
                _ if !end => Flow::Pause,
                _ => {
                    let data = host.response_body(0, size);
                    self.release_whole(host, size, &data);
                    Flow::Continue
                }
            };
        }
        let (start, len) = match mode {
            BodyMode::Buffer if !end && size > self.limit => return self.too_large(host, size),
            BodyMode::Buffer if !end => return Flow::Pause,
            BodyMode::Tail(n) => (size.saturating_sub(n), n.min(size)),
            BodyMode::Buffer | BodyMode::Stream => (0, size),
        };
        let data = host.response_body(start, len);
        let edit = self.exchange.response_body(&data, end);
        let (status, body) = match edit {
            _ if matches!(mode, BodyMode::Tail(_)) => (None, None),
            BodyEdit::Keep => (None, None),
            BodyEdit::Replace(bytes) => (None, Some(bytes)),
            BodyEdit::Fail { status, body } => (Some(status), Some(body)),
        };
        if let Some(bytes) = &body {
            host.set_response_body(size, bytes);
        }
        if let Some(mut edit) = self.held.take() {
            edit.status = status.or(edit.status);
            self.write_head(host, &edit, Some(body.as_ref().map_or(size, Vec::len)));
        }
        Flow::Continue
    }

    /// A body buffered whole outgrew the limit. Envoy would answer a bare
    /// `500 Internal Server Error` (text, straight to the client, past this
    /// filter) once its own buffer limit is reached, so the filter answers
    /// first, in the client's format. Single target: a local reply, which
    /// Envoy sends in place of the held response and which resets the
    /// upstream. Failover: the attempt fails like a broken stream does (the
    /// rest of its body is dropped), so another target may answer.
    fn too_large(&mut self, host: &mut dyn Host, size: usize) -> Flow {
        self.too_large = true;
        let msg = format!(
            "The provider's reply is larger than the gateway's response buffer ({} bytes).",
            self.limit
        );
        let e = ApiError::new(502, "server_error", msg).with_code("response_too_large");
        host.log(
            Level::Warn,
            "modelmux: provider reply over response_buffer_bytes; answered 502",
        );
        let body = self.dialect.error_body(&e);
        let Some(guard) = &mut self.guard else {
            self.mode = None;
            host.reply(e.status, &body);
            return Flow::Pause;
        };
        guard.discard = true;
        host.set_response_body(size, &body);
        if let Some(edit) = &mut self.held {
            edit.content_type = Some(JSON);
        }
        self.release(
            host,
            Some((FailureClass::Overloaded, 502)),
            Some(body.len()),
        );
        Flow::Continue
    }

    /// Applies the edits to the held head and writes it, in one host call
    /// and only if it changed; `body_len` is the final length of a buffered
    /// body (headers still held back), which then gets an exact length.
    fn write_head(&mut self, host: &mut dyn Host, edit: &HeaderEdit, body_len: Option<usize>) {
        let mut head = std::mem::take(&mut self.head);
        let mut dirty = std::mem::take(&mut self.head_dirty);
        if let Some(status) = edit.status {
            dirty |= set_header(&mut head, ":status", Some(&status.to_string()));
        }
        if let Some(ct) = edit.content_type {
            dirty |= set_header(&mut head, "content-type", Some(ct));
        }
        match body_len {
            Some(len) => dirty |= set_header(&mut head, "content-length", Some(&len.to_string())),
            None if edit.drop_content_length => {
                dirty |= set_header(&mut head, "content-length", None)
            }
            None => {}
        }
        if dirty {
            host.set_response_headers(&head);
        }
    }

    /// Guarded whole body: translate, check, then let head and body out.
    fn release_whole(&mut self, host: &mut dyn Host, size: usize, data: &[u8]) {
        let observe = matches!(self.mode, Some(BodyMode::Tail(_)));
        let ok = (200..300).contains(&self.status);
        let (mut fail, mut body) = (None, None);
        if ok && looks_like_error(data) {
            let provider = self.guard.as_ref().map_or("", |g| g.provider.as_str());
            let e = ApiError::new(
                503,
                "server_error",
                format!(
                    "provider {provider} returned an error behind HTTP {}",
                    self.status
                ),
            );
            fail = Some((FailureClass::Overloaded, 503));
            body = Some(self.dialect.error_body(&e));
        } else {
            match self.exchange.response_body(data, true) {
                BodyEdit::Fail { status, body: b } => {
                    fail = Some((FailureClass::of_body(&self.exchange.outcome()), status));
                    body = Some(b);
                }
                BodyEdit::Replace(b) if !observe => body = Some(b),
                _ => {}
            }
        }
        if let Some(bytes) = &body {
            host.set_response_body(size, bytes);
        }
        let len = body.as_ref().map_or(data.len(), Vec::len);
        self.release(host, fail, Some(len));
    }

    /// Guarded stream: translate as it comes, release on the first output.
    fn hold_stream(&mut self, host: &mut dyn Host, size: usize, end: bool) -> Flow {
        let Some(guard) = &mut self.guard else {
            return Flow::Continue;
        };
        let fresh = host.response_body(guard.fed, size.saturating_sub(guard.fed));
        guard.fed = size;
        match self.exchange.response_body(&fresh, end) {
            BodyEdit::Keep => guard.out.extend_from_slice(&fresh),
            BodyEdit::Replace(b) | BodyEdit::Fail { body: b, .. } => {
                guard.out.extend_from_slice(&b)
            }
        }
        let outcome = self.exchange.outcome();
        if outcome.failure.is_some() {
            let provider = guard.provider.clone();
            let e = ApiError::new(
                503,
                "server_error",
                format!("provider {provider} failed before the stream started"),
            );
            let body = self.dialect.error_body(&e);
            host.set_response_body(size, &body);
            if let Some(edit) = &mut self.held {
                edit.content_type = Some(JSON);
            }
            guard.discard = true;
            let class = FailureClass::of_body(&outcome);
            self.release(host, Some((class, 503)), Some(body.len()));
            return Flow::Continue;
        }
        if guard.out.is_empty() && !end {
            return Flow::Pause;
        }
        let out = std::mem::take(&mut guard.out);
        host.set_response_body(size, &out);
        self.release(host, None, None);
        Flow::Continue
    }

    /// Lets the held head out with the failover markers.
    fn release(
        &mut self,
        host: &mut dyn Host,
        body_fail: Option<(FailureClass, u16)>,
        len: Option<usize>,
    ) {
        let Some(guard) = &mut self.guard else {
            return;
        };
        guard.released = true;
        let failure = guard.failure.or(body_fail);
        let Some(mut edit) = self.held.take() else {
            return;
        };
        let client_status = match failure {
            Some((_, s)) => s,
            None => edit.status.unwrap_or(self.status),
        };
        guard.client_status = Some(client_status);
        guard.verdict = Some(match failure {
            Some((class, client_status)) => Verdict::Failed {
                class,
                client_status,
            },
            None if (200..300).contains(&client_status) => Verdict::Served,
            None => Verdict::Final { client_status },
        });
        edit.status = Some(if failure.is_some() {
            503
        } else {
            client_status
        });
        set_header(
            &mut self.head,
            STATUS_HEADER,
            Some(&client_status.to_string()),
        );
        set_header(&mut self.head, PROVIDER_HEADER, Some(&guard.provider));
        self.head_dirty = true;
        self.write_head(host, &edit, len);
        if !matches!(self.mode, Some(BodyMode::Stream)) {
            // The whole body has been handled; pass anything else on.
            self.mode = None;
        }
    }
}
