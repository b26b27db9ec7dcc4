//! Vertex AI mock (kind `vertex`): publishers, metadata server and OAuth
//! token endpoint on one listener.
//!
//! * `GET /computeMetadata/v1/instance/service-accounts/default/token` and
//!   `POST /token`: see `oauth.rs`.
//! * `POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:{generateContent|streamGenerateContent}`:
//!   validated and answered by the Gemini mock (same proto-JSON bar).
//! * `.../publishers/google/models/{m}:countTokens`: the Gemini mock's.
//! * `POST .../publishers/anthropic/models/count-tokens:rawPredict`: Claude
//!   token counting; the body names the model in `model` (required here,
//!   unlike other Claude calls) and is then the Messages count_tokens body.
//! * `POST .../publishers/anthropic/models/{m}:{rawPredict|streamRawPredict}`:
//!   the Anthropic mock's validation, after Vertex's own body rules:
//!   `anthropic_version` must be `vertex-2023-10-16` and `model` must not
//!   be in the body (400 in Anthropic's shape, as Claude on Vertex answers);
//!   betas come as the body's `anthropic_beta` list, not as a header.
//! * `GET /_mock/tokens`: `{"issued": N}`, tokens issued so far.
//!
//! Publisher calls need `Authorization: Bearer <token>` with a token this
//! mock issued and that has not expired (or `--vertex-static-token`), else
//! 401 `UNAUTHENTICATED`; another project is 403 `PERMISSION_DENIED`; a
//! path location that differs from a `{location}-aiplatform...` host is 400.
//! Vertex front-end errors are google.rpc errors.

pub mod oauth;
mod predict;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rsa::pkcs8::DecodePublicKey;
use rsa::RsaPublicKey;
use serde_json::Value;

use crate::faults::{Faults, Response};
use crate::http::Request;
use crate::server::Listener;
use crate::{anthropic, gemini};

pub const CLAUDE_VERSION: &str = "vertex-2023-10-16";
const INNER_KEY: &str = "vertex-inner-key";
const UNAUTHENTICATED: &str = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";

/// Vertex listener state: configuration and issued tokens.
#[derive(Debug)]
pub struct State {
    pub project: String,
    key: Option<RsaPublicKey>,
    pub ttl: u64,
    static_token: Option<String>,
    tokens: Mutex<HashMap<String, u64>>,
    issued: AtomicU64,
}

impl Default for State {
    fn default() -> Self {
        State {
            project: "mock-project".into(),
            key: None,
            ttl: 3599,
            static_token: None,
            tokens: Mutex::new(HashMap::new()),
            issued: AtomicU64::new(0),
        }
    }
}

impl State {
    /// From the flags; `public_key_pem` is the PEM text (SPKI).
    pub fn new(
        project: &str,
        public_key_pem: Option<&str>,
        ttl: u64,
        static_token: Option<&str>,
    ) -> Result<State, String> {
        let key =
            match public_key_pem {
                Some(pem) => Some(RsaPublicKey::from_public_key_pem(pem).map_err(|e| {
                    format!("--vertex-sa-public-key: not an RSA public key PEM: {e}")
                })?),
                None => None,
            };
        Ok(State {
            project: project.into(),
            key,
            ttl,
            static_token: static_token.map(str::to_string),
            ..State::default()
        })
    }

    fn issue(&self, now: u64) -> String {
        let n = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let token = format!("ya29.mock-{n}-{nanos:08x}");
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.insert(token.clone(), now + self.ttl);
        token
    }

    pub fn issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    fn valid(&self, token: &str, now: u64) -> bool {
        if self.static_token.as_deref() == Some(token) {
            return true;
        }
        let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.get(token).is_some_and(|exp| now < *exp)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publisher {
    Google,
    Anthropic,
}

/// A publisher call's path, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub project: String,
    pub location: String,
    pub publisher: Publisher,
    pub model: String,
    pub method: String,
}

/// Parses `/{v}/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method}`.
pub fn route(path: &str) -> Option<Route> {
    let rest = path
        .strip_prefix("/v1/")
        .or_else(|| path.strip_prefix("/v1beta1/"))?;
    let mut seg = rest.split('/');
    let (Some("projects"), Some(project), Some("locations"), Some(location)) =
        (seg.next(), seg.next(), seg.next(), seg.next())
    else {
        return None;
    };
    let (Some("publishers"), Some(publisher), Some("models"), Some(last), None) =
        (seg.next(), seg.next(), seg.next(), seg.next(), seg.next())
    else {
        return None;
    };
    let (model, method) = last.rsplit_once(':')?;
    let (publisher, methods): (_, &[&str]) = match publisher {
        "google" => (
            Publisher::Google,
            &[
                "generateContent",
                "streamGenerateContent",
                "predict",
                "countTokens",
            ],
        ),
        "anthropic" => (Publisher::Anthropic, &["rawPredict", "streamRawPredict"]),
        _ => return None,
    };
    if model.is_empty() || project.is_empty() || !methods.contains(&method) {
        return None;
    }
    Some(Route {
        project: project.into(),
        location: location.into(),
        publisher,
        model: model.into(),
        method: method.into(),
    })
}

pub fn error_for_status(status: u16, message: &str) -> Response {
    gemini::error_for_status(status, message)
}

/// Path, bearer, project and location checks (before any fault).
pub fn gate(state: &Listener, req: &Request) -> Result<Route, Response> {
    let route = route(req.path()).filter(|_| req.method == "POST");
    let Some(route) = route else {
        return Err(error_for_status(
            404,
            "The requested URL was not found on this server.",
        ));
    };
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| state.vertex.valid(t, oauth::now())) {
        let resp = error_for_status(401, UNAUTHENTICATED);
        return Err(resp.with_header(
            "www-authenticate",
            "Bearer realm=\"https://accounts.google.com/\"".into(),
        ));
    }
    if route.project != state.vertex.project {
        let msg = format!("Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/{}/locations/{}/publishers/*/models/{}' (or it may not exist).", route.project, route.location, route.model);
        return Err(error_for_status(403, &msg));
    }
    let host = req.header("host").unwrap_or("");
    if let Some(loc) = host.strip_suffix("-aiplatform.googleapis.com") {
        if loc != route.location {
            let msg = format!(
                "Request location {} does not match the endpoint {loc}.",
                route.location
            );
            return Err(error_for_status(400, &msg));
        }
    }
    Ok(route)
}

/// Handles one request on the Vertex listener.
pub fn handle(state: &Listener, req: &Request, faults: &Faults) -> Response {
    match req.path() {
        oauth::METADATA_PATH => return oauth::metadata(&state.vertex, req),
        oauth::TOKEN_PATH => return oauth::token(&state.vertex, req),
        _ => {}
    }
    let route = match gate(state, req) {
        Ok(r) => r,
        Err(resp) => return resp,
    };
    let inner = Listener::labelled(&state.label, inner_provider(route.publisher), INNER_KEY);
    match route.publisher {
        Publisher::Google if route.method == "predict" => {
            crate::faults::injected(req, faults, &gemini::REPLIES)
                .unwrap_or_else(|| predict::predict(&route.model, &req.body))
        }
        Publisher::Google => gemini::handle(&inner, &as_gemini(req, &route), faults),
        Publisher::Anthropic => match as_anthropic(req, &route) {
            Ok(r) => anthropic::handle(&inner, &r, faults),
            Err(resp) => resp,
        },
    }
}

fn inner_provider(p: Publisher) -> crate::server::Provider {
    match p {
        Publisher::Google => crate::server::Provider::Gemini,
        Publisher::Anthropic => crate::server::Provider::Anthropic,
    }
}

/// The same call as the Gemini API would get it.
fn as_gemini(req: &Request, route: &Route) -> Request {
    let query = req.target.split_once('?').map_or("", |(_, q)| q);
    let mut r = req.clone();
    r.target = format!("/v1beta/models/{}:{}", route.model, route.method);
    if !query.is_empty() {
        r.target.push('?');
        r.target.push_str(query);
    }
    r.headers
        .retain(|(n, _)| n != "authorization" && n != gemini::VERTEX_HEADER);
    r.headers.push(("x-goog-api-key".into(), INNER_KEY.into()));
    r.headers.push((gemini::VERTEX_HEADER.into(), "1".into()));
    r
}

/// The same call as the Messages API would get it, after Vertex's rules.
fn as_anthropic(req: &Request, route: &Route) -> Result<Request, Response> {
    let bad = |m: &str| anthropic::error_for_status(400, m);
    let mut body = match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(b)) => b,
        _ => return Ok(anthropic_passthrough(req)),
    };
    if route.model == COUNT_TOKENS_MODEL && route.method == "rawPredict" {
        return count_tokens(req, body);
    }
    if body.contains_key("model") {
        return Err(bad("model: Extra inputs are not permitted"));
    }
    match body.remove("anthropic_version") {
        None => return Err(bad("anthropic_version: Field required")),
        Some(Value::String(v)) if v == CLAUDE_VERSION => {}
        Some(_) => {
            return Err(bad(&format!(
                "anthropic_version: Input should be '{CLAUDE_VERSION}'"
            )))
        }
    }
    let stream = route.method == "streamRawPredict";
    if stream != (body.get("stream") == Some(&Value::Bool(true))) {
        return Err(bad(
            "stream: must be true on streamRawPredict and absent or false on rawPredict",
        ));
    }
    let betas = match body.remove("anthropic_beta") {
        None => None,
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Some(_) => {
            return Err(bad(
                "anthropic_beta: Input should be a valid list of strings",
            ))
        }
    };
    body.insert("model".into(), Value::String(route.model.clone()));
    let mut r = anthropic_passthrough(req);
    r.body = serde_json::to_vec(&body).unwrap_or_default();
    // Vertex takes betas in the body; the Messages API reads the header.
    if let Some(betas) = betas {
        r.headers.retain(|(n, _)| n != "anthropic-beta");
        r.headers.push(("anthropic-beta".into(), betas));
    }
    Ok(r)
}

/// The path model of Claude token counting (`count-tokens:rawPredict`).
const COUNT_TOKENS_MODEL: &str = "count-tokens";

/// Claude `count-tokens:rawPredict`: `model` must be in the body;
/// `anthropic_version`, when given, must be Vertex's.
fn count_tokens(
    req: &Request,
    mut body: serde_json::Map<String, Value>,
) -> Result<Request, Response> {
    let bad = |m: &str| anthropic::error_for_status(400, m);
    match body.get("model") {
        Some(Value::String(_)) => {}
        Some(_) => return Err(bad("model: Input should be a valid string")),
        None => return Err(bad("model: Field required")),
    }
    match body.remove("anthropic_version") {
        None => {}
        Some(Value::String(v)) if v == CLAUDE_VERSION => {}
        Some(_) => {
            return Err(bad(&format!(
                "anthropic_version: Input should be '{CLAUDE_VERSION}'"
            )))
        }
    }
    let mut r = anthropic_passthrough(req);
    r.target = anthropic::count::PATH.into();
    r.body = serde_json::to_vec(&body).unwrap_or_default();
    Ok(r)
}

fn anthropic_passthrough(req: &Request) -> Request {
    let mut r = req.clone();
    r.target = anthropic::PATH.into();
    r.headers
        .retain(|(n, _)| n != "authorization" && n != "anthropic-version");
    r.headers.push(("x-api-key".into(), INNER_KEY.into()));
    r.headers
        .push(("anthropic-version".into(), anthropic::VERSION.into()));
    r
}

#[cfg(test)]
mod tests;
