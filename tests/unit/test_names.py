"""Masked names (service.rules.names.mask_name), as the pensioner's page greets them."""

from __future__ import annotations

import pytest

from service.demo import DEMO_PENSIONERS
from service.rules.names import mask_name


@pytest.mark.parametrize(("name", "shown"), [
    ("张桂兰", "张*兰"),
    ("张三", "张*"),
    ("李", "李"),
    ("欧阳娜娜", "欧**娜"),
    ("欧阳 修", "欧*修"),          # a Chinese name typed with a space is still one name
    ("演示 王建国", "演***国"),     # the old demo names: never "演* 王*国"
    (" 王建国 ", "王*国"),
    ("阿依古丽·买买提", "阿******提"),
    ("John Smith", "J*** S****"),
    ("Li Na", "L* N*"),
    ("", ""),
])
def test_mask_name(name, shown):
    assert mask_name(name) == shown


def test_demo_pensioners_are_masked_as_any_chinese_name():
    shown = [mask_name(demo.name) for demo in DEMO_PENSIONERS]
    assert shown == ["王*国", "李*英", "张*强", "刘*兰"]
    assert all(len(demo.name) == 3 and "演示" not in demo.name for demo in DEMO_PENSIONERS)
