"""The buyer's pages: the catalogue (search, filters, near me, load more), a product, a vendor.

Open to everyone, logged in or not: a visitor sees the zone's catalogue measured from the zone, a canteen from
its factory, anyone from their phone's location once they tap "near me". The same URL answers three ways:
the whole page, the results alone (typing in the search box, htmx), or the next page's rows ("load more").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import get
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from backend.catalog.models import Category
from backend.catalog.search import MAX_DAYS_AHEAD, MSG_PLACE, CatalogueQuery, Sort, buyer_location, search_catalogue
from backend.catalog.storefront import product_for_buyer, vendor_for_buyer
from backend.catalog.vocabulary import Suggestions, suggest
from backend.clock import utcnow, wib_today
from backend.db import DbSession
from backend.errors import N_, FieldError, ValidationFailed
from backend.i18n import gettext
from backend.money import parse_rupiah
from backend.orders.delivery import default_delivery_day
from backend.orders.reviews import vendor_reviews
from backend.requests.demand import count_unmet_search_apart
from backend.security_headers import LOCATION
from backend.training.service import training_badges
from backend.validation import MSG_CALENDAR_DAY
from backend.vendors.models import mask_to_days
from web.forms import field_errors, query_date
from web.responses import page, page_or_fragment

MSG_PRICE = N_("Type a price such as 15000 or 15.000.")
MSG_CATEGORY = N_("Choose a category from the list.")
MSG_SORT = N_("Choose an order from the list.")
MAX_TEXT = 100
# The search button's name: a search the buyer submitted (the button, Enter, or the form without JavaScript) carries
# it; the answers shown while typing, a filter changed or a category chip do not, and are not counted as demand.
SUBMITTED = "cari"
MAX_CURSOR = 400


def read_filters(params: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The catalogue form's values as CatalogueQuery fields, and what could not be read.

    Without a date everything on sale is listed (ready goods with their stock); a chosen date keeps only what
    can still be ordered for it and shows how much is left."""
    errors: list[FieldError] = []
    fields: dict[str, Any] = {
        "text": params.get("q", "").strip()[:MAX_TEXT],
        "halal_only": params.get("halal") in ("1", "on"),
        "certified_only": params.get("certified") in ("1", "on"),
    }
    for name, choices, message in (("category", Category, MSG_CATEGORY), ("sort", Sort, MSG_SORT)):
        value = params.get(name, "")
        if value in choices.__members__.values():
            fields[name] = choices(value)
        elif value:
            errors.append(FieldError(name, message))
    for name in ("price_min", "price_max"):
        if params.get(name, "").strip():
            try:
                fields[name] = parse_rupiah(params[name])
            except ValueError:
                errors.append(FieldError(name, MSG_PRICE))
    fields["available_on"] = query_date(params.get("date"))
    if params.get("date", "").strip() and fields["available_on"] is None:
        errors.append(FieldError("date", MSG_CALENDAR_DAY))
    # Pages follow a cursor ("after"); the number only names the "load more" rows. An old link with a page
    # number and no cursor opens the first page.
    fields["after"] = params.get("after", "")[:MAX_CURSOR]
    try:
        fields["page"] = int(params.get("page") or 1) if fields["after"] else 1
    except ValueError:
        fields["page"] = 1
    try:
        latitude, longitude = params.get("lat", "").strip(), params.get("lon", "").strip()
        fields["latitude"] = float(latitude) if latitude and longitude else None
        fields["longitude"] = float(longitude) if latitude and longitude else None
    except ValueError:
        errors.append(FieldError("near", MSG_PLACE))
    return fields, errors


@get("/catalogue", name="catalogue", opt=LOCATION)
async def catalogue(request: HTMXRequest, db_session: DbSession) -> Template:
    user = request.scope.get("user")
    params = dict(request.query_params.items())
    fields, problems = read_filters(params)
    near = await buyer_location(
        session=db_session, user=user, latitude=fields.pop("latitude", None), longitude=fields.pop("longitude", None)
    )
    now = utcnow()
    results, errors, suggestions = None, {}, Suggestions()
    count_after: BackgroundTask | None = None
    if problems:
        errors = field_errors(ValidationFailed(problems))
    else:
        try:
            results = await search_catalogue(session=db_session, query=CatalogueQuery(near=near, **fields), now=now)
            suggestions = await suggest(
                session=db_session, text=fields["text"], found_any=bool(results.items) or results.page > 1
            )
            if not fields["after"] and params.get(SUBMITTED) == "1":
                # Counted once the page is sent, apart from it: the page keeps its five queries.
                count_after = BackgroundTask(
                    count_unmet_search_apart,
                    request.app.state.database,
                    zone_id=getattr(user, "zone_id", None),
                    text=fields["text"],
                    found=len(results.items),
                    today=wib_today(now),
                )
        except ValidationFailed as refused:
            errors = field_errors(refused)
    today = wib_today(now)
    context = {
        "today": today,
        "last_day": today + timedelta(days=MAX_DAYS_AHEAD),
        "results": results,
        "suggestions": suggestions,
        "errors": errors,
        "params": params,
        "day": fields.get("available_on"),
        "own_location": bool(params.get("lat")),
    }
    # "Load more" asks for the next rows only; the search box for the whole result list.
    wants_more = bool(request.htmx and request.htmx.target and request.htmx.target.startswith("more"))
    answer = page_or_fragment(
        request,
        "catalogue/index.html",
        "catalogue/_rows.html" if wants_more else "catalogue/_results.html",
        status_code=400 if errors else 200,
        **context,
    )
    answer.background = count_after
    return answer


@get("/products/{product_id:int}", name="product_page")
async def product_page(request: HTMXRequest, product_id: FromPath[int], db_session: DbSession) -> Template:
    raw_date = request.query_params.get("date", "")
    now = utcnow()
    errors: dict[str, str] = {}
    day = query_date(raw_date) or default_delivery_day(now)
    if raw_date and query_date(raw_date) is None:
        errors = {"date": gettext(MSG_CALENDAR_DAY)}
    try:
        product = await product_for_buyer(session=db_session, product_id=product_id, available_on=day, now=now)
    except ValidationFailed as refused:
        errors = field_errors(refused)
        day = default_delivery_day(now)
        product = await product_for_buyer(session=db_session, product_id=product_id, available_on=day, now=now)
    return page("catalogue/product.html", status_code=400 if errors else 200, item=product, day=day, errors=errors)


@get("/vendors/{vendor_id:int}", name="vendor_page")
async def vendor_page(request: HTMXRequest, vendor_id: FromPath[int], db_session: DbSession) -> Template:
    near = await buyer_location(session=db_session, user=request.scope.get("user"))
    storefront = await vendor_for_buyer(session=db_session, vendor_id=vendor_id, near=near, now=utcnow())
    badges = await training_badges(session=db_session, user_id=storefront.vendor.user_id)
    return page(
        "catalogue/vendor.html",
        storefront=storefront,
        operating_days=mask_to_days(storefront.vendor.operating_days),
        training_badges=badges,
    )


@get("/vendors/{vendor_id:int}/reviews", name="vendor_reviews")
async def vendor_reviews_page(request: HTMXRequest, vendor_id: FromPath[int], db_session: DbSession) -> Template:
    """The vendor's latest reviews: loaded into the vendor's page by htmx, or a page of their own without JS."""
    vendor, reviews = await vendor_reviews(session=db_session, vendor_id=vendor_id)
    return page_or_fragment(
        request, "catalogue/reviews.html", "catalogue/_reviews.html", vendor=vendor, reviews=reviews
    )


PAGE_ROUTES = [catalogue, product_page, vendor_page, vendor_reviews_page]
