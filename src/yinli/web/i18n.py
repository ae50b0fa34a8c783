"""The web's message catalogue: Chinese is the source language, English a translation.

Templates and handlers write the Chinese text itself (`t("购物车")`); `translate` returns it as is for
zh-CN and looks it up in `EN` (messages/en.tsv) for English (falling back to the Chinese when a phrase is missing —
tests/web/test_i18n.py checks that no phrase used in a template is missing). Placeholders use
`str.format` names: `t("已售 {n}", n=12)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT = "zh"
LANGUAGES = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

# Outcomes shown after a redirect (`?done=<code>`): a fixed list, so a link cannot put words on a page.
FLASH = {
    "signed_in": "已登录",
    "signed_up": "注册成功，欢迎来到引力",
    "signed_out": "已退出登录",
    "added": "已加入购物车",
    "cart": "购物车已更新",
    "paid": "支付成功",
    "cancelled": "订单已取消",
    "delivered": "已确认收货",
    "bill_paid": "先用后付账单已还清",
    "after_sale": "售后申请已提交",
    "returned": "已填写退货物流",
    "withdrawn": "售后申请已撤销",
    "reviewed": "评价已发布",
    "price_protected": "已退差价",  # price protection (价保)
    "saved": "已保存",
    "address_saved": "收货地址已保存",
    "address_default": "已设为默认地址",
    "address_deleted": "收货地址已删除",
    "favourited": "已收藏",
    "unfavourited": "已取消收藏",
    "followed": "已关注店铺",
    "unfollowed": "已取消关注",
    "password": "密码已修改，请重新登录",
    "password_reset": "新密码已设置，请用新密码登录",
    "applied": "开店申请已提交，等待平台审核",
    "created": "商品已创建",
    "listed": "商品已上架",
    "delisted": "商品已下架",
    "sku_added": "规格已添加",
    "shipped": "已发货",
    "decided": "已处理售后申请",
    "received": "已确认收到退货并退款",
    "approved": "已通过开店申请",
    "rejected": "已驳回开店申请",
    "room_opened": "直播间已开通",
    "scheduled": "直播已预约",
    "live_started": "已开播",
    "presented": "已切换讲解商品",
    "live_ended": "直播已结束",
    "products_added": "已添加到直播间",
    "published": "短视频已发布",
    "removed": "短视频已下架",
    "plan_opened": "带货计划已开启",
    "plan_ended": "带货计划已结束",
    "liked": "已点赞",
    "shared": "已分享",
    "experiment_started": "实验已开始",
    "experiment_stopped": "实验已停止",
}

# Values of domain enums, as shown.
LABELS: dict[str, dict[str, str]] = {
    "order": {
        "created": "待支付",
        "paid": "待发货",
        "shipped": "已发货",
        "delivered": "已签收",
        "completed": "已完成",
        "cancelled": "已取消",
        "refunded": "已退款",
    },
    "after_sale": {
        "requested": "待商家处理",
        "awaiting_return": "待寄回商品",
        "return_shipped": "退货运输中",
        "refunded": "已退款",
        "rejected": "已拒绝",
        "withdrawn": "已撤销",
    },
    "after_sale_kind": {"refund_only": "仅退款", "return_refund": "退货退款"},
    "store": {"applied": "审核中", "rejected": "未通过", "active": "营业中", "suspended": "已暂停", "closed": "已关闭"},
    "product": {"draft": "草稿", "listed": "在售", "delisted": "已下架"},
    "surface": {
        "feed": "推荐",
        "live": "直播",
        "short_video": "短视频",
        "mall": "商城",
        "search": "搜索",
        "store_page": "店铺",
        "product_page": "商品页",
    },
    "guarantee": {
        "seven_day_returns": "7天无理由",
        "return_shipping_cover": "退货补运费",
        "price_protection": "价保",
        "pay_later": "先用后付",
    },
    "role": {"shopper": "消费者", "merchant": "商家", "creator": "达人", "operator": "平台运营"},
    "payment": {
        "pending": "待支付",
        "processing": "处理中",
        "succeeded": "已支付",
        "failed": "支付失败",
        "closed": "已关闭",
    },
    "method": {"card": "银行卡", "balance": "余额", "pay_later": "先用后付"},
    "bill": {  # pay-later bills (guarantees.credit)
        "open": "待出账",
        "billed": "扣款中",
        "paid": "已还清",
        "failed": "扣款失败",
        "overdue": "已逾期",
        "cancelled": "已取消",
    },
    "standing": {"good": "良好", "overdue": "逾期"},
    "sort": {
        "relevance": "综合",
        "sales": "销量",
        "price_asc": "价格从低到高",
        "price_desc": "价格从高到低",
        "newest": "最新",
    },
    "price_reason": {"created": "新建", "merchant": "商家改价", "operator": "平台调整", "hosting": "托管定价"},
    "live": {"scheduled": "待开播", "live": "直播中", "ended": "已结束"},
    "plan_kind": {"open": "通用", "targeted": "定向"},
    "plan": {"active": "进行中", "ended": "已结束"},
    "commission": {"pending": "待结算", "payable": "可结算", "reversed": "已冲销"},
    "launch": {"active": "扶持中", "withheld": "暂停扶持", "reached": "已达成", "expired": "未达成"},
    "targeting": {"category": "同类目兴趣", "top_category": "同一级类目兴趣", "similar": "相似人群"},
    "experiment": {"active": "进行中", "stopped": "已停止"},
    "policy": {"user_first": "用户优先", "gmv_only": "只看成交额"},
    "tier": {"rising": "潜力", "growing": "成长", "star": "明星"},
    "complaint": {
        "quality": "质量问题",
        "delivery": "物流问题",
        "service": "服务问题",
        "misleading_marketing": "虚假宣传",
    },
}

# Problem codes the services raise, as a shopper or merchant should read them.
PROBLEMS = {
    "email_taken": "该邮箱已注册",
    "bad_credentials": "邮箱或密码错误",
    "out_of_stock": "库存不足",
    "not_on_sale": "该商品已下架或不可售",
    "cart_empty": "购物车是空的",
    "cart_full": "购物车已满",
    "already_paid": "该订单已支付",
    "payment_declined": "支付被拒绝，请换一种方式再试",
    "nothing_to_pay": "没有待支付的订单",
    "payment_closed": "订单已超时或已取消，该支付已关闭，请重新下单",
    "payment_processing": "支付处理中，请稍候",
    "after_sale_open": "该订单已有进行中的售后",
    "return_window_closed": "已超过退货期限",
    "no_returns": "该商品不支持无理由退货",
    "nothing_to_refund": "该订单已全部退款",
    "already_reviewed": "已评价过",
    "not_delivered": "收货后才能评价",
    "store_name_taken": "店铺名称已被使用",
    "already_has_store": "该账号已有店铺",
    "store_inactive": "店铺未营业",
    "no_active_sku": "至少需要一个启用的规格才能上架",
    "last_active_sku": "在售商品至少保留一个启用的规格，请先下架",
    "sku_code_taken": "规格编码已存在",
    "below_reserved": "库存不能少于待支付订单占用的数量",
    "invalid_transition": "当前状态下不能这样操作",
    "csrf": "表单已过期，请刷新页面后重试",
    "too_many_sign_ins": "登录失败次数过多，请稍后再试",
    "too_many_resets": "请求太频繁，请稍后再试",
    "reset_link_invalid": "这个重设密码的链接无效：它可能已经用过、已过期，或者不完整",
    "overloaded": "现在访问的人太多，请稍后再试",
    "database_unavailable": "系统暂时繁忙，请稍后再试",
    "payment_confirming": "付款已提交，正在确认中，请勿重复支付",
    "not_found": "没有找到你要的内容",
    "method_not_allowed": "这个地址不接受这种请求",
    "forbidden": "你没有权限访问这里",
    "wrong_role": "这里仅对相应角色的账号开放",
    "not_authenticated": "请先登录",
    "no_store": "请先申请开店",
    "room_exists": "你已经开通了直播间",
    "session_open": "已有一场预约或进行中的直播，请先结束它",
    "no_affiliate_plan": "该商品没有对你开放的带货计划",
    "experiment_running": "已有实验在进行，请先停止它",
    "experiment_name_taken": "实验名称已被使用",
    # pay later (guarantees.credit); pay_later_not_offered shows the API's detail, which names the product
    "pay_later_overdue": "你有先用后付账单已逾期，请先在“我的”页面还款",
    "pay_later_lost": "近期退款的订单较多，暂时不能使用先用后付",
    "pay_later_over_limit": "先用后付额度不足",
    "bill_not_payable": "这笔账单现在不需要手动还款",
    "invalid_phone": "请输入正确的手机号：大陆手机号 11 位（1 开头），其他地区以 + 和国家代码开头",
    "address_book_full": "收货地址已满 20 个，请先删除不用的地址",
}

EN: dict[str, str] = {}  # loaded from messages/en.tsv at the bottom of this module


def short_stock(lang: str, available: int) -> str:
    """What a page says when fewer units are left than asked for (inventory.OutOfStock)."""
    if available <= 0:
        return translate(lang, "已售罄，请选择其他规格或稍后再来")
    return translate(lang, "库存不足：仅剩 {n} 件，请修改数量", n=available)


def translate(lang: str, text: str, **values: Any) -> str:
    if lang == "en":
        text = EN.get(text, text)
    return text.format(**values) if values else text


def label(lang: str, kind: str, value: str | None) -> str:
    if value is None:
        return "—"
    return translate(lang, LABELS.get(kind, {}).get(value, value))


def problem_message(lang: str, code: str, detail: str, extensions: dict[str, Any] | None = None) -> str:
    """A service's problem in the reader's words when we have them, else the API's own detail."""
    if code == "out_of_stock" and extensions and "available" in extensions:
        return short_stock(lang, int(extensions["available"]))
    if code in PROBLEMS:
        return translate(lang, PROBLEMS[code])
    return detail


def validation_message(lang: str, err: Any) -> str:
    """A pydantic error in the reader's words (English keeps pydantic's own message)."""
    kind, ctx, msg = err.get("type", ""), err.get("ctx") or {}, str(err.get("msg", ""))
    if lang == "en":
        return msg
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1) or err.get("input") == "":
        return "必填"
    if kind == "string_too_short":
        return f"至少 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字符"
    if "email" in msg:
        return "邮箱格式不正确"
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于 {ctx.get('le', ctx.get('lt'))}"
    if kind in ("int_parsing", "int_type"):
        return "请输入整数"
    if kind in ("literal_error", "enum"):
        return "请选择一项"
    if "control characters" in msg:
        return "不能包含控制字符"
    return msg


def _load(path: Path) -> dict[str, str]:
    """`messages/en.tsv`: one phrase a line, Chinese<TAB>English; '#' starts a comment line."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            zh, _, en = line.partition("\t")
            table[zh] = en
    return table


EN.update(_load(Path(__file__).parent / "messages" / "en.tsv"))
