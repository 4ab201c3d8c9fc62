"""WXBizMsgCrypt on both sides, against a third party's published vectors.

The vectors are wechatpy's (tests/test_crypto.py: token "123456", EncodingAESKey
"kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", receiver "wx49f0ab532d5d035a"), so neither
the gateway's decryption nor the sandbox's encryption is only checked against the other.
"""

import pytest
from fapiao_gateway.sandbox.component import seal
from fapiao_gateway.wechat.msg_crypto import BadMessage, MessageCrypto, valid_encoding_aes_key

TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
RECEIVER = "wx49f0ab532d5d035a"

DECRYPT_ENCRYPTED = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHC"
    "rsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpX"
    "aG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQi"
    "MS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQi"
    "pvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
DECRYPT_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
TIMESTAMP, NONCE = "1411525903", "461056294"

ENCRYPT_PLAINTEXT = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
ENCRYPT_EXPECTED = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY"
    "0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsV"
    "bwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
ENCRYPT_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"


def crypto() -> MessageCrypto:
    return MessageCrypto(TOKEN, AES_KEY, RECEIVER)


def test_the_gateway_decrypts_the_published_message() -> None:
    message = crypto().open(DECRYPT_SIGNATURE, TIMESTAMP, NONCE, DECRYPT_ENCRYPTED)
    assert "<Content><![CDATA[test]]></Content>" in message
    assert "<FromUserName><![CDATA[messense]]></FromUserName>" in message


def test_the_sandbox_encrypts_as_published() -> None:
    signature, encrypted = seal(
        token=TOKEN,
        encoding_aes_key=AES_KEY,
        receiver_id=RECEIVER,
        message=ENCRYPT_PLAINTEXT,
        timestamp=TIMESTAMP,
        nonce=NONCE,
        random16=b"1234567890123456",
    )
    assert (signature, encrypted) == (ENCRYPT_SIGNATURE, ENCRYPT_EXPECTED)
    assert crypto().open(signature, TIMESTAMP, NONCE, encrypted) == ENCRYPT_PLAINTEXT


@pytest.mark.parametrize(
    ("signature", "nonce", "encrypted", "why"),
    [
        ("0" * 40, NONCE, DECRYPT_ENCRYPTED, "msg_signature"),
        (DECRYPT_SIGNATURE, "461056295", DECRYPT_ENCRYPTED, "msg_signature"),
    ],
)
def test_a_wrong_signature_is_refused(signature: str, nonce: str, encrypted: str, why: str) -> None:
    with pytest.raises(BadMessage, match=why):
        crypto().open(signature, TIMESTAMP, nonce, encrypted)


def test_a_message_for_another_receiver_is_refused() -> None:
    other = MessageCrypto(TOKEN, AES_KEY, "wx0000000000000000")
    with pytest.raises(BadMessage, match="another receiver"):
        other.open(DECRYPT_SIGNATURE, TIMESTAMP, NONCE, DECRYPT_ENCRYPTED)


@pytest.mark.parametrize("encrypted", ["not base64!", "QUJD", ""])
def test_garbage_is_refused_whatever_its_signature(encrypted: str) -> None:
    signature = crypto().signature(TIMESTAMP, NONCE, encrypted)
    with pytest.raises(BadMessage):
        crypto().open(signature, TIMESTAMP, NONCE, encrypted)


def test_encoding_aes_keys_are_43_base64_characters() -> None:
    assert valid_encoding_aes_key(AES_KEY)
    assert not valid_encoding_aes_key(AES_KEY[:-1])
    assert not valid_encoding_aes_key(AES_KEY[:-1] + "=")
    with pytest.raises(ValueError, match="43"):
        MessageCrypto(TOKEN, "short", RECEIVER)
