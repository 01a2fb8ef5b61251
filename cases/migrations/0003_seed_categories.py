"""The request taxonomy, from the field reports: what residents call about, in their words.

Each top category names the portfolio (deputy director's field) that answers for it;
utilities default to "urgent" (24 h) and a few categories carry their own deadlines.
Re-running is safe: rows are matched on their code.
"""

from datetime import timedelta

from django.db import migrations

H = timedelta(hours=1)
D = timedelta(days=1)

# (code, name, plain-language name, portfolio, default urgency, children)
TAXONOMY = [
    ("housing", "住房/物业", "房屋漏雨、楼道设施、物业服务", "urban", "ordinary", [
        ("housing-leak", "房屋漏雨渗水", "屋顶、外墙漏雨，墙面渗水"),
        ("housing-stairwell", "楼道设施", "楼道灯不亮、单元门坏了、扶手松动"),
        ("housing-property", "物业服务", "物业不管事、服务差、收费有疑问"),
        ("housing-repair", "公共部位维修", "下水管道堵、公共部位要维修"),
    ]),
    ("heating", "供暖", "暖气不热、停暖、漏水", "livelihood", "urgent", [
        ("heating-cold", "暖气不热", "家里暖气不热、不来暖"),
        ("heating-leak", "暖气漏水", "暖气片或管道漏水"),
        ("heating-fee", "供暖费与报停", "供暖费怎么交、怎么报停"),
    ]),
    ("utilities", "供水/供电/燃气", "停水、停电、燃气问题", "livelihood", "urgent", [
        ("water", "供水", "停水、水压低、水发黄"),
        ("power", "供电", "停电、电压不稳、电表问题"),
        ("gas", "燃气", "停气、燃气表和燃气灶问题"),
        ("gas-leak", "燃气泄漏", "闻到燃气味（请先开窗、别开电器）"),
    ]),
    ("roads", "市政道路", "路面坑洼、井盖、路灯", "urban", "ordinary", [
        ("road-surface", "路面与台阶破损", "路面坑洼、台阶破损、便道砖松动"),
        ("road-manhole", "井盖", "井盖丢失、破损、响动"),
        ("road-lights", "路灯", "路灯不亮、一直亮着"),
    ]),
    ("elevator", "加装电梯", "老楼加装电梯：咨询、协商和施工问题", "livelihood", "complex", []),
    ("ebike", "电动自行车充电", "电动车充电难、楼道停放、飞线充电", "safety", "ordinary", [
        ("ebike-charging", "充电设施", "想要充电桩、充电桩坏了"),
        ("ebike-hazard", "飞线充电与楼道停放", "从楼上拉电线充电、电动车停在楼道里"),
    ]),
    ("noise", "噪音", "施工、商铺、邻里噪音扰民", "urban", "ordinary", []),
    ("sanitation", "环境卫生/垃圾分类", "垃圾没清运、垃圾分类、卫生死角", "urban", "ordinary", [
        ("garbage", "垃圾清运", "垃圾满了没人运、垃圾桶坏了"),
        ("garbage-sorting", "垃圾分类", "垃圾分类怎么分、桶站设置"),
        ("sanitation-pests", "卫生死角与病媒", "卫生死角、老鼠蟑螂"),
    ]),
    ("parking", "停车/交通", "停车难、乱停车、交通设施", "urban", "ordinary", [
        ("parking-space", "停车难", "小区里停车位不够"),
        ("parking-illegal", "乱停车", "车辆乱停、占用通道"),
    ]),
    ("education-refund", "教育培训退费", "培训机构不退费、跑路", "livelihood", "complex", []),
    ("wage-arrears", "劳动欠薪", "被拖欠工资、劳务费", "livelihood", "ordinary", []),
    ("social-security", "社保/低保", "社保、低保、救助、残疾人补贴", "livelihood", "ordinary", []),
    ("public-safety", "群租房/公共安全", "群租房、消防通道堵塞、安全隐患", "safety", "ordinary", [
        ("group-rental", "群租房", "房子被隔成很多间出租、住很多人"),
        ("fire-lane", "消防通道", "消防通道被车或杂物堵住"),
        ("safety-hazard", "其他安全隐患", "高空坠物、危险建筑、私搭乱建"),
    ]),
    ("property-certificate", "房产证", "房产证办不下来、办证问题", "livelihood", "complex", []),
    ("elderly-meals", "养老助餐", "老人吃饭难、助餐点、送餐", "livelihood", "ordinary", []),
    ("other", "其他", "其他问题和建议", "general", "ordinary", []),
]

# Children whose urgency differs from their parent's.
CHILD_URGENCY = {
    "gas-leak": "emergency",
    "road-manhole": "urgent",
    "ebike-hazard": "urgent",
    "fire-lane": "urgent",
    "heating-fee": "ordinary",
}

# (category code, urgency, contact within, resolve within)
DEADLINES = [
    ("heating", "urgent", 1 * H, 1 * D),
    ("gas-leak", "emergency", timedelta(minutes=15), 2 * H),
    ("elevator", "complex", 1 * D, 60 * D),
    ("property-certificate", "complex", 1 * D, 30 * D),
    ("education-refund", "complex", 1 * D, 30 * D),
    ("wage-arrears", "ordinary", 12 * H, 15 * D),
]


def seed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    CategoryDeadline = apps.get_model("cases", "CategoryDeadline")
    for order, (code, name, public, portfolio, urgency, children) in enumerate(TAXONOMY, start=1):
        parent, _ = Category.objects.update_or_create(
            code=code,
            defaults=dict(
                parent=None, name=name, public_name=public, portfolio=portfolio,
                default_urgency=urgency, sort_order=order * 10, active=True,
            ),
        )
        for child_order, (child_code, child_name, child_public) in enumerate(children, start=1):
            Category.objects.update_or_create(
                code=child_code,
                defaults=dict(
                    parent=parent, name=child_name, public_name=child_public, portfolio=portfolio,
                    default_urgency=CHILD_URGENCY.get(child_code, urgency),
                    sort_order=order * 10 + child_order, active=True,
                ),
            )
    for code, urgency, contact, resolve in DEADLINES:
        CategoryDeadline.objects.update_or_create(
            category=Category.objects.get(code=code), urgency=urgency,
            defaults=dict(contact_within=contact, resolve_within=resolve),
        )


def unseed(apps, schema_editor):
    Category = apps.get_model("cases", "Category")
    codes = [code for code, *_rest in TAXONOMY]
    children = [child[0] for *_head, kids in TAXONOMY for child in kids]
    Category.objects.filter(code__in=children).delete()
    Category.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_role_permissions")]
    operations = [migrations.RunPython(seed, unseed)]
