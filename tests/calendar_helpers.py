"""A State Council notice for 2027 as the office would paste it, and entering it through the admin.

chinesecalendar 1.11 has no data after 2026; this text stands in for the real 2027 notice (its
shape is the real one: a heading per holiday, ranges with 至, make-up days with 上班).
"""

from __future__ import annotations

NOTICE_URL = "/admin/rectify/calendaryear/notice/"

NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至3日放假，共3天。
二、春节：2月5日（农历除夕）至13日放假调休，共9天。2月14日（星期日）上班。
三、清明节：4月3日至5日放假，共3天。
四、劳动节：5月1日至5日放假调休，共5天。4月25日（星期日）、5月8日（星期六）上班。
五、端午节：6月9日放假，共1天。
六、中秋节：9月15日至17日放假调休，共3天。9月18日（星期六）上班。
七、国庆节：10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作。"""


def notice_enter(client, text: str = NOTICE_2027, year: str = "") -> tuple[str, object]:
    """Paste, preview, confirm — as the office does it. Returns (preview html, confirm response)."""
    preview = client.post(NOTICE_URL, {"year": year, "notice": text, "preview": "1"})
    assert preview.status_code == 200
    confirmed = client.post(NOTICE_URL, {"year": year, "notice": text, "confirm": "1"})
    return preview.content.decode(), confirmed

# The items of the State Council notices for 2025 and 2026 (their days are exactly chinesecalendar 1.11's).
NOTICE_2025 = """一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"""

NOTICE_2026 = """一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。"""
