//! `type: "vertex"`, both publishers. The wire formats are the Gemini API's
//! and Anthropic's, so the request checks and fixtures are theirs
//! (`fixtures/contract/vertex/*` link to them); what is Vertex's own is
//! checked here: the publisher paths, the bearer token instead of a key,
//! Claude's body (`anthropic_version` in it, no `model`), and the google.rpc
//! errors the Vertex front end answers for Claude (own fixtures).

use modelmux_core::config::{Provider, Secret};
use modelmux_core::dialect::Dialect;
use modelmux_core::providers::auth::Auth;
use modelmux_core::providers::Options;
use serde_json::json;

use crate::anthropic::Anthropic;
use crate::cases::{ErrorCase, RequestCase, ResponseCase, StreamCase};
use crate::gemini::Gemini;
use crate::support::{
    Check, Contract, ErrorWant, Fixture, OwnError, RequestCheck, Support, Upstream,
};

const TOKEN: &str = "Bearer ya29.test-token";
const BASE: &str = "/v1/projects/proj-1/locations/us-east5/publishers";

/// A Vertex provider with a fixed bearer in place of the fetched token
/// (the contract runs without a token source).
fn provider() -> Provider {
    let raw = json!({"project": "proj-1", "location": "us-east5",
                     "auth": {"source": "metadata", "cluster": "metadata"}});
    let mut p = Provider::new("vx", "vertex", "us-east5-aiplatform.googleapis.com");
    p.options = Options::parse("vertex", raw, "$").unwrap();
    p.base_path = "/v1".to_string();
    p.auth = Auth::Bearer(Secret::new("ya29.test-token"));
    p
}

fn stream(up: &Upstream) -> bool {
    up.client["stream"] == true
}

fn vertex_auth(up: &Upstream) -> Check {
    ensure_eq!(up.header("authorization"), Some(TOKEN), "authorization");
    ensure!(up.header("x-goog-api-key").is_none(), "an API key header");
    ensure!(up.header("x-api-key").is_none(), "an API key header");
    Ok(())
}

pub struct VertexGemini;

impl Contract for VertexGemini {
    const NAME: &'static str = "vertex/gemini";
    const KIND: &'static str = "vertex";
    const REASONING_TOKENS: bool = Gemini::REASONING_TOKENS;

    fn provider() -> Provider {
        provider()
    }

    /// The Vertex path and token, then the Gemini API's own bar, on the
    /// same body as the Gemini API would get it.
    fn accepts(up: &Upstream) -> Check {
        let method = if stream(up) {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let path = format!("{BASE}/google/models/upstream-model:{method}");
        ensure_eq!(up.path, path, "path");
        vertex_auth(up)?;
        let mut headers = up.headers.clone();
        headers.push(("x-goog-api-key", "AIza-test".to_string()));
        Gemini::accepts(&Upstream {
            path: format!("/v1beta/models/upstream-model:{method}"),
            headers,
            body: up.body.clone(),
            client: up.client.clone(),
            sent: up.sent.clone(),
        })
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        Gemini::request(case)
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        Gemini::response(case)
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        Gemini::error(case)
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        Gemini::stream(case)
    }
}

pub struct VertexClaude;

impl Contract for VertexClaude {
    const NAME: &'static str = "vertex/claude";
    const KIND: &'static str = "vertex";
    const REASONING_TOKENS: bool = Anthropic::REASONING_TOKENS;

    fn provider() -> Provider {
        provider()
    }

    /// The explicit publisher prefix, not sent.
    fn upstream_model() -> &'static str {
        "anthropic/upstream-model"
    }

    /// The Vertex path, token and body changes, then Anthropic's own bar on
    /// the body as the Messages API would get it.
    fn accepts(up: &Upstream) -> Check {
        let method = if stream(up) {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        let path = format!("{BASE}/anthropic/models/upstream-model:{method}");
        ensure_eq!(up.path, path, "path");
        vertex_auth(up)?;
        ensure!(
            up.header("anthropic-version").is_none(),
            "anthropic-version header"
        );
        ensure_eq!(
            up.body["anthropic_version"],
            "vertex-2023-10-16",
            "anthropic_version"
        );
        ensure!(up.body.get("model").is_none(), "`model` in the body");
        ensure_eq!(up.body["stream"] == true, stream(up), "stream in the body");
        let mut body = up.body.clone();
        body["model"] = json!("upstream-model");
        let mut headers = up.headers.clone();
        headers.push(("anthropic-version", "2023-06-01".to_string()));
        headers.push(("x-api-key", "sk-ant-test".to_string()));
        Anthropic::accepts(&Upstream {
            path: "/v1/messages".to_string(),
            headers,
            body,
            client: up.client.clone(),
            sent: up.sent.clone(),
        })
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        Anthropic::request(case)
    }

    /// A Messages client is passed through: the body as sent, the model
    /// moved to the path and Vertex's `anthropic_version` added.
    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        match dialect {
            Dialect::AnthropicMessages => Support::Yes(|up| {
                let mut want = up.sent.clone();
                if let Some(o) = want.as_object_mut() {
                    o.remove("model");
                }
                want["anthropic_version"] = json!("vertex-2023-10-16");
                ensure_eq!(up.body, want, "forwarded Messages body");
                Ok(())
            }),
            Dialect::OpenAiChat | Dialect::OpenAiResponses => Self::request(case),
        }
    }

    fn response_in(dialect: Dialect, case: ResponseCase) -> Support<Fixture> {
        match (dialect, case) {
            (Dialect::AnthropicMessages, ResponseCase::NotTheShape) => Support::NotApplicable(
                "passthrough: a Messages client's 2xx body is forwarded as sent (BodyMode::Tail, \
                 usage read on the way)",
            ),
            _ => Self::response(case),
        }
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        Anthropic::response(case)
    }

    /// 401, 403, 404 and 429 come from the Vertex front end as google.rpc
    /// errors (own fixtures); the others are Claude's, in Anthropic's shape.
    fn error(case: ErrorCase) -> Support<ErrorWant> {
        Anthropic::error(case)
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        Anthropic::stream(case)
    }

    fn own_errors() -> Vec<OwnError> {
        Anthropic::own_errors()
    }
}
