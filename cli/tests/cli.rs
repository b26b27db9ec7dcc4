//! The `modelmux` binary as a shell sees it: exit codes and messages.

#![allow(clippy::expect_used)]

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
