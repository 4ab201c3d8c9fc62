"""What the sandbox starts with: two Official Accounts, a Weixin Work app, a third-party
platform with two merchants, and invoices taken from the seed documents.

The invoices cover what real traffic holds: Chinese text, a zero-priced and a negative line,
optional fields absent, null and "", a fully digital invoice (20-digit number, no code and no
check code), several invoices sharing one card_id, invoices already locked elsewhere,
written off and red-flushed, an expired card (WeChat's own sample), and fuel and
electricity invoices with fractional quantities and unit prices with fractions of a fen, as
JSON numbers and as strings.
"""

from fapiao_gateway.domain.status import ReimburseStatus
from fapiao_gateway.sandbox.component import SandboxComponent, SandboxMerchant
from fapiao_gateway.sandbox.emulator import SandboxAccount, SandboxInvoice
from fapiao_gateway.sandbox.work import SandboxWorkApp

#: The sandbox's accounts. The secrets are public: they only open the sandbox.
PRIMARY = SandboxAccount("wx5a6b7c8d9e0f1a2b", "sandbox-secret-primary", alias="sandbox")
PARTNER = SandboxAccount("wx0f1e2d3c4b5a6978", "sandbox-secret-partner", alias="sandbox-partner")
ACCOUNTS = (PRIMARY, PARTNER)

#: A Weixin Work (WeCom) corp's reimbursement app.
CORP_APP = SandboxWorkApp(
    "ww5a6b7c8d9e0f1a2b", 1000002, "sandbox-secret-corp-app", alias="sandbox-corp"
)
WORK_APPS = (CORP_APP,)

#: A reimbursement service provider's third-party platform and the merchants it acts for.
MERCHANT = SandboxMerchant(
    "wx3e4d5c6b7a8f9e0d", "refreshtoken@@@sandbox-merchant-initial", alias="sandbox-merchant"
)
MERCHANT_2 = SandboxMerchant(
    "wx9d8c7b6a5f4e3d2c", "refreshtoken@@@sandbox-merchant-2-initial", alias="sandbox-merchant-2"
)
COMPONENT = SandboxComponent(
    "wx7c6b5a4f3e2d1c0b",
    "sandbox-component-secret",
    "sandbox-push-token",
    "SandboxEncodingAESKeyForThePushes0123456789",
    merchants=(MERCHANT, MERCHANT_2),
)
COMPONENTS = (COMPONENT,)

#: Holders (WeChat users) of the seeded invoices.
ZHANG = "user-zhang-wei"
LI = "user-li-na"

_TIANJIN_SELLER = {
    "seller_number": "91120222079642398Y",
    "seller_address_and_phone": "天津市武清区京津电子商务产业园宏达道北侧2号 57807000",
    "seller_bank_account": "中国建设银行股份有限公司天津武清区支行 12001720800052531259",
}


def invoices() -> list[SandboxInvoice]:
    """A fresh copy of the seeded invoices (the emulator mutates what it is given)."""
    return [
        # Seed 002 §2.1: the dairy order with a negative discount line; buyer fields "",
        # trip_pdf_url / remarks / cashier null.
        SandboxInvoice(
            card_id="pnAsy0p1ZYMEw6e8jLdsK-V2hnzI",
            encrypt_code="O/mPnGTpBu22a1szmK2ogzhFPBh9eYzv2p70L8yzyynlT0EE9fSC4PvmbxvLrjc=",
            holder=ZHANG,
            payload={
                "begin_time": 1541692800,
                "end_time": 1857225600,
                "type": "增值税电子普通发票",
                "payee": "天津瑞佳讯贸易有限公司",
                "detail": "可在公司企业号内报销使用",
                "user_info": {
                    "fee": 5085,
                    "title": "个人",
                    "billing_time": 1541728800,
                    "billing_no": "14869350",
                    "billing_code": "012001800211",
                    "info": [
                        {
                            "name": "*乳制品*伊利 新西兰原装进口 全脂奶粉 1kg 成人奶粉",
                            "num": None,
                            "unit": None,
                            "price": 9483,
                        },
                        {
                            "name": "*乳制品*伊利 新西兰原装进口 全脂奶粉 1kg 成人奶粉",
                            "num": None,
                            "unit": None,
                            "price": -5099,
                        },
                    ],
                    "fee_without_tax": 4384,
                    "tax": 701,
                    "detail": "可在公司企业号内报销使用",
                    "pdf_url": "https://mp.weixin.qq.com/intp/invoice/getpdf?action=media_pdf&media_id=sandbox-14869350",
                    "trip_pdf_url": None,
                    "check_code": "46851097412677946076",
                    "order_id": "201811091000014869350",
                    "buyer_number": "",
                    "buyer_address_and_phone": "",
                    "buyer_bank_account": "",
                    **_TIANJIN_SELLER,
                    "remarks": None,
                    "cashier": None,
                    "maker": None,
                },
            },
        ),
        # Seed 002 §2.4: same issuer, same card_id, another invoice (encrypt_code differs).
        SandboxInvoice(
            card_id="pnAsy0p1ZYMEw6e8jLdsK-V2hnzI",
            encrypt_code="O/mPnGTpBu22a1szmK2ogz8nW3kQ2rTf1LmXcV0aYbE9uJ6pHs4Dg7tNqRe5sI0=",
            holder=ZHANG,
            payload={
                "begin_time": 1541779200,
                "end_time": 1857312000,
                "type": "增值税电子普通发票",
                "payee": "天津瑞佳讯贸易有限公司",
                "detail": "可在公司企业号内报销使用",
                "user_info": {
                    "fee": 1570,
                    "title": "个人",
                    "billing_time": 1541815200,
                    "billing_no": "11067360",
                    "billing_code": "012001800211",
                    "info": [
                        {
                            "name": "*其他食品*上好佳 鲜虾片 40g*6袋",
                            "num": 2,
                            "unit": "袋",
                            "price": 677,
                            "fee": 1354,
                        }
                    ],
                    "fee_without_tax": 1354,
                    "tax": 216,
                    "pdf_url": "https://mp.weixin.qq.com/intp/invoice/getpdf?action=media_pdf&media_id=sandbox-11067360",
                    "check_code": "50367170680169805457",
                    "buyer_number": "91310000MA1FL4XK2P",
                    "buyer_address_and_phone": "上海市浦东新区张江路 88 号 021-50801234",
                    "buyer_bank_account": "招商银行上海张江支行 121900000010801",
                    **_TIANJIN_SELLER,
                    "remarks": "",
                },
            },
        ),
        # WeChat's getinvoiceinfo sample, with its " reimburse_status" key quirk and its
        # top-level user_card_status EXPIRE: ImportInvoices refuses it.
        SandboxInvoice(
            card_id="pjZ8Yt5crPbAouhFqFf6JFgZv4Lc",
            encrypt_code="fbdt/fWy1VitQwhbKtSjNeR3BJyfpeJXfZjjGsdCXiM=",
            holder=LI,
            status_key=" reimburse_status",
            payload={
                "begin_time": 1476068114,
                "end_time": 1476168114,
                "user_card_status": "EXPIRE",
                "type": "广东增值税普通发票",
                "payee": "测试-收款方",
                "detail": "测试-detail",
                "user_info": {
                    "fee": 1100,
                    "title": "XX公司",
                    "billing_time": 1468322401,
                    "billing_no": "hello",
                    "billing_code": "world",
                    "info": [{"name": "绿巨人", "num": 10, "unit": "吨", "price": 4}],
                    "accept": True,
                    "fee_without_tax": 2345,
                    "tax": 123,
                    "pdf_url": "pdf_url",
                },
            },
        ),
        # WeChat's getinvoicebatch sample: two toothpaste invoices of one holder.
        SandboxInvoice(
            card_id="pjZ8Yt7KKEXWMpETmwG2ZZxX2m6E",
            encrypt_code="O/mPnGTpBu22a1szmK2ogzhFPBh9eYzv2p70L8yzyyk=",
            holder=LI,
            payload={
                "type": "广东增值税普通发票",
                "payee": "测试-收款方",
                "detail": "detail",
                "user_info": {
                    "fee": 123,
                    "title": "关哥的发票",
                    "billing_time": 1504085973,
                    "billing_no": "1504085973",
                    "billing_code": "aabbccdd",
                    "info": [{"name": "牙膏", "num": 3, "unit": "支", "price": 10000}],
                    "fee_without_tax": 2345,
                    "tax": 123,
                    "detail": "项目",
                    "pdf_url": "http://pdfurl",
                    "order_id": "1504085935",
                    "check_code": "check_code",
                    "buyer_number": "buyer_number",
                },
            },
        ),
        SandboxInvoice(
            card_id="pjZ8YtxSguaLUaaDqzeAf385soJM",
            encrypt_code="O/mPnGTpBu22a1szmK2ogz+Vd1b7Xz0aQ4f5mH8Lq2c=",
            holder=LI,
            payload={
                "type": "广东增值税普通发票",
                "payee": "测试-收款方",
                "detail": "detail",
                "user_info": {
                    "fee": 123,
                    "title": "关哥的发票",
                    "billing_time": 1504083578,
                    "billing_no": "1504083578",
                    "billing_code": "aabbccdd",
                    "info": [{"name": "牙膏", "num": 3, "unit": "支", "price": 10000}],
                    "fee_without_tax": 2345,
                    "tax": 123,
                    "detail": "项目",
                    "pdf_url": " http://pdfurl",
                    "order_id": "1504083522",
                    "check_code": "check_code",
                    "buyer_number": "buyer_number",
                },
            },
        ),
        # A fully digital invoice (数电发票): 20-digit number, no code, no check code; a
        # zero-priced gift line.
        SandboxInvoice(
            card_id="pQm3Rk8sD2vXn7LcW4yBt9HfJ1aZ",
            encrypt_code="Zk9vQ3R0bE1hV2pYc1BuQm5ZdlF4S2ZIZzJqTjhMdz0=",
            holder=ZHANG,
            payload={
                "begin_time": 1730390400,
                "end_time": 2045923200,
                "type": "电子发票（普通发票）",
                "payee": "深圳市南山区星河餐饮管理有限公司",
                "detail": "",
                "user_info": {
                    "fee": 35800,
                    "title": "上海云栈信息科技有限公司",
                    "billing_time": 1730440800,
                    "billing_no": "24442000000123456789",
                    "billing_code": "",
                    "info": [
                        {
                            "name": "*餐饮服务*餐费",
                            "num": 1,
                            "unit": "次",
                            "price": 33774,
                            "fee": 33774,
                        },
                        {
                            "name": "*餐饮服务*赠送饮品",
                            "num": 2,
                            "unit": "杯",
                            "price": 0,
                            "fee": 0,
                        },
                    ],
                    "fee_without_tax": 33774,
                    "tax": 2026,
                    "pdf_url": "https://mp.weixin.qq.com/intp/invoice/getpdf?action=media_pdf&media_id=sandbox-digital",
                    "check_code": "",
                    "buyer_number": "91310115MA1K4QX65R",
                    "buyer_address_and_phone": "",
                    "buyer_bank_account": "",
                    "seller_number": "91440300MA5G9KXX3L",
                    "remarks": "差旅就餐",
                    "cashier": "王芳",
                    "maker": "陈静",
                },
            },
        ),
        # Bare minimum: every optional field absent.
        SandboxInvoice(
            card_id="pHt5Lw2nB8cVx4MzQ7rKe1JdY3aU",
            encrypt_code="bWluaW1hbC1pbnZvaWNlLWZvci1zYW5kYm94LXRlc3Q=",
            holder=ZHANG,
            payload={
                "type": "增值税电子普通发票",
                "user_info": {
                    "fee": 2000,
                    "title": "个人",
                    "billing_time": 1700000000,
                    "billing_no": "05512398",
                    "billing_code": "044031900111",
                },
            },
        ),
        # Locked by the partner account: the primary account gets 72023 on it.
        SandboxInvoice(
            card_id="pLk9Tr4eW6yUi1Op3As5Df7Gh2Jk",
            encrypt_code="bG9ja2VkLWJ5LXBhcnRuZXItYWNjb3VudC1zYW5kYm94",
            holder=ZHANG,
            status=ReimburseStatus.LOCK,
            lock_owner=PARTNER.appid,
            payload={
                "type": "增值税电子普通发票",
                "payee": "北京首都机场出租车调度站",
                "user_info": {
                    "fee": 8600,
                    "title": "个人",
                    "billing_time": 1731200000,
                    "billing_no": "31876542",
                    "billing_code": "011002300211",
                    "fee_without_tax": 8350,
                    "tax": 250,
                },
            },
        ),
        # Already written off, and red-flushed by the issuer.
        SandboxInvoice(
            card_id="pCl0Su5rE9dFg3Hj6Kl8Zx2Cv4Bn",
            encrypt_code="Y2xvc2VkLWludm9pY2UtZm9yLXNhbmRib3gtdGVzdHM=",
            holder=ZHANG,
            status=ReimburseStatus.CLOSURE,
            payload={
                "type": "增值税电子普通发票",
                "user_info": {
                    "fee": 4500,
                    "title": "个人",
                    "billing_time": 1725000000,
                    "billing_no": "87265431",
                    "billing_code": "031001900311",
                },
            },
        ),
        SandboxInvoice(
            card_id="pCn1Mq6wR0tYu2Io4Pa7Sd9Fg3Hj",
            encrypt_code="Y2FuY2VsbGVkLWludm9pY2UtZm9yLXNhbmRib3g=",
            holder=LI,
            status=ReimburseStatus.CANCEL,
            payload={
                "type": "增值税电子普通发票",
                "user_info": {
                    "fee": 990,
                    "title": "个人",
                    "billing_time": 1726000000,
                    "billing_no": "55120098",
                    "billing_code": "031001900311",
                },
            },
        ),
        # A fuel invoice (成品油): 35.27 litres at 650.5 fen a litre (a fraction of a fen), as
        # JSON numbers; the line amount stays whole fen.
        SandboxInvoice(
            card_id="pFu3Lq7Pe2Tr0Ol5Ga9Sd4Zx6Cv1",
            encrypt_code="ZnVlbC1pbnZvaWNlLWZyYWN0aW9uYWwtcXVhbnRpdHk=",
            holder=ZHANG,
            payload={
                "begin_time": 1730390400,
                "end_time": 2045923200,
                "user_card_status": "NORMAL",
                "type": "增值税电子普通发票（成品油）",
                "payee": "中国石化销售股份有限公司上海石油分公司",
                "user_info": {
                    "fee": 25926,
                    "title": "上海云栈信息科技有限公司",
                    "billing_time": 1731300000,
                    "billing_no": "24312000000234567890",
                    "billing_code": "",
                    "info": [
                        {
                            "name": "*汽油*92号车用汽油(VIB)",
                            "num": 35.27,
                            "unit": "升",
                            "price": 650.5,
                            "fee": 22943,
                        },
                    ],
                    "fee_without_tax": 22943,
                    "tax": 2983,
                    "buyer_number": "91310115MA1K4QX65R",
                    "seller_number": "91310000132208778K",
                },
            },
        ),
        # An electricity invoice whose issuer sends quantity and price as strings.
        SandboxInvoice(
            card_id="pEl8Wa2Tt5Kw9Hh1Ss3Dd7Ff0Gg4",
            encrypt_code="ZWxlY3RyaWNpdHktaW52b2ljZS1zdHJpbmctbnVtYmVycw==",
            holder=ZHANG,
            payload={
                "type": "增值税电子普通发票",
                "payee": "国网上海市电力公司",
                "user_info": {
                    "fee": 9169,
                    "title": "上海云栈信息科技有限公司",
                    "billing_time": 1731400000,
                    "billing_no": "24312000000345678901",
                    "billing_code": "",
                    "info": [
                        {
                            "name": "*供电*电费",
                            "num": "152.5",
                            "unit": "千瓦时",
                            "price": "53.2035",
                            "fee": "8114",
                        },
                    ],
                    "fee_without_tax": 8114,
                    "tax": 1055,
                },
            },
        ),
    ]


def synthetic(count: int, *, holder: str = ZHANG, start: int = 0) -> list[SandboxInvoice]:
    """`count` plain INIT invoices of one holder, for load tests and large batches: one hour
    apart, four invoice codes, three buyers and five sellers, so every search filter bites."""
    return [
        SandboxInvoice(
            card_id=f"pSyn{n:024d}",
            encrypt_code=f"c3ludGhldGljLWludm9pY2Ut{n:020d}=",
            holder=holder,
            payload={
                "type": "增值税电子普通发票",
                "payee": "合成测试商户",
                "user_info": {
                    "fee": 1000 + n,
                    "title": "个人",
                    "billing_time": 1700000000 + 3600 * n,
                    "billing_no": f"{n:08d}",
                    "billing_code": f"0110019001{n % 4}1",
                    "fee_without_tax": 943 + n,
                    "tax": 57,
                    "buyer_number": f"91310000MA1BUYER{n % 3}",
                    "seller_number": f"91440300MA5SELLER{n % 5}",
                },
            },
        )
        for n in range(start, start + count)
    ]
