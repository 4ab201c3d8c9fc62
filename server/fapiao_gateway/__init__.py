"""The Fapiao gateway: a gRPC service in front of WeChat's e-invoice reimbursement APIs.

Layers (dependencies point inward): api -> services -> domain, with wechat (the upstream
adapter) and sandbox (a WeChat emulator) beside them; bootstrap wires them together.
"""
