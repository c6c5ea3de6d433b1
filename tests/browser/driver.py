#!/usr/bin/python3
# driver.py - drives headless Chromium (Debian's chromium + chromium-driver,
# through python3-selenium) for tests/integration/browser_js.sh.
#
#   driver.py CASE PAGE_URL [ARG]
#
# Opens PAGE_URL (a page of tests/browser/ on another origin than The Eye),
# does what CASE says, and prints key=value lines for the shell test to
# check against MariaDB. Exits non-zero when the browser could not be
# driven; every wait is bounded.
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser(profile):
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--no-proxy-server", "--no-first-run",
              "--host-resolver-rules=MAP shop.test 127.0.0.1, MAP evil.test 127.0.0.1",
              "--user-data-dir=" + profile):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(30)
    d.set_script_timeout(120)
    return d


def out(key, value):
    print("%s=%s" % (key, value), flush=True)


def flush(d):
    """Waits for eye.flush(); returns the seconds it took."""
    t = time.time()
    d.execute_async_script(
        "var done = arguments[arguments.length - 1]; eye.flush().then(function () { done(1); });")
    return time.time() - t


def track(d, n, label):
    return d.execute_script(
        "var ids = []; for (var i = 0; i < arguments[0]; i++)"
        " ids.push(eye.track('page interaction', 'cta click',"
        " {host: location.hostname, path: location.pathname, element: arguments[1] + ' ' + i}));"
        " return ids;", n, label)


def case_autocapture(d, url, arg):
    d.get(url)
    d.find_element(By.ID, "inner").click()   # inside the data-eye-element
    d.find_element(By.ID, "plain").click()   # not tracked
    d.find_element(By.ID, "send").click()    # the data-eye-form
    d.execute_script("history.pushState({}, '', '/checkout')")
    d.execute_script("history.pushState({}, '', '/checkout/pay')")
    d.back()                                 # popstate back to /checkout
    time.sleep(0.3)
    out("flush_s", "%.1f" % flush(d))
    out("user_agent", d.execute_script("return navigator.userAgent"))
    out("rejected", json.dumps(d.execute_script("return window.rejected")))


def case_beacon(d, url, arg):
    d.get(url)  # interval=60000: only the beacon can send
    ids = track(d, int(arg), "beacon")
    out("tracked", len(ids))
    d.get("about:blank")  # pagehide
    time.sleep(1)


def case_reload(d, url, arg):
    d.get(url)
    # No beacon this time: the events must come from localStorage.
    d.execute_script("navigator.sendBeacon = function () { return false; };")
    ids = track(d, int(arg), "reload")
    out("tracked", len(ids))
    time.sleep(0.2)  # track() stores the queue in its next task
    out("stored_before_reload", d.execute_script(
        "var n = 0; for (var i = 0; i < localStorage.length; i++)"
        " if (localStorage.key(i).indexOf('eye.q.') === 0)"
        " n += JSON.parse(localStorage.getItem(localStorage.key(i))).length; return n;"))
    d.refresh()
    out("flush_s", "%.1f" % flush(d))


def case_outage(d, url, arg):
    d.get(url)
    ids = track(d, int(arg), "outage")
    out("tracked", len(ids))
    out("flush_s", "%.1f" % flush(d))


def case_offline(d, url, arg):
    d.get(url)
    d.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    time.sleep(0.5)
    out("online_while_offline", d.execute_script("return navigator.onLine"))
    ids = track(d, int(arg), "offline")
    out("tracked", len(ids))
    time.sleep(3)
    out("online_at", "%.3f" % time.time())
    d.set_network_conditions(offline=False, latency=0, download_throughput=-1, upload_throughput=-1)
    out("flush_s", "%.1f" % flush(d))


def case_refused(d, url, arg):
    d.get(url)
    ids = track(d, 3, "refused")
    out("tracked", len(ids))
    time.sleep(3)
    out("page_ok", d.execute_script("return window.pageOK === true && typeof eye.track === 'function'"))
    out("title", d.execute_script("document.title = 'still working'; return document.title"))


def case_burst(d, url, arg):
    d.get(url)
    t = time.time()
    ids = track(d, int(arg), "burst")
    out("tracked", len(set(ids)))
    out("track_ms", "%.0f" % ((time.time() - t) * 1000))
    out("flush_s", "%.1f" % flush(d))
    out("rejected", json.dumps(d.execute_script("return window.rejected")))


def main():
    case, url = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    with tempfile.TemporaryDirectory(prefix="eye-chromium.") as profile:
        d = browser(profile)
        try:
            globals()["case_" + case](d, url, arg)
            # An exception that escaped into the page is logged as "Uncaught".
            logs = [l["message"] for l in d.get_log("browser") if "Uncaught" in l.get("message", "")]
            out("uncaught", len(logs))
            for m in logs:
                print("# " + m, file=sys.stderr)
        finally:
            d.quit()


if __name__ == "__main__":
    main()
