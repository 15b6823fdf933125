"""Chromium itself says the app can be installed on a phone's home screen.

Playwright's ordinary contexts are incognito, where Chromium never offers to install anything, so this test
opens a persistent profile of its own. The offline page with the network cut is tested in test_shell.py.
"""

from __future__ import annotations

import json

from tests.browser.conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, PHONE

CORNER_ALPHA = """src => new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const drawing = canvas.getContext("2d");
        drawing.drawImage(image, 0, 0);
        resolve(drawing.getImageData(0, 0, 1, 1).data[3]);
    };
    image.onerror = () => reject(new Error("cannot decode " + src));
    image.src = src;
})"""


def test_chromium_finds_the_app_installable_with_a_complete_manifest(browser, live_server, tmp_path):
    phone = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, base_url=live_server, **PHONE
    )
    try:
        phone.set_default_timeout(ACTION_TIMEOUT_MS)
        page = phone.pages[0] if phone.pages else phone.new_page()
        page.goto("/")
        devtools = phone.new_cdp_session(page)

        errors = devtools.send("Page.getInstallabilityErrors")["installabilityErrors"]
        fetched = devtools.send("Page.getAppManifest")

        assert errors == [], f"Chromium would not offer to install the app: {errors}"
        assert fetched["errors"] == [], fetched["errors"]
        manifest = json.loads(fetched["data"])
        assert manifest["name"] == "Pasar Kawasan"
        assert manifest["short_name"], "the label under the home-screen icon"
        assert manifest["start_url"] == "/"
        assert manifest["display"] == "standalone"
        assert manifest["theme_color"] == "#0b5d3b"
        assert page.locator("meta[name=theme-color]").get_attribute("content") == manifest["theme_color"]
        icons = manifest["icons"]
        sizes = {icon["sizes"] for icon in icons if "any" in icon.get("purpose", "any").split()}
        assert {"192x192", "512x512"} <= sizes, sizes
        maskable = [icon for icon in icons if "maskable" in icon.get("purpose", "").split()]
        assert maskable, "Android crops a launcher icon to its own shape: one icon must be maskable"
        # A maskable icon is drawn to its edges, or the launcher shows a white ring around it.
        for icon in maskable:
            assert page.evaluate(CORNER_ALPHA, icon["src"]) == 255, f"{icon['src']} has transparent corners"
    finally:
        phone.close()
