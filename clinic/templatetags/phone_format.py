"""Phone numbers as people read them: ``{{ number|phone:clinic_region }}``.

Numbers are stored in E.164 (``+442079460000``); a number from the clinic's own country is
shown in its national format (``020 7946 0000``), any other in the international one
(``+1 212-555-0100``). Something that does not parse is shown as it came.
"""

from __future__ import annotations

import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone(value: str | None, region: str | None = None) -> str:
    if not value:
        return ""
    try:
        number = phonenumbers.parse(str(value), (region or "GB").upper())
    except phonenumbers.NumberParseException:
        return str(value)
    if not phonenumbers.is_possible_number(number):
        return str(value)
    # By calling code, not region: +44 7911… is a Jersey or UK mobile, dialled alike from London.
    home = region and number.country_code == phonenumbers.country_code_for_region(region.upper())
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if home
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
