"""Live test driver: calls a running gateway through the generated client and prints what
happened, one JSON line per case; tests/clients/ starts the gateway, writes the cases and
checks the lines. Generic: any RPC of InvoiceService, unary or server-streaming, by name.

Environment: FAPIAO_ADDRESS (host:port), FAPIAO_API_KEY, FAPIAO_LIVE_CASES (a JSON file:
[{"name", "method", "request"}], requests in the proto3 JSON form).
"""

import json
import os
from typing import Any

from fapiao.v1 import invoice_service_pb2_grpc
from fapiao_client import channel, errors
from fapiao_client.channel import SERVICE
from google.protobuf import json_format, message_factory


def error_json(error: errors.GatewayError) -> dict[str, Any]:
    resource = error.resource
    delay = error.retry_delay
    return {
        "code": error.code.value[0],
        "message": error.message,
        "reason": error.reason,
        "domain": error.domain,
        "metadata": error.metadata,
        "fieldViolations": [vars(v) for v in error.field_violations],
        "preconditionViolations": [vars(v) for v in error.precondition_violations],
        "quotaViolations": [vars(v) for v in error.quota_violations],
        "resource": json_format.MessageToDict(resource) if resource is not None else None,
        "retryDelayMs": delay.total_seconds() * 1000 if delay is not None else None,
        "wechatErrcode": error.wechat_errcode,
    }


def main() -> None:
    with open(os.environ["FAPIAO_LIVE_CASES"]) as file:
        cases = json.load(file)
    # No retries: the cases count on seeing each failure once, as it happened.
    with channel(
        os.environ["FAPIAO_ADDRESS"],
        api_key=os.environ["FAPIAO_API_KEY"],
        insecure=True,
        retry=None,
    ) as opened:
        stub = invoice_service_pb2_grpc.InvoiceServiceStub(opened)
        for case in cases:
            method = SERVICE.methods_by_name.get(case["method"])
            if method is None:
                raise SystemExit(f"the generated client has no {case['method']}: make generate")
            request = json_format.ParseDict(
                case["request"], message_factory.GetMessageClass(method.input_type)()
            )
            line: dict[str, Any] = {"name": case["name"]}
            try:
                if method.server_streaming:
                    responses = getattr(stub, method.name)(request)
                    line["response"] = [json_format.MessageToDict(r) for r in responses]
                else:
                    line["response"] = json_format.MessageToDict(
                        getattr(stub, method.name)(request)
                    )
            except errors.GatewayError as error:
                line["error"] = error_json(error)
            print(json.dumps(line, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
