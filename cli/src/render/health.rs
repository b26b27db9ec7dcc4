//! Endpoint health for the rendered clusters: outlier detection (ejection
//! of endpoints that keep failing) and active health checks. They interact:
//! Envoy's default lets a passing health check end an ejection at once, so
//! a provider that answers its health path while failing requests would be
//! back after one interval instead of `failover.ejection_ms`.
//!
//! SaaS APIs (a provider at its kind's own public host: api.openai.com,
//! api.anthropic.com, generativelanguage.googleapis.com, bedrock-runtime…)
//! have no unauthenticated health path: an Envoy health check carries no
//! key, so it gets a 401 (or 403/404) and the host is marked unhealthy.
//! For them no active check is rendered unless the config lists the
//! statuses it expects (`health_check.expected_statuses`); passive outlier
//! detection, which judges real requests, covers them. Self-hosted and
//! local endpoints (vLLM's `/health`, Ollama's `/`) are checked as asked.

use modelmux_core::config::{Config, HealthCheck, Provider};

use super::duration_ms;
use crate::yaml::{commented, map, s, seq, Node};

/// Outlier detection for a rotation cluster. With an active health check
/// (`health_checked`), Envoy's default
/// `successful_active_health_check_uneject_host: true` would end every
/// ejection at the next passing check (one interval, ~1 s) instead of after
/// `failover.ejection_ms`: a provider that answers its health path but fails
/// real requests (a 429 quota, an overloaded model) would be back at once.
pub(super) fn outlier_detection(config: &Config, health_checked: bool) -> Node {
    let f = &config.failover;
    let n = || Node::Int(u64::from(f.consecutive_failures));
    let mut entries = vec![
        ("consecutive_5xx", n()),
        ("consecutive_gateway_failure", n()),
        ("interval", s(duration_ms(f.outlier_interval_ms))),
        ("base_ejection_time", s(duration_ms(f.ejection_ms))),
        ("max_ejection_percent", Node::Int(100)),
        ("split_external_local_origin_errors", Node::Bool(true)),
        ("consecutive_local_origin_failure", n()),
    ];
    if health_checked {
        entries.push((
            "successful_active_health_check_uneject_host",
            commented(
                &["A passing health check must not end an ejection early."],
                Node::Bool(false),
            ),
        ));
    }
    commented(
        &[
            "Eject an endpoint that keeps failing; traffic spills to the next priority.",
            "100%: with the default 10% a two-endpoint cluster would never eject.",
        ],
        map(entries),
    )
}

/// A provider at its kind's own public host: a SaaS API, whose every path
/// wants a key.
pub fn is_saas(p: &Provider) -> bool {
    let host = p.host.rsplit_once(':').map_or(p.host.as_str(), |(h, _)| h);
    p.options
        .default_host()
        .is_some_and(|d| d.eq_ignore_ascii_case(host))
}

/// An HTTP health check, when every provider in the cluster has one with
/// the same path and statuses (Envoy health checks are per cluster) and
/// none is a SaaS API checked without expected statuses; else the reason
/// there is none, for a comment.
pub(super) fn health_checks(
    members: &[&Provider],
) -> Result<Option<Node>, &'static [&'static str]> {
    let checks: Vec<&HealthCheck> = members
        .iter()
        .filter_map(|p| p.health_check.as_ref())
        .collect();
    let Some(first) = checks.first() else {
        return Ok(None);
    };
    let differ =
        |h: &&HealthCheck| h.path != first.path || h.expected_statuses != first.expected_statuses;
    if checks.len() != members.len() || checks.iter().any(differ) {
        return Err(&[
            "No health_checks: Envoy checks a whole cluster with one path, and not every",
            "provider here has a health_check with the same path and expected_statuses.",
        ]);
    }
    if first.expected_statuses.is_empty() && members.iter().any(|p| is_saas(p)) {
        return Err(&[
            "No health_checks: a SaaS API answers an unauthenticated health check 401",
            "(health checks carry no key); outlier detection below covers it. List the",
            "statuses to accept in health_check.expected_statuses to check it anyway.",
        ]);
    }
    let interval = checks
        .iter()
        .map(|h| h.interval_ms)
        .min()
        .unwrap_or(first.interval_ms);
    let check = map([
        ("timeout", s("1s")),
        ("interval", s(duration_ms(interval))),
        // Envoy checks idle clusters only every 60 s by default; a fallback
        // target is idle until it is needed, which is when it must be known.
        ("no_traffic_interval", s(duration_ms(interval))),
        ("unhealthy_threshold", Node::Int(2)),
        ("healthy_threshold", Node::Int(1)),
        ("http_health_check", http_check(first)),
    ]);
    Ok(Some(seq([check])))
}

/// The request and, when given, the statuses that count as healthy (Envoy
/// ranges are half-open: `[start, end)`).
fn http_check(h: &HealthCheck) -> Node {
    let mut entries = vec![("path", s(&h.path))];
    if !h.expected_statuses.is_empty() {
        let ranges = h.expected_statuses.iter().map(|c| {
            let c = u64::from(*c);
            map([("start", Node::Int(c)), ("end", Node::Int(c + 1))])
        });
        entries.push(("expected_statuses", seq(ranges)));
    }
    map(entries)
}

/// Adds `health_checks`, or the reason there are none as a comment on
/// `next` (the entry that follows).
pub(super) fn push_health_checks<'a>(
    entries: &mut Vec<(&'a str, Node)>,
    members: &[&Provider],
    next: (&'a str, Node),
) {
    match health_checks(members) {
        Ok(Some(checks)) => {
            entries.push(("health_checks", checks));
            entries.push(next);
        }
        Ok(None) => entries.push(next),
        Err(note) => entries.push((next.0, commented(note, next.1))),
    }
}
