#!/usr/bin/python3
"""status_page.py BASE READ_KEY SCREENSHOT - drives the monitoring page in a
real headless Chromium (selenium + chromium-driver) and prints what it saw
as one JSON object, for tests/integration/status_page.sh to compare with
the database. Nothing is judged here."""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, key, shot = sys.argv[1:4]
opts = webdriver.ChromeOptions()
for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--window-size=1100,1600", "--no-first-run", "--disable-extensions"):
    opts.add_argument(a)
opts.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
seen = {}
try:
    wait = WebDriverWait(driver, 20)
    driver.get(base + "/status")
    wait.until(EC.visibility_of_element_located((By.ID, "keyform")))
    seen["asks_for_key"] = True

    # A wrong key: a clear message, and the form again.
    driver.find_element(By.ID, "key").send_keys("eye_00000000_" + "0" * 56 + "_00000000")
    driver.find_element(By.CSS_SELECTOR, "#keyform button").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "error")
    seen["wrong_key_message"] = driver.find_element(By.ID, "message").text
    seen["wrong_key_form_shown"] = driver.find_element(By.ID, "keyform").is_displayed()
    seen["wrong_key_kept"] = driver.execute_script("return sessionStorage.getItem('eye.readKey')")

    # The right key.
    driver.find_element(By.ID, "key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#keyform button").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "1h")
    seen["url"] = driver.current_url
    seen["key_in_storage"] = driver.execute_script("return sessionStorage.getItem('eye.readKey')") == key
    seen["accepted"] = driver.find_element(By.ID, "accepted").text
    seen["rejected"] = driver.find_element(By.ID, "rejected").text
    seen["queue_depth"] = driver.find_element(By.ID, "queue-depth").text
    seen["points"] = [
        {"t": c.get_attribute("data-t"), "kind": c.get_attribute("data-kind"),
         "value": int(c.get_attribute("data-value"))}
        for c in driver.find_elements(By.CSS_SELECTOR, "#chart circle.point")]
    seen["rejections"] = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                          for tr in driver.find_elements(By.CSS_SELECTOR, "#rejections tbody tr")]
    seen["applications"] = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                            for tr in driver.find_elements(By.CSS_SELECTOR, "#applications tbody tr")]
    seen["spoolers"] = len(driver.find_elements(By.CSS_SELECTOR, "#spoolers tbody tr"))
    seen["types"] = len(driver.find_elements(By.CSS_SELECTOR, "#types tbody tr"))
    seen["rules_version"] = driver.find_element(By.ID, "rules-version").text

    # Clicking a rejection lists recent failing payloads.
    rows = driver.find_elements(By.CSS_SELECTOR, "#rejections tbody tr")
    if rows:
        rows[0].click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#payload-list li.payload"))
        seen["payloads"] = [p.text for p in driver.find_elements(By.CSS_SELECTOR, "#payload-list li.payload pre")]

    # Another window.
    driver.find_element(By.CSS_SELECTOR, "#windows button[data-window='24h']").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "24h")
    seen["accepted_24h"] = driver.find_element(By.ID, "accepted").text
    driver.find_element(By.CSS_SELECTOR, "#windows button[data-window='1h']").click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "1h")
    driver.save_screenshot(shot)
    seen["console_errors"] = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
except Exception as e:  # reported, and judged by the shell test
    seen["exception"] = repr(e)
    try:
        driver.save_screenshot(shot)
    except Exception:
        pass
finally:
    driver.quit()
print(json.dumps(seen))
