//! Route checks: a failover route per request kind (streamed, non-streamed)
//! with its retry policy and timeouts, the default route, and buffer
//! limits. Routes after them (render's `/healthz` and JSON 404 for requests
//! the filter did not route) are accepted; an unconditional one placed
//! before a route that carries traffic is reported, since that route would
//! never match.

use serde_json::Value;

use super::{at, duration_ms, items, str_at, uint, Downstream, Problems};
use crate::input::{Loaded, FAILOVER_HEADER, FAILOVER_JSON, FAILOVER_STREAM};
use crate::render::BUFFER_LIMIT;

/// Envoy's default connection buffer limit (the retry buffer's fallback).
const DEFAULT_CONNECTION_BUFFER: u64 = 1024 * 1024;

struct RouteRef<'a> {
    route: &'a Value,
    loc: String,
    vhost: usize,
}

pub fn check_routes(down: &Downstream, loaded: &Loaded, p: &mut Problems) {
    let rc_loc = format!("{}.route_config", down.hcm_loc);
    let Some(rc) = down.hcm.get("route_config") else {
        p.add(
            &rc_loc,
            "missing (RDS is not checked; use an inline route_config)",
        );
        return;
    };
    let config = &loaded.config;
    let failover = config.models.iter().any(|m| m.failover.is_some());
    let all = collect_routes(rc, &rc_loc, failover.then_some(loaded), p);
    let header = config.cluster_header.as_str();
    let uses_header = |r: &&RouteRef| str_at(r.route, &["route", "cluster_header"]) == Some(header);
    let default = all
        .iter()
        .filter(uses_header)
        .find(|r| !is_failover_match(r.route));
    if config.models.iter().any(|m| m.failover.is_none()) && default.is_none() {
        p.add(
            &rc_loc,
            format!("no route with cluster_header `{header}` for single-target models"),
        );
    }
    if let Some(idx) = all
        .iter()
        .position(|r| uses_header(&r) && !is_failover_match(r.route))
    {
        report_shadow(&all, idx, p);
    }
    if !failover {
        return;
    }
    for kind in [FAILOVER_STREAM, FAILOVER_JSON] {
        let Some(fo_idx) = all
            .iter()
            .position(|r| uses_header(&r) && matches_kind(r.route, kind))
        else {
            p.add(
                &rc_loc,
                format!("no failover route for {kind} requests: match on header `{FAILOVER_HEADER}` (string_match exact `{kind}`) with cluster_header `{header}`"),
            );
            continue;
        };
        let Some(fo) = all.get(fo_idx) else { continue };
        report_shadow(&all, fo_idx, p);
        check_retry_policy(fo, loaded, p);
        if kind == FAILOVER_STREAM {
            check_stream_timeouts(fo, loaded, p);
        } else {
            check_json_timeouts(fo, loaded, p);
        }
        check_effective_buffer(fo, down.listener, loaded, p);
    }
}

/// Reports route `idx` if an unconditional route of its virtual host comes
/// first (e.g. the catch-all 404 moved above the routes that carry traffic).
fn report_shadow(all: &[RouteRef], idx: usize, p: &mut Problems) {
    let Some(route) = all.get(idx) else { return };
    let shadow = all
        .iter()
        .take(idx)
        .find(|r| r.vhost == route.vhost && is_catch_all(r.route));
    if let Some(first) = shadow {
        p.add(
            &route.loc,
            format!("never matches: {} catches every request first", first.loc),
        );
    }
}

/// Every route in order; checks buffer limits on the way when `failover`
/// (the loaded config) is given.
fn collect_routes<'a>(
    rc: &'a Value,
    rc_loc: &str,
    failover: Option<&Loaded>,
    p: &mut Problems,
) -> Vec<RouteRef<'a>> {
    let mut all = Vec::new();
    for (vi, vh) in items(rc, &["virtual_hosts"]).iter().enumerate() {
        let vname = str_at(vh, &["name"]).map_or(vi.to_string(), str::to_string);
        let vloc = format!("{rc_loc}.virtual_hosts[{vname}]");
        if let Some(loaded) = failover {
            check_buffer_limits(vh, &vloc, loaded, p);
        }
        for (ri, route) in items(vh, &["routes"]).iter().enumerate() {
            let loc = format!("{vloc}.routes[{ri}]");
            if let Some(loaded) = failover {
                check_buffer_limits(route, &loc, loaded, p);
            }
            all.push(RouteRef {
                route,
                loc,
                vhost: vi,
            });
        }
    }
    all
}

/// A route that looks at the failover header at all.
fn is_failover_match(route: &Value) -> bool {
    items(route, &["match", "headers"])
        .iter()
        .any(|h| str_at(h, &["name"]).is_some_and(|n| n.eq_ignore_ascii_case(FAILOVER_HEADER)))
}

/// A route whose failover-header matcher takes requests marked `kind`
/// (`present_match` takes both kinds).
fn matches_kind(route: &Value, kind: &str) -> bool {
    items(route, &["match", "headers"]).iter().any(|h| {
        str_at(h, &["name"]).is_some_and(|n| n.eq_ignore_ascii_case(FAILOVER_HEADER))
            && !super::is_true(h.get("invert_match"))
            && (super::is_true(h.get("present_match"))
                || str_at(h, &["string_match", "exact"]) == Some(kind)
                || str_at(h, &["exact_match"]) == Some(kind))
    })
}

/// A route matching every path with no header or other conditions.
fn is_catch_all(route: &Value) -> bool {
    let Some(m) = route.get("match").and_then(Value::as_object) else {
        return false;
    };
    let prefix_all = m.get("prefix").and_then(Value::as_str) == Some("/")
        || m.get("prefix").and_then(Value::as_str) == Some("");
    prefix_all && m.keys().all(|k| k == "prefix" || k == "case_sensitive")
}

fn check_retry_policy(fo: &RouteRef, loaded: &Loaded, p: &mut Problems) {
    let loc = format!("{}.route.retry_policy", fo.loc);
    let Some(policy) = at(fo.route, &["route", "retry_policy"]) else {
        p.add(
            &loc,
            "missing: failover models need retries to the next priority",
        );
        return;
    };
    let on: Vec<&str> = str_at(policy, &["retry_on"])
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .collect();
    let has = |c: &str| on.contains(&c);
    let mut missing = Vec::new();
    for (cond, implied_by) in [
        ("5xx", None),
        ("reset", Some("5xx")),
        ("connect-failure", Some("5xx")),
        ("retriable-status-codes", None),
    ] {
        if !has(cond) && !implied_by.is_some_and(has) {
            missing.push(cond);
        }
    }
    if !missing.is_empty() {
        p.add(
            &format!("{loc}.retry_on"),
            format!("must cover {}", missing.join(", ")),
        );
    }
    let codes = items(policy, &["retriable_status_codes"]);
    if !codes.iter().any(|c| uint(Some(c)) == Some(429)) {
        p.add(
            &format!("{loc}.retriable_status_codes"),
            "must include 429 (rate limited: try the next target)",
        );
    }
    let retries = uint(policy.get("num_retries")).unwrap_or(1);
    for m in &loaded.config.models {
        let needed = m.targets.len().saturating_sub(1) as u64;
        if m.failover.is_some() && retries < needed {
            p.add(
                &format!("{loc}.num_retries"),
                format!(
                    "{retries} is fewer than the {needed} model `{}` needs ({} targets)",
                    m.name,
                    m.targets.len()
                ),
            );
        }
    }
    let prio = policy.get("retry_priority");
    let previous = prio.is_some_and(|r| {
        str_at(r, &["name"]) == Some("envoy.retry_priorities.previous_priorities")
            || str_at(r, &["typed_config", "@type"])
                .is_some_and(|t| t.ends_with(".previous_priorities.v3.PreviousPrioritiesConfig"))
    });
    if !previous {
        p.add(
            &format!("{loc}.retry_priority"),
            "must be envoy.retry_priorities.previous_priorities; without it every retry goes back to priority 0",
        );
    }
}

/// Route and virtual host limits below the retry buffer cancel failover.
fn check_buffer_limits(v: &Value, loc: &str, loaded: &Loaded, p: &mut Problems) {
    let want = loaded.config.failover.retry_buffer_bytes;
    for field in [
        "per_request_buffer_limit_bytes",
        "request_body_buffer_limit",
    ] {
        if let Some(limit) = uint(v.get(field)).filter(|l| *l < want) {
            p.add(
                &format!("{loc}.{field}"),
                format!("{limit} is below failover.retry_buffer_bytes ({want}): larger bodies are not replayed and failover silently stops (retry_or_shadow_abandoned)"),
            );
        }
    }
}

/// Without a route limit the router falls back to the listener's
/// connection buffer limit.
fn check_effective_buffer(fo: &RouteRef, listener: &Value, loaded: &Loaded, p: &mut Problems) {
    let set = [
        "per_request_buffer_limit_bytes",
        "request_body_buffer_limit",
    ]
    .iter()
    .any(|f| fo.route.get(*f).is_some());
    if set {
        return;
    }
    let want = loaded.config.failover.retry_buffer_bytes;
    let conn = uint(listener.get("per_connection_buffer_limit_bytes"))
        .unwrap_or(DEFAULT_CONNECTION_BUFFER);
    if conn < want {
        p.add(
            &fo.loc,
            format!("no request_body_buffer_limit, so the retry buffer is the listener's {conn} bytes, below failover.retry_buffer_bytes ({want}); set it to at least {want} (e.g. {BUFFER_LIMIT})"),
        );
    }
}

/// Streams: an attempt silent for `attempt_timeout_ms` moves on; nothing
/// may cut a stream that is flowing.
fn check_stream_timeouts(fo: &RouteRef, loaded: &Loaded, p: &mut Problems) {
    let loc = format!("{}.route.retry_policy", fo.loc);
    let want = loaded.config.failover.attempt_timeout_ms;
    let policy = at(fo.route, &["route", "retry_policy"]);
    match duration_ms(policy.and_then(|r| r.get("per_try_idle_timeout"))) {
        None => p.add(
            &format!("{loc}.per_try_idle_timeout"),
            format!("[stream-attempt-timeout] missing: a stream that stalls before its first byte is never failed over (failover.attempt_timeout_ms is {want} ms)"),
        ),
        Some(ms) if ms != want => p.add(
            &format!("{loc}.per_try_idle_timeout"),
            format!("[stream-attempt-timeout] {ms} ms, but failover.attempt_timeout_ms is {want} ms"),
        ),
        Some(_) => {}
    }
    if policy.and_then(|r| r.get("per_try_timeout")).is_some() {
        p.add(
            &format!("{loc}.per_try_timeout"),
            "[stream-attempt-timeout] cuts every stream that lasts longer than it; streams need only per_try_idle_timeout",
        );
    }
}

/// Non-streamed requests: no per-attempt timeout unless the operator asked
/// for one (`json_attempt_timeout_ms`), and their own request timeout.
fn check_json_timeouts(fo: &RouteRef, loaded: &Loaded, p: &mut Problems) {
    let f = &loaded.config.failover;
    let loc = format!("{}.route", fo.loc);
    let policy = at(fo.route, &["route", "retry_policy"]);
    if policy.and_then(|r| r.get("per_try_idle_timeout")).is_some() {
        p.add(
            &format!("{loc}.retry_policy.per_try_idle_timeout"),
            "[json-attempt-timeout] abandons a non-streamed reply that is slower than it (it is silent until done) and replays it on the next target: every provider bills the work; remove it, or set failover.json_attempt_timeout_ms to opt in",
        );
    }
    let per_try = duration_ms(policy.and_then(|r| r.get("per_try_timeout")));
    match (per_try, f.json_attempt_timeout_ms) {
        (Some(ms), None) => p.add(
            &format!("{loc}.retry_policy.per_try_timeout"),
            format!("[json-attempt-timeout] {ms} ms abandons slower non-streamed replies, which every provider then bills; failover.json_attempt_timeout_ms is not set"),
        ),
        (got, Some(want)) if got != Some(want) => p.add(
            &format!("{loc}.retry_policy.per_try_timeout"),
            format!("[json-attempt-timeout] {}, but failover.json_attempt_timeout_ms is {want} ms", got.map_or("missing".to_string(), |g| format!("{g} ms"))),
        ),
        _ => {}
    }
    let want = f.json_timeout_ms;
    let got = duration_ms(at(fo.route, &["route", "timeout"]));
    if got != Some(want) {
        p.add(
            &format!("{loc}.timeout"),
            format!(
                "[json-timeout] {}, but failover.json_timeout_ms is {want} ms",
                got.map_or(
                    "missing (Envoy's default is 15 s)".to_string(),
                    |g| format!("{g} ms")
                )
            ),
        );
    }
}
