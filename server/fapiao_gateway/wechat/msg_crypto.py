"""WeChat's message encryption (WXBizMsgCrypt), receiving side: what the third-party
platform's pushes (component_verify_ticket, authorization events) are wrapped in.

- msg_signature = SHA1 hex of the sorted, concatenated [token, timestamp, nonce, Encrypt].
- Encrypt = base64(AES-256-CBC(key, iv=key[:16], PKCS#7 padded to 32-byte blocks, of
  16 random bytes + 4-byte big-endian length + message + receiver id)), where key is the
  43-character EncodingAESKey base64-decoded with one "=" added, and the receiver id is the
  component appid (a WeCom corp ID for WeCom's callbacks).
As WeChat's sample WXBizMsgCrypt and wechatpy's crypto (crypto/base.py, pkcs7.py) do; its
test vectors are in tests/unit/test_msg_crypto.py. The signature is compared in constant
time; every failure is a BadMessage that says what was wrong, never what the secrets are.
"""

import base64
import binascii
import hashlib
import hmac
import re

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
_BLOCK = 32


class BadMessage(Exception):
    """A pushed message that is not authentic or cannot be decrypted."""


def valid_encoding_aes_key(value: str) -> bool:
    """Whether `value` looks like an EncodingAESKey: 43 characters of base64."""
    return bool(_AES_KEY.fullmatch(value))


class MessageCrypto:
    """Verifies and decrypts messages for one receiver (a component appid)."""

    def __init__(self, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        if not valid_encoding_aes_key(encoding_aes_key):
            raise ValueError("an EncodingAESKey is 43 characters of base64")
        self._token = token
        self._key = base64.b64decode(encoding_aes_key + "=")
        self._receiver = receiver_id.encode()

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        """msg_signature over the four values."""
        joined = "".join(sorted([self._token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 (WeChat's algorithm)

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> str:
        """The plaintext message, once its signature and receiver check out."""
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode()):
            raise BadMessage("msg_signature does not match")
        try:
            sealed = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise BadMessage("Encrypt is not base64") from None
        if not sealed or len(sealed) % 16:
            raise BadMessage("Encrypt is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        padding = plain[-1]
        if not 1 <= padding <= _BLOCK or len(plain) < 20 + padding:
            raise BadMessage("bad padding")
        content = plain[16:-padding]
        length = int.from_bytes(content[:4], "big")
        if length > len(content) - 4:
            raise BadMessage("bad length")
        message, receiver = content[4 : 4 + length], content[4 + length :]
        if not hmac.compare_digest(receiver, self._receiver):
            raise BadMessage("the message is for another receiver")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise BadMessage("the message is not UTF-8") from None
