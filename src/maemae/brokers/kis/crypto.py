"""AES-256-CBC for KIS's encrypted WebSocket payloads (fill notices).

KIS sends the key (32 characters) and the IV (16 characters) in the JSON reply to a subscription; each
encrypted frame's payload is base64 of the PKCS#7-padded ciphertext.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


def _cipher(key: str, iv: str) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode()))


def decrypt(key: str, iv: str, payload: str) -> str:
    decryptor = _cipher(key, iv).decryptor()
    padded = decryptor.update(base64.b64decode(payload)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def encrypt(key: str, iv: str, text: str) -> str:
    """The server side (the local KIS server), and the tests' way to build a frame."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(text.encode()) + padder.finalize()
    encryptor = _cipher(key, iv).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()
