use serde_json::{json, Value};

use super::*;
use crate::render::{render, Options, HTTP_OPTIONS};

pub(super) const DEMO: &str = include_str!("../../../envoy/demo.json");
const REAL: &str = include_str!("../../../envoy/envoy.json");

pub(super) fn rendered(config: &str) -> Value {
    let yaml = render(&input::load(config).unwrap(), &Options::default()).unwrap();
    serde_yaml::from_str(&yaml).unwrap()
}

pub(super) fn run(doc: &Value, given: Option<&str>) -> Vec<String> {
    check(&serde_yaml::to_string(doc).unwrap(), given)
}

pub(super) fn cluster_mut<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    doc["static_resources"]["clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == name)
        .unwrap()
}

pub(super) fn hcm_mut(doc: &mut Value) -> &mut Value {
    &mut doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
}

pub(super) fn routes_mut(doc: &mut Value) -> &mut Vec<Value> {
    hcm_mut(doc)["route_config"]["virtual_hosts"][0]["routes"]
        .as_array_mut()
        .unwrap()
}

fn filters(doc: &mut Value) -> &mut Vec<Value> {
    cluster_mut(doc, "modelmux_smart_1")["typed_extension_protocol_options"][HTTP_OPTIONS]
        ["http_filters"]
        .as_array_mut()
        .unwrap()
}

pub(super) fn policy(doc: &mut Value) -> &mut Value {
    &mut routes_mut(doc)[0]["route"]["retry_policy"]
}

fn config(doc: &mut Value) -> &mut Value {
    &mut hcm_mut(doc)["http_filters"][0]["typed_config"]["config"]
}

/// Applies `mutate` to the rendered demo and expects a problem containing
/// every `needle`.
pub(super) fn expect(config: &str, mutate: impl FnOnce(&mut Value), needles: &[&str]) {
    let mut doc = rendered(config);
    mutate(&mut doc);
    let problems = run(&doc, None);
    assert!(
        problems
            .iter()
            .any(|p| needles.iter().all(|n| p.contains(n))),
        "wanted {needles:?} in {problems:#?}"
    );
}

#[test]
fn rendered_bootstraps_pass() {
    for config in [DEMO, REAL] {
        let doc = rendered(config);
        assert_eq!(run(&doc, None), Vec::<String>::new());
        assert_eq!(run(&doc, Some(config)), Vec::<String>::new());
    }
    let ports = [("openai-mock".to_string(), 1234)];
    let loaded = input::load_with_ports(DEMO, &ports).unwrap();
    let yaml = render(&loaded, &Options::default()).unwrap();
    assert_eq!(check(&yaml, None), Vec::<String>::new());
    // The port no longer matches the file's config.
    let problems = check(&yaml, Some(DEMO));
    assert!(problems
        .iter()
        .any(|p| p.contains("differs from the given config")));
}

#[test]
fn wrong_priority_is_reported() {
    expect(
        DEMO,
        |doc| {
            let eps = &mut cluster_mut(doc, "modelmux_smart_1")["load_assignment"]["endpoints"];
            eps[0]["priority"] = json!(1);
            eps[1]["priority"] = json!(0);
        },
        &[
            "clusters[modelmux_smart_1].load_assignment.endpoints[0]:",
            "expected provider openai-mock at priority 1, found anthropic-mock",
        ],
    );
    expect(
        DEMO,
        |doc| {
            let eps = &mut cluster_mut(doc, "modelmux_smart_0")["load_assignment"]["endpoints"];
            eps[1]["priority"] = json!(2);
        },
        &["endpoints[1]: unexpected priority 2"],
    );
    expect(
        DEMO,
        |doc| {
            let eps = &mut cluster_mut(doc, "modelmux_smart_0")["load_assignment"]["endpoints"];
            eps[1]["lb_endpoints"][0]["endpoint"]["address"]["socket_address"]["port_value"] = json!(9);
        },
        &["lb_endpoints[0].endpoint.address: expected 127.0.0.1:18082 (provider anthropic-mock), found 127.0.0.1:9"],
    );
}

#[test]
fn missing_metadata_is_reported() {
    expect(
        DEMO,
        |doc| {
            let lb = &mut cluster_mut(doc, "modelmux_split_0")["load_assignment"]["endpoints"][1]
                ["lb_endpoints"][0];
            lb.as_object_mut().unwrap().remove("metadata");
        },
        &[
            "clusters[modelmux_split_0].load_assignment.endpoints[1].lb_endpoints[0].metadata",
            "missing filter_metadata.modelmux.provider (expected anthropic-mock)",
        ],
    );
}

#[test]
fn missing_or_bad_clusters_are_reported() {
    expect(
        DEMO,
        |doc| {
            let clusters = doc["static_resources"]["clusters"].as_array_mut().unwrap();
            clusters.retain(|c| c["name"] != "modelmux_split_1" && c["name"] != "openai_mock");
        },
        &["clusters[modelmux_split_1]: missing (rotation 1 of failover model `split`)"],
    );
    expect(
        DEMO,
        |doc| {
            let clusters = doc["static_resources"]["clusters"].as_array_mut().unwrap();
            clusters.retain(|c| c["name"] != "openai_mock");
        },
        &["clusters[openai_mock]: missing (provider `openai-mock`, used by model `gpt-4o-mini`)"],
    );
    expect(
        DEMO,
        |doc| {
            let c = cluster_mut(doc, "modelmux_smart_0");
            c.as_object_mut().unwrap().remove("outlier_detection");
        },
        &["clusters[modelmux_smart_0]: no outlier_detection"],
    );
    expect(
        DEMO,
        |doc| {
            let c = cluster_mut(doc, "modelmux_smart_0");
            c["outlier_detection"]["max_ejection_percent"] = json!(10);
        },
        &["modelmux_smart_0].outlier_detection: max_ejection_percent 10"],
    );
    expect(
        DEMO,
        |doc| {
            let c = cluster_mut(doc, "modelmux_smart_1");
            c.as_object_mut().unwrap().remove("circuit_breakers");
        },
        &["clusters[modelmux_smart_1].circuit_breakers: no retry_budget"],
    );
}

#[test]
fn upstream_filter_problems_are_reported() {
    expect(
        DEMO,
        |doc| {
            filters(doc).remove(0);
        },
        &[
            "clusters[modelmux_smart_1].typed_extension_protocol_options",
            "no envoy.filters.http.wasm filter with root_id `modelmux-upstream`",
        ],
    );
    expect(
        DEMO,
        |doc| {
            filters(doc).remove(1);
        },
        &["must be followed by envoy.filters.http.upstream_codec"],
    );
    expect(
        DEMO,
        |doc| {
            let config = &mut filters(doc)[0]["typed_config"]["config"];
            config["configuration"]["value"] = json!(REAL);
            config["allow_on_headers_stop_iteration"] = json!(false);
        },
        &["http_filters[0].typed_config.config.configuration: differs from the filter config (first at $.models)"],
    );
    expect(
        DEMO,
        |doc| {
            filters(doc)[0]["typed_config"]["config"]["vm_config"]["vm_id"] = json!("other");
        },
        &["vm_config.vm_id: must equal the downstream filter's vm_id"],
    );
}

#[test]
fn missing_tls_match_is_reported() {
    expect(
        REAL,
        |doc| {
            let c = cluster_mut(doc, "modelmux_smart_0");
            c.as_object_mut().unwrap().remove("transport_socket_matches");
        },
        &["clusters[modelmux_smart_0].load_assignment.endpoints[0].lb_endpoints[0]: no TLS for provider openai"],
    );
    expect(
        REAL,
        |doc| {
            let c = cluster_mut(doc, "modelmux_smart_1");
            let m = &mut c["transport_socket_matches"][0]["transport_socket"]["typed_config"];
            m["sni"] = json!("api.openai.com");
        },
        &["TLS sni api.openai.com for provider anthropic, expected api.anthropic.com"],
    );
    expect(
        REAL,
        |doc| {
            let c = cluster_mut(doc, "anthropic");
            let ctx = &mut c["transport_socket"]["typed_config"]["common_tls_context"];
            ctx.as_object_mut().unwrap().remove("validation_context");
        },
        &["clusters[anthropic].load_assignment.endpoints[0].lb_endpoints[0]: TLS for provider anthropic does not verify"],
    );
    // A TLS socket on a plain provider is wrong too.
    expect(
        DEMO,
        |doc| {
            let c = cluster_mut(doc, "openai_mock");
            c["transport_socket"] = json!({"name": "tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"}});
        },
        &["provider openai-mock is plain HTTP but this endpoint gets TLS"],
    );
}

#[test]
fn retry_policy_problems_are_reported() {
    expect(
        DEMO,
        |doc| {
            policy(doc).as_object_mut().unwrap().remove("retry_priority");
        },
        &["routes[0].route.retry_policy.retry_priority: must be envoy.retry_priorities.previous_priorities"],
    );
    expect(
        DEMO,
        |doc| {
            let p = policy(doc);
            p["retry_on"] = json!("gateway-error");
            p["retriable_status_codes"] = json!([503]);
            p["num_retries"] = json!(0);
        },
        &["retry_policy.retry_on: must cover 5xx, reset, connect-failure, retriable-status-codes"],
    );
    let mut doc = rendered(DEMO);
    let p = policy(&mut doc);
    p["retriable_status_codes"] = json!([503]);
    p.as_object_mut().unwrap().remove("num_retries");
    p["num_retries"] = json!(0);
    let problems = run(&doc, None);
    assert!(problems.iter().any(|p| p.ends_with(
        "retriable_status_codes: must include 429 (rate limited: try the next target)"
    )));
    let retries: Vec<_> = problems
        .iter()
        .filter(|p| p.contains("num_retries: 0 is fewer than the 1"))
        .collect();
    assert_eq!(retries.len(), 2, "{problems:#?}");
    expect(
        DEMO,
        |doc| {
            policy(doc).as_object_mut().unwrap().clear();
            let r = &mut routes_mut(doc)[0]["route"];
            r.as_object_mut().unwrap().remove("retry_policy");
        },
        &["routes[0].route.retry_policy: missing"],
    );
}

#[test]
fn route_problems_are_reported() {
    expect(
        DEMO,
        |doc| {
            routes_mut(doc).remove(0);
        },
        &["route_config: no failover route for stream requests: match on header `x-modelmux-failover` (string_match exact `stream`)"],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc).remove(1);
        },
        &["route_config: no failover route for json requests"],
    );
    expect(
        DEMO,
        |doc| {
            let unknown = routes_mut(doc).remove(4);
            routes_mut(doc).insert(0, unknown);
        },
        &[
            "routes[1]: never matches: ",
            "routes[0] catches every request first",
        ],
    );
    expect(
        DEMO,
        |doc| {
            let unknown = routes_mut(doc).remove(4);
            routes_mut(doc).insert(2, unknown);
        },
        &[
            "routes[3]: never matches: ",
            "routes[2] catches every request first",
        ],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc).remove(2);
        },
        &["no route with cluster_header `x-modelmux-cluster` for single-target models"],
    );
}

#[test]
fn small_buffer_limits_are_reported() {
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[0]["per_request_buffer_limit_bytes"] = json!(200);
        },
        &["routes[0].per_request_buffer_limit_bytes: 200 is below failover.retry_buffer_bytes (10485760)"],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[0]["request_body_buffer_limit"] = json!(300);
        },
        &["routes[0].request_body_buffer_limit: 300 is below"],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[1]["request_body_buffer_limit"] = json!("4096");
        },
        &["routes[1].request_body_buffer_limit: 4096 is below"],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[0].as_object_mut().unwrap().remove("request_body_buffer_limit");
            let l = &mut doc["static_resources"]["listeners"][0];
            l.as_object_mut().unwrap().remove("per_connection_buffer_limit_bytes");
        },
        &["routes[0]: no request_body_buffer_limit, so the retry buffer is the listener's 1048576 bytes"],
    );
    // Unset on the route but a large listener limit is fine.
    let mut doc = rendered(DEMO);
    routes_mut(&mut doc)[0]
        .as_object_mut()
        .unwrap()
        .remove("per_request_buffer_limit_bytes");
    assert_eq!(run(&doc, None), Vec::<String>::new());
}

#[test]
fn a_different_config_is_reported() {
    let mut other: Value = serde_json::from_str(DEMO).unwrap();
    other["models"][2]["targets"]
        .as_array_mut()
        .unwrap()
        .reverse();
    let other = other.to_string();
    let doc = rendered(DEMO);
    let problems = run(&doc, Some(&other));
    assert!(problems.iter().any(|p| p.ends_with(
        ".http_filters[modelmux].typed_config.config.configuration: differs from the given config (first at $.models[2].targets[0].model)"
    )), "{problems:#?}");
    // Checked against the given config, the rotations are now wrong.
    assert!(problems.iter().any(|p| p.contains(
        "clusters[modelmux_smart_0].load_assignment.endpoints[0]: expected provider anthropic-mock at priority 0, found openai-mock"
    )), "{problems:#?}");
    let problems = run(&doc, Some("{not json"));
    assert!(
        problems[0].starts_with("--config: not valid JSON"),
        "{problems:#?}"
    );
    let problems = run(&doc, Some(r#"{"providers": [], "models": []}"#));
    assert!(
        problems
            .iter()
            .any(|p| p.contains("--config: invalid modelmux configuration at `providers`")),
        "{problems:#?}"
    );
}

#[test]
fn downstream_filter_problems_are_reported() {
    expect(
        DEMO,
        |doc| config(doc)["allow_on_headers_stop_iteration"] = json!(false),
        &["http_filters[modelmux].typed_config.config: allow_on_headers_stop_iteration must be true"],
    );
    expect(
        REAL,
        |doc| config(doc)["vm_config"]["environment_variables"] = json!({"host_env_keys": ["OPENAI_API_KEY"]}),
        &["config.vm_config.environment_variables: api_key_env `ANTHROPIC_API_KEY` is not given to the VM"],
    );
    expect(
        DEMO,
        |doc| {
            hcm_mut(doc)["http_filters"]
                .as_array_mut()
                .unwrap()
                .reverse();
        },
        &[".http_filters: envoy.filters.http.router must come after the modelmux filter"],
    );
    expect(
        DEMO,
        |doc| config(doc)["configuration"]["value"] = json!("{\"providers\": []}"),
        &["configuration: invalid modelmux configuration at `$`: missing field `models`"],
    );
    let mut doc = rendered(DEMO);
    config(&mut doc)["root_id"] = json!("other");
    let problems = run(&doc, None);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].contains("no envoy.filters.http.wasm filter with root_id `modelmux`"));
    assert!(check("a: [", None)[0].starts_with("$: not a valid YAML bootstrap"));
}

#[test]
fn credential_headers_in_logs_are_reported() {
    expect(
        DEMO,
        |doc| {
            let f = &mut hcm_mut(doc)["access_log"][0]["typed_config"]["log_format"]["json_format"];
            f["auth"] = json!("%REQ(Authorization)%");
        },
        &["access_log[0].typed_config.log_format.json_format.auth: logs the `authorization` request header"],
    );
    assert_eq!(
        logged_credential("%REQ(:PATH)% %REQ(X-API-KEY):10%"),
        Some("x-api-key")
    );
    assert_eq!(
        logged_credential("%REQUEST_HEADER(foo?api-key)%"),
        Some("api-key")
    );
    assert_eq!(
        logged_credential("%REQ_WITHOUT_QUERY(x-goog-api-key)%"),
        Some("x-goog-api-key")
    );
    assert_eq!(
        logged_credential("authorization %RESP(authorization)% %REQ(:path)%"),
        None
    );
}

#[test]
fn json_diff_names_the_first_difference() {
    let a = json!({"a": [1, {"b": 2}], "c": 3});
    assert_eq!(json_diff(&a, &a, "$"), None);
    assert_eq!(
        json_diff(&a, &json!({"a": [1, {"b": 3}], "c": 3}), "$").as_deref(),
        Some("$.a[1].b")
    );
    assert_eq!(
        json_diff(&a, &json!({"a": [1], "c": 3}), "$").as_deref(),
        Some("$.a")
    );
    assert_eq!(
        json_diff(&a, &json!({"a": [1, {"b": 2}], "c": 3, "d": 1}), "$").as_deref(),
        Some("$.d")
    );
}
