//! `modelmux check`: does an Envoy bootstrap agree with a filter config?
//!
//! Every problem is reported with its location in the bootstrap; checking
//! goes on after a problem so one run lists them all.

mod clusters;
mod hardening;
mod health;
mod istio;
mod routes;

use serde_json::Value;

use crate::input::{self, Loaded};
use crate::render::{CREDENTIAL_HEADERS, DOWNSTREAM_ROOT_ID, WASM_TYPE};

/// Problems found so far, each `location: message`.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>, &'static str);

impl Problems {
    pub fn add(&mut self, location: &str, message: impl std::fmt::Display) {
        self.0.push(format!("{}{location}: {message}", self.1));
    }
}

/// `v[a][b]...` for object keys.
pub fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

/// The array at `path`, or nothing.
pub fn items<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    at(v, path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// A protobuf integer, which JSON/YAML may spell as a number or a string.
pub fn uint(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A protobuf Duration in milliseconds: `"1.5s"` or `{seconds, nanos}`.
pub fn duration_ms(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::String(s) => {
            let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
            (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
        }
        Value::Object(o) => {
            let secs = uint(o.get("seconds")).unwrap_or(0);
            let nanos = uint(o.get("nanos")).unwrap_or(0);
            Some(secs.saturating_mul(1000).saturating_add(nanos / 1_000_000))
        }
        _ => None,
    }
}

pub fn is_true(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || matches!(v, Some(Value::String(s)) if s == "true")
}

/// Whether a filter's `typed_config` has this type.
pub fn has_type(filter: &Value, type_name: &str) -> bool {
    str_at(filter, &["typed_config", "@type"])
        .is_some_and(|t| t.rsplit('/').next() == Some(type_name))
}

/// A wasm filter's `config` if its root_id is `root_id`.
pub fn wasm_config<'a>(filter: &'a Value, root_id: &str) -> Option<&'a Value> {
    let config = at(filter, &["typed_config", "config"])?;
    (has_type(filter, WASM_TYPE) && str_at(config, &["root_id"]) == Some(root_id)).then_some(config)
}

/// The filter JSON inside a wasm plugin config, parsed.
pub fn embedded_config(config: &Value) -> Result<Value, String> {
    let text = match at(config, &["configuration"]) {
        Some(Value::Object(any)) => any.get("value").and_then(Value::as_str),
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
    .ok_or("no configuration (a google.protobuf.StringValue holding the filter JSON)")?;
    serde_json::from_str(text).map_err(|e| format!("configuration is not valid JSON: {e}"))
}

/// The first place two JSON values differ, as a path, if any.
pub fn json_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => json_diff(p, q, &format!("{path}.{k}")),
                _ => Some(format!("{path}.{k}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| json_diff(p, q, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(path.to_string()),
    }
}

/// The downstream modelmux filter and what surrounds it.
pub struct Downstream<'a> {
    pub hcm: &'a Value,
    pub listener: &'a Value,
    /// e.g. `listeners[gateway].filter_chains[0].filters[0]`.
    pub hcm_loc: String,
    pub config: &'a Value,
    pub config_loc: String,
}

fn find_downstream(doc: &Value) -> Option<Downstream<'_>> {
    for (li, l) in items(doc, &["static_resources", "listeners"])
        .iter()
        .enumerate()
    {
        let lname = str_at(l, &["name"]).map_or(li.to_string(), str::to_string);
        for (ci, chain) in items(l, &["filter_chains"]).iter().enumerate() {
            for (fi, f) in items(chain, &["filters"]).iter().enumerate() {
                let Some(hcm) = f.get("typed_config") else {
                    continue;
                };
                for (hi, hf) in items(hcm, &["http_filters"]).iter().enumerate() {
                    if let Some(config) = wasm_config(hf, DOWNSTREAM_ROOT_ID) {
                        let hcm_loc =
                            format!("listeners[{lname}].filter_chains[{ci}].filters[{fi}]");
                        let name = str_at(hf, &["name"]).map_or(hi.to_string(), str::to_string);
                        return Some(Downstream {
                            hcm,
                            listener: l,
                            config_loc: format!(
                                "{hcm_loc}.http_filters[{name}].typed_config.config"
                            ),
                            hcm_loc,
                            config,
                        });
                    }
                }
            }
        }
    }
    None
}

/// Checks `envoy` (YAML or JSON) against `given` (the filter JSON), or
/// against the config embedded in its downstream filter.
pub fn check(envoy: &str, given: Option<&str>) -> Vec<String> {
    let mut p = Problems::default();
    let docs = match istio::documents(envoy) {
        Ok(docs) => docs,
        Err(e) => return vec![format!("$: not a valid YAML bootstrap: {e}")],
    };
    let istio = istio::is_manifests(&docs);
    let doc = if istio {
        let doc = istio::as_bootstrap(&docs, &mut p);
        // Later locations are in the gateway as the patches build it.
        p.1 = "gateway as patched: ";
        doc
    } else {
        match docs.into_iter().next() {
            Some(doc) => doc,
            None => return vec!["$: empty".to_string()],
        }
    };
    let Some(down) = find_downstream(&doc) else {
        p.add(
            "static_resources.listeners",
            format!("no envoy.filters.http.wasm filter with root_id `{DOWNSTREAM_ROOT_ID}` in any HTTP connection manager"),
        );
        return p.0;
    };
    let Some(loaded) = config_to_check(&down, given, &mut p) else {
        return p.0;
    };
    check_downstream(&down, &loaded, &mut p);
    routes::check_routes(&down, &loaded, &mut p);
    clusters::check_clusters(&doc, &down, &loaded, &mut p);
    health::check_saas_health_checks(&doc, &loaded.config, &mut p);
    if !istio {
        // Admin, overload manager and connection timeouts are Istio's.
        hardening::check_hardening(&doc, &down, &mut p);
    }
    hardening::check_response_buffer(&down, loaded.config.response_buffer_bytes, &mut p);
    check_logs(&doc, "", &mut p);
    p.0
}

/// The config the bootstrap must agree with; compares it with the
/// embedded one when it is given.
fn config_to_check(down: &Downstream, given: Option<&str>, p: &mut Problems) -> Option<Loaded> {
    let loc = format!("{}.configuration", down.config_loc);
    let embedded = embedded_config(down.config);
    let text = match (given, &embedded) {
        (Some(text), Ok(embedded)) => {
            let value: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    p.add("--config", format!("not valid JSON: {e}"));
                    return None;
                }
            };
            if let Some(at) = json_diff(embedded, &value, "$") {
                p.add(
                    &loc,
                    format!("differs from the given config (first at {at})"),
                );
            }
            text.to_string()
        }
        (Some(text), Err(e)) => {
            p.add(&loc, e);
            text.to_string()
        }
        (None, Ok(embedded)) => embedded.to_string(),
        (None, Err(e)) => {
            p.add(&loc, e);
            return None;
        }
    };
    match input::load(&text) {
        Ok(loaded) => Some(loaded),
        Err(e) => {
            p.add(if given.is_some() { "--config" } else { &loc }, e);
            None
        }
    }
}

fn check_downstream(down: &Downstream, loaded: &Loaded, p: &mut Problems) {
    let loc = &down.config_loc;
    if !is_true(down.config.get("allow_on_headers_stop_iteration")) {
        p.add(
            loc,
            "allow_on_headers_stop_iteration must be true (the filter pauses in request headers to read the body)",
        );
    }
    check_vm_env(down.config, loc, loaded, p);
    let filters = items(down.hcm, &["http_filters"]);
    let me = filters
        .iter()
        .position(|f| wasm_config(f, DOWNSTREAM_ROOT_ID).is_some());
    let router = filters
        .iter()
        .position(|f| has_type(f, "envoy.extensions.filters.http.router.v3.Router"));
    if router.is_none() || router < me {
        p.add(
            &format!("{}.http_filters", down.hcm_loc),
            "envoy.filters.http.router must come after the modelmux filter",
        );
    }
}

/// Every `api_key_env` must reach the VM, or the filter will not load.
pub fn check_vm_env(config: &Value, loc: &str, loaded: &Loaded, p: &mut Problems) {
    let env = at(config, &["vm_config", "environment_variables"]);
    let host = env
        .map(|e| items(e, &["host_env_keys"]))
        .unwrap_or_default();
    let fixed = env.and_then(|e| e.get("key_values"));
    for var in &loaded.key_envs {
        let given = host.iter().any(|h| h.as_str() == Some(var))
            || fixed.and_then(|f| f.get(var)).is_some();
        if !given {
            p.add(
                &format!("{loc}.vm_config.environment_variables"),
                format!("api_key_env `{var}` is not given to the VM (host_env_keys or key_values); the filter will not load"),
            );
        }
    }
}

/// Access log formats anywhere must not log a credential header.
fn check_logs(v: &Value, loc: &str, p: &mut Problems) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                check_logs(v, &format!("{loc}.{k}"), p);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                check_logs(v, &format!("{loc}[{i}]"), p);
            }
        }
        Value::String(s) => {
            if let Some(h) = logged_credential(s) {
                p.add(
                    loc.trim_start_matches('.'),
                    format!("logs the `{h}` request header, which can hold a provider key"),
                );
            }
        }
        _ => {}
    }
}

/// The credential header a format string logs, if any: a `%REQ(...)%`-like
/// command (any command with REQ in its name) naming one.
pub fn logged_credential(format: &str) -> Option<&'static str> {
    let lower = format.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let (name, tail) = after.split_at(name_len);
        if let (true, Some(args)) = (name.contains("req"), tail.strip_prefix('(')) {
            let args = args.split(')').next().unwrap_or_default();
            if let Some(h) = CREDENTIAL_HEADERS
                .iter()
                .find(|h| args.split('?').any(|a| a.trim() == **h))
            {
                return Some(h);
            }
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod limits_tests;
