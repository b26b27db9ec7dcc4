"""The Bedrock mock against boto3's `bedrock-runtime` client (no gateway).

boto3 signs every request with its own SigV4 signer and parses
ConverseStream's binary eventstream itself, checking both CRCs of every
frame: a mock that accepts boto3's signatures, rejects a wrong secret the
way AWS does, and streams frames boto3 decodes speaks the real wire format.
"""

from __future__ import annotations

import subprocess

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import REPO, MockProcess, expected_reply, words

KEY_ID = "AKIDMOCKBEDROCK"  # the mock's defaults
SECRET = "mock-bedrock-secret"
REGION = "us-east-1"
MODEL = "anthropic.claude-3-5-sonnet-20241022-v2:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-v1:0"
TOOL = {"toolSpec": {"name": "get_weather", "description": "Weather for a city",
                     "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}},
                                              "required": ["city"]}}}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("bedrock-pki")
    subprocess.run(["bash", str(REPO / "scripts" / "gen-cert.sh"), str(out), "localhost"],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def br_mock(tmp_path_factory, pki) -> MockProcess:
    log = tmp_path_factory.mktemp("mock-bedrock") / "mock.log"
    # botocore sends Bedrock API keys over HTTPS only: a TLS listener too.
    proc = MockProcess(log, listeners=["bedrock=bedrock@127.0.0.1:0", "bedrock-tls=bedrock@127.0.0.1:0+tls"],
                       extra_args=["--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key")])
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    yield proc
    proc.stop()


def client(mock: MockProcess, secret: str = SECRET):
    return boto3.client(
        "bedrock-runtime", region_name=REGION, endpoint_url=mock.url("bedrock", ""),
        aws_access_key_id=KEY_ID, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}))


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": [{"text": text}]}]


@pytest.mark.parametrize("model", [MODEL, PROFILE_ARN])
def test_converse_signed_by_boto3(br_mock, model):
    resp = client(br_mock).converse(modelId=model, messages=user("Say hello from boto3"),
                                    system=[{"text": "Be brief."}],
                                    inferenceConfig={"maxTokens": 64, "temperature": 0.5})
    text = resp["output"]["message"]["content"][0]["text"]
    assert text == expected_reply(model, "Say hello from boto3")
    assert resp["stopReason"] == "end_turn"
    assert resp["usage"]["inputTokens"] >= words("Say hello from boto3")
    assert resp["usage"]["outputTokens"] == words(text)
    path = br_mock.requests("bedrock")[-1]["path"]
    assert path.endswith("/converse") and "%3A" in path


def test_converse_stream_frames_parse_in_boto3(br_mock):
    resp = client(br_mock).converse_stream(modelId=MODEL, messages=user("Stream through boto3"))
    events = list(resp["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds[0] == "messageStart" and "messageStop" in kinds and kinds[-1] == "metadata"
    text = "".join(e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e)
    assert text == expected_reply(MODEL, "Stream through boto3")
    stop = next(e["messageStop"] for e in events if "messageStop" in e)
    assert stop["stopReason"] == "end_turn"
    usage = events[-1]["metadata"]["usage"]
    assert usage["outputTokens"] == words(text)


def test_tool_use_and_tool_result_turn(br_mock):
    c = client(br_mock)
    messages = user("Weather in Rome?")
    first = c.converse(modelId=MODEL, messages=messages, toolConfig={"tools": [TOOL]})
    assert first["stopReason"] == "tool_use"
    (use,) = [b["toolUse"] for b in first["output"]["message"]["content"] if "toolUse" in b]
    assert use["name"] == "get_weather" and use["input"] == {"city": "mock-city"}
    messages.append(first["output"]["message"])
    messages.append({"role": "user", "content": [{"toolResult": {
        "toolUseId": use["toolUseId"], "content": [{"text": "sunny, 25C"}]}}]})
    second = c.converse(modelId=MODEL, messages=messages, toolConfig={"tools": [TOOL]})
    assert second["output"]["message"]["content"][0]["text"] == "Tool result received: sunny, 25C"


def test_tool_use_stream(br_mock):
    resp = client(br_mock).converse_stream(modelId=MODEL, messages=user("Weather in Rome?"),
                                           toolConfig={"tools": [TOOL]})
    events = list(resp["stream"])
    starts = [e["contentBlockStart"]["start"]["toolUse"] for e in events if "contentBlockStart" in e]
    assert [s["name"] for s in starts] == ["get_weather"]
    args = "".join(e["contentBlockDelta"]["delta"]["toolUse"]["input"] for e in events
                   if "contentBlockDelta" in e and "toolUse" in e["contentBlockDelta"]["delta"])
    assert args == '{"city":"mock-city"}'
    assert next(e["messageStop"] for e in events if "messageStop" in e)["stopReason"] == "tool_use"


def test_reasoning_content(br_mock):
    resp = client(br_mock).converse(
        modelId=MODEL, messages=user("Think first"), inferenceConfig={"maxTokens": 4096},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}})
    blocks = resp["output"]["message"]["content"]
    reasoning = [b["reasoningContent"]["reasoningText"] for b in blocks if "reasoningContent" in b]
    assert reasoning and reasoning[0]["text"] and reasoning[0]["signature"]
    assert any("text" in b for b in blocks)


def test_wrong_secret_is_invalid_signature(br_mock):
    with pytest.raises(ClientError) as info:
        client(br_mock, secret="not-the-secret").converse(modelId=MODEL, messages=user("hi"))
    err = info.value.response
    assert err["Error"]["Code"] == "InvalidSignatureException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_bedrock_api_key_as_bearer(br_mock, pki, monkeypatch):
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "mock-bedrock-key")
    url = f"https://localhost:{br_mock.ports['bedrock-tls']}"
    c = boto3.client("bedrock-runtime", region_name=REGION, endpoint_url=url, verify=str(pki / "ca.crt"))
    resp = c.converse(modelId=MODEL, messages=user("bearer please"))
    assert resp["output"]["message"]["content"][0]["text"] == expected_reply(MODEL, "bearer please")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "wrong-key")
    wrong = boto3.client("bedrock-runtime", region_name=REGION, endpoint_url=url, verify=str(pki / "ca.crt"),
                         config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as info:
        wrong.converse(modelId=MODEL, messages=user("hi"))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_inference_field_is_a_validation_error(br_mock):
    # boto3 validates its own input, so the unknown field goes in with a raw request signed by boto3.
    c = client(br_mock)

    def add_field(request, **_):
        request.data = request.data.replace(b'"inferenceConfig": {', b'"inferenceConfig": {"bogus": 1, ')
        request.data = request.data.replace(b'"inferenceConfig":{', b'"inferenceConfig":{"bogus":1,')

    c.meta.events.register("before-sign.bedrock-runtime.Converse", add_field)
    with pytest.raises(ClientError) as info:
        c.converse(modelId=MODEL, messages=user("hi"), inferenceConfig={"maxTokens": 8})
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

