//! The shared case list: client requests, and what the client must get
//! back whatever provider serves it.

use serde_json::{json, Value};

use crate::summary::{ChoiceWant, End, ReplyWant, StreamWant, Tokens};

/// A case enum with its list and its fixture names, from one definition
/// (so `ALL` cannot miss a variant).
macro_rules! cases {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $file:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The fixture's file stem.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $file,)* }
            }
        }
    };
}

cases! {
    /// OpenAI chat requests every provider must translate (or refuse).
    RequestCase {
        Text => "text",
        MultiTurn => "multi_turn",
        /// A system and a developer message before the user turn.
        SystemAndDeveloper => "system_and_developer",
        /// One tool call in history and its result.
        Tools => "tools",
        /// An assistant turn with two tool calls, then both results.
        ParallelToolCallsHistory => "parallel_tool_calls_history",
        ImageDataUrl => "image_data_url",
        ImageHttpsUrl => "image_https_url",
        JsonObject => "json_object",
        JsonSchema => "json_schema",
        /// `reasoning_effort: "high"`.
        Reasoning => "reasoning",
        /// Only a system message (OpenAI accepts it).
        SystemOnly => "system_only",
        /// Only a developer message (OpenAI accepts it).
        DeveloperOnly => "developer_only",
        /// `stream: true` with `stream_options.include_usage`.
        Streaming => "streaming",
        /// `n: 2`: two choices.
        MultipleChoices => "multiple_choices",
        /// `logprobs: true, top_logprobs: 3`.
        Logprobs => "logprobs",
        /// `seed: 42`.
        Seed => "seed",
    }
}

cases! {
    /// Native 2xx bodies → the OpenAI completion.
    ResponseCase {
        /// Plain text, `stop`.
        Text => "text",
        /// One tool call, `tool_calls`.
        ToolCall => "tool_call",
        /// A call of a tool without parameters: `arguments` is `"{}"`.
        ToolCallNoArgs => "tool_call_no_args",
        ParallelToolCalls => "parallel_tool_calls",
        /// Reasoning text beside the answer.
        Reasoning => "reasoning",
        /// Cached prompt tokens.
        UsageCached => "usage_cached",
        /// Reasoning tokens reported apart.
        UsageReasoning => "usage_reasoning",
        /// Cut at the token limit: `length`.
        Length => "length",
        /// Stopped by a safety filter: `content_filter`.
        ContentFilter => "content_filter",
        /// The prompt was refused before generation, with a 2xx (Gemini's
        /// `promptFeedback.blockReason`): an empty `content_filter`
        /// completion with the prompt's usage, not an error.
        PromptBlocked => "prompt_blocked",
        /// A tool the provider ran itself (Bedrock's Nova code
        /// interpreter) and its result beside the answer: neither is a
        /// client tool call nor text, and the finish is `stop`.
        ServerTool => "server_tool",
        /// `n: 2`: a text choice and a tool call choice.
        MultipleChoices => "multiple_choices",
        /// `{"not":"a response"}` behind a 200: must be a 502 (no fixture).
        NotTheShape => "not_the_shape",
    }
}

cases! {
    /// Native error responses → OpenAI errors.
    ErrorCase {
        BadRequest => "error_400",
        Unauthorized => "error_401",
        Forbidden => "error_403",
        NotFound => "error_404",
        RateLimited => "error_429",
        ServerError => "error_500",
        Unavailable => "error_503",
        /// A 502 with a plain-text body from an intermediary (no fixture).
        NotJson => "error_not_json",
    }
}

cases! {
    /// Native SSE → OpenAI chunks.
    StreamCase {
        Text => "text",
        ToolCall => "tool_call",
        /// A call of a tool without parameters that streams no argument
        /// text: `arguments` is `"{}"`.
        ToolCallNoArgs => "tool_call_no_args",
        ParallelToolCalls => "parallel_tool_calls",
        Reasoning => "reasoning",
        /// Usage with cached prompt tokens.
        Usage => "usage",
        /// Some text, then stopped by a safety filter: `content_filter`,
        /// usage kept.
        ContentFilter => "content_filter",
        /// The prompt was refused before generation: an empty
        /// `content_filter` stream with the prompt's usage.
        PromptBlocked => "prompt_blocked",
        /// Usage repeated with a prompt count that goes *down* in the last
        /// chunk: the usage is the last chunk's, not a per-field maximum.
        UsageRevised => "usage_revised",
        /// A call whose arguments stream as pieces across chunks, later
        /// pieces without the name (Vertex `partialArgs`).
        StreamedArgs => "streamed_args",
        /// A tool the provider ran itself and its result, then text: no
        /// client tool call, finish `stop`.
        ServerTool => "server_tool",
        /// Some text, then an error event (overloaded).
        MidStreamError => "mid_stream_error",
        /// Some text, then the connection ends.
        Truncated => "truncated",
    }
}

/// The model name clients ask for.
pub const PUBLIC_MODEL: &str = "contract-model";

const WEATHER_TOOL: &str = "get_weather";
/// The tool without parameters the no-arguments fixtures call.
const TIME_TOOL: &str = "get_time";

fn weather_tool() -> Value {
    json!({"type": "function", "function": {
        "name": WEATHER_TOOL,
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        }, "required": ["city"]}
    }})
}

fn call(id: &str, city: &str) -> Value {
    json!({"id": id, "type": "function", "function": {
        "name": WEATHER_TOOL,
        "arguments": json!({"city": city}).to_string()
    }})
}

/// A 1×1 transparent PNG.
pub const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
pub const IMAGE_URL: &str = "https://example.com/images/harbour.jpg";
pub const SYSTEM_TEXT: &str = "You are a terse assistant.";
pub const DEVELOPER_TEXT: &str = "Answer in English.";

/// The client request of a request case.
pub fn request(case: RequestCase) -> Value {
    let user = |text: &str| json!({"role": "user", "content": text});
    let messages = match case {
        RequestCase::Text
        | RequestCase::JsonObject
        | RequestCase::JsonSchema
        | RequestCase::Reasoning
        | RequestCase::Streaming
        | RequestCase::MultipleChoices
        | RequestCase::Logprobs
        | RequestCase::Seed => vec![user("What is the capital of France?")],
        RequestCase::MultiTurn => vec![
            user("Name a prime number."),
            json!({"role": "assistant", "content": "7"}),
            user("And a larger one?"),
        ],
        RequestCase::SystemAndDeveloper => vec![
            json!({"role": "system", "content": SYSTEM_TEXT}),
            json!({"role": "developer", "content": DEVELOPER_TEXT}),
            user("Hello"),
        ],
        RequestCase::Tools => vec![
            user("Weather in Paris?"),
            json!({"role": "assistant", "content": null, "tool_calls": [call("call_1", "Paris")]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "18°C, cloudy"}),
        ],
        RequestCase::ParallelToolCallsHistory => vec![
            user("Weather in Paris and Oslo?"),
            json!({"role": "assistant", "content": null,
                   "tool_calls": [call("call_p", "Paris"), call("call_o", "Oslo")]}),
            json!({"role": "tool", "tool_call_id": "call_p", "content": "18°C"}),
            json!({"role": "tool", "tool_call_id": "call_o", "content": "9°C"}),
        ],
        RequestCase::ImageDataUrl => vec![image_message(&format!(
            "data:image/png;base64,{PNG_BASE64}"
        ))],
        RequestCase::ImageHttpsUrl => vec![image_message(IMAGE_URL)],
        RequestCase::SystemOnly => vec![json!({"role": "system", "content": SYSTEM_TEXT})],
        RequestCase::DeveloperOnly => vec![json!({"role": "developer", "content": DEVELOPER_TEXT})],
    };
    let mut body = json!({"model": PUBLIC_MODEL, "messages": messages});
    let extra = match case {
        RequestCase::Tools | RequestCase::ParallelToolCallsHistory => {
            json!({"tools": [weather_tool()], "tool_choice": "auto"})
        }
        RequestCase::JsonObject => json!({"response_format": {"type": "json_object"}}),
        RequestCase::JsonSchema => {
            json!({"response_format": {"type": "json_schema", "json_schema": {
                "name": "capital", "strict": true,
                "schema": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"], "additionalProperties": false}
            }}})
        }
        RequestCase::Reasoning => {
            json!({"reasoning_effort": "high", "max_completion_tokens": 16000})
        }
        RequestCase::Streaming => {
            json!({"stream": true, "stream_options": {"include_usage": true}})
        }
        RequestCase::MultipleChoices => json!({"n": 2}),
        RequestCase::Logprobs => json!({"logprobs": true, "top_logprobs": 3}),
        RequestCase::Seed => json!({"seed": 42}),
        RequestCase::Text
        | RequestCase::MultiTurn
        | RequestCase::SystemAndDeveloper
        | RequestCase::ImageDataUrl
        | RequestCase::ImageHttpsUrl
        | RequestCase::SystemOnly
        | RequestCase::DeveloperOnly => json!({}),
    };
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}

fn image_message(url: &str) -> Value {
    json!({"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": url, "detail": "low"}}
    ]})
}

/// The request behind response, error and stream cases.
pub fn plain_request(stream: bool, include_usage: bool) -> Value {
    let mut body = json!({"model": PUBLIC_MODEL, "tools": [weather_tool()],
                          "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    if stream {
        body["stream"] = json!(true);
        body["stream_options"] = json!({"include_usage": include_usage});
    }
    body
}

/// The request behind a response case (`n: 2` for `MultipleChoices`).
pub fn response_request(case: ResponseCase) -> Value {
    let mut body = plain_request(false, false);
    if case == ResponseCase::MultipleChoices {
        body["n"] = json!(2);
    }
    body
}

/// Arguments of the tool calls the fixtures make.
pub fn paris() -> Value {
    json!({"city": "Paris", "unit": "celsius"})
}
pub fn oslo() -> Value {
    json!({"city": "Oslo", "unit": "celsius"})
}

/// What the client must get for a response case (none for `NotTheShape`).
pub fn reply(case: ResponseCase) -> Option<ReplyWant> {
    let base = ReplyWant::default();
    Some(match case {
        ResponseCase::Text => ReplyWant {
            text: "The capital of France is Paris.",
            usage: Tokens::new(14, 8),
            ..base
        },
        ResponseCase::ToolCall => ReplyWant {
            tools: vec![(WEATHER_TOOL, paris())],
            finish: "tool_calls",
            usage: Tokens::new(80, 20),
            ..base
        },
        ResponseCase::ToolCallNoArgs => ReplyWant {
            tools: vec![(TIME_TOOL, json!({}))],
            finish: "tool_calls",
            usage: Tokens::new(80, 10),
            ..base
        },
        ResponseCase::ParallelToolCalls => ReplyWant {
            tools: vec![(WEATHER_TOOL, paris()), (WEATHER_TOOL, oslo())],
            finish: "tool_calls",
            usage: Tokens::new(80, 40),
            ..base
        },
        ResponseCase::Reasoning => ReplyWant {
            text: "There are 3 r's in \"strawberry\".",
            reasoning: "Spell it out: s-t-r-a-w-b-e-r-r-y. The r's are at positions 3, 8 and 9.",
            usage: Tokens::new(20, 150).reasoning(120),
            ..base
        },
        ResponseCase::UsageCached => ReplyWant {
            text: "Done.",
            usage: Tokens::new(2048, 3).cached(1920),
            ..base
        },
        ResponseCase::UsageReasoning => ReplyWant {
            text: "42",
            usage: Tokens::new(30, 520).reasoning(512),
            ..base
        },
        ResponseCase::Length => ReplyWant {
            text: "Once upon a time, in a",
            finish: "length",
            usage: Tokens::new(12, 8),
            ..base
        },
        ResponseCase::ContentFilter => ReplyWant {
            text: "",
            finish: "content_filter",
            usage: Tokens::new(15, 0),
            ..base
        },
        ResponseCase::PromptBlocked => ReplyWant {
            text: "",
            finish: "content_filter",
            usage: Tokens::new(12, 0),
            ..base
        },
        ResponseCase::ServerTool => ReplyWant {
            text: "The average of the twelve numbers is 101.83.",
            usage: Tokens::new(420, 95),
            ..base
        },
        ResponseCase::MultipleChoices => ReplyWant {
            text: "It is sunny in Paris.",
            more: vec![ChoiceWant {
                tools: vec![(WEATHER_TOOL, paris())],
                finish: "tool_calls",
                ..ChoiceWant::default()
            }],
            usage: Tokens::new(80, 30),
            ..base
        },
        ResponseCase::NotTheShape => return None,
    })
}

/// The 2xx body of `NotTheShape`: valid JSON, no provider's response.
pub const NOT_THE_SHAPE: &[u8] = br#"{"not":"a response"}"#;
/// The body of `ErrorCase::NotJson`.
pub const NOT_JSON: &[u8] =
    b"upstream connect error or disconnect/reset before headers. reset reason: overflow";

impl ErrorCase {
    /// The upstream status.
    pub fn status(self) -> u16 {
        match self {
            ErrorCase::BadRequest => 400,
            ErrorCase::Unauthorized => 401,
            ErrorCase::Forbidden => 403,
            ErrorCase::NotFound => 404,
            ErrorCase::RateLimited => 429,
            ErrorCase::ServerError => 500,
            ErrorCase::Unavailable => 503,
            ErrorCase::NotJson => 502,
        }
    }

    /// The OpenAI error `type` of a translated error.
    pub fn kind(self) -> &'static str {
        match self {
            ErrorCase::BadRequest | ErrorCase::NotFound => "invalid_request_error",
            ErrorCase::Unauthorized => "authentication_error",
            ErrorCase::Forbidden => "permission_error",
            ErrorCase::RateLimited => "rate_limit_error",
            ErrorCase::ServerError | ErrorCase::Unavailable | ErrorCase::NotJson => "server_error",
        }
    }

    /// The message the native fixture carries and the client must see.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCase::BadRequest => "max_tokens: must be greater than or equal to 1",
            ErrorCase::Unauthorized => "invalid api key",
            ErrorCase::Forbidden => "This key has no access to the requested resource.",
            ErrorCase::NotFound => "model: upstream-model was not found",
            ErrorCase::RateLimited => "Rate limit reached: 50 requests per minute.",
            ErrorCase::ServerError => "Internal server error.",
            ErrorCase::Unavailable => "The service is temporarily unavailable.",
            ErrorCase::NotJson => "upstream connect error",
        }
    }

    /// A `retry-after` header (seconds) sent with the error, if any.
    pub fn retry_after(self) -> Option<&'static str> {
        (self == ErrorCase::RateLimited).then_some("7")
    }
}

/// What the client must get for a stream case.
pub fn stream(case: StreamCase) -> StreamWant {
    let base = StreamWant::default();
    match case {
        StreamCase::Text => StreamWant {
            text: "Paris is the capital of France.",
            usage: Some(Tokens::new(14, 7)),
            ..base
        },
        StreamCase::ToolCall => StreamWant {
            tools: vec![(WEATHER_TOOL, paris())],
            finish: Some("tool_calls"),
            usage: Some(Tokens::new(80, 20)),
            ..base
        },
        StreamCase::ToolCallNoArgs => StreamWant {
            tools: vec![(TIME_TOOL, json!({}))],
            finish: Some("tool_calls"),
            usage: Some(Tokens::new(80, 10)),
            ..base
        },
        StreamCase::ParallelToolCalls => StreamWant {
            tools: vec![(WEATHER_TOOL, paris()), (WEATHER_TOOL, oslo())],
            finish: Some("tool_calls"),
            usage: Some(Tokens::new(80, 40)),
            ..base
        },
        StreamCase::Reasoning => StreamWant {
            text: "3",
            reasoning: "Count the r's in strawberry: three.",
            usage: Some(Tokens::new(20, 90).reasoning(80)),
            ..base
        },
        StreamCase::Usage => StreamWant {
            text: "Done.",
            usage: Some(Tokens::new(2048, 3).cached(1920)),
            ..base
        },
        StreamCase::ContentFilter => StreamWant {
            text: "Here is how",
            finish: Some("content_filter"),
            usage: Some(Tokens::new(18, 3)),
            ..base
        },
        StreamCase::PromptBlocked => StreamWant {
            finish: Some("content_filter"),
            usage: Some(Tokens::new(12, 0)),
            ..base
        },
        StreamCase::UsageRevised => StreamWant {
            text: "Fine, thanks.",
            usage: Some(Tokens::new(25, 4)),
            ..base
        },
        StreamCase::StreamedArgs => StreamWant {
            tools: vec![(WEATHER_TOOL, paris())],
            finish: Some("tool_calls"),
            usage: Some(Tokens::new(80, 20)),
            ..base
        },
        StreamCase::ServerTool => StreamWant {
            text: "The average is 101.83.",
            usage: Some(Tokens::new(420, 95)),
            ..base
        },
        StreamCase::MidStreamError => StreamWant {
            text: "Partial ans",
            finish: None,
            usage: None,
            end: End::Error("server_error"),
            ..base
        },
        StreamCase::Truncated => StreamWant {
            text: "Cut off mid-",
            finish: None,
            usage: None,
            end: End::Truncated,
            ..base
        },
    }
}
