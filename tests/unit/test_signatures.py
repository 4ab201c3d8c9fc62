"""The signatures, against WeChat's official test vector and by recomputation."""

import hashlib

from fapiao_gateway.domain import signatures


def test_wechats_official_js_sdk_vector() -> None:
    signature = signatures.wx_config_signature(
        jsapi_ticket="sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        nonce_str="Wm3WZYTPz0wzccnW",
        timestamp=1414587457,
        url="http://mp.weixin.qq.com?params=value",
    )
    assert signature == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_the_fragment_is_not_signed() -> None:
    def sign(url: str) -> str:
        return signatures.wx_config_signature(jsapi_ticket="t", nonce_str="n", timestamp=1, url=url)

    assert sign("https://a.example/p?x=1#/route") == sign("https://a.example/p?x=1")


def test_card_sign_sorts_values_as_strings_and_joins_them() -> None:
    values = [
        "wx_card_ticket_value",
        "wx5a6b7c8d9e0f1a2b",
        "1414587457",
        "Wm3WZYTPz0wzccnW",
        "INVOICE",
    ]
    expected = hashlib.sha1("".join(sorted(values)).encode()).hexdigest()
    assert signatures.card_sign(values) == expected
    assert (
        signatures.choose_invoice_sign(
            wx_card_ticket="wx_card_ticket_value",
            appid="wx5a6b7c8d9e0f1a2b",
            timestamp=1414587457,
            nonce_str="Wm3WZYTPz0wzccnW",
        )
        == expected
    )
