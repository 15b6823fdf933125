"""Places in Indonesia: the one check of a typed latitude and longitude."""

from __future__ import annotations

from backend.errors import N_, FieldError

MSG_BOTH = N_("Give both latitude and longitude, or neither.")
MSG_LATITUDE = N_("A latitude in Indonesia lies between -11.5 and 6.5.")
MSG_LONGITUDE = N_("A longitude in Indonesia lies between 94 and 141.5.")


def location_errors(latitude: float | None, longitude: float | None, *, required: bool = False) -> list[FieldError]:
    """What is wrong with a location: one coordinate without the other, or a point outside Indonesia."""
    errors = []
    if (latitude is None) != (longitude is None) or (required and latitude is None):
        errors.append(FieldError("longitude", MSG_BOTH))
    if latitude is not None and not -11.5 <= latitude <= 6.5:
        errors.append(FieldError("latitude", MSG_LATITUDE))
    if longitude is not None and not 94.0 <= longitude <= 141.5:
        errors.append(FieldError("longitude", MSG_LONGITUDE))
    return errors
