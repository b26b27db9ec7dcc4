"""The official SDKs against the mock providers themselves (no gateway).

google-genai talks to the Gemini mock, openai.AzureOpenAI (deployment style
and the v1 API) to the Azure mock, and openai.OpenAI to the OpenAI mock's
embeddings. If an SDK accepts what the mock sends and the values are the
mock's deterministic ones, gateway tests can rely on the same mock.

This module starts its own mock process and needs neither Envoy nor the
session fixtures.
"""

from __future__ import annotations

import openai
import pytest
import requests
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

import support
from support import (
    MOCK_AZURE_KEY,
    MOCK_GEMINI_KEY,
    MOCK_OPENAI_KEY,
    MockProcess,
    expected_embedding,
    expected_embedding_f32,
    expected_reply,
    words,
)

AZURE_API_VERSION = "2024-10-21"


@pytest.fixture(scope="module")
def sdk_mock(tmp_path_factory) -> MockProcess:
    log = tmp_path_factory.mktemp("mock-sdks") / "mock.log"
    proc = MockProcess(log, listeners=["gemini=gemini@127.0.0.1:0", "azure=azure@127.0.0.1:0"])
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


def gemini_client(mock: MockProcess, key: str = MOCK_GEMINI_KEY, headers: dict[str, str] | None = None) -> genai.Client:
    options = types.HttpOptions(base_url=mock.url("gemini", ""), headers=headers)
    return genai.Client(api_key=key, http_options=options)


def azure_client(mock: MockProcess) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=mock.url("azure", ""),
        api_key=MOCK_AZURE_KEY,
        api_version=AZURE_API_VERSION,
        max_retries=0,
    )


def azure_v1_client(mock: MockProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.url("azure", "/openai/v1/"), api_key=MOCK_AZURE_KEY, max_retries=0)


def last_request(mock: MockProcess, side: str) -> dict:
    log = mock.requests(side)
    assert log, f"no request reached the {side} mock"
    return log[-1]


# --------------------------------------------------------------------------
# Gemini (google-genai)
# --------------------------------------------------------------------------


def test_gemini_generate_content(sdk_mock):
    client = gemini_client(sdk_mock)
    resp = client.models.generate_content(
        model="gemini-2.5-flash",
        contents="hello there",
        config=types.GenerateContentConfig(system_instruction="be brief", temperature=0.2),
    )
    assert resp.text == expected_reply("gemini-2.5-flash", "hello there")
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    usage = resp.usage_metadata
    assert usage.prompt_token_count == words("be brief hello there")
    assert usage.candidates_token_count == words(resp.text)
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    assert resp.model_version == "gemini-2.5-flash"
    sent = last_request(sdk_mock, "gemini")
    assert sent["headers"]["x-goog-api-key"] == MOCK_GEMINI_KEY
    assert sent["path"].endswith("/models/gemini-2.5-flash:generateContent")


def test_gemini_limits_and_thoughts(sdk_mock):
    client = gemini_client(sdk_mock)
    resp = client.models.generate_content(
        model="gemini-2.5-flash",
        contents="one two three",
        config=types.GenerateContentConfig(
            max_output_tokens=3,
            thinking_config=types.ThinkingConfig(include_thoughts=True),
        ),
    )
    parts = resp.candidates[0].content.parts
    assert parts[0].thought is True
    assert parts[1].text == "Mock reply \u2713"
    assert resp.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert resp.usage_metadata.thoughts_token_count == words(parts[0].text)


def test_gemini_generate_content_stream(sdk_mock):
    client = gemini_client(sdk_mock)
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="stream me please"))
    assert len(chunks) == words(expected_reply("gemini-2.5-flash", "stream me please"))
    assert "".join(c.text for c in chunks) == expected_reply("gemini-2.5-flash", "stream me please")
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert chunks[-1].usage_metadata.candidates_token_count == len(chunks)
    assert last_request(sdk_mock, "gemini")["path"].endswith(":streamGenerateContent?alt=sse")


def test_gemini_function_calling_round_trip(sdk_mock):
    client = gemini_client(sdk_mock)
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="Weather for a city",
        parameters=types.Schema(
            type=types.Type.OBJECT,
            properties={"city": types.Schema(type=types.Type.STRING)},
            required=["city"],
        ),
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    question = types.Content(role="user", parts=[types.Part(text="weather in Paris?")])
    model = "gemini-3-pro-preview"
    first = client.models.generate_content(model=model, contents=[question], config=config)
    calls = first.function_calls
    assert [(c.name, c.args, c.id) for c in calls] == [("get_weather", {"city": "mock-city"}, None)]
    call_content = first.candidates[0].content
    assert call_content.parts[0].thought_signature, "gemini-3 function calls carry a thought signature"

    answer = types.Content(
        role="user",
        parts=[types.Part.from_function_response(name="get_weather", response={"result": "22 degrees"})],
    )
    second = client.models.generate_content(model=model, contents=[question, call_content, answer], config=config)
    assert second.text == "Tool result received: 22 degrees"

    unsigned = types.Content(role="model", parts=[types.Part(function_call=calls[0])])
    with pytest.raises(genai_errors.ClientError) as err:
        client.models.generate_content(model=model, contents=[question, unsigned, answer], config=config)
    assert err.value.code == 400
    assert err.value.status == "INVALID_ARGUMENT"
    assert "thought_signature" in err.value.message


def test_gemini_embed_content(sdk_mock):
    client = gemini_client(sdk_mock)
    texts = ["hello world", "caf\u00e9 \u2713"]
    resp = client.models.embed_content(
        model="gemini-embedding-001",
        contents=texts,
        config=types.EmbedContentConfig(output_dimensionality=5),
    )
    assert [e.values for e in resp.embeddings] == [expected_embedding(t, 5) for t in texts]
    resp = client.models.embed_content(model="gemini-embedding-001", contents="plain")
    assert resp.embeddings[0].values == expected_embedding("plain")


def test_gemini_errors(sdk_mock):
    wrong = gemini_client(sdk_mock, key="wrong")  # kept: a dropped client closes its connection
    with pytest.raises(genai_errors.ClientError) as err:
        wrong.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert (err.value.code, err.value.status) == (400, "INVALID_ARGUMENT")
    assert "API key not valid" in err.value.message
    faulty = gemini_client(sdk_mock, headers={"x-mock-status": "503", "x-mock-only": "gemini"})
    with pytest.raises(genai_errors.ServerError) as err:
        faulty.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert (err.value.code, err.value.status) == (503, "UNAVAILABLE")
    client = gemini_client(sdk_mock)
    blocked = client.models.generate_content(model="gemini-2.5-flash", contents="x MOCK_PROMPT_FILTER")
    assert blocked.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert not blocked.candidates


# --------------------------------------------------------------------------
# Azure OpenAI (openai.AzureOpenAI and the v1 API)
# --------------------------------------------------------------------------


def test_azure_deployment_chat(sdk_mock):
    resp = azure_client(sdk_mock).chat.completions.create(
        model="dep-4o",
        messages=[{"role": "user", "content": "hello azure"}],
    )
    assert resp.choices[0].message.content == expected_reply("dep-4o", "hello azure")
    assert resp.model == "dep-4o"
    assert resp.usage.prompt_tokens == 2
    assert resp.usage.completion_tokens == words(resp.choices[0].message.content)
    extra = resp.to_dict()
    assert extra["prompt_filter_results"][0]["content_filter_results"]["hate"] == {"filtered": False, "severity": "safe"}
    assert extra["choices"][0]["content_filter_results"]["violence"]["filtered"] is False
    sent = last_request(sdk_mock, "azure")
    assert sent["path"] == f"/openai/deployments/dep-4o/chat/completions?api-version={AZURE_API_VERSION}"
    assert sent["headers"]["api-key"] == MOCK_AZURE_KEY


def test_azure_deployment_stream(sdk_mock):
    stream = azure_client(sdk_mock).chat.completions.create(
        model="dep-4o",
        messages=[{"role": "user", "content": "stream it"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    first = chunks[0].to_dict()
    assert chunks[0].choices == [] and first["prompt_filter_results"][0]["prompt_index"] == 0
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_reply("dep-4o", "stream it")
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage.completion_tokens == words(text)


def test_azure_v1_chat_and_embeddings(sdk_mock):
    client = azure_v1_client(sdk_mock)
    resp = client.chat.completions.create(model="dep-mini", messages=[{"role": "user", "content": "v one"}])
    assert resp.choices[0].message.content == expected_reply("dep-mini", "v one")
    assert last_request(sdk_mock, "azure")["path"] == "/openai/v1/chat/completions"
    emb = client.embeddings.create(model="emb-small", input=["alpha beta", "gamma"], dimensions=4, encoding_format="float")
    assert [d.embedding for d in emb.data] == [expected_embedding("alpha beta", 4), expected_embedding("gamma", 4)]
    assert emb.usage.prompt_tokens == 3


def test_azure_deployment_embeddings(sdk_mock):
    emb = azure_client(sdk_mock).embeddings.create(model="emb-dep", input="one two three")
    assert emb.model == "emb-dep"
    # The SDK asks for base64 by default and decodes float32.
    assert emb.data[0].embedding == expected_embedding_f32("one two three")
    sent = last_request(sdk_mock, "azure")
    assert sent["path"] == f"/openai/deployments/emb-dep/embeddings?api-version={AZURE_API_VERSION}"
    assert sent["body"]["encoding_format"] == "base64"


def test_azure_content_filters(sdk_mock):
    client = azure_client(sdk_mock)
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="dep-4o", messages=[{"role": "user", "content": "MOCK_PROMPT_FILTER"}])
    assert err.value.status_code == 400
    assert err.value.code == "content_filter"
    assert err.value.param == "prompt"
    inner = err.value.body["innererror"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_result"]["violence"] == {"filtered": True, "severity": "medium"}
    resp = client.chat.completions.create(model="dep-4o", messages=[{"role": "user", "content": "MOCK_CONTENT_FILTER"}])
    assert resp.choices[0].finish_reason == "content_filter"
    assert resp.choices[0].message.content is None


def test_azure_auth_and_api_version(sdk_mock):
    bad = openai.AzureOpenAI(
        azure_endpoint=sdk_mock.url("azure", ""), api_key="wrong", api_version=AZURE_API_VERSION, max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as err:
        bad.chat.completions.create(model="d", messages=[{"role": "user", "content": "x"}])
    assert err.value.body["code"] == "401"
    old = openai.AzureOpenAI(
        azure_endpoint=sdk_mock.url("azure", ""), api_key=MOCK_AZURE_KEY, api_version="2001-01-01", max_retries=0
    )
    with pytest.raises(openai.BadRequestError) as err:
        old.chat.completions.create(model="d", messages=[{"role": "user", "content": "x"}])
    assert err.value.body == {"code": "BadRequest", "message": "API version not supported"}


# --------------------------------------------------------------------------
# OpenAI embeddings (openai.OpenAI)
# --------------------------------------------------------------------------


def openai_client(mock: MockProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=mock.url("openai", "/v1"), api_key=MOCK_OPENAI_KEY, max_retries=0)


def test_openai_embeddings_float(sdk_mock):
    emb = openai_client(sdk_mock).embeddings.create(
        model="text-embedding-3-small", input=["the cat sat", "dogs"], dimensions=6, encoding_format="float"
    )
    assert [d.embedding for d in emb.data] == [expected_embedding("the cat sat", 6), expected_embedding("dogs", 6)]
    assert [d.index for d in emb.data] == [0, 1]
    assert (emb.usage.prompt_tokens, emb.usage.total_tokens) == (4, 4)
    assert emb.model == "text-embedding-3-small"


def test_openai_embeddings_base64(sdk_mock):
    emb = openai_client(sdk_mock).embeddings.create(model="text-embedding-3-small", input="base sixty four")
    assert last_request(sdk_mock, "openai")["body"]["encoding_format"] == "base64"
    assert emb.data[0].embedding == expected_embedding_f32("base sixty four")
    raw = requests.post(
        sdk_mock.url("openai", "/v1/embeddings"),
        headers={"Authorization": f"Bearer {MOCK_OPENAI_KEY}"},
        json={"model": "m", "input": "x", "encoding_format": "base64", "dimensions": 2},
        timeout=support.HTTP_TIMEOUT,
    ).json()
    import base64
    import struct

    assert list(struct.unpack("<2f", base64.b64decode(raw["data"][0]["embedding"]))) == expected_embedding_f32("x", 2)


def test_openai_embeddings_reject_unknown_fields(sdk_mock):
    with pytest.raises(openai.BadRequestError) as err:
        openai_client(sdk_mock).embeddings.create(model="m", input="x", extra_body={"truncate": True})
    assert err.value.message.endswith("Unrecognized request argument supplied: truncate")
