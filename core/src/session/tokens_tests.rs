use std::rc::Rc;

use serde_json::{json, Value};

use super::*;
use crate::config::Config;
use crate::providers::auth::jwt::tests::TEST_KEY;
use crate::providers::auth::oauth::{RawSource, METADATA_TOKEN_PATH};
use crate::session::tests::fake::MemoryStore;
use crate::session::tests::router::{respond, run, Answer};

const T0: u64 = 1_700_000_000_000;

fn sa_key_json() -> String {
    json!({
        "type": "service_account",
        "client_email": "gw@proj.iam.gserviceaccount.com",
        "private_key_id": "kid-1",
        "private_key": TEST_KEY,
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    .to_string()
}

/// `vx` fetches its token (metadata server unless `sa`); `oa` has a key.
fn config(sa: bool) -> Config {
    let v = json!({
        "providers": [
            {"name": "vx", "type": "openai", "cluster": "c_vx", "host": "vx.test"},
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.test", "api_key_env": "OA"}
        ],
        "models": [
            {"name": "solo", "targets": [{"provider": "vx", "model": "gemini-x"}]},
            {"name": "duo", "targets": [{"provider": "vx", "model": "gemini-x"}, {"provider": "oa", "model": "gpt-4o"}]}
        ]
    });
    let env = |name: &str| match name {
        "SA" => Some(sa_key_json()),
        _ => Some(format!("key-{name}")),
    };
    let mut cfg = Config::from_json(v.to_string().as_bytes(), &env).unwrap();
    let raw = if sa {
        json!({"source": "service_account", "key_env": "SA", "cluster": "google_oauth"})
    } else {
        json!({"source": "metadata", "cluster": "gcp_metadata"})
    };
    let raw: RawSource = serde_json::from_value(raw).unwrap();
    let source = raw.compile("vx", &env, "$.providers[0].auth").unwrap();
    cfg.providers[0].auth = Auth::OAuth(Box::new(source));
    cfg
}

fn worker_on(store: Rc<MemoryStore>, sa: bool) -> Worker {
    Worker::new(config(sa), Box::new(store), T0, 7)
}

fn worker() -> Worker {
    worker_on(Rc::new(MemoryStore::default()), false)
}

fn grant(token: &str, expires_in: u64) -> Vec<u8> {
    json!({"access_token": token, "expires_in": expires_in, "token_type": "Bearer", "id_token": "ignored"})
        .to_string()
        .into_bytes()
}

fn owned(headers: &[(&'static str, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Fetches at `now` and answers every call with `status`/`body`.
fn fetch_and_answer(w: &Worker, now: u64, status: u16, body: &[u8]) -> usize {
    let calls = w.token_fetches(now);
    for c in &calls {
        w.token_response(&c.slot, status, body, now);
    }
    calls.len()
}

#[test]
fn first_fetch_goes_out_at_once_to_the_metadata_server() {
    let w = worker();
    assert!(w.tokens_missing(T0));
    let calls = w.token_fetches(T0);
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.slot, "vx");
    assert_eq!(c.call.cluster, "gcp_metadata");
    assert_eq!(
        owned(&c.call.headers),
        pairs(&[
            (":method", "GET"),
            (":path", METADATA_TOKEN_PATH),
            (":authority", "metadata.google.internal"),
            ("metadata-flavor", "Google"),
            ("accept", "application/json"),
        ])
    );
    assert_eq!(c.call.body, None);
    assert_eq!(c.call.timeout_ms, 10_000);
    // One call in flight per slot: later ticks wait for its answer.
    assert!(w.token_fetches(T0 + 200).is_empty());
    assert!(w.token_fetches(T0 + 9_000).is_empty());
    w.token_response("vx", 200, &grant("ya29.first", 3600), T0 + 300);
    w.tick(T0 + 300);
    assert_eq!(w.token("vx").as_deref(), Some("ya29.first"));
    assert!(!w.tokens_missing(T0 + 300));
    assert_eq!(w.stats.pending("modelmux.p.vx.token_refreshes"), 1);
    assert_eq!(w.stats.pending("modelmux.p.vx.token_failures"), 0);
    let notes = w.token_notes();
    assert_eq!(notes.len(), 1);
    assert!(!notes[0].1.contains("ya29"), "{notes:?}");
}

#[test]
fn service_account_posts_a_signed_assertion_to_the_token_uri() {
    let w = worker_on(Rc::new(MemoryStore::default()), true);
    let calls = w.token_fetches(T0 + 999);
    assert_eq!(calls.len(), 1);
    let call = &calls[0].call;
    assert_eq!(call.cluster, "google_oauth");
    let body = String::from_utf8(call.body.clone().unwrap()).unwrap();
    assert_eq!(
        owned(&call.headers),
        pairs(&[
            (":method", "POST"),
            (":path", "/token"),
            (":authority", "oauth2.googleapis.com"),
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", &body.len().to_string()),
            ("accept", "application/json"),
        ])
    );
    let (grant_type, assertion) = body.split_once('&').unwrap();
    assert_eq!(
        grant_type,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
    );
    let jwt = assertion.strip_prefix("assertion=").unwrap();
    let Auth::OAuth(src) = &w.cfg.providers[0].auth else {
        panic!()
    };
    let SourceKind::ServiceAccount(sa) = &src.kind else {
        panic!()
    };
    let claims = crate::providers::auth::jwt::tests::verified_claims(&sa.key, jwt);
    assert_eq!(
        claims,
        json!({
            "iss": "gw@proj.iam.gserviceaccount.com",
            "scope": "https://www.googleapis.com/auth/cloud-platform",
            "aud": "https://oauth2.googleapis.com/token",
            "iat": T0 / 1000,
            "exp": T0 / 1000 + 3600,
        })
    );
    // No secret in anything that may be printed.
    assert!(!format!("{:?}", calls[0]).contains(jwt));
    assert!(!format!("{:?}", w.cfg.providers[0]).contains("PRIVATE KEY"));
}

use crate::providers::auth::oauth::SourceKind;

#[test]
fn refresh_at_half_life_or_five_minutes_before_expiry_not_too_often() {
    assert_eq!(refresh_at(0, 3_600_000), 1_800_000);
    assert_eq!(refresh_at(0, 400_000), 100_000);
    assert_eq!(refresh_at(0, 300_000), MIN_REFRESH_MS);
    assert_eq!(refresh_at(0, 60_000), MIN_REFRESH_MS);

    let w = worker();
    assert_eq!(fetch_and_answer(&w, T0, 200, &grant("ya29.a", 3600)), 1);
    assert!(w.token_fetches(T0 + 1_799_999).is_empty());
    let calls = w.token_fetches(T0 + 1_800_000);
    assert_eq!(calls.len(), 1, "refresh at half the lifetime");
    // The old token is still sent while the refresh is in flight.
    w.tick(T0 + 1_800_000);
    assert_eq!(w.token("vx").as_deref(), Some("ya29.a"));
    let t1 = T0 + 1_800_000;
    // The metadata server hands back its cached token with 400 s left.
    w.token_response("vx", 200, &grant("ya29.a", 400), t1);
    assert!(w.token_fetches(t1 + 99_999).is_empty());
    assert_eq!(
        fetch_and_answer(&w, t1 + 100_000, 200, &grant("ya29.a", 300)),
        1
    );
    let t2 = t1 + 100_000;
    assert!(w.token_fetches(t2 + MIN_REFRESH_MS - 1).is_empty());
    assert_eq!(
        fetch_and_answer(&w, t2 + MIN_REFRESH_MS, 200, &grant("ya29.b", 3599)),
        1
    );
    w.tick(t2 + MIN_REFRESH_MS);
    assert_eq!(w.token("vx").as_deref(), Some("ya29.b"));
    assert_eq!(w.stats.pending("modelmux.p.vx.token_refreshes"), 4);
}

#[test]
fn failures_back_off_exponentially_to_thirty_seconds() {
    let w = worker();
    let waits = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000];
    let mut t = T0;
    let body = br#"{"error":"invalid_grant","error_description":"secret detail"}"#;
    assert_eq!(fetch_and_answer(&w, t, 400, body), 1);
    for wait in waits {
        assert!(w.token_fetches(t + wait - 1).is_empty(), "before {wait}");
        t += wait;
        assert_eq!(fetch_and_answer(&w, t, 503, b"oops"), 1, "after {wait}");
    }
    assert_eq!(w.stats.pending("modelmux.p.vx.token_failures"), 8);
    let notes = w.token_notes();
    assert_eq!(
        notes[0],
        (
            Level::Warn,
            "modelmux: token fetch for `vx` via cluster `gcp_metadata` failed: status 400 (invalid_grant); next try in 1 s".to_string()
        )
    );
    assert!(notes.iter().all(|(_, m)| !m.contains("secret")));
    // A success resets the backoff.
    t += 30_000;
    assert_eq!(fetch_and_answer(&w, t, 200, &grant("ya29.ok", 3600)), 1);
    w.tick(t);
    assert!(w.token("vx").is_some());
    assert!(w.token_fetches(t + 1_000).is_empty());
}

#[test]
fn a_dispatch_failure_or_a_lost_call_counts_and_backs_off() {
    let w = worker();
    assert_eq!(w.token_fetches(T0).len(), 1);
    w.token_failed("vx", T0);
    assert!(w.token_fetches(T0 + 999).is_empty());
    assert_eq!(w.token_fetches(T0 + 1_000).len(), 1);
    // No answer ever comes: the call is given up after its lease.
    assert!(w.token_fetches(T0 + 1_000 + LEASE_MS - 1).is_empty());
    assert!(w.token_fetches(T0 + 1_000 + LEASE_MS).is_empty());
    assert_eq!(w.stats.pending("modelmux.p.vx.token_failures"), 2);
    // A late answer to a call given up, or to no call, is not taken.
    let late = T0 + 1_000 + LEASE_MS + 1_000;
    w.token_response("vx", 200, &grant("ya29.late", 3600), late);
    w.token_response("nobody", 200, &grant("ya29.x", 3600), late);
    w.tick(late);
    assert_eq!(w.token("vx"), None);
    assert_eq!(w.stats.pending("modelmux.p.vx.token_refreshes"), 0);
    assert_eq!(w.token_fetches(late + 1_000).len(), 1);
}

#[test]
fn bad_grants_are_failures() {
    let bodies: [(&[u8], &str); 4] = [
        (
            br#"{"access_token":"","expires_in":3600}"#,
            "no access_token",
        ),
        (
            br#"{"access_token":"t","expires_in":3600,"token_type":"mac"}"#,
            "token_type `mac` is not Bearer",
        ),
        (br#"{"access_token":"t","expires_in":5}"#, "expires_in 5 s"),
        (b"<html>", "not a token response"),
    ];
    for (body, reason) in bodies {
        let w = worker();
        assert_eq!(fetch_and_answer(&w, T0, 200, body), 1);
        w.tick(T0);
        assert_eq!(w.token("vx"), None);
        let notes = w.token_notes();
        assert!(notes[0].1.contains(reason), "{notes:?}");
    }
}

#[test]
fn one_worker_fetches_and_every_worker_uses_the_token() {
    let store = Rc::new(MemoryStore::default());
    let (w1, w2) = (
        worker_on(Rc::clone(&store), false),
        worker_on(Rc::clone(&store), false),
    );
    assert_eq!(w1.token_fetches(T0).len(), 1);
    assert!(w2.token_fetches(T0).is_empty(), "w1 holds the lease");
    assert!(w2.token_fetches(T0 + 5_000).is_empty());
    w1.token_response("vx", 200, &grant("ya29.shared", 3600), T0 + 5_000);
    w2.tick(T0 + 5_000);
    assert_eq!(w2.token("vx").as_deref(), Some("ya29.shared"));
    // The refresh time is shared too: neither refreshes early.
    assert!(w2.token_fetches(T0 + 60_000).is_empty());
    assert!(w1.token_fetches(T0 + 60_000).is_empty());
    let due = T0 + 5_000 + 1_800_000;
    assert_eq!(w2.token_fetches(due).len(), 1);
    assert!(w1.token_fetches(due).is_empty());
    // w2 never answers: once its lease runs out, w1 takes over.
    assert!(w1.token_fetches(due + LEASE_MS - 1).is_empty());
    assert_eq!(w1.token_fetches(due + LEASE_MS).len(), 1);
    // w2's lost call does not end w1's lease.
    assert!(w2.token_fetches(due + LEASE_MS).is_empty());
    assert!(w2.token_fetches(due + LEASE_MS + 3_000).is_empty());
}

#[test]
fn a_backoff_holds_for_every_worker() {
    let store = Rc::new(MemoryStore::default());
    let (w1, w2) = (
        worker_on(Rc::clone(&store), false),
        worker_on(Rc::clone(&store), false),
    );
    assert_eq!(fetch_and_answer(&w1, T0, 500, b""), 1);
    assert!(w2.token_fetches(T0 + 500).is_empty());
    assert_eq!(w2.token_fetches(T0 + 1_000).len(), 1);
}

fn chat(model: &str) -> Vec<u8> {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

const CLIENT: &[(&str, &str)] = &[
    (":method", "POST"),
    (":path", "/v1/chat/completions"),
    (":authority", "gw"),
    ("content-type", "application/json"),
    ("x-request-id", "req-1"),
];

fn ok() -> Answer {
    let body = json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]});
    respond(
        200,
        &[("content-type", "application/json")],
        &[body.to_string().as_bytes()],
    )
}

#[test]
fn without_a_token_the_client_gets_a_503_and_nothing_is_sent() {
    let w = worker();
    let out = run(&w, CLIENT, &chat("solo"), |_, _| {
        panic!("sent unauthenticated")
    });
    assert_eq!(out.status, 503);
    let body: Value = serde_json::from_slice(&out.body).unwrap();
    assert_eq!(body["error"]["code"], "credentials_unavailable");
    assert_eq!(body["error"]["type"], "service_unavailable");
    assert!(out.sent.is_empty());
}

#[test]
fn with_a_token_the_request_carries_it_as_bearer() {
    let w = worker();
    assert_eq!(fetch_and_answer(&w, T0, 200, &grant("ya29.tok", 3600)), 1);
    let out = run(&w, CLIENT, &chat("solo"), |_, _| ok());
    assert_eq!(out.status, 200);
    assert_eq!(out.sent.len(), 1);
    assert_eq!(out.sent[0].header("authorization"), Some("Bearer ya29.tok"));
}

#[test]
fn failover_starts_at_a_target_that_can_authenticate() {
    let w = worker();
    // No token for vx: the request starts on oa, whose key is static.
    for _ in 0..3 {
        let out = run(&w, CLIENT, &chat("duo"), |p, _| match p {
            "oa" => ok(),
            _ => panic!("vx has no token: it must not be first"),
        });
        assert_eq!(out.status, 200);
        assert_eq!(out.sent[0].provider, "oa");
    }
    assert_eq!(fetch_and_answer(&w, T0, 200, &grant("ya29.tok", 3600)), 1);
    let out = run(&w, CLIENT, &chat("duo"), |_, _| ok());
    assert_eq!(out.sent[0].provider, "vx");
    assert_eq!(out.sent[0].header("authorization"), Some("Bearer ya29.tok"));
}

#[test]
fn token_counters_exist_only_for_fetched_credentials() {
    let w = worker();
    let names = w.stats.names();
    assert!(names.iter().any(|n| n == "modelmux.p.vx.token_refreshes"));
    assert!(names.iter().any(|n| n == "modelmux.p.vx.token_failures"));
    assert!(!names.iter().any(|n| n.starts_with("modelmux.p.oa.")));
}

#[test]
fn stored_tokens_expire_with_a_margin() {
    let s = MemoryStore::default();
    assert_eq!(current(&s, "v", 0), None);
    assert!(store(&s, "v", "ya29.tok", 100_000));
    assert_eq!(current(&s, "v", 10_000).as_deref(), Some("ya29.tok"));
    assert_eq!(current(&s, "v", 70_000), None, "inside the margin");
    assert_eq!(current(&s, "other", 10_000), None);
}
