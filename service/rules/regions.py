"""Administrative division codes (GB/T 2260): six digits, the first two a province."""

from __future__ import annotations

import re

from .national_id import PROVINCES

__all__ = ["is_region_code", "region_matches", "region_prefix", "PROVINCE_NAMES", "default_agency_name"]

_CODE = re.compile(r"^[0-9]{6}$")

PROVINCE_NAMES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
"""Province names by the first two digits of their division code (GB/T 2260)."""


def is_region_code(code: str) -> bool:
    """True for a six-digit code whose first two digits name a province."""
    return bool(_CODE.match(code)) and code[:2] in PROVINCES


def region_prefix(scope: str) -> str:
    """The significant prefix of a division code: "440000" -> "44", "440300" -> "4403"."""
    prefix = scope
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def region_matches(code: str, scope: str) -> bool:
    """True when `code` lies inside `scope` (a province, city or county code)."""
    return code.startswith(region_prefix(scope))


def default_agency_name(province_code: str) -> str:
    """The name a province's agency gets until it is set (`certify agency set`), as
    printed on its certificates: "北京市社会保险经办机构"."""
    return f"{PROVINCE_NAMES.get(province_code[:2], province_code)}社会保险经办机构"
