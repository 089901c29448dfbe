"""Exact numbers: Fractions for seat arithmetic, Decimal strings for shares.

House rule 5: counts are ints, seat arithmetic uses ``fractions.Fraction``,
shares are ``Decimal`` with an explicit rounding, and never a float in a
result. These helpers convert inputs without ever passing through a float.
"""

from decimal import Decimal
from fractions import Fraction

from tabulation.domain.errors import DomainError

Exact = Fraction | Decimal | int | str


def to_fraction(value: Exact, name: str) -> Fraction:
    """``value`` as an exact Fraction; floats and bools are refused.

    A float such as 0.1 is not the number a commission wrote down, so it has
    no place in the count: callers pass ``"3"``, ``Decimal("3")`` or ``3``.
    """
    if isinstance(value, (bool, float)):
        raise DomainError(
            f"{name}: must be exact (int, Decimal, Fraction or a string), got {value!r}"
        )
    if isinstance(value, Fraction | Decimal | int):
        return Fraction(value)
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise DomainError(f"{name}: not a number: {value!r}") from None
    raise DomainError(f"{name}: must be a number, got {type(value).__name__}")


def fraction_to_string(value: Fraction) -> str:
    """Exact text: a terminating decimal ("22020", "2201.55") or else "p/q".

    A quotient such as 1000/3 has no exact decimal form, so it is written as
    a fraction rather than rounded.
    """
    denominator = value.denominator
    places = 0
    # A Fraction terminates in decimal exactly when its denominator has no
    # prime factor but 2 and 5; count how many decimal places it then needs.
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = value * 10**places  # a whole number by construction
    return format(Decimal(scaled.numerator).scaleb(-places), "f")


def fraction_rounded(value: Fraction, places: int = 4) -> Decimal:
    """``value`` rounded half-even to ``places`` decimals (for display only).

    The rounding happens on the exact Fraction (``round`` of a Fraction is
    exact and half-even), so no intermediate step can round twice.
    """
    whole = round(value * 10**places)
    return Decimal(whole).scaleb(-places)


def share_percent(part: int, whole: int, places: int = 2) -> Decimal:
    """``part`` as a percentage of ``whole``, rounded half-up to ``places``.

    The one rounding of every share the commission publishes (a list's share
    of the voters who voted, turnout: docs/results-format.md) and of the
    shares the checks quote. Integer arithmetic on the exact quotient and
    remainder, so nothing is rounded twice. 0 when ``whole`` is 0.
    """
    if whole <= 0:
        return Decimal(0).scaleb(-places)
    quotient, remainder = divmod(100 * 10**places * part, whole)
    if 2 * remainder >= whole:
        quotient += 1
    return Decimal(quotient).scaleb(-places)
