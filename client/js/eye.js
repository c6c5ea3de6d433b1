/* eye.js - The Eye's tracker for web pages: no dependencies, no build step.
 * API and behaviour: client/js/README.md. Nothing here throws into the page. */
(function (root) {
  "use strict";
  var SESSION_IDLE_MS = 30 * 60 * 1000, LEASE_MS = 3000, MAX_BODY = 60000;

  function guard(fn) { /* a tracker failure never breaks the site */
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { return undefined; }
    };
  }

  function uuid() {
    var c = root.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = new Uint8Array(16), i, h = "";
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + (i === 3 || i === 5 || i === 7 || i === 9 ? "-" : "");
    return h;
  }

  /* localStorage / sessionStorage, or memory where they are refused. */
  function store(kind) {
    var s = null, mem = {};
    try { s = root[kind]; s.setItem("eye.t", "1"); s.removeItem("eye.t"); } catch (e) { s = null; }
    return {
      get: function (k) {
        try { var v = s ? s.getItem(k) : mem[k]; return v ? JSON.parse(v) : null; } catch (e) { return null; }
      },
      set: function (k, v) {
        var t = JSON.stringify(v);
        try { if (s) { s.setItem(k, t); return; } } catch (e) { /* full: memory */ }
        mem[k] = t;
      }
    };
  }

  function Tracker(o) {
    var self = this;
    this.endpoint = String(o.url).replace(/\/+$/, "") + "/v1/events?key=" + encodeURIComponent(o.key);
    this.batchSize = o.batchSize || 20;
    this.flushIntervalMs = o.flushIntervalMs || 1000;
    this.maxQueue = o.maxQueue || 1000;
    this.onReject = o.onReject;
    this.local = store("localStorage");
    this.tab = store("sessionStorage");
    this.qkey = "eye.q." + o.key.slice(0, 12);
    this.lkey = "eye.lock." + o.key.slice(0, 12);
    this.me = uuid();
    this.sending = false;
    this.attempt = 0;
    this.notBefore = 0;
    this.timer = null;
    this.waiters = [];
    this.pending = [];
    if (o.sessionId) this.setSession(o.sessionId);
    var on = guard(function (t, e, f) { t.addEventListener(e, guard(f), true); });
    on(root, "online", function () { self.notBefore = 0; self.kick(0); });
    on(root, "pagehide", function () { self.beacon(); });
    on(document, "visibilitychange", function () {
      if (document.visibilityState === "hidden") self.beacon();
    });
    on(root, "storage", function (e) { if (e.key === self.qkey) self.kick(self.flushIntervalMs); });
    if (o.autocapture) this.autocapture(on);
    this.kick(0); /* what an earlier page left */
  }

  var P = Tracker.prototype;

  P.setSession = guard(function (id) {
    this.session = {id: String(id), own: true, at: Date.now()};
    this.tab.set("eye.session", this.session);
  });

  P.sessionId = function () {
    var s = this.session || this.tab.get("eye.session"), t = Date.now();
    if (!s || (!s.own && t - s.at > SESSION_IDLE_MS)) s = {id: uuid(), own: false};
    s.at = t;
    this.session = s;
    this.tab.set("eye.session", s);
    return s.id;
  };

  P.queue = function () { return this.local.get(this.qkey) || []; };

  P.track = guard(function (category, name, data) {
    var self = this, id = uuid();
    this.pending.push({event_id: id, session_id: this.sessionId(), category: String(category), name: String(name),
                       data: data || {}, timestamp: new Date().toISOString()});
    /* many tracks in a row cost one write of the stored queue */
    if (!this.mergeTimer) this.mergeTimer = setTimeout(guard(function () { self.merge(); }), 0);
    return id;
  });

  /* Moves what track() gathered into the stored queue (oldest dropped past maxQueue). */
  P.merge = function () {
    clearTimeout(this.mergeTimer);
    this.mergeTimer = null;
    if (!this.pending.length) return;
    var q = this.queue().concat(this.pending);
    this.pending = [];
    if (q.length > this.maxQueue) q.splice(0, q.length - this.maxQueue);
    this.local.set(this.qkey, q);
    this.kick(q.length >= this.batchSize ? 0 : this.flushIntervalMs);
  };

  /* Resolves once every event queued so far was answered (or dropped). */
  P.flush = function () {
    var self = this;
    return new Promise(function (resolve) {
      try {
        var ids = {}, n = 0;
        self.merge();
        self.queue().forEach(function (e) { ids[e.event_id] = 1; n++; });
        if (!n) return resolve();
        self.waiters.push({ids: ids, resolve: resolve});
        self.kick(0); /* now, or when a backoff ends: flush never hurries a retry */
      } catch (e) { resolve(); }
    });
  };

  P.settle = function () {
    var left = {};
    this.queue().forEach(function (e) { left[e.event_id] = 1; });
    this.waiters = this.waiters.filter(function (w) {
      for (var id in w.ids) if (left[id]) return true;
      w.resolve();
      return false;
    });
  };

  /* Sends in ms (or when the backoff ends, if later); an earlier kick wins. */
  P.kick = function (ms) {
    var self = this, due = Math.max(Date.now() + ms, this.notBefore);
    if (this.timer) {
      if (this.due <= due) return;
      clearTimeout(this.timer);
    }
    this.due = due;
    this.timer = setTimeout(guard(function () { self.timer = null; self.send(); }), due - Date.now());
  };

  /* The lease: only its holder sends, so two tabs do not send the same queue. */
  P.lease = function () {
    var l = this.local.get(this.lkey), t = Date.now();
    if (l && l.id !== this.me && l.until > t) return false;
    this.local.set(this.lkey, {id: this.me, until: t + LEASE_MS});
    l = this.local.get(this.lkey);
    return !!l && l.id === this.me;
  };

  /* The first events of q that fit one request. */
  P.batch = function (q) {
    var out = [], bytes = 2;
    for (var i = 0; i < q.length && out.length < this.batchSize; i++) {
      var n = JSON.stringify(q[i]).length + 1;
      if (out.length && bytes + n > MAX_BODY) break;
      out.push(q[i]);
      bytes += n;
    }
    return out;
  };

  P.drop = function (batch) {
    var gone = {};
    batch.forEach(function (e) { gone[e.event_id] = 1; });
    this.local.set(this.qkey, this.queue().filter(function (e) { return !gone[e.event_id]; }));
  };

  P.reject = function (event_id, error) {
    if (typeof this.onReject === "function") guard(this.onReject)(Object.assign({event_id: event_id}, error));
  };

  P.send = function () {
    this.merge();
    var self = this, q = this.queue();
    this.settle();
    if (!q.length || this.sending) return;
    if (root.navigator && navigator.onLine === false) return; /* "online" restarts */
    if (!this.lease()) return this.kick(LEASE_MS);
    var batch = this.batch(q), body = JSON.stringify(batch);
    this.sending = true;
    fetch(this.endpoint, {method: "POST", body: body, keepalive: body.length < 64000, credentials: "omit",
                          headers: {"Content-Type": "text/plain"}})
      .then(function (res) {
        return res.text().then(function (text) {
          var json = null;
          try { json = JSON.parse(text); } catch (e) { /* a proxy's page */ }
          self.answered(batch, res.status, json, res.headers.get("Retry-After"));
        });
      }, function () { self.answered(batch, 0, null, null); })
      .catch(function () { /* nothing escapes */ })
      .then(function () { self.sending = false; self.settle(); self.kick(self.queue().length >= self.batchSize ? 0 : self.flushIntervalMs); });
  };

  P.answered = function (batch, status, json, retryAfter) {
    var self = this;
    if (status === 0 || status === 408 || status === 429 || status >= 500) {
      var wait = Math.min(60000, 500 * Math.pow(2, this.attempt++)) * (0.5 + Math.random() / 2);
      var ra = parseInt(retryAfter, 10);
      if (ra > 0) wait = Math.max(wait, ra * 1000);
      this.notBefore = Date.now() + wait;
      return;
    }
    this.attempt = 0;
    this.notBefore = 0;
    if (status === 202 || status === 422) {
      ((json && json.errors) || []).forEach(function (e) {
        self.reject(e.event_id, {status: status, code: e.code, pointer: e.pointer, message: e.message});
      });
    } else {
      var err = (json && json.error) || {};
      batch.forEach(function (e) {
        self.reject(e.event_id, {status: status, code: err.code, pointer: err.pointer, message: err.message});
      });
    }
    this.drop(batch);
  };

  /* The page is going away: hand the queue to sendBeacon, batch by batch. */
  P.beacon = function () {
    this.merge();
    var q = this.queue(), sent = [];
    /* offline, a beacon would be lost: the queue waits for the next page */
    if (!q.length || !navigator.sendBeacon || navigator.onLine === false) return;
    while (q.length) {
      var b = this.batch(q);
      if (!navigator.sendBeacon(this.endpoint, new Blob([JSON.stringify(b)], {type: "text/plain"}))) break;
      sent = sent.concat(b);
      q = q.slice(b.length);
    }
    this.drop(sent);
  };

  P.autocapture = function (on) {
    var self = this, last = null, h = root.history;
    function where() { return {host: location.hostname, path: location.pathname || "/"}; }
    function view() {
      var w = where();
      if (w.path === last) return;
      last = w.path;
      self.track("page interaction", "pageview", w);
    }
    view();
    ["pushState", "replaceState"].forEach(function (m) {
      var orig = h && h[m];
      if (typeof orig !== "function") return;
      h[m] = function () {
        var r = orig.apply(this, arguments);
        guard(view)();
        return r;
      };
    });
    on(root, "popstate", view);
    on(document, "click", function (e) {
      var el = e.target && e.target.closest && e.target.closest("[data-eye-element]");
      if (!el) return;
      var d = where();
      d.element = el.getAttribute("data-eye-element");
      self.track("page interaction", "cta click", d);
    });
    on(document, "submit", function (e) {
      var f = e.target, form = {};
      if (!f || !f.hasAttribute || !f.hasAttribute("data-eye-form")) return;
      (f.getAttribute("data-eye-fields") || "").split(/\s+/).forEach(function (name) {
        var el = name && f.elements[name];
        if (!el || el.type === "password") return; /* never passwords, never unlisted fields */
        if (el.length !== undefined && !el.tagName) { /* radio buttons: the checked one */
          for (var i = 0; i < el.length; i++) if (el[i].checked) form[name] = String(el[i].value);
        } else if (el.type === "checkbox") {
          form[name] = el.checked ? String(el.value) : "";
        } else {
          form[name] = String(el.value).slice(0, 1000);
        }
      });
      if (!Object.keys(form).length) return;
      var d = where();
      d.form = form;
      self.track("form interaction", "submit", d);
    });
  };

  root.Eye = {
    init: function (o) {
      try { return new Tracker(o || {}); } catch (e) {
        /* a tracker that does nothing, rather than an exception in the page */
        return {track: function () { return uuid(); }, flush: function () { return Promise.resolve(); },
                setSession: function () {}};
      }
    }
  };
})(typeof window !== "undefined" ? window : this);
