//! The `modelmux` binary as a shell sees it: exit codes and messages.

#![allow(clippy::expect_used, clippy::panic)]

use std::process::Command;

fn modelmux(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_modelmux"))
        .args(args)
        .output()
        .expect("run modelmux");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn no_arguments_is_an_error_with_usage() {
    let (code, stdout, stderr) = modelmux(&[]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.contains("USAGE:"), "{stderr}");
}

#[test]
fn version_prints_the_crate_version() {
    let (code, stdout, _) = modelmux(&["--version"]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.trim(),
        format!("modelmux {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_typo_in_a_common_provider_field_suggests_it() {
    let dir = std::env::temp_dir().join(format!("modelmux-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let cfg = dir.join("typo.json");
    std::fs::write(
        &cfg,
        r#"{"providers":[{"name":"oa","type":"openai","cluster":"c","host":"h","api_kye_env":"K"}],
            "models":[{"name":"m","targets":[{"provider":"oa","model":"x"}]}]}"#,
    )
    .expect("write config");
    let (code, _, stderr) = modelmux(&["render", "--config", cfg.to_str().unwrap_or("")]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "`providers[0].api_kye_env`: unknown field `api_kye_env`; did you mean `api_key_env`?"
        ),
        "{stderr}"
    );
}

// ---- render --istio / check on Istio manifests --------------------------

use serde::Deserialize;
use serde_json::Value;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const ZERO_SHA: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const URL: &str = "https://wasm.example.com/modelmux/modelmux.wasm";

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

fn patches<'a>(docs: &'a [Value], apply_to: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|d| d["kind"] == "EnvoyFilter")
        .flat_map(|d| d["spec"]["configPatches"].as_array().expect("patches"))
        .filter(|p| p["applyTo"] == apply_to)
        .collect()
}

fn render_istio(extra: &[&str]) -> (i32, String, String) {
    let config = format!("{ROOT}/envoy/istio.json");
    let mut args = vec!["render", "--istio", "--config", &config, "--wasm-url", URL];
    args.extend(extra);
    modelmux(&args)
}

fn temp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("modelmux-cli-istio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8 path").to_string()
}

#[test]
fn render_istio_embeds_the_config_and_the_module_digest() {
    // sha256("abc"), computed from the --wasm file.
    let wasm = temp("abc.wasm", "abc");
    let (code, out, err) = render_istio(&["--wasm", &wasm]);
    assert_eq!(code, 0, "{err}");
    let docs = docs(&out);
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ConfigMap",
            "Gateway",
            "VirtualService",
            "EnvoyFilter",
            "EnvoyFilter"
        ]
    );
    let filters = patches(&docs, "HTTP_FILTER");
    assert_eq!(filters.len(), 1);
    assert_eq!(filters[0]["patch"]["operation"], "INSERT_BEFORE");
    let config = &filters[0]["patch"]["value"]["typed_config"]["config"];
    assert_eq!(config["allow_on_headers_stop_iteration"], true);
    let embedded: Value =
        serde_json::from_str(config["configuration"]["value"].as_str().expect("json"))
            .expect("json");
    let shipped: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/envoy/istio.json")).expect("config"),
    )
    .expect("json");
    assert_eq!(embedded, shipped);
    let remote = &config["vm_config"]["code"]["remote"];
    assert_eq!(
        remote["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(remote["http_uri"]["uri"], URL);
}

#[test]
fn render_istio_adds_every_cluster_and_the_failover_routes() {
    let (code, out, err) = render_istio(&["--wasm-sha256", ZERO_SHA]);
    assert_eq!(code, 0, "{err}");
    let docs = docs(&out);
    let config = &patches(&docs, "HTTP_FILTER")[0]["patch"]["value"]["typed_config"]["config"];
    let clusters: Vec<&Value> = patches(&docs, "CLUSTER")
        .iter()
        .map(|p| &p["patch"]["value"])
        .collect();
    let names: Vec<&str> = clusters.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "openai",
            "anthropic",
            "modelmux_smart_0",
            "modelmux_smart_1",
            "modelmux_wasm_fetch"
        ]
    );
    // Rotation clusters: the upstream filter with the same module and
    // config (YAML aliases expanded), and outlier detection.
    let upstream = &clusters[2]["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["http_filters"][0]
        ["typed_config"]["config"];
    assert_eq!(upstream["vm_config"], config["vm_config"]);
    assert_eq!(upstream["configuration"], config["configuration"]);
    assert_eq!(clusters[2]["outlier_detection"]["consecutive_5xx"], 3);
    let routes = patches(&docs, "HTTP_ROUTE");
    let ops: Vec<&str> = routes
        .iter()
        .filter_map(|p| p["patch"]["operation"].as_str())
        .collect();
    assert_eq!(
        ops,
        [
            "INSERT_BEFORE",
            "INSERT_BEFORE",
            "MERGE",
            "INSERT_AFTER",
            "INSERT_AFTER"
        ]
    );
    let kinds: Vec<&Value> = routes[..2]
        .iter()
        .map(|p| &p["patch"]["value"]["match"]["headers"][0]["string_match"]["exact"])
        .collect();
    assert_eq!(kinds, ["stream", "json"]);
    assert_eq!(
        routes[0]["patch"]["value"]["route"]["retry_policy"]["num_retries"],
        1
    );
    assert_eq!(
        routes[2]["patch"]["value"]["route"]["cluster_header"],
        "x-modelmux-cluster"
    );
}

#[test]
fn render_istio_refuses_a_missing_url_or_a_bad_digest() {
    let config = format!("{ROOT}/envoy/istio.json");
    let (code, _, err) = modelmux(&["render", "--istio", "--config", &config]);
    assert_eq!(code, 2);
    assert!(err.contains("--wasm-url"), "{err}");
    let (code, _, err) = render_istio(&["--wasm-sha256", "abc"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--wasm-sha256 abc: not 64 hex digits"),
        "{err}"
    );
    let (code, _, err) = render_istio(&["--wasm", "/nonexistent/modelmux.wasm"]);
    assert_eq!(code, 2);
    assert!(err.contains("--wasm /nonexistent/modelmux.wasm"), "{err}");
    let (code, _, err) = modelmux(&["render", "--config", &config, "--wasm-url", URL]);
    assert_eq!(code, 2);
    assert!(err.contains("go with --istio"), "{err}");
}

/// The shipped manifests are the render of the shipped config (`make configs`).
#[test]
fn shipped_istio_manifests_are_the_render_of_envoy_istio_json() {
    let (code, out, err) = render_istio(&["--wasm-sha256", ZERO_SHA]);
    assert_eq!(code, 0, "{err}");
    let shipped =
        std::fs::read_to_string(format!("{ROOT}/envoy/istio/modelmux.yaml")).expect("shipped");
    assert_eq!(docs(&shipped), docs(&out), "run `make configs`");
}

#[test]
fn check_reads_istio_manifests_and_finds_planted_mistakes() {
    let shipped =
        std::fs::read_to_string(format!("{ROOT}/envoy/istio/modelmux.yaml")).expect("shipped");
    let config = format!("{ROOT}/envoy/istio.json");
    let path = temp("ok.yaml", &shipped);
    let (code, out, _) = modelmux(&["check", "--envoy", &path, "--config", &config]);
    assert_eq!((code, out.trim()), (0, "ok"));

    // A rotation cluster renamed: the failover model loses it.
    let broken = temp(
        "renamed.yaml",
        &shipped.replace("name: modelmux_smart_1\n", "name: modelmux_smart_9\n"),
    );
    let (code, out, _) = modelmux(&["check", "--envoy", &broken]);
    assert_eq!(code, 1);
    assert!(
        out.contains("clusters[modelmux_smart_1]: missing (rotation 1 of failover model `smart`)"),
        "{out}"
    );

    // The fetch cluster dropped: the module cannot be fetched.
    let no_fetch = temp(
        "nofetch.yaml",
        &shipped.replace("name: modelmux_wasm_fetch\n", "name: elsewhere\n"),
    );
    let (code, out, _) = modelmux(&["check", "--envoy", &no_fetch]);
    assert_eq!(code, 1);
    assert!(
        out.contains("cluster `modelmux_wasm_fetch` is not added by any EnvoyFilter CLUSTER patch"),
        "{out}"
    );

    // The WasmPlugin variant applied as well: hangs, and runs twice.
    let plugin = std::fs::read_to_string(format!(
        "{ROOT}/envoy/istio/wasmplugin-variant/wasmplugin.yaml"
    ))
    .expect("variant");
    let both = temp("both.yaml", &format!("{shipped}---\n{plugin}"));
    let (code, out, _) = modelmux(&["check", "--envoy", &both]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "WasmPlugin/modelmux: Istio's WasmPlugin cannot set allow_on_headers_stop_iteration"
        ),
        "{out}"
    );
    assert!(out.contains("WasmPlugin/modelmux: the modelmux filter is also inserted by an EnvoyFilter: it would run twice"), "{out}");

    // The variant's own filter JSON is checked too.
    let typo = temp(
        "typo.yaml",
        &plugin.replace("    - name: gpt-4o-mini\n", "    - nmae: gpt-4o-mini\n"),
    );
    let (code, out, _) = modelmux(&["check", "--envoy", &typo]);
    assert_eq!(code, 1);
    assert!(
        out.contains("WasmPlugin/modelmux.spec.pluginConfig: "),
        "{out}"
    );
    assert!(out.contains("nmae"), "{out}");
    let (_, out, _) = modelmux(&["check", "--envoy", &temp("plugin.yaml", &plugin)]);
    assert!(!out.contains("pluginConfig"), "{out}");
}

/// Health-checked rotation clusters keep an ejection for its whole time on
/// Istio too; check finds the flag flipped in the manifests.
#[test]
fn render_istio_health_checks_do_not_uneject_and_check_finds_it() {
    let mut cfg: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{ROOT}/envoy/istio.json")).expect("config"),
    )
    .expect("json");
    for p in cfg["providers"].as_array_mut().expect("providers") {
        // SaaS providers get a check only with the statuses that mean up.
        p["health_check"] =
            serde_json::json!({"path": "/v1/models", "expected_statuses": [200, 401]});
    }
    let path = temp("health.json", &cfg.to_string());
    let args = ["render", "--istio", "--config", &path, "--wasm-url", URL];
    let (code, out, err) = modelmux(&[&args[..], &["--wasm-sha256", ZERO_SHA]].concat());
    assert_eq!(code, 0, "{err}");
    let docs = docs(&out);
    let rotation = patches(&docs, "CLUSTER")
        .into_iter()
        .map(|p| &p["patch"]["value"])
        .find(|c| c["name"] == "modelmux_smart_0")
        .expect("rotation cluster");
    assert!(rotation["health_checks"]
        .as_array()
        .is_some_and(|h| !h.is_empty()));
    let key = "successful_active_health_check_uneject_host";
    assert_eq!(rotation["outlier_detection"][key], false);
    let flipped = temp(
        "uneject.yaml",
        &out.replace(&format!("{key}: false"), &format!("{key}: true")),
    );
    let (code, found, _) = modelmux(&["check", "--envoy", &flipped]);
    assert_eq!(code, 1);
    assert!(
        found.contains("clusters[modelmux_smart_0].outlier_detection: [health-check-uneject]"),
        "{found}"
    );
}

/// The stats tags the Istio gateway gets (bootstrap override ConfigMap) are
/// the plain render's.
#[test]
fn istio_bootstrap_override_has_the_rendered_stats_tags() {
    let shipped =
        std::fs::read_to_string(format!("{ROOT}/envoy/istio/modelmux.yaml")).expect("shipped");
    let docs = docs(&shipped);
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("ConfigMap");
    assert_eq!(cm["metadata"]["name"], "modelmux-bootstrap");
    let text = cm["data"]["custom_bootstrap.json"].as_str().expect("json");
    let bootstrap: Value = serde_json::from_str(text).expect("json");
    let (code, plain, err) = modelmux(&["render", "--config", &format!("{ROOT}/envoy/istio.json")]);
    assert_eq!(code, 0, "{err}");
    let plain: Value = serde_yaml::from_str(&plain).expect("yaml");
    assert_eq!(
        bootstrap["stats_config"]["stats_tags"],
        plain["stats_config"]["stats_tags"]
    );
}

/// A config file in a per-test temp dir.
fn write_config(test: &str, name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("modelmux-cli-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// OpenAI (SaaS) and a self-hosted vLLM, both with a health check.
fn saas_and_local(openai_check: serde_json::Value) -> String {
    serde_json::json!({
        "providers": [
            {"name": "openai", "type": "openai", "cluster": "openai", "host": "api.openai.com",
             "api_key_env": "OPENAI_API_KEY", "health_check": openai_check},
            {"name": "vllm", "type": "openai", "cluster": "vllm", "host": "10.0.0.7:8000",
             "health_check": {"path": "/health"}}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "openai", "model": "gpt-4o"}]},
            {"name": "llama", "targets": [{"provider": "vllm", "model": "llama"}]}
        ]
    })
    .to_string()
}

fn rendered_cluster(yaml: &str, name: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_yaml::from_str(yaml).expect("rendered YAML");
    doc["static_resources"]["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

/// A SaaS API answers an unauthenticated health check 401: render checks
/// only the self-hosted endpoint and says why the SaaS one has none.
#[test]
fn render_gives_saas_providers_no_health_check_unless_statuses_are_listed() {
    let cfg = write_config(
        "saas-hc",
        "c.json",
        &saas_and_local(serde_json::json!({"path": "/v1/models"})),
    );
    let (code, yaml, stderr) = modelmux(&["render", "--config", cfg.to_str().unwrap_or("")]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        rendered_cluster(&yaml, "openai")["health_checks"],
        serde_json::Value::Null
    );
    assert!(yaml.contains("# No health_checks: a SaaS API answers an unauthenticated"));
    let vllm = rendered_cluster(&yaml, "vllm");
    assert_eq!(
        vllm["health_checks"][0]["http_health_check"],
        serde_json::json!({"path": "/health"})
    );

    let listed = serde_json::json!({"path": "/v1/models", "expected_statuses": [200, 401]});
    let cfg = write_config("saas-hc", "listed.json", &saas_and_local(listed));
    let (code, yaml, stderr) = modelmux(&["render", "--config", cfg.to_str().unwrap_or("")]);
    assert_eq!(code, 0, "{stderr}");
    let openai = rendered_cluster(&yaml, "openai");
    assert_eq!(
        openai["health_checks"][0]["http_health_check"],
        serde_json::json!({"path": "/v1/models",
            "expected_statuses": [{"start": 200, "end": 201}, {"start": 401, "end": 402}]})
    );
}

/// `check` flags a hand-written check against a SaaS host that expects
/// only 200 and sends no key; the rendered config passes.
#[test]
fn check_flags_a_hand_written_saas_health_check_expecting_200() {
    let cfg = write_config(
        "saas-check",
        "c.json",
        &saas_and_local(serde_json::json!({"path": "/v1/models"})),
    );
    let cfg_arg = cfg.to_str().unwrap_or("");
    let (code, yaml, stderr) = modelmux(&["render", "--config", cfg_arg]);
    assert_eq!(code, 0, "{stderr}");
    let clean = write_config("saas-check", "clean.yaml", &yaml);
    let (code, out, err) = modelmux(&[
        "check",
        "--envoy",
        clean.to_str().unwrap_or(""),
        "--config",
        cfg_arg,
    ]);
    assert_eq!(code, 0, "{out}{err}");

    let mut doc: serde_json::Value = serde_yaml::from_str(&yaml).expect("rendered YAML");
    let clusters = doc["static_resources"]["clusters"]
        .as_array_mut()
        .expect("clusters");
    let openai = clusters
        .iter_mut()
        .find(|c| c["name"] == "openai")
        .expect("openai cluster");
    openai["health_checks"] = serde_json::json!([{"timeout": "1s", "interval": "5s",
        "unhealthy_threshold": 2, "healthy_threshold": 1,
        "http_health_check": {"path": "/v1/models"}}]);
    let planted = write_config("saas-check", "planted.yaml", &doc.to_string());
    let (code, out, err) = modelmux(&[
        "check",
        "--envoy",
        planted.to_str().unwrap_or(""),
        "--config",
        cfg_arg,
    ]);
    assert_ne!(code, 0);
    let report = format!("{out}{err}");
    assert!(
        report.contains("clusters[openai].health_checks[0]: [health-check-saas] provider `openai` is a SaaS API"),
        "{report}"
    );
    assert!(!report.contains("clusters[vllm]"), "{report}");
}

/// The README's first-deployment section shows `envoy/minimal.json`
/// compacted; it must stay the same config (compared as JSON values).
#[test]
fn the_readme_shows_envoy_minimal_json() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let file = std::fs::read_to_string(root.join("envoy/minimal.json")).expect("minimal.json");
    let section = readme
        .split("\n## Deploy with your own keys\n")
        .nth(1)
        .expect("the deploy section");
    let shown = section
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a json block in the deploy section");
    let shown: serde_json::Value = serde_json::from_str(shown).expect("the README's JSON");
    let file: serde_json::Value = serde_json::from_str(&file).expect("minimal.json");
    assert_eq!(shown, file);
}
