// Live exercise view: state arrives by server-sent events; the clock ticks locally.
(function () {
  "use strict";
  const initial = JSON.parse(document.getElementById("initial-state").textContent);
  let state = initial;
  let received = Date.now();
  const labels = { met: "✔ met", unmet: "✘ missed", pending: "… open" };

  function pad(n) { return String(n).padStart(2, "0"); }
  function fmt(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return "T+" + pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }
  function text(el, value) { el.textContent = value; }
  function li(html) { const item = document.createElement("li"); item.append(...html); return item; }
  function span(cls, value) { const s = document.createElement("span"); s.className = cls; s.textContent = value; return s; }

  function render() {
    text(document.getElementById("phase"), state.phase);
    const status = document.getElementById("status");
    status.className = "status " + state.status;
    text(status, state.status.replace("_", " "));
    const due = document.getElementById("due");
    due.textContent = state.injects_due ? state.injects_due + " item(s) due to drop now" : "";
    const phases = document.getElementById("phases");
    phases.replaceChildren(...state.phases.map(function (p) {
      const d = document.createElement("div");
      d.className = "phase " + p.state; d.style.flex = p.weight;
      const b = document.createElement("b"); b.textContent = p.name;
      d.append(b, span("", p.span)); return d;
    }));
    document.getElementById("criteria").replaceChildren(...state.criteria.map(function (c) {
      return li([span(c.state, labels[c.state]), document.createTextNode(" " + c.text)]);
    }));
    document.getElementById("roles").replaceChildren(...state.roles.map(function (r) {
      const b = document.createElement("b"); b.textContent = r.person;
      return li([document.createTextNode(r.role + ": "), b]);
    }));
    document.getElementById("timeline").replaceChildren(...state.timeline.map(function (e) {
      const body = document.createElement("div");
      const b = document.createElement("b"); b.textContent = e.kind;
      body.append(b, document.createTextNode(" " + e.text + " "));
      if (e.who) body.append(span("muted", "(" + e.who + ")"));
      return li([span("t", e.at), body]);
    }));
  }

  function tick() {
    const extra = state.running ? (Date.now() - received) / 1000 : 0;
    const elapsed = state.elapsed_seconds + extra;
    text(document.getElementById("clock"), fmt(elapsed));
    const next = document.getElementById("next");
    if (state.next_inject_due_seconds === null) {
      next.textContent = state.injects_due ? "New information is due now" : "No more scheduled information";
    } else if (state.next_inject_due_seconds <= elapsed) {
      next.textContent = "New information is due now (T+" + state.next_inject_at + ")";
    } else {
      next.textContent = "Next new information in " +
        fmt(state.next_inject_due_seconds - elapsed).slice(2) + " (at T+" + state.next_inject_at + ")";
    }
  }

  const source = new EventSource("/exercises/" + initial.id + "/stream");
  source.onmessage = function (message) {
    state = JSON.parse(message.data);
    received = Date.now();
    render(); tick();
  };
  setInterval(tick, 250);
})();
