"""Per-message AES-GCM time of AESCipher: the `cryptography` package against pycryptodome.

The CPU of the machines this project runs on switches between a fast and a slow phase, so the
implementations are measured in short alternating rounds (A B A B ...) and compared by the
median of the per-round ratios, which a phase change affects little. A third series, the bare
``AESGCM`` call with its nonce and base64 around it, shows what AESCipher itself adds.

Usage: python benchmarks/cipher_bench.py [--size 150] [--rounds 41] [--round-ms 10]
Needs: pip install -e 'plugins/aes_cipher[pycryptodome]'
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from base64 import b64encode
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventstore_aes import AESCipher

Call = Callable[[], object]


def bare_aesgcm(key: bytes, plaintext: str) -> Call:
    """The least any AES-GCM text cipher must do: nonce, encrypt, base64."""
    aesgcm = AESGCM(key)

    def encrypt() -> str:
        nonce = os.urandom(12)
        return b64encode(nonce + aesgcm.encrypt(nonce, plaintext.encode(), None)).decode()

    return encrypt


def microseconds_per_call(call: Call, number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        call()
    return (time.perf_counter_ns() - start) / number / 1000


def calls_per_round(call: Call, round_ms: float) -> int:
    """How many calls make one round of about ``round_ms`` milliseconds."""
    microseconds_per_call(call, 50)  # warm up
    return max(10, int(round_ms * 1000 / microseconds_per_call(call, 200)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=150, help="message size in bytes")
    parser.add_argument("--rounds", type=int, default=41, help="alternating rounds")
    parser.add_argument("--round-ms", type=float, default=10.0, help="length of one round")
    args = parser.parse_args()

    key = AESCipher.generate_key(256)
    plaintext = ("0123456789abcdef" * (args.size // 16 + 1))[: args.size]
    fast = AESCipher(key, implementation="cryptography")
    slow = AESCipher(key, implementation="pycryptodome")
    ciphertext = fast.encrypt(plaintext)
    assert slow.decrypt(ciphertext) == plaintext == fast.decrypt(slow.encrypt(plaintext))

    series: dict[str, Call] = {
        "encrypt cryptography": lambda: fast.encrypt(plaintext),
        "encrypt pycryptodome": lambda: slow.encrypt(plaintext),
        "encrypt bare AESGCM": bare_aesgcm(key, plaintext),
        "decrypt cryptography": lambda: fast.decrypt(ciphertext),
        "decrypt pycryptodome": lambda: slow.decrypt(ciphertext),
    }
    numbers = {name: calls_per_round(call, args.round_ms) for name, call in series.items()}
    times: dict[str, list[float]] = {name: [] for name in series}
    for _ in range(args.rounds):  # A B A B ...: each round measures every series once
        for name, call in series.items():
            times[name].append(microseconds_per_call(call, numbers[name]))

    def ratios(numerator: str, denominator: str) -> list[float]:
        return [a / b for a, b in zip(times[numerator], times[denominator], strict=True)]

    print(f"AES-256-GCM, {args.size}-byte message, {args.rounds} alternating rounds")
    print(f"{'series':<22} {'median us':>10} {'min us':>8} {'max us':>8}")
    for name, values in times.items():
        print(
            f"{name:<22} {statistics.median(values):>10.2f} {min(values):>8.2f} {max(values):>8.2f}"
        )
    print("median of per-round ratios:")
    for op in ("encrypt", "decrypt"):
        ratio = statistics.median(ratios(f"{op} pycryptodome", f"{op} cryptography"))
        print(f"  {op}: pycryptodome / cryptography = {ratio:.1f}x")
    overhead = statistics.median(ratios("encrypt cryptography", "encrypt bare AESGCM"))
    print(f"  encrypt: AESCipher(cryptography) / bare AESGCM = {overhead:.2f}x")


if __name__ == "__main__":
    main()
