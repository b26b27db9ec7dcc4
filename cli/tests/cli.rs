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
