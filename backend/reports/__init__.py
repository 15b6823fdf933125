"""Reports: a vendor's sales, a canteen's spend, a zone's dashboard; CSV exports and small SVG charts."""
