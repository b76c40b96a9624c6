// Start an exercise from a scenario, with its seats (facilitators).
(function () {
  "use strict";
  const form = document.getElementById("start-form");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const seats = {};
    document.getElementById("start-seats").value.split("\n").forEach(function (line) {
      const at = line.indexOf("=");
      if (at > 0) seats[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    });
    const response = await fetch("/api/exercises", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ scenario: document.getElementById("start-scenario").value, seats: seats }),
    });
    const body = await response.json();
    if (response.ok) { window.location.assign(body.link); return; }
    const box = document.getElementById("action-error");
    box.textContent = body.error || "could not start the exercise"; box.hidden = false;
  });
})();
