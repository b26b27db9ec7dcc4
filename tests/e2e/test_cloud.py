"""The official `openai` SDK through the gateway to the cloud providers:
Google Vertex AI (Gemini and Claude publishers) and Cohere v2.

Vertex authenticates with OAuth tokens the filter fetches itself: one
provider from a service-account key (the filter signs an RS256 JWT and the
strict mock verifies it at its token endpoint), one from the metadata
server. Both go through Envoy clusters that `modelmux render` creates from
the providers' `auth` objects. A third Vertex provider's token endpoint is
down: its requests get a clean 503 and are never sent without a token.
Failover pairs cross providers with auth rebuilt per attempt.
"""

from __future__ import annotations

import base64
import json
import struct

import openai
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from openai import OpenAI

import failover_env as fe
import support
from support import WEATHER_TOOL, expected_embedding_f32, expected_reply, words

PROJECT = "mock-project"
LOCATION = "us-central1"
VERTEX_HOST = f"{LOCATION}-aiplatform.googleapis.com"
MOCK_COHERE_KEY = "mock-cohere-key"
# Tokens live 90 s: the filter refreshes at half-life (45 s, after the 30 s
# floor), so a refresh is observable within the module.
TOKEN_TTL_S = 90

LISTENERS = ["vertex=vertex@127.0.0.1:0", "cohere=cohere@127.0.0.1:0", "bedrock=bedrock@127.0.0.1:0"]
# The Bedrock mock's defaults: it verifies SigV4 with this key pair.
AWS_KEY_ID, AWS_SECRET, MOCK_BEDROCK_KEY = "AKIDMOCKBEDROCK", "mock-bedrock-secret", "mock-bedrock-key"
BEDROCK_MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-v1:0"

# model name -> (provider, upstream model, mock label)
CHAT = {
    "vgem": ("vertex-sa", "gemini-2.5-flash", "vertex"),
    "vclaude": ("vertex-md", "claude-sonnet-4@20250514", "vertex"),
    "co": ("cohere", "command-a-03-2025", "cohere"),
    # SigV4 in the filter, SigV4 by Envoy's aws_request_signing, an API key.
    "br": ("bedrock-sigv4", BEDROCK_MODEL, "bedrock"),
    "br-envoy": ("bedrock-envoy", BEDROCK_MODEL, "bedrock"),
    "br-key": ("bedrock-key", BEDROCK_MODEL, "bedrock"),
    "br-arn": ("bedrock-sigv4", PROFILE_ARN, "bedrock"),
}
EMBED = {"co-embed": ("cohere", "embed-v4.0"), "v-embed": ("vertex-sa", "text-embedding-005")}


def keypair(tmp):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = tmp / "sa.pub.pem"
    pub.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pub, pem


def providers(mock: support.MockProcess, dead_port: int) -> list[dict]:
    vport = mock.ports["vertex"]
    vertex_ep = {"address": f"127.0.0.1:{vport}", "tls": False}
    vertex = {"type": "vertex", "project": PROJECT, "location": LOCATION, "endpoint": vertex_ep}
    bedrock = {"type": "bedrock", "region": "us-east-1",
               "endpoint": {"address": f"127.0.0.1:{mock.ports['bedrock']}", "tls": False}}
    return [
        {"name": "anthropic", "type": "anthropic", "cluster": "anthropic",
         "host": f"127.0.0.1:{mock.ports['anthropic']}", "api_key_env": "MOCK_ANTHROPIC_KEY"},
        {**vertex, "name": "vertex-sa", "cluster": "vertex_sa",
         # render cannot read the key's token_uri, so the token endpoint is named here.
         "auth": {"source": "service_account", "key_env": "VERTEX_SA_KEY", "cluster": "google_oauth",
                  "endpoint": {"address": f"127.0.0.1:{vport}", "tls": False}}},
        {**vertex, "name": "vertex-md", "cluster": "vertex_md",
         "auth": {"source": "metadata", "cluster": "gcp_metadata",
                  "endpoint": {"address": f"127.0.0.1:{vport}"}}},
        {**vertex, "name": "vertex-down", "cluster": "vertex_down",
         "auth": {"source": "metadata", "cluster": "metadata_down",
                  "endpoint": {"address": f"127.0.0.1:{dead_port}"}}},
        {"name": "cohere", "type": "cohere", "cluster": "cohere",
         "host": f"127.0.0.1:{mock.ports['cohere']}", "api_key_env": "MOCK_COHERE_KEY"},
        {**bedrock, "name": "bedrock-sigv4", "cluster": "bedrock_sigv4"},
        {**bedrock, "name": "bedrock-envoy", "cluster": "bedrock_envoy", "auth": {"type": "envoy"}},
        {**bedrock, "name": "bedrock-key", "cluster": "bedrock_key", "api_key_env": "MOCK_BEDROCK_KEY"},
        {**bedrock, "name": "bedrock-badsig", "cluster": "bedrock_badsig",
         "auth": {"type": "sigv4", "secret_access_key_env": "WRONG_AWS_SECRET"}},
    ]


def models() -> list[dict]:
    out = [{"name": n, "targets": [{"provider": p, "model": m}]} for n, (p, m, _) in CHAT.items()]
    out += [{"name": n, "targets": [{"provider": p, "model": m}]} for n, (p, m) in EMBED.items()]
    out.append({"name": "vdown", "targets": [{"provider": "vertex-down", "model": "gemini-2.5-flash"}]})
    out.append({"name": "vx-an", "targets": [
        {"provider": "vertex-md", "model": "claude-sonnet-4@20250514"},
        {"provider": "anthropic", "model": "claude-sonnet-4-5"}]})
    out.append({"name": "br-bad", "targets": [{"provider": "bedrock-badsig", "model": BEDROCK_MODEL}]})
    out.append({"name": "br-vx", "targets": [
        {"provider": "bedrock-sigv4", "model": BEDROCK_MODEL},
        {"provider": "vertex-sa", "model": "gemini-2.5-flash"}]})
    out.append({"name": "co-vx", "targets": [
        {"provider": "cohere", "model": "command-a-03-2025"},
        {"provider": "vertex-sa", "model": "gemini-2.5-flash"}]})
    return out


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cloud")
    pub, pem = keypair(tmp)
    mock = support.MockProcess(tmp / "cloud-mock.log", listeners=LISTENERS, extra_args=[
        "--vertex-sa-public-key", str(pub), "--vertex-token-ttl", str(TOKEN_TTL_S),
        "--vertex-project", PROJECT]).start()
    sa = {"type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
          "private_key": pem, "client_email": f"gw@{PROJECT}.iam.gserviceaccount.com",
          "client_id": "1", "token_uri": mock.url("vertex", "/token")}
    config = {"providers": providers(mock, fe.free_port()), "models": models(),
              "failover": {"attempt_timeout_ms": 3000, "consecutive_failures": 1000000},
              "headers": {"request": ["x-mock-*"]}}
    keys = {"MOCK_ANTHROPIC_KEY": support.MOCK_ANTHROPIC_KEY, "MOCK_COHERE_KEY": MOCK_COHERE_KEY,
            "VERTEX_SA_KEY": json.dumps(sa), "MOCK_BEDROCK_KEY": MOCK_BEDROCK_KEY,
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID, "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "WRONG_AWS_SECRET": "not-the-secret"}
    # Envoy's own signer (auth type `envoy`) reads its credentials from Envoy's environment.
    envoy = support.EnvoyProcess(tmp, "cloud-envoy", extra_args=["--concurrency", "2"],
                                 env={"AWS_ACCESS_KEY_ID": AWS_KEY_ID, "AWS_SECRET_ACCESS_KEY": AWS_SECRET})
    try:
        envoy.start(support.render_yaml(config, keys))
        support.wait_until(
            lambda: all(envoy.counters().get(f"wasmcustom.modelmux.p.{p}.token_refreshes", 0) >= 1
                        for p in ("vertex-sa", "vertex-md")),
            20, what="first OAuth tokens")
    except Exception:
        envoy.stop()
        mock.stop()
        raise
    yield envoy, mock
    envoy.stop()
    mock.stop()


@pytest.fixture(scope="module")
def client(env):
    envoy, _ = env
    c = OpenAI(base_url=envoy.gateway + "/v1", api_key="client-secret", max_retries=0, timeout=30)
    yield c
    c.close()


def last_request(mock, label: str) -> dict:
    seen = [r for r in mock.requests(label) if not r["path"].startswith(("/token", "/computeMetadata"))]
    assert seen, f"the {label} mock saw no API request"
    return seen[-1]


@pytest.mark.parametrize("model", sorted(CHAT))
def test_chat(client, env, model):
    _, mock = env
    completion = client.chat.completions.create(
        model=model, max_tokens=64,
        messages=[{"role": "system", "content": "Answer briefly."},
                  {"role": "user", "content": "Say hello from the SDK"}])
    provider, upstream, label = CHAT[model]
    want = expected_reply(upstream, "Say hello from the SDK")
    assert completion.choices[0].message.content == want
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens >= words(want)
    req = last_request(mock, label)
    headers = req["headers"]
    assert "client-secret" not in json.dumps(headers)
    if label == "vertex":
        publisher = "anthropic" if upstream.startswith("claude") else "google"
        method = "rawPredict" if publisher == "anthropic" else "generateContent"
        assert req["path"] == (f"/v1/projects/{PROJECT}/locations/{LOCATION}/publishers/"
                               f"{publisher}/models/{upstream}:{method}")
        assert headers["authorization"].startswith("Bearer ") and headers["authorization"] != "Bearer "
        assert headers.get("host", headers.get(":authority")) == VERTEX_HOST
        if publisher == "anthropic":
            assert req["body"]["anthropic_version"] == "vertex-2023-10-16"
            assert "model" not in req["body"]
    elif label == "bedrock":
        assert req["path"] == "/model/" + upstream.replace(":", "%3A").replace("/", "%2F") + "/converse"
        if provider == "bedrock-key":
            assert headers["authorization"] == f"Bearer {MOCK_BEDROCK_KEY}"
        else:
            # Signed (the mock verified it), by the filter or by Envoy.
            assert headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
            assert "x-amz-date" in headers
        assert req["body"]["system"] == [{"text": "Answer briefly."}]
        assert req["body"]["inferenceConfig"]["maxTokens"] == 64
    else:
        assert req["path"] == "/v2/chat"
        assert headers["authorization"] == f"Bearer {MOCK_COHERE_KEY}"


@pytest.mark.parametrize("model", sorted(CHAT))
def test_stream(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Stream through the SDK"}],
        stream=True, stream_options={"include_usage": True})
    text, finishes, usage = "", [], None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.delta.content or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == expected_reply(CHAT[model][1], "Stream through the SDK")
    assert finishes == ["stop"]
    assert usage is not None and usage.completion_tokens >= words(text)


@pytest.mark.parametrize("model", sorted(CHAT))
def test_tools_round_trip(client, model):
    messages = [{"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "mock-city"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 25C"})
    second = client.chat.completions.create(model=model, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == "Tool result received: sunny, 25C"


@pytest.mark.parametrize("model", sorted(CHAT))
def test_tools_stream(client, model):
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Weather in Rome?"}],
        tools=[WEATHER_TOOL], stream=True)
    name, args, finishes = "", "", []
    for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                name += (tc.function and tc.function.name) or ""
                args += (tc.function and tc.function.arguments) or ""
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
    assert name == "get_weather" and json.loads(args) == {"city": "mock-city"}
    assert finishes == ["tool_calls"]


def test_bedrock_server_tool_is_not_a_client_tool_call(client):
    """A tool Bedrock ran itself (Nova's code interpreter; the mock adds one
    for MOCK_SERVER_TOOL) is neither a tool call nor text, JSON and stream."""
    messages = [{"role": "user", "content": "Average please MOCK_SERVER_TOOL"}]
    got = client.chat.completions.create(model="br", messages=messages)
    choice = got.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    assert "42" not in choice.message.content and "nova_code_interpreter" not in choice.message.content
    text, calls, finishes = "", [], []
    for chunk in client.chat.completions.create(model="br", messages=messages, stream=True):
        for c in chunk.choices:
            text += c.delta.content or ""
            calls += c.delta.tool_calls or []
            if c.finish_reason:
                finishes.append(c.finish_reason)
    assert text == choice.message.content and calls == [] and finishes == ["stop"]
    # With the client's own tool as well, only that one is a tool call.
    got = client.chat.completions.create(model="br", messages=messages, tools=[WEATHER_TOOL])
    (call,) = got.choices[0].message.tool_calls
    assert call.function.name == "get_weather" and got.choices[0].finish_reason == "tool_calls"


def test_vertex_streamed_function_call_arguments(client):
    """Vertex streams a call's arguments as `partialArgs` pieces, later parts
    without the name (the mock does so for MOCK_STREAM_ARGS): the client gets
    OpenAI tool-call deltas, name first, that join into the whole object."""
    tool = {"type": "function", "function": {
        "name": "plan_trip", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "nights": {"type": "integer"}, "late": {"type": "boolean"}},
            "required": ["city", "nights", "late"]}}}
    stream = client.chat.completions.create(
        model="vgem", messages=[{"role": "user", "content": "Plan it MOCK_STREAM_ARGS"}],
        tools=[tool], stream=True, stream_options={"include_usage": True})
    names, fragments, ids, finishes, usage = [], [], set(), [], None
    for chunk in stream:
        for choice in chunk.choices:
            for tc in choice.delta.tool_calls or []:
                assert tc.index == 0
                if tc.id:
                    ids.add(tc.id)
                if tc.function and tc.function.name:
                    names.append(tc.function.name)
                if tc.function and tc.function.arguments:
                    fragments.append(tc.function.arguments)
            if choice.finish_reason:
                finishes.append(choice.finish_reason)
        usage = chunk.usage or usage
    assert names == ["plan_trip"] and len(ids) == 1
    # Streamed as it came: several fragments, not one whole object.
    assert len(fragments) > 3, fragments
    assert json.loads("".join(fragments)) == {"city": "mock-city", "nights": 1, "late": True}
    assert finishes == ["tool_calls"]
    assert usage is not None and usage.prompt_tokens > 0


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_vertex_embeddings(client, env, encoding):
    _, mock = env
    texts = ["hello big world", "second input"]
    got = client.embeddings.create(model="v-embed", input=texts, dimensions=4, encoding_format=encoding)
    assert [d.index for d in got.data] == [0, 1]
    for d, text in zip(got.data, texts):
        vec = d.embedding if encoding == "float" else list(struct.unpack("<4f", base64.b64decode(d.embedding)))
        assert vec == pytest.approx(expected_embedding_f32(text, 4), abs=1e-6)
    assert got.usage.prompt_tokens == words(texts[0]) + words(texts[1])
    req = last_request(mock, "vertex")
    assert req["path"].endswith("/publishers/google/models/text-embedding-005:predict")
    assert req["body"] == {"instances": [{"content": t} for t in texts],
                           "parameters": {"outputDimensionality": 4}}


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_cohere_embeddings(client, env, encoding):
    _, mock = env
    texts = ["hello big world", "second input"]
    got = client.embeddings.create(model="co-embed", input=texts, encoding_format=encoding)
    for d, text in zip(got.data, texts):
        vec = d.embedding if encoding == "float" else list(
            struct.unpack(f"<{len(base64.b64decode(d.embedding)) // 4}f", base64.b64decode(d.embedding)))
        assert vec == pytest.approx(expected_embedding_f32(text, len(vec)), abs=1e-6)
    req = last_request(mock, "cohere")
    assert req["path"] == "/v2/embed"
    assert req["body"]["input_type"] == "search_document"


def test_bedrock_json_schema_is_output_config(client, env):
    """`json_schema` reaches Converse as `outputConfig.textFormat`, which the strict mock accepts."""
    _, mock = env
    schema = {"type": "object", "properties": {"reply": {"type": "string"}}, "required": ["reply"]}
    got = client.chat.completions.create(
        model="br", messages=[{"role": "user", "content": "Give me JSON"}],
        response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}})
    assert got.choices[0].finish_reason == "stop"
    fmt = last_request(mock, "bedrock")["body"]["outputConfig"]["textFormat"]
    definition = fmt["structure"]["jsonSchema"]
    assert (fmt["type"], definition["name"]) == ("json_schema", "r")
    assert json.loads(definition["schema"]) == schema


def test_unmapped_parameter_is_a_400_naming_it(client):
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="co", n=2, messages=[{"role": "user", "content": "hi"}])
    assert info.value.param == "n"


def test_no_token_is_a_clean_503_and_nothing_is_sent(client, env):
    envoy, mock = env
    before = len(mock.requests("vertex"))
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="vdown", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 503
    assert info.value.code == "credentials_unavailable"
    assert len(mock.requests("vertex")) == before
    support.wait_until(
        lambda: envoy.counters().get("wasmcustom.modelmux.p.vertex-down.token_failures", 0) >= 1,
        10, what="token failure counted")
    assert "wasmcustom.modelmux.p.vertex-down.token_refreshes" not in envoy.counters() or \
        envoy.counters()["wasmcustom.modelmux.p.vertex-down.token_refreshes"] == 0
    log = envoy.log()
    assert "BEGIN PRIVATE KEY" not in log and "ya29" not in log


def test_service_account_token_was_exchanged_and_is_refreshed(env, client):
    envoy, mock = env
    issued = requests.get(mock.url("vertex", "/_mock/tokens"), timeout=5).json()["issued"]
    assert issued >= 2  # one per OAuth provider at least
    support.wait_until(
        lambda: envoy.counters().get("wasmcustom.modelmux.p.vertex-sa.token_refreshes", 0) >= 2,
        TOKEN_TTL_S, interval=1, what="token refreshed before expiry")
    # Still served with the new token.
    got = client.chat.completions.create(model="vgem", messages=[{"role": "user", "content": "again"}])
    assert got.choices[0].message.content == expected_reply("gemini-2.5-flash", "again")


def test_wrong_aws_secret_is_the_providers_403(client, env):
    _, mock = env
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model="br-bad", messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 403
    assert "signature" in str(info.value).lower()


def test_bedrock_stream_exception_frame_becomes_an_error(env):
    envoy, _ = env
    resp = requests.post(envoy.gateway + "/v1/chat/completions", timeout=30, stream=True, json={
        "model": "br", "stream": True, "messages": [{"role": "user", "content": "hello there"}]},
        headers={"authorization": "Bearer client-secret", "x-mock-stream-exception": "throttlingException"})
    result = support.read_sse(resp)
    assert result.status == 200
    assert not result.done
    errors = [c for c in result.chunks() if "error" in c]
    assert errors, result.raw[-400:]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("model,first,second,upstream", [
    ("br-vx", "bedrock", "vertex", "gemini-2.5-flash"),
    ("vx-an", "vertex", "anthropic", "claude-sonnet-4-5"),
    ("co-vx", "cohere", "vertex", "gemini-2.5-flash"),
])
def test_failover_across_cloud_providers(env, model, first, second, upstream, stream):
    envoy, mock = env
    mock.clear()
    resp = requests.post(envoy.gateway + "/v1/chat/completions", timeout=30, json={
        "model": model, "stream": stream, "messages": [{"role": "user", "content": "hello"}]},
        headers={"authorization": "Bearer client-secret", "x-mock-only": first, "x-mock-status": "503"})
    if stream:
        result = support.read_sse(resp)
        assert result.status == 200 and result.done, result.raw[:300]
        text = support.stream_text(result.chunks())
    else:
        assert resp.status_code == 200, resp.text
        text = resp.json()["choices"][0]["message"]["content"]
    assert text == expected_reply(upstream, "hello")
    served = last_request(mock, second)
    tried = last_request(mock, first)
    # Auth rebuilt per attempt: each provider saw only its own credential.
    if first == "bedrock":
        assert tried["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 ")
        assert served["headers"]["authorization"].startswith("Bearer ")
        assert "x-amz-date" not in served["headers"]
    elif first == "vertex":
        assert tried["headers"]["authorization"].startswith("Bearer ")
        assert served["headers"]["x-api-key"] == support.MOCK_ANTHROPIC_KEY
        assert "authorization" not in served["headers"]
    else:
        assert tried["headers"]["authorization"] == f"Bearer {MOCK_COHERE_KEY}"
        assert served["headers"]["authorization"].startswith("Bearer ")
        assert served["headers"]["authorization"] != f"Bearer {MOCK_COHERE_KEY}"


def test_messages_client_to_claude_on_vertex_and_bedrock(env):
    """Anthropic SDK: Claude on Vertex is a passthrough (rawPredict, model
    out of the body), Bedrock (SigV4 in the filter) is translated; both
    count tokens at the provider's own counter."""
    import anthropic

    envoy, mock = env
    c = anthropic.Anthropic(base_url=envoy.gateway, api_key="client-secret", max_retries=0, timeout=30)
    messages = [{"role": "user", "content": "count and answer"}]
    for model, label, upstream in (("vclaude", "vertex", "claude-sonnet-4@20250514"),
                                   ("br", "bedrock", BEDROCK_MODEL)):
        mock.clear()
        beta = "interleaved-thinking-2025-05-14"
        msg = c.messages.create(model=model, max_tokens=50, messages=messages,
                                extra_headers={"anthropic-beta": beta})
        assert msg.content[0].text == expected_reply(upstream, "count and answer")
        sent = last_request(mock, label)
        assert "anthropic-beta" not in sent["headers"]
        if label == "vertex":
            assert sent["path"].endswith(f"/publishers/anthropic/models/{upstream}:rawPredict")
            assert "model" not in sent["body"] and sent["body"]["messages"] == messages
            # Vertex takes betas in the body.
            assert sent["body"]["anthropic_beta"] == [beta]
        count = c.messages.count_tokens(model=model, messages=messages)
        assert count.input_tokens == msg.usage.input_tokens, model
        sent = last_request(mock, label)
        if label == "vertex":
            assert sent["path"].endswith("/publishers/anthropic/models/count-tokens:rawPredict")
            assert sent["body"]["model"] == upstream
        else:
            assert sent["path"].endswith("/count-tokens")
            assert sent["headers"]["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/")
    c.close()
