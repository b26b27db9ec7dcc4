//! `type: "bedrock"`: AWS Bedrock Runtime Converse, signed with SigV4.
//!
//! Streams are AWS event-stream frames, not SSE: a stream fixture
//! (`<case>.events.json`) lists the frames, `{"event": <:event-type>,
//! "payload": {...}}` or `{"exception": <:exception-type>, "payload":
//! {...}}`, and is encoded with `eventstream::encode` before the shared
//! runner feeds it (whole and at every split).

use modelmux_core::config::{Provider, Secret};
use modelmux_core::dialect::Dialect;
use modelmux_core::eventstream::encode;
use modelmux_core::providers::auth::{sigv4::SigV4, Auth};
use modelmux_core::providers::Options;
use serde_json::{json, Value};

use crate::cases::{
    ErrorCase, RequestCase, ResponseCase, StreamCase, DEVELOPER_TEXT, PNG_BASE64, SYSTEM_TEXT,
};
use crate::support::REFUSAL_NAMES_CHAT_FIELD;
use crate::support::{
    instruction_words, non_empty, system_words, Check, Contract, ErrorWant, Fixture, Known,
    OwnError, RequestCheck, Support, Upstream,
};

pub struct Bedrock;

/// A Claude id with a `:` the path must encode.
const MODEL: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const MODEL_SEGMENT: &str = "anthropic.claude-sonnet-4-5-20250929-v1%3A0";

fn turn(up: &Upstream, i: usize) -> &Value {
    &up.body["messages"][i]
}

fn roles(body: &Value) -> Vec<&str> {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| m["role"].as_str().unwrap_or("?"))
        .collect()
}

fn single_user_text(up: &Upstream, text: &str) -> Check {
    ensure_eq!(roles(&up.body), vec!["user"], "roles");
    ensure_eq!(turn(up, 0)["content"], json!([{"text": text}]), "content");
    Ok(())
}

fn capital_question(up: &Upstream) -> Check {
    single_user_text(up, "What is the capital of France?")
}

fn tool_use(id: &str, city: &str) -> Value {
    json!({"toolUse": {"toolUseId": id, "name": "get_weather", "input": {"city": city}}})
}

fn tool_result(id: &str, text: &str) -> Value {
    json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}})
}

fn weather_tools(up: &Upstream) -> Check {
    let spec = &up.body["toolConfig"]["tools"][0]["toolSpec"];
    ensure_eq!(spec["name"], "get_weather");
    ensure!(
        spec["inputSchema"]["json"]["properties"]["city"].is_object(),
        "no schema in {spec}"
    );
    ensure_eq!(up.body["toolConfig"]["toolChoice"], json!({"auto": {}}));
    Ok(())
}

/// The instructions of the system-and-developer case, word for word,
/// however they are packaged.
fn instructions_in_words(up: &Upstream) -> Check {
    let texts: Vec<&str> = up.body["system"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| b["text"].as_str().unwrap_or("?"))
        .collect();
    ensure_eq!(system_words(&texts), instruction_words(), "system words");
    single_user_text(up, "Hello")
}

impl Contract for Bedrock {
    const NAME: &'static str = "bedrock";
    const KIND: &'static str = "bedrock";
    const REASONING_TOKENS: bool = false;

    fn provider() -> Provider {
        let mut p = Provider::new("br", "bedrock", "bedrock-runtime.us-east-1.amazonaws.com");
        p.options = Options::parse("bedrock", json!({"region": "us-east-1"}), "$").unwrap();
        p.base_path = String::new();
        p.auth = Auth::SigV4(Box::new(SigV4 {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
            region: "us-east-1".to_string(),
            service: "bedrock",
        }));
        p
    }

    fn upstream_model() -> &'static str {
        MODEL
    }

    /// The encoded model path, a SigV4 signature, and Converse's bar:
    /// a non-empty `messages` starting with a user turn, roles alternating,
    /// every turn with content blocks, no system role inside.
    fn accepts(up: &Upstream) -> Check {
        let method = if up.client["stream"] == true {
            "converse-stream"
        } else {
            "converse"
        };
        ensure_eq!(up.path, format!("/model/{MODEL_SEGMENT}/{method}"), "path");
        let auth = up.header("authorization").unwrap_or("");
        ensure!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "authorization {auth}"
        );
        ensure!(up.header("x-amz-date").is_some(), "no x-amz-date");
        ensure!(up.body.get("model").is_none(), "model in the body");
        let messages = non_empty(&up.body["messages"], "messages")?;
        let r = roles(&up.body);
        ensure_eq!(r.first().copied(), Some("user"), "first role");
        for (i, m) in messages.iter().enumerate() {
            let want = if i % 2 == 0 { "user" } else { "assistant" };
            ensure_eq!(m["role"], want, "messages[{i}].role");
            non_empty(&m["content"], &format!("messages[{i}].content"))?;
        }
        Ok(())
    }

    fn request_in(dialect: Dialect, case: RequestCase) -> Support<RequestCheck> {
        match (dialect, case) {
            (Dialect::AnthropicMessages, RequestCase::SystemAndDeveloper) => {
                Support::Yes(instructions_in_words as RequestCheck)
            }
            (Dialect::AnthropicMessages, RequestCase::ImageHttpsUrl) => Support::Refused {
                param: "messages.0.content.1.source.url",
            }
            .known(Known::Bug(REFUSAL_NAMES_CHAT_FIELD)),
            (Dialect::OpenAiResponses, RequestCase::ImageHttpsUrl) => Support::Refused {
                param: "input[0].content[1].image_url",
            }
            .known(Known::Bug(REFUSAL_NAMES_CHAT_FIELD)),
            (Dialect::OpenAiResponses, RequestCase::JsonObject) => Support::Refused {
                param: "text.format",
            }
            .known(Known::Bug(REFUSAL_NAMES_CHAT_FIELD)),
            _ => Self::request(case),
        }
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        match case {
            C::Text => Support::Yes(capital_question),
            C::MultiTurn => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                ensure_eq!(turn(up, 1)["content"], json!([{"text": "7"}]));
                Ok(())
            }),
            C::SystemAndDeveloper => Support::Yes(|up| {
                let want = json!([{"text": SYSTEM_TEXT}, {"text": DEVELOPER_TEXT}]);
                ensure_eq!(up.body["system"], want, "system");
                single_user_text(up, "Hello")
            }),
            C::Tools => Support::Yes(|up| {
                weather_tools(up)?;
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                ensure_eq!(turn(up, 1)["content"], json!([tool_use("call_1", "Paris")]));
                let want = json!([tool_result("call_1", "18°C, cloudy")]);
                ensure_eq!(turn(up, 2)["content"], want);
                Ok(())
            }),
            C::ParallelToolCallsHistory => Support::Yes(|up| {
                weather_tools(up)?;
                ensure_eq!(roles(&up.body), vec!["user", "assistant", "user"], "roles");
                let calls = json!([tool_use("call_p", "Paris"), tool_use("call_o", "Oslo")]);
                ensure_eq!(turn(up, 1)["content"], calls);
                let results = json!([tool_result("call_p", "18°C"), tool_result("call_o", "9°C")]);
                ensure_eq!(turn(up, 2)["content"], results);
                Ok(())
            }),
            C::ImageDataUrl => Support::Yes(|up| {
                let want = json!({"image": {"format": "png", "source": {"bytes": PNG_BASE64}}});
                ensure_eq!(turn(up, 0)["content"][1], want, "image block");
                Ok(())
            }),
            C::ImageHttpsUrl => Support::Refused {
                param: "messages[0].content[1].image_url.url",
            },
            C::JsonObject => Support::Refused {
                param: "response_format",
            },
            // `outputConfig.textFormat`, the schema as JSON text.
            C::JsonSchema => Support::Yes(|up| {
                let f = &up.client["response_format"]["json_schema"];
                let format = &up.body["outputConfig"]["textFormat"];
                ensure_eq!(format["type"], "json_schema", "textFormat.type");
                let def = &format["structure"]["jsonSchema"];
                ensure_eq!(def["name"], f["name"], "jsonSchema.name");
                let text = def["schema"].as_str().unwrap_or("");
                let schema: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                ensure_eq!(schema, f["schema"], "jsonSchema.schema");
                capital_question(up)
            }),
            C::Reasoning => Support::Yes(|up| {
                let want = json!({"thinking": {"type": "enabled", "budget_tokens": 15999}});
                ensure_eq!(up.body["additionalModelRequestFields"], want, "thinking");
                ensure_eq!(up.body["inferenceConfig"]["maxTokens"], 16000, "maxTokens");
                capital_question(up)
            }),
            // Instructions alone are sent as the user turn.
            C::SystemOnly => Support::Yes(|up| single_user_text(up, SYSTEM_TEXT)),
            C::DeveloperOnly => Support::Yes(|up| single_user_text(up, DEVELOPER_TEXT)),
            C::MultipleChoices => Support::Refused { param: "n" },
            C::Logprobs => Support::Refused { param: "logprobs" },
            C::Seed => Support::Refused { param: "seed" },
            C::Streaming => Support::Yes(|up| {
                ensure!(up.body.get("stream").is_none(), "stream in the body");
                capital_question(up)
            }),
        }
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        use ResponseCase as C;
        match case {
            C::PromptBlocked => {
                Support::NotApplicable("a refused prompt is an error status here (the error cases)")
            }
            C::ServerTool => Support::Yes(Fixture),
            C::Text
            | C::ToolCall
            | C::ToolCallNoArgs
            | C::ParallelToolCalls
            | C::Reasoning
            | C::UsageCached
            | C::Length
            | C::ContentFilter
            | C::NotTheShape => Support::Yes(Fixture),
            C::UsageReasoning => Support::NotApplicable(
                "Converse counts reasoning inside outputTokens and reports no split",
            ),
            C::MultipleChoices => {
                Support::NotApplicable("one generation per request: `n` > 1 is refused (400)")
            }
        }
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        use ErrorCase as C;
        match case {
            C::BadRequest
            | C::Unauthorized
            | C::Forbidden
            | C::NotFound
            | C::RateLimited
            | C::ServerError
            | C::Unavailable
            | C::NotJson => Support::Yes(ErrorWant::Translated),
        }
    }

    fn own_errors() -> Vec<OwnError> {
        // ModelErrorException: the model failed; no OpenAI SDK knows 424.
        vec![OwnError {
            upstream: 424,
            client: 502,
            kind: "server_error",
            message: "The model returned an error: upstream timed out.",
        }]
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        use StreamCase as C;
        match case {
            C::PromptBlocked => {
                Support::NotApplicable("a refused prompt is an error status here (the error cases)")
            }
            C::UsageRevised => {
                Support::NotApplicable("usage is sent once per stream, or its counts only grow")
            }
            C::StreamedArgs => Support::NotApplicable(
                "arguments already stream as JSON text (the tool call cases)",
            ),
            C::ContentFilter | C::ServerTool => Support::Yes(Fixture),
            C::Text
            | C::ToolCall
            | C::ToolCallNoArgs
            | C::ParallelToolCalls
            | C::Reasoning
            | C::Usage
            | C::MidStreamError
            | C::Truncated => Support::Yes(Fixture),
        }
    }

    fn stream_file(name: &str) -> String {
        format!("{name}.events.json")
    }

    fn stream_bytes(file: Vec<u8>) -> Result<Vec<u8>, String> {
        let frames: Vec<Value> = serde_json::from_slice(&file).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for f in &frames {
            let payload = f["payload"].to_string();
            let headers = match (f["event"].as_str(), f["exception"].as_str()) {
                (Some(e), _) => [(":event-type", e), (":message-type", "event")],
                (None, Some(x)) => [(":exception-type", x), (":message-type", "exception")],
                (None, None) => return Err(format!("a frame without event or exception: {f}")),
            };
            let mut all = vec![(":content-type", "application/json")];
            all.extend(headers);
            out.extend(encode(&all, payload.as_bytes()));
        }
        Ok(out)
    }
}
