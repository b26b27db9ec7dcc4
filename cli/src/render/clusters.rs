//! Clusters: one per provider cluster name, and the rotation clusters of
//! every failover model.

use modelmux_core::config::{
    Config, Endpoint, Model, Provider, METADATA_NAMESPACE, METADATA_PROVIDER_KEY,
};

use modelmux_core::providers::auth::Auth;
use modelmux_core::providers::EnvoySigning;

use super::health::{health_checks, outlier_detection, push_health_checks};
use super::UPSTREAM_ROOT_ID;
use crate::yaml::{commented, map, s, seq, typed, Node};

/// Endpoint metadata namespace Envoy matches `transport_socket_matches` on.
pub const SOCKET_MATCH_NAMESPACE: &str = "envoy.transport_socket_match";
pub const HTTP_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
pub const UPSTREAM_CODEC: &str = "envoy.filters.http.upstream_codec";
pub const AWS_SIGNING: &str = "envoy.filters.http.aws_request_signing";

/// One cluster per distinct `providers[].cluster`; providers sharing a
/// name must agree on the endpoint.
pub fn provider_clusters(config: &Config, buffer: u64) -> Result<Vec<Node>, String> {
    let mut names: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for p in &config.providers {
        if names.contains(&p.cluster.as_str()) {
            continue;
        }
        names.push(&p.cluster);
        let members: Vec<&Provider> = config
            .providers
            .iter()
            .filter(|o| o.cluster == p.cluster)
            .collect();
        if let Some(other) = members.iter().find(|o| o.endpoint != p.endpoint) {
            return Err(format!(
                "providers `{}` and `{}` share cluster `{}` but have different endpoints",
                p.name, other.name, p.cluster
            ));
        }
        out.push(provider_cluster(p, &members, buffer));
    }
    Ok(out)
}

/// The clusters OAuth providers fetch their tokens through (metadata
/// server, token endpoint), one per name not already a provider cluster.
pub fn token_clusters(config: &Config) -> Vec<Node> {
    let mut names: Vec<&str> = config
        .providers
        .iter()
        .map(|p| p.cluster.as_str())
        .collect();
    let mut out = Vec::new();
    for p in &config.providers {
        let Auth::OAuth(source) = &p.auth else {
            continue;
        };
        if names.contains(&source.cluster.as_str()) {
            continue;
        }
        names.push(&source.cluster);
        let ep = &source.endpoint;
        let mut entries = vec![
            ("name", s(&source.cluster)),
            (
                "type",
                s(if is_ip(&ep.address) {
                    "STATIC"
                } else {
                    "LOGICAL_DNS"
                }),
            ),
        ];
        if !is_ip(&ep.address) {
            entries.push(("dns_lookup_family", s("V4_PREFERRED")));
        }
        entries.push(("connect_timeout", s("5s")));
        let lb = map([("endpoint", socket_endpoint(ep))]);
        entries.push((
            "load_assignment",
            load_assignment(&source.cluster, vec![map([("lb_endpoints", seq([lb]))])]),
        ));
        if ep.tls {
            entries.push(("transport_socket", tls_socket(ep)));
        }
        out.push(commented(
            &[&format!(
                "OAuth tokens of provider `{}` (the filter calls it itself).",
                p.name
            )],
            map(entries),
        ));
    }
    out
}

fn provider_cluster(p: &Provider, members: &[&Provider], buffer: u64) -> Node {
    let ep = &p.endpoint;
    let (kind, dns) = if is_ip(&ep.address) {
        ("STATIC", None)
    } else {
        (
            "LOGICAL_DNS",
            Some(("dns_lookup_family", s("V4_PREFERRED"))),
        )
    };
    let mut entries = vec![("name", s(&p.cluster)), ("type", s(kind))];
    entries.extend(dns);
    entries.extend(common_limits(buffer));
    let lb = map([("endpoint", socket_endpoint(ep))]);
    let endpoints = vec![map([("lb_endpoints", seq([lb]))])];
    push_health_checks(
        &mut entries,
        members,
        ("load_assignment", load_assignment(&p.cluster, endpoints)),
    );
    if let Some(signing) = p.options.envoy_signing() {
        entries.push((
            "typed_extension_protocol_options",
            signing_filters(&signing),
        ));
    }
    if ep.tls {
        entries.push(("transport_socket", tls_socket(ep)));
    }
    map(entries)
}

/// Envoy's SigV4 signer as the cluster's upstream filter: it signs the
/// request modelmux already rewrote (final path and body), with Envoy's own
/// credential providers (environment, profile, IRSA, instance metadata).
fn signing_filters(signing: &EnvoySigning) -> Node {
    let signer = map([
        ("name", s(AWS_SIGNING)),
        (
            "typed_config",
            typed(
                "envoy.extensions.filters.http.aws_request_signing.v3.AwsRequestSigning",
                vec![
                    ("service_name", s(signing.service)),
                    ("region", s(&signing.region)),
                    ("use_unsigned_payload", Node::Bool(false)),
                ],
            ),
        ),
    ]);
    let options = typed(
        HTTP_OPTIONS,
        vec![
            (
                "explicit_http_config",
                map([("http_protocol_options", map::<&str>([]))]),
            ),
            (
                "http_filters",
                commented(
                    &[
                        "SigV4 by Envoy (auth type `envoy`): signs the final body that",
                        "modelmux wrote, with credentials from Envoy's AWS providers.",
                    ],
                    seq([signer, codec()]),
                ),
            ),
        ],
    );
    map([(HTTP_OPTIONS, options)])
}

fn codec() -> Node {
    map([
        ("name", s(UPSTREAM_CODEC)),
        (
            "typed_config",
            typed(
                "envoy.extensions.filters.http.upstream_codec.v3.UpstreamCodec",
                vec![],
            ),
        ),
    ])
}

/// The rotation clusters of a failover model: cluster `k` has target
/// `(k + p) % n` at priority `p`.
pub fn rotation_clusters(config: &Config, model: &Model, buffer: u64) -> Vec<Node> {
    let Some(failover) = &model.failover else {
        return Vec::new();
    };
    let providers: Vec<&Provider> = model
        .targets
        .iter()
        .filter_map(|t| config.provider(t.provider))
        .collect();
    let n = providers.len();
    failover
        .rotations
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let order: Vec<&Provider> = (0..n).map(|p| providers[(k + p) % n]).collect();
            rotation_cluster(config, (&model.name, name), &order, buffer)
        })
        .collect()
}

fn rotation_cluster(
    config: &Config,
    (model, name): (&str, &str),
    order: &[&Provider],
    buffer: u64,
) -> Node {
    let all_ip = order.iter().all(|p| is_ip(&p.endpoint.address));
    let mut entries = vec![
        ("name", s(name)),
        ("type", s(if all_ip { "STATIC" } else { "STRICT_DNS" })),
    ];
    if !all_ip {
        entries.push(("dns_lookup_family", s("V4_PREFERRED")));
    }
    entries.extend(common_limits(buffer));
    let checked = matches!(health_checks(order), Ok(Some(_)));
    entries.push(("outlier_detection", outlier_detection(config, checked)));
    entries.push(("circuit_breakers", retry_budget()));
    push_health_checks(
        &mut entries,
        order,
        ("typed_extension_protocol_options", upstream_filters()),
    );
    let localities = order
        .iter()
        .enumerate()
        .map(|(prio, p)| {
            let lb = map([
                ("endpoint", socket_endpoint(&p.endpoint)),
                ("metadata", endpoint_metadata(p)),
            ]);
            map([
                ("priority", Node::Int(prio as u64)),
                ("lb_endpoints", seq([lb])),
            ])
        })
        .collect();
    entries.push(("load_assignment", load_assignment(name, localities)));
    let matches: Vec<Node> = order
        .iter()
        .filter(|p| p.endpoint.tls)
        .map(|p| {
            map([
                ("name", s(&p.name)),
                ("match", map([(METADATA_PROVIDER_KEY, s(&p.name))])),
                ("transport_socket", tls_socket(&p.endpoint)),
            ])
        })
        .collect();
    if !matches.is_empty() {
        entries.push((
            "transport_socket_matches",
            commented(
                &[
                    "One TLS context per provider, chosen by endpoint metadata: auto_sni",
                    "would follow the client's :authority, not the one the upstream",
                    "filter writes for the attempt's provider.",
                ],
                seq(matches),
            ),
        ));
    }
    let order_names: Vec<&str> = order.iter().map(|p| p.name.as_str()).collect();
    commented(
        &[
            &format!(
                "Failover model `{model}`, starting with {}:",
                order_names[0]
            ),
            &format!(
                "each retry takes the next priority ({}).",
                order_names.join(" -> ")
            ),
        ],
        map(entries),
    )
}

fn common_limits(buffer: u64) -> Vec<(&'static str, Node)> {
    vec![
        ("connect_timeout", s("5s")),
        ("per_connection_buffer_limit_bytes", Node::Int(buffer)),
    ]
}

fn load_assignment(name: &str, endpoints: Vec<Node>) -> Node {
    map([
        ("cluster_name", s(name)),
        ("endpoints", Node::Seq(endpoints)),
    ])
}

fn socket_endpoint(ep: &Endpoint) -> Node {
    let socket = map([
        ("address", s(&ep.address)),
        ("port_value", Node::Int(u64::from(ep.port))),
    ]);
    map([("address", map([("socket_address", socket)]))])
}

fn endpoint_metadata(p: &Provider) -> Node {
    let mut ns = vec![(
        METADATA_NAMESPACE,
        map([(METADATA_PROVIDER_KEY, s(&p.name))]),
    )];
    if p.endpoint.tls {
        ns.push((
            SOCKET_MATCH_NAMESPACE,
            map([(METADATA_PROVIDER_KEY, s(&p.name))]),
        ));
    }
    map([("filter_metadata", map(ns))])
}

pub fn tls_socket(ep: &Endpoint) -> Node {
    let validation = map([
        ("trusted_ca", map([("filename", s(&ep.ca_file))])),
        (
            "match_typed_subject_alt_names",
            seq([map([
                ("san_type", s("DNS")),
                ("matcher", map([("exact", s(&ep.sni))])),
            ])]),
        ),
    ]);
    let context = typed(
        "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
        vec![
            ("sni", s(&ep.sni)),
            (
                "common_tls_context",
                map([
                    ("alpn_protocols", seq([s("http/1.1")])),
                    ("validation_context", validation),
                ]),
            ),
        ],
    );
    map([
        ("name", s("envoy.transport_sockets.tls")),
        ("typed_config", context),
    ])
}

/// Envoy allows 3 concurrent retries per cluster by default, so under load
/// most failovers would be refused (`upstream_rq_retry_overflow`) and the
/// client would get the first target's 503. A budget as large as the active
/// requests never blocks a failover: each request has at most one retry in
/// flight.
fn retry_budget() -> Node {
    commented(
        &[
            "Failover is a retry: Envoy's default of 3 concurrent retries per cluster",
            "would refuse most of them under load (upstream_rq_retry_overflow).",
        ],
        map([(
            "thresholds",
            seq([map([(
                "retry_budget",
                map([
                    ("budget_percent", map([("value", Node::Int(100))])),
                    ("min_retry_concurrency", Node::Int(64)),
                ]),
            )])]),
        )]),
    )
}

/// The upstream modelmux filter (once per attempt), then the codec.
fn upstream_filters() -> Node {
    let wasm = map([
        ("name", s(UPSTREAM_ROOT_ID)),
        (
            "typed_config",
            typed(
                super::WASM_TYPE,
                vec![(
                    "config",
                    map([
                        ("name", s(UPSTREAM_ROOT_ID)),
                        ("root_id", s(super::UPSTREAM_ROOT_ID)),
                        ("allow_on_headers_stop_iteration", Node::Bool(true)),
                        ("vm_config", Node::Alias(super::VM_ANCHOR.to_string())),
                        (
                            "configuration",
                            Node::Alias(super::CONFIG_ANCHOR.to_string()),
                        ),
                    ]),
                )],
            ),
        ),
    ]);
    let options = typed(
        HTTP_OPTIONS,
        vec![
            (
                "explicit_http_config",
                map([("http_protocol_options", map::<&str>([]))]),
            ),
            (
                "http_filters",
                commented(
                    &[
                        "Runs once per attempt: rewrites path, auth and body for the",
                        "provider of the endpoint the attempt landed on (its metadata).",
                    ],
                    seq([wasm, codec()]),
                ),
            ),
        ],
    );
    map([(HTTP_OPTIONS, options)])
}

fn is_ip(address: &str) -> bool {
    address.parse::<std::net::IpAddr>().is_ok()
}
