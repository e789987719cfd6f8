"""Letter dates: western and era, 元年, the era boundary, ● for an undecided day, digit width."""

import datetime as dt

import pytest

from consult.letters.dates import ERA, WESTERN, era_of, format_date, format_day


def test_western_fixed_and_undecided_day():
    assert format_date(2025, 3, 17) == "2025年3月17日"
    assert format_date(2025, 3, None) == "2025年3月●日"
    assert format_date(2019, 7, 23, WESTERN) == "2019年7月23日"


def test_era_fixed_and_undecided_day():
    assert format_date(2025, 3, 17, ERA) == "令和7年3月17日"
    assert format_date(2025, 3, None, ERA) == "令和7年3月●日"


def test_first_year_of_an_era_is_gannen():
    assert format_date(2019, 5, 1, ERA) == "令和元年5月1日"
    assert format_date(2019, 12, None, ERA) == "令和元年12月●日"
    assert format_date(1989, 1, 8, ERA) == "平成元年1月8日"
    assert format_date(2020, 1, 1, ERA) == "令和2年1月1日"


def test_era_boundary_is_the_first_day_of_the_new_era():
    assert format_date(2019, 4, 30, ERA) == "平成31年4月30日"
    assert format_date(2019, 5, 1, ERA) == "令和元年5月1日"
    assert format_date(1989, 1, 7, ERA) == "昭和64年1月7日"
    assert era_of(dt.date(1926, 12, 24)) == ("大正", 15)
    assert era_of(dt.date(1926, 12, 25)) == ("昭和", 1)
    # An undecided day takes the era of the month's first day.
    assert format_date(2019, 4, None, ERA) == "平成31年4月●日"
    assert format_date(1989, 1, None, ERA) == "昭和64年1月●日"


def test_fullwidth_digits_option():
    assert format_date(2025, 3, 17, fullwidth=True) == "２０２５年３月１７日"
    assert format_date(2025, 3, None, ERA, fullwidth=True) == "令和７年３月●日"
    assert format_date(2019, 5, 1, ERA, fullwidth=True) == "令和元年５月１日"
    assert format_day(dt.date(2025, 3, 17), ERA) == "令和7年3月17日"


@pytest.mark.parametrize("args", [(2025, 13, 1), (2025, 0, None), (2025, 2, 30), (2025, 4, 31)])
def test_impossible_dates_are_refused_in_japanese(args):
    with pytest.raises(ValueError, match="月|日付"):
        format_date(*args)


def test_unknown_style_and_dates_before_meiji_6_are_refused():
    with pytest.raises(ValueError, match="書式"):
        format_date(2025, 3, 17, "heisei")
    with pytest.raises(ValueError, match="明治6年"):
        format_date(1872, 12, 31, ERA)
    assert format_date(1873, 1, 1, ERA) == "明治6年1月1日"
    assert format_date(1872, 12, 31) == "1872年12月31日"  # western dates have no such limit
