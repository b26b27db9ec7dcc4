use super::*;
use crate::config::Config;
use crate::providers::auth::AuthEnv;
use crate::split::Picks;
use serde_json::{json, Value};

fn cfg() -> Config {
    let v = json!({
        "providers": [
            {"name": "oa", "type": "openai", "cluster": "c_oa", "host": "oa.example:8080", "base_path": "/api/v1", "api_key_env": "K"},
            {"name": "an", "type": "anthropic", "cluster": "c_an", "host": "an.example", "api_key_env": "K"}
        ],
        "models": [
            {"name": "gpt", "targets": [{"provider": "oa", "model": "gpt-4o"}]},
            {"name": "claude", "targets": [{"provider": "an", "model": "claude-x"}], "owned_by": "anthropic"}
        ]
    });
    Config::from_json(v.to_string().as_bytes(), &|_| Some("key".to_string())).unwrap()
}

#[test]
fn classifies_paths() {
    assert_eq!(
        classify("POST", "/v1/chat/completions"),
        Endpoint::Chat(Dialect::OpenAiChat)
    );
    assert_eq!(
        classify("POST", "/v1/chat/completions?x=1"),
        Endpoint::Chat(Dialect::OpenAiChat)
    );
    assert_eq!(classify("GET", "/v1/models/"), Endpoint::Models);
    assert_eq!(classify("GET", "/healthz"), Endpoint::Other);
    assert_eq!(
        classify("GET", "/v1/models/gpt"),
        Endpoint::Model("gpt".to_string())
    );
    match classify("POST", "/v1/completions") {
        Endpoint::Reject(e) => assert_eq!((e.status, e.code), (404, Some("unknown_url"))),
        other => panic!("{other:?}"),
    }
    match classify("GET", "/v1/chat/completions") {
        Endpoint::Reject(e) => assert_eq!(e.status, 405),
        other => panic!("{other:?}"),
    }
}

#[test]
fn routes_to_cluster_and_path() {
    let c = cfg();
    let body = br#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
    let r = route_chat(&c, body, &Picks::default(), AuthEnv::at(0)).unwrap();
    assert_eq!((r.cluster, r.authority), ("c_oa", "oa.example:8080"));
    assert_eq!(r.outbound.path, "/api/v1/chat/completions");
    assert_eq!(r.model_idx, 0);
    let sent: Value = serde_json::from_slice(r.outbound.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["model"], json!("gpt-4o"));
}

#[test]
fn unknown_model_is_404() {
    let c = cfg();
    let body = br#"{"model":"nope","messages":[{"role":"user","content":"hi"}]}"#;
    let e = route_chat(&c, body, &Picks::default(), AuthEnv::at(0)).unwrap_err();
    assert_eq!(e.error.status, 404);
    assert_eq!(e.error.code, Some("model_not_found"));
    assert_eq!(e.model_idx, None);
}

#[test]
fn lists_models() {
    let v: Value = serde_json::from_slice(&models_json(&cfg(), 7)).unwrap();
    assert_eq!(
        v,
        json!({"object": "list", "data": [
            {"id": "gpt", "object": "model", "created": 7, "owned_by": "modelmux"},
            {"id": "claude", "object": "model", "created": 7, "owned_by": "anthropic"}
        ]})
    );
}

#[test]
fn retrieves_one_model() {
    let v: Value = serde_json::from_slice(&model_json(&cfg(), "claude", 7).unwrap()).unwrap();
    assert_eq!(
        v,
        json!({"id": "claude", "object": "model", "created": 7, "owned_by": "anthropic"})
    );
    let e = model_json(&cfg(), "nope", 7).unwrap_err();
    assert_eq!((e.status, e.code), (404, Some("model_not_found")));
}

#[test]
fn classifies_embeddings() {
    assert_eq!(classify("POST", "/v1/embeddings"), Endpoint::Embeddings);
    assert_eq!(
        classify("POST", "/v1/embeddings/?a=b"),
        Endpoint::Embeddings
    );
    for method in ["GET", "PUT", "DELETE"] {
        match classify(method, "/v1/embeddings") {
            Endpoint::Reject(e) => {
                assert_eq!((e.status, e.code), (405, Some("method_not_allowed")))
            }
            other => panic!("{method}: {other:?}"),
        }
    }
    match classify("POST", "/v1/embeddings/x") {
        Endpoint::Reject(e) => assert_eq!(e.status, 404),
        other => panic!("{other:?}"),
    }
}

#[test]
fn routes_embeddings_and_refuses_chat_only_providers() {
    let c = cfg();
    let body = br#"{"model":"gpt","input":"hi"}"#;
    let r = route(
        &c,
        Operation::Embeddings,
        body,
        &Picks::default(),
        AuthEnv::at(0),
    )
    .unwrap();
    assert_eq!(r.outbound.path, "/api/v1/embeddings");
    let sent: Value = serde_json::from_slice(r.outbound.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent, json!({"model": "gpt-4o", "input": "hi"}));
    let e = route(
        &c,
        Operation::Embeddings,
        br#"{"model":"claude","input":"hi"}"#,
        &Picks::default(),
        AuthEnv::at(0),
    )
    .unwrap_err();
    assert_eq!(
        (e.error.status, e.error.param.as_deref()),
        (400, Some("model"))
    );
    assert_eq!((e.model_idx, e.target_idx), (Some(1), Some(0)));
    let e = route(
        &c,
        Operation::Embeddings,
        br#"{"model":"nope","input":"hi"}"#,
        &Picks::default(),
        AuthEnv::at(0),
    )
    .unwrap_err();
    assert_eq!(e.error.code, Some("model_not_found"));
    // A chat body is not an embeddings request, and the other way round.
    let chat = br#"{"model":"gpt","messages":[{"role":"user","content":"hi"}]}"#;
    let e = route(
        &c,
        Operation::Embeddings,
        chat,
        &Picks::default(),
        AuthEnv::at(0),
    )
    .unwrap_err();
    assert_eq!(e.error.status, 400);
    assert_eq!(e.model_idx, None);
    let e = route_chat(&c, body, &Picks::default(), AuthEnv::at(0)).unwrap_err();
    assert_eq!(e.error.param.as_deref(), Some("messages"));
}

#[test]
fn embeddings_body_errors_name_the_field() {
    let e = Request::parse(Operation::Embeddings, br#"{"model":"m","input":[]}"#).unwrap_err();
    assert_eq!(e.param.as_deref(), Some("input"));
    let e = Request::parse(
        Operation::Embeddings,
        br#"{"model":"m","input":"x","dimensions":"a"}"#,
    )
    .unwrap_err();
    assert_eq!(e.param.as_deref(), Some("dimensions"));
    let r = Request::parse(Operation::Embeddings, br#"{"model":"m","input":[1,2]}"#).unwrap();
    assert_eq!((r.model(), r.operation()), ("m", Operation::Embeddings));
}
