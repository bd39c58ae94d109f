"""Word pools for generated names and titles, and the record key tables."""

from __future__ import annotations

#: Task-video record keys as the API page prints them, in the page's order.
PASCAL_KEYS = (
    "ActiveCnt1d",
    "AdShareCost1d",
    "Author",
    "BillingGMV1d",
    "BillingRefundGMV1d",
    "ClientName",
    "FeedAdShareCost1d",
    "DouyinID",
    "ExpectedProfit",
    "GMV1d",
    "MicroAppTitle",
    "PublishTime",
    "RefundGMV1d",
    "TaskId",
    "TaskName",
    "VideoId",
    "VideoLink",
    "VideoTitle",
    "date",
)

#: The same keys in snake_case, position for position.
SNAKE_KEYS = (
    "active_cnt_1d",
    "ad_share_cost_1d",
    "author",
    "billing_gmv_1d",
    "billing_refund_gmv_1d",
    "client_name",
    "feed_ad_share_cost_1d",
    "douyin_id",
    "expected_profit",
    "gmv_1d",
    "micro_app_title",
    "publish_time",
    "refund_gmv_1d",
    "task_id",
    "task_name",
    "video_id",
    "video_link",
    "video_title",
    "date",
)

#: The field added by ``extra_fields``, per key style: one the client does not know yet.
EXTRA_VIDEO_KEY = {"pascal": "TalentProfit1d", "snake": "talent_profit_1d"}
#: The field added to talent-media records by ``extra_fields``.
EXTRA_MEDIA_KEY = "commission_rate"

NICK_HEADS = ("快乐", "追风", "小鹿", "阿杰", "甜甜", "大橙", "星河", "阿木", "晴天", "米粒",
              "nice", "lucky", "momo", "coco", "sunny", "kiki")
NICK_TAILS = ("同学", "日记", "探店", "爱分享", "的小屋", "呀", "酱", "君", "说", "vlog")

TITLE_HEADS = ("今天带你", "终于找到", "一分钟学会", "亲测好用", "周末打卡", "超值推荐",
               "hello", "新手必看", "挑战", "宝藏小程序")
TITLE_TAILS = ("这个小游戏", "省钱攻略", "通关技巧", "隐藏玩法", "每日签到", "的正确打开方式",
               "#小程序推广", "太上头了", "全流程", "真香")

APP_TITLES = ("行业ITC", "消消乐大作战", "答题王者", "省钱小助手", "打卡日历", "萌宠养成",
              "合成大西瓜", "记账本")
