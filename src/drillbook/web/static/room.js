// The exercise room: follows the exercise's change feed (server-sent events: the whole
// view first, then only what changed), ticks the clock locally, and posts what people do
// to the JSON API with the CSRF token. Every text goes in through textContent, never HTML.
(function () {
  "use strict";
  const root = document.getElementById("room");
  const exerciseId = root.dataset.exercise;
  const mode = root.dataset.mode;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";
  const labels = { met: "✔ met", unmet: "✘ missed", pending: "… open" };
  let state = null;
  let received = Date.now();

  function $(id) { return document.getElementById(id); }
  function pad(n) { return String(n).padStart(2, "0"); }
  function fmt(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return h ? "T+" + h + ":" + pad(m) + ":" + pad(s % 60) : "T+" + pad(m) + ":" + pad(s % 60);
  }
  function mmss(seconds) { return fmt(seconds).slice(2); }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setText(id, value) { const node = $(id); if (node) node.textContent = value; }

  function who(e) {
    if (!e.who) return "";
    return " (" + e.who + (e.role_label ? ", " + e.role_label : "") + ")";
  }

  function renderTimeline() {
    const list = $("timeline");
    if (!list) return;
    const items = state.timeline.slice().reverse().map(function (e) {
      const body = el("div");
      body.append(el("b", "", e.kind_label), document.createTextNode(" " + e.text + " "));
      if (e.who) body.append(el("span", "muted", who(e).trim()));
      if (e.finding) body.append(el("span", "pill", e.finding));
      const item = el("li", "kind-" + e.kind);
      item.append(el("span", "t", e.offset), body);
      return item;
    });
    list.replaceChildren.apply(list, items);
  }

  function renderNotes() {
    const list = $("notes");
    if (!list) return;
    const notes = state.timeline.filter(function (e) { return e.kind === "observation"; }).reverse();
    list.replaceChildren.apply(list, notes.map(function (e) {
      const item = el("li", e.gap ? "gap" : "");
      const body = el("div");
      body.append(el("span", "note-text", e.text));
      if (e.finding) {
        body.append(document.createTextNode(" "), el("span", "pill", "became " + e.finding));
      } else {
        const tag = el("button", "small gap-toggle", e.gap ? "Untag gap" : "Tag as gap");
        tag.addEventListener("click", function () {
          post("/observations/" + e.id + "/gap", { gap: !e.gap });
        });
        body.append(document.createTextNode(" "), tag);
        if (e.gap) {
          const form = el("form", "row finding-form");
          const severity = el("select", "severity");
          ["medium", "high", "critical", "low"].forEach(function (s) { severity.append(el("option", "", s)); });
          const owner = el("input", "owner");
          owner.placeholder = "owner"; owner.maxLength = 200;
          form.append(severity, owner, el("button", "small", "Make finding"));
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            post("/observations/" + e.id + "/finding", { severity: severity.value, owner: owner.value });
          });
          body.append(form);
        }
      }
      item.append(el("span", "t", e.offset), body);
      return item;
    }));
  }

  function renderScript() {
    const list = $("script");
    if (!list) return;
    list.replaceChildren.apply(list, state.script.map(function (s) {
      const item = el("li", s.dropped ? "dropped" : s.due ? "due" : "");
      item.append(el("b", "", s.at + " "), document.createTextNode(s.text));
      if (!s.dropped) {
        const drop = el("button", "small", "Drop #" + s.number);
        drop.addEventListener("click", function () { post("/inject", { number: s.number }); });
        item.append(document.createTextNode(" "), drop);
      }
      return item;
    }));
  }

  function render() {
    setText("phase", state.phase);
    const status = $("status");
    status.className = "status " + state.status;
    status.textContent = state.status.replace("_", " ");
    const pausedNote = $("paused-note");
    if (pausedNote) pausedNote.hidden = !state.paused;
    setText("due", state.injects_due.length ? state.injects_due.length + " item(s) due to drop now" : "");
    setText("preview", state.next_inject_preview || "none left");
    const phases = $("phases");
    phases.replaceChildren.apply(phases, state.phases.map(function (p) {
      const d = el("div", "phase " + p.state);
      d.style.flex = String(p.weight);
      d.append(el("b", "", p.name), el("span", "", p.span));
      return d;
    }));
    const criteria = $("criteria");
    criteria.replaceChildren.apply(criteria, state.criteria.map(function (c) {
      const item = el("li");
      item.append(el("span", c.state, labels[c.state]), document.createTextNode(" " + c.text));
      if (c.evidence) item.append(el("div", "muted evidence", c.evidence));
      return item;
    }));
    const roles = $("roles");
    roles.replaceChildren.apply(roles, state.roles.length ? state.roles.map(function (r) {
      const item = el("li");
      item.append(document.createTextNode(r.role_label + ": "), el("b", "", r.person));
      return item;
    }) : [el("li", "muted", "No seats assigned yet")]);
    if ($("latest-card")) {
      setText("latest-kind", state.latest ? state.latest.kind_label : "Waiting for the first inject");
      setText("latest-text", state.latest ? state.latest.text : "");
      setText("latest-meta", state.latest ? state.latest.offset + (state.latest.who ? " · " + state.latest.who : "") : "");
    }
    renderTimeline(); renderNotes(); renderScript();
  }

  function tick() {
    if (!state) return;
    const extra = state.running ? (Date.now() - received) / 1000 : 0;
    setText("clock", fmt(state.elapsed_seconds + extra));
    if (state.remaining_seconds !== null) {
      setText("remaining", mmss(Math.max(0, state.remaining_seconds - extra)) + " left");
    } else {
      setText("remaining", "");
    }
    const next = $("next");
    if (state.next_inject_due_in_seconds === null) {
      next.textContent = "No more scheduled information";
    } else if (state.next_inject_due_in_seconds - extra <= 0) {
      next.textContent = "New information is due now (T+" + state.next_inject_at + ")";
    } else {
      next.textContent = "Next new information in " + mmss(state.next_inject_due_in_seconds - extra) +
        " (at T+" + state.next_inject_at + ")";
    }
  }

  function apply(message) {
    if (message.type === "full") {
      state = message.view;
    } else if (message.type === "delta" && state) {
      Object.assign(state, message.set);
      const byId = new Map(state.timeline.map(function (e) { return [e.id, e]; }));
      message.events.forEach(function (e) { byId.set(e.id, e); });
      state.timeline = Array.from(byId.values()).sort(function (a, b) { return a.id - b.id; });
    } else {
      return;
    }
    received = Date.now();
    render(); tick();
  }

  async function post(path, body) {
    const box = $("action-error");
    const response = await fetch("/api/exercises/" + exerciseId + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (ignored) { data = {}; }
    if (box) {
      box.hidden = response.ok;
      box.textContent = response.ok ? "" : (data.error || "that did not work (" + response.status + ")");
    }
    return response.ok ? data : null;
  }

  function onSubmit(id, handler) {
    const form = $(id);
    if (form) form.addEventListener("submit", function (event) { event.preventDefault(); handler(form); });
  }

  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { post("/" + button.dataset.action, {}); });
  });
  onSubmit("adhoc-form", async function () {
    const input = $("adhoc-text");
    if (input.value.trim() && await post("/inject", { text: input.value })) input.value = "";
  });
  onSubmit("decision-form", async function () {
    const input = $("decision-text");
    if (input.value.trim() && await post("/decisions", { text: input.value })) input.value = "";
  });
  onSubmit("note-form", async function () {
    const input = $("note-text");
    if (input.value.trim() && await post("/observations", { text: input.value })) input.value = "";
  });
  onSubmit("invite-form", async function () {
    const done = await post("/invitations", { seat: $("invite-seat").value, name: $("invite-name").value });
    if (done) {
      setText("invite-link", window.location.origin + done.link);
      $("invite-seat").value = ""; $("invite-name").value = "";
    }
  });
  document.querySelectorAll(".comms-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      post("/comms", { audience: form.dataset.audience, text: form.querySelector("textarea").value });
    });
  });
  // One keystroke to start an observer note.
  document.addEventListener("keydown", function (event) {
    const note = $("note-text");
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (note && !typing && event.key === "n" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault(); note.focus();
    }
  });

  const banner = $("connection");
  const source = new EventSource("/exercises/" + exerciseId + "/stream" + (mode === "room" ? "?mode=room" : ""));
  source.onopen = function () { banner.hidden = true; };
  source.onerror = function () { banner.hidden = false; };
  source.onmessage = function (message) {
    const data = JSON.parse(message.data);
    if (data.type === "ended") {  // a guest's seat ends with the exercise: stop following
      source.close();
      banner.textContent = "The exercise has ended. Thank you for taking part.";
      banner.hidden = false;
      return;
    }
    banner.hidden = true;
    apply(data);
  };
  setInterval(tick, 250);
})();
