use serde_json::{json, Value};

use super::*;
use crate::faults::Body;
use crate::server::{Listener, Provider};

const KEY: &str = "k-gemini";

fn request(target: &str, body: &Value, extra: &[(&str, &str)]) -> Request {
    crate::test_support::post(target, &[("x-goog-api-key", KEY)], body, extra)
}

fn call_req(req: &Request) -> Response {
    let state = Listener::new(Provider::Gemini, KEY);
    handle(&state, req, &Faults::from_request(req))
}

const GEN: &str = "/v1beta/models/gemini-2.5-flash:generateContent";
const SSE: &str = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

fn call_at(target: &str, body: Value, extra: &[(&str, &str)]) -> (u16, Value) {
    let resp = call_req(&request(target, &body, extra));
    match resp.body {
        Body::Json(b) => (resp.status, serde_json::from_slice(&b).unwrap()),
        other => panic!("unexpected body {other:?}"),
    }
}

fn call(body: Value) -> (u16, Value) {
    call_at(GEN, body, &[])
}

/// Data of each SSE event (checks the `\r\n\r\n` framing).
fn sse_at(target: &str, body: Value, extra: &[(&str, &str)]) -> Vec<Value> {
    let resp = call_req(&request(target, &body, extra));
    let Body::Sse(events) = resp.body else {
        panic!("not a stream")
    };
    events
        .into_iter()
        .map(|e| {
            let text = String::from_utf8(e).unwrap();
            let data = text.strip_prefix("data: ").unwrap();
            serde_json::from_str(data.strip_suffix("\r\n\r\n").unwrap()).unwrap()
        })
        .collect()
}

fn user(text: &str) -> Value {
    json!({"role": "user", "parts": [{"text": text}]})
}

fn base() -> Value {
    json!({"contents": [user("hi there")]})
}

fn error(body: Value) -> String {
    let (status, v) = call(body);
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(v["error"]["code"], 400);
    v["error"]["message"].as_str().unwrap().to_string()
}

fn weather_tools() -> Value {
    json!([{"functionDeclarations": [{
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
    }]}])
}

fn text_parts(v: &Value) -> Vec<String> {
    v["candidates"][0]["content"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn generate_ok() {
    let mut body = base();
    body["systemInstruction"] = json!({"parts": [{"text": "be brief"}]});
    let (status, v) = call(body);
    assert_eq!(status, 200, "{v}");
    let c = &v["candidates"][0];
    assert_eq!(c["content"]["role"], "model");
    assert_eq!(
        text_parts(&v),
        ["Mock reply ✓ from gemini-2.5-flash: hi there"]
    );
    assert_eq!(c["finishReason"], "STOP");
    assert_eq!(c["index"], 0);
    let u = &v["usageMetadata"];
    assert_eq!(u["promptTokenCount"], 4);
    assert_eq!(u["candidatesTokenCount"], 7);
    assert_eq!(u["totalTokenCount"], 11);
    assert!(u.get("thoughtsTokenCount").is_none());
    assert_eq!(v["modelVersion"], "gemini-2.5-flash");
    assert_eq!(v["responseId"], "mock-gemini-1");
    // v1 too, snake_case names too, key in the query.
    let body = json!({"contents": [user("a")], "generation_config": {"max_output_tokens": 2}});
    let req = request(
        "/v1/models/m:generateContent?key=k-gemini",
        &body,
        &[("x-goog-api-key", "")],
    );
    let Body::Json(b) = call_req(&req).body else {
        panic!()
    };
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(text_parts(&v), ["Mock reply"]);
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS");
}

#[test]
fn stop_sequences_and_thoughts() {
    let mut body = base();
    body["generationConfig"] =
        json!({"stopSequences": ["✓"], "thinkingConfig": {"includeThoughts": true}});
    let (_, v) = call(body.clone());
    let parts = &v["candidates"][0]["content"]["parts"];
    assert_eq!(
        parts[0],
        json!({"text": "Mock thinking ✓ for gemini-2.5-flash.", "thought": true})
    );
    assert_eq!(parts[1]["text"], "Mock reply ");
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    let u = &v["usageMetadata"];
    assert_eq!(
        (
            u["candidatesTokenCount"].as_u64(),
            u["thoughtsTokenCount"].as_u64()
        ),
        (Some(2), Some(5))
    );
    assert_eq!(u["totalTokenCount"], 2 + 2 + 5);
    body["generationConfig"]["thinkingConfig"]["thinkingBudget"] = json!(0);
    let (_, v) = call(body);
    assert_eq!(text_parts(&v), ["Mock reply "]);
}

#[test]
fn stream_sse_and_json_array() {
    let mut body = base();
    body["generationConfig"] = json!({"thinkingConfig": {"includeThoughts": true}});
    let chunks = sse_at(SSE, body.clone(), &[("x-mock-cached-tokens", "3")]);
    assert_eq!(
        chunks[0]["candidates"][0]["content"]["parts"][0]["thought"],
        true
    );
    let text: String = chunks[1..]
        .iter()
        .map(|c| {
            c["candidates"][0]["content"]["parts"][0]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(text, "Mock reply ✓ from gemini-2.5-flash: hi there");
    for c in &chunks[..chunks.len() - 1] {
        assert!(c["candidates"][0].get("finishReason").is_none());
        assert_eq!(c["usageMetadata"]["promptTokenCount"], 5);
        assert!(c["usageMetadata"].get("candidatesTokenCount").is_none());
    }
    let last = chunks.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    let u = &last["usageMetadata"];
    assert_eq!(u["cachedContentTokenCount"], 3);
    assert_eq!(u["totalTokenCount"], 5 + 7 + 5);
    // Without alt=sse: the same chunks as one JSON array.
    let target = "/v1beta/models/gemini-2.5-flash:streamGenerateContent";
    let (status, v) = call_at(target, body, &[("x-mock-cached-tokens", "3")]);
    assert_eq!(status, 200);
    assert_eq!(v.as_array().unwrap().len(), chunks.len());
}

#[test]
fn stream_error_and_overloaded() {
    let chunks = sse_at(SSE, base(), &[("x-mock-stream-error", "1")]);
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1]["error"]["status"], "INTERNAL");
    let chunks = sse_at(SSE, base(), &[("x-mock-overloaded", "1")]);
    assert_eq!(
        chunks,
        [
            json!({"error": {"code": 503, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}})
        ]
    );
    let (status, v) = call_at(GEN, base(), &[("x-mock-overloaded", "1")]);
    assert_eq!((status, v["error"]["code"].as_u64()), (200, Some(503)));
}

#[test]
fn injected_statuses_are_google_rpc() {
    for (status, name) in [
        (400, "INVALID_ARGUMENT"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
        (504, "DEADLINE_EXCEEDED"),
    ] {
        let s = status.to_string();
        let req = request(
            GEN,
            &base(),
            &[("x-mock-status", &s), ("x-mock-retry-after", "2")],
        );
        let resp = call_req(&req);
        assert_eq!(resp.status, status);
        assert!(resp.headers.contains(&("retry-after", "2".into())));
        assert!(!resp.headers.iter().any(|(n, _)| *n == "retry-after-ms"));
        let Body::Json(b) = resp.body else { panic!() };
        let v: Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(
            (v["error"]["code"].as_u64(), v["error"]["status"].as_str()),
            (Some(u64::from(status)), Some(name))
        );
    }
}

#[test]
fn paths_and_keys() {
    for target in [
        "/v2/models/m:generateContent",
        "/v1beta/models/m:fooContent",
        "/v1beta/models/:generateContent",
        "/v1beta/tunedModels/m:generateContent",
        "/v1/chat/completions",
    ] {
        let (status, v) = call_at(target, base(), &[]);
        assert_eq!(
            (status, v["error"]["status"].as_str()),
            (404, Some("NOT_FOUND")),
            "{target}"
        );
        assert_eq!(v["error"]["message"], "Method not found.");
    }
    let mut get = request(GEN, &base(), &[]);
    get.method = "GET".into();
    assert_eq!(call_req(&get).status, 404);
    let (status, v) = call_at(GEN, base(), &[("x-goog-api-key", "")]);
    assert_eq!(
        (status, v["error"]["status"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    let (status, v) = call_at(GEN, base(), &[("x-goog-api-key", "wrong")]);
    assert_eq!(
        (status, v["error"]["status"].as_str()),
        (400, Some("INVALID_ARGUMENT"))
    );
    assert_eq!(v["error"]["details"][0]["reason"], "API_KEY_INVALID");
    // The key check comes before faults: a wrong key is never "overloaded".
    let (status, _) = call_at(
        GEN,
        base(),
        &[("x-goog-api-key", "wrong"), ("x-mock-status", "503")],
    );
    assert_eq!(status, 400);
}

#[test]
fn strict_request_fields() {
    let unknown = error(json!({"contents": [user("a")], "temperature": 1}));
    assert_eq!(
        unknown,
        "Invalid JSON payload received. Unknown name \"temperature\": Cannot find field."
    );
    let msg = error(json!({"contents": [user("a")], "generationConfig": {"max_tokens": 5}}));
    assert!(
        msg.contains("Unknown name \"max_tokens\" at 'generation_config'"),
        "{msg}"
    );
    assert!(error(json!({"contents": []})).contains("contents is not specified"));
    assert!(error(json!({})).contains("contents is not specified"));
    let msg = error(json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}));
    assert_eq!(msg, "Please use a valid role: user, model.");
    assert!(error(json!({"contents": [{"role": "user", "parts": []}]}))
        .contains("contents.parts must not be empty"));
    assert!(error(json!({"contents": [{"parts": [{}]}]})).contains("required oneof field 'data'"));
    let two = json!({"contents": [{"parts": [{"text": "a", "inlineData": {"mimeType": "image/png", "data": "AA=="}}]}]});
    assert!(error(two).contains("Oneof field 'data' is already set"));
    let msg = error(
        json!({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "!!"}}]}]}),
    );
    assert!(msg.contains("Base64 decoding failed"), "{msg}");
    let msg = error(json!({"contents": [user("a")], "generationConfig": {"temperature": "hot"}}));
    assert_eq!(
        msg,
        "Invalid value at 'generation_config.temperature' (TYPE_FLOAT), \"hot\""
    );
    let msg = error(json!({"contents": [user("a")], "generationConfig": {"temperature": 3}}));
    assert!(
        msg.starts_with("* GenerateContentRequest.generation_config.temperature:"),
        "{msg}"
    );
    let msg = error(
        json!({"contents": [user("a")], "generationConfig": {"responseMimeType": "text/html"}}),
    );
    assert!(msg.contains("allowed mimetypes"), "{msg}");
    let msg = error(json!({"contents": [user("a")], "generationConfig": {"candidateCount": 2}}));
    assert!(msg.contains("Multiple candidates"), "{msg}");
    let both = json!({"thinkingConfig": {"thinkingBudget": 10, "thinkingLevel": "LOW"}});
    assert!(
        error(json!({"contents": [user("a")], "generationConfig": both}))
            .contains("only one of thinking budget")
    );
    let bad_enum = json!({"contents": [user("a")], "safetySettings": [{"category": "HARM_CATEGORY_X", "threshold": "BLOCK_NONE"}]});
    assert!(error(bad_enum).contains("HarmCategory"));
    let ok = json!({"contents": [user("a")], "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "generationConfig": {"temperature": 0.5, "topP": 0.9, "topK": 40, "seed": 7, "presencePenalty": 0.1, "frequencyPenalty": 0.1,
            "responseMimeType": "application/json", "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING"}}},
            "thinkingConfig": {"thinkingLevel": "low"}}, "cachedContent": "cachedContents/abc"});
    let (status, v) = call(ok);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["usageMetadata"]["cachedContentTokenCount"], 8);
}

#[test]
fn function_declaration_schemas() {
    let with_params = |params: Value| json!({"contents": [user("a")], "tools": [{"functionDeclarations": [{"name": "f", "parameters": params}]}]});
    for keyword in ["additionalProperties", "$ref", "$schema", "const"] {
        let mut params = json!({"type": "object", "properties": {"x": {"type": "string"}}});
        params[keyword] = json!(false);
        let msg = error(with_params(params));
        assert_eq!(msg, format!("Invalid JSON payload received. Unknown name \"{keyword}\" at 'tools[0].function_declarations[0].parameters': Cannot find field."));
    }
    let nested = json!({"type": "object", "properties": {"x": {"type": "array", "items": {"type": "object", "additionalProperties": {}}}}});
    let msg = error(with_params(nested));
    assert!(
        msg.contains("at 'tools[0].function_declarations[0].parameters.properties[0].value.items'"),
        "{msg}"
    );
    assert!(error(with_params(json!({"type": "obj"})))
        .contains("google.ai.generativelanguage.v1beta.Type"));
    // Full JSON Schema is fine in parametersJsonSchema.
    let json_schema = json!({"type": "object", "additionalProperties": false, "properties": {"q": {"type": "string"}}, "required": ["q"]});
    let body = json!({"contents": [user("a")], "tools": [{"functionDeclarations": [{"name": "search", "parametersJsonSchema": json_schema}]}]});
    let (status, v) = call(body);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["functionCall"],
        json!({"name": "search", "args": {"q": "mock-q"}})
    );
    let bad_name =
        json!({"contents": [user("a")], "tools": [{"functionDeclarations": [{"name": "9bad"}]}]});
    assert!(error(bad_name).contains("Invalid function name"));
    let dup = json!({"contents": [user("a")], "tools": [{"functionDeclarations": [{"name": "f"}, {"name": "f"}]}]});
    assert!(error(dup).contains("Duplicate function declaration found: f"));
    let allowed = json!({"contents": [user("a")], "tools": weather_tools(),
        "toolConfig": {"functionCallingConfig": {"mode": "AUTO", "allowedFunctionNames": ["get_weather"]}}});
    assert!(error(allowed).contains("only allowed when the mode is ANY"));
}

#[test]
fn tool_calls_and_results() {
    let body = json!({"contents": [user("weather in Paris?")], "tools": weather_tools()});
    let (_, v) = call(body.clone());
    let c = &v["candidates"][0];
    let part = &c["content"]["parts"][0];
    assert_eq!(
        part,
        &json!({"functionCall": {"name": "get_weather", "args": {"city": "mock-city"}}})
    );
    assert!(part["functionCall"].get("id").is_none());
    assert_eq!(c["finishReason"], "STOP");
    let args = r#"{"city":"mock-city"}"#;
    assert_eq!(
        v["usageMetadata"]["candidatesTokenCount"],
        args.len() as u64 / 4 + 1
    );
    // NONE: text instead.
    let mut none = body.clone();
    none["toolConfig"] = json!({"functionCallingConfig": {"mode": "NONE"}});
    assert_eq!(
        call(none).1["candidates"][0]["content"]["parts"][0]["text"],
        "Mock reply ✓ from gemini-2.5-flash: weather in Paris?"
    );
    // The function response turn gets the tool-result reply.
    let mut turn = body.clone();
    turn["contents"] = json!([
        user("weather in Paris?"),
        {"role": "model", "parts": [part]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "22 degrees"}}}]},
    ]);
    let (status, v) = call(turn.clone());
    assert_eq!(status, 200, "{v}");
    assert_eq!(text_parts(&v), ["Tool result received: 22 degrees"]);
    // Streamed: the call in one chunk.
    let chunks = sse_at(SSE, body, &[]);
    assert_eq!(chunks.len(), 1);
    assert_eq!(
        chunks[0]["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "get_weather"
    );
    // A response whose name no call has.
    turn["contents"][2]["parts"][0]["functionResponse"]["name"] = json!("other");
    assert!(error(turn.clone()).contains("does not match any function call"));
    // A response without a call turn before it.
    let orphan = json!({"contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]});
    assert!(error(orphan)
        .contains("function response turn comes immediately after a function call turn"));
    let double = json!({"contents": [user("a"), {"role": "model", "parts": [{"text": "x"}]}, {"role": "model", "parts": [{"functionCall": {"name": "f"}}]}]});
    assert!(error(double).contains("function call turn comes immediately after a user turn"));
}

#[test]
fn gemini_3_thought_signatures() {
    const G3: &str = "/v1beta/models/gemini-3-pro-preview:generateContent";
    let body = json!({"contents": [user("weather?")], "tools": weather_tools()});
    let (_, v) = call_at(G3, body.clone(), &[]);
    let part = v["candidates"][0]["content"]["parts"][0].clone();
    let sig = part["thoughtSignature"].as_str().unwrap().to_string();
    assert_eq!(
        sig,
        contents::signature("get_weather", &json!({"city": "mock-city"}))
    );
    let turn = |call_part: Value| {
        let mut b = body.clone();
        b["contents"] = json!([
            user("weather?"),
            {"role": "model", "parts": [call_part]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}}]},
        ]);
        call_at(G3, b, &[])
    };
    let (status, v) = turn(part.clone());
    assert_eq!(status, 200, "{v}");
    assert_eq!(text_parts(&v), ["Tool result received: sunny"]);
    let mut unsigned = part.clone();
    unsigned.as_object_mut().unwrap().remove("thoughtSignature");
    let (status, v) = turn(unsigned.clone());
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Function call is missing a thought_signature"));
    let mut forged = part.clone();
    forged["thoughtSignature"] = json!("AAAA");
    let (status, v) = turn(forged);
    assert_eq!(
        (status, v["error"]["message"].as_str()),
        (400, Some("Corrupted thought signature."))
    );
    let mut skip = part.clone();
    skip["thoughtSignature"] = json!("skip_thought_signature_validator");
    assert_eq!(turn(skip).0, 200);
    // Gemini 2.5 has no signatures and does not check them.
    let mut b = body.clone();
    b["contents"] = json!([user("weather?"), {"role": "model", "parts": [unsigned]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]}]);
    assert_eq!(call(b).0, 200);
}

#[test]
fn magic_words() {
    let say = |text: &str| call(json!({"contents": [user(text)]})).1;
    let v = say("hello MOCK_PROMPT_FILTER");
    assert!(v.get("candidates").is_none());
    assert_eq!(v["promptFeedback"]["blockReason"], "SAFETY");
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 2);
    for (word, reason) in [
        ("MOCK_CONTENT_FILTER", "SAFETY"),
        ("MOCK_RECITATION", "RECITATION"),
    ] {
        let v = say(&format!("hello {word}"));
        let c = &v["candidates"][0];
        assert_eq!(c["finishReason"], reason);
        assert!(c.get("content").is_none());
        assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 0);
    }
    let v = say("hello MOCK_MAX_TOKENS");
    assert_eq!(text_parts(&v), ["Mock reply ✓ from"]);
    assert_eq!(v["candidates"][0]["finishReason"], "MAX_TOKENS");
    let v = say("hello MOCK_CACHED");
    assert_eq!(v["usageMetadata"]["cachedContentTokenCount"], 8);
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 2 + 8);
    let chunks = sse_at(
        SSE,
        json!({"contents": [user("x MOCK_PROMPT_FILTER")]}),
        &[],
    );
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0]["promptFeedback"]["blockReason"], "SAFETY");
}

#[test]
fn embeddings() {
    const EMBED: &str = "/v1beta/models/gemini-embedding-001:embedContent";
    const BATCH: &str = "/v1beta/models/gemini-embedding-001:batchEmbedContents";
    let body = json!({"content": {"parts": [{"text": "hello"}, {"text": "world"}]}, "taskType": "RETRIEVAL_QUERY"});
    let (status, v) = call_at(EMBED, body, &[]);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v,
        json!({"embedding": {"values": crate::embedding::vector("hello world", 8)}})
    );
    let req = |text: &str, dims: Option<u64>| {
        let mut r =
            json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": text}]}});
        if let Some(d) = dims {
            r["outputDimensionality"] = json!(d);
        }
        r
    };
    let (status, v) = call_at(
        BATCH,
        json!({"requests": [req("a", Some(3)), req("b", None)]}),
        &[],
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["embeddings"][0]["values"],
        json!(crate::embedding::vector("a", 3))
    );
    assert_eq!(v["embeddings"][1]["values"].as_array().unwrap().len(), 8);
    assert!(v.get("usageMetadata").is_none());
    let mut other = req("a", None);
    other["model"] = json!("models/other");
    let (status, v) = call_at(BATCH, json!({"requests": [other]}), &[]);
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("requests[0].model"));
    for bad in [
        json!({"requests": []}),
        json!({"requests": [req("a", Some(0))]}),
        json!({"requests": [{"content": {"parts": [{"text": "a"}]}}]}),
    ] {
        assert_eq!(call_at(BATCH, bad, &[]).0, 400);
    }
    let (status, v) = call_at(
        EMBED,
        json!({"content": {"parts": [{"text": "a"}]}, "dims": 3}),
        &[],
    );
    assert_eq!(status, 400);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Unknown name \"dims\""));
}
