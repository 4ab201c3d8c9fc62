"""SignJsapi's reply: the signed parts, as the contract's messages."""

from fapiao.v1 import invoice_service_pb2 as pb

from fapiao_gateway.services.signing import Signatures


def signatures_to_proto(signed: Signatures) -> pb.SignJsapiResponse:
    """Only the parts that were asked for are set."""
    reply = pb.SignJsapiResponse()
    if (config := signed.wx_config) is not None:
        reply.wx_config.CopyFrom(
            pb.WxConfigSignature(
                app_id=config.app_id,
                timestamp=config.timestamp,
                nonce_str=config.nonce_str,
                signature=config.signature,
                url=config.url,
            )
        )
    if (choose := signed.choose_invoice) is not None:
        reply.choose_invoice.CopyFrom(
            pb.ChooseInvoiceSignature(
                timestamp=choose.timestamp,
                nonce_str=choose.nonce_str,
                sign_type=choose.sign_type,
                card_sign=choose.card_sign,
                app_id=choose.app_id,
            )
        )
    if (agent := signed.agent_config) is not None:
        reply.agent_config.CopyFrom(
            pb.AgentConfigSignature(
                corp_id=agent.corp_id,
                agent_id=agent.agent_id,
                timestamp=agent.timestamp,
                nonce_str=agent.nonce_str,
                signature=agent.signature,
                url=agent.url,
            )
        )
    return reply
