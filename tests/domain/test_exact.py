from decimal import Decimal

import pytest

from tabulation.domain.exact import share_percent


@pytest.mark.parametrize(
    ("part", "whole", "share"),
    [
        (1, 800, "0.13"),  # 0.125: a half goes up
        (3, 800, "0.38"),  # 0.375: up, not to the even 0.37
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (387_326, 734_000, "52.77"),
        (0, 734_000, "0.00"),
        (5, 0, "0.00"),  # nothing counted yet
    ],
)
def test_published_shares_are_rounded_half_up_to_two_places(part, whole, share):
    assert share_percent(part, whole) == Decimal(share)
    assert str(share_percent(part, whole)) == share
