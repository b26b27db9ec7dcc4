use base64ct::{Base64UrlUnpadded, Encoding};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use super::oauth::{self, now, JWT_BEARER, SCOPE};
use super::State;
use crate::faults::{Body, Faults, Response};
use crate::http::Request;
use crate::server::{dispatch, Listener, Provider};
use crate::test_support::post;

const PUB: &str = include_str!("testdata/test_key.pub.pem");
const KEY: &str = include_str!("testdata/test_key.pem");
const OTHER: &str = include_str!("testdata/other_key.pem");
const HOST: &str = "127.0.0.1:9999";

fn listener(ttl: u64) -> Listener {
    let mut l = Listener::new(Provider::Vertex, "");
    l.vertex = State::new("proj-1", Some(PUB), ttl, Some("static-tok")).unwrap();
    l
}

fn jwt(key_pem: &str, claims: &Value) -> String {
    let key = RsaPrivateKey::from_pkcs8_pem(key_pem).unwrap();
    let head = Base64UrlUnpadded::encode_string(br#"{"alg":"RS256","typ":"JWT"}"#);
    let body = Base64UrlUnpadded::encode_string(claims.to_string().as_bytes());
    let msg = format!("{head}.{body}");
    let sig = SigningKey::<Sha256>::new(key).sign(msg.as_bytes()).to_vec();
    format!("{msg}.{}", Base64UrlUnpadded::encode_string(&sig))
}

fn claims() -> Value {
    let t = now();
    json!({"iss": "sa@proj-1.iam.gserviceaccount.com", "aud": format!("http://{HOST}/token"),
           "scope": SCOPE, "iat": t, "exp": t + 3600})
}

fn request(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Request {
    Request {
        method: method.into(),
        target: target.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: body.to_vec(),
        keep_alive: true,
    }
}

fn exchange(l: &Listener, assertion: &str) -> Response {
    let form = format!(
        "grant_type={}&assertion={assertion}",
        JWT_BEARER.replace(':', "%3A")
    );
    let req = request(
        "POST",
        "/token",
        &[
            ("host", HOST),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        form.as_bytes(),
    );
    dispatch(l, req, None).0
}

fn json_of(r: &Response) -> Value {
    match &r.body {
        Body::Json(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

fn sse_text(r: &Response) -> String {
    match &r.body {
        Body::Sse(events) => events
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect(),
        _ => String::new(),
    }
}

#[test]
fn token_endpoint_verifies_the_jwt() {
    let l = listener(3599);
    let ok = exchange(&l, &jwt(KEY, &claims()));
    assert_eq!(ok.status, 200, "{:?}", json_of(&ok));
    assert_eq!(json_of(&ok)["token_type"], "Bearer");
    assert_eq!(json_of(&ok)["expires_in"], 3599);
    let bad_sig = exchange(&l, &jwt(OTHER, &claims()));
    assert_eq!(
        (bad_sig.status, json_of(&bad_sig)["error"].clone()),
        (400, json!("invalid_grant"))
    );
    let mut c = claims();
    c["aud"] = json!("https://example.com/token");
    assert_eq!(exchange(&l, &jwt(KEY, &c)).status, 400);
    let mut c = claims();
    c["exp"] = json!(now() - 10);
    c["iat"] = json!(now() - 3610);
    assert_eq!(exchange(&l, &jwt(KEY, &c)).status, 400);
    let mut c = claims();
    c["exp"] = json!(now() + 7200);
    assert_eq!(exchange(&l, &jwt(KEY, &c)).status, 400);
    let mut c = claims();
    c["scope"] = json!("https://www.googleapis.com/auth/userinfo.email");
    assert_eq!(exchange(&l, &jwt(KEY, &c)).status, 400);
    let stats = dispatch(&l, request("GET", "/_mock/tokens", &[], b""), None).0;
    assert_eq!(json_of(&stats), json!({"issued": 1}));
    let mut nokey = Listener::new(Provider::Vertex, "");
    nokey.vertex = State::default();
    assert_eq!(exchange(&nokey, &jwt(KEY, &claims())).status, 400);
}

#[test]
fn metadata_needs_the_flavor_header() {
    let l = listener(3599);
    let path = oauth::METADATA_PATH;
    let r = dispatch(&l, request("GET", path, &[], b""), None).0;
    assert_eq!(r.status, 403);
    let r = dispatch(
        &l,
        request("GET", path, &[("metadata-flavor", "Google")], b""),
        None,
    )
    .0;
    assert_eq!(r.status, 200);
    assert!(json_of(&r)["access_token"]
        .as_str()
        .unwrap()
        .starts_with("ya29."));
}

fn issued_token(l: &Listener) -> String {
    let r = dispatch(
        l,
        request(
            "GET",
            oauth::METADATA_PATH,
            &[("metadata-flavor", "Google")],
            b"",
        ),
        None,
    )
    .0;
    json_of(&r)["access_token"].as_str().unwrap().to_string()
}

const GEMINI: &str =
    "/v1/projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.5-flash";
const CLAUDE: &str =
    "/v1/projects/proj-1/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514";

fn call(l: &Listener, target: &str, token: &str, body: &Value) -> Response {
    let bearer = format!("Bearer {token}");
    let req = post(target, &[("authorization", &bearer)], body, &[]);
    crate::vertex::handle(l, &req, &Faults::default())
}

#[test]
fn gemini_publisher_needs_an_issued_token() {
    let l = listener(3599);
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "ping pong"}]}]});
    let r = call(
        &l,
        &format!("{GEMINI}:generateContent"),
        "ya29.forged",
        &body,
    );
    assert_eq!(
        (r.status, json_of(&r)["error"]["status"].clone()),
        (401, json!("UNAUTHENTICATED"))
    );
    let token = issued_token(&l);
    let r = call(&l, &format!("{GEMINI}:generateContent"), &token, &body);
    assert_eq!(r.status, 200, "{:?}", json_of(&r));
    assert!(json_of(&r)["candidates"][0]["content"]["parts"][0]["text"].is_string());
    let r = call(
        &l,
        &format!("{GEMINI}:streamGenerateContent?alt=sse"),
        "static-tok",
        &body,
    );
    assert!(sse_text(&r).contains("finishReason"), "{}", sse_text(&r));
    let r = call(
        &l,
        &format!("{GEMINI}:generateContent"),
        &token,
        &json!({"contents": [], "bogus": 1}),
    );
    assert_eq!(r.status, 400);
    let other = GEMINI.replace("proj-1", "proj-2");
    assert_eq!(
        call(&l, &format!("{other}:generateContent"), &token, &body).status,
        403
    );
    let expired = listener(0);
    let t = issued_token(&expired);
    assert_eq!(
        call(&expired, &format!("{GEMINI}:generateContent"), &t, &body).status,
        401
    );
}

#[test]
fn claude_publisher_wants_the_vertex_body() {
    let l = listener(3599);
    let token = issued_token(&l);
    let good = json!({"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
                      "messages": [{"role": "user", "content": "ping pong"}]});
    let r = call(&l, &format!("{CLAUDE}:rawPredict"), &token, &good);
    assert_eq!(r.status, 200, "{:?}", json_of(&r));
    assert_eq!(json_of(&r)["type"], "message");
    let mut stream = good.clone();
    stream["stream"] = json!(true);
    let r = call(&l, &format!("{CLAUDE}:streamRawPredict"), &token, &stream);
    assert!(sse_text(&r).contains("message_stop"), "{}", sse_text(&r));
    let mut with_model = good.clone();
    with_model["model"] = json!("claude-sonnet-4");
    let r = call(&l, &format!("{CLAUDE}:rawPredict"), &token, &with_model);
    assert_eq!(r.status, 400);
    assert_eq!(json_of(&r)["error"]["type"], "invalid_request_error");
    let mut no_version = good.clone();
    no_version
        .as_object_mut()
        .unwrap()
        .remove("anthropic_version");
    assert_eq!(
        call(&l, &format!("{CLAUDE}:rawPredict"), &token, &no_version).status,
        400
    );
    let mut wrong = good.clone();
    wrong["anthropic_version"] = json!("2023-06-01");
    assert_eq!(
        call(&l, &format!("{CLAUDE}:rawPredict"), &token, &wrong).status,
        400
    );
    assert_eq!(
        call(&l, &format!("{CLAUDE}:rawPredict"), "nope", &good).status,
        401
    );
    assert_eq!(
        call(&l, &format!("{CLAUDE}:predict"), &token, &good).status,
        404
    );
}

/// The `data:` JSON of an SSE response.
fn sse_chunks(r: &Response) -> Vec<Value> {
    sse_text(r)
        .split("\r\n\r\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap())
        .collect()
}

#[test]
fn stream_args_word_streams_partial_args() {
    let l = listener(3599);
    let token = issued_token(&l);
    let body = json!({
        "contents": [{"role": "user", "parts": [{"text": "Weather? MOCK_STREAM_ARGS"}]}],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "parameters": {
            "type": "OBJECT", "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
            "required": ["city", "days"]}}]}]});
    let r = call(
        &l,
        &format!("{GEMINI}:streamGenerateContent?alt=sse"),
        &token,
        &body,
    );
    let chunks = sse_chunks(&r);
    let calls: Vec<&Value> = chunks
        .iter()
        .map(|c| &c["candidates"][0]["content"]["parts"][0]["functionCall"])
        .collect();
    assert_eq!(calls[0]["name"], json!("get_weather"));
    assert_eq!(calls[0]["willContinue"], json!(true));
    let pieces: Vec<&Value> = calls[1..calls.len() - 1]
        .iter()
        .map(|c| &c["partialArgs"][0])
        .collect();
    assert_eq!(
        pieces,
        vec![
            &json!({"jsonPath": "$.city", "stringValue": "mock", "willContinue": true}),
            &json!({"jsonPath": "$.city", "stringValue": "-city"}),
            &json!({"jsonPath": "$.days", "numberValue": 1}),
        ]
    );
    assert!(calls[1..].iter().all(|c| c.get("name").is_none()));
    let last = chunks.last().unwrap();
    assert_eq!(calls.last().unwrap(), &&json!({}));
    assert_eq!(last["candidates"][0]["finishReason"], json!("STOP"));
}
