//! Rendering for the cloud providers: Envoy's SigV4 signer on the clusters
//! of providers that leave signing to Envoy, the clusters OAuth token
//! sources call, and the VM environment they read.

use serde_json::{json, Value};

use super::tests::{cluster, render_value, REAL};
use super::*;
use crate::check::items;
use crate::input::load;

fn signer(c: &Value) -> Option<&Value> {
    items(
        c,
        &[
            "typed_extension_protocol_options",
            HTTP_OPTIONS,
            "http_filters",
        ],
    )
    .iter()
    .find(|f| f["name"] == AWS_SIGNING)
}

#[test]
fn envoy_signed_bedrock_gets_the_aws_signer_and_filter_signed_does_not() {
    let doc = render_value(REAL, &Options::default());
    let envoy_signed = cluster(&doc, "bedrock_envoy_signed");
    let f = signer(envoy_signed).expect("aws_request_signing on the cluster");
    assert_eq!(f["typed_config"]["service_name"], "bedrock");
    assert_eq!(f["typed_config"]["region"], "us-west-2");
    assert_eq!(f["typed_config"]["use_unsigned_payload"], false);
    let chain = items(
        envoy_signed,
        &[
            "typed_extension_protocol_options",
            HTTP_OPTIONS,
            "http_filters",
        ],
    );
    assert_eq!(chain.last().unwrap()["name"], UPSTREAM_CODEC);
    assert!(signer(cluster(&doc, "bedrock")).is_none());
    let sock = &cluster(&doc, "bedrock")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        ["endpoint"]["address"]["socket_address"];
    assert_eq!(sock["address"], "bedrock-runtime.us-east-1.amazonaws.com");
    assert_eq!(sock["port_value"], 443);
}

#[test]
fn oauth_sources_get_their_clusters_and_keys_reach_the_vm() {
    let doc = render_value(REAL, &Options::default());
    let md = cluster(&doc, "gcp_metadata");
    let sock = &md["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"];
    assert_eq!(sock["address"], "metadata.google.internal");
    assert_eq!(sock["port_value"], 80);
    assert!(
        md.get("transport_socket").is_none(),
        "the metadata server is plain HTTP"
    );
    let loaded = load(REAL).unwrap();
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "COHERE_API_KEY",
    ] {
        assert!(
            loaded.key_envs.iter().any(|e| e == k),
            "{k} in {:?}",
            loaded.key_envs
        );
    }
}

fn service_account_config() -> String {
    json!({
        "providers": [{"name": "v", "type": "vertex", "cluster": "v", "project": "p",
            "location": "global", "auth": {"source": "service_account", "key_env": "SA",
            "cluster": "oauth"}}],
        "models": [{"name": "m", "targets": [{"provider": "v", "model": "gemini-2.5-flash"}]}]
    })
    .to_string()
}

#[test]
fn service_account_keys_are_placeholders_while_rendering() {
    let text = service_account_config();
    let loaded = load(&text).unwrap();
    assert_eq!(loaded.key_envs, vec!["SA"]);
    let doc = render_value(&text, &Options::default());
    let c = cluster(&doc, "oauth");
    let sock = &c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"];
    assert_eq!(sock["address"], "oauth2.googleapis.com");
    assert_eq!(sock["port_value"], 443);
    assert!(c.get("transport_socket").is_some());
    assert_eq!(
        cluster(&doc, "v")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            ["address"]["socket_address"]["address"],
        "aiplatform.googleapis.com"
    );
}

#[test]
fn envoy_signing_on_a_failover_model_is_refused() {
    let text = json!({
        "providers": [
            {"name": "b", "type": "bedrock", "cluster": "b", "region": "us-east-1", "auth": {"type": "envoy"}},
            {"name": "o", "type": "openai", "cluster": "o", "api_key_env": "K"}],
        "models": [{"name": "m", "targets": [{"provider": "b", "model": "x"}, {"provider": "o", "model": "y"}]}]
    })
    .to_string();
    let e = load(&text).unwrap_err();
    assert!(
        e.contains("models[0].targets[0].provider") && e.contains("sigv4"),
        "{e}"
    );
}

#[test]
fn check_finds_an_envoy_signed_cluster_without_its_signer() {
    let mut doc = render_value(REAL, &Options::default());
    let clean = crate::check::check(&serde_yaml::to_string(&doc).unwrap(), None);
    assert!(clean.is_empty(), "{clean:#?}");
    let c = doc["static_resources"]["clusters"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|c| c["name"] == "bedrock_envoy_signed")
        .unwrap();
    c["typed_extension_protocol_options"][HTTP_OPTIONS]["http_filters"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["name"] != AWS_SIGNING);
    let problems = crate::check::check(&serde_yaml::to_string(&doc).unwrap(), None);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("bedrock-envoy-signed") && p.contains("unsigned")),
        "{problems:#?}"
    );
}
