use serde_json::{json, Value};

use super::sigv4::{
    canonical_request, format_amz_date, hex, parse_amz_date, sign, signing_key, string_to_sign,
};
use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};
use sha2::{Digest, Sha256};

const NOW: i64 = 1_764_662_400; // 2025-12-02T08:00:00Z
const PATH: &str = "/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/converse";

/// Signs like an SDK would (sorted signed headers, host included).
fn signed(path: &str, body: &Value, secret: &str, region: &str, at: i64) -> Request {
    let amz = format_amz_date(at);
    let mut req = crate::test_support::post(
        path,
        &[],
        body,
        &[
            ("host", "bedrock-runtime.us-east-1.amazonaws.com"),
            ("x-amz-date", &amz),
        ],
    );
    let names = ["content-type", "host", "x-amz-date"];
    let hash = hex(&Sha256::digest(&req.body));
    let canonical = canonical_request(&req, &names, &hash);
    let day = amz.get(..8).unwrap();
    let scope = format!("{day}/{region}/bedrock/aws4_request");
    let sig = sign(
        &signing_key(secret, day, region, "bedrock"),
        &string_to_sign(&amz, &scope, &canonical),
    );
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDMOCKBEDROCK/{scope}, SignedHeaders={}, Signature={sig}",
        names.join(";")
    );
    req.headers.push(("authorization".into(), auth));
    req
}

fn body() -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": "hi there"}]}]})
}

fn auth(req: &Request) -> Result<(), (u16, String)> {
    let state = Listener::new(Provider::Bedrock, "mock-bedrock-key");
    sigv4::authenticate(&state, req, NOW).map_err(|r| {
        let kind = r
            .headers
            .iter()
            .find(|(n, _)| *n == "x-amzn-errortype")
            .map(|(_, v)| v.clone())
            .unwrap();
        (r.status, kind.split(':').next().unwrap().to_string())
    })
}

#[test]
fn aws_reference_vector() {
    // AWS's documented IAM ListUsers example.
    let canonical_hash = "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n{canonical_hash}"
    );
    let key = signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20150830",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        sign(&key, &to_sign),
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
    assert_eq!(parse_amz_date("20251202T080000Z"), Some(NOW));
    assert_eq!(format_amz_date(NOW), "20251202T080000Z");
}

#[test]
fn signature_accepted_and_rejected() {
    assert_eq!(
        auth(&signed(
            PATH,
            &body(),
            "mock-bedrock-secret",
            "us-east-1",
            NOW
        )),
        Ok(())
    );
    assert_eq!(
        auth(&signed(
            PATH,
            &body(),
            "mock-bedrock-secret",
            "us-east-1",
            NOW - 200
        )),
        Ok(())
    );
    let bad = (403, "InvalidSignatureException".to_string());
    assert_eq!(
        auth(&signed(PATH, &body(), "wrong", "us-east-1", NOW)),
        Err(bad.clone())
    );
    assert_eq!(
        auth(&signed(
            PATH,
            &body(),
            "mock-bedrock-secret",
            "us-west-2",
            NOW
        )),
        Err(bad.clone())
    );
    assert_eq!(
        auth(&signed(
            PATH,
            &body(),
            "mock-bedrock-secret",
            "us-east-1",
            NOW - 400
        )),
        Err(bad.clone())
    );
    let mut tampered = signed(PATH, &body(), "mock-bedrock-secret", "us-east-1", NOW);
    tampered.body.push(b' ');
    assert_eq!(auth(&tampered), Err(bad.clone()));
    let mut path = signed(PATH, &body(), "mock-bedrock-secret", "us-east-1", NOW);
    path.target = PATH.replace("%3A", ":");
    assert_eq!(auth(&path), Err(bad));
    let none = crate::test_support::post(PATH, &[], &body(), &[]);
    assert_eq!(
        auth(&none),
        Err((403, "MissingAuthenticationTokenException".into()))
    );
    let bearer = crate::test_support::post(
        PATH,
        &[("authorization", "Bearer mock-bedrock-key")],
        &body(),
        &[],
    );
    assert_eq!(auth(&bearer), Ok(()));
    let wrong = crate::test_support::post(PATH, &[("authorization", "Bearer nope")], &body(), &[]);
    assert_eq!(auth(&wrong), Err((403, "AccessDeniedException".into())));
}

fn call(path: &str, body: Value, extra: &[(&str, &str)]) -> Response {
    let req = crate::test_support::post(
        path,
        &[("authorization", "Bearer mock-bedrock-key")],
        &body,
        extra,
    );
    let state = Listener::new(Provider::Bedrock, "mock-bedrock-key");
    handle(&state, &req, &Faults::from_request(&req))
}

fn json_of(r: &Response) -> Value {
    match &r.body {
        Body::Json(b) => serde_json::from_slice(b).unwrap(),
        other => panic!("not json: {other:?}"),
    }
}

#[test]
fn converse_text_and_usage() {
    let r = call(PATH, body(), &[]);
    assert_eq!(r.status, 200);
    let v = json_of(&r);
    let want = json!({
        "output": {"message": {"role": "assistant", "content": [{"text": "Mock reply ✓ from anthropic.claude-3-5-sonnet-20241022-v2:0: hi there"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 2, "outputTokens": 7, "totalTokens": 9},
        "metrics": {"latencyMs": 42},
    });
    assert_eq!(v, want);
}

#[test]
fn strict_validation() {
    let cases = [
        json!({"messages": [], "bogus": 1}),
        json!({"messages": []}),
        json!({"messages": [{"role": "assistant", "content": [{"text": "x"}]}]}),
        json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"max_tokens": 3}}),
        json!({"messages": [{"role": "user", "content": [{"text": "x"}]}], "inferenceConfig": {"temperature": 1.5}}),
        json!({"messages": [{"role": "user", "content": [{"text": "x", "image": {}}]}]}),
        json!({"messages": [{"role": "user", "content": [{"text": "a"}]}, {"role": "user", "content": [{"text": "b"}]}]}),
    ];
    for c in cases {
        let r = call(PATH, c.clone(), &[]);
        assert_eq!(r.status, 400, "{c}");
        assert!(
            r.headers
                .iter()
                .any(|(n, v)| *n == "x-amzn-errortype" && v.starts_with("ValidationException:")),
            "{c}"
        );
        assert!(json_of(&r)["message"].is_string());
    }
    let r = call("/model/m/invoke-foo", body(), &[]);
    assert_eq!(r.status, 404);
}

/// Decodes frames, checking both CRCs; returns (headers, payload) pairs.
fn decode(mut bytes: &[u8]) -> Vec<(Vec<(String, String)>, Value)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let total = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
        let hlen = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(
            u32::from_be_bytes(bytes[8..12].try_into().unwrap()),
            eventstream::crc32(&bytes[..8])
        );
        assert_eq!(
            u32::from_be_bytes(bytes[total - 4..total].try_into().unwrap()),
            eventstream::crc32(&bytes[..total - 4])
        );
        let mut h = &bytes[12..12 + hlen];
        let mut headers = Vec::new();
        while !h.is_empty() {
            let n = h[0] as usize;
            let name = String::from_utf8(h[1..1 + n].to_vec()).unwrap();
            assert_eq!(h[1 + n], 7);
            let vl = u16::from_be_bytes([h[2 + n], h[3 + n]]) as usize;
            headers.push((
                name,
                String::from_utf8(h[4 + n..4 + n + vl].to_vec()).unwrap(),
            ));
            h = &h[4 + n + vl..];
        }
        let payload = serde_json::from_slice(&bytes[12 + hlen..total - 4]).unwrap();
        out.push((headers, payload));
        bytes = &bytes[total..];
    }
    out
}

#[test]
fn crc32_known_value() {
    assert_eq!(eventstream::crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn stream_frames_decode() {
    let path = PATH.replace("/converse", "/converse-stream");
    let r = call(&path, body(), &[]);
    assert!(is_eventstream(&r));
    let Body::Sse(frames) = &r.body else { panic!() };
    let all: Vec<u8> = frames.concat();
    let events = decode(&all);
    let kinds: Vec<&str> = events.iter().map(|(h, _)| h[0].1.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"messageStart"));
    assert_eq!(
        &kinds[kinds.len() - 3..],
        ["contentBlockStop", "messageStop", "metadata"]
    );
    let text: String = events
        .iter()
        .filter_map(|(_, p)| p["delta"]["text"].as_str())
        .collect();
    assert_eq!(
        text,
        "Mock reply ✓ from anthropic.claude-3-5-sonnet-20241022-v2:0: hi there"
    );
    assert!(events.iter().all(|(_, p)| p["p"].is_string()));
    assert_eq!(events.last().unwrap().1["usage"]["totalTokens"], 9);
    let r = call(
        &path,
        body(),
        &[("x-mock-stream-exception", "throttlingException")],
    );
    let Body::Sse(frames) = &r.body else { panic!() };
    let events = decode(&frames.concat());
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[2].0[0],
        (
            ":exception-type".to_string(),
            "throttlingException".to_string()
        )
    );
    assert_eq!(events[2].0[2].1, "exception");
}

/// `outputConfig.textFormat` in Converse's shape is accepted; each
/// malformed variant is a ValidationException naming where it is wrong.
#[test]
fn output_config_is_validated() {
    let schema = r#"{"type":"object","properties":{"city":{"type":"string"}}}"#;
    let good = json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {
        "schema": schema, "name": "capital", "description": "d"}}}});
    let with = |oc: Value| {
        let mut b = body();
        b["outputConfig"] = oc;
        call(PATH, b, &[])
    };
    assert_eq!(with(good.clone()).status, 200);
    assert_eq!(with(json!({})).status, 200);
    let def = "outputConfig.textFormat.structure.jsonSchema";
    let bad = [
        (json!("x"), "outputConfig"),
        (json!({"textFormat": {}, "extra": 1}), "extra"),
        (
            json!({"textFormat": {"structure": good["textFormat"]["structure"]}}),
            "outputConfig.textFormat.type",
        ),
        (
            json!({"textFormat": {"type": "jsonSchema", "structure": good["textFormat"]["structure"]}}),
            "outputConfig.textFormat.type",
        ),
        (
            json!({"textFormat": {"type": "json_schema"}}),
            "outputConfig.textFormat.structure",
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {}}}),
            "outputConfig.textFormat.structure",
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"name": "n"}}}}),
            def,
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": {"type": "object"}}}}}),
            def,
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": "[1]"}}}}),
            def,
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": schema, "name": 3}}}}),
            def,
        ),
        (
            json!({"textFormat": {"type": "json_schema", "structure": {"jsonSchema": {"schema": schema, "strict": true}}}}),
            "strict",
        ),
    ];
    for (oc, needle) in bad {
        let r = with(oc.clone());
        assert_eq!(r.status, 400, "{oc}");
        let msg = json_of(&r)["message"].as_str().unwrap().to_string();
        assert!(msg.contains(needle), "{oc}: {msg}");
    }
}

#[test]
fn server_tool_word_adds_a_server_tool_use_and_its_result() {
    let body =
        json!({"messages": [{"role": "user", "content": [{"text": "Compute MOCK_SERVER_TOOL"}]}]});
    let v = json_of(&call(PATH, body.clone(), &[]));
    let content = v["output"]["message"]["content"].as_array().unwrap();
    assert_eq!(content[0]["toolUse"]["type"], json!("server_tool_use"));
    assert_eq!(
        content[0]["toolUse"]["name"],
        json!("nova_code_interpreter")
    );
    let id = &content[0]["toolUse"]["toolUseId"];
    assert_eq!(&content[1]["toolResult"]["toolUseId"], id);
    assert!(content[2]["text"].is_string());
    assert_eq!(v["stopReason"], json!("end_turn"));
    let path = PATH.replace("/converse", "/converse-stream");
    let r = call(&path, body, &[]);
    let Body::Sse(frames) = &r.body else { panic!() };
    let events = decode(&frames.concat());
    let starts: Vec<&Value> = events
        .iter()
        .filter(|(h, _)| h[0].1 == "contentBlockStart")
        .map(|(_, p)| &p["start"])
        .collect();
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0]["toolUse"]["type"], json!("server_tool_use"));
    assert_eq!(&starts[1]["toolResult"]["toolUseId"], id);
}
