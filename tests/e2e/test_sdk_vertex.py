"""The Vertex AI mock against google-genai in Vertex mode (no gateway).

A service-account key is generated here; the mock gets its public half
(`--vertex-sa-public-key`). google-genai, given service-account credentials
whose `token_uri` is the mock's `/token`, signs the JWT assertion itself and
exchanges it at the mock, then calls the Gemini publisher paths with the
token: the token endpoint, the bearer check and the path format are all
exercised by Google's own client code. The metadata server is checked with
`requests`. The `anthropic` package (AnthropicVertex) is not in the venv, so
the Claude publisher is called with `requests` and the documented body.
"""

from __future__ import annotations

import json

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai
from google.genai import types
from google.oauth2 import service_account

from support import MockProcess

PROJECT = "mock-project"
LOCATION = "us-central1"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
CLAUDE = "claude-sonnet-4@20250514"


@pytest.fixture(scope="module")
def vertex(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mock-vertex")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = tmp / "sa.pub.pem"
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    proc = MockProcess(
        tmp / "mock.log",
        listeners=["vertex=vertex@127.0.0.1:0"],
        extra_args=["--vertex-sa-public-key", str(pub)],
    )
    try:
        proc.start()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cannot start the mock: {exc}", pytrace=False)
    # The fields of a Google service-account JSON key that matter here.
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": private_pem,
        "client_email": f"modelmux-test@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": proc.url("vertex", "/token"),
    }
    yield proc, info
    proc.stop()


def issued(proc: MockProcess) -> int:
    return requests.get(proc.url("vertex", "/_mock/tokens"), timeout=5).json()["issued"]


def client(proc: MockProcess, info: dict) -> genai.Client:
    creds = service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=creds,
        http_options=types.HttpOptions(base_url=proc.url("vertex", "")),
    )


def test_genai_vertex_generate_and_stream(vertex):
    proc, info = vertex
    before = issued(proc)
    c = client(proc, info)
    reply = c.models.generate_content(model="gemini-2.5-flash", contents="ping pong")
    assert reply.text
    assert issued(proc) == before + 1
    text = "".join(chunk.text or "" for chunk in c.models.generate_content_stream(model="gemini-2.5-flash", contents="ping pong"))
    assert text == reply.text
    log = [r for r in proc.requests("vertex") if "publishers" in r["path"]]
    assert log[-1]["path"].endswith(
        f"/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert log[-1]["headers"]["authorization"].startswith("Bearer ya29.")


def test_token_endpoint_rejects_a_foreign_key(vertex):
    proc, info = vertex
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = dict(info, private_key=other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode())
    with pytest.raises(Exception) as err:
        client(proc, forged).models.generate_content(model="gemini-2.5-flash", contents="ping pong")
    assert "invalid_grant" in str(err.value)


def test_metadata_server(vertex):
    proc, _ = vertex
    url = proc.url("vertex", "/computeMetadata/v1/instance/service-accounts/default/token")
    assert requests.get(url, timeout=5).status_code == 403
    r = requests.get(url, headers={"Metadata-Flavor": "Google"}, timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    assert body["access_token"].startswith("ya29.")


def test_claude_publisher_with_requests(vertex):
    proc, _ = vertex
    token = requests.get(
        proc.url("vertex", "/computeMetadata/v1/instance/service-accounts/default/token"),
        headers={"Metadata-Flavor": "Google"},
        timeout=5,
    ).json()["access_token"]
    base = proc.url("vertex", f"/v1/projects/{PROJECT}/locations/us-east5/publishers/anthropic/models/{CLAUDE}")
    body = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 64,
            "messages": [{"role": "user", "content": "ping pong"}]}
    auth = {"authorization": f"Bearer {token}"}
    r = requests.post(f"{base}:rawPredict", json=body, headers=auth, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["type"] == "message"
    r = requests.post(f"{base}:rawPredict", json=dict(body, model=CLAUDE), headers=auth, timeout=5)
    assert r.status_code == 400
    r = requests.post(f"{base}:rawPredict", json=body, headers={"authorization": "Bearer nope"}, timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["status"] == "UNAUTHENTICATED"
    r = requests.post(f"{base}:streamRawPredict", json=dict(body, stream=True), headers=auth, timeout=5)
    assert r.status_code == 200 and "message_stop" in r.text
