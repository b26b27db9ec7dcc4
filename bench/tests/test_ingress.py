"""The Messages and Responses cases: the ids the issue asks for, the feature
they need, and, for each, that the filter and the plain Envoy are sent the
same conversation (system prompt, user text, output limit, stream flag),
each in its own format."""

import json

import pytest

import bench
from lib import ingress
from lib.bodies import MAX_TOKENS, SYSTEM_PROMPT

NEW_IDS = ["messages-anthropic-1k", "messages-openai-1k", "responses-anthropic-1k",
           "stream-messages-openai", "stream-responses-anthropic"]


def conversation(path: str, doc: dict) -> dict:
    """The conversation a request carries, whatever its format."""
    if path == "/v1/chat/completions":
        system, user = doc["messages"]
        assert system["role"] == "system" and user["role"] == "user"
        return {"system": system["content"], "user": user["content"],
                "limit": doc["max_tokens"], "stream": doc.get("stream", False)}
    if path == "/v1/messages":
        [user] = doc["messages"]
        assert user["role"] == "user"
        return {"system": doc["system"], "user": user["content"],
                "limit": doc["max_tokens"], "stream": doc.get("stream", False)}
    if path == "/v1/responses":
        [item] = doc["input"]
        assert item["type"] == "message" and item["role"] == "user"
        [part] = item["content"]
        assert part["type"] == "input_text"
        return {"system": doc["instructions"], "user": part["text"],
                "limit": doc["max_output_tokens"], "stream": doc.get("stream", False)}
    raise AssertionError(path)


@pytest.fixture(scope="module")
def bodies(tmp_path_factory):
    paths = bench.write_bodies(tmp_path_factory.mktemp("bodies"))
    return {k: json.loads(p.read_bytes()) for k, p in paths.items()}


def by_id():
    return {c.id: c for c in bench.CASES}


def test_the_new_cases_exist_in_report_order():
    ids = [c.id for c in bench.CASES]
    assert [i for i in ids if i in NEW_IDS] == NEW_IDS
    # 1 KB rows with the 1 KB chats, stream rows with the streams.
    assert ids.index("messages-anthropic-1k") < ids.index("stream-translate")
    assert ids.index("stream-messages-openai") > ids.index("stream-bedrock")
    assert ids.index("stream-responses-anthropic") < ids.index("passthrough-200k")
    assert [by_id()[i].stream for i in NEW_IDS] == [False, False, False, True, True]


@pytest.mark.parametrize("case_id", NEW_IDS)
def test_new_cases_need_dialects(case_id):
    case = by_id()[case_id]
    assert case.needs == {"dialects"}
    assert "dialects" in bench.FEATURES
    assert bench.baseline_skip_reason(case, frozenset({"failover"})) == \
        "baseline filter has no dialects"
    assert bench.baseline_skip_reason(case, frozenset({"failover", "dialects"})) is None


@pytest.mark.parametrize("case_id, mm_path, mm_shape, plain_path, plain_shape", [
    ("messages-anthropic-1k", "/v1/messages", "anthropic", "/v1/messages", "anthropic"),
    ("messages-openai-1k", "/v1/messages", "anthropic", "/v1/chat/completions", "openai"),
    ("stream-messages-openai", "/v1/messages", "anthropic_sse",
     "/v1/chat/completions", "openai_sse"),
    ("responses-anthropic-1k", "/v1/responses", "responses", "/v1/messages", "anthropic"),
    ("stream-responses-anthropic", "/v1/responses", "responses_sse",
     "/v1/messages", "anthropic_sse"),
])
def test_routes(case_id, mm_path, mm_shape, plain_path, plain_shape):
    case = by_id()[case_id]
    assert (case.modelmux.path, case.modelmux.shape) == (mm_path, mm_shape)
    assert (case.plain.path, case.plain.shape) == (plain_path, plain_shape)
    for req in (case.modelmux, case.plain):
        want = {"anthropic-version": "2023-06-01"} if req.path == "/v1/messages" else {}
        assert req.headers == want


@pytest.mark.parametrize("case_id, mm_model, plain_model", [
    ("messages-anthropic-1k", "claude-sonnet", "claude-sonnet-4-5"),
    ("messages-openai-1k", "gpt-4o-mini", "gpt-4o-mini"),
    ("stream-messages-openai", "gpt-4o-mini", "gpt-4o-mini"),
    ("responses-anthropic-1k", "claude-sonnet", "claude-sonnet-4-5"),
    ("stream-responses-anthropic", "claude-sonnet", "claude-sonnet-4-5"),
])
def test_filter_and_plain_get_the_same_conversation(bodies, case_id, mm_model, plain_model):
    case = by_id()[case_id]
    mm, plain = bodies[case.modelmux.body], bodies[case.plain.body]
    assert (mm["model"], plain["model"]) == (mm_model, plain_model)
    want = conversation(case.plain.path, plain)
    assert conversation(case.modelmux.path, mm) == want
    assert want["system"] == SYSTEM_PROMPT and want["limit"] == MAX_TOKENS
    assert want["stream"] is case.stream
    # The user text of the other 1 KB cases.
    assert want["user"] == bodies["openai_1k"]["messages"][1]["content"]


def test_responses_request_is_stateless(bodies):
    doc = bodies[by_id()["responses-anthropic-1k"].modelmux.body]
    assert doc["store"] is False
    assert set(doc) == {"model", "instructions", "input", "max_output_tokens", "store"}


def test_passthrough_is_named_only_for_the_native_pair():
    passthrough = {r.case_id(False): r.passthrough for r in ingress.ROUTES}
    assert passthrough == {"messages-anthropic-1k": True, "messages-openai-1k": False,
                           "responses-anthropic-1k": False}
    assert by_id()["messages-anthropic-1k"].title.endswith("(passthrough)")


def test_every_case_body_is_written(bodies):
    for case in bench.CASES:
        assert case.modelmux.body in bodies and case.plain.body in bodies, case.id


def test_every_case_shape_has_a_check():
    from lib import shapes
    for case in bench.CASES:
        for req in (case.modelmux, case.plain):
            assert req.shape in shapes._CHECKS, (case.id, req.shape)
