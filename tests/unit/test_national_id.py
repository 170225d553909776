from __future__ import annotations

import datetime as dt

import pytest

from service.rules.national_id import (
    NationalIdError,
    check_character,
    compose_national_id,
    parse_national_id,
)
from service.rules.regions import is_region_code, region_matches


def test_published_example_number_validates():
    # the worked example of GB 11643-1999 (Beijing Chaoyang, born 1949-12-31)
    parsed = parse_national_id("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.region_code == "110105"
    assert parsed.sex == "F"
    assert parsed.masked == "110***********002X"


def test_check_character_covers_x_and_lowercase_input():
    assert check_character("11010519491231002") == "X"
    assert parse_national_id(" 11010519491231002x ").number == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "national_id_check_digit"),
        ("1101051949123100", "national_id_format"),
        ("11010519491231002Y", "national_id_format"),
        ("990105194912310020", "national_id_region"),
        ("110105194902300020", "national_id_birth_date"),
        ("' OR 1=1 --", "national_id_format"),
        ("１１０１０５１９４９１２３１００２X", "national_id_format"),
    ],
)
def test_invalid_numbers_get_specific_codes(number, code):
    with pytest.raises(NationalIdError) as caught:
        parse_national_id(number)
    assert caught.value.code == code


def test_future_birth_date_is_refused():
    number = compose_national_id("110105", dt.date(2030, 1, 1), 1)
    with pytest.raises(NationalIdError):
        parse_national_id(number, today=dt.date(2026, 1, 1))


def test_composed_numbers_validate():
    for seq in range(0, 1000, 37):
        number = compose_national_id("440305", dt.date(1950, 6, 1), seq)
        assert parse_national_id(number).number == number


def test_region_codes():
    assert is_region_code("440305")
    assert not is_region_code("000000")
    assert not is_region_code("44030")
    assert region_matches("440305", "440000")
    assert region_matches("440305", "440300")
    assert not region_matches("440105", "440300")
    assert not region_matches("110105", "440000")


def test_every_province_has_a_name_for_its_default_agency():
    from service.rules.national_id import PROVINCES
    from service.rules.regions import PROVINCE_NAMES, default_agency_name

    assert set(PROVINCE_NAMES) == set(PROVINCES)
    assert default_agency_name("110000") == "北京市社会保险经办机构"
    assert default_agency_name("440300") == "广东省社会保险经办机构"
