//! `modelmux check` on Istio manifests (multi-document YAML, e.g. from
//! `render --istio`).
//!
//! The manifests are turned into the gateway Envoy would run: the
//! EnvoyFilter patches (HTTP_FILTER inserts before the router, CLUSTER
//! ADDs, HTTP_ROUTE inserts around the VirtualService route and the MERGE
//! into it, the LISTENER MERGE) are applied to a listener holding the
//! VirtualService's route, and that bootstrap goes through the ordinary
//! checks. Istio-only findings come first: a WasmPlugin (cannot set
//! `allow_on_headers_stop_iteration`, so requests hang; with the EnvoyFilter
//! as well the filter runs twice) and the module's remote source (sha256,
//! fetch cluster). Bootstrap-level protections Istio owns (admin, overload
//! manager, connection timeouts) are not reported.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{at, items, str_at, Problems};

/// Whether the text is Kubernetes manifests rather than a bootstrap.
pub fn is_manifests(docs: &[Value]) -> bool {
    docs.iter()
        .any(|d| d.get("apiVersion").is_some() && d.get("kind").is_some())
}

/// Every YAML document of the text.
pub fn documents(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = Value::deserialize(doc).map_err(|e| e.to_string())?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

fn name_of(d: &Value) -> String {
    format!(
        "{}/{}",
        str_at(d, &["kind"]).unwrap_or("?"),
        str_at(d, &["metadata", "name"]).unwrap_or("?")
    )
}

/// The patches of every EnvoyFilter: (location, applyTo, operation, value).
fn patches(docs: &[Value]) -> Vec<(String, &str, &str, &Value)> {
    let mut out = Vec::new();
    for d in docs.iter().filter(|d| d["kind"] == "EnvoyFilter") {
        for (i, p) in items(d, &["spec", "configPatches"]).iter().enumerate() {
            let loc = format!("{}.spec.configPatches[{i}]", name_of(d));
            let apply_to = str_at(p, &["applyTo"]).unwrap_or_default();
            let op = str_at(p, &["patch", "operation"]).unwrap_or_default();
            if let Some(v) = at(p, &["patch", "value"]) {
                out.push((loc, apply_to, op, v));
            }
        }
    }
    out
}

/// The bootstrap the gateway would run, and the Istio-only findings.
pub fn as_bootstrap(docs: &[Value], p: &mut Problems) -> Value {
    let ps = patches(docs);
    let mut filters: Vec<Value> = Vec::new();
    let (mut before, mut after, mut merged) = (Vec::new(), Vec::new(), Vec::new());
    let mut clusters = Vec::new();
    let mut listener = json!({"name": "gateway"});
    for (loc, apply_to, op, v) in &ps {
        match (*apply_to, *op) {
            ("HTTP_FILTER", "INSERT_BEFORE") => filters.push((*v).clone()),
            ("CLUSTER", "ADD") => clusters.push((*v).clone()),
            ("HTTP_ROUTE", "INSERT_BEFORE") => before.push((*v).clone()),
            ("HTTP_ROUTE", "INSERT_AFTER") => after.insert(0, (*v).clone()),
            ("HTTP_ROUTE", "MERGE") => merged.push(*v),
            ("LISTENER", "MERGE") => merge(&mut listener, v),
            _ => p.add(
                loc,
                format!("{apply_to} {op}: not a patch modelmux expects"),
            ),
        }
    }
    filters.push(
        json!({"name": "envoy.filters.http.router", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}),
    );
    check_wasm_plugins(docs, &ps, p);
    let mut routes = before;
    routes.extend(virtual_service_route(docs, &merged, p));
    routes.extend(after);
    let hcm = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "http_filters": filters,
        "route_config": {"name": "gateway", "virtual_hosts": [{"name": "gateway", "domains": ["*"], "routes": routes}]},
    });
    listener["filter_chains"] = json!([{"filters": [{
        "name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}]);
    json!({"static_resources": {"listeners": [listener], "clusters": clusters}})
}

/// The VirtualService's `modelmux` route after the HTTP_ROUTE MERGEs.
fn virtual_service_route(docs: &[Value], merged: &[&Value], p: &mut Problems) -> Option<Value> {
    let vs = docs.iter().find(|d| d["kind"] == "VirtualService")?;
    let Some(http) = items(vs, &["spec", "http"]).first() else {
        p.add(&name_of(vs), "spec.http: no route");
        return None;
    };
    let prefix = items(http, &["match"])
        .first()
        .and_then(|m| str_at(m, &["uri", "prefix"]));
    let mut route = json!({
        "name": http["name"],
        "match": {"prefix": prefix.unwrap_or("/")},
        "route": {"cluster": "placeholder"},
        "request_headers_to_remove": http["headers"]["request"]["remove"],
    });
    for v in merged {
        merge(&mut route, v);
    }
    Some(route)
}

fn check_wasm_plugins(docs: &[Value], ps: &[(String, &str, &str, &Value)], p: &mut Problems) {
    let inserted = ps.iter().any(|(_, a, _, v)| {
        *a == "HTTP_FILTER" && super::wasm_config(v, super::DOWNSTREAM_ROOT_ID).is_some()
    });
    for d in docs.iter().filter(|d| d["kind"] == "WasmPlugin") {
        p.add(&name_of(d), "Istio's WasmPlugin cannot set allow_on_headers_stop_iteration, so requests hang; insert the filter with the EnvoyFilter `modelmux render --istio` writes");
        check_plugin_config(d, p);
        if inserted {
            p.add(
                &name_of(d),
                "the modelmux filter is also inserted by an EnvoyFilter: it would run twice",
            );
        }
    }
    for (loc, _, _, v) in ps {
        if let Some(remote) = at(
            v,
            &["typed_config", "config", "vm_config", "code", "remote"],
        ) {
            check_remote(remote, &format!("{loc}.patch.value"), ps, p);
        }
    }
}

/// A WasmPlugin's pluginConfig is the filter JSON: it must load, and every
/// key variable must reach the VM (vmConfig.env).
fn check_plugin_config(d: &Value, p: &mut Problems) {
    let loc = format!("{}.spec.pluginConfig", name_of(d));
    let Some(config) = at(d, &["spec", "pluginConfig"]) else {
        p.add(&loc, "missing: the filter JSON");
        return;
    };
    let loaded = match crate::input::load(&config.to_string()) {
        Ok(loaded) => loaded,
        Err(e) => {
            p.add(&loc, e);
            return;
        }
    };
    let env = items(d, &["spec", "vmConfig", "env"]);
    for var in &loaded.key_envs {
        if !env.iter().any(|e| str_at(e, &["name"]) == Some(var)) {
            p.add(
                &format!("{}.spec.vmConfig.env", name_of(d)),
                format!("api_key_env `{var}` is not given to the VM; the filter will not load"),
            );
        }
    }
}

fn check_remote(remote: &Value, loc: &str, ps: &[(String, &str, &str, &Value)], p: &mut Problems) {
    let sha = str_at(remote, &["sha256"]).unwrap_or_default();
    if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
        p.add(
            &format!("{loc}.vm_config.code.remote.sha256"),
            "must be the module's sha256 (64 hex digits)",
        );
    }
    let cluster = str_at(remote, &["http_uri", "cluster"]).unwrap_or_default();
    let added = ps
        .iter()
        .any(|(_, a, _, v)| *a == "CLUSTER" && str_at(v, &["name"]) == Some(cluster));
    if !added {
        p.add(
            &format!("{loc}.vm_config.code.remote.http_uri.cluster"),
            format!("cluster `{cluster}` is not added by any EnvoyFilter CLUSTER patch; the module cannot be fetched"),
        );
    }
}

/// Protobuf merge on JSON: objects merge, arrays append, the rest replaces;
/// a route's cluster specifier is a oneof.
pub fn merge(dst: &mut Value, src: &Value) {
    let (Value::Object(d), Value::Object(s)) = (dst, src) else {
        return;
    };
    for (k, v) in s {
        if ["cluster", "cluster_header", "weighted_clusters"].contains(&k.as_str()) {
            d.retain(|key, _| {
                !["cluster", "cluster_header", "weighted_clusters"].contains(&key.as_str())
            });
        }
        match (d.get_mut(k), v) {
            (Some(old @ Value::Object(_)), Value::Object(_)) => merge(old, v),
            (Some(Value::Array(old)), Value::Array(new)) => old.extend(new.iter().cloned()),
            _ => {
                d.insert(k.clone(), v.clone());
            }
        }
    }
}
