//! Envoy's own protections for an internet-facing listener, on by default.
//!
//! The gateway buffers whole request bodies and holds long streams, so the
//! cheap attacks are slow ones: a client that sends its headers or body a
//! byte at a time (slowloris), many idle connections, or many streams whose
//! client never reads (Envoy buffers their output up to the connection's
//! buffer limit). Each has an Envoy protection, rendered here with
//! defaults an operator overrides with `render` flags (these are Envoy
//! deployment knobs the filter never reads, so they stay out of its JSON):
//!
//! * `request_headers_timeout` and `request_timeout` on the HTTP connection
//!   manager. Envoy disarms `request_timeout` once the whole request has been
//!   sent upstream or the response has started, so it bounds receiving the
//!   request, never a long generation.
//! * A global connection limit (the overload manager's
//!   `global_downstream_max_connections` monitor; the admin listener is
//!   exempt so it stays reachable under a flood).
//! * A heap limit (`fixed_heap`) that shrinks the heap, resets the streams
//!   holding the most buffered memory (buffer accounting) and, near the
//!   limit, refuses new requests.
//! * Connection buffer limits sized for the largest body the gateway buffers
//!   (`--max-body-bytes`), not more.
//! * HTTP/2 limits on the downstream codec. Envoy's defaults are for trusted
//!   peers: 2^31 concurrent streams per connection and 256 MiB stream
//!   windows. Envoy's edge-proxy guidance caps streams at 100 and windows at
//!   64 KiB (stream) and 1 MiB (connection), which bounds what one HTTP/2
//!   connection can make Envoy hold; the filter's buffering of a body is
//!   bounded by the buffer limit above, not by the window.

use super::duration_ms;
use crate::yaml::{commented, map, s, seq, typed, Node};

/// `render`'s protection settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub request_headers_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub max_connections: u64,
    pub max_heap_bytes: u64,
    /// Listener and cluster `per_connection_buffer_limit_bytes`.
    pub max_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_headers_timeout_ms: 10_000,
            request_timeout_ms: 60_000,
            max_connections: 10_000,
            max_heap_bytes: 1024 * 1024 * 1024,
            max_body_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Downstream HTTP/2 limits (Envoy's edge-proxy values).
pub const H2_MAX_CONCURRENT_STREAMS: u64 = 100;
pub const H2_STREAM_WINDOW: u64 = 64 * 1024;
pub const H2_CONNECTION_WINDOW: u64 = 1024 * 1024;

pub const HEAP_MONITOR: &str = "envoy.resource_monitors.fixed_heap";
pub const CONNECTIONS_MONITOR: &str = "envoy.resource_monitors.global_downstream_max_connections";
pub const RESET_STREAMS: &str = "envoy.overload_actions.reset_high_memory_stream";
/// Streams are tracked for `reset_high_memory_stream` from 2^20 bytes (1 MiB).
const TRACK_POWER_OF_TWO: u64 = 20;

/// The HTTP connection manager's timeouts for receiving a request.
pub fn hcm_timeouts(limits: &Limits) -> Vec<(&'static str, Node)> {
    vec![
        (
            "request_headers_timeout",
            commented(
                &["A client must send its whole request head within this (slowloris)."],
                s(duration_ms(limits.request_headers_timeout_ms)),
            ),
        ),
        (
            "request_timeout",
            commented(
                &[
                    "... and its whole body within this. Envoy disarms it once the request",
                    "has gone upstream or the response has started: streams are not cut.",
                ],
                s(duration_ms(limits.request_timeout_ms)),
            ),
        ),
    ]
}

/// The HTTP connection manager's downstream HTTP/2 limits.
pub fn hcm_http2() -> (&'static str, Node) {
    (
        "http2_protocol_options",
        commented(
            &["HTTP/2 clients: bounded streams per connection and flow-control windows."],
            map([
                (
                    "max_concurrent_streams",
                    Node::Int(H2_MAX_CONCURRENT_STREAMS),
                ),
                ("initial_stream_window_size", Node::Int(H2_STREAM_WINDOW)),
                (
                    "initial_connection_window_size",
                    Node::Int(H2_CONNECTION_WINDOW),
                ),
            ]),
        ),
    )
}

fn trigger(threshold: f64) -> Node {
    seq([map([
        ("name", s(HEAP_MONITOR)),
        ("threshold", map([("value", Node::Float(threshold))])),
    ])])
}

/// The bootstrap's `overload_manager`.
pub fn overload_manager(limits: &Limits) -> Node {
    let monitors = seq([
        map([
            ("name", s(HEAP_MONITOR)),
            (
                "typed_config",
                typed(
                    "envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
                    vec![("max_heap_size_bytes", Node::Int(limits.max_heap_bytes))],
                ),
            ),
        ]),
        commented(
            &["Connections past this are closed on accept (the admin listener is exempt)."],
            map([
                ("name", s(CONNECTIONS_MONITOR)),
                (
                    "typed_config",
                    typed(
                        "envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                        vec![(
                            "max_active_downstream_connections",
                            Node::Int(limits.max_connections),
                        )],
                    ),
                ),
            ]),
        ),
    ]);
    let reset = map([
        ("name", s(HEAP_MONITOR)),
        (
            "scaled",
            map([
                ("scaling_threshold", Node::Float(0.85)),
                ("saturation_threshold", Node::Float(0.95)),
            ]),
        ),
    ]);
    let actions = seq([
        map([
            ("name", s("envoy.overload_actions.shrink_heap")),
            ("triggers", trigger(0.9)),
        ]),
        commented(
            &["Resets the streams holding the most buffered memory first (slow readers)."],
            map([("name", s(RESET_STREAMS)), ("triggers", seq([reset]))]),
        ),
        map([
            ("name", s("envoy.overload_actions.stop_accepting_requests")),
            ("triggers", trigger(0.95)),
        ]),
    ]);
    commented(
        &[
            "Envoy's memory and connection protections (`modelmux render --max-heap-bytes`,",
            "`--max-connections`); set max_heap_size_bytes below the container's memory.",
        ],
        map([
            ("refresh_interval", s("0.25s")),
            ("resource_monitors", monitors),
            ("actions", actions),
            (
                "buffer_factory_config",
                commented(
                    &["Buffer accounting, which reset_high_memory_stream needs."],
                    map([(
                        "minimum_account_to_track_power_of_two",
                        Node::Int(TRACK_POWER_OF_TWO),
                    )]),
                ),
            ),
        ]),
    )
}
