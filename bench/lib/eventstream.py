"""A small AWS event stream (`application/vnd.amazon.eventstream`) reader
for the Bedrock cases: the shape check and the time-to-first-token client
split the native ConverseStream answer into messages with it.

A message is: total length (u32), headers length (u32), prelude CRC32,
headers, payload, message CRC32, all big-endian. Both CRCs are checked,
so a corrupted or mis-framed stream fails the shape check."""

from __future__ import annotations

import struct
import zlib

PRELUDE = 12  # two lengths and the prelude CRC
MIN_MESSAGE = PRELUDE + 4  # ... and the message CRC


def split(buf: bytes) -> tuple[list[bytes], bytes]:
    """The whole messages at the start of `buf`, and the unfinished rest."""
    out = []
    while len(buf) >= PRELUDE:
        total = struct.unpack_from(">I", buf)[0]
        if total < MIN_MESSAGE:
            raise ValueError(f"event stream message length {total} < {MIN_MESSAGE}")
        if len(buf) < total:
            break
        out.append(buf[:total])
        buf = buf[total:]
    return out, buf


def parse(message: bytes) -> tuple[dict[str, str], bytes]:
    """(string headers, payload) of one whole message; ValueError if its
    CRCs or lengths are wrong. Non-string headers are skipped."""
    total, hlen, prelude_crc = struct.unpack_from(">III", message)
    if total != len(message) or PRELUDE + hlen + 4 > total:
        raise ValueError("event stream lengths do not match the message")
    if zlib.crc32(message[:8]) != prelude_crc:
        raise ValueError("event stream prelude CRC mismatch")
    if zlib.crc32(message[:-4]) != struct.unpack_from(">I", message, total - 4)[0]:
        raise ValueError("event stream message CRC mismatch")
    return _headers(message[PRELUDE:PRELUDE + hlen]), message[PRELUDE + hlen:-4]


# Value sizes of the fixed-size header types (bool true/false have none).
_FIXED = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


def _headers(block: bytes) -> dict[str, str]:
    out = {}
    i = 0
    while i < len(block):
        nlen = block[i]
        name = block[i + 1:i + 1 + nlen].decode()
        i += 1 + nlen
        kind = block[i]
        i += 1
        if kind in (6, 7):  # bytes, string: u16 length
            vlen = struct.unpack_from(">H", block, i)[0]
            value = block[i + 2:i + 2 + vlen]
            i += 2 + vlen
            if kind == 7:
                out[name] = value.decode()
        elif kind in _FIXED:
            i += _FIXED[kind]
        else:
            raise ValueError(f"event stream header type {kind}")
    return out


def messages(body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Every message of a whole stream; ValueError on a partial tail."""
    whole, rest = split(body)
    if rest:
        raise ValueError(f"event stream ends with {len(rest)} bytes of a partial message")
    return [parse(m) for m in whole]
