//! `modelmux check` on timeouts and Envoy's protections: every planted
//! mistake is a named finding.

use serde_json::{json, Value};

use super::tests::{cluster_mut, expect, hcm_mut, policy, rendered, routes_mut, run, DEMO};
use super::*;
use crate::render::{render, Options};

#[test]
fn failover_timeouts_are_checked_per_kind() {
    // The old single route (present_match) takes JSON with a stream's
    // per-attempt timeout: slow replies would be paid for twice.
    expect(
        DEMO,
        |doc| {
            routes_mut(doc).remove(1);
            routes_mut(doc)[0]["match"]["headers"][0] =
                json!({"name": "x-modelmux-failover", "present_match": true});
        },
        &[
            "routes[0].route.retry_policy.per_try_idle_timeout: [json-attempt-timeout] abandons a non-streamed reply",
            "every provider bills",
        ],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[1]["route"]["retry_policy"]["per_try_timeout"] = json!("5s");
        },
        &["routes[1].route.retry_policy.per_try_timeout: [json-attempt-timeout] 5000 ms abandons slower non-streamed replies"],
    );
    expect(
        DEMO,
        |doc| {
            routes_mut(doc)[1]["route"]["timeout"] = json!("30s");
        },
        &["routes[1].route.timeout: [json-timeout] 30000 ms, but failover.json_timeout_ms is 300000 ms"],
    );
    expect(
        DEMO,
        |doc| {
            policy(doc)
                .as_object_mut()
                .unwrap()
                .remove("per_try_idle_timeout");
        },
        &["routes[0].route.retry_policy.per_try_idle_timeout: [stream-attempt-timeout] missing: a stream that stalls"],
    );
    expect(
        DEMO,
        |doc| {
            policy(doc)["per_try_idle_timeout"] = json!({"seconds": 7});
        },
        &["per_try_idle_timeout: [stream-attempt-timeout] 7000 ms, but failover.attempt_timeout_ms is 5000 ms"],
    );
    expect(
        DEMO,
        |doc| {
            policy(doc)["per_try_timeout"] = json!("60s");
        },
        &["routes[0].route.retry_policy.per_try_timeout: [stream-attempt-timeout] cuts every stream"],
    );
    // Opting in: the JSON route must then carry it as per_try_timeout.
    let mut v: Value = serde_json::from_str(DEMO).unwrap();
    v["failover"]["json_attempt_timeout_ms"] = json!(20000);
    let opted = v.to_string();
    let doc = rendered(&opted);
    assert_eq!(
        routes_mut(&mut doc.clone())[1]["route"]["retry_policy"]["per_try_timeout"],
        "20s"
    );
    assert_eq!(run(&doc, None), Vec::<String>::new());
    expect(
        &opted,
        |doc| {
            routes_mut(doc)[1]["route"]["retry_policy"]
                .as_object_mut()
                .unwrap()
                .remove("per_try_timeout");
        },
        &["per_try_timeout: [json-attempt-timeout] missing, but failover.json_attempt_timeout_ms is 20000 ms"],
    );
}

#[test]
fn missing_request_timeouts_are_findings() {
    for field in ["request_headers_timeout", "request_timeout"] {
        let name = field.replace('_', "-");
        expect(
            DEMO,
            |doc| {
                hcm_mut(doc).as_object_mut().unwrap().remove(field);
            },
            &[
                &format!("filters[0].typed_config.{field}: [{name}] missing"),
                "slowloris",
            ],
        );
        expect(
            DEMO,
            |doc| hcm_mut(doc)[field] = json!("0s"),
            &[&format!("[{name}] missing")],
        );
    }
}

#[test]
fn a_missing_connection_limit_is_a_finding() {
    let drop_monitor = |doc: &mut Value| {
        doc["overload_manager"]["resource_monitors"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["name"] != "envoy.resource_monitors.global_downstream_max_connections");
    };
    expect(
        DEMO,
        drop_monitor,
        &["[connection-limit] no limit on client connections"],
    );
    expect(
        DEMO,
        |doc| {
            doc.as_object_mut()
                .unwrap()
                .remove("overload_manager")
                .map(|_| ())
                .unwrap()
        },
        &["[connection-limit]"],
    );
    // A connection_limit network filter is as good.
    let mut doc = rendered(DEMO);
    drop_monitor(&mut doc);
    let filters = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"]
        .as_array_mut()
        .unwrap();
    filters.insert(0, json!({"name": "envoy.filters.network.connection_limit", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit",
        "stat_prefix": "cl", "max_connections": 100}}));
    let problems = run(&doc, None);
    assert!(
        !problems.iter().any(|p| p.contains("[connection-limit]")),
        "{problems:#?}"
    );
}

#[test]
fn heap_protection_findings() {
    expect(
        DEMO,
        |doc| {
            doc["overload_manager"]["resource_monitors"]
                .as_array_mut()
                .unwrap()
                .retain(|m| m["name"] != "envoy.resource_monitors.fixed_heap");
        },
        &["overload_manager: [heap-limit] no envoy.resource_monitors.fixed_heap monitor"],
    );
    expect(
        DEMO,
        |doc| doc["overload_manager"]["actions"] = json!([]),
        &["[heap-limit]"],
    );
    expect(
        DEMO,
        |doc| {
            let om = doc["overload_manager"].as_object_mut().unwrap();
            om.remove("buffer_factory_config");
        },
        &["overload_manager.buffer_factory_config: [memory-accounting] missing"],
    );
}

#[test]
fn huge_buffers_and_an_exposed_admin_are_findings() {
    expect(
        DEMO,
        |doc| {
            doc["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"] =
                json!(1u64 << 30);
        },
        &["listeners[gateway].per_connection_buffer_limit_bytes: [buffer-limit] 1073741824 bytes"],
    );
    expect(
        DEMO,
        |doc| {
            cluster_mut(doc, "openai_mock")["per_connection_buffer_limit_bytes"] =
                json!("999999999")
        },
        &["clusters[openai_mock].per_connection_buffer_limit_bytes: [buffer-limit]"],
    );
    expect(
        DEMO,
        |doc| doc["admin"]["address"]["socket_address"]["address"] = json!("0.0.0.0"),
        &[
            "admin.address.socket_address.address: [admin-exposed] 0.0.0.0 is not loopback",
            "/config_dump",
        ],
    );
}

#[test]
fn render_flags_reach_the_protections_and_pass_check() {
    let opts = Options {
        limits: crate::render::Limits {
            request_headers_timeout_ms: 2500,
            request_timeout_ms: 90_000,
            max_connections: 77,
            max_heap_bytes: 123_456_789,
            max_body_bytes: 12_000_000,
        },
        ..Options::default()
    };
    let yaml = render(&input::load(DEMO).unwrap(), &opts).unwrap();
    assert_eq!(check(&yaml, None), Vec::<String>::new());
    // A buffer limit at or under the filter's reply limit is refused.
    let mut small = opts.clone();
    small.limits.max_body_bytes = 4096;
    let e = render(&input::load(DEMO).unwrap(), &small).unwrap_err();
    assert!(
        e.contains("response_buffer_bytes (8388608) must be below"),
        "{e}"
    );
    let doc: Value = serde_yaml::from_str(&yaml).unwrap();
    let mut doc2 = doc.clone();
    let hcm = hcm_mut(&mut doc2);
    assert_eq!(hcm["request_headers_timeout"], "2.5s");
    assert_eq!(hcm["request_timeout"], "90s");
    let om = &doc["overload_manager"];
    assert_eq!(
        om["resource_monitors"][0]["typed_config"]["max_heap_size_bytes"],
        123_456_789
    );
    assert_eq!(
        om["resource_monitors"][1]["typed_config"]["max_active_downstream_connections"],
        77
    );
    let actions: Vec<&str> = om["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "envoy.overload_actions.shrink_heap",
            "envoy.overload_actions.reset_high_memory_stream",
            "envoy.overload_actions.stop_accepting_requests"
        ]
    );
    assert_eq!(
        om["buffer_factory_config"]["minimum_account_to_track_power_of_two"],
        20
    );
    assert_eq!(
        doc["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"],
        12_000_000
    );
    for c in doc["static_resources"]["clusters"].as_array().unwrap() {
        assert_eq!(
            c["per_connection_buffer_limit_bytes"], 12_000_000,
            "{}",
            c["name"]
        );
    }
    assert_eq!(doc["admin"]["ignore_global_conn_limit"], true);
    assert_eq!(
        doc["admin"]["address"]["socket_address"]["address"],
        "127.0.0.1"
    );
}

#[test]
fn missing_or_loose_http2_limits_are_findings() {
    fn hcm(doc: &mut Value) -> &mut Value {
        &mut doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
            ["typed_config"]
    }
    expect(
        DEMO,
        |doc| {
            hcm(doc)
                .as_object_mut()
                .unwrap()
                .remove("http2_protocol_options")
                .map(|_| ())
                .unwrap()
        },
        &["[http2-limits] missing"],
    );
    expect(
        DEMO,
        |doc| hcm(doc)["http2_protocol_options"]["max_concurrent_streams"] = json!(100000),
        &["[http2-limits] 100000 is above 100"],
    );
    expect(
        DEMO,
        |doc| hcm(doc)["http2_protocol_options"]["initial_stream_window_size"] = json!(268435456),
        &["[http2-limits] 268435456 is above 65536"],
    );
}

#[test]
fn a_response_buffer_not_below_envoys_limit_is_a_finding() {
    expect(
        DEMO,
        |doc| {
            doc["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"] =
                json!(1048576)
        },
        &["[response-buffer] 8388608 bytes is not below"],
    );
}

#[test]
fn a_buffer_too_small_for_chat_bodies_is_a_finding() {
    expect(
        DEMO,
        |doc| {
            doc["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"] =
                json!(65536)
        },
        &["listeners[gateway].per_connection_buffer_limit_bytes: [buffer-limit] 65536 bytes is too small for chat bodies"],
    );
}

/// With health checks, Envoy's default lets a passing check end an
/// ejection after one interval: missing or true is a finding.
#[test]
fn health_checks_must_not_uneject() {
    for planted in [None, Some(json!(true))] {
        expect(
            DEMO,
            |doc| {
                let od = &mut cluster_mut(doc, "modelmux_split_0")["outlier_detection"];
                let key = "successful_active_health_check_uneject_host";
                match planted {
                    Some(v) => od[key] = v,
                    None => drop(od.as_object_mut().unwrap().remove(key)),
                }
            },
            &["clusters[modelmux_split_0].outlier_detection: [health-check-uneject]"],
        );
    }
}
