use super::*;
use serde_json::json;

fn env(name: &str) -> Option<String> {
    match name {
        "OPENAI_KEY" => Some("sk-test".to_string()),
        "ANTHROPIC_KEY" => Some("ak-test".to_string()),
        _ => None,
    }
}

fn base() -> serde_json::Value {
    json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "api.openai.com", "api_key_env": "OPENAI_KEY"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "api.anthropic.com", "base_path": "/v1/", "api_key_env": "ANTHROPIC_KEY", "default_max_tokens": 1000}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "mix", "targets": [{"provider": "oa", "model": "a", "weight": 3}, {"provider": "an", "model": "b", "weight": 1}]}
        ]
    })
}

fn load(v: &serde_json::Value) -> Result<Config, ConfigError> {
    Config::from_json(v.to_string().as_bytes(), &env)
}

#[test]
fn compiles_valid_config() {
    let c = load(&base()).unwrap();
    assert_eq!(c.cluster_header, DEFAULT_CLUSTER_HEADER);
    let an = &c.providers[1];
    assert_eq!(an.kind(), "anthropic");
    assert_eq!(an.base_path, "/v1");
    assert_eq!(
        an.auth,
        crate::providers::auth::Auth::Header {
            name: "x-api-key",
            key: Secret::new("ak-test")
        }
    );
    assert!(!format!("{an:?}").contains("ak-test"));
    let Options::Anthropic(opts) = &an.options else {
        panic!("not anthropic: {:?}", an.options)
    };
    assert_eq!(opts.default_max_tokens, 1000);
    assert_eq!(opts.anthropic_version, "2023-06-01");
    assert_eq!(c.providers[0].base_path, "/v1");
    let (idx, m) = c.model("mix").unwrap();
    assert_eq!(idx, 1);
    assert!(c.model("nope").is_none());
    let p = crate::split::Picks::default();
    let picks: Vec<usize> = (0..8).map(|_| p.plan(idx, m).unwrap()).collect();
    assert_eq!(picks, vec![0, 0, 1, 0, 0, 0, 1, 0]);
}

fn expect_err(v: serde_json::Value, path: &str, needle: &str) {
    let e = load(&v).unwrap_err();
    assert_eq!(e.path, path, "{e}");
    assert!(e.to_string().contains(needle), "{e}");
}

#[test]
fn reports_the_offending_field() {
    let mut v = base();
    v["models"][1]["targets"][1]["provider"] = json!("ghost");
    expect_err(v, "models[1].targets[1].provider", "ghost");

    let mut v = base();
    v["providers"][0]["type"] = json!("bogus");
    expect_err(v, "providers[0].type", "unknown provider type `bogus`");

    let mut v = base();
    v["providers"][0]["type"] = json!("perplexity");
    expect_err(
        v,
        "providers[0].type",
        "the `perplexity` preset was removed: Perplexity retired",
    );

    let mut v = base();
    v["models"][0]["targets"] = json!([]);
    expect_err(v, "models[0].targets", "at least one target");

    let mut v = base();
    v["providers"][1]["colour"] = json!("red");
    expect_err(v, "providers[1].colour", "unknown field `colour`");

    let mut v = base();
    v["models"][0]["targets"][0]["weight"] = json!(-1);
    expect_err(v, "models[0].targets[0].weight", "invalid value");

    let mut v = base();
    v["providers"][0]["api_key_env"] = json!("MISSING");
    expect_err(v, "providers[0].api_key_env", "MISSING");

    let mut v = base();
    v["models"][1]["name"] = json!("gpt");
    expect_err(v, "models[1].name", "duplicate");

    let mut v = base();
    v["providers"][0]["anthropic_version"] = json!("2023-06-01");
    expect_err(
        v,
        "providers[0].anthropic_version",
        "options of type `openai`",
    );

    let mut v = base();
    v["providers"][0]["host"] = json!("https://api.openai.com");
    expect_err(v, "providers[0].host", "without scheme");

    let mut v = base();
    v.as_object_mut().unwrap().remove("models");
    expect_err(v, "$", "missing field `models`");
}

#[test]
fn rejects_non_json() {
    let e = Config::from_json(b"{not json", &env).unwrap_err();
    assert!(e.to_string().contains("invalid modelmux configuration"));
}

#[test]
fn stream_usage_is_an_openai_option() {
    let mut v = base();
    v["providers"][0]["stream_usage"] = json!(false);
    let stream_usage = |c: &Config| match &c.providers[0].options {
        Options::OpenAi(o) => o.stream_usage(),
        other => panic!("not openai: {other:?}"),
    };
    assert!(!stream_usage(&load(&v).unwrap()));
    assert!(stream_usage(&load(&base()).unwrap()));
    v["providers"][1]["stream_usage"] = json!(false);
    expect_err(
        v,
        "providers[1].stream_usage",
        "options of type `anthropic`",
    );
}

#[test]
fn unweighted_targets_are_an_order_of_preference_with_rotations() {
    let mut v = base();
    v["models"][1]["targets"][0]
        .as_object_mut()
        .unwrap()
        .remove("weight");
    v["models"][1]["targets"][1]
        .as_object_mut()
        .unwrap()
        .remove("weight");
    let c = load(&v).unwrap();
    let (_, m) = c.model("mix").unwrap();
    assert_eq!(
        m.targets.iter().map(|t| t.weight).collect::<Vec<_>>(),
        vec![1, 0]
    );
    let p = crate::split::Picks::default();
    assert!((0..5).all(|_| p.plan(1, m) == Some(0)));
    let f = m.failover.as_ref().unwrap();
    assert_eq!(f.rotations, vec!["modelmux_mix_0", "modelmux_mix_1"]);
    assert!(c.model("gpt").unwrap().1.failover.is_none());
    assert_eq!(c.failover, FailoverSettings::default());
}

#[test]
fn failover_mistakes_are_named() {
    let mut v = base();
    v["models"][1]["targets"][1]["provider"] = json!("oa");
    expect_err(v, "models[1].targets[1].provider", "listed twice");
    let mut v = base();
    v["models"][0]["cluster"] = json!("x");
    expect_err(v, "models[0].cluster", "two or more targets");
    let mut v = base();
    v["models"][1]["cluster"] = json!("c");
    v["providers"][0]["cluster"] = json!("c_0");
    expect_err(v, "models[1].cluster", "also used by");
    let mut v = base();
    v["failover"] = json!({"ejection_ms": 0});
    expect_err(v, "failover.ejection_ms", "above 0");
    let mut v = base();
    v["failover"] = json!({"retries": 2});
    expect_err(v, "failover.retries", "unknown field");
    let mut v = base();
    v["providers"][0]["endpoint"] = json!({"address": "10.0.0.1:http"});
    expect_err(v, "providers[0].endpoint.address", "port");
}

#[test]
fn endpoints_default_from_the_host() {
    let mut v = base();
    v["providers"][1]["host"] = json!("127.0.0.1:8080");
    v["providers"][0]["endpoint"] = json!({"address": "10.1.2.3", "ca_file": "/ca.pem"});
    let c = load(&v).unwrap();
    let oa = &c.providers[0].endpoint;
    assert_eq!(
        (oa.address.as_str(), oa.port, oa.tls),
        ("10.1.2.3", 443, true)
    );
    assert_eq!(
        (oa.sni.as_str(), oa.ca_file.as_str()),
        ("api.openai.com", "/ca.pem")
    );
    let an = &c.providers[1].endpoint;
    assert_eq!(
        (an.address.as_str(), an.port, an.tls),
        ("127.0.0.1", 8080, false)
    );
}

#[test]
fn json_timeouts_default_and_are_checked() {
    let c = load(&base()).unwrap();
    assert_eq!(c.failover.json_timeout_ms, 300_000);
    assert_eq!(c.failover.json_attempt_timeout_ms, None);
    let mut v = base();
    v["failover"] = json!({"json_timeout_ms": 60000, "json_attempt_timeout_ms": 20000});
    let c = load(&v).unwrap();
    assert_eq!(c.failover.json_timeout_ms, 60_000);
    assert_eq!(c.failover.json_attempt_timeout_ms, Some(20_000));
    let mut v = base();
    v["failover"] = json!({"json_timeout_ms": 0});
    expect_err(v, "failover.json_timeout_ms", "above 0");
    let mut v = base();
    v["failover"] = json!({"json_attempt_timeout_ms": 0});
    expect_err(v, "failover.json_attempt_timeout_ms", "above 0");
    let mut v = base();
    v["failover"] = json!({"json_timeout_ms": 1000, "json_attempt_timeout_ms": 2000});
    expect_err(v, "failover.json_attempt_timeout_ms", "must not exceed");
}

#[test]
fn a_compiled_config_never_prints_a_key() {
    let v = serde_json::json!({
        "providers": [{"name": "oa", "type": "openai", "cluster": "c", "host": "h", "api_key_env": "K"}],
        "models": [{"name": "m", "targets": [{"provider": "oa", "model": "x"}]}]
    });
    let env = |_: &str| Some("sk-live-should-not-print".to_string());
    let cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    let shown = format!("{cfg:?}");
    assert!(shown.contains("Secret(***)"), "{shown}");
    assert!(!shown.contains("sk-live-should-not-print"));
}

#[test]
fn names_that_become_the_same_metric_label_are_refused() {
    let v = json!({
        "providers": [{"name": "oa", "type": "openai", "cluster": "c", "host": "h", "api_key_env": "OPENAI_KEY"}],
        "models": [
            {"name": "gpt-4.1", "targets": [{"provider": "oa", "model": "x"}]},
            {"name": "gpt-4_1", "targets": [{"provider": "oa", "model": "y"}]}
        ]
    });
    let e = Config::from_json(v.to_string().as_bytes(), &env).unwrap_err();
    assert_eq!(e.path, "models[1].name");
    assert!(
        e.message
            .contains("`gpt-4_1` and `gpt-4.1` (models[0].name)"),
        "{e}"
    );
    assert!(e.message.contains("metric label `gpt-4_1`"), "{e}");
    let v = json!({
        "providers": [
            {"name": "a.b", "type": "openai", "cluster": "c1", "host": "h", "api_key_env": "OPENAI_KEY"},
            {"name": "a_b", "type": "openai", "cluster": "c2", "host": "h", "api_key_env": "OPENAI_KEY"}
        ],
        "models": [{"name": "m", "targets": [{"provider": "a.b", "model": "x"}]}]
    });
    let e = Config::from_json(v.to_string().as_bytes(), &env).unwrap_err();
    assert_eq!(e.path, "providers[1].name");
}

#[test]
fn health_check_expected_statuses_are_checked() {
    let mut v = base();
    v["providers"][0]["health_check"] =
        json!({"path": "/v1/models", "expected_statuses": [200, 401]});
    let c = load(&v).unwrap();
    let hc = c.providers[0].health_check.as_ref().unwrap();
    assert_eq!(hc.expected_statuses, vec![200, 401]);
    v["providers"][0]["health_check"] = json!({"path": "/v1/models"});
    let c = load(&v).unwrap();
    assert!(c.providers[0]
        .health_check
        .as_ref()
        .unwrap()
        .expected_statuses
        .is_empty());
    let field = "providers[0].health_check.expected_statuses";
    v["providers"][0]["health_check"] = json!({"path": "/h", "expected_statuses": []});
    expect_err(v.clone(), field, "at least one status");
    v["providers"][0]["health_check"] = json!({"path": "/h", "expected_statuses": [200, 42]});
    expect_err(v, field, "42 is not an HTTP status");
}
