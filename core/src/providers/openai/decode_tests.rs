use super::*;
use crate::events::{Encoder, Thinking};
use crate::providers::decoded::Decoded;
use crate::providers::{BodyEdit, Translator};
use crate::usage::Usage;

/// Writes each event's debug form on a line: the events, as decoded.
#[derive(Debug)]
struct Record;

impl Encoder for Record {
    fn event(&mut self, ev: Event<'_>, out: &mut Vec<u8>) {
        out.extend_from_slice(format!("{ev:?}\n").as_bytes());
    }
    fn reply(&self, _: &Reply<'_>) -> Result<Vec<u8>, ApiError> {
        Ok(Vec::new())
    }
    fn error(&self, err: &ApiError) -> Vec<u8> {
        err.to_json()
    }
}

fn lines(events: &[Event<'_>]) -> String {
    events.iter().map(|e| format!("{e:?}\n")).collect()
}

fn codec() -> OpenAiCodec {
    OpenAiCodec::new(crate::providers::openai::normalize_upstream_error)
}

/// Streams `body` split at `at` (and whole when `at` is past the end):
/// what the encoder got and the outcome.
fn stream(body: &[u8], at: usize) -> (String, crate::providers::Outcome) {
    let mut d = Decoded::new(codec(), Box::new(Record), true);
    d.response_headers(200, &|_| None);
    let mut out = Vec::new();
    let (a, b) = body.split_at(at.min(body.len()));
    for (part, end) in [(a, false), (b, true)] {
        if let BodyEdit::Replace(bytes) = d.response_body(part, end) {
            out.extend(bytes);
        }
    }
    (String::from_utf8(out).unwrap(), d.outcome())
}

/// The same events at every split of `body`.
fn every_split(body: &[u8]) -> (String, crate::providers::Outcome) {
    let whole = stream(body, usize::MAX);
    for at in 0..=body.len() {
        assert_eq!(stream(body, at), whole, "split at {at}");
    }
    whole
}

const USAGE: &str = r#"{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}"#;

fn usage() -> Usage {
    Usage {
        input: 10,
        output: 5,
        cache_read: 4,
        reasoning: 2,
        ..Usage::default()
    }
}

#[test]
fn stream_text_reasoning_tool_call_usage_at_every_split() {
    let body = format!(
        concat!(
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"finish_reason\":null}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"reasoning_content\":\"think\"}}}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"H\u{e9}\\n\"}}}}]}}\r\n\r\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"get\",\"arguments\":\"\"}}}}]}}}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":\"{{\\\"a\\\":\"}}}}]}}}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":\"1}}\"}}}}]}}}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"tool_calls\"}}]}}\n\n",
            "data: {{\"id\":\"c1\",\"choices\":[],\"usage\":{usage}}}\n\n",
            "data: [DONE]\n\n"
        ),
        usage = USAGE
    );
    let (out, outcome) = every_split(body.as_bytes());
    let expected = lines(&[
        Event::Start { id: "c1" },
        Event::Text(""),
        Event::Reasoning("think"),
        Event::Text("H\u{e9}\n"),
        Event::ToolStart {
            index: 0,
            id: "call_1",
            name: "get",
            signature: None,
        },
        Event::ToolArgs {
            index: 0,
            json: "{\"a\":",
        },
        Event::ToolArgs {
            index: 0,
            json: "1}",
        },
        Event::Finish(Finish::ToolCalls),
        Event::Usage(usage()),
        Event::End,
    ]);
    assert_eq!(out, expected);
    assert_eq!(outcome.usage, usage());
    assert_eq!(outcome.failure, None);
    assert!(outcome.content);
}

#[test]
fn stream_several_choices_and_reasoning_field_at_every_split() {
    let body = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"r\"}},{\"index\":1,\"delta\":{\"content\":\"b\"}}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\",\"reasoning\":{\"effort\":\"x\"}},\"finish_reason\":\"length\"}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":1,\"delta\":{},\"finish_reason\":\"content_filter\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let (out, outcome) = every_split(body.as_bytes());
    let expected = lines(&[
        Event::Start { id: "c" },
        Event::Reasoning("r"),
        Event::Choice(1),
        Event::Text("b"),
        Event::Choice(0),
        Event::Text("a"),
        Event::Finish(Finish::Length),
        Event::Choice(1),
        Event::Finish(Finish::ContentFilter),
        Event::End,
    ]);
    assert_eq!(out, expected);
    assert_eq!(outcome.failure, None);
}

#[test]
fn stream_tool_calls_without_index_are_told_apart_by_id() {
    let body = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"a\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"id\":\"b\",\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\":1}\"}}]},\"finish_reason\":\"function_call\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let (out, _) = every_split(body.as_bytes());
    let start = |index, id, name| Event::ToolStart {
        index,
        id,
        name,
        signature: None,
    };
    let expected = lines(&[
        Event::Start { id: "c" },
        start(0, "a", "f"),
        Event::ToolArgs {
            index: 0,
            json: "{}",
        },
        start(1, "b", "g"),
        Event::ToolArgs {
            index: 1,
            json: "{\"x\"",
        },
        Event::ToolArgs {
            index: 1,
            json: ":1}",
        },
        Event::Finish(Finish::ToolCalls),
        Event::End,
    ]);
    assert_eq!(out, expected);
}

#[test]
fn stream_error_chunk_is_an_error_event_failure() {
    let body = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\",\"code\":\"server_error\"}}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"}}]}\n\n",
    );
    let (out, outcome) = every_split(body.as_bytes());
    let mut err = ApiError::new(502, "server_error", "overloaded");
    err.code = Some("server_error");
    let expected = lines(&[
        Event::Start { id: "c" },
        Event::Text("a"),
        Event::Error(err),
    ]);
    assert_eq!(out, expected);
    let f = outcome.failure.unwrap();
    assert_eq!((f.cause, f.status), (Cause::ErrorEvent, 502));
}

#[test]
fn stream_without_done_is_truncated_and_a_bad_chunk_is_a_502() {
    let body = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n";
    let (out, outcome) = every_split(body.as_bytes());
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("Error(") && last.contains("ended the stream"),
        "{out}"
    );
    assert_eq!(out.lines().count(), 4, "{out}");
    assert_eq!(outcome.failure.map(|f| f.cause), Some(Cause::Truncated));

    let (_, outcome) = every_split(b"data: {\"choices\":[{\"index\":\"x\"}]}\n\n");
    let f = outcome.failure.unwrap();
    assert_eq!((f.cause, f.status), (Cause::ErrorEvent, 502));
}

#[test]
fn whole_reply_with_everything() {
    let body = format!(
        r#"{{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[
        {{"index":1,"message":{{"role":"assistant","content":null,"refusal":"no"}},"finish_reason":"content_filter"}},
        {{"index":0,"message":{{"role":"assistant","content":"hi","reasoning_content":"why","tool_calls":[
            {{"id":"call_1","type":"function","function":{{"name":"get","arguments":"{{\"a\":1}}"}}}}]}},"finish_reason":"tool_calls","logprobs":null}}],
        "usage":{USAGE},"system_fingerprint":"fp"}}"#
    );
    let r = codec().reply(body.as_bytes()).unwrap();
    let expected = Reply {
        id: "chatcmpl-1".into(),
        choice: Choice {
            index: 1,
            text: Some("no".into()),
            finish: Finish::ContentFilter,
            ..Choice::default()
        },
        more: vec![Choice {
            index: 0,
            text: Some("hi".into()),
            reasoning: Some("why".into()),
            thinking: Vec::<Thinking<'_>>::new(),
            tool_calls: vec![ToolCall {
                id: "call_1".into(),
                name: "get".into(),
                arguments: "{\"a\":1}".into(),
                signature: None,
            }],
            finish: Finish::ToolCalls,
        }],
        usage: usage(),
    };
    assert_eq!(r, expected);
}

#[test]
fn whole_reply_reasoning_field_and_finish_reasons() {
    for (reason, finish) in [
        ("stop", Finish::Stop),
        ("length", Finish::Length),
        ("tool_calls", Finish::ToolCalls),
        ("function_call", Finish::ToolCalls),
        ("content_filter", Finish::ContentFilter),
        ("something_new", Finish::Stop),
    ] {
        let body = format!(
            r#"{{"id":"x","choices":[{{"index":0,"message":{{"content":"a","reasoning":"r"}},"finish_reason":"{reason}"}}]}}"#
        );
        let r = codec().reply(body.as_bytes()).unwrap();
        assert_eq!(r.choice.finish, finish, "{reason}");
        assert_eq!(r.choice.reasoning.as_deref(), Some("r"));
        assert_eq!(r.usage, Usage::default());
    }
}

#[test]
fn legacy_function_call_is_a_tool_call() {
    let body = br#"{"id":"x","choices":[{"index":0,"message":{"content":null,"function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]}"#;
    let r = codec().reply(body).unwrap();
    assert_eq!(r.choice.tool_calls.len(), 1);
    assert_eq!(r.choice.tool_calls[0].name, "f");
    assert_eq!(r.choice.finish, Finish::ToolCalls);
}

#[test]
fn error_behind_2xx_and_malformed_bodies() {
    let (cause, e) = codec()
        .reply(br#"{"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota","param":null}}"#)
        .unwrap_err();
    assert_eq!(cause, Cause::ErrorEvent);
    assert_eq!((e.status, e.message.as_str()), (502, "quota"));
    assert_eq!(e.code, Some("insufficient_quota"));
    for bad in [
        &br#"{"id":"x"}"#[..],
        br#"{"id":"x","choices":[]}"#,
        b"<html>",
        br#"{"choices":[{"message":{"content":1}}]}"#,
        br#"{"choices":[{"message":{"content":[{"type":"text","text":2}]}}]}"#,
    ] {
        let (cause, e) = codec().reply(bad).unwrap_err();
        assert_eq!((cause, e.status), (Cause::Malformed, 502), "{bad:?}");
    }
}

#[test]
fn whole_json_through_the_translator() {
    let mut d = Decoded::new(codec(), Box::new(Record), false);
    d.response_headers(200, &|_| None);
    let body = format!(
        r#"{{"id":"x","choices":[{{"index":0,"message":{{"content":"a"}},"finish_reason":"stop"}}],"usage":{USAGE}}}"#
    );
    let (a, b) = body.as_bytes().split_at(7);
    assert_eq!(d.response_body(a, false), BodyEdit::Replace(Vec::new()));
    assert!(matches!(d.response_body(b, true), BodyEdit::Replace(_)));
    assert_eq!(d.outcome().usage, usage());
    assert_eq!(d.outcome().failure, None);

    let mut d = Decoded::new(codec(), Box::new(Record), false);
    d.response_headers(200, &|_| None);
    let edit = d.response_body(br#"{"id":"x"}"#, true);
    assert!(
        matches!(edit, BodyEdit::Fail { status: 502, .. }),
        "{edit:?}"
    );
    assert_eq!(d.outcome().failure.map(|f| f.cause), Some(Cause::Malformed));
}

#[test]
fn error_statuses_keep_message_code_and_param() {
    let e = codec().error(
        400,
        br#"{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
    );
    assert_eq!(e.status, 400);
    assert_eq!(e.message, "too long");
    assert_eq!(e.kind, "invalid_request_error");
    assert_eq!(e.param.as_deref(), Some("messages"));
    assert_eq!(e.code, Some("context_length_exceeded"));

    let e = codec().error(503, b"no healthy upstream");
    assert_eq!(e.status, 503);
    assert!(e.message.contains("no healthy upstream"), "{}", e.message);

    // Azure's shape goes through Azure's normaliser first.
    let azure = OpenAiCodec::new(crate::providers::azure::normalize);
    let e = azure.error(
        429,
        br#"{"statusCode":429,"message":"Rate limit is exceeded."}"#,
    );
    assert_eq!((e.status, e.kind), (429, "rate_limit_error"));
    assert_eq!(e.message, "Rate limit is exceeded.");
}

#[test]
fn gemini_thought_signatures_and_missing_ids() {
    let body = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"{}\"},\"extra_content\":{\"google\":{\"thought_signature\":\"sig\"}}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n",
    );
    let (out, _) = every_split(body.as_bytes());
    let expected = lines(&[
        Event::Start { id: "c" },
        Event::ToolStart {
            index: 0,
            id: "call_0",
            name: "f",
            signature: Some("sig"),
        },
        Event::ToolArgs {
            index: 0,
            json: "{}",
        },
        Event::Finish(Finish::ToolCalls),
        Event::End,
    ]);
    assert_eq!(out, expected);

    let body = br#"{"id":"x","choices":[{"index":0,"message":{"tool_calls":[{"id":"","type":"function","function":{"name":"f","arguments":"{}"},"extra_content":{"google":{"thought_signature":"sig"}}}]},"finish_reason":"tool_calls"}]}"#;
    let r = codec().reply(body).unwrap();
    let call = &r.choice.tool_calls[0];
    assert_eq!(
        (call.id.as_ref(), call.signature.as_deref()),
        ("call_0", Some("sig"))
    );
}

#[test]
fn content_as_an_array_of_parts_keeps_the_text_parts() {
    let body = br#"{"id":"x","choices":[{"index":0,"message":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"hmm"}]},{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":"stop"}]}"#;
    let r = codec().reply(body).unwrap();
    assert_eq!(r.choice.text.as_deref(), Some("ab"));

    let stream = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"x\"}]}}]}\n\n",
        "data: [DONE]\n\n",
    );
    let (out, _) = every_split(stream.as_bytes());
    assert_eq!(
        out,
        lines(&[Event::Start { id: "c" }, Event::Text("x"), Event::End])
    );
}
