//! `type: "gemini"`: `generateContent` and `streamGenerateContent?alt=sse`.

use modelmux_core::config::Provider;
use serde_json::{json, Value};

use crate::cases::{
    ErrorCase, RequestCase, ResponseCase, StreamCase, DEVELOPER_TEXT, IMAGE_URL, PNG_BASE64,
    SYSTEM_TEXT,
};
use crate::support::{
    non_empty, Check, Contract, ErrorWant, Fixture, RequestCheck, Support, Upstream,
};

pub struct Gemini;

fn roles(body: &Value) -> Vec<&str> {
    body["contents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["role"].as_str().unwrap_or("?"))
        .collect()
}

/// The parts of content `i`.
fn parts(body: &Value, i: usize) -> &Value {
    &body["contents"][i]["parts"]
}

fn system_texts(body: &Value) -> Vec<&str> {
    body["systemInstruction"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["text"].as_str().unwrap_or("?"))
        .collect()
}

fn user_text(up: &Upstream, text: &str) -> Check {
    ensure_eq!(roles(&up.body), vec!["user"], "roles");
    ensure_eq!(parts(&up.body, 0), &json!([{"text": text}]), "user parts");
    Ok(())
}

fn capital_question(up: &Upstream) -> Check {
    user_text(up, "What is the capital of France?")
}

fn call(city: &str) -> Value {
    json!({"name": "get_weather", "args": {"city": city}})
}

/// The function names of the `functionResponse` parts of content `i`.
fn response_names(body: &Value, i: usize) -> Vec<&str> {
    parts(body, i)
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["functionResponse"]["name"].as_str().unwrap_or("?"))
        .collect()
}

fn calls(body: &Value, i: usize) -> Vec<Value> {
    parts(body, i)
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["functionCall"].clone())
        .collect()
}

impl Contract for Gemini {
    const NAME: &'static str = "gemini";
    const KIND: &'static str = "gemini";
    const REASONING_TOKENS: bool = true;

    fn provider() -> Provider {
        Provider::new("gem", "gemini", "generativelanguage.googleapis.com").with_key("AIza-test")
    }

    /// Non-empty `contents` of user/model turns with non-empty parts, at
    /// least one user turn, and no empty text part.
    fn accepts(up: &Upstream) -> Check {
        let stream = up.client["stream"] == true;
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        ensure_eq!(
            up.path,
            format!("/v1beta/models/upstream-model:{method}"),
            "path"
        );
        ensure!(
            up.header("x-goog-api-key").is_some(),
            "no x-goog-api-key header"
        );
        let contents = non_empty(&up.body["contents"], "contents")?;
        for (i, c) in contents.iter().enumerate() {
            let role = c["role"].as_str().unwrap_or("?");
            ensure!(
                role == "user" || role == "model",
                "contents[{i}].role is {role}"
            );
            for p in non_empty(&c["parts"], &format!("contents[{i}].parts"))? {
                ensure!(p["text"] != "", "contents[{i}] has an empty text part");
            }
        }
        ensure!(roles(&up.body).contains(&"user"), "no user turn");
        Ok(())
    }

    fn request(case: RequestCase) -> Support<RequestCheck> {
        use RequestCase as C;
        match case {
            C::Text => Support::Yes(capital_question),
            C::MultiTurn => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "model", "user"], "roles");
                ensure_eq!(parts(&up.body, 1), &json!([{"text": "7"}]));
                Ok(())
            }),
            C::SystemAndDeveloper => Support::Yes(|up| {
                let system = system_texts(&up.body);
                ensure_eq!(
                    system,
                    vec![SYSTEM_TEXT, DEVELOPER_TEXT],
                    "systemInstruction"
                );
                user_text(up, "Hello")
            }),
            C::Tools => Support::Yes(|up| {
                let decl = &up.body["tools"][0]["functionDeclarations"][0];
                ensure_eq!(decl["name"], "get_weather");
                ensure!(decl["parameters"].is_object(), "no parameters in {decl}");
                let mode = &up.body["toolConfig"]["functionCallingConfig"]["mode"];
                ensure_eq!(mode, &json!("AUTO"), "function calling mode");
                ensure_eq!(roles(&up.body), vec!["user", "model", "user"], "roles");
                ensure_eq!(calls(&up.body, 1), vec![call("Paris")], "function calls");
                ensure_eq!(response_names(&up.body, 2), vec!["get_weather"]);
                let response = &parts(&up.body, 2)[0]["functionResponse"]["response"];
                ensure!(
                    response.to_string().contains("18°C, cloudy"),
                    "tool result lost: {response}"
                );
                Ok(())
            }),
            C::ParallelToolCallsHistory => Support::Yes(|up| {
                ensure_eq!(roles(&up.body), vec!["user", "model", "user"], "roles");
                let want = vec![call("Paris"), call("Oslo")];
                ensure_eq!(calls(&up.body, 1), want, "function calls");
                let names = response_names(&up.body, 2);
                ensure_eq!(names, vec!["get_weather", "get_weather"], "responses");
                Ok(())
            }),
            C::ImageDataUrl => Support::Yes(|up| {
                let want = json!({"mimeType": "image/png", "data": PNG_BASE64});
                ensure_eq!(parts(&up.body, 0)[1]["inlineData"], want, "inlineData");
                Ok(())
            }),
            C::ImageHttpsUrl => Support::Yes(|up| {
                let data = &parts(&up.body, 0)[1]["fileData"];
                ensure_eq!(data["fileUri"], IMAGE_URL, "fileData");
                ensure_eq!(data["mimeType"], "image/jpeg", "fileData");
                Ok(())
            }),
            C::JsonObject => Support::Yes(|up| {
                let config = &up.body["generationConfig"];
                ensure_eq!(config["responseMimeType"], "application/json");
                capital_question(up)
            }),
            C::JsonSchema => Support::Yes(|up| {
                let config = &up.body["generationConfig"];
                ensure_eq!(config["responseMimeType"], "application/json");
                let schema = &up.client["response_format"]["json_schema"]["schema"];
                ensure_eq!(&config["responseJsonSchema"], schema, "responseJsonSchema");
                Ok(())
            }),
            C::Reasoning => Support::Yes(|up| {
                let config = &up.body["generationConfig"];
                let thinking = &config["thinkingConfig"];
                ensure_eq!(thinking["includeThoughts"], true, "includeThoughts");
                ensure_eq!(thinking["thinkingBudget"], 24576, "thinkingBudget (high)");
                ensure_eq!(config["maxOutputTokens"], 16000, "maxOutputTokens");
                Ok(())
            }),
            // Gemini needs a `contents` entry: the text becomes the user turn.
            C::SystemOnly => Support::Yes(|up| {
                ensure!(
                    up.body.get("systemInstruction").is_none(),
                    "system sent twice"
                );
                user_text(up, SYSTEM_TEXT)
            }),
            C::DeveloperOnly => Support::Yes(|up| {
                ensure!(
                    up.body.get("systemInstruction").is_none(),
                    "system sent twice"
                );
                user_text(up, DEVELOPER_TEXT)
            }),
            C::MultipleChoices => Support::Yes(|up| {
                let config = &up.body["generationConfig"];
                ensure_eq!(config["candidateCount"], 2, "candidateCount");
                capital_question(up)
            }),
            C::Logprobs => Support::Refused { param: "logprobs" },
            C::Seed => Support::Yes(|up| {
                ensure_eq!(up.body["generationConfig"]["seed"], 42, "seed");
                capital_question(up)
            }),
            C::Streaming => Support::Yes(|up| {
                ensure!(up.body.get("stream").is_none(), "`stream` in the body");
                capital_question(up)
            }),
        }
    }

    fn response(case: ResponseCase) -> Support<Fixture> {
        use ResponseCase as C;
        match case {
            C::ServerTool => Support::NotApplicable(
                "no provider-run tool can be asked for through chat completions",
            ),
            C::PromptBlocked => Support::Yes(Fixture),
            C::Text
            | C::ToolCall
            | C::ToolCallNoArgs
            | C::ParallelToolCalls
            | C::Reasoning
            | C::UsageCached
            | C::UsageReasoning
            | C::Length
            | C::ContentFilter
            | C::MultipleChoices
            | C::NotTheShape => Support::Yes(Fixture),
        }
    }

    fn error(case: ErrorCase) -> Support<ErrorWant> {
        use ErrorCase as C;
        match case {
            C::BadRequest
            | C::Unauthorized
            | C::Forbidden
            | C::RateLimited
            | C::ServerError
            | C::Unavailable
            | C::NotJson => Support::Yes(ErrorWant::Translated),
            // `NOT_FOUND` about the model: OpenAI's code for an unknown model.
            C::NotFound => Support::Yes(ErrorWant::Coded("model_not_found")),
        }
    }

    fn stream(case: StreamCase) -> Support<Fixture> {
        use StreamCase as C;
        // Gemini frames with CRLF and sends no `[DONE]`: the chunk with a
        // `finishReason` is the last.
        match case {
            C::ServerTool => Support::NotApplicable(
                "no provider-run tool can be asked for through chat completions",
            ),
            // `partialArgs` are Vertex's (`streamFunctionCallArguments`); the
            // Gemini API decoder is the same one.
            C::ContentFilter | C::PromptBlocked | C::UsageRevised | C::StreamedArgs => {
                Support::Yes(Fixture)
            }
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
}
