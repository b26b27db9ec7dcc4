//! Envoy's protections for an exposed listener (see `render::hardening`):
//! each one missing is its own named finding, `[name] …`, so a report can
//! be grepped and a deliberate exception is easy to see.
//!
//! * `[request-headers-timeout]`, `[request-timeout]`: without them a client
//!   that sends its head or body a byte at a time holds a stream until the
//!   idle timeout (300 s in the rendered config), since every byte resets it.
//! * `[connection-limit]`: neither the overload manager's global connection
//!   monitor nor a `connection_limit` network filter.
//! * `[heap-limit]`: no `fixed_heap` monitor with an action, so Envoy grows
//!   until the kernel kills it; `[memory-accounting]`:
//!   `reset_high_memory_stream` without `buffer_factory_config` does nothing.
//! * `[buffer-limit]`: a connection buffer limit so large that a few clients
//!   that read slowly can pin gigabytes, or so small (under 1 MiB) that
//!   ordinary chat bodies get a 413.
//! * `[http2-limits]`: the downstream HTTP/2 codec on Envoy's defaults
//!   (2^31 streams per connection, 256 MiB windows), or above the rendered
//!   limits.
//! * `[response-buffer]`: the filter's `response_buffer_bytes` at or above
//!   the listener's buffer limit. A buffered reply between the two hits
//!   Envoy's limit first, and Envoy's local reply (a bare text 500) goes
//!   to the client without passing back through the filter; under it, the
//!   filter answers with its own JSON 502 `response_too_large`.
//! * `[admin-exposed]`: the admin interface off loopback serves
//!   `/config_dump` (keys included), `/quitquitquit` and runtime changes.

use serde_json::Value;

use super::{at, duration_ms, has_type, items, str_at, uint, Downstream, Problems};
use crate::render::{
    is_loopback, CONNECTIONS_MONITOR, H2_CONNECTION_WINDOW, H2_MAX_CONCURRENT_STREAMS,
    H2_STREAM_WINDOW, HEAP_MONITOR, RESET_STREAMS,
};

/// Below this, ordinary chat bodies (a long conversation, one inline image)
/// are refused with a 413.
pub const MIN_CHAT_BUFFER: u64 = 1024 * 1024;

/// Above this, a connection buffer limit is a memory hazard in itself.
pub const MAX_SANE_BUFFER: u64 = 64 * 1024 * 1024;

pub fn check_hardening(doc: &Value, down: &Downstream, p: &mut Problems) {
    check_request_timeouts(down, p);
    check_http2(down, p);
    let om = doc.get("overload_manager");
    check_connection_limit(om, down, p);
    check_heap(om, p);
    check_buffers(doc, down, p);
    check_admin(doc, p);
}

fn check_request_timeouts(down: &Downstream, p: &mut Problems) {
    let loc = format!("{}.typed_config", down.hcm_loc);
    for (field, name, what) in [
        (
            "request_headers_timeout",
            "request-headers-timeout",
            "its request head",
        ),
        ("request_timeout", "request-timeout", "its request body"),
    ] {
        if duration_ms(down.hcm.get(field)).unwrap_or(0) == 0 {
            p.add(
                &format!("{loc}.{field}"),
                format!("[{name}] missing: a client may send {what} a byte at a time and hold the stream until the idle timeout (slowloris); set it (render --{name}-ms)"),
            );
        }
    }
}

fn check_http2(down: &Downstream, p: &mut Problems) {
    let loc = format!("{}.typed_config.http2_protocol_options", down.hcm_loc);
    let h2 = down.hcm.get("http2_protocol_options");
    for (field, max) in [
        ("max_concurrent_streams", H2_MAX_CONCURRENT_STREAMS),
        ("initial_stream_window_size", H2_STREAM_WINDOW),
        ("initial_connection_window_size", H2_CONNECTION_WINDOW),
    ] {
        match h2.and_then(|h| uint(h.get(field))) {
            Some(v) if v <= max => {}
            Some(v) => p.add(
                &format!("{loc}.{field}"),
                format!("[http2-limits] {v} is above {max}: one HTTP/2 connection may hold that much"),
            ),
            None => p.add(
                &format!("{loc}.{field}"),
                format!("[http2-limits] missing: Envoy's default lets one HTTP/2 client open 2^31 streams with 256 MiB windows; set it to at most {max}"),
            ),
        }
    }
}

/// The monitor of `om` named `name`, if any.
fn monitor<'a>(om: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    items(om?, &["resource_monitors"])
        .iter()
        .find(|m| str_at(m, &["name"]) == Some(name))
}

fn check_connection_limit(om: Option<&Value>, down: &Downstream, p: &mut Problems) {
    let global = monitor(om, CONNECTIONS_MONITOR)
        .and_then(|m| {
            uint(at(
                m,
                &["typed_config", "max_active_downstream_connections"],
            ))
        })
        .is_some_and(|n| n > 0);
    let filter = items(down.listener, &["filter_chains"])
        .iter()
        .all(|chain| {
            items(chain, &["filters"]).iter().any(|f| {
                str_at(f, &["name"]) == Some("envoy.filters.network.connection_limit")
                    || has_type(
                        f,
                        "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit",
                    )
            })
        });
    if !global && !filter {
        p.add(
            "overload_manager.resource_monitors",
            format!("[connection-limit] no limit on client connections: add the {CONNECTIONS_MONITOR} monitor (render --max-connections) or an envoy.filters.network.connection_limit filter"),
        );
    }
}

fn check_heap(om: Option<&Value>, p: &mut Problems) {
    let loc = "overload_manager";
    let heap = monitor(om, HEAP_MONITOR)
        .and_then(|m| uint(at(m, &["typed_config", "max_heap_size_bytes"])))
        .is_some_and(|n| n > 0);
    let actions = om.map(|o| items(o, &["actions"])).unwrap_or_default();
    let on_heap = |a: &&Value| {
        items(a, &["triggers"])
            .iter()
            .any(|t| str_at(t, &["name"]) == Some(HEAP_MONITOR))
    };
    if !heap || !actions.iter().any(|a| on_heap(&a)) {
        p.add(
            loc,
            format!("[heap-limit] no {HEAP_MONITOR} monitor with actions: nothing sheds load before the process runs out of memory (render --max-heap-bytes)"),
        );
    }
    let reset = actions
        .iter()
        .any(|a| str_at(a, &["name"]) == Some(RESET_STREAMS));
    let accounting = om
        .and_then(|o| {
            uint(at(
                o,
                &[
                    "buffer_factory_config",
                    "minimum_account_to_track_power_of_two",
                ],
            ))
        })
        .is_some();
    if reset && !accounting {
        p.add(
            &format!("{loc}.buffer_factory_config"),
            format!("[memory-accounting] missing: {RESET_STREAMS} only resets streams whose buffers are tracked (minimum_account_to_track_power_of_two)"),
        );
    }
}

fn check_buffers(doc: &Value, down: &Downstream, p: &mut Problems) {
    let lname = str_at(down.listener, &["name"]).unwrap_or("?");
    let mut places = vec![(format!("listeners[{lname}]"), down.listener)];
    for c in items(doc, &["static_resources", "clusters"]) {
        let name = str_at(c, &["name"]).unwrap_or("?");
        places.push((format!("clusters[{name}]"), c));
    }
    for (loc, v) in places {
        if let Some(limit) = uint(v.get("per_connection_buffer_limit_bytes")) {
            if limit < MIN_CHAT_BUFFER {
                p.add(
                    &format!("{loc}.per_connection_buffer_limit_bytes"),
                    format!("[buffer-limit] {limit} bytes is too small for chat bodies: a long conversation or one image is larger, and gets a 413; use at least {MIN_CHAT_BUFFER} (render --max-body-bytes)"),
                );
            }
            if limit > MAX_SANE_BUFFER {
                p.add(
                    &format!("{loc}.per_connection_buffer_limit_bytes"),
                    format!("[buffer-limit] {limit} bytes: every slow-reading client can make Envoy buffer this much; size it for the largest body (render --max-body-bytes, at most {MAX_SANE_BUFFER})"),
                );
            }
        }
    }
}

pub fn check_response_buffer(down: &Downstream, filter_limit: usize, p: &mut Problems) {
    let Some(envoy_limit) = uint(down.listener.get("per_connection_buffer_limit_bytes")) else {
        return;
    };
    let filter_limit = u64::try_from(filter_limit).unwrap_or(u64::MAX);
    if filter_limit >= envoy_limit {
        let lname = str_at(down.listener, &["name"]).unwrap_or("?");
        p.add(
            &format!("{}.configuration.response_buffer_bytes", down.config_loc),
            format!("[response-buffer] {filter_limit} bytes is not below listeners[{lname}].per_connection_buffer_limit_bytes ({envoy_limit}): a reply between the two gets Envoy's bare text 500 instead of an error in the client's format; set response_buffer_bytes lower"),
        );
    }
}

fn check_admin(doc: &Value, p: &mut Problems) {
    let Some(host) = str_at(doc, &["admin", "address", "socket_address", "address"]) else {
        return;
    };
    if !is_loopback(host) {
        p.add(
            "admin.address.socket_address.address",
            format!("[admin-exposed] {host} is not loopback: the admin interface serves /config_dump (provider keys included), /quitquitquit and /runtime_modify to anyone who reaches it"),
        );
    }
}
