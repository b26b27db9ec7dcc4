"""Request bodies: deterministic prose-like prompts in OpenAI chat, Anthropic
Messages, OpenAI Responses, Gemini and Bedrock (Converse) requests (the same
system prompt, user text and output limit in each)."""

from __future__ import annotations

import json
import random

MAX_TOKENS = 256


WORDS = (
    "gateway latency token stream upstream provider request response model "
    "budget cache router cluster header filter payload message system user "
    "assistant summary context window retry timeout quota policy region "
    "vector schema field value record batch queue worker signal metric trace"
).split()


def filler(size: int, seed: int) -> str:
    """Deterministic prose-like text of exactly `size` characters.

    Mixes in newlines, quotes and a tab so the JSON codecs have escapes to
    deal with, as real prompts do.
    """
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    sentence = 0
    while length < size:
        n = rng.randint(6, 14)
        text = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()
        sentence += 1
        if sentence % 7 == 0:
            text = f'She said "{text}".'
        elif sentence % 11 == 0:
            text = f"\t{text}:"
        else:
            text += "."
        text += "\n" if sentence % 5 == 0 else " "
        parts.append(text)
        length += len(text)
    return "".join(parts)[:size]


SYSTEM_PROMPT = "You are a concise assistant. Answer in plain text."


def openai_body(model: str, user: str, stream: bool) -> bytes:
    doc: dict = {
        "model": model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user},
        ],
        "max_tokens": MAX_TOKENS,
    }
    if stream:
        doc["stream"] = True
    return json.dumps(doc).encode()


ANTHROPIC_MODEL = "claude-sonnet-4-5"


def anthropic_body(user: str, stream: bool) -> bytes:
    """The native Anthropic request, for the upstream model."""
    return messages_body(ANTHROPIC_MODEL, user, stream)


def messages_body(model: str, user: str, stream: bool) -> bytes:
    doc: dict = {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM_PROMPT,
        "messages": [{"role": "user", "content": user}],
    }
    if stream:
        doc["stream"] = True
    return json.dumps(doc).encode()


def responses_body(model: str, user: str, stream: bool) -> bytes:
    """A stateless Responses request (`store: false`) with the user text as
    one input message item, as Codex sends its turns."""
    doc: dict = {
        "model": model,
        "instructions": SYSTEM_PROMPT,
        "input": [{"type": "message", "role": "user",
                   "content": [{"type": "input_text", "text": user}]}],
        "max_output_tokens": MAX_TOKENS,
        "store": False,
    }
    if stream:
        doc["stream"] = True
    return json.dumps(doc).encode()


def gemini_body(user: str, stream: bool = False) -> bytes:
    """A native `generateContent` body. Gemini streams by URL
    (`:streamGenerateContent`), not by a body field, so `stream` is unused;
    it keeps the signature of the other native builders."""
    del stream
    doc: dict = {
        "systemInstruction": {"parts": [{"text": SYSTEM_PROMPT}]},
        "contents": [{"role": "user", "parts": [{"text": user}]}],
        "generationConfig": {"maxOutputTokens": MAX_TOKENS},
    }
    return json.dumps(doc).encode()


def bedrock_body(user: str, stream: bool = False) -> bytes:
    """A native Converse body. Bedrock streams by URL (`/converse-stream`),
    and the model is in the path, so neither is in the body."""
    del stream
    doc: dict = {
        "system": [{"text": SYSTEM_PROMPT}],
        "messages": [{"role": "user", "content": [{"text": user}]}],
        "inferenceConfig": {"maxTokens": MAX_TOKENS},
    }
    return json.dumps(doc).encode()


def user_text_for(total: int) -> str:
    """User message sized so the OpenAI request body is about `total` bytes."""
    overhead = len(openai_body("gpt-4o-mini", "", False))
    text = filler(total, seed=total)
    # JSON escaping makes the encoded text a little longer than the raw one;
    # trim until the encoded body fits.
    size = total - overhead
    while size > 0 and len(openai_body("gpt-4o-mini", text[:size], False)) > total:
        size -= max(1, (len(openai_body("gpt-4o-mini", text[:size], False)) - total) // 2)
    return text[:size]
