use serde_json::{json, Value};

use super::*;
use crate::check::{items, logged_credential};
use crate::input::{load, load_with_ports};

pub const DEMO: &str = include_str!("../../../envoy/demo.json");
pub const REAL: &str = include_str!("../../../envoy/envoy.json");

pub fn render_value(text: &str, opts: &Options) -> Value {
    let yaml = render(&load(text).unwrap(), opts).unwrap();
    serde_yaml::from_str(&yaml).unwrap()
}

pub fn cluster<'a>(doc: &'a Value, name: &str) -> &'a Value {
    items(doc, &["static_resources", "clusters"])
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

pub fn hcm(doc: &Value) -> &Value {
    &doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
}

pub fn routes(doc: &Value) -> &Vec<Value> {
    hcm(doc)["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap()
}

/// (priority, provider, port) of each locality.
fn localities(c: &Value) -> Vec<(u64, String, u64)> {
    items(c, &["load_assignment", "endpoints"])
        .iter()
        .map(|l| {
            let lb = &l["lb_endpoints"][0];
            (
                l["priority"].as_u64().unwrap(),
                lb["metadata"]["filter_metadata"]["modelmux"]["provider"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                lb["endpoint"]["address"]["socket_address"]["port_value"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect()
}

fn three_targets() -> String {
    let p = |name: &str, kind: &str, port: u16| json!({"name": name, "type": kind, "cluster": format!("c_{name}"), "host": format!("10.0.0.1:{port}")});
    let t = |provider: &str| json!({"provider": provider, "model": "m"});
    json!({
        "providers": [p("a", "openai", 1001), p("b", "anthropic", 1002), p("c", "openai", 1003)],
        "models": [
            {"name": "two", "targets": [t("a"), t("b")]},
            {"name": "three", "cluster": "trio", "targets": [t("a"), t("b"), t("c")]}
        ]
    })
    .to_string()
}

#[test]
fn rotation_clusters_list_every_target_by_priority() {
    let doc = render_value(DEMO, &Options::default());
    let smart0 = localities(cluster(&doc, "modelmux_smart_0"));
    assert_eq!(
        smart0,
        vec![
            (0, "openai-mock".into(), 18081),
            (1, "anthropic-mock".into(), 18082)
        ]
    );
    let smart1 = localities(cluster(&doc, "modelmux_smart_1"));
    assert_eq!(
        smart1,
        vec![
            (0, "anthropic-mock".into(), 18082),
            (1, "openai-mock".into(), 18081)
        ]
    );
    let split1 = cluster(&doc, "modelmux_split_1");
    assert_eq!(split1["type"], "STATIC");
    assert_eq!(
        split1["load_assignment"]["cluster_name"],
        "modelmux_split_1"
    );
    // Provider clusters: one endpoint, no priorities, no upstream filter.
    let oa = cluster(&doc, "openai_mock");
    assert_eq!(
        oa["load_assignment"]["endpoints"][0]["priority"],
        Value::Null
    );
    assert_eq!(oa["typed_extension_protocol_options"], Value::Null);
    assert_eq!(oa["outlier_detection"], Value::Null);
    let names: Vec<&str> = items(&doc, &["static_resources", "clusters"])
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "openai_mock",
            "anthropic_mock",
            "modelmux_smart_0",
            "modelmux_smart_1",
            "modelmux_split_0",
            "modelmux_split_1"
        ]
    );
}

#[test]
fn rotations_wrap_and_retries_cover_the_longest_list() {
    let doc = render_value(&three_targets(), &Options::default());
    let order = |name: &str| -> Vec<String> {
        localities(cluster(&doc, name))
            .into_iter()
            .map(|l| l.1)
            .collect()
    };
    assert_eq!(order("trio_0"), ["a", "b", "c"]);
    assert_eq!(order("trio_1"), ["b", "c", "a"]);
    assert_eq!(order("trio_2"), ["c", "a", "b"]);
    assert_eq!(order("modelmux_two_1"), ["b", "a"]);
    assert_eq!(routes(&doc)[0]["route"]["retry_policy"]["num_retries"], 2);
}

#[test]
fn failover_route_comes_first_with_the_retry_policy() {
    let doc = render_value(DEMO, &Options::default());
    let routes = routes(&doc);
    assert_eq!(routes.len(), 5);
    let fo = &routes[0];
    assert_eq!(
        fo["match"],
        json!({"prefix": "/", "headers": [{"name": "x-modelmux-failover", "string_match": {"exact": "stream"}}]})
    );
    assert_eq!(fo["request_body_buffer_limit"], 10485760);
    let remove = json!(["x-modelmux-cluster", "x-modelmux-failover"]);
    assert_eq!(fo["request_headers_to_remove"], remove);
    let rp = &fo["route"]["retry_policy"];
    assert_eq!(
        rp["retry_on"],
        "5xx,reset,connect-failure,refused-stream,retriable-status-codes"
    );
    assert_eq!(rp["retriable_status_codes"], json!([429]));
    assert_eq!(rp["num_retries"], 1);
    assert_eq!(rp["per_try_idle_timeout"], "5s");
    assert_eq!(
        rp["retry_priority"]["name"],
        "envoy.retry_priorities.previous_priorities"
    );
    assert_eq!(rp["retry_priority"]["typed_config"]["update_frequency"], 1);
    assert_eq!(
        rp["retry_host_predicate"][0]["name"],
        "envoy.retry_host_predicates.previous_hosts"
    );
    assert_eq!(rp["host_selection_retry_max_attempts"], 3);
    assert_eq!(
        rp["retry_back_off"],
        json!({"base_interval": "0.001s", "max_interval": "0.005s"})
    );
    assert_eq!(fo["route"]["cluster_header"], "x-modelmux-cluster");
    assert_eq!(fo["route"]["timeout"], "300s");
    // Non-streamed: the same retries but no per-attempt timeout, and their
    // own whole-request timeout (also as the route's idle timeout).
    let json_route = &routes[1];
    assert_eq!(
        json_route["match"],
        json!({"prefix": "/", "headers": [{"name": "x-modelmux-failover", "string_match": {"exact": "json"}}]})
    );
    let mut want = rp.clone();
    want.as_object_mut().unwrap().remove("per_try_idle_timeout");
    assert_eq!(json_route["route"]["retry_policy"], want);
    assert_eq!(json_route["route"]["timeout"], "300s");
    assert_eq!(json_route["route"]["idle_timeout"], "300s");
    assert_eq!(json_route["request_body_buffer_limit"], 10485760);
    let default = &routes[2];
    assert_eq!(
        default["match"],
        json!({"prefix": "/", "headers": [{"name": "x-modelmux-cluster", "present_match": true}]})
    );
    assert_eq!(
        default["route"],
        json!({"cluster_header": "x-modelmux-cluster", "timeout": "300s"})
    );
    assert_eq!(default["request_headers_to_remove"], remove);
}

#[test]
fn without_failover_models_there_is_no_failover_route_or_rotation() {
    let mut v: Value = serde_json::from_str(REAL).unwrap();
    v["models"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["targets"].as_array().unwrap().len() < 2);
    v["cluster_header"] = json!("x-route-to");
    let doc = render_value(&v.to_string(), &Options::default());
    let routes = routes(&doc);
    assert_eq!(routes.len(), 3);
    assert_eq!(routes[0]["route"]["cluster_header"], "x-route-to");
    assert_eq!(routes[0]["match"]["headers"][0]["name"], "x-route-to");
    assert_eq!(routes[0]["request_headers_to_remove"][0], "x-route-to");
    // One cluster per provider plus Vertex's metadata-server cluster, and
    // no rotation clusters.
    let providers = v["providers"].as_array().unwrap().len() + 1;
    assert_eq!(
        items(&doc, &["static_resources", "clusters"]).len(),
        providers
    );
}

#[test]
fn tls_providers_get_a_socket_match_per_endpoint() {
    let doc = render_value(REAL, &Options::default());
    let c = cluster(&doc, "modelmux_smart_1");
    assert_eq!(c["type"], "STRICT_DNS");
    let lb = &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0];
    assert_eq!(
        lb["metadata"]["filter_metadata"],
        json!({"modelmux": {"provider": "anthropic"}, "envoy.transport_socket_match": {"provider": "anthropic"}})
    );
    let addr = &lb["endpoint"]["address"]["socket_address"];
    assert_eq!(
        (addr["address"].as_str(), addr["port_value"].as_u64()),
        (Some("api.anthropic.com"), Some(443))
    );
    // One match per target of `smart` (all over TLS).
    let smart: Value = serde_json::from_str(REAL).unwrap();
    let targets = smart["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "smart")
        .unwrap()["targets"]
        .as_array()
        .unwrap()
        .len();
    let matches = c["transport_socket_matches"].as_array().unwrap();
    assert_eq!(matches.len(), targets);
    let m = matches
        .iter()
        .find(|m| m["match"] == json!({"provider": "anthropic"}))
        .unwrap();
    let ctx = &m["transport_socket"]["typed_config"];
    assert_eq!(ctx["sni"], "api.anthropic.com");
    let vc = &ctx["common_tls_context"]["validation_context"];
    assert_eq!(
        vc["trusted_ca"]["filename"],
        "/etc/ssl/certs/ca-certificates.crt"
    );
    assert_eq!(
        vc["match_typed_subject_alt_names"],
        json!([{"san_type": "DNS", "matcher": {"exact": "api.anthropic.com"}}])
    );
    assert_eq!(c["transport_socket"], Value::Null);
    let direct = cluster(&doc, "openai");
    assert_eq!(direct["type"], "LOGICAL_DNS");
    assert_eq!(
        direct["transport_socket"]["typed_config"]["sni"],
        "api.openai.com"
    );
    // Plain endpoints get no TLS at all.
    let demo = render_value(DEMO, &Options::default());
    let c = cluster(&demo, "modelmux_smart_0");
    assert_eq!(c["transport_socket_matches"], Value::Null);
    let meta = &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["metadata"];
    assert_eq!(
        meta["filter_metadata"]["envoy.transport_socket_match"],
        Value::Null
    );
}

#[test]
fn rotation_clusters_eject_and_run_the_upstream_filter() {
    let doc = render_value(DEMO, &Options::default());
    let c = cluster(&doc, "modelmux_split_0");
    assert_eq!(
        c["outlier_detection"],
        json!({
            "consecutive_5xx": 3, "consecutive_gateway_failure": 3, "interval": "1s",
            "base_ejection_time": "10s", "max_ejection_percent": 100,
            "split_external_local_origin_errors": true, "consecutive_local_origin_failure": 3,
            "successful_active_health_check_uneject_host": false
        })
    );
    assert_eq!(c["connect_timeout"], "5s");
    assert_eq!(c["per_connection_buffer_limit_bytes"], 10485760);
    assert_eq!(
        c["health_checks"],
        json!([{"timeout": "1s", "interval": "1s", "no_traffic_interval": "1s",
                "unhealthy_threshold": 2, "healthy_threshold": 1,
                "http_health_check": {"path": "/_mock/health"}}])
    );
    assert_eq!(
        c["circuit_breakers"],
        json!({"thresholds": [{"retry_budget": {"budget_percent": {"value": 100}, "min_retry_concurrency": 64}}]})
    );
    let opts = &c["typed_extension_protocol_options"][HTTP_OPTIONS];
    assert_eq!(
        opts["explicit_http_config"],
        json!({"http_protocol_options": {}})
    );
    let filters = opts["http_filters"].as_array().unwrap();
    assert_eq!(filters.len(), 2);
    let up = &filters[0]["typed_config"]["config"];
    assert_eq!(up["root_id"], "modelmux-upstream");
    assert_eq!(up["allow_on_headers_stop_iteration"], true);
    let down = &hcm(&doc)["http_filters"][0]["typed_config"]["config"];
    assert_eq!(up["vm_config"], down["vm_config"]);
    assert_eq!(up["configuration"], down["configuration"]);
    assert_eq!(filters[1]["name"], UPSTREAM_CODEC);
}

#[test]
fn downstream_filter_embeds_the_config_and_the_keys() {
    let doc = render_value(REAL, &Options::default());
    let filters = hcm(&doc)["http_filters"].as_array().unwrap();
    let config = &filters[0]["typed_config"]["config"];
    assert_eq!(config["root_id"], "modelmux");
    assert_eq!(config["allow_on_headers_stop_iteration"], true);
    assert_eq!(config["vm_config"]["vm_id"], "modelmux");
    assert_eq!(
        config["vm_config"]["code"]["local"]["filename"],
        DEFAULT_WASM
    );
    let real: Value = serde_json::from_str(REAL).unwrap();
    // Every variable the filter reads: the keys, then the credentials of
    // the Bedrock provider that signs in the filter.
    let mut keys: Vec<&Value> = real["providers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("api_key_env"))
        .collect();
    let aws = json!([
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN"
    ]);
    keys.extend(aws.as_array().unwrap());
    assert_eq!(
        config["vm_config"]["environment_variables"],
        json!({"host_env_keys": keys})
    );
    let value = config["configuration"]["value"].as_str().unwrap();
    let embedded: Value = serde_json::from_str(value).unwrap();
    assert_eq!(embedded, serde_json::from_str::<Value>(REAL).unwrap());
    assert_eq!(filters[1]["name"], "envoy.filters.http.router");
    assert_eq!(filters[1]["typed_config"]["suppress_envoy_headers"], true);

    let opts = Options {
        keys: vec![("OPENAI_API_KEY".into(), "sk-x".into())],
        wasm: "/abs/modelmux.wasm".into(),
        ..Options::default()
    };
    let doc = render_value(REAL, &opts);
    let vm = &hcm(&doc)["http_filters"][0]["typed_config"]["config"]["vm_config"];
    // A key given on the command line is embedded; the rest stay host keys.
    let host: Vec<&Value> = keys
        .into_iter()
        .filter(|k| *k != "OPENAI_API_KEY")
        .collect();
    assert_eq!(
        vm["environment_variables"],
        json!({"host_env_keys": host, "key_values": {"OPENAI_API_KEY": "sk-x"}})
    );
    assert_eq!(vm["code"]["local"]["filename"], "/abs/modelmux.wasm");
    // ... and the header warns that it shows on /config_dump.
    let text = render(&load(REAL).unwrap(), &opts).unwrap();
    assert!(text.contains("# WARNING: rendered with --key"), "{text}");
    assert!(text.contains("/config_dump"));
    let text = render(&load(REAL).unwrap(), &Options::default()).unwrap();
    assert!(!text.contains("WARNING"));
    let exposed = Options {
        admin: HostPort {
            host: "0.0.0.0".into(),
            port: 9901,
        },
        ..Options::default()
    };
    let text = render(&load(REAL).unwrap(), &exposed).unwrap();
    assert!(text.contains("# WARNING: the admin interface is not on loopback"));
    let bad = Options {
        keys: vec![("NOPE".into(), "x".into())],
        ..Options::default()
    };
    assert!(render(&load(REAL).unwrap(), &bad)
        .unwrap_err()
        .contains("NOPE"));
}

#[test]
fn bootstrap_listener_admin_and_access_log() {
    let opts = Options {
        listen: HostPort {
            host: "0.0.0.0".into(),
            port: 0,
        },
        admin: HostPort {
            host: "127.0.0.1".into(),
            port: 0,
        },
        ..Options::default()
    };
    let doc = render_value(DEMO, &opts);
    assert_eq!(
        doc["admin"]["address"]["socket_address"],
        json!({"address": "127.0.0.1", "port_value": 0})
    );
    let l = &doc["static_resources"]["listeners"][0];
    assert_eq!(
        l["address"]["socket_address"],
        json!({"address": "0.0.0.0", "port_value": 0})
    );
    assert_eq!(l["per_connection_buffer_limit_bytes"], 10485760);
    let tags = &doc["stats_config"]["stats_tags"];
    assert_eq!(tags[0]["regex"], r"^wasmcustom\.modelmux\.(m\.([^.]+)\.)");
    assert_eq!(
        tags[1]["regex"],
        r"^wasmcustom\.modelmux\.(?:m\.[^.]+\.)?(p\.([^.]+)\.)"
    );
    assert_eq!(
        tags[2]["regex"],
        r"^wasmcustom\.modelmux\.m\.[^.]+\.p\.[^.]+\.(c\.([^.]+)\.)"
    );
    assert_eq!(tags[2]["tag_name"], "consumer");
    assert_eq!(tags[3]["tag_name"], "reason");
    assert_eq!(tags[4]["tag_name"], "cluster");
    assert_eq!(tags[4]["regex"], r"^wasmcustom\.modelmux\.(cl\.([^.]+)\.)");
    assert_eq!(
        tags[3]["regex"],
        r"^wasmcustom\.modelmux\.(?:m\.[^.]+\.)?(r\.([^.]+)\.)"
    );
    let hcm = hcm(&doc);
    assert_eq!(hcm["stat_prefix"], "gateway");
    assert_eq!(hcm["codec_type"], "AUTO");
    assert_eq!(hcm["stream_idle_timeout"], "300s");
    let log = &hcm["access_log"][0];
    assert_eq!(log["name"], "envoy.access_loggers.stdout");
    let format = log["typed_config"]["log_format"]["json_format"]
        .as_object()
        .unwrap();
    assert_eq!(format.len(), 22);
    assert_eq!(
        format["claude_code_session_id"],
        "%FILTER_STATE(wasm.modelmux_session_id:PLAIN)%"
    );
    // The filter rewrites `:path`: the client's and the provider's apart.
    assert_eq!(format["path"], "%FILTER_STATE(wasm.modelmux_path:PLAIN)%");
    assert_eq!(
        format["upstream_path"],
        "%FILTER_STATE(wasm.modelmux_upstream_path:PLAIN)%"
    );
    assert_eq!(format["request_id"], "%REQ(X-REQUEST-ID)%");
    assert_eq!(format["attempts"], "%UPSTREAM_REQUEST_ATTEMPT_COUNT%");
    assert_eq!(
        format["provider"],
        "%FILTER_STATE(wasm.modelmux_provider:PLAIN)%"
    );
    assert!(format
        .values()
        .all(|v| logged_credential(v.as_str().unwrap()).is_none()));
}

#[test]
fn port_overrides_reach_clusters_and_embedded_config() {
    let ports = [("anthropic-mock".to_string(), 40001)];
    let loaded = load_with_ports(DEMO, &ports).unwrap();
    let doc: Value = serde_yaml::from_str(&render(&loaded, &Options::default()).unwrap()).unwrap();
    let smart0 = localities(cluster(&doc, "modelmux_smart_0"));
    assert_eq!(smart0[1], (1, "anthropic-mock".into(), 40001));
    let direct = cluster(&doc, "anthropic_mock");
    let addr = &direct["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"];
    assert_eq!(addr["address"]["socket_address"]["port_value"], 40001);
    let cfg = &hcm(&doc)["http_filters"][0]["typed_config"]["config"]["configuration"]["value"];
    let embedded: Value = serde_json::from_str(cfg.as_str().unwrap()).unwrap();
    assert_eq!(
        embedded["providers"][1]["endpoint"],
        json!({"address": "127.0.0.1:40001", "tls": false})
    );
    assert_eq!(embedded["providers"][1]["host"], "127.0.0.1:18082");
}

#[test]
fn health_checks_only_when_every_provider_has_the_same_one() {
    let mut v: Value = serde_json::from_str(DEMO).unwrap();
    v["providers"][1]["health_check"] = json!({"path": "/other"});
    let text = v.to_string();
    let yaml = render(&load(&text).unwrap(), &Options::default()).unwrap();
    let doc: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(
        cluster(&doc, "modelmux_smart_0")["health_checks"],
        Value::Null
    );
    assert!(yaml.contains("# No health_checks: Envoy checks a whole cluster"));
    let direct = cluster(&doc, "anthropic_mock");
    assert_eq!(
        direct["health_checks"][0]["http_health_check"]["path"],
        "/other"
    );
    assert_eq!(direct["health_checks"][0]["interval"], "5s");
}

#[test]
fn output_is_deterministic_and_shared_clusters_must_agree() {
    let a = render(&load(DEMO).unwrap(), &Options::default()).unwrap();
    let b = render(&load(DEMO).unwrap(), &Options::default()).unwrap();
    assert_eq!(a, b);
    let mut v: Value = serde_json::from_str(DEMO).unwrap();
    v["providers"][1]["cluster"] = json!("openai_mock");
    let e = render(&load(&v.to_string()).unwrap(), &Options::default()).unwrap_err();
    assert!(e.contains("share cluster `openai_mock`"), "{e}");
}

#[test]
fn durations() {
    assert_eq!(duration_ms(5000), "5s");
    assert_eq!(duration_ms(1500), "1.5s");
    assert_eq!(duration_ms(10), "0.01s");
    assert_eq!(duration_ms(30_250), "30.25s");
}

#[test]
fn header_allowlists_render_check_and_refuse_bad_rules() {
    let mut v: Value = serde_json::from_str(&three_targets()).unwrap();
    v["headers"] = json!({"request": ["X-Trace-*"], "response": ["x-cache"]});
    v["providers"][1]["headers"] = json!({"request": ["anthropic-extra"]});
    let text = v.to_string();
    let loaded = load(&text).unwrap();
    assert!(loaded.config.providers[1]
        .headers
        .request
        .matches("x-trace-id"));
    assert!(loaded.config.providers[1]
        .headers
        .request
        .matches("anthropic-extra"));
    assert!(!loaded.config.providers[0]
        .headers
        .request
        .matches("anthropic-extra"));
    let yaml = render(&loaded, &Options::default()).unwrap();
    let doc: Value = serde_yaml::from_str(&yaml).unwrap();
    let cfg = &hcm(&doc)["http_filters"][0]["typed_config"]["config"]["configuration"]["value"];
    let embedded: Value = serde_json::from_str(cfg.as_str().unwrap()).unwrap();
    assert_eq!(embedded["headers"], v["headers"]);
    assert_eq!(
        crate::check::check(&yaml, Some(&text)),
        Vec::<String>::new()
    );
    v["providers"][0]["headers"] = json!({"request": ["cookie"]});
    let err = load(&v.to_string()).unwrap_err();
    assert!(err.contains("providers[0].headers.request[0]"), "{err}");
}
