//! The per-request state machine, for both places the filter runs.
//!
//! * **Downstream** ([`Downstream`], the HTTP connection manager's filter
//!   chain) sees the client's request once. It answers local endpoints,
//!   validates the body and resolves the model. A single-target model is
//!   translated right there and sent to its provider's cluster, as before.
//!   A failover model (two or more targets) is sent to one of its rotation
//!   clusters with the client's OpenAI body untouched; the request's shared
//!   record ([`RequestRecord`]) keeps the client's sanitised headers. The
//!   record's key is an id the filter issues and sends as the request's
//!   `x-request-id` ([`REQUEST_ID`]), never the client's value, so no
//!   client can name another request's record.
//!
//! Either role finishes the request body when the body ends, or when
//! trailers arrive (HTTP/2 and gRPC-style clients send the last DATA
//! frame without END_STREAM and close the stream with trailers): a request
//! the filter has not routed must never leave with the client's headers.
//! * **Upstream** ([`Upstream`], the rotation cluster's filter chain) runs
//!   once per retry attempt, after Envoy has picked the endpoint. It reads
//!   which provider the endpoint is, rebuilds the whole header set from the
//!   record (header edits persist between attempts in Envoy, so a key
//!   written for attempt 1 would otherwise reach attempt 2's provider), and
//!   translates request and response for that provider. Failures become
//!   503s so that Envoy's retry and outlier detection act on them, with the
//!   status the client should see in `x-modelmux-status`, which the
//!   downstream side restores.
//!
//! Both roles drive the same [`response::ResponseFlow`] and talk to Envoy
//! only through [`Host`], so whole request flows run natively in tests.

pub mod downstream;
pub mod health;
pub mod response;
pub mod telemetry;
pub mod tokens;
pub mod upstream;
pub mod worker;

pub use downstream::Downstream;
pub use upstream::Upstream;
pub use worker::{RequestRecord, Worker};

/// Header the downstream side sets for failover requests; the rendered
/// route matches on it to apply the retry policy.
pub const FAILOVER_HEADER: &str = "x-modelmux-failover";
/// [`FAILOVER_HEADER`]'s value for a streamed chat: its route abandons an
/// attempt that stays silent past `failover.attempt_timeout_ms`.
pub const FAILOVER_STREAM: &str = "stream";
/// [`FAILOVER_HEADER`]'s value for a non-streamed request (chat or
/// embeddings): silent until done, so its route has no per-attempt timeout
/// unless `failover.json_attempt_timeout_ms` asks for one.
pub const FAILOVER_JSON: &str = "json";
/// Response header from an upstream attempt: the status the client sees.
pub const STATUS_HEADER: &str = "x-modelmux-status";
/// Response header naming the provider that answered (kept for the client).
pub const PROVIDER_HEADER: &str = "x-modelmux-provider";
/// Root ids of the two roles (the `root_id` of each wasm filter).
pub const DOWNSTREAM_ROOT_ID: &str = "modelmux";
pub const UPSTREAM_ROOT_ID: &str = "modelmux-upstream";
/// The request id header. On failover requests it carries the record id
/// the downstream role issued: a random id, never the client's value. It
/// has to be a header every attempt's provider may see, because Envoy
/// starts each retry from the previous attempt's rewritten header map.
/// The downstream role puts the client's id back once the response starts
/// (no retry can follow), so access logs still show the client's id.
pub const REQUEST_ID: &str = "x-request-id";
/// The prefix of the filter's own headers: a client's copies are removed.
pub const OWN_PREFIX: &str = "x-modelmux-";

/// What the shell returns to Envoy from a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Pause,
}

/// Log severity for [`Host::log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Warn,
}

/// The Envoy calls the state machine needs, implemented by the shell with
/// proxy-wasm host calls and by tests with a recording fake.
pub trait Host {
    fn request_headers(&self) -> Vec<(String, String)>;
    fn request_header(&self, name: &str) -> Option<String>;
    fn set_request_headers(&mut self, headers: &[(String, String)]);
    fn set_request_header(&mut self, name: &str, value: Option<&str>);
    fn request_body(&self, len: usize) -> Vec<u8>;
    fn set_request_body(&mut self, len: usize, body: &[u8]);
    /// Removes every request trailer (called only when trailers came).
    fn clear_request_trailers(&mut self);
    fn response_header(&self, name: &str) -> Option<String>;
    fn set_response_header(&mut self, name: &str, value: Option<&str>);
    /// Every response header in one call (`get_map`).
    fn response_headers(&self) -> Vec<(String, String)>;
    /// Replaces every response header in one call (`set_map`).
    fn set_response_headers(&mut self, headers: &[(String, String)]);
    fn response_body(&self, start: usize, len: usize) -> Vec<u8>;
    fn set_response_body(&mut self, len: usize, body: &[u8]);
    /// A local JSON reply (final: Envoy does not retry it).
    fn reply(&mut self, status: u16, body: &[u8]);
    /// A string property, e.g. endpoint metadata.
    fn property(&self, path: &[&str]) -> Option<String>;
    /// Filter state for access logs (`%FILTER_STATE(wasm.<name>:PLAIN)%`).
    fn set_filter_state(&mut self, name: &str, value: &str);
    fn log(&self, level: Level, message: &str);
    /// Wall clock in Unix ms (a host call).
    fn now_ms(&self) -> u64;
    /// Wall clock in Unix µs (a host call), for latency histograms.
    fn now_us(&self) -> u64 {
        self.now_ms().saturating_mul(1000)
    }
}

/// Process-wide key/value store with compare-and-swap (proxy-wasm shared
/// data), shared by every worker's VM.
pub trait SharedStore {
    /// The value and its CAS token.
    fn get(&self, key: &str) -> (Option<Vec<u8>>, Option<u32>);
    /// Writes if `cas` still matches; `false` on a CAS mismatch.
    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> bool;
}

/// Writes a translated request: the new body, if any, and the whole header
/// set built from `client` (`cluster` empty when already routed), through
/// the provider's allowlist.
fn send_routed(
    host: &mut dyn Host,
    client: Vec<(String, String)>,
    r: &crate::gateway::Routed<'_>,
    cfg: &crate::config::Config,
    cluster: &str,
    size: usize,
) {
    use crate::gateway::headers::{upstream_headers, Egress, Never, Rewrite};
    if let Some(b) = &r.outbound.body {
        host.set_request_body(size, b);
    }
    let none = crate::config::HeaderRules::default();
    let egress = cfg.target_provider(r.model_idx, r.target_idx).map_or(
        Egress {
            protocol: &[],
            operator: &none,
        },
        Egress::of,
    );
    let rewrite = Rewrite {
        cluster_header: &cfg.cluster_header,
        cluster,
        authority: r.authority,
        path: &r.outbound.path,
        extra: &r.outbound.headers,
        body_len: r.outbound.body.as_ref().map(Vec::len),
        egress,
        never: Never::of(cfg),
    };
    host.set_request_headers(&upstream_headers(client, &rewrite));
}

#[cfg(test)]
mod tests;
