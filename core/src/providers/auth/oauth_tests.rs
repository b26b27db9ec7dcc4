use serde_json::json;

use super::*;
use crate::providers::auth::jwt::tests::{test_key, TEST_KEY};

fn compile(raw: serde_json::Value, key: Option<String>) -> Result<Source, ConfigError> {
    let raw: RawSource = serde_json::from_value(raw).unwrap();
    let env = move |name: &str| (name == "SA").then(|| key.clone()).flatten();
    raw.compile("vx", &env, "$.providers[0].auth")
}

fn key_json(private_key: &str) -> String {
    json!({"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com",
        "private_key_id": "k1", "private_key": private_key,
        "token_uri": "https://oauth2.googleapis.com/token"})
    .to_string()
}

fn sa() -> serde_json::Value {
    json!({"source": "service_account", "key_env": "SA", "cluster": "google_oauth"})
}

#[test]
fn a_service_account_key_is_parsed_once_at_load() {
    let s = compile(sa(), Some(key_json(TEST_KEY))).unwrap();
    assert_eq!(s.authority, "oauth2.googleapis.com");
    let SourceKind::ServiceAccount(a) = &s.kind else {
        panic!("{s:?}")
    };
    assert_eq!(a.key, test_key());
    assert_eq!(a.token_path, "/token");
    assert_eq!(a.client_email, "a@b.iam.gserviceaccount.com");
    assert!(!format!("{s:?}").contains("PRIVATE"));
}

#[test]
fn bad_keys_are_config_errors_naming_key_env() {
    let garbled = TEST_KEY.replace("MII", "AAA");
    let cases = [
        (None, "environment variable `SA` is not set"),
        (
            Some("{".to_string()),
            "`SA` is not a service-account JSON key",
        ),
        (
            Some(key_json(&garbled)),
            "`SA`: private_key is not a PKCS#8 PEM RSA key",
        ),
        (
            Some(key_json("-----BEGIN RSA PRIVATE KEY-----")),
            "`SA`: private_key is not",
        ),
    ];
    for (key, want) in cases {
        let e = compile(sa(), key).unwrap_err();
        assert_eq!(e.path, "$.providers[0].auth.key_env");
        assert!(e.message.starts_with(want), "{}", e.message);
        assert!(!e.message.contains("AAA"), "{}", e.message);
    }
    let e = compile(json!({"source": "metadata", "cluster": ""}), None).unwrap_err();
    assert_eq!(e.path, "$.providers[0].auth.cluster");
    let unknown: Result<RawSource, _> =
        serde_json::from_value(json!({"source": "metadata", "cluster": "c", "scopes": "x"}));
    assert!(unknown
        .unwrap_err()
        .to_string()
        .contains("unknown field `scopes`"));
}

#[test]
fn grants_parse_and_tolerate_unknown_fields() {
    let g = parse_grant(
        200,
        br#"{"access_token":"ya29.a","expires_in":3599,"token_type":"Bearer","scope":"x","id_token":"y"}"#,
    )
    .unwrap();
    assert_eq!(
        g,
        Grant {
            token: "ya29.a".into(),
            expires_in_s: 3599
        }
    );
    assert_eq!(
        format!("{g:?}"),
        r#"Grant { token: "***", expires_in_s: 3599 }"#
    );
    let g = parse_grant(200, br#"{"access_token":"t","expires_in":3600.0}"#).unwrap();
    assert_eq!(g.expires_in_s, 3600);
}

#[test]
fn bad_grants_give_short_reasons_without_the_body() {
    let cases: [(u16, &[u8], &str); 9] = [
        (
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
            "status 400 (invalid_grant)",
        ),
        (500, b"<html>internal detail</html>", "status 500"),
        (403, br#"{"error":"has spaces in it"}"#, "status 403"),
        (200, br#"{"expires_in":3600}"#, "no access_token"),
        (
            200,
            br#"{"access_token":"a b","expires_in":3600}"#,
            "access_token has characters a header cannot carry",
        ),
        (
            200,
            br#"{"access_token":"t","expires_in":3600,"token_type":"N_A"}"#,
            "token_type `N_A` is not Bearer",
        ),
        (200, br#"{"access_token":"t"}"#, "no expires_in"),
        (
            200,
            br#"{"access_token":"t","expires_in":-5}"#,
            "expires_in 0 s is outside 60..=43200",
        ),
        (
            200,
            br#"{"access_token":"t","expires_in":99999}"#,
            "expires_in 99999 s is outside 60..=43200",
        ),
    ];
    for (status, body, want) in cases {
        assert_eq!(parse_grant(status, body).unwrap_err(), want);
    }
}

#[test]
fn no_token_is_a_503_openai_error() {
    let e = no_token("vx");
    assert_eq!(e.status, 503);
    let v: serde_json::Value = serde_json::from_slice(&e.to_json()).unwrap();
    assert_eq!(v["error"]["code"], "credentials_unavailable");
    assert_eq!(v["error"]["type"], "service_unavailable");
}
