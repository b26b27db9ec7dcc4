//! Token counting on the Gemini and Vertex mocks (Anthropic's is in
//! `anthropic::cc_tests`): the count equals the prompt tokens a generate
//! request with the same input reports, and bodies are validated.

use serde_json::{json, Value};

use crate::faults::{Body, Faults, Response};
use crate::server::{Listener, Provider};
use crate::test_support::post;

fn json_of(r: &Response) -> (u16, Value) {
    match &r.body {
        Body::Json(b) => (r.status, serde_json::from_slice(b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

fn gemini(target: &str, body: &Value) -> (u16, Value) {
    let state = Listener::new(Provider::Gemini, "k");
    let req = post(target, &[("x-goog-api-key", "k")], body, &[]);
    json_of(&crate::gemini::handle(&state, &req, &Faults::default()))
}

const COUNT: &str = "/v1beta/models/gemini-2.5-flash:countTokens";

#[test]
fn gemini_count_tokens() {
    let contents = json!([{"role": "user", "parts": [{"text": "one two three four"}]}]);
    let gen = json!({"contents": contents, "systemInstruction": {"parts": [{"text": "be brief"}]}});
    let (_, reply) = gemini("/v1beta/models/gemini-2.5-flash:generateContent", &gen);
    let prompt = reply["usageMetadata"]["promptTokenCount"].clone();
    assert_eq!(prompt, 6);
    let (status, v) = gemini(COUNT, &json!({"contents": contents}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"totalTokens": 4, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 4}]})
    );
    let mut whole = gen.clone();
    whole["model"] = json!("models/gemini-2.5-flash");
    let (status, v) = gemini(COUNT, &json!({"generateContentRequest": whole}));
    assert_eq!((status, v["totalTokens"].clone()), (200, prompt));
    let (status, v) = gemini(
        COUNT,
        &json!({"contents": contents, "generateContentRequest": whole}),
    );
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
    let (status, _) = gemini(COUNT, &json!({"generateContentRequest": gen}));
    assert_eq!(status, 400);
    let (status, v) = gemini(COUNT, &json!({"contents": contents, "maxTokens": 3}));
    assert_eq!(status, 400);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maxTokens"),
        "{v}"
    );
    let (status, _) = gemini(
        COUNT,
        &json!({"contents": [{"role": "user", "parts": [{"txt": "x"}]}]}),
    );
    assert_eq!(status, 400);
}

fn vertex(target: &str, body: &Value) -> (u16, Value) {
    let mut l = Listener::new(Provider::Vertex, "");
    l.vertex = crate::vertex::State::new("proj-1", None, 3599, Some("tok")).unwrap();
    let req = post(target, &[("authorization", "Bearer tok")], body, &[]);
    json_of(&crate::vertex::handle(&l, &req, &Faults::default()))
}

const VERTEX: &str = "/v1/projects/proj-1/locations/us-east5/publishers";

#[test]
fn vertex_count_tokens() {
    let contents = json!([{"role": "user", "parts": [{"text": "one two three"}]}]);
    let target = format!("{VERTEX}/google/models/gemini-2.5-flash:countTokens");
    let (status, v) = vertex(&target, &json!({"contents": contents}));
    assert_eq!((status, v["totalTokens"].clone()), (200, json!(3)), "{v}");

    let target = format!("{VERTEX}/anthropic/models/count-tokens:rawPredict");
    let msgs = json!([{"role": "user", "content": "one two three four five"}]);
    let body = json!({"model": "claude-sonnet-4@20250514", "messages": msgs});
    let (status, v) = vertex(&target, &body);
    assert_eq!((status, v), (200, json!({"input_tokens": 5})));
    let mut versioned = body.clone();
    versioned["anthropic_version"] = json!("vertex-2023-10-16");
    assert_eq!(vertex(&target, &versioned).0, 200);
    versioned["anthropic_version"] = json!("2023-06-01");
    assert_eq!(vertex(&target, &versioned).0, 400);
    let (status, v) = vertex(&target, &json!({"messages": msgs}));
    assert_eq!(status, 400);
    assert_eq!(v["error"]["message"], "model: Field required");
    let (status, v) = vertex(
        &target,
        &json!({"model": "m", "messages": msgs, "max_tokens": 5}),
    );
    assert_eq!(status, 400);
    assert_eq!(
        v["error"]["message"],
        "max_tokens: Extra inputs are not permitted"
    );
}

fn bedrock(body: &Value) -> (u16, Value) {
    let state = Listener::new(Provider::Bedrock, "bk");
    let target = "/model/anthropic.claude-sonnet-4-v1%3A0/count-tokens";
    let req = post(target, &[("authorization", "Bearer bk")], body, &[]);
    json_of(&crate::bedrock::handle(&state, &req, &Faults::default()))
}

fn b64(v: &Value) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(v.to_string().as_bytes())
}

#[test]
fn bedrock_count_tokens() {
    let converse = json!({
        "messages": [{"role": "user", "content": [{"text": "one two three"}]}],
        "system": [{"text": "be brief"}],
    });
    let (status, v) = bedrock(&json!({"input": {"converse": converse}}));
    assert_eq!((status, v), (200, json!({"inputTokens": 5})));
    let mut bad = converse.clone();
    bad["inferenceConfig"] = json!({"maxTokens": 5});
    let (status, v) = bedrock(&json!({"input": {"converse": bad}}));
    assert_eq!(status, 400);
    assert!(
        v["message"].as_str().unwrap().contains("inferenceConfig"),
        "{v}"
    );
    let (status, _) = bedrock(&json!({"input": {"converse": {"messages": [{"role": "user"}]}}}));
    assert_eq!(status, 400);

    let invoke = json!({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10,
                        "messages": [{"role": "user", "content": "one two three four"}]});
    let (status, v) = bedrock(&json!({"input": {"invokeModel": {"body": b64(&invoke)}}}));
    assert_eq!((status, v), (200, json!({"inputTokens": 4})));
    let mut wrong = invoke.clone();
    wrong["anthropic_version"] = json!("2023-06-01");
    let (status, _) = bedrock(&json!({"input": {"invokeModel": {"body": b64(&wrong)}}}));
    assert_eq!(status, 400);
    let (status, _) = bedrock(&json!({"input": {"invokeModel": {"body": "%%%"}}}));
    assert_eq!(status, 400);
    let both = json!({"input": {"converse": converse, "invokeModel": {"body": b64(&invoke)}}});
    assert_eq!(bedrock(&both).0, 400);
    assert_eq!(bedrock(&json!({})).0, 400);
}
