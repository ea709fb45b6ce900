"""The pages in headless Chromium (Debian's chromium and chromedriver, driven by Selenium): a clerk
signs in with a key file, attests an extract, a citizen verifies it by dropping the file (hashed in
the browser), the clerk revokes it, the citizen sees the change, in German and in English, on a
desktop and on a phone; labels, keyboard and contrast are checked on the way. Screenshots go to
var/test-artifacts/registry/."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.apps.registry.conftest import AACHEN_CLERK, Registry, document, sha

ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "registry"
WAIT = 30
PASSWORD = "Dienstschlüssel-2026"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        message = "Debian's chromium and chromium-driver are needed (./govchain test installs them as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    options = Options()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1500",
        "--lang=de-DE",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def ready(driver: WebDriver, url: str) -> None:
    driver.get(url)
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return document.body.dataset.ready"))


def wait_for(driver: WebDriver, selector: str) -> WebElement:
    found: list[WebElement] = []

    def present(d: Any) -> bool:
        found[:] = [e for e in d.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]
        return bool(found)

    WebDriverWait(driver, WAIT).until(present, f"nothing shows {selector}")
    return found[0]


def drop_file(driver: WebDriver, zone: WebElement, path: Path) -> None:
    """Drags a file from the desktop onto the drop zone (a DataTransfer carrying the file)."""
    carrier = driver.execute_script(
        "const i = document.createElement('input'); i.type = 'file'; i.id = 'test-carrier';"
        "document.body.append(i); return i;"
    )
    carrier.send_keys(str(path))
    driver.execute_script(
        "const [carrier, zone] = arguments; const data = new DataTransfer();"
        "data.items.add(carrier.files[0]);"
        "for (const type of ['dragover', 'drop'])"
        "  zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));"
        "carrier.remove();",
        carrier,
        zone,
    )


def unlabelled_controls(driver: WebDriver) -> list[str]:
    """Form controls without an accessible name (label, aria-label or aria-labelledby)."""
    result: list[str] = driver.execute_script(
        "return [...document.querySelectorAll('input, select, textarea')]"
        ".filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')"
        " && !e.getAttribute('aria-labelledby')).map(e => e.id || e.outerHTML);"
    )
    return result


CONTRAST = """
const luminance = (rgb) => {
  const [r, g, b] = rgb.match(/[0-9.]+/g).slice(0, 3).map(Number).map((c) => {
    c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const background = (el) => {
  for (; el; el = el.parentElement) {
    const bg = getComputedStyle(el).backgroundColor;
    if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
  }
  return 'rgb(255, 255, 255)';
};
return [...document.querySelectorAll(arguments[0])].filter((el) => el.offsetParent).map((el) => {
  const [a, b] = [luminance(getComputedStyle(el).color), luminance(background(el))];
  return [el.className || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
});
"""
TEXTS = "h1, h2, p, dt, dd, label, a, button, .status-word, .drop-help, .hint, summary, th, td"


def low_contrast(driver: WebDriver) -> list[tuple[str, float]]:
    """Text whose contrast with its background is below WCAG AA (4.5:1)."""
    ratios: list[tuple[str, float]] = driver.execute_script(CONTRAST, TEXTS)
    assert ratios, "no text found"
    return [(name, round(ratio, 2)) for name, ratio in ratios if ratio < 4.5]


def test_a_clerk_attests_a_citizen_verifies_the_clerk_revokes_the_citizen_sees_it(
    registry: Registry, browser: WebDriver, tmp_path: Path
) -> None:
    extract = tmp_path / "Meldebescheinigung.pdf"
    extract.write_bytes(document("Meldebescheinigung Erika Mustermann"))
    digest = sha(extract.read_bytes()).hex()
    key_file = tmp_path / "sachbearbeitung.keystore.json"
    key_file.write_text(
        json.dumps(Account.encrypt(AACHEN_CLERK.key, PASSWORD, kdf="scrypt", iterations=2**10))
    )

    # the clerk signs in with the key file; the key is decrypted in the page
    ready(browser, registry.url + "/clerk")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    assert unlabelled_controls(browser) == []
    browser.find_element(By.ID, "keystore").send_keys(str(key_file))
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login-button").click()
    who = wait_for(browser, "#who")
    assert AACHEN_CLERK.address in who.text and "Aachen" in who.text

    # ... attests the extract: hashed in the page, the draft checked and signed in the page
    browser.find_element(By.ID, "issue-file").send_keys(str(extract))
    WebDriverWait(browser, WAIT).until(lambda d: "SHA-256" in d.find_element(By.ID, "issue-hash").text)
    Select(browser.find_element(By.ID, "register-type")).select_by_value("Melderegister")
    browser.find_element(By.ID, "subject").send_keys("Mustermann, Erika, 12.08.1964")
    browser.find_element(By.ID, "prepare").click()
    wait_for(browser, "#confirm dl dd")
    assert digest in browser.find_element(By.ID, "confirm").text
    browser.find_element(By.ID, "sign").click()
    issued = wait_for(browser, '#issue-result .card[data-status="valid"]')
    assert "Gültig" in issued.text and issued.find_element(By.CSS_SELECTOR, ".qr img").is_displayed()
    browser.save_screenshot(str(ARTIFACTS / "clerk-issued.png"))
    clerk_tab = browser.current_window_handle

    # a citizen drops the file on the verification page, in another tab
    browser.switch_to.new_window("tab")
    citizen_tab = browser.current_window_handle
    ready(browser, registry.url + "/")
    assert unlabelled_controls(browser) == []
    drop_file(browser, browser.find_element(By.ID, "drop"), extract)
    card = wait_for(browser, '#result .card[data-status="valid"]')
    assert "Gültig" in card.text and "Aachen" in card.text and "Melderegister" in card.text
    assert card.find_element(By.CSS_SELECTOR, ".status-line .icon").text == "✓"  # not colour alone
    assert low_contrast(browser) == []
    proof = card.find_element(By.LINK_TEXT, "Nachweis herunterladen (JSON)").get_attribute("href")
    assert proof is not None and proof.endswith(f"/v1/attestations/{digest}/proof")
    browser.save_screenshot(str(ARTIFACTS / "verify-valid.png"))

    # the clerk revokes it
    browser.switch_to.window(clerk_tab)
    drop_file(browser, browser.find_element(By.CSS_SELECTOR, 'label[for="manage-file"]'), extract)
    wait_for(browser, '#manage-result .card[data-status="valid"]')
    Select(wait_for(browser, "#revoke-reason")).select_by_value("1")
    browser.find_element(By.ID, "revoke-note").send_keys("Anschrift falsch")
    browser.find_element(By.ID, "revoke").click()
    revoked = wait_for(browser, '#manage-result .card[data-status="revoked"]')
    assert "inhaltlich fehlerhaft" in revoked.text
    wait_for(browser, "#audit-table tbody tr")
    assert low_contrast(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "clerk-revoked.png"))

    # the citizen checks again and sees the change, then switches to English
    browser.switch_to.window(citizen_tab)
    drop_file(browser, browser.find_element(By.ID, "drop"), extract)
    card = wait_for(browser, '#result .card[data-status="revoked"]')
    assert "Widerrufen" in card.text and "inhaltlich fehlerhaft" in card.text
    assert low_contrast(browser) == []
    browser.save_screenshot(str(ARTIFACTS / "verify-revoked.png"))
    browser.find_element(By.ID, "lang-switch").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    card = wait_for(browser, '#result .card[data-status="revoked"]')
    assert "Revoked" in card.text and "content is incorrect" in card.text
    browser.save_screenshot(str(ARTIFACTS / "verify-revoked-en.png"))

    # the QR code's target shows the result at once; on a phone, without sideways scrolling
    browser.set_window_size(390, 844)
    ready(browser, f"{registry.url}/verify/{digest}?lang=de")
    card = wait_for(browser, '#result .card[data-status="revoked"]')
    assert "Widerrufen" in card.text
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    browser.save_screenshot(str(ARTIFACTS / "verify-phone.png"))
    browser.set_window_size(1100, 1500)


def test_the_keyboard_reaches_the_file_chooser_and_a_pasted_key_signs_in(
    registry: Registry, browser: WebDriver
) -> None:
    ready(browser, registry.url + "/?lang=de")
    tabbed = []
    for _ in range(8):  # Tab from the top: skip link, language, clerk link, the file chooser ...
        ActionChains(browser).send_keys(Keys.TAB).perform()
        tabbed.append(browser.switch_to.active_element.get_attribute("id"))
    assert "file" in tabbed
    outline = browser.execute_script(
        "document.getElementById('file').focus();"
        "return getComputedStyle(document.querySelector('label[for=file]')).outlineStyle;"
    )
    assert outline == "solid"  # the focus shows on the drop zone
    ready(browser, registry.url + "/clerk?lang=de")  # the last test left English chosen
    browser.find_element(By.ID, "private-key").send_keys("0x" + AACHEN_CLERK.key.hex())
    browser.find_element(By.ID, "login-button").click()
    assert AACHEN_CLERK.address in wait_for(browser, "#who").text
    browser.find_element(By.ID, "logout").click()
    wait_for(browser, "#login-form")
    browser.find_element(By.ID, "private-key").send_keys("0x" + "00" * 32)
    browser.find_element(By.ID, "login-button").click()
    assert "Schlüssel" in wait_for(browser, "#login-status .error").text
