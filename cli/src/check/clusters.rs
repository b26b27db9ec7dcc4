//! Cluster checks: provider clusters, rotation clusters (priorities,
//! metadata, addresses, TLS), outlier detection and the upstream filter.

use modelmux_core::config::{Endpoint, Model, Provider, METADATA_NAMESPACE, METADATA_PROVIDER_KEY};
use serde_json::Value;

use super::{
    at, embedded_config, has_type, is_true, items, json_diff, str_at, uint, wasm_config,
    Downstream, Problems,
};
use crate::input::Loaded;
use crate::render::{
    AWS_SIGNING, HTTP_OPTIONS, SOCKET_MATCH_NAMESPACE, UPSTREAM_CODEC, UPSTREAM_ROOT_ID,
};

const TLS_CONTEXT: &str = "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext";

pub fn check_clusters(doc: &Value, down: &Downstream, loaded: &Loaded, p: &mut Problems) {
    let clusters = items(doc, &["static_resources", "clusters"]);
    let find = |name: &str| clusters.iter().find(|c| str_at(c, &["name"]) == Some(name));
    let config = &loaded.config;
    let mut seen: Vec<&str> = Vec::new();
    for m in config.models.iter().filter(|m| m.failover.is_none()) {
        let Some(provider) = m.targets.first().and_then(|t| config.provider(t.provider)) else {
            continue;
        };
        if seen.contains(&provider.cluster.as_str()) {
            continue;
        }
        seen.push(&provider.cluster);
        let loc = format!("clusters[{}]", provider.cluster);
        match find(&provider.cluster) {
            Some(c) => check_provider_cluster(c, &loc, provider, p),
            None => p.add(
                &loc,
                format!(
                    "missing (provider `{}`, used by model `{}`)",
                    provider.name, m.name
                ),
            ),
        }
    }
    for m in &config.models {
        let Some(failover) = &m.failover else {
            continue;
        };
        for (k, name) in failover.rotations.iter().enumerate() {
            let loc = format!("clusters[{name}]");
            match find(name) {
                Some(c) => {
                    check_rotation(c, &loc, m, k, loaded, p);
                    check_upstream_filter(c, &loc, down, loaded, p);
                }
                None => p.add(
                    &loc,
                    format!("missing (rotation {k} of failover model `{}`)", m.name),
                ),
            }
        }
    }
}

fn check_provider_cluster(c: &Value, loc: &str, provider: &Provider, p: &mut Problems) {
    let mut any = false;
    for (i, locality) in items(c, &["load_assignment", "endpoints"])
        .iter()
        .enumerate()
    {
        for (j, lb) in items(locality, &["lb_endpoints"]).iter().enumerate() {
            any |= address_of(lb) == Some(endpoint_addr(&provider.endpoint));
            let lb_loc = format!("{loc}.load_assignment.endpoints[{i}].lb_endpoints[{j}]");
            check_tls(c, lb, &lb_loc, provider, p);
        }
    }
    check_envoy_signing(c, loc, provider, p);
    if !any {
        p.add(
            &format!("{loc}.load_assignment"),
            format!(
                "no endpoint at {} (provider `{}`)",
                endpoint_addr(&provider.endpoint),
                provider.name
            ),
        );
    }
}

/// A provider left to Envoy's SigV4 signer needs that filter on its
/// cluster, for its service and region: without it requests go unsigned.
fn check_envoy_signing(c: &Value, loc: &str, provider: &Provider, p: &mut Problems) {
    let Some(want) = provider.options.envoy_signing() else {
        return;
    };
    let floc = format!("{loc}.typed_extension_protocol_options.\"{HTTP_OPTIONS}\".http_filters");
    let filters = items(
        c,
        &[
            "typed_extension_protocol_options",
            HTTP_OPTIONS,
            "http_filters",
        ],
    );
    let signer = filters.iter().find(|f| {
        has_type(
            f,
            "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning",
        )
    });
    let Some(signer) = signer else {
        p.add(&floc, format!("provider `{}` has auth type `envoy` but its cluster has no {AWS_SIGNING} filter: requests would go unsigned", provider.name));
        return;
    };
    let field = |k: &str| str_at(signer, &["typed_config", k]);
    if field("service_name") != Some(want.service) || field("region") != Some(want.region.as_str())
    {
        p.add(
            &floc,
            format!(
                "{AWS_SIGNING} must sign for service `{}` in region `{}` (provider `{}`)",
                want.service, want.region, provider.name
            ),
        );
    }
}

pub(super) fn endpoint_addr(ep: &Endpoint) -> String {
    format!("{}:{}", ep.address, ep.port)
}

pub(super) fn address_of(lb: &Value) -> Option<String> {
    let socket = at(lb, &["endpoint", "address", "socket_address"])?;
    Some(format!(
        "{}:{}",
        str_at(socket, &["address"])?,
        uint(socket.get("port_value"))?
    ))
}

fn provider_of(lb: &Value) -> Option<&str> {
    str_at(
        lb,
        &[
            "metadata",
            "filter_metadata",
            METADATA_NAMESPACE,
            METADATA_PROVIDER_KEY,
        ],
    )
}

/// Cluster `k` of `model`: target `(k + p) % n` at priority `p`.
fn check_rotation(
    c: &Value,
    loc: &str,
    model: &Model,
    k: usize,
    loaded: &Loaded,
    p: &mut Problems,
) {
    let config = &loaded.config;
    let targets: Vec<&Provider> = model
        .targets
        .iter()
        .filter_map(|t| config.provider(t.provider))
        .collect();
    let n = targets.len();
    let localities = items(c, &["load_assignment", "endpoints"]);
    let priority = |l: &Value| uint(l.get("priority")).unwrap_or(0);
    for prio in 0..n {
        let want = targets[(k + prio) % n];
        if !localities.iter().any(|l| priority(l) == prio as u64) {
            p.add(
                &format!("{loc}.load_assignment"),
                format!(
                    "no endpoints at priority {prio} (expected provider {})",
                    want.name
                ),
            );
        }
    }
    for (i, locality) in localities.iter().enumerate() {
        let prio = priority(locality);
        let lloc = format!("{loc}.load_assignment.endpoints[{i}]");
        let Some(want) = usize::try_from(prio)
            .ok()
            .filter(|p| *p < n)
            .map(|p| targets[(k + p) % n])
        else {
            p.add(
                &lloc,
                format!(
                    "unexpected priority {prio}: model `{}` has {n} targets",
                    model.name
                ),
            );
            continue;
        };
        let lbs = items(locality, &["lb_endpoints"]);
        if lbs.is_empty() {
            p.add(
                &lloc,
                format!(
                    "no lb_endpoints (expected provider {} at priority {prio})",
                    want.name
                ),
            );
        }
        for (j, lb) in lbs.iter().enumerate() {
            check_rotation_endpoint(c, lb, (&lloc, j), (want, prio), p);
        }
    }
    check_outlier(c, loc, p);
    check_retry_room(c, loc, p);
}

/// One endpoint of a rotation: its metadata, address and TLS.
fn check_rotation_endpoint(
    c: &Value,
    lb: &Value,
    (lloc, j): (&str, usize),
    (want, prio): (&Provider, u64),
    p: &mut Problems,
) {
    let lb_loc = format!("{lloc}.lb_endpoints[{j}]");
    match provider_of(lb) {
        None => p.add(
            &format!("{lb_loc}.metadata"),
            format!("missing filter_metadata.{METADATA_NAMESPACE}.{METADATA_PROVIDER_KEY} (expected {}): the upstream filter cannot tell which provider an attempt reached", want.name),
        ),
        Some(found) if found != want.name => p.add(
            lloc,
            format!("expected provider {} at priority {prio}, found {found}", want.name),
        ),
        Some(_) => {}
    }
    let want_addr = endpoint_addr(&want.endpoint);
    match address_of(lb) {
        Some(addr) if addr == want_addr => {}
        found => p.add(
            &format!("{lb_loc}.endpoint.address"),
            format!(
                "expected {want_addr} (provider {}), found {}",
                want.name,
                found.as_deref().unwrap_or("none")
            ),
        ),
    }
    check_tls(c, lb, &lb_loc, want, p);
}

fn check_outlier(c: &Value, loc: &str, p: &mut Problems) {
    let Some(od) = c.get("outlier_detection") else {
        p.add(loc, "no outlier_detection: a failing target is never ejected, every request retries it first");
        return;
    };
    let percent = uint(at(od, &["max_ejection_percent"])).unwrap_or(10);
    if percent < 100 && !is_true(od.get("always_eject_one_host")) {
        p.add(
            &format!("{loc}.outlier_detection"),
            format!("max_ejection_percent {percent} can block every ejection in a small cluster; use 100 (or always_eject_one_host: true)"),
        );
    }
    let off = match od.get("successful_active_health_check_uneject_host") {
        Some(Value::Bool(b)) => !b,
        Some(Value::String(v)) => v == "false",
        _ => false,
    };
    if !items(c, &["health_checks"]).is_empty() && !off {
        p.add(
            &format!("{loc}.outlier_detection"),
            "[health-check-uneject] successful_active_health_check_uneject_host is not false: with health_checks, Envoy ends every ejection at the next passing check (one interval) instead of after base_ejection_time; set it to false",
        );
    }
}

/// Failovers are retries: the default circuit breaker (3 concurrent retries
/// per cluster) refuses most of them under load.
fn check_retry_room(c: &Value, loc: &str, p: &mut Problems) {
    let thresholds = items(c, &["circuit_breakers", "thresholds"]);
    let default = thresholds.iter().find(|t| {
        t.get("priority")
            .and_then(Value::as_str)
            .is_none_or(|v| v == "DEFAULT")
    });
    let room = default.is_some_and(|t| {
        t.get("retry_budget").is_some() || uint(t.get("max_retries")).is_some_and(|n| n >= 64)
    });
    if !room {
        p.add(
            &format!("{loc}.circuit_breakers"),
            "no retry_budget (or max_retries >= 64) on the DEFAULT priority: Envoy allows 3 concurrent retries per cluster, so under load failovers are refused (upstream_rq_retry_overflow)",
        );
    }
}

/// The transport socket an endpoint gets: the first match whose criteria
/// its `envoy.transport_socket_match` metadata satisfies, else the
/// cluster's own.
fn effective_socket<'a>(c: &'a Value, lb: &Value) -> Option<&'a Value> {
    let meta = at(lb, &["metadata", "filter_metadata", SOCKET_MATCH_NAMESPACE]);
    let matched = items(c, &["transport_socket_matches"]).iter().find(|m| {
        m.get("match")
            .and_then(Value::as_object)
            .is_none_or(|crit| {
                crit.iter()
                    .all(|(k, v)| meta.and_then(|m| m.get(k)) == Some(v))
            })
    });
    match matched {
        Some(m) => m.get("transport_socket"),
        None => c.get("transport_socket"),
    }
}

fn check_tls(c: &Value, lb: &Value, loc: &str, provider: &Provider, p: &mut Problems) {
    let ep = &provider.endpoint;
    let socket = effective_socket(c, lb).filter(|s| has_type(s, TLS_CONTEXT));
    let Some(socket) = socket else {
        if ep.tls {
            p.add(loc, format!("no TLS for provider {}: add metadata filter_metadata.\"{SOCKET_MATCH_NAMESPACE}\" matching a transport_socket_matches entry with an UpstreamTlsContext (sni {})", provider.name, ep.sni));
        }
        return;
    };
    if !ep.tls {
        p.add(
            loc,
            format!(
                "provider {} is plain HTTP but this endpoint gets TLS",
                provider.name
            ),
        );
        return;
    }
    let ctx = &socket["typed_config"];
    let sni = str_at(ctx, &["sni"]);
    if sni != Some(ep.sni.as_str()) {
        p.add(
            loc,
            format!(
                "TLS sni {} for provider {}, expected {}",
                sni.unwrap_or("unset"),
                provider.name,
                ep.sni
            ),
        );
    }
    let validation = at(ctx, &["common_tls_context", "validation_context"]);
    if validation.and_then(|v| at(v, &["trusted_ca"])).is_none() {
        p.add(loc, format!("TLS for provider {} does not verify the certificate (no validation_context.trusted_ca)", provider.name));
    }
    let sans = validation
        .map(|v| items(v, &["match_typed_subject_alt_names"]))
        .unwrap_or_default();
    if !sans
        .iter()
        .any(|s| str_at(s, &["matcher", "exact"]) == Some(ep.sni.as_str()))
    {
        p.add(loc, format!("TLS for provider {} does not check the certificate name (match_typed_subject_alt_names exact {})", provider.name, ep.sni));
    }
}

fn check_upstream_filter(
    c: &Value,
    loc: &str,
    down: &Downstream,
    loaded: &Loaded,
    p: &mut Problems,
) {
    let floc = format!("{loc}.typed_extension_protocol_options.\"{HTTP_OPTIONS}\".http_filters");
    let filters = items(
        c,
        &[
            "typed_extension_protocol_options",
            HTTP_OPTIONS,
            "http_filters",
        ],
    );
    let Some(i) = filters
        .iter()
        .position(|f| wasm_config(f, UPSTREAM_ROOT_ID).is_some())
    else {
        p.add(&floc, format!("no envoy.filters.http.wasm filter with root_id `{UPSTREAM_ROOT_ID}`: attempts would not be rewritten for their provider"));
        return;
    };
    let Some(config) = wasm_config(&filters[i], UPSTREAM_ROOT_ID) else {
        return;
    };
    let cloc = format!("{floc}[{i}].typed_config.config");
    if !is_true(config.get("allow_on_headers_stop_iteration")) {
        p.add(&cloc, "allow_on_headers_stop_iteration must be true");
    }
    match embedded_config(config) {
        Ok(v) => {
            if let Some(at) = json_diff(&v, &loaded.json, "$") {
                p.add(
                    &format!("{cloc}.configuration"),
                    format!("differs from the filter config (first at {at})"),
                );
            }
        }
        Err(e) => p.add(&cloc, e),
    }
    let vm = |v: &Value| str_at(v, &["vm_config", "vm_id"]).map(str::to_string);
    if vm(config) != vm(down.config) {
        p.add(
            &format!("{cloc}.vm_config.vm_id"),
            "must equal the downstream filter's vm_id (they share per-worker state)",
        );
    }
    super::check_vm_env(config, &cloc, loaded, p);
    let next = filters.get(i + 1);
    let codec = next.is_some_and(|f| {
        str_at(f, &["name"]) == Some(UPSTREAM_CODEC)
            || has_type(
                f,
                "envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec",
            )
    });
    if !codec {
        p.add(
            &floc,
            format!("the modelmux-upstream filter must be followed by {UPSTREAM_CODEC}"),
        );
    }
}
